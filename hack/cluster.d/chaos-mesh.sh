# shellcheck shell=bash
# Chaos Mesh in the local cluster, built from its Go module (hack/gomod/chaos-mesh) since no
# Chaos Mesh image can be pulled: the chaos-controller-manager with its admission webhooks,
# and the chaos-daemon. Manifests are Chaos Mesh's own Helm chart (helm/chaos-mesh of the
# same module) rendered with hack/manifests/chaos-mesh-values.yaml; the CRDs are generated
# from the api module the controller is built against (chaos_crds, hack/cluster.d/build.sh).
#
#  - The webhook's serving certificate is signed by the cluster's CA (pki.sh's `cert`).
#  - The daemon enters pod namespaces with nsexec + libnsenter.so (chaos-mesh/nsexec, Rust:
#    built here with cargo from its source, fetched as a git archive) and runs Debian's
#    iproute2, iptables (legacy, as upstream's image) and ipset. Left out of its image:
#    toda (IOChaos), tproxy (HTTPChaos), memStress (StressChaos memory) and byteman
#    (JVMChaos): those chaos kinds are accepted but cannot be injected here.
#  - This node's kernel has no netem (CONFIG_NET_SCH_NETEM): delay, loss, duplicate and
#    corrupt fail with the daemon's "tc" error in the NetworkChaos status; partition
#    (iptables + ipset) and bandwidth (tbf) work.

chaos_mesh_namespace=chaos-mesh
chaos_mesh_tag=${CHAOS_MESH_VERSION%%-*}-${CHAOS_MESH_VERSION##*-}
chaos_mesh_controller_image=ripple.local/chaos-mesh/chaos-mesh:$chaos_mesh_tag
chaos_mesh_daemon_image=ripple.local/chaos-mesh/chaos-daemon:$chaos_mesh_tag

# nsexec_source -> prints the bare git repository of github.com/chaos-mesh/nsexec to build from:
# RIPPLE_NSEXEC_GIT, else the snapshot a session's `fetch` left under /work/.mirror, else a
# shallow clone; empty when none can be had (github.com unreachable), and the daemon is skipped.
nsexec_source() {
  local git_dir
  for git_dir in "${RIPPLE_NSEXEC_GIT:-}" /work/.mirror/chaos-mesh+nsexec/repo "$cache/nsexec/repo.git"; do
    [ -n "$git_dir" ] && git --git-dir="$git_dir" rev-parse -q --verify "$NSEXEC_VERSION^{commit}" >/dev/null 2>&1 &&
      { echo "$git_dir"; return 0; }
  done
  git_dir="$cache/nsexec/repo.git"
  rm -rf "$git_dir"
  timeout 60 git clone -q --bare --depth 1 --branch "$NSEXEC_VERSION" https://github.com/chaos-mesh/nsexec \
    "$git_dir" >/dev/null 2>&1 && echo "$git_dir"
}

build_nsexec() {  # -> $cache/nsexec/$NSEXEC_VERSION/{nsexec,libnsenter.so}; fails without a source
  local out="$cache/nsexec/$NSEXEC_VERSION" git_dir
  [ -x "$out/nsexec" ] && [ -s "$out/libnsenter.so" ] && return 0
  if [ ! -s "$out/src/Cargo.toml" ]; then
    git_dir=$(nsexec_source) || return 1
    rm -rf "$out/src" && mkdir -p "$out/src"
    git --git-dir="$git_dir" archive "$NSEXEC_VERSION" | tar -x -C "$out/src"
  fi
  if ! command -v cargo >/dev/null 2>&1; then
    say "installing Debian's cargo (to build nsexec) ..."
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends cargo >&2
  fi
  say "building nsexec $NSEXEC_VERSION with cargo (cold: about 2 min; log $out/build.log) ..."
  # Its rust-toolchain file names a 2020 nightly; the stable toolchain builds its lock file.
  (cd "$out/src" && RUSTUP_TOOLCHAIN=stable CARGO_HOME="$cache/cargo" CARGO_TARGET_DIR="$out/target" \
    nice cargo build --release --locked --all) >"$out/build.log" 2>&1 ||
    { tail -n 40 "$out/build.log" >&2; die "nsexec build failed"; }
  cp "$out/target/release/libnsenter.so" "$out/libnsenter.so"
  cp "$out/target/release/nsexec" "$out/nsexec.tmp" && mv "$out/nsexec.tmp" "$out/nsexec"
}

build_chaos_mesh() {
  # One build at a time: several sessions may run `hack/cluster up` on this machine at once.
  local lock
  exec {lock}>"$cache/chaos-mesh.build.lock"
  flock "$lock"
  check_gomod chaos-mesh github.com/chaos-mesh/chaos-mesh "$CHAOS_MESH_VERSION"
  grep -q "github.com/chaos-mesh/chaos-mesh/api => github.com/chaos-mesh/chaos-mesh/api $CHAOS_MESH_API_VERSION" \
    "$here/gomod/chaos-mesh/go.mod" || die "hack/gomod/chaos-mesh/go.mod: its api replace is not $CHAOS_MESH_API_VERSION"
  local v=github.com/chaos-mesh/chaos-mesh/pkg/version
  local stamp="-X $v.gitVersion=$CHAOS_MESH_VERSION -X $v.gitCommit=${CHAOS_MESH_VERSION##*-} -X $v.buildDate=1970-01-01T00:00:00Z"
  build_one chaos-controller-manager "$CHAOS_MESH_VERSION" chaos-mesh \
    github.com/chaos-mesh/chaos-mesh/cmd/chaos-controller-manager "$stamp"
  # The daemon needs cgo (its ptrace and netlink helpers); everything else here is static.
  if ! command -v cc >/dev/null 2>&1; then
    say "installing Debian's gcc (chaos-daemon is built with cgo) ..."
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gcc libc6-dev >&2
  fi
  CGO_ENABLED=1 build_one chaos-daemon "$CHAOS_MESH_VERSION" chaos-mesh \
    github.com/chaos-mesh/chaos-mesh/cmd/chaos-daemon "$stamp"
  build_one cdh "$CHAOS_MESH_VERSION" chaos-mesh github.com/chaos-mesh/chaos-mesh/cmd/chaos-daemon-helper
  local pause="$cache/chaos-mesh-pause/$CHAOS_MESH_VERSION"
  if [ ! -x "$pause/pause" ]; then
    mkdir -p "$pause"
    cc -O2 -o "$pause/pause.tmp" "$(chaos_mesh_module)/hack/pause.c" && mv "$pause/pause.tmp" "$pause/pause"
  fi
  build_nsexec || say "no source of github.com/chaos-mesh/nsexec $NSEXEC_VERSION (set RIPPLE_NSEXEC_GIT to a clone): Chaos Mesh runs without its chaos-daemon, so no NetworkChaos is injected"
  exec {lock}>&-
}

chaos_mesh_has_daemon() { [ -x "$cache/nsexec/$NSEXEC_VERSION/nsexec" ]; }

chaos_mesh_module() {
  (cd "$here/gomod/chaos-mesh" && go list -m -f '{{.Dir}}' github.com/chaos-mesh/chaos-mesh)
}

# The daemon's image: Debian with the tools it runs in pods' namespaces, and the binaries.
chaos_mesh_daemon_archive() {  # -> prints the archive path
  local tarball
  tarball="$images/$(echo "$chaos_mesh_daemon_image-$NSEXEC_VERSION" | tr '/:' '__').tar"
  if [ ! -s "$tarball" ]; then
    local base ctx
    base=$("$here/images" base | head -n 1)
    ctx=$(mktemp -d)
    cp "$cache/chaos-daemon/$CHAOS_MESH_VERSION/chaos-daemon" "$cache/cdh/$CHAOS_MESH_VERSION/cdh" \
      "$cache/chaos-mesh-pause/$CHAOS_MESH_VERSION/pause" "$cache/nsexec/$NSEXEC_VERSION/nsexec" \
      "$cache/nsexec/$NSEXEC_VERSION/libnsenter.so" "$ctx/"
    cat >"$ctx/Dockerfile" <<EOF
FROM $base
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends iproute2 iptables ipset util-linux procps tzdata >/dev/null \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log \
 && update-alternatives --set iptables /usr/sbin/iptables-legacy >/dev/null
COPY chaos-daemon cdh pause nsexec /usr/local/bin/
COPY libnsenter.so /usr/local/lib/libnsenter.so
ENV RUST_BACKTRACE=1
EOF
    say "building the image $chaos_mesh_daemon_image ..."
    DOCKER_BUILDKIT=0 docker build -q --network host -t "$chaos_mesh_daemon_image" "$ctx" >/dev/null
    rm -rf "$ctx"
    mkdir -p "$images"
    docker save "$chaos_mesh_daemon_image" -o "$tarball.tmp" && mv "$tarball.tmp" "$tarball"
  fi
  echo "$tarball"
}

ctr_has_image() { [ -n "$(ctr_ images ls -q "name==$1" 2>/dev/null)" ]; }

chaos_mesh_addon() {
  build_chaos_mesh
  local crds module
  crds=$(chaos_crds)
  module=$(chaos_mesh_module)
  # An image already in containerd is not imported again (the daemon's takes seconds).
  ctr_has_image "$chaos_mesh_controller_image" || ctr_ images import "$(image_archive "$chaos_mesh_controller_image" \
    "$cache/chaos-controller-manager/$CHAOS_MESH_VERSION/chaos-controller-manager" \
    '["/usr/local/bin/chaos-controller-manager"]' /usr/local/bin)" >/dev/null
  if chaos_mesh_has_daemon && ! ctr_has_image "$chaos_mesh_daemon_image"; then
    ctr_ images import "$(chaos_mesh_daemon_archive)" >/dev/null
  fi
  kctl apply --server-side --force-conflicts -f "$crds" >/dev/null
  wait_until 60 "Chaos Mesh's CRDs" kctl wait --for=condition=Established --timeout=5s \
    crd/networkchaos.chaos-mesh.org crd/podchaos.chaos-mesh.org crd/schedules.chaos-mesh.org
  local svc=chaos-mesh-controller-manager
  cert chaos-mesh-webhook "/CN=$svc.$chaos_mesh_namespace.svc" \
    "DNS:$svc.$chaos_mesh_namespace.svc,DNS:$svc.$chaos_mesh_namespace.svc.cluster.local"
  kctl get namespace "$chaos_mesh_namespace" >/dev/null 2>&1 || kctl create namespace "$chaos_mesh_namespace" >/dev/null
  render "$manifests/chaos-mesh-values.yaml" chaos_mesh_tag PAUSE_IMAGE sock >"$dir/chaos-mesh-values.yaml"
  "$cache/tools/bin/helm" template chaos-mesh "$module/helm/chaos-mesh" -n "$chaos_mesh_namespace" \
    -f "$dir/chaos-mesh-values.yaml" --set-file webhook.caBundlePEM="$pki/ca.crt" \
    --set-file webhook.crtPEM="$pki/chaos-mesh-webhook.crt" --set-file webhook.keyPEM="$pki/chaos-mesh-webhook.key" |
    kctl apply -f - >/dev/null
  wait_until 180 "Chaos Mesh's controller-manager Ready" \
    kctl -n "$chaos_mesh_namespace" rollout status deployment/chaos-controller-manager --timeout=5s
  if chaos_mesh_has_daemon; then
    wait_until 180 "Chaos Mesh's chaos-daemon Ready" \
      kctl -n "$chaos_mesh_namespace" rollout status daemonset/chaos-daemon --timeout=5s
  else
    kctl -n "$chaos_mesh_namespace" delete daemonset chaos-daemon --ignore-not-found >/dev/null
  fi
}
