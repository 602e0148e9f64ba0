"""Reading runs from API objects: what is running, which number is next, what is due."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ripple_contract import names
from ripple_operator.runs import (
    active_jobs,
    is_finished,
    job_outcome,
    maybe_pending,
    next_run,
    pending_trigger,
    runs_to_prune,
    schedule_due,
    vanished_run,
)


def job(run: int, state: str | None = None, generation: int = 1, rerun: str = "") -> dict[str, Any]:
    conditions = [{"type": state, "status": "True", "reason": "R", "message": "m"}] if state else []
    return {
        "metadata": {
            "name": f"s-{run}",
            "labels": {names.LABEL_RUN: str(run), names.LABEL_SCENARIO: "s"},
            "annotations": {
                names.ANNOTATION_GENERATION: str(generation),
                names.ANNOTATION_OBSERVED_RERUN: rerun,
            },
        },
        "status": {"conditions": conditions, "startTime": "2026-11-24T21:00:00Z"},
    }


def scenario(
    generation: int = 1, status: dict[str, Any] | None = None, rerun: str | None = None
) -> dict[str, Any]:
    annotations = {names.ANNOTATION_RERUN: rerun} if rerun is not None else {}
    return {
        "metadata": {"name": "s", "generation": generation, "annotations": annotations},
        "status": status or {},
    }


def test_a_job_is_finished_when_complete_or_failed() -> None:
    assert not is_finished(job(1))
    assert not is_finished(job(1, "SuccessCriteriaMet"))
    assert is_finished(job(1, "Complete"))
    assert is_finished(job(1, "Failed"))
    assert [j["metadata"]["name"] for j in active_jobs([job(1, "Complete"), job(2)])] == ["s-2"]


def test_the_next_run_passes_both_the_counter_and_the_jobs() -> None:
    assert next_run(None, []) == "1"
    assert next_run({"runs": 4}, [job(2)]) == "5"
    assert next_run({"runs": 2}, [job(7)]) == "8"  # the status was not written before a crash


def test_a_new_scenario_triggers_create() -> None:
    assert pending_trigger(scenario(), []) == "create"


def test_nothing_is_pending_once_observed() -> None:
    assert pending_trigger(scenario(1, {"observedGeneration": 1}), [job(1, "Complete")]) is None


def test_a_spec_change_triggers_spec() -> None:
    assert pending_trigger(scenario(2, {"observedGeneration": 1}), [job(1, "Complete")]) == "spec"
    assert maybe_pending(scenario(2, {"observedGeneration": 1}))


def test_a_job_started_before_the_status_was_written_counts_as_observed() -> None:
    # crash between creating the Job and writing the status: no second run
    assert pending_trigger(scenario(3, {}), [job(1, generation=3)]) is None


def test_a_changed_rerun_annotation_triggers_rerun() -> None:
    status = {"observedGeneration": 1, "observedRerun": "a"}
    assert (
        pending_trigger(scenario(1, status, rerun="b"), [job(1, "Complete", rerun="a")]) == "rerun"
    )
    assert pending_trigger(scenario(1, status, rerun="a"), [job(1, "Complete", rerun="a")]) is None
    # the newest Job already acted on "b" though the status does not say so yet
    assert pending_trigger(scenario(1, status, rerun="b"), [job(2, rerun="b")]) is None
    assert not maybe_pending(scenario(1, status, rerun="a"))


def test_job_outcome_reads_the_failed_condition() -> None:
    failed = job(1, "Failed")
    failed["status"]["conditions"][0].update(
        reason="DeadlineExceeded", lastTransitionTime="2026-11-24T21:10:00Z"
    )
    outcome = job_outcome(failed, "runner said")
    assert not outcome.succeeded
    assert outcome.reason == "DeadlineExceeded"
    assert outcome.end == "2026-11-24T21:10:00Z"
    assert outcome.termination_message == "runner said"
    assert job_outcome(job(1, "Complete"), None).succeeded


def test_a_missed_schedule_runs_once_not_once_per_tick() -> None:
    last = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)
    assert not schedule_due("0 * * * *", last, datetime(2026, 11, 24, 20, 59, tzinfo=UTC))
    assert schedule_due("0 * * * *", last, datetime(2026, 11, 24, 21, 0, tzinfo=UTC))
    # hours late: still just "due", and the caller stamps now as the last schedule time
    assert schedule_due("0 * * * *", last, datetime(2026, 11, 25, 3, 0, tzinfo=UTC))


def test_pruning_spares_kept_running_and_newer_runs() -> None:
    objects = [job(n, "Complete") for n in range(1, 8)]
    doomed = runs_to_prune(["6", "5"], [7], objects)
    assert sorted(j["metadata"]["name"] for j in doomed) == ["s-1", "s-2", "s-3", "s-4"]
    assert runs_to_prune([], [], objects) == []


def test_a_run_whose_job_vanished_is_found() -> None:
    status = {"observedGeneration": 1, "activeRun": {"id": "2", "job": "s-2"}}
    assert vanished_run(scenario(1, status), [job(1, "Complete")]) == "2"
    assert vanished_run(scenario(1, status), [job(1, "Complete"), job(2)]) is None
    assert vanished_run(scenario(1, {"observedGeneration": 1}), []) is None
