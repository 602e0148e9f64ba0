"""Services: the ClusterIP and the DNS name route to the pods; pods reach the API server."""

from __future__ import annotations

from tests.cluster.kube import (
    apply,
    client_pod,
    deployment,
    http_get,
    ready_pods,
    service,
    wait_deployment_ready,
    wait_pod_ready,
)
from tests.support.cluster import Cluster
from tests.support.poll import wait_for


def test_cluster_ip_and_dns_name_route_to_every_pod(
    cluster: Cluster, namespace: str, busybox_image: str
) -> None:
    apply(
        cluster,
        namespace,
        deployment("web", busybox_image, replicas=2),
        service("web"),
        client_pod("client", busybox_image),
    )
    wait_deployment_ready(cluster, namespace, "web", 2)
    wait_pod_ready(cluster, namespace, "client")
    pods = set(ready_pods(cluster, namespace, "web"))
    cluster_ip = cluster.get_json("service", "web", "-n", namespace)["spec"]["clusterIP"]

    # Each pod answers with its hostname: through the ClusterIP we must meet both.
    seen: set[str] = set()

    def both_seen() -> bool:
        body = http_get(cluster, namespace, "client", cluster_ip, 80)
        if body:
            seen.add(body)
        return seen == pods

    wait_for(both_seen, timeout=90, interval=0.2, what=f"answers from {pods} via {cluster_ip}")

    fqdn = f"web.{namespace}.svc.cluster.local"
    lookup = cluster.kubectl("exec", "-n", namespace, "client", "--", "nslookup", fqdn)
    assert cluster_ip in lookup.stdout
    for name in (fqdn, "web"):

        def answer(host: str = name) -> str | None:
            return http_get(cluster, namespace, "client", host, 80)

        body = wait_for(answer, timeout=60, what=f"an answer via {name}")
        assert body in pods


def test_pods_reach_the_api_server_through_the_kubernetes_service(
    cluster: Cluster, namespace: str, busybox_image: str
) -> None:
    apply(cluster, namespace, client_pod("client", busybox_image))
    wait_pod_ready(cluster, namespace, "client")
    # Plain HTTP to the TLS port: only a real Go TLS server answers with this message.
    done = cluster.kubectl(
        "exec",
        "-n",
        namespace,
        "client",
        "--",
        "sh",
        "-c",
        r"printf 'GET /version HTTP/1.0\r\n\r\n' | nc -w 3 kubernetes.default.svc 443",
        check=False,
    )
    assert "Client sent an HTTP request to an HTTPS server" in done.stdout
