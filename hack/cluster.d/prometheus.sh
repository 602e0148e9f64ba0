# shellcheck shell=bash
# The Prometheus Operator and one Prometheus, as the operator's users run them: the
# operator's CRDs (from its module, example/prometheus-operator-crd), its Deployment in
# the namespace `monitoring`, and a `Prometheus` resource that selects every
# ServiceMonitor and PrometheusRule labelled app.kubernetes.io/part-of=ripple (the label
# ripple's chart puts on everything it renders). All three programs are built from their
# Go modules (hack/gomod/prometheus-operator, hack/gomod/prometheus) and made into
# one-binary images here: no registry to pull them from.
#
# What others need to know:
#  - Prometheus answers at http://prometheus.monitoring.svc:9090 in the cluster and at
#    http://127.0.0.1:30090 on the host (NodePort); its API only: the build has no UI assets.
#  - It scrapes and evaluates rules every 5 s (a ServiceMonitor's own `interval` wins:
#    install ripple's chart with serviceMonitor.interval=5s to see short runs).
#  - Prometheus is built with only its Kubernetes service discovery (and file/http, which
#    it always has): $PROMETHEUS_SD_TAGS. A ScrapeConfig with another discovery fails.

prometheus_namespace=monitoring
prometheus_node_port=30090

build_prometheus() {
  check_gomod prometheus-operator github.com/prometheus-operator/prometheus-operator "$PROMETHEUS_OPERATOR_VERSION"
  check_gomod prometheus github.com/prometheus/prometheus "$PROMETHEUS_VERSION"
  grep -q "prometheus-operator/pkg/apis/monitoring $PROMETHEUS_OPERATOR_VERSION" "$here/gomod/prometheus-operator/go.mod" &&
    grep -q "prometheus-operator/pkg/client $PROMETHEUS_OPERATOR_VERSION" "$here/gomod/prometheus-operator/go.mod" ||
    die "hack/gomod/prometheus-operator/go.mod: pkg/apis/monitoring and pkg/client are not at $PROMETHEUS_OPERATOR_VERSION"
  # Stamp versions as their Makefiles do (the operator's and Prometheus's /metrics and
  # --version report them).
  local v=github.com/prometheus/common/version
  local stamp="-X $v.Branch=release -X $v.BuildUser=ripple -X $v.BuildDate=19700101-00:00:00"
  build_one prometheus-operator "$PROMETHEUS_OPERATOR_VERSION" prometheus-operator \
    github.com/prometheus-operator/prometheus-operator/cmd/operator \
    "$stamp -X $v.Version=${PROMETHEUS_OPERATOR_VERSION#v} -X $v.Revision=$PROMETHEUS_OPERATOR_VERSION"
  build_one prometheus-config-reloader "$PROMETHEUS_OPERATOR_VERSION" prometheus-operator \
    github.com/prometheus-operator/prometheus-operator/cmd/prometheus-config-reloader \
    "$stamp -X $v.Version=${PROMETHEUS_OPERATOR_VERSION#v} -X $v.Revision=$PROMETHEUS_OPERATOR_VERSION"
  # The cache key names the discoveries: another set of tags is another binary.
  build_one prometheus "$PROMETHEUS_VERSION-${PROMETHEUS_SD_TAGS//,/-}" prometheus \
    github.com/prometheus/prometheus/cmd/prometheus \
    "$stamp -X $v.Version=${PROMETHEUS_RELEASE#v} -X $v.Revision=$PROMETHEUS_VERSION" "$PROMETHEUS_SD_TAGS"
}

# The operator's CRDs ship in its module; the build downloaded it into the module cache.
prometheus_operator_crds() {
  local mod
  mod=$(cd "$here/gomod/prometheus-operator" &&
    go list -m -f '{{.Dir}}' github.com/prometheus-operator/prometheus-operator)
  echo "$mod/example/prometheus-operator-crd"
}

# prometheus_image REF BINARY: the one-binary image /bin/NAME, imported once into the
# cluster's containerd (refs are versioned: a new build is a new ref).
prometheus_image() {
  [ -n "$(ctr_ images ls -q "name==$1")" ] && return 0
  ctr_ images import "$(image_archive "$1" "$2" "[\"/bin/$(basename "$2")\"]" /bin)" >/dev/null
}

prometheus_addon() {
  local crds
  crds=$(prometheus_operator_crds)
  [ -s "$crds/monitoring.coreos.com_prometheuses.yaml" ] || die "no Prometheus Operator CRDs in $crds"
  prometheus_image "$PROMETHEUS_OPERATOR_IMAGE" \
    "$cache/prometheus-operator/$PROMETHEUS_OPERATOR_VERSION/prometheus-operator"
  prometheus_image "$PROMETHEUS_CONFIG_RELOADER_IMAGE" \
    "$cache/prometheus-config-reloader/$PROMETHEUS_OPERATOR_VERSION/prometheus-config-reloader"
  prometheus_image "$PROMETHEUS_IMAGE" \
    "$cache/prometheus/$PROMETHEUS_VERSION-${PROMETHEUS_SD_TAGS//,/-}/prometheus"
  # Server-side (the Prometheus CRDs are too large for client-side apply's annotation), and
  # only when the installed ones are of another operator version (applying takes seconds).
  local installed
  installed=$(kctl get crd prometheuses.monitoring.coreos.com --ignore-not-found \
    -o jsonpath='{.metadata.annotations.operator\.prometheus\.io/version}')
  if [ "$installed" != "${PROMETHEUS_OPERATOR_VERSION#v}" ]; then
    kctl apply --server-side --force-conflicts -f "$crds" >/dev/null
  fi
  wait_until 60 "the Prometheus Operator's CRDs" kctl wait --for=condition=Established --timeout=5s \
    crd/prometheuses.monitoring.coreos.com crd/servicemonitors.monitoring.coreos.com crd/prometheusrules.monitoring.coreos.com
  render "$manifests/prometheus-operator.yaml" prometheus_namespace PROMETHEUS_OPERATOR_IMAGE \
    PROMETHEUS_CONFIG_RELOADER_IMAGE | kctl apply -f - >/dev/null
  wait_until 180 "the Prometheus Operator Ready" \
    kctl -n "$prometheus_namespace" rollout status deployment/prometheus-operator --timeout=5s
  render "$manifests/prometheus.yaml" prometheus_namespace prometheus_node_port PROMETHEUS_IMAGE \
    PROMETHEUS_RELEASE | kctl apply -f - >/dev/null
  wait_until 240 "Prometheus Available" kctl -n "$prometheus_namespace" wait --for=condition=Available \
    --timeout=5s prometheus/ripple
}
