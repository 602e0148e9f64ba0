# shellcheck shell=bash
# kube-apiserver: serves on every address (6443) so pods reach it through the
# `kubernetes` Service and the node IP; authenticates clients by certificate and
# authorizes with Node and RBAC, as a real cluster does.

kube_apiserver_configure() {  # kube_apiserver_configure NODE-IP
  local ip=$1 svc_ip
  # The `kubernetes` Service takes the first address of the service range.
  svc_ip=$(python3 -c "import ipaddress,sys; print(ipaddress.ip_network(sys.argv[1])[1])" "$CLUSTER_SERVICE_CIDR")
  cert apiserver "/CN=kube-apiserver" \
    "DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.$CLUSTER_DOMAIN,IP:127.0.0.1,IP:$ip,IP:$svc_ip"
  cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client"
}

# The audit log: every request of a ServiceAccount (the operator's, the runners') at
# Metadata level, none of kube-system's controllers or of kubectl, so benchmarks count a
# program's API requests where it cannot flatter itself. Rotated at 20 MB, two kept.
kube_apiserver_audit_policy() {
  mkdir -p "$dir/audit"
  cat >"$etc/audit-policy.yaml" <<'POLICY'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: None
    userGroups: ["system:serviceaccounts:kube-system"]
  - level: Metadata
    userGroups: ["system:serviceaccounts"]
  - level: None
POLICY
}

kube_apiserver_start() {  # kube_apiserver_start NODE-IP
  local ip=$1
  running kube-apiserver && return 0
  kube_apiserver_audit_policy
  start kube-apiserver "$k8s_bin/kube-apiserver" \
    --audit-policy-file="$etc/audit-policy.yaml" --audit-log-path="$dir/audit/audit.log" \
    --audit-log-maxsize=20 --audit-log-maxbackup=2 --audit-log-format=json \
    --advertise-address="$ip" --bind-address=0.0.0.0 --secure-port="$api_port" \
    --etcd-servers=http://127.0.0.1:2379 \
    --service-cluster-ip-range="$CLUSTER_SERVICE_CIDR" --service-node-port-range=30000-32767 \
    --client-ca-file="$pki/ca.crt" --tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
    --kubelet-client-certificate="$pki/apiserver-kubelet-client.crt" \
    --kubelet-client-key="$pki/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority="$pki/ca.crt" --kubelet-preferred-address-types=InternalIP,Hostname \
    --service-account-issuer="https://kubernetes.default.svc.$CLUSTER_DOMAIN" \
    --service-account-key-file="$pki/sa.pub" --service-account-signing-key-file="$pki/sa.key" \
    --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction \
    --allow-privileged=true --profiling=false --v=1
}

kube_apiserver_ready() { curl -sfk --max-time 3 "https://127.0.0.1:$api_port/readyz" >/dev/null; }
