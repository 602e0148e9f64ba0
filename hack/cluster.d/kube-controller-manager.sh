# shellcheck shell=bash
# kube-controller-manager: no leader election (one node, one copy); it allocates the
# node's pod CIDR and signs with the cluster CA, and each controller acts with its own
# service account, so RBAC is exercised as in a real cluster.

kube_controller_manager_configure() {
  client_identity controller-manager "/CN=system:kube-controller-manager"
}

kube_controller_manager_start() {
  start kube-controller-manager "$k8s_bin/kube-controller-manager" \
    --kubeconfig="$etc/controller-manager.kubeconfig" \
    --authentication-kubeconfig="$etc/controller-manager.kubeconfig" \
    --authorization-kubeconfig="$etc/controller-manager.kubeconfig" \
    --bind-address=127.0.0.1 --leader-elect=false --use-service-account-credentials=true \
    --service-account-private-key-file="$pki/sa.key" --root-ca-file="$pki/ca.crt" \
    --cluster-signing-cert-file="$pki/ca.crt" --cluster-signing-key-file="$pki/ca.key" \
    --allocate-node-cidrs=true --cluster-cidr="$CLUSTER_POD_CIDR" --node-cidr-mask-size=24 \
    --service-cluster-ip-range="$CLUSTER_SERVICE_CIDR" --controllers='*,bootstrapsigner,tokencleaner' \
    --profiling=false --v=1
}

# Its secure port (10257) serves /healthz to anyone by default.
kube_controller_manager_ready() { curl -sfk --max-time 3 https://127.0.0.1:10257/healthz >/dev/null; }
