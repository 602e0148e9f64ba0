# shellcheck shell=bash
# kube-router as the NetworkPolicy enforcer only (--run-firewall): pod networking is the
# CNI bridge and Services are kube-proxy's. Its routing controller stays off: it would
# expose GoBGP's unauthenticated gRPC API (see hack/versions.env).

kube_router_configure() {
  client_identity kube-router "/CN=system:kube-router"
}

kube_router_start() {
  # Its permissions first, or its informers start forbidden and back off.
  kctl apply -f "$manifests/kube-router-rbac.yaml" >/dev/null
  start kube-router "$cache/kube-router/$KUBE_ROUTER_VERSION/kube-router" \
    --kubeconfig="$etc/kube-router.kubeconfig" --hostname-override="$node" \
    --run-firewall=true --run-router=false --run-service-proxy=false --enable-cni=false \
    --health-port=20244 --metrics-port=0 --v=0
}

# Its /healthz says OK from the start, so also look for the rule its first full policy
# sync appends (in the same iptables-restore as every policy's rules): once it is there,
# the policies are enforced.
kube_router_ready() {
  curl -sf --max-time 3 http://127.0.0.1:20244/healthz >/dev/null &&
    iptables -w -S KUBE-ROUTER-FORWARD 2>/dev/null | grep -q -- '--mark 0x20000/0x20000 -j ACCEPT'
}

# kube-router leaves its rules in place when it exits, so policies would stay enforced as
# last synced. After `hack/cluster stop kube-router` nothing enforces them: remove its
# chains (filter table only, where it keeps all of them) and the ipsets they match on.
kube_router_stopped() {
  remove_chains 'KUBE-ROUTER-|KUBE-POD-FW-|KUBE-NWPLCY-' filter
  remove_ipsets '^(KUBE-SRC-|KUBE-DST-)'
}
