"""Two operator replicas: one leads by the Lease, the standby takes over when the leader is
SIGKILLed mid-run (from this machine, the node), the run starts once and is recorded once.

The release goes back to one replica at the end, as the other tests expect.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import pytest

from tests.e2e.product import (
    CHART,
    OPERATOR,
    OPERATOR_SELECTOR,
    QUICK,
    RELEASE,
    Product,
    container_pids,
    is_ready,
    scenario_manifest,
)
from tests.support.poll import wait_for

LEASE = f"{OPERATOR}-leader"
TAKEOVER_SECONDS = 15


def holder(product: Product) -> str:
    done = product.kubectl(
        "get", "lease", LEASE, "-n", product.namespace,
        "-o", "jsonpath={.spec.holderIdentity}", check=False,
    )  # fmt: skip
    return done.stdout.strip() if done.returncode == 0 else ""


def replicas(product: Product, count: int) -> None:
    product.helm(
        "upgrade", RELEASE, str(CHART), "-n", product.namespace, "--reuse-values",
        "--set", f"operator.replicas={count}", "--wait", "--timeout", "4m",
    )  # fmt: skip
    product.rollout(OPERATOR)

    def settled() -> bool:
        pods = [
            p
            for p in product.items("pods", selector=OPERATOR_SELECTOR)
            if not p["metadata"].get("deletionTimestamp")
        ]
        return len(pods) == count and all(is_ready(p) for p in pods)

    wait_for(settled, timeout=180, interval=1.0, what=f"{count} operator pods ready")


@pytest.fixture
def two_replicas(product: Product) -> Iterator[None]:
    replicas(product, 2)
    try:
        yield
    finally:
        replicas(product, 1)


def test_the_standby_takes_over_a_killed_leader_mid_run(
    product: Product, two_replicas: None
) -> None:
    leader_id = wait_for(lambda: holder(product) or None, timeout=60, what="a leader")
    leader = leader_id.rsplit("_", 1)[0]  # the Lease names the process: <pod>_<random>
    pods = {p["metadata"]["name"]: p for p in product.items("pods", selector=OPERATOR_SELECTOR)}
    assert leader in pods, (leader_id, list(pods))
    name = "ha-takeover"
    product.apply(
        scenario_manifest(name, experiment="smoke", configuration={**QUICK, "observe_seconds": 30})
    )
    product.wait_phase(name, ("Running",), timeout=120)
    (operator,) = [
        c for c in pods[leader]["status"]["containerStatuses"] if c["name"] == "operator"
    ]
    pids = container_pids(operator["containerID"])
    assert pids, f"no process of the leader's container {operator['containerID']} on this node"
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    killed = time.monotonic()
    # The standby, or the killed leader's container restarted by the kubelet (a new
    # process, so a new candidate): whichever looks first once the Lease has expired.
    new_leader = wait_for(
        lambda: (h := holder(product)) and h != leader_id and h,
        timeout=TAKEOVER_SECONDS + 15,
        interval=0.2,
        what="another replica holding the Lease",
    )
    takeover = time.monotonic() - killed
    print(f"\n{new_leader} took over {takeover:.1f}s after the leader {leader_id} was SIGKILLed")
    assert takeover <= TAKEOVER_SECONDS
    status = product.wait_run(name, run=1, timeout=240)
    assert status["runs"] == 1, status
    assert [h["id"] for h in status["history"]] == ["1"]
    assert status["verdict"] == "Pass", status.get("message")
    assert [j["metadata"]["name"] for j in product.jobs(name)] == [f"{name}-1"]
    for reason in ("RunStarted", "RunFinished"):
        selector = f"involvedObject.name={name},reason={reason}"
        events = product.get("events", "--field-selector", selector)["items"]
        assert sum(int(e.get("count") or 1) for e in events) == 1, (reason, events)
