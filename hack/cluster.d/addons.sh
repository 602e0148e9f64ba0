# shellcheck shell=bash
# What runs in the cluster rather than on the host: CoreDNS, Chaos Mesh (chaos-mesh.sh),
# Toxiproxy's image (toxiproxy.sh) and Prometheus.

addons() {
  ctr_ images import "$(image_archive "$COREDNS_IMAGE" "$cache/coredns/$COREDNS_VERSION/coredns" '["/coredns"]')" >/dev/null
  render "$manifests/coredns.yaml" CLUSTER_DOMAIN COREDNS_IMAGE CLUSTER_DNS_IP | kctl apply -f - >/dev/null
  wait_until 60 "the default ServiceAccount" kctl -n default get serviceaccount default
  wait_until 120 "CoreDNS Ready" kctl -n kube-system rollout status deployment/coredns --timeout=5s
  chaos_mesh_addon
  toxiproxy_addon
  prometheus_addon
}
