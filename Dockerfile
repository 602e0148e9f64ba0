# ripple: one image for every role — `ripple operator`, `ripple run-experiment`,
# `ripple service`, and `ripple load` (vegeta) for the load sidecar.
#
# The base images are build arguments with public defaults; `hack/images ripple`
# (make image) builds the same file offline from local look-alikes:
#   --build-arg GO_IMAGE=ripple-base/golang:1.26-bookworm
#   --build-arg PYTHON_IMAGE=ripple-base/python:3.11-bookworm
# Build with --network host where the module proxy and PyPI sit behind a local proxy.
# Works with the classic builder and BuildKit alike (no RUN --mount: Debian's docker.io
# has no buildx); layer order keeps rebuilds fast: dependencies before the source.
ARG GO_IMAGE=golang:1.26-bookworm
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- vegeta, a static Go binary -------------------------------------------------------
FROM ${GO_IMAGE} AS vegeta
ARG VEGETA_VERSION=v12.13.0
ARG GOPROXY=https://proxy.golang.org,direct
ARG GOSUMDB=sum.golang.org
ARG GOFLAGS=
RUN CGO_ENABLED=0 GOBIN=/out GOTOOLCHAIN=local \
    go install -trimpath -ldflags "-s -w" "github.com/tsenart/vegeta/v12@${VEGETA_VERSION}" \
 && /out/vegeta -version

# --- the Python wheel and its dependencies, in a venv ------------------------------------
FROM ${PYTHON_IMAGE} AS python-build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PIP_DEFAULT_TIMEOUT=180 \
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt PYTHONDONTWRITEBYTECODE=1 \
    PYTHONSAFEPATH=1
# binutils' strip, for the wheels' extension modules below (the build stage only).
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends binutils >/dev/null \
 && rm -rf /var/lib/apt/lists/*
RUN python3 -m venv /opt/build \
 && /opt/build/bin/pip install -q "setuptools>=69" wheel \
 && python3 -m venv /opt/ripple
WORKDIR /src
# Dependencies first, from pyproject.toml alone, so a source change does not reinstall them.
COPY pyproject.toml ./
# Of plotly only plotly.js stays (the reports inline it; its Python half, 60 MB, and narwhals
# serve nothing here). The kubernetes client's asyncio half (kubernetes.aio, 68 MB with its
# bytecode) goes too: chaostoolkit-kubernetes and the runner use its sync half, the operator
# plain aiohttp (no client library); tests/integration/test_image.py checks that nothing
# imports it, and that kubernetes_asyncio is not installed.
# setuptools serves only builds (nothing here imports it or pkg_resources at run time).
# The wheels' extension modules ship their debug symbols (uvloop's alone 13 MB): stripped,
# 30 MB of them become 9.
RUN /opt/build/bin/python -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))' >requirements.txt \
 && /opt/ripple/bin/pip install -q -r requirements.txt \
 && site=$(/opt/ripple/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])') \
 && find "$site/plotly" -mindepth 1 -maxdepth 1 ! -name package_data -exec rm -rf {} + \
 && find "$site/plotly/package_data" -mindepth 1 ! -name plotly.min.js -exec rm -rf {} + \
 && rm -rf "$site/narwhals" "$site/kubernetes/aio" \
 && /opt/ripple/bin/python -m pip uninstall -q -y setuptools \
 && find "$site" -name '*.so' -exec strip --strip-unneeded {} + \
 && test -s "$site/plotly/package_data/plotly.min.js"
COPY README.md ./
COPY contract ./contract
COPY services ./services
COPY experiments ./experiments
COPY operator ./operator
COPY report ./report
RUN /opt/build/bin/pip wheel -q --no-deps --no-build-isolation -w /wheels . \
 && /opt/ripple/bin/pip install -q --no-deps /wheels/*.whl \
 && /opt/ripple/bin/python -m pip uninstall -q -y pip \
 && /opt/ripple/bin/python -m compileall -q /opt/ripple >/dev/null

# --- the runtime image ----------------------------------------------------------------------
FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="ripple" \
      org.opencontainers.image.description="Chaos Toolkit experiments from ChaosScenario resources" \
      org.opencontainers.image.licenses="Apache-2.0"
# Works with a read-only root filesystem: no bytecode written at run time (compiled at build
# time instead); HOME and /tmp are the only writable places (emptyDir volumes in the pods).
ENV PATH=/opt/ripple/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PYTHONSAFEPATH=1 \
    HOME=/home/ripple TMPDIR=/tmp
RUN groupadd --gid 10001 ripple \
 && useradd --uid 10001 --gid 10001 --home-dir /home/ripple --create-home --shell /usr/sbin/nologin ripple
COPY --from=vegeta /out/vegeta /usr/local/bin/vegeta
COPY --from=python-build /opt/ripple /opt/ripple
USER 10001:10001
WORKDIR /home/ripple
ENTRYPOINT ["ripple"]
CMD ["--help"]
