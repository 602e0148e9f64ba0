# shellcheck shell=bash
# kube-scheduler: the default scheduler, no leader election (one node, one copy).

kube_scheduler_configure() {
  client_identity scheduler "/CN=system:kube-scheduler"
}

kube_scheduler_start() {
  start kube-scheduler "$k8s_bin/kube-scheduler" --kubeconfig="$etc/scheduler.kubeconfig" \
    --authentication-kubeconfig="$etc/scheduler.kubeconfig" \
    --authorization-kubeconfig="$etc/scheduler.kubeconfig" \
    --bind-address=127.0.0.1 --leader-elect=false --profiling=false --v=1
}

# Its secure port (10259) serves /healthz to anyone by default.
kube_scheduler_ready() { curl -sfk --max-time 3 https://127.0.0.1:10259/healthz >/dev/null; }
