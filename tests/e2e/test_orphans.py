"""A runner killed before it could roll back: the operator's sweep removes the fault it left.

SIGKILL comes from this machine (the local cluster's node), to the runner's processes by
their host PIDs: from inside the container, ``kill -9 1`` does nothing (the kernel ignores a
signal to a PID namespace's init that it has no handler for, and SIGKILL can have none), and
deleting the pod with ``gracePeriodSeconds=0`` still sends SIGTERM first (the kubelet gives
the containers a couple of seconds), in which the runner rolls back.
"""

from __future__ import annotations

import os
import signal
import time
from datetime import UTC, datetime

from tests.e2e.product import Product, container_pids, is_ready
from tests.e2e.test_faults import NETWORK_POLICY, netpol_scenario, running_runner
from tests.support.metrics import metric
from tests.support.poll import wait_for

SWEEP_SECONDS = 10
"""operator.sweepSeconds in tests/e2e/data/values.yaml."""
GRACE_SECONDS = 30
"""The operator's default: a fault this young whose Job is unknown is left alone."""
SLACK_SECONDS = 15
"""The pod's garbage collection after the Job goes, and the watch events' delay."""
REASON = "OrphanedFaultRemoved"


def removed_so_far(product: Product) -> float:
    text = product.operator_metrics()
    kind = {"namespace": product.namespace, "kind": "NetworkPolicy"}
    return metric(text, "ripple_orphaned_faults_removed_total", **kind) or 0.0


def test_runner_killed_mid_method_leaves_a_fault_that_the_sweep_removes(
    product: Product,
) -> None:
    name = "orphan-sigkill"
    before = removed_so_far(product)
    netpol_scenario(product, name, fault_seconds=300)
    pod_name = running_runner(product, name)
    (pod,) = [p for p in product.runner_pods(name) if p["metadata"]["name"] == pod_name]
    assert is_ready(pod)
    (runner,) = [c for c in pod["status"]["containerStatuses"] if c["name"] == "runner"]
    pids = container_pids(runner["containerID"])
    assert pids, f"no process of the runner container {runner['containerID']} on this node"
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    job = f"{name}-1"
    product.kubectl("delete", "job", job, "-n", product.namespace, "--wait=false")
    deleted = time.monotonic()
    (policy,) = [
        p for p in product.items("networkpolicies") if p["metadata"]["name"] == NETWORK_POLICY
    ]
    created = datetime.fromisoformat(policy["metadata"]["creationTimestamp"].replace("Z", "+00:00"))
    age = (datetime.now(UTC) - created).total_seconds()
    assert policy["metadata"]["labels"]["ripple.dev/run"] == "1"
    wait_for(
        lambda: NETWORK_POLICY not in product.names("networkpolicies"),
        timeout=SWEEP_SECONDS + GRACE_SECONDS + SLACK_SECONDS,
        interval=0.5,
        what="the sweep to delete the NetworkPolicy the killed runner left",
    )
    latency = time.monotonic() - deleted
    print(
        f"NetworkPolicy swept {latency:.1f}s after its Job was deleted"
        f" (it was {age:.0f}s old; sweep every {SWEEP_SECONDS}s)"
    )
    # the operator saw the Job before it went: no grace for a young fault, one period at most
    assert latency <= SWEEP_SECONDS + SLACK_SECONDS
    # the runner never rolled back: it stored no journal, and its run ends in Error
    status = product.wait_run(name, run=1, timeout=120)
    assert status["verdict"] == "Error", status.get("message")
    assert f"{name}-1-journal" not in product.names("configmaps"), "the runner got to its end"
    selector = f"involvedObject.name={name},reason={REASON}"
    (event,) = product.get("events", "--field-selector", selector)["items"]
    assert event["type"] == "Warning"
    assert f"NetworkPolicy {product.namespace}/{NETWORK_POLICY} of run 1" in event["message"]
    assert f"its run's Job {job}" in event["message"]
    wait_for(
        lambda: removed_so_far(product) == before + 1,
        timeout=30,
        what="ripple_orphaned_faults_removed_total to count it",
    )
    product.wait_steady()
    product.delete_scenarios([name])
