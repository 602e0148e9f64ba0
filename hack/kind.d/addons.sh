# shellcheck shell=bash
# What the tests need besides the cluster, as hack/cluster deploys it: Chaos Mesh's
# controller-manager, Toxiproxy's image, the Prometheus Operator with a Prometheus. The
# functions are hack/cluster.d's own, run in a subshell with that file set's paths moved
# below $dir/cluster.d (its CA for the webhook certificate; nothing of hack/cluster's
# cluster is read or written) and some functions swapped: kctl talks to the kind cluster,
# `ctr images import` is `kind load image-archive` (every node), `ctr images ls` finds
# nothing (kind load skips what a node already has).
# The chaos-daemon is not privileged on hosts without CAP_SYS_RESOURCE (below).

local_addons() {
  (
    # shellcheck disable=SC2030,SC2031 # on purpose: only this subshell sees these
    export RIPPLE_CLUSTER_DIR="$dir/cluster.d"
    local kind_kubeconfig=$kubeconfig kind_context=$context
    # shellcheck source=../cluster.d/common.sh
    . "$here/cluster.d/common.sh"
    # shellcheck source=../cluster.d/build.sh
    . "$here/cluster.d/build.sh"
    # shellcheck source=../cluster.d/pki.sh
    . "$here/cluster.d/pki.sh"
    # shellcheck source=../cluster.d/prometheus.sh
    . "$here/cluster.d/prometheus.sh"
    # shellcheck source=../cluster.d/chaos-mesh.sh
    . "$here/cluster.d/chaos-mesh.sh"
    # shellcheck source=../cluster.d/toxiproxy.sh
    . "$here/cluster.d/toxiproxy.sh"
    say() { echo "hack/kind: $*" >&2; }
    kctl() { "$k8s_bin/kubectl" --kubeconfig="$kind_kubeconfig" --context="$kind_context" --request-timeout=10s "$@"; }
    ctr_() {
      case "$1 $2" in
        "images import") run_kind load image-archive --name "$cluster_name" "$3" >/dev/null ;;
        "images ls") ;;
        *) die "ctr_ $* is not supported on kind" ;;
      esac
    }
    # Where a node cannot start privileged containers (no CAP_SYS_RESOURCE), the
    # chaos-daemon runs with the chart's own capability list instead.
    if lacks_sys_resource; then
      eval "cluster_render() $(declare -f render | tail -n +2)"
      render() {
        case "$1" in
          */chaos-mesh-values.yaml) cluster_render "$@" | sed '/^chaosDaemon:$/a\  privileged: false' ;;
          *) cluster_render "$@" ;;
        esac
      }
    fi
    sock=/run/containerd/containerd.sock
    ca_setup ripple-kind-webhook-ca
    chaos_mesh_addon
    toxiproxy_addon
    prometheus_addon
  )
}
