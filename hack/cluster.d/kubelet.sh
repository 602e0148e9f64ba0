# shellcheck shell=bash
# kubelet: registers node $node untainted with the node IP, runs pods through our
# containerd, and serves its API with a certificate from the cluster CA (no bootstrap,
# no rotation: the cluster lives as long as its CA).

kubelet_configure() {  # kubelet_configure NODE-IP
  local ip=$1
  client_identity kubelet "/O=system:nodes/CN=system:node:$node"
  cert kubelet-serving "/CN=$node" "DNS:$node,DNS:localhost,IP:127.0.0.1,IP:$ip"
  # cgroup v1 here has hugetlb compiled in but not mounted; the kubelet wants it.
  if grep -q '^hugetlb' /proc/cgroups && ! grep -q ' /sys/fs/cgroup/hugetlb ' /proc/mounts; then
    mkdir -p /sys/fs/cgroup/hugetlb
    mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb
    touch "$dir/mounted-hugetlb"
  fi
  put "$etc/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix://$sock
address: 0.0.0.0
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: "$pki/ca.crt"}
authorization: {mode: Webhook}
tlsCertFile: "$pki/kubelet-serving.crt"
tlsPrivateKeyFile: "$pki/kubelet-serving.key"
clusterDNS: ["$CLUSTER_DNS_IP"]
clusterDomain: $CLUSTER_DOMAIN
resolvConf: /etc/resolv.conf
failSwapOn: false
serializeImagePulls: false
# Images here are loaded, never pulled: never garbage-collect them.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%"}
registerWithTaints: []
rotateCertificates: false
podLogsDir: "$data/pod-logs"
serverTLSBootstrap: false
YAML
}

kubelet_start() {  # kubelet_start NODE-IP
  local ip=$1
  start kubelet "$k8s_bin/kubelet" --config="$etc/kubelet.yaml" --kubeconfig="$etc/kubelet.kubeconfig" \
    --root-dir="$data/kubelet" --hostname-override="$node" --node-ip="$ip" --v=1
}

node_ready() {
  [ "$(kctl get node "$node" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]
}

# The node stays Ready for a while after its kubelet is gone: ask the kubelet itself too.
kubelet_ready() { curl -sf --max-time 3 http://127.0.0.1:10248/healthz >/dev/null && node_ready; }

# After every process is stopped: what the kubelet left on the host outside $dir.
kubelet_teardown() {
  [ -d /var/log/containers ] && find /var/log/containers -maxdepth 1 -lname "$data/*" -delete
  local c
  for c in /sys/fs/cgroup/*/kubepods; do
    [ -d "$c" ] || continue
    find "$c" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done
  if [ -f "$dir/mounted-hugetlb" ]; then
    if umount /sys/fs/cgroup/hugetlb 2>/dev/null; then rmdir /sys/fs/cgroup/hugetlb 2>/dev/null || true; fi
    rm -f "$dir/mounted-hugetlb"
  fi
}
