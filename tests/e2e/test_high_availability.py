"""Two operator replicas: one leads by the Lease, the standby takes over when the leader is
SIGKILLed mid-run (from this machine, the node), the run starts once and is recorded once.
Both replicas serve metrics and pages meanwhile; ``ripple_leader`` tells them apart.

The release goes back to one replica at the end, as the other tests expect.
"""

from __future__ import annotations

import json
import os
import re
import signal
import time
from collections.abc import Iterator
from typing import Any

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
SERVED_PROBE = (
    "import json, urllib.request\n"
    "out = {}\n"
    "for key, url in (('metrics', 'http://127.0.0.1:9090/metrics'),\n"
    "                 ('pages', 'http://127.0.0.1:8090/')):\n"
    "    with urllib.request.urlopen(url, timeout=5) as r:\n"
    "        out[key] = [r.status, r.read().decode()]\n"
    "print(json.dumps(out))\n"
)
LEADER_GAUGE = re.compile(r"^ripple_leader ([0-9.]+)$", re.MULTILINE)


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
        templates = {p["metadata"].get("labels", {}).get("pod-template-hash") for p in pods}
        # One ReplicaSet's pods only: a rollout's old pod may still be ready, then go.
        return len(pods) == count and len(templates) == 1 and all(is_ready(p) for p in pods)

    wait_for(settled, timeout=180, interval=1.0, what=f"{count} operator pods ready")


def live_pods(product: Product) -> dict[str, Any]:
    """The operator's pods that are not stopping, by name."""
    return {
        p["metadata"]["name"]: p
        for p in product.items("pods", selector=OPERATOR_SELECTOR)
        if not p["metadata"].get("deletionTimestamp")
    }


def served(product: Product, pod: str) -> tuple[float | None, int, str]:
    """What one operator pod answers itself: its ``ripple_leader``, its pages' code and body."""
    done = product.kubectl(
        "exec", "-n", product.namespace, pod, "-c", "operator", "--",
        "python3", "-c", SERVED_PROBE, timeout=30, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        return None, 0, done.stderr
    answers = json.loads(done.stdout.strip().splitlines()[-1])
    gauge = LEADER_GAUGE.search(answers["metrics"][1])
    return (float(gauge.group(1)) if gauge else None), answers["pages"][0], answers["pages"][1]


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
    def live_leader() -> tuple[str, dict[str, Any]] | None:
        # Two replicas turn leader election on in the pod template: a rollout, whose old pod may
        # still hold the Lease while it stops. Wait for a leader among the two that stay.
        held = holder(product)
        pods = live_pods(product)
        return (held, pods) if len(pods) == 2 and held.rsplit("_", 1)[0] in pods else None

    leader_id, pods = wait_for(live_leader, timeout=90, what="a leader among the live replicas")
    leader = leader_id.rsplit("_", 1)[0]  # the Lease names the process: <pod>_<random>
    name = "ha-takeover"
    product.apply(
        scenario_manifest(name, experiment="smoke", configuration={**QUICK, "observe_seconds": 30})
    )
    product.wait_phase(name, ("Running",), timeout=120)

    def both_serve() -> dict[str, tuple[float | None, int, str]]:
        live = [name for name, pod in live_pods(product).items() if is_ready(pod)]
        assert sorted(live) == sorted(pods), (live, list(pods))
        answers = {pod: served(product, pod) for pod in live}
        short = {pod: (gauge, code, page[:300]) for pod, (gauge, code, page) in answers.items()}
        assert all(code == 200 and name in page for _, code, page in answers.values()), short
        return answers

    answers = wait_for(both_serve, timeout=60, interval=1.0, what="pages on both replicas")
    assert {pod: gauge for pod, (gauge, _, _) in answers.items()} == {
        pod: (1.0 if pod == leader else 0.0) for pod in answers
    }, holder(product)
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
