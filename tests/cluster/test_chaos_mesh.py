"""Chaos Mesh in the local cluster (hack/cluster.d/chaos-mesh.sh): its webhooks, its controller,
its daemon, against the demo services.

What this kernel allows: no netem, so ``delay`` fails in the daemon (and Chaos Mesh's status
says why); iptables + ipset, so ``partition`` really cuts middle off from back, and deleting
the NetworkChaos (the rollback) really heals it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from ripple_experiments.extension.in_effect import chaos_mesh_injected
from tests.cluster.experiments_support import connection_from_middle
from tests.support.cluster import Cluster, KubectlError
from tests.support.demo import Demo, deploy_demo
from tests.support.poll import wait_for
from tests.support.ripple_in_cluster import image_in_cluster

BLOCKED = {"refused", "timeout"}


@pytest.fixture(scope="module")
def chaos_mesh(cluster: Cluster) -> bool:
    """Whether the daemon runs (hack/cluster runs the controller-only setup without nsexec)."""
    cluster.kubectl(
        "-n", "chaos-mesh", "rollout", "status", "deployment/chaos-controller-manager",
        "--timeout=120s", timeout=150,
    )  # fmt: skip
    daemons = cluster.get_json("daemonset", "-n", "chaos-mesh")["items"]
    return any(d["metadata"]["name"] == "chaos-daemon" for d in daemons)


@pytest.fixture
def demo(cluster: Cluster, namespace: str) -> Demo:
    image_in_cluster(cluster)
    return deploy_demo(cluster, namespace)


def network_chaos(name: str, spec: dict[str, Any]) -> str:
    body = {
        "apiVersion": "chaos-mesh.org/v1alpha1",
        "kind": "NetworkChaos",
        "metadata": {"name": name},
        "spec": {
            "mode": "all",
            "selector": {"labelSelectors": {"app.kubernetes.io/name": "middle"}},
            **spec,
        },
    }
    return json.dumps(body)


def injected(cluster: Cluster, namespace: str, name: str) -> tuple[dict[str, Any] | None, str]:
    """What ripple's in-effect check reads from the object's status, as it reads it."""
    return chaos_mesh_injected(cluster.get_json("networkchaos", name, "-n", namespace))


def test_the_webhook_refuses_what_the_schema_lets_through(
    cluster: Cluster, namespace: str, chaos_mesh: bool
) -> None:
    """``direction: both`` without a target is a valid enum value, refused by Chaos Mesh itself."""
    bad = network_chaos(
        "both-ways", {"action": "delay", "direction": "both", "delay": {"latency": "1s"}}
    )
    with pytest.raises(
        KubectlError, match=r'admission webhook "vnetworkchaos.kb.io" denied'
    ) as exc:
        cluster.kubectl("apply", "-n", namespace, "-f", "-", input=bad)
    assert "cannot be used when targets is empty" in str(exc.value.stderr)
    with pytest.raises(KubectlError, match="NotFound"):
        cluster.kubectl("get", "networkchaos", "both-ways", "-n", namespace)


def test_the_mutating_webhook_and_the_controller_act_on_an_object(
    cluster: Cluster, namespace: str, demo: Demo, chaos_mesh: bool
) -> None:
    """The controller selects the pod and records it: the status the in-effect check reads."""
    bandwidth = {"rate": "1mbps", "limit": 20971520, "buffer": 10000}
    good = network_chaos("slow", {"action": "bandwidth", "direction": "to", "bandwidth": bandwidth})
    cluster.kubectl("apply", "-n", namespace, "-f", "-", input=good)
    stored = cluster.get_json("networkchaos", "slow", "-n", namespace)
    assert "chaos-mesh/records" in stored["metadata"].get("finalizers", []), stored["metadata"]
    records: list[dict[str, Any]] = wait_for(
        lambda: (
            (cluster.get_json("networkchaos", "slow", "-n", namespace).get("status") or {})
            .get("experiment", {})
            .get("containerRecords")
        ),
        timeout=60,
        what="Chaos Mesh's controller recording the selected pod",
    )
    (record,) = records
    assert record["id"].startswith(f"{namespace}/middle-"), record
    if chaos_mesh:
        evidence = wait_for(
            lambda: injected(cluster, namespace, "slow")[0], timeout=60, what="AllInjected"
        )
        assert evidence == {"evidence": "1/1 pods injected by Chaos Mesh"}
    else:
        found, why = injected(cluster, namespace, "slow")
        assert found is None, found
        assert why, "a reason why not"
    cluster.kubectl("delete", "networkchaos", "slow", "-n", namespace, "--timeout=60s", timeout=90)


def test_delay_is_refused_by_this_kernel_and_the_status_says_so(
    cluster: Cluster, namespace: str, demo: Demo, chaos_mesh: bool
) -> None:
    """No netem here: the daemon fails, and Chaos Mesh's own message reaches the check."""
    if not chaos_mesh:
        pytest.skip("no chaos-daemon in this cluster (hack/cluster found no nsexec source)")
    delay = network_chaos(
        "late", {"action": "delay", "direction": "to", "delay": {"latency": "1500ms"}}
    )
    cluster.kubectl("apply", "-n", namespace, "-f", "-", input=delay)
    why: str = wait_for(
        lambda: (lambda seen: seen[1] if seen[1].startswith("Chaos Mesh says") else None)(
            injected(cluster, namespace, "late")
        ),
        timeout=90,
        what="Chaos Mesh reporting the failed injection",
    )
    print(f"\nChaos Mesh on delay: {why}")
    assert "unable to set tcs" in why, why
    (pod,) = demo.pod_names("middle")
    # The controller keeps the daemon's reason short; the daemon's log has tc's own words.
    log = cluster.kubectl("-n", "chaos-mesh", "logs", "daemonset/chaos-daemon", "--tail=500").stdout
    refusals = [
        line for line in log.splitlines() if pod in line and "error while adding tc" in line
    ]
    assert refusals, log[-2000:]
    assert "netem delay 1500ms" in log
    assert "Specified qdisc kind is unknown" in refusals[-1], refusals[-1]
    # Deleted, it stays: Chaos Mesh recovers a pod only after applying to it, which this
    # kernel never lets happen; its finalizer goes with the pod, or by hand.
    cluster.kubectl("delete", "networkchaos", "late", "-n", namespace, "--wait=false")
    going = cluster.get_json("networkchaos", "late", "-n", namespace)
    assert going["metadata"]["deletionTimestamp"]
    assert going["metadata"]["finalizers"] == ["chaos-mesh/records"]
    unhold = '[{"op": "remove", "path": "/metadata/finalizers"}]'
    cluster.kubectl("patch", "networkchaos", "late", "-n", namespace, "--type=json", "-p", unhold)
    wait_for(
        lambda: (
            "NotFound"
            in cluster.kubectl("get", "networkchaos", "late", "-n", namespace, check=False).stderr
        ),
        timeout=30,
        what="the NetworkChaos gone without its finalizer",
    )


def test_partition_cuts_middle_off_from_back_and_its_removal_heals_it(
    cluster: Cluster, namespace: str, demo: Demo, chaos_mesh: bool
) -> None:
    if not chaos_mesh:
        pytest.skip("no chaos-daemon in this cluster (hack/cluster found no nsexec source)")
    assert fresh_connection_to_back(cluster, namespace) == "connected"
    cut = network_chaos(
        "cut",
        {
            "action": "partition",
            "direction": "to",
            "target": {
                "mode": "all",
                "selector": {"labelSelectors": {"app.kubernetes.io/name": "back"}},
            },
        },
    )
    cluster.kubectl("apply", "-n", namespace, "-f", "-", input=cut)
    evidence = wait_for(
        lambda: injected(cluster, namespace, "cut")[0], timeout=90, what="the partition injected"
    )
    # middle's pod, and back's: a partition records its target's side too
    assert evidence == {"evidence": "2/2 pods injected by Chaos Mesh"}
    assert fresh_connection_to_back(cluster, namespace) in BLOCKED
    wait_for(
        lambda: (demo.front_answer() or {}).get("stalled") is True,
        timeout=30,
        what="front answering stalled while middle cannot reach back",
    )
    cluster.kubectl("delete", "networkchaos", "cut", "-n", namespace, "--timeout=60s", timeout=90)
    wait_for(
        lambda: fresh_connection_to_back(cluster, namespace) == "connected",
        timeout=30,
        what="middle reaching back again once the NetworkChaos is deleted",
    )
    wait_for(demo.healthy, timeout=60, what="the chain healing")


def fresh_connection_to_back(cluster: Cluster, namespace: str) -> str:
    """Open a new connection from middle's pod to back's pod: connected, refused or timeout."""
    (back,) = cluster.get_json("pods", "-n", namespace, "-l", "app.kubernetes.io/name=back")[
        "items"
    ]
    return connection_from_middle(cluster, namespace, back["status"]["podIP"])
