"""Faults in ripple itself: nothing is lost, nothing is left behind.

The operator's pod, a runner's pod and a scenario are each deleted while a run is underway.
(The API server restart lives in test_survives_apiserver_restart.py, run last.)
"""

from __future__ import annotations

import re
import time

from ripple_contract.names import FINALIZER
from tests.e2e.product import (
    QUICK,
    Product,
    activity_statuses,
    is_ready,
    scenario_manifest,
)
from tests.support.poll import wait_for

NETWORK_POLICY = "ripple-back-denies-ingress"
GRACE_SECONDS = 60
"""The chart's runner.terminationGraceSeconds (tests/e2e/data/values.yaml)."""


def running_runner(product: Product, scenario: str) -> str:
    """Wait for the run's pod to be running its runner; return the pod's name."""

    def pod() -> str | None:
        pods = [p for p in product.runner_pods(scenario) if is_ready(p)]
        return pods[0]["metadata"]["name"] if pods else None

    return wait_for(pod, timeout=180, interval=0.5, what=f"a running pod of {scenario}")


def netpol_scenario(product: Product, name: str, *, fault_seconds: int) -> None:
    """Start the network-policy scenario and wait until its NetworkPolicy is in place."""
    product.wait_steady()
    product.apply(
        scenario_manifest(
            name,
            experiment="middle-loses-network-to-back",
            configuration={**QUICK, "fault_seconds": fault_seconds},
        )
    )
    wait_for(
        lambda: NETWORK_POLICY in product.names("networkpolicies"),
        timeout=180,
        interval=0.5,
        what=f"NetworkPolicy {NETWORK_POLICY} (the method is underway)",
    )


def test_operator_pod_deleted_mid_run_the_result_still_reaches_the_status(
    product: Product,
) -> None:
    name = "fault-operator"
    product.wait_steady()
    product.apply(
        scenario_manifest(name, experiment="smoke", configuration={**QUICK, "observe_seconds": 25})
    )
    product.wait_phase(name, ["Running"], timeout=60)
    running_runner(product, name)
    old = product.operator_pod()["metadata"]["name"]
    started = time.monotonic()
    product.kubectl("delete", "pod", old, "-n", product.namespace, "--wait=false")
    new = wait_for(
        lambda: (pod := product.operator_pod())["metadata"]["name"] != old and pod,
        timeout=180,
        interval=1.0,
        what="a new ready operator pod",
    )
    print(f"new operator pod {new['metadata']['name']} ready {time.monotonic() - started:.1f}s")
    status = product.wait_run(name, run=1, timeout=300)
    print(f"result in the status {time.monotonic() - started:.1f}s after the deletion")
    assert status["phase"] == "Completed", status.get("message")
    assert status["verdict"] == "Pass", status.get("message")
    assert status["runs"] == 1
    assert [j["metadata"]["name"] for j in product.jobs(name)] == [f"{name}-1"], "one run only"
    product.delete_scenarios([name])


def test_runner_pod_deleted_mid_method_rolls_back_and_says_error(product: Product) -> None:
    name = "fault-runner"
    netpol_scenario(product, name, fault_seconds=120)
    pod = running_runner(product, name)
    with product.logs_on_failure(pod, "runner"):
        started = time.monotonic()
        product.kubectl("delete", "pod", pod, "-n", product.namespace, "--wait=false")
        wait_for(
            lambda: NETWORK_POLICY not in product.names("networkpolicies"),
            timeout=GRACE_SECONDS + 30,
            interval=0.5,
            what="the rollback to delete the NetworkPolicy after SIGTERM",
        )
        print(f"NetworkPolicy rolled back {time.monotonic() - started:.1f}s after the deletion")
        status = product.wait_run(name, run=1, timeout=GRACE_SECONDS + 120)
        last = status["lastRun"]
        print(f"runner deleted: phase {status['phase']}, verdict {status['verdict']}: {last}")
        assert status["verdict"] == "Error", status.get("message")
        assert last["reason"] == "Interrupted", last
        assert status["phase"] in {"Completed", "Error"}
        reason = f"{status.get('message', '')} {last.get('message', '')}"
        assert re.search(r"SIGTERM|interrupted", reason), reason
        assert last.get("status") == "interrupted", last
        rollbacks = activity_statuses(last.get("rollbacks"))
        assert rollbacks == {"allow-ingress-to-back-again": "succeeded"}, last
    print(f"steady again after {product.wait_steady():.1f}s")
    product.delete_scenarios([name])


def test_scenario_deleted_mid_run_leaves_nothing_within_the_grace_period(
    product: Product,
) -> None:
    name = "fault-delete"
    netpol_scenario(product, name, fault_seconds=180)
    running_runner(product, name)
    started = time.monotonic()
    product.kubectl("delete", "chaosscenario", name, "-n", product.namespace, "--wait=false")
    held = product.scenario(name)
    assert held is not None, "the finalizer holds the scenario while its run rolls back"
    assert held["metadata"].get("deletionTimestamp")
    assert FINALIZER in held["metadata"].get("finalizers", [])
    wait_for(
        lambda: product.scenario(name) is None,
        timeout=GRACE_SECONDS + 30,
        interval=0.5,
        what=f"{name} to be gone (finalizer released)",
    )
    elapsed = time.monotonic() - started
    print(f"scenario gone {elapsed:.1f}s after kubectl delete")
    assert elapsed < GRACE_SECONDS + 30
    assert NETWORK_POLICY not in product.names("networkpolicies"), "the fault outlived its run"
    assert product.jobs(name) == [], "the Job went before the finalizer let go"

    def nothing_left() -> bool:
        pods = product.runner_pods(name)
        configmaps = product.names("configmaps", selector=f"ripple.dev/scenario={name}")
        return not pods and not configmaps

    wait_for(nothing_left, timeout=60, interval=1.0, what=f"{name}'s pods and ConfigMaps gone")
    print(f"steady again after {product.wait_steady():.1f}s")
