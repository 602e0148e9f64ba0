"""The node itself: Ready, schedulable, and running the pinned Kubernetes version."""

from __future__ import annotations

import json
import subprocess

from tests.support.cluster import HACK_CLUSTER, TOP, Cluster


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


def test_node_ready_untainted_with_containerd(cluster: Cluster) -> None:
    (node,) = cluster.get_json("nodes")["items"]
    conditions = {c["type"]: c["status"] for c in node["status"]["conditions"]}
    assert conditions["Ready"] == "True"
    assert not node["spec"].get("taints")
    assert node["status"]["nodeInfo"]["containerRuntimeVersion"].startswith("containerd://1.")
    assert node["status"]["nodeInfo"]["kubeletVersion"] == pinned("KUBERNETES_VERSION")


def test_cluster_dns_and_chaos_crd_installed(cluster: Cluster) -> None:
    dns = cluster.get_json("service", "kube-dns", "-n", "kube-system")
    assert dns["spec"]["clusterIP"] == pinned("CLUSTER_DNS_IP")
    crd = cluster.get_json("crd", "networkchaos.chaos-mesh.org")
    assert crd["spec"]["names"]["kind"] == "NetworkChaos"
