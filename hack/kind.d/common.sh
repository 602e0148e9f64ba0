# shellcheck shell=bash
# shellcheck disable=SC2034 # the paths set here are used by the other files
# Paths and helpers of hack/kind. Sourced after hack/versions.env; $here is hack/.

cache=${RIPPLE_CACHE:-$HOME/.cache/ripple}
dir=${RIPPLE_KIND_DIR:-$cache/kind}
kind_cache=$cache/kind
kubeconfig=$dir/kubeconfig
cluster_name=ripple-kind
context=kind-$cluster_name
k8s_key="$cache/k8s/$KUBERNETES_VERSION-etcd-$ETCD_VERSION"
k8s_bin="$k8s_key/bin"
kubeadm_bin="$k8s_key/kubeadm/kubeadm"
kind_bin="$cache/kind/$KIND_VERSION/kind"
# Images built for the nodes from the base image: their tags follow its recipe's.
kube_proxy_image="ripple.local/kube-proxy:$KUBERNETES_VERSION-kind-${KIND_BASE_IMAGE##*-}"
kube_router_image="ripple.local/kube-router:$KUBE_ROUTER_VERSION-kind-${KIND_BASE_IMAGE##*-}"

export GOPATH="$cache/go" GOMODCACHE="$cache/go/mod" GOCACHE="$cache/go/build"
export GOFLAGS="-mod=readonly -buildvcs=false" CGO_ENABLED=0

say() { echo "hack/kind: $*" >&2; }
die() { say "$*"; exit 1; }

need_root() { [ "$(id -u)" = 0 ] || die "must run as root"; }

kctl() { "$k8s_bin/kubectl" --kubeconfig="$kubeconfig" --context="$context" --request-timeout=10s "$@"; }

# wait_until SECONDS WHAT COMMAND...: poll COMMAND until it succeeds; die on timeout.
wait_until() {
  local timeout=$1 what=$2 deadline
  shift 2
  deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || die "timed out after ${timeout}s waiting for $what"
    sleep 1
  done
}

# lacks_sys_resource: true when CAP_SYS_RESOURCE (bit 24) is missing from this process's
# capability bounding set, which is what makes `docker run --privileged` fail.
lacks_sys_resource() {
  local bnd
  bnd=$(awk '/^CapBnd:/ {print $2}' /proc/self/status)
  [ -n "$bnd" ] && (( (16#$bnd >> 24 & 1) == 0 ))
}

env_() {
  printf 'export KUBECONFIG=%q\n' "$kubeconfig"
  # shellcheck disable=SC2016 # $PATH is for the shell that evals this
  printf 'export PATH=%q:"$PATH"\n' "$cache/tools/bin"
  # Where this machine reaches Prometheus's API: its NodePort on the control plane's
  # address on the \`kind\` network (this machine is not a node; 127.0.0.1 is not it).
  local ip port
  if ip=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$cluster_name-control-plane" 2>/dev/null) &&
    port=$(kctl -n monitoring get service prometheus -o jsonpath='{.spec.ports[0].nodePort}' 2>/dev/null) &&
    [ -n "$ip" ] && [ -n "$port" ]; then
    printf 'export RIPPLE_PROMETHEUS_URL=%q\n' "http://$ip:$port"
  fi
}
