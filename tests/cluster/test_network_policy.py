"""NetworkPolicy is enforced (kube-router's firewall): deny-ingress blocks, removal restores."""

from __future__ import annotations

from tests.cluster.kube import (
    apply,
    client_pod,
    deployment,
    http_get,
    ready_pods,
    wait_deployment_ready,
    wait_pod_ready,
)
from tests.support.cluster import Cluster
from tests.support.poll import wait_for

DENY_INGRESS = {
    "apiVersion": "networking.k8s.io/v1",
    "kind": "NetworkPolicy",
    "metadata": {"name": "deny-web-ingress"},
    "spec": {"podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Ingress"]},
}


def test_deny_ingress_blocks_then_removal_restores(
    cluster: Cluster, namespace: str, busybox_image: str
) -> None:
    apply(
        cluster,
        namespace,
        deployment("web", busybox_image, replicas=1),
        client_pod("client", busybox_image),
    )
    wait_deployment_ready(cluster, namespace, "web", 1)
    wait_pod_ready(cluster, namespace, "client")
    (web,) = ready_pods(cluster, namespace, "web").values()
    ip = web["status"]["podIP"]

    def reachable() -> bool:
        return http_get(cluster, namespace, "client", ip, 8080) is not None

    wait_for(reachable, timeout=60, what=f"web at {ip} reachable before any policy")

    apply(cluster, namespace, DENY_INGRESS)
    wait_for(lambda: not reachable(), timeout=60, what="the deny-ingress policy to block")
    assert not reachable(), "a second try got through the deny-ingress policy"

    cluster.kubectl("delete", "networkpolicy", "deny-web-ingress", "-n", namespace)
    wait_for(reachable, timeout=60, what="traffic restored after removing the policy")
