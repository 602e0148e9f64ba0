"""The nodes: Ready, schedulable, and running the pinned Kubernetes version."""

from __future__ import annotations

import json
import subprocess

from tests.support.cluster import CONTROL_PLANE_TAINT, HACK_CLUSTER, TOP, Cluster


def pinned(name: str) -> str:
    for line in (TOP / "hack" / "versions.env").read_text().splitlines():
        if line.startswith(f"{name}="):
            return line.split("=", 1)[1].strip()
    raise AssertionError(f"{name} not pinned in hack/versions.env")


def test_status_exits_zero_when_node_ready(cluster: Cluster) -> None:
    done = subprocess.run([str(HACK_CLUSTER), "status"], capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_server_and_kubectl_report_the_pinned_version(cluster: Cluster) -> None:
    version = json.loads(cluster.kubectl("version", "-o", "json").stdout)
    expected = pinned("KUBERNETES_VERSION")
    assert version["serverVersion"]["gitVersion"] == expected
    assert version["clientVersion"]["gitVersion"] == expected


def test_nodes_ready_with_containerd_and_somewhere_to_schedule(cluster: Cluster) -> None:
    """Every node Ready on the pinned kubelet; ordinary pods have an untainted node, and the
    only taint is a control plane's (hack/cluster: one untainted node; hack/kind: a tainted
    control plane and two workers)."""
    facts = cluster.facts
    for node in cluster.get_json("nodes")["items"]:
        conditions = {c["type"]: c["status"] for c in node["status"]["conditions"]}
        assert conditions["Ready"] == "True", node["metadata"]["name"]
        info = node["status"]["nodeInfo"]
        assert info["containerRuntimeVersion"].startswith("containerd://1.")
        assert info["kubeletVersion"] == pinned("KUBERNETES_VERSION")
    assert facts.schedulable_nodes, facts.nodes
    for node in facts.nodes:
        assert set(node.taints) <= {f"{CONTROL_PLANE_TAINT}:NoSchedule"}, node


def test_cluster_dns_and_chaos_crd_installed(cluster: Cluster) -> None:
    """kube-dns's ClusterIP is what every kubelet gives pods as their nameserver."""
    dns = cluster.facts.dns_ip
    for node in cluster.facts.nodes:
        configz = json.loads(
            cluster.kubectl("get", "--raw", f"/api/v1/nodes/{node.name}/proxy/configz").stdout
        )
        assert configz["kubeletconfig"]["clusterDNS"] == [dns], node.name
    crd = cluster.get_json("crd", "networkchaos.chaos-mesh.org")
    assert crd["spec"]["names"]["kind"] == "NetworkChaos"
