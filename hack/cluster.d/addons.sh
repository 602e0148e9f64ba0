# shellcheck shell=bash
# What runs in the cluster rather than on the host: CoreDNS, and Chaos Mesh's NetworkChaos
# CRD (its objects are validated by the schema; no Chaos Mesh daemon acts on them).

addons() {
  ctr_ images import "$(image_archive "$COREDNS_IMAGE" "$cache/coredns/$COREDNS_VERSION/coredns" '["/coredns"]')" >/dev/null
  render "$manifests/coredns.yaml" CLUSTER_DOMAIN COREDNS_IMAGE CLUSTER_DNS_IP | kctl apply -f - >/dev/null
  local crds
  crds=$(chaos_crds)
  kctl apply --server-side -f "$crds/chaos-mesh.org_networkchaos.yaml" >/dev/null
  wait_until 60 "the default ServiceAccount" kctl -n default get serviceaccount default
  wait_until 120 "CoreDNS Ready" kctl -n kube-system rollout status deployment/coredns --timeout=5s
  wait_until 60 "the NetworkChaos CRD" kctl wait --for=condition=Established --timeout=5s crd/networkchaos.chaos-mesh.org
  prometheus_addon
}
