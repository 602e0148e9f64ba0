"""Journal -> status, with journals from real Chaos Toolkit runs (not typed by hand)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from chaoslib.experiment import run_experiment
from chaoslib.types import Strategy

from ripple_operator.status import (
    Condition,
    JobOutcome,
    RunInfo,
    finished_patch,
    human_duration,
    invalid_patch,
    is_recorded,
    run_record,
    set_condition,
    started_patch,
    trim_history,
)

DATA = Path(__file__).parent / "data" / "journals"
NOW = "2026-11-24T22:00:00Z"
OK = JobOutcome(succeeded=True, start="2026-11-24T21:59:00Z", end="2026-11-24T21:59:30Z")


def _exists_probe(path: Path) -> dict[str, Any]:
    return {
        "type": "probe",
        "name": "marker-exists",
        "tolerance": True,
        "provider": {
            "type": "python",
            "module": "os.path",
            "func": "exists",
            "arguments": {"path": str(path)},
        },
    }


def _experiment(path: Path, method: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "title": "the marker file stays",
        "description": "a trivial experiment run for real by chaoslib",
        "steady-state-hypothesis": {"title": "marker exists", "probes": [_exists_probe(path)]},
        "method": method,
        "rollbacks": [
            {
                "type": "action",
                "name": "put-marker-back",
                "provider": {"type": "process", "path": "touch", "arguments": str(path)},
            }
        ],
    }


@pytest.fixture(scope="module")
def journals(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Real journals: held (Pass), deviated (Fail), failed before the method (Error)."""
    base = tmp_path_factory.mktemp("journals")
    marker = base / "marker"
    observe = {
        "type": "probe",
        "name": "look-around",
        "provider": {"type": "process", "path": "true"},
    }
    remove = {
        "type": "action",
        "name": "remove-marker",
        "provider": {"type": "process", "path": "rm", "arguments": str(marker)},
    }
    found: dict[str, dict[str, Any]] = {}
    marker.touch()
    found["held"] = run_experiment(_experiment(marker, [observe]), strategy=Strategy.DEFAULT)
    found["deviated"] = run_experiment(_experiment(marker, [remove]), strategy=Strategy.DEFAULT)
    marker.unlink(missing_ok=True)
    found["failed"] = run_experiment(_experiment(marker, [observe]), strategy=Strategy.DEFAULT)
    # and the journals the runner's owner committed
    for path in sorted(DATA.glob("*.json")):
        found[f"file:{path.stem}"] = json.loads(path.read_text(encoding="utf-8"))
    # status and verdict must survive a JSON round trip, as they do via the ConfigMap
    return {name: json.loads(json.dumps(j, default=str)) for name, j in found.items()}


def _info(run: str = "3") -> RunInfo:
    return RunInfo(run=run, job=f"scn-{run}", trigger="create", journal_configmap=f"scn-{run}-j")


def test_a_run_whose_steady_state_held_is_pass(journals: dict[str, Any]) -> None:
    record = run_record(info=_info(), journal=journals["held"], outcome=OK)
    assert record["verdict"] == "Pass"
    assert record["deviated"] is False
    assert record["status"] == "completed"
    assert record["steadyStateBefore"]["met"] is True
    assert record["steadyStateAfter"]["met"] is True
    assert [p["name"] for p in record["steadyStateBefore"]["probes"]] == ["marker-exists"]
    assert record["activities"] == [
        {
            "name": "look-around",
            "type": "probe",
            "status": "succeeded",
            "durationSeconds": record["activities"][0]["durationSeconds"],
        }
    ]
    assert record["rollbacks"][0]["name"] == "put-marker-back"
    assert record["journal"] == "scn-3-j"
    assert record["start"].endswith("Z")
    assert record["message"] == "the steady state held"


def test_a_deviated_run_is_fail_and_names_the_probe(journals: dict[str, Any]) -> None:
    record = run_record(info=_info(), journal=journals["deviated"], outcome=OK)
    assert record["verdict"] == "Fail"
    assert record["deviated"] is True
    assert record["steadyStateBefore"]["met"] is True
    assert record["steadyStateAfter"]["met"] is False
    assert record["steadyStateAfter"]["probes"][0]["met"] is False
    assert "marker-exists" in record["message"]
    assert record["activities"][0]["name"] == "remove-marker"


def test_a_run_that_failed_before_the_method_is_error(journals: dict[str, Any]) -> None:
    record = run_record(info=_info(), journal=journals["failed"], outcome=OK)
    assert record["verdict"] == "Error"
    assert record["steadyStateBefore"]["met"] is False
    assert record["activities"] == []
    assert "did not hold before the method (marker-exists)" in record["message"]


def test_no_journal_is_error_with_the_job_reason_and_the_pod_message() -> None:
    outcome = JobOutcome(
        succeeded=False,
        start="2026-11-24T21:59:00Z",
        end="2026-11-24T22:09:00Z",
        reason="DeadlineExceeded",
        message="Job was active longer than specified deadline",
        termination_message='{"status": "interrupted", "deviated": false, "verdict": "Error"}',
    )
    record = run_record(info=_info(), journal=None, outcome=outcome)
    assert record["verdict"] == "Error"
    assert record["reason"] == "DeadlineExceeded"
    assert "status" not in record
    assert "journal" not in record
    assert "activeDeadlineSeconds" in record["message"]
    assert "interrupted" in record["message"]
    assert record["duration"] == "10m00s"
    patch, _ = finished_patch(None, record=record, history_limit=5, now=NOW)
    assert patch["phase"] == "Error"
    assert patch["verdict"] == "Error"


def test_every_real_journal_maps_to_its_own_verdict(journals: dict[str, Any]) -> None:
    from ripple_contract.verdict import verdict_of

    assert sum(name.startswith("file:") for name in journals) >= len(COMMITTED)
    for name, journal in journals.items():
        record = run_record(info=_info(), journal=journal, outcome=OK)
        assert record["verdict"] == verdict_of(journal).value, name
        assert json.dumps(record)  # fits in the status as JSON


def test_finished_patch_writes_phase_lastrun_history_and_conditions(
    journals: dict[str, Any],
) -> None:
    started = started_patch(
        None,
        run="1",
        job="scn-1",
        trigger="create",
        now=NOW,
        experiment="smoke",
        generation=1,
        rerun=None,
    )
    assert started["phase"] == "Running"
    assert started["activeRun"]["id"] == "1"
    assert started["runs"] == 1
    record = run_record(info=_info("1"), journal=journals["held"], outcome=OK)
    patch, dropped = finished_patch(started, record=record, history_limit=10, now=NOW)
    assert patch["phase"] == "Completed"
    assert patch["verdict"] == "Pass"
    assert patch["deviated"] is False
    assert patch["activeRun"] is None
    assert patch["lastRun"]["steadyStateAfter"]["met"] is True
    assert [h["id"] for h in patch["history"]] == ["1"]
    assert "steadyStateBefore" not in patch["history"][0]
    assert dropped == []
    conditions = {c["type"]: c for c in patch["conditions"]}
    assert conditions["SteadyStateHeld"]["status"] == "True"
    assert conditions["Running"]["status"] == "False"
    assert conditions["Valid"]["status"] == "True"
    assert is_recorded({**started, **patch}, "1")
    assert not is_recorded(started, "1")


def test_history_is_newest_first_and_trimmed_to_the_limit(journals: dict[str, Any]) -> None:
    status: dict[str, Any] = {}
    all_dropped: list[str] = []
    for run in range(1, 8):
        journal = journals["deviated" if run % 2 else "held"]
        record = run_record(info=_info(str(run)), journal=journal, outcome=OK)
        patch, dropped = finished_patch(status, record=record, history_limit=3, now=NOW)
        status.update(patch)
        all_dropped += dropped
    assert [h["id"] for h in status["history"]] == ["7", "6", "5"]
    assert [h["verdict"] for h in status["history"]] == ["Fail", "Pass", "Fail"]
    assert all_dropped == ["1", "2", "3", "4"]
    assert status["runs"] == 7
    assert status["lastRun"]["id"] == "7"


def test_recording_a_run_twice_keeps_one_history_entry(journals: dict[str, Any]) -> None:
    record = run_record(info=_info("2"), journal=journals["held"], outcome=OK)
    history, dropped = trim_history([{"id": "2"}, {"id": "1"}], record, 10)
    assert [h["id"] for h in history] == ["2", "1"]
    assert history[0]["verdict"] == "Pass"
    assert dropped == []


def test_numbers_sort_numerically_in_history() -> None:
    history, dropped = trim_history([{"id": "9"}, {"id": "10"}], {"id": "11"}, 2)
    assert [h["id"] for h in history] == ["11", "10"]
    assert dropped == ["9"]


def test_invalid_patch_keeps_the_message_and_the_observed_generation() -> None:
    patch = invalid_patch(
        None, message="spec.load.rate: bad", now=NOW, generation=4, rerun="x", experiment="smoke"
    )
    assert patch["phase"] == "Invalid"
    assert patch["message"] == "spec.load.rate: bad"
    assert patch["observedGeneration"] == 4
    assert patch["observedRerun"] == "x"
    valid = next(c for c in patch["conditions"] if c["type"] == "Valid")
    assert valid["status"] == "False"
    assert valid["reason"] == "InvalidSpec"


def test_a_condition_transition_time_moves_only_when_its_status_changes() -> None:
    first = set_condition(
        None, type_=Condition.VALID, status="True", reason="a", message="", now="t1", generation=1
    )
    same = set_condition(
        first, type_=Condition.VALID, status="True", reason="b", message="", now="t2", generation=2
    )
    flipped = set_condition(
        same, type_=Condition.VALID, status="False", reason="c", message="", now="t3", generation=3
    )
    assert first[0]["lastTransitionTime"] == "t1"
    assert same[0]["lastTransitionTime"] == "t1"
    assert same[0]["reason"] == "b"
    assert flipped[0]["lastTransitionTime"] == "t3"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.04, "0.0s"), (4.25, "4.2s"), (59.9, "59.9s"), (65, "1m05s"), (7380, "2h03m")],
)
def test_human_duration(seconds: float, text: str) -> None:
    assert human_duration(seconds) == text


COMMITTED = {
    # file: (verdict, journal status, reason, a phrase of the message)
    "pass": ("Pass", "completed", "Steady", "the steady state held"),
    "deviated": ("Fail", "completed", "Deviated", "deviated after the method"),
    "interrupted": ("Error", "interrupted", "Interrupted", "interrupted; rollbacks played: 1"),
    "failed": ("Error", "failed", "NotSteadyBefore", "did not hold before the method"),
    "steady-state-not-met-before": ("Error", "completed", "NoData", "no fault was injected"),
    "aborted": ("Error", "aborted", "ActivityFailed", "the experiment ended aborted"),
    "aborted-chaoslib-crashed": ("Error", "aborted", "ActivityFailed", "ended aborted"),
    "fault-not-in-effect-chaos-mesh": (
        "Error",
        "completed",
        "FaultNotInEffect",
        "Chaos Mesh did not inject NetworkChaos",
    ),
    "fault-not-in-effect-network-policy": (
        "Error",
        "completed",
        "FaultNotInEffect",
        "does not enforce NetworkPolicies",
    ),
    "activity-failed": ("Error", "completed", "ActivityFailed", "action call-the-fault-api"),
}


@pytest.mark.parametrize("name", sorted(COMMITTED))
def test_the_runners_committed_journals(name: str) -> None:
    journal = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
    verdict, status, reason, phrase = COMMITTED[name]
    record = run_record(info=_info(), journal=journal, outcome=OK)
    assert record["verdict"] == verdict
    assert record["reason"] == reason
    assert record["status"] == status
    assert phrase in record["message"]
    assert len(record["rollbacks"]) == len(journal.get("rollbacks") or [])
    for entry in [*record["activities"], *record["rollbacks"]]:
        assert entry["name"]
        assert entry["type"] in ("action", "probe")
    patch, _ = finished_patch(None, record=record, history_limit=3, now=NOW)
    assert patch["phase"] == "Completed"
    assert patch["verdict"] == verdict


def test_the_runners_note_gives_the_reason_when_the_pod_is_gone() -> None:
    journal = json.loads((DATA / "interrupted.json").read_text(encoding="utf-8"))
    journal["ripple_interrupted"] = "SIGTERM"
    record = run_record(info=_info(), journal=journal, outcome=OK)
    assert record["verdict"] == "Error"
    assert record["reason"] == "Interrupted"
    assert record["message"] == "interrupted by SIGTERM; rollbacks played: 1"
