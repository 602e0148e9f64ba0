"""The story a user lives through: three built-in scenarios, a fix, and the table that tells it.

One middle replica first: the restart and network-policy scenarios make the steady state
deviate (front's users see stalled answers and error messages), each fault proven in
effect first. The latency scenario's NetworkChaos object is created, reconciled by the
cluster's Chaos Mesh and removed, but these kernels have no netem, so Chaos Mesh cannot
delay a packet and says so: the run ends Error, FaultNotInEffect with Chaos Mesh's reason,
never Pass. Then ``helm upgrade --set demo.resilient=true`` and
the restart scenario passes.
The tests run in file order and build on each other.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.product import (
    CHART,
    DEMO,
    NAMESPACE,
    QUICK,
    RELEASE,
    Product,
    activity_statuses,
    parse_table,
    scenario_manifest,
)
from tests.support.poll import wait_for
from tests.support.runner import probe_output

LATENCY = "story-latency"
RESTART = "story-restart"
NETPOL = "story-netpol"
NETWORK_CHAOS = "ripple-middle-latency"
NETWORK_POLICY = "ripple-back-denies-ingress"
FAULT_SECONDS = 12
RUN_TIMEOUT = 300
AGE = re.compile(r"^\d+(\.\d+)?[smhd](\d+[smh])?$")


def upgrade(product: Product, resilient: bool) -> None:
    """``helm upgrade --reuse-values --set demo.resilient=...`` and wait for the rollout."""
    product.helm(
        "upgrade",
        RELEASE,
        str(CHART),
        "-n",
        NAMESPACE,
        "--reuse-values",
        "--set",
        f"demo.resilient={str(resilient).lower()}",
        "--wait",
        "--timeout",
        "5m",
    )
    product.rollout(*DEMO)


@pytest.fixture(scope="module")
def story(product: Product) -> Iterator[Product]:
    """The release with one middle replica (whatever ran before), scenarios removed after."""
    upgrade(product, resilient=False)
    product.wait_steady(timeout=90)
    yield product
    product.delete_scenarios([LATENCY, RESTART, NETPOL])


def load_failures(journal: dict[str, Any]) -> dict[str, Any]:
    """The load's counts in the steady state checked after the method."""
    return probe_output(journal, "after", "load-responses-carry-no-error")


def test_latency_on_a_kernel_without_netem_is_error_fault_not_in_effect(
    story: Product,
) -> None:
    story.apply(
        scenario_manifest(
            LATENCY,
            experiment="middle-service-has-latency",
            configuration={**QUICK, "fault_seconds": FAULT_SECONDS, "fault_check_seconds": 5},
        )
    )
    chaos = wait_for(
        lambda: (
            NETWORK_CHAOS in story.names("networkchaos")
            and story.get("networkchaos", NETWORK_CHAOS)
        ),
        timeout=180,
        interval=0.5,
        what=f"NetworkChaos {NETWORK_CHAOS} while the run is underway",
    )
    assert chaos["spec"]["action"] == "delay"
    assert chaos["spec"]["delay"]["latency"] == "1500ms"
    assert "middle" in json.dumps(chaos["spec"]["selector"]), chaos["spec"]["selector"]
    assert_fault_labels(chaos, LATENCY, run=1)
    status = story.wait_run(LATENCY, run=1, timeout=RUN_TIMEOUT)
    last = status["lastRun"]
    print(f"latency scenario: {status['verdict']} {last.get('reason')}: {last.get('message')}")
    assert status["verdict"] == "Error", last.get("message")
    assert last["reason"] == "FaultNotInEffect", last.get("message")
    assert "Chaos Mesh says" in last["message"], "Chaos Mesh's own reason"
    (fault,) = last["fault"]
    assert (fault["kind"], fault["inEffect"]) == ("NetworkChaos", False), fault
    assert "confirmedAt" not in fault
    assert "Chaos Mesh says" in fault["evidence"]
    assert activity_statuses(last["rollbacks"]) == {"remove-latency-from-middle": "succeeded"}
    if NETWORK_CHAOS in story.names("networkchaos"):
        # Deleted by the rollback; Chaos Mesh's finalizer keeps it until middle's pod goes
        # (it recovers a pod only after applying to it, which these kernels never allow).
        assert story.get("networkchaos", NETWORK_CHAOS)["metadata"].get("deletionTimestamp")
    steady = next(c for c in status["conditions"] if c["type"] == "SteadyStateHeld")
    assert (steady["status"], steady["reason"]) == ("Unknown", "FaultNotInEffect")
    print(f"steady again after {story.wait_steady():.1f}s")


def assert_fault_labels(fault: dict[str, Any], scenario: str, *, run: int) -> None:
    """A fault object says whose it is, so the operator's sweep can find it after a crash."""
    labels = fault["metadata"].get("labels") or {}
    assert labels.get("app.kubernetes.io/managed-by") == "ripple", labels
    assert labels.get("ripple.dev/scenario") == scenario, labels
    assert labels.get("ripple.dev/run") == str(run), labels


def assert_fault_window(fault: dict[str, Any]) -> None:
    """In effect, with the proof, injected <= confirmed <= removed."""
    assert fault["inEffect"] is True, fault
    times = [fault["injectedAt"], fault["confirmedAt"], fault["removedAt"]]
    assert times == sorted(times), fault
    assert fault["evidence"], fault


def test_restart_with_one_middle_replica_deviates(story: Product) -> None:
    story.wait_steady()
    story.apply(
        scenario_manifest(
            RESTART,
            experiment="middle-service-restarts",
            configuration={**QUICK, "restart_timeout_seconds": 120},
        )
    )
    status = story.wait_run(RESTART, run=1, timeout=RUN_TIMEOUT)
    assert status["phase"] == "Completed", status.get("message")
    assert (status["verdict"], status["deviated"]) == ("Fail", True), status.get("message")
    assert status["lastRun"]["reason"] == "Deviated"
    (fault,) = status["lastRun"]["fault"]
    print(f"restart fault: {fault}")
    assert fault["kind"] == "PodRestart"
    assert_fault_window(fault)
    assert re.match(r"^pod middle-\S+ replaced by middle-\S+$", fault["evidence"]), fault
    assert status["lastRun"]["steadyStateBefore"]["met"] is True
    assert status["lastRun"]["steadyStateAfter"]["met"] is False
    counts = load_failures(story.journal(RESTART, 1))
    print(f"restart, one replica: load after the method: {counts}")
    assert counts["failures"] > 0
    assert counts["error_bodies"] + counts["stalled_bodies"] > 0, "front's users saw it"
    print(f"steady again after {story.wait_steady():.1f}s")


def test_network_policy_cut_deviates_and_is_rolled_back(story: Product) -> None:
    story.wait_steady()
    story.apply(
        scenario_manifest(
            NETPOL,
            experiment="middle-loses-network-to-back",
            configuration={**QUICK, "fault_seconds": FAULT_SECONDS},
        )
    )
    policy = wait_for(
        lambda: (
            NETWORK_POLICY in story.names("networkpolicies")
            and story.get("networkpolicy", NETWORK_POLICY)
        ),
        timeout=180,
        interval=0.5,
        what=f"NetworkPolicy {NETWORK_POLICY} while the run is underway",
    )
    assert policy["spec"]["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": "back"}
    assert_fault_labels(policy, NETPOL, run=1)
    status = story.wait_run(NETPOL, run=1, timeout=RUN_TIMEOUT)
    assert status["phase"] == "Completed", status.get("message")
    assert (status["verdict"], status["deviated"]) == ("Fail", True), status.get("message")
    assert status["lastRun"]["reason"] == "Deviated"
    (fault,) = status["lastRun"]["fault"]
    print(f"network policy fault: {fault}")
    assert fault["kind"] == "NetworkPolicy"
    assert_fault_window(fault)
    assert re.match(r"^a new connection to back:8080 (was refused|timed out)", fault["evidence"])
    counts = load_failures(story.journal(NETPOL, 1))
    print(f"network policy: load after the method: {counts}")
    assert counts["failures"] > 0
    assert counts["error_bodies"] + counts["stalled_bodies"] > 0, "front's users saw it"
    assert activity_statuses(status["lastRun"]["rollbacks"]) == {
        "allow-ingress-to-back-again": "succeeded"
    }
    assert NETWORK_POLICY not in story.names("networkpolicies"), "the rollback deletes it"
    print(f"steady again after {story.wait_steady():.1f}s")


def test_resilient_middle_passes_the_restart_scenario(story: Product) -> None:
    upgrade(story, resilient=True)
    middle = story.get("deployment", "middle")
    assert middle["status"].get("readyReplicas") == 2
    assert "middle" in story.names("poddisruptionbudgets")
    story.wait_steady()
    story.rerun(RESTART)
    status = story.wait_run(RESTART, run=2, timeout=RUN_TIMEOUT)
    counts = load_failures(story.journal(RESTART, 2))
    print(f"restart, resilient: load after the method: {counts}")
    assert status["phase"] == "Completed", status.get("message")
    assert (status["verdict"], status["deviated"]) == ("Pass", False), status.get("message")
    assert status["lastRun"]["reason"] == "Steady"
    assert "replaced by" in status["lastRun"]["message"], "a Pass names its evidence"
    assert counts["failures"] == 0
    history = [(h["id"], h["verdict"], h["reason"]) for h in status["history"]]
    assert history == [("2", "Pass", "Steady"), ("1", "Fail", "Deviated")]
    assert [len(h["fault"]) for h in status["history"]] == [1, 1], "history keeps the window"
    print(f"steady again after {story.wait_steady():.1f}s")


def test_get_chaosscenarios_columns_tell_the_story(story: Product) -> None:
    table = story.table()
    print("\n" + story.kubectl("get", "chaosscenarios", "-n", NAMESPACE).stdout)
    expected = {
        LATENCY: ("middle-service-has-latency", "1"),
        RESTART: ("middle-service-restarts", "2"),
        NETPOL: ("middle-loses-network-to-back", "1"),
    }
    for name, (experiment, runs) in expected.items():
        row = table[name]
        status = story.status(name)
        assert row["EXPERIMENT"] == experiment
        assert row["PHASE"] == "Completed"
        assert row["VERDICT"] == status["verdict"]
        assert row["DEVIATED"] == str(status["deviated"]).lower()
        assert row["RUNS"] == runs
        assert AGE.match(row["LAST RUN"]), row
        assert row["DURATION"] == status["lastRun"]["duration"]
        assert re.match(r"^\d+(\.\d)?s$|^\d+m\d\ds$", row["DURATION"]), row
        assert AGE.match(row["AGE"]), row
    assert (table[RESTART]["VERDICT"], table[RESTART]["DEVIATED"]) == ("Pass", "false")
    assert (table[NETPOL]["VERDICT"], table[NETPOL]["DEVIATED"]) == ("Fail", "true")
    assert table[LATENCY]["VERDICT"] == "Error"
    assert "REASON" not in table[LATENCY], "REASON is a wide column"
    wide = parse_table(story.kubectl("get", "chaosscenarios", "-n", NAMESPACE, "-o", "wide").stdout)
    print("\n" + story.kubectl("get", "chaosscenarios", "-n", NAMESPACE, "-o", "wide").stdout)
    assert {name: row["REASON"] for name, row in wide.items() if name in expected} == {
        LATENCY: "FaultNotInEffect",
        RESTART: "Steady",
        NETPOL: "Deviated",
    }
