# shellcheck shell=bash
# stop/start COMPONENT on the kind cluster, as `hack/cluster stop|start` does for its own:
#  - kube-router (the NetworkPolicy firewall, a DaemonSet): stopped by a nodeSelector no
#    node matches, then its chains and ipsets removed on every node (it leaves them behind,
#    and they would keep enforcing the policies as last synced); started by removing it.
#  - kube-apiserver (a static pod on the control plane): its manifest moved out of the
#    kubelet's manifest directory and back.
# `up` brings back whatever is stopped (it reapplies the DaemonSet and restores the manifest).
kind_components=(kube-apiserver kube-router)
stopped_selector='{"ripple.dev/kube-router": "stopped"}'
static_pods=/etc/kubernetes/manifests
apiserver_parked=/etc/kubernetes/kube-apiserver.yaml.stopped

is_kind_component() {
  local c
  for c in "${kind_components[@]}"; do [ "$c" = "$1" ] && return 0; done
  return 1
}

control_plane() { echo "$cluster_name-control-plane"; }

kube_router_pods_gone() {
  [ -z "$(kctl -n kube-system get pods -l k8s-app=kube-router -o name)" ]
}
# Every node has the rule kube-router's first full policy sync appends (see
# hack/cluster.d/kube-router.sh): from then on, the policies are enforced.
kube_router_enforcing() {
  local n
  kube_router_ready || return 1
  for n in $(nodes); do
    docker exec "$n" iptables -w -S KUBE-ROUTER-FORWARD 2>/dev/null |
      grep -q -- '--mark 0x20000/0x20000 -j ACCEPT' || return 1
  done
}
# What kube-router left on a node: hack/cluster.d/network.sh's remove_chains and
# remove_ipsets, run inside the node container.
kube_router_rules_remove() {
  local n script
  script="set -u
$(
    # shellcheck source=../cluster.d/network.sh
    . "$here/cluster.d/network.sh"
    declare -f remove_chains remove_ipsets
  )
remove_chains 'KUBE-ROUTER-|KUBE-POD-FW-|KUBE-NWPLCY-' filter
remove_ipsets '^(KUBE-SRC-|KUBE-DST-)'"
  for n in $(nodes); do docker exec "$n" bash -c "$script"; done
}

apiserver_answers() { kctl get --raw /readyz >/dev/null 2>&1; }
apiserver_container_gone() {
  [ -z "$(docker exec "$(control_plane)" crictl ps -q --name '^kube-apiserver$')" ]
}
# apiserver_restore: put the manifest back if `stop` parked it (true when there was none).
apiserver_restore() {
  docker exec "$(control_plane)" sh -c \
    "if [ -e $apiserver_parked ]; then mv $apiserver_parked $static_pods/kube-apiserver.yaml; fi"
}

stop_component() {
  case "$1" in
    kube-router)
      kctl -n kube-system patch daemonset kube-router --type=merge \
        -p "{\"spec\": {\"template\": {\"spec\": {\"nodeSelector\": $stopped_selector}}}}" >/dev/null
      wait_until 120 "kube-router's pods gone" kube_router_pods_gone
      kube_router_rules_remove
      ;;
    kube-apiserver)
      docker exec "$(control_plane)" sh -c \
        "if [ -e $static_pods/kube-apiserver.yaml ]; then mv $static_pods/kube-apiserver.yaml $apiserver_parked; fi"
      wait_until 120 "the apiserver's container gone" apiserver_container_gone
      ;;
  esac
  say "$1 stopped"
}

start_component() {
  case "$1" in
    kube-router)
      kctl -n kube-system patch daemonset kube-router --type=json \
        -p '[{"op": "remove", "path": "/spec/template/spec/nodeSelector"}]' >/dev/null 2>&1 || true
      wait_until 180 "kube-router enforcing on every node" kube_router_enforcing
      ;;
    kube-apiserver)
      apiserver_restore
      wait_until 180 "the apiserver ready" apiserver_answers
      ;;
  esac
  say "$1 running"
}
