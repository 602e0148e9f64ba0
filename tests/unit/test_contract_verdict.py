"""judge(): no Pass without evidence, and a reason for every verdict."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ripple_contract.faults import fault_records
from ripple_contract.verdict import IN_EFFECT_MODULE, PREFLIGHT_MODULE, Reason, Verdict, judge
from ripple_experiments.extension.in_effect import chaos_mesh_injected

T0, T1, T2, T3 = (f"2026-12-02T10:00:0{i}+00:00" for i in range(4))


def entry(
    name: str,
    *,
    kind: str = "probe",
    module: str = "",
    func: str = "f",
    status: str = "succeeded",
    output: Any = True,
    error: str | None = None,
    start: str = T0,
    end: str = T1,
) -> dict[str, Any]:
    provider = {"type": "python", "module": module, "func": func, "arguments": {"name": "x"}}
    run: dict[str, Any] = {
        "activity": {"type": kind, "name": name, "provider": provider},
        "status": status,
        "output": output,
        "start": start,
        "end": end,
    }
    if error:
        run["exception"] = ["Traceback (most recent call last):\n", f"{error}\n"]
        run["output"] = None
    return run


def journal(
    *,
    before: list[dict[str, Any]] | None = None,
    run: list[dict[str, Any]] | None = None,
    after_met: bool | None = True,
    status: str = "completed",
    **extra: Any,
) -> dict[str, Any]:
    before = before if before is not None else [entry("front-answers-200", output=200)]
    met = all(p["status"] == "succeeded" for p in before)
    after = None if after_met is None else {"steady_state_met": after_met, "probes": []}
    return {
        "status": status,
        "deviated": after_met is False,
        "steady_states": {"before": {"steady_state_met": met, "probes": before}, "after": after},
        "run": run or [],
        "rollbacks": [entry("undo", kind="action", start=T2, end=T3)],
        **extra,
    }


def test_a_run_that_held_with_its_fault_proven_passes_and_names_the_evidence() -> None:
    proof = entry("blocked", module=IN_EFFECT_MODULE, output={"evidence": "connection refused"})
    judged = judge(journal(run=[entry("cut", kind="action"), proof]))
    assert (judged.verdict, judged.reason) == (Verdict.PASS, Reason.STEADY)
    assert judged.message == "the steady state held; fault in effect: connection refused"


def test_a_fault_not_in_effect_is_error_even_when_the_steady_state_held() -> None:
    check = entry(
        "chaos-mesh-injected",
        module=IN_EFFECT_MODULE,
        status="failed",
        error="chaoslib.exceptions.ActivityFailed: chaoslib.exceptions.ActivityFailed: "
        "Chaos Mesh did not inject it: no status",
    )
    judged = judge(journal(run=[entry("add", kind="action"), check], after_met=True))
    assert (judged.verdict, judged.reason) == (Verdict.ERROR, Reason.FAULT_NOT_IN_EFFECT)
    assert judged.message.startswith(
        "fault not in effect: chaos-mesh-injected: Chaos Mesh did not inject it: no status;"
    ), "chaoslib's wrapping of the exception type is not the user's business"
    assert "rollbacks played: 1" in judged.message


def test_a_fault_not_in_effect_outranks_a_deviation() -> None:
    check = entry("proof", module=IN_EFFECT_MODULE, status="failed", error="x.Y: not blocked")
    assert judge(journal(run=[check], after_met=False)).reason is Reason.FAULT_NOT_IN_EFFECT


def test_a_failed_preflight_is_error_before_anything_was_injected() -> None:
    preflight = entry(
        "preflight-runner-may-add-network-policies",
        module=PREFLIGHT_MODULE,
        status="failed",
        error="chaoslib.exceptions.ActivityFailed: the runner's service account may not create "
        "networkpolicies.networking.k8s.io in namespace demo",
    )
    judged = judge(journal(before=[preflight], after_met=None))
    assert (judged.verdict, judged.reason) == (Verdict.ERROR, Reason.PREFLIGHT_FAILED)
    assert "may not create networkpolicies.networking.k8s.io" in judged.message


def test_a_failed_method_action_is_error_activity_failed() -> None:
    forbidden = entry(
        "deny-ingress-to-back",
        kind="action",
        status="failed",
        error="kubernetes.client.exceptions.ApiException: (403)\nReason: Forbidden",
    )
    judged = judge(journal(run=[forbidden], after_met=True))
    assert (judged.verdict, judged.reason) == (Verdict.ERROR, Reason.ACTIVITY_FAILED)
    assert "deny-ingress-to-back" in judged.message
    assert "Forbidden" in judged.message


def test_a_probe_in_the_method_records_but_does_not_decide() -> None:
    failing_probe = entry("look", status="failed", error="ValueError: nothing to see")
    assert judge(journal(run=[failing_probe], after_met=True)).verdict is Verdict.PASS


def test_an_interrupt_chaoslib_calls_completed_is_error_interrupted() -> None:
    judged = judge(journal(after_met=True, ripple_interrupted="SIGTERM"))
    assert (judged.verdict, judged.reason) == (Verdict.ERROR, Reason.INTERRUPTED)
    assert judged.message == "interrupted by SIGTERM; rollbacks played: 1"


def test_no_load_data_after_the_method_is_error_no_data() -> None:
    load = entry(
        "load-responses-carry-no-error",
        module="ripple_experiments.extension.load_results",
        output={"file_found": True, "responses": 1, "min_responses": 5, "window_seconds": 15},
    )
    load["tolerance_met"] = False
    j = journal(after_met=False)
    j["steady_states"]["after"]["probes"] = [load]
    judged = judge(j)
    assert (judged.verdict, judged.reason) == (Verdict.ERROR, Reason.NO_DATA)
    assert "1 responses in 15s, fewer than 5" in judged.message


def test_no_hypothesis_means_no_evidence() -> None:
    assert judge(journal(after_met=None)).reason is Reason.NO_DATA


@pytest.mark.parametrize("reason", list(Reason))
def test_every_reason_has_one_verdict(reason: Reason) -> None:
    expected = {Reason.STEADY: Verdict.PASS, Reason.DEVIATED: Verdict.FAIL}
    assert reason.verdict is expected.get(reason, Verdict.ERROR)


def test_the_fault_window_is_read_from_the_action_its_check_and_the_rollbacks() -> None:
    proof = entry(
        "blocked",
        module=IN_EFFECT_MODULE,
        func="network_policy_blocks",
        output={"evidence": "a new connection to back:8080 was refused", "confirmedAt": T1},
        start=T1,
        end=T2,
    )
    (fault,) = fault_records(journal(run=[entry("cut", kind="action", start=T0), proof]))
    assert fault == {
        "kind": "NetworkPolicy",
        "target": "x",
        "injectedAt": T0,
        "confirmedAt": T1,
        "removedAt": T3,
        "inEffect": True,
        "evidence": "a new connection to back:8080 was refused",
    }


CHAOS = {"metadata": {"name": "ripple-middle-latency"}, "spec": {"action": "delay"}}


def record(phase: str, *events: dict[str, str]) -> dict[str, Any]:
    return {"id": "demo/middle-1", "phase": phase, "events": list(events)}


@pytest.mark.parametrize(
    ("status", "evidence", "why"),
    [
        ({}, None, "no Chaos Mesh controller answered"),
        (
            {"conditions": [{"type": "Selected", "status": "False"}]},
            None,
            "Chaos Mesh selected no pod",
        ),
        (
            {
                "conditions": [
                    {"type": "Selected", "status": "True"},
                    {"type": "AllInjected", "status": "False"},
                ],
                "experiment": {
                    "containerRecords": [
                        record(
                            "Not Injected",
                            {"type": "Failed", "message": "netem: no such file or directory"},
                        )
                    ]
                },
            },
            None,
            "Chaos Mesh says: netem: no such file or directory",
        ),
        (
            {
                "conditions": [
                    {"type": "Selected", "status": "True"},
                    {"type": "AllInjected", "status": "True"},
                ],
                "experiment": {"containerRecords": [record("Injected"), record("Injected")]},
            },
            "2/2 pods injected by Chaos Mesh",
            "",
        ),
    ],
)
def test_chaos_mesh_status_is_read_as_chaos_mesh_writes_it(
    status: dict[str, Any], evidence: str | None, why: str
) -> None:
    found, reason = chaos_mesh_injected({**CHAOS, "status": status})
    assert (found or {}).get("evidence") == evidence
    assert why in reason


JOURNALS = Path(__file__).parent / "data" / "journals"


@pytest.mark.parametrize(
    ("name", "kind", "in_effect"),
    [
        ("fault-not-in-effect-chaos-mesh", "NetworkChaos", False),
        ("fault-not-in-effect-network-policy", "NetworkPolicy", False),
    ],
)
def test_real_runs_store_the_fault_window_the_contract_reads(
    name: str, kind: str, in_effect: bool
) -> None:
    stored = json.loads((JOURNALS / f"{name}.json").read_text())
    (fault,) = stored["ripple_faults"]
    assert fault_records(stored) == stored["ripple_faults"], "the operator reads what was stored"
    assert (fault["kind"], fault["inEffect"]) == (kind, in_effect)
    assert fault["injectedAt"] <= fault["removedAt"]
    assert fault["confirmedAt"] is None
    assert judge(stored).reason is Reason.FAULT_NOT_IN_EFFECT
