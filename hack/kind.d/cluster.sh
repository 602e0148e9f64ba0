# shellcheck shell=bash
# The cluster: kind's config (one control plane, two workers), the pod network between
# the nodes, up/down/status/load.
#
# No kindnetd: its module (github.com/aojea/kindnet) is not served by the module proxy
# here, so `disableDefaultCNI` and pod_network below does what kindnetd does for IPv4:
# each node gets a ptp + host-local CNI config for its podCIDR, a route to every other
# node's podCIDR via that node's address on the `kind` network, and masquerading of what
# leaves the pod network. Pods and Services use ranges distinct from hack/cluster's
# (10.244/16, 10.96/16), which routes on this same host.
kind_pod_subnet=10.245.0.0/16
kind_service_subnet=10.97.0.0/16

# kind, with hack/kind.d/bin/docker first on PATH only where --privileged cannot work.
run_kind() {
  if lacks_sys_resource; then
    PATH="$here/kind.d/bin:$PATH" "$kind_bin" "$@"
  else
    "$kind_bin" "$@"
  fi
}

cluster_config() {
  cat <<CONFIG
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
name: $cluster_name
networking:
  disableDefaultCNI: true
  podSubnet: $kind_pod_subnet
  serviceSubnet: $kind_service_subnet
nodes:
  - role: control-plane
    image: $KIND_NODE_IMAGE
  - role: worker
    image: $KIND_NODE_IMAGE
  - role: worker
    image: $KIND_NODE_IMAGE
kubeadmConfigPatches:
  - |
    kind: ClusterConfiguration
    imageRepository: ripple.local
    etcd:
      local:
        imageRepository: ripple.local
        imageTag: $ETCD_VERSION
    dns:
      imageRepository: ripple.local
      imageTag: ${COREDNS_IMAGE##*:}
  - |
    kind: KubeletConfiguration
    failCgroupV1: false
CONFIG
}

exists() { run_kind get clusters 2>/dev/null | grep -qx "$cluster_name"; }
nodes() { run_kind get nodes --name "$cluster_name"; }

# pod_network: CNI config, routes and masquerading on every node (idempotent).
pod_network() {
  local n cidr ip
  declare -A cidrs ips
  wait_until 120 "every node's podCIDR" all_have_pod_cidr
  while read -r n cidr ip; do cidrs[$n]=$cidr ips[$n]=$ip; done < <(kctl get nodes -o \
    jsonpath='{range .items[*]}{.metadata.name} {.spec.podCIDR} {.status.addresses[?(@.type=="InternalIP")].address}{"\n"}{end}')
  for n in "${!cidrs[@]}"; do
    local script="set -e; sysctl -qw net.ipv4.ip_forward=1
mkdir -p /etc/cni/net.d
cat >/etc/cni/net.d/10-ripple-kind.conflist <<'CNI'
{\"cniVersion\": \"0.4.0\", \"name\": \"ripple-kind\", \"plugins\": [
  {\"type\": \"ptp\", \"mtu\": 1500, \"ipam\": {\"type\": \"host-local\",
    \"ranges\": [[{\"subnet\": \"${cidrs[$n]}\"}]], \"routes\": [{\"dst\": \"0.0.0.0/0\"}]}},
  {\"type\": \"portmap\", \"capabilities\": {\"portMappings\": true}}]}
CNI
iptables -t nat -C POSTROUTING -s $kind_pod_subnet ! -d $kind_pod_subnet -m comment --comment ripple-kind-masq -j MASQUERADE 2>/dev/null ||
  iptables -t nat -A POSTROUTING -s $kind_pod_subnet ! -d $kind_pod_subnet -m comment --comment ripple-kind-masq -j MASQUERADE"
    local m
    for m in "${!cidrs[@]}"; do
      [ "$m" = "$n" ] || script+="
ip route replace ${cidrs[$m]} via ${ips[$m]}"
    done
    docker exec "$n" sh -c "$script"
  done
  # This machine reaches pods and Services as it does on hack/cluster's node (the tests
  # call ClusterIPs): pod ranges via their node, Services via the control plane's
  # kube-proxy. Routes of the kind ranges only; \`down\` removes them.
  for n in "${!cidrs[@]}"; do ip route replace "${cidrs[$n]}" via "${ips[$n]}"; done
  ip route replace "$kind_service_subnet" via "${ips[$cluster_name-control-plane]}"
}
host_routes_remove() {
  local r
  for r in "$kind_service_subnet" $(ip -4 route show | awk -v p="${kind_pod_subnet%.0.0/16}." 'index($1, p) == 1 {print $1}'); do
    ip route del "$r" 2>/dev/null || true
  done
}
all_have_pod_cidr() {
  local c
  c=$(kctl get nodes -o jsonpath='{range .items[*]}{.spec.podCIDR}{"\n"}{end}') || return 1
  [ "$(grep -c / <<<"$c")" = 3 ]
}
all_ready() {
  local s
  s=$(kctl get nodes -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}') || return 1
  [ "$(grep -cx True <<<"$s")" = 3 ]
}
dns_ready() {
  [ "$(kctl -n kube-system get deploy coredns -o jsonpath='{.status.readyReplicas}')" = 2 ]
}

# addons: what runs in the cluster besides kubeadm's own (applied again on every `up`).
addons() {
  kctl apply -f "$here/manifests/kube-router-rbac.yaml" >/dev/null
  local text
  text=$(<"$here/kind.d/kube-router.yaml")
  kctl apply -f - <<<"${text//\$\{KUBE_ROUTER_IMAGE\}/$kube_router_image}" >/dev/null
  wait_until 180 "kube-router on every node" kube_router_ready
  local_addons
}
kube_router_ready() {
  [ "$(kctl -n kube-system get ds kube-router -o jsonpath='{.status.numberReady}')" = 3 ]
}

up() {
  need_root
  local t0=$SECONDS
  build_all
  mkdir -p "$dir"
  if ! exists; then
    cluster_config >"$dir/kind.yaml"
    say "creating cluster $cluster_name (1 control plane, 2 workers) ..."
    run_kind create cluster --config "$dir/kind.yaml" --kubeconfig "$kubeconfig" --retain=false >&2
  else
    run_kind export kubeconfig --name "$cluster_name" --kubeconfig "$kubeconfig" >&2
    apiserver_restore  # after \`hack/kind stop kube-apiserver\`
    wait_until 180 "the apiserver ready" apiserver_answers
  fi
  pod_network
  addons
  wait_until 180 "every node Ready" all_ready
  wait_until 180 "CoreDNS ready" dns_ready
  say "up in $((SECONDS - t0))s: $(nodes | tr '\n' ' ')Ready; run: eval \"\$(hack/kind env)\""
}

down() {
  need_root
  if exists; then run_kind delete cluster --name "$cluster_name" --kubeconfig "$kubeconfig" >&2; fi
  host_routes_remove
  rm -f "$kubeconfig"
  say "down"
}

status() {
  if [ -s "$kubeconfig" ] && all_ready; then say "every node Ready"; return 0; fi
  say "not up"
  return 1
}

load() { run_kind load docker-image --name "$cluster_name" "$@"; }

logs() {  # logs LINES
  local n
  kctl get nodes -o wide >&2 || true
  kctl get pods -A --field-selector=status.phase!=Running >&2 || true
  for n in $(exists && nodes); do
    echo "----- $n: kubelet, containerd (last $1 lines) -----" >&2
    docker exec "$n" journalctl --no-pager -n "$1" -u kubelet -u containerd >&2 || true
  done
}
