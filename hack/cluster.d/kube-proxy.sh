# shellcheck shell=bash
# kube-proxy in iptables mode: Services, ClusterIPs and NodePorts. It exits when its
# config file changes, which is why the config is written only when it differs.

kube_proxy_configure() {
  client_identity kube-proxy "/CN=system:kube-proxy"
  put "$etc/kube-proxy.yaml" <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clusterCIDR: $CLUSTER_POD_CIDR
hostnameOverride: $node
clientConnection: {kubeconfig: "$etc/kube-proxy.kubeconfig"}
conntrack: {maxPerCore: 0}
metricsBindAddress: 127.0.0.1:10249
healthzBindAddress: 127.0.0.1:10256
YAML
}

kube_proxy_start() {
  start kube-proxy "$k8s_bin/kube-proxy" --config="$etc/kube-proxy.yaml" --v=1
}

# 200 once its rules are programmed and recent.
kube_proxy_ready() { curl -sf --max-time 3 http://127.0.0.1:10256/healthz >/dev/null; }
