"""The built-in Kubernetes experiments against the demo services in the real local cluster.

One middle replica, as in the original demo: deleting it or cutting it off from back
must ripple up to front's users, and the journal must say so with the errors counted.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.cluster.experiments_support import (
    Demo,
    Run,
    deploy_demo,
    load_args,
    load_image,
    probe_output,
    start_run,
    vegeta_path,
)
from tests.support.cluster import Cluster, KubectlError, namespace_name
from tests.support.poll import wait_for

pytestmark = pytest.mark.cluster

LOAD = "load-responses-carry-no-error"
POLICY = "ripple-back-denies-ingress"


@pytest.fixture(scope="module")
def vegeta() -> str:
    return vegeta_path()


@pytest.fixture(scope="module")
def image(cluster: Cluster) -> None:
    load_image(cluster)


@pytest.fixture
def demo(cluster: Cluster, namespace: str, image: None) -> Demo:
    return deploy_demo(cluster, namespace)


def test_middle_restart_with_one_replica_deviates(
    demo: Demo, cluster: Cluster, vegeta: str, tmp_path: Path
) -> None:
    before = demo.pod_names("middle")
    assert len(before) == 1
    run = start_run(
        cluster,
        tmp_path,
        "middle-service-restarts",
        *load_args(demo, tmp_path, window_seconds=30),
        vegeta=vegeta,
    )
    assert run.wait() == 0, run.log_text()
    journal = run.journal()
    assert (journal["status"], journal["deviated"]) == ("completed", True), run.log_text()
    terminate, wait = journal["run"]
    assert terminate["output"] == before, "the one middle pod was deleted"
    assert wait["status"] == "succeeded"
    assert wait["output"]["ready_pods"] != before, "a new middle pod is serving"
    after = probe_output(journal, "after", LOAD)
    assert after["failures"] > 0
    assert after["error_bodies"] > 0
    assert run.summary() == {"status": "completed", "deviated": True, "verdict": "Fail"}


@dataclass
class PolicyRun:
    """One run of middle-loses-network-to-back, observed from outside."""

    demo: Demo
    run: Run
    policy_seen: dict[str, Any]
    fresh_connection: str
    left_after: str


@pytest.fixture(scope="module")
def policy_run(
    cluster: Cluster, image: None, vegeta: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PolicyRun]:
    """Run the experiment once in its own namespace; two tests read what happened."""
    namespace = namespace_name("network-policy-experiment")
    cluster.kubectl("create", "namespace", namespace)
    cluster.kubectl("label", "namespace", namespace, "ripple.dev/test=true")
    try:
        demo = deploy_demo(cluster, namespace)
        tmp_path = tmp_path_factory.mktemp("policy")
        run = start_run(
            cluster,
            tmp_path,
            "middle-loses-network-to-back",
            *load_args(demo, tmp_path, fault_seconds=10, window_seconds=10),
            vegeta=vegeta,
        )
        seen: dict[str, Any] = wait_for(
            lambda: cluster.get_json("networkpolicy", POLICY, "-n", namespace),
            timeout=60,
            what="the NetworkPolicy during the method",
        )
        fresh = wait_for(
            lambda: (lambda out: out if "refused" in out else None)(
                fresh_connection_to_back(cluster, namespace)
            ),
            timeout=20,
            what="the CNI refusing new connections to back",
        )
        assert run.wait() == 0, run.log_text()
        left = cluster.kubectl("get", "networkpolicy", POLICY, "-n", namespace, check=False)
        yield PolicyRun(
            demo=demo, run=run, policy_seen=seen, fresh_connection=fresh, left_after=left.stderr
        )
    finally:
        cluster.kubectl("delete", "namespace", namespace, "--wait=false", check=False)


def test_network_policy_cuts_back_off_and_the_rollback_removes_it(policy_run: PolicyRun) -> None:
    spec = policy_run.policy_seen["spec"]
    assert spec["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "back"}}
    assert spec["policyTypes"] == ["Ingress"]
    assert spec.get("ingress", []) == []
    assert "refused" in policy_run.fresh_connection, "the CNI enforces it on new connections"
    journal = policy_run.run.journal()
    assert journal["status"] == "completed"
    assert [r["status"] for r in journal["rollbacks"]] == ["succeeded"]
    assert "NotFound" in policy_run.left_after, "no NetworkPolicy outlives the run"
    wait_for(policy_run.demo.healthy, timeout=60, what="the chain healthy without the policy")


@pytest.mark.xfail(
    strict=False,
    reason="kube-router (like most CNIs) only filters new connections, and middle reuses a "
    "keep-alive connection to back (services/upstream.py: TCPConnector keepalive_timeout=15), "
    "so under steady load the policy bites only when that connection happens to be replaced: "
    "measured 1 deviation in 3 runs at 5 req/s, 2 in 3 at 50 req/s. Make this a plain test "
    "once middle opens a connection per upstream call (TCPConnector(force_close=True)).",
)
def test_network_policy_with_one_middle_replica_deviates(policy_run: PolicyRun) -> None:
    journal = policy_run.run.journal()
    after = probe_output(journal, "after", LOAD)
    assert journal["deviated"] is True, json.dumps(after)
    assert after["failures"] > 0
    assert any("back" in message for message in after["sample_errors"]), after


def fresh_connection_to_back(cluster: Cluster, namespace: str) -> str:
    """Open a new connection from middle's pod to back and say what happened."""
    code = (
        "import urllib.request\n"
        "try:\n"
        "    urllib.request.urlopen('http://back:8080/', timeout=2)\n"
        "    print('connected')\n"
        "except Exception as exc:\n"
        "    print(exc)\n"
    )
    done = cluster.kubectl(
        "exec", "-n", namespace, "deploy/middle", "--", "python", "-c", code, check=False
    )
    return done.stdout + done.stderr


def test_latency_creates_and_removes_networkchaos_object_no_netem_here(
    demo: Demo, cluster: Cluster, vegeta: str, tmp_path: Path
) -> None:
    # No Chaos Mesh daemon could delay packets on these kernels (no netem): this proves
    # the NetworkChaos object chaosk8s creates passes Chaos Mesh's own CRD schema with
    # the right spec, and that the rollback deletes it. It cannot prove the delay.
    name = "ripple-middle-latency"
    run = start_run(
        cluster,
        tmp_path,
        "middle-service-has-latency",
        *load_args(demo, tmp_path, fault_seconds=10),
        vegeta=vegeta,
    )
    chaos: dict[str, Any] = wait_for(
        lambda: cluster.get_json("networkchaos", name, "-n", demo.namespace),
        timeout=60,
        what="the NetworkChaos object during the method",
    )
    spec = chaos["spec"]
    assert spec["action"] == "delay"
    assert spec["delay"]["latency"] == "1500ms"
    assert spec["mode"] == "all"
    assert spec["direction"] == "to"
    assert spec["selector"]["namespaces"] == [demo.namespace]
    assert spec["selector"]["labelSelectors"] == {"app.kubernetes.io/name": "middle"}
    assert "target" not in spec, "all of middle's egress, not one random target"
    assert run.wait() == 0, run.log_text()
    journal = run.journal()
    assert journal["status"] == "completed"
    assert [r["activity"]["name"] for r in journal["rollbacks"]] == ["remove-latency-from-middle"]
    assert [r["status"] for r in journal["rollbacks"]] == ["succeeded"]
    with pytest.raises(KubectlError, match="NotFound"):
        cluster.kubectl("get", "networkchaos", name, "-n", demo.namespace)
