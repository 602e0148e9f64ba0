"""Every trigger and transition the operator decides, from a scenario and its Jobs alone."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ripple_contract import names
from ripple_operator.decisions import (
    Delete,
    EndedRun,
    Follow,
    Reconcile,
    SkipTick,
    StartRun,
    WaitForRun,
    decide_delete,
    decide_follow,
    decide_reconcile,
    decide_tick,
    ended_run,
    history_limit,
    is_live,
    lost_job,
    needs_termination_message,
    next_tick,
    suspended_patch,
    tick_due,
    vanished_job_end,
)

CREATED = "2026-11-24T20:00:00Z"
SMOKE: dict[str, Any] = {"experiment": {"name": "smoke"}}
HOURLY: dict[str, Any] = {**SMOKE, "schedule": "0 * * * *"}


def job(
    run: int,
    state: str | None = None,
    *,
    generation: int = 1,
    rerun: str = "",
    deleting: bool = False,
    labelled: bool = True,
) -> dict[str, Any]:
    """A run's Job as the API returns it: running (no state), Complete or Failed."""
    conditions = [{"type": state, "status": "True"}] if state else []
    labels = {names.LABEL_SCENARIO: "s", names.LABEL_RUN: str(run)} if labelled else {}
    metadata: dict[str, Any] = {
        "name": f"s-{run}",
        "labels": labels,
        "annotations": {
            names.ANNOTATION_GENERATION: str(generation),
            names.ANNOTATION_OBSERVED_RERUN: rerun,
            names.ANNOTATION_TRIGGER: "create",
        },
    }
    if deleting:
        metadata["deletionTimestamp"] = "2026-11-24T21:00:00Z"
    return {"metadata": metadata, "status": {"conditions": conditions}}


def scenario(
    generation: int = 1,
    status: dict[str, Any] | None = None,
    *,
    spec: dict[str, Any] | None = None,
    rerun: str | None = None,
    deleting: bool = False,
) -> dict[str, Any]:
    """A scenario as stored: generation, rerun annotation, spec and status."""
    metadata: dict[str, Any] = {
        "name": "s",
        "generation": generation,
        "creationTimestamp": CREATED,
        "annotations": {names.ANNOTATION_RERUN: rerun} if rerun is not None else {},
    }
    if deleting:
        metadata["deletionTimestamp"] = "2026-11-24T21:00:00Z"
    return {"metadata": metadata, "spec": spec or SMOKE, "status": status or {}}


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 24, hour, minute, tzinfo=UTC)


RAN_ONCE = {"observedGeneration": 1, "observedRerun": "", "runs": 1}


# --- reconcile: create, spec change, rerun, busy ------------------------------------------


def test_a_new_scenario_starts_its_create_run() -> None:
    assert decide_reconcile(scenario(), []) == Reconcile(next=StartRun(trigger="create"))


def test_an_observed_scenario_whose_run_ended_does_nothing() -> None:
    assert decide_reconcile(scenario(1, RAN_ONCE), [job(1, "Complete")]) == Reconcile()


def test_a_spec_change_starts_a_spec_run() -> None:
    decision = decide_reconcile(scenario(2, RAN_ONCE), [job(1, "Complete")])
    assert decision == Reconcile(next=StartRun(trigger="spec"))


def test_a_new_rerun_value_starts_a_rerun() -> None:
    decision = decide_reconcile(scenario(1, RAN_ONCE, rerun="1"), [job(1, "Complete")])
    assert decision == Reconcile(next=StartRun(trigger="rerun"))


def test_a_rerun_value_already_acted_on_starts_nothing() -> None:
    status = {**RAN_ONCE, "observedRerun": "1"}
    assert decide_reconcile(scenario(1, status, rerun="1"), [job(1, "Complete")]) == Reconcile()


def test_a_trigger_during_a_run_waits_for_that_run() -> None:
    decision = decide_reconcile(scenario(2, RAN_ONCE), [job(1)])
    assert decision == Reconcile(next=WaitForRun(trigger="spec", job="s-1"))


def test_a_run_started_before_its_status_was_written_is_not_started_again() -> None:
    # the operator stopped between creating Job s-1 and writing the status
    assert decide_reconcile(scenario(1), [job(1, generation=1)]) == Reconcile()


def test_a_scenario_being_deleted_starts_nothing() -> None:
    assert is_live(scenario())
    assert not is_live(scenario(deleting=True))


# --- a Job deleted mid-run ----------------------------------------------------------------


def test_a_run_whose_job_was_deleted_is_recorded_then_a_pending_trigger_starts() -> None:
    active = {**RAN_ONCE, "runs": 2, "activeRun": {"id": "2", "job": "s-2", "trigger": "rerun"}}
    assert decide_reconcile(scenario(1, active), [job(1, "Complete")]) == Reconcile(
        vanished_run="2"
    )
    assert decide_reconcile(scenario(2, active), [job(1, "Complete")]) == Reconcile(
        vanished_run="2", next=StartRun(trigger="spec")
    )


def test_the_end_of_a_vanished_run_says_its_job_was_deleted() -> None:
    status = {"activeRun": {"id": "2", "job": "s-2", "trigger": "rerun", "start": CREATED}}
    job_name, trigger, outcome = vanished_job_end(scenario(1, status), "2")
    assert (job_name, trigger) == ("s-2", "rerun")
    assert not outcome.succeeded
    assert outcome.reason == "JobDeleted"
    assert outcome.start == CREATED
    # no activeRun left in the status: the Job is named by the contract's rule
    assert vanished_job_end(scenario(1, {}), "3")[:2] == ("s-3", "")


def test_a_job_deleted_before_it_finished_reconciles_its_scenario() -> None:
    assert lost_job("DELETED", job(1)) == "s"
    assert lost_job("DELETED", job(1, "Complete")) is None  # pruned after it ended
    assert lost_job("MODIFIED", job(1)) is None
    assert lost_job("DELETED", job(1, labelled=False)) is None


# --- following a Job to its end; a missing journal ----------------------------------------


def test_a_job_is_followed_only_once_it_has_finished() -> None:
    assert ended_run(job(1)) is None
    assert ended_run(job(1, "Complete")) == EndedRun(scenario="s", run="1")
    assert ended_run(job(1, "Failed")) == EndedRun(scenario="s", run="1")
    assert ended_run(job(1, "Complete", labelled=False)) is None


def test_a_finished_run_is_recorded_once_then_its_scenario_reconciled() -> None:
    running = {**RAN_ONCE, "activeRun": {"id": "1", "job": "s-1"}}
    assert decide_follow(scenario(1, running), "1") == Follow(record=True, reconcile=True)
    recorded = {**RAN_ONCE, "lastRun": {"id": "1", "verdict": "Pass"}}
    assert decide_follow(scenario(1, recorded), "1") == Follow(record=False, reconcile=False)


def test_a_trigger_that_waited_for_a_recorded_run_is_taken_up() -> None:
    recorded = {**RAN_ONCE, "lastRun": {"id": "1", "verdict": "Pass"}}
    assert decide_follow(scenario(2, recorded), "1") == Follow(record=False, reconcile=True)


def test_without_a_journal_or_after_a_failed_job_the_termination_message_is_read() -> None:
    journal = {"status": "completed"}
    assert not needs_termination_message(job(1, "Complete"), journal)
    assert needs_termination_message(job(1, "Complete"), None)
    assert needs_termination_message(job(1, "Failed"), journal)


# --- the schedule: due, not due, busy, suspended ------------------------------------------


def test_a_tick_is_due_once_the_cron_passed_the_last_schedule_time() -> None:
    fresh = scenario(spec=HOURLY)
    assert not tick_due(fresh, at(20, 59))
    assert tick_due(fresh, at(21, 0))
    stamped = scenario(spec=HOURLY, status={"lastScheduleTime": "2026-11-24T21:00:00Z"})
    assert not tick_due(stamped, at(21, 30))
    assert tick_due(stamped, at(23, 5))


def test_no_tick_without_a_schedule_when_suspended_or_for_an_invalid_spec() -> None:
    assert not tick_due(scenario(spec=SMOKE), at(23))
    assert not tick_due(scenario(spec={**HOURLY, "suspend": True}), at(23))
    assert not tick_due(scenario(spec={**HOURLY, "historyLimit": 0}), at(23))


def test_the_next_tick_follows_the_last_schedule_time_or_the_creation() -> None:
    assert next_tick(scenario(spec=HOURLY)) == at(21)
    stamped = scenario(spec=HOURLY, status={"lastScheduleTime": "2026-11-24T21:00:00Z"})
    assert next_tick(stamped) == at(22)
    yearly = scenario(spec={**SMOKE, "schedule": "0 0 1 1 *"})
    assert next_tick(yearly) == datetime(2027, 1, 1, tzinfo=UTC)


def test_no_next_tick_without_a_schedule_suspended_deleting_or_invalid() -> None:
    assert next_tick(scenario(spec=SMOKE)) is None
    assert next_tick(scenario(spec={**HOURLY, "suspend": True})) is None
    assert next_tick(scenario(spec=HOURLY, deleting=True)) is None
    assert next_tick(scenario(spec={**HOURLY, "historyLimit": 0})) is None


def test_a_due_tick_starts_a_scheduled_run_unless_one_is_underway() -> None:
    assert decide_tick([job(1, "Complete")]) == StartRun(trigger="schedule")
    assert decide_tick([]) == StartRun(trigger="schedule")
    assert decide_tick([job(1, "Complete"), job(2)]) == SkipTick(job="s-2")


def test_a_suspended_scenario_observes_the_trigger_and_keeps_its_phase() -> None:
    never_ran = suspended_patch(None, trigger="create", generation=1, rerun="")
    assert never_ran == {
        "observedGeneration": 1,
        "observedRerun": "",
        "message": "suspended: the create trigger starts no run",
        "phase": "Pending",
    }
    ran = suspended_patch({"phase": "Completed"}, trigger="rerun", generation=3, rerun="x")
    assert ran["phase"] == "Completed"
    assert (ran["observedGeneration"], ran["observedRerun"]) == (3, "x")


# --- deletion mid-run ---------------------------------------------------------------------


def test_deleting_a_scenario_mid_run_stops_its_job_and_waits() -> None:
    decision = decide_delete([job(1, "Complete"), job(2)])
    assert decision == Delete(stop=["s-2"], waiting=["s-2"])


def test_a_job_already_stopping_is_waited_for_not_deleted_again() -> None:
    decision = decide_delete([job(2, deleting=True), job(3)])
    assert decision == Delete(stop=["s-3"], waiting=["s-2", "s-3"])
    assert decide_delete([job(2, "Failed", deleting=True)]) == Delete(stop=[], waiting=["s-2"])


def test_a_scenario_whose_runs_all_ended_may_go() -> None:
    assert decide_delete([job(1, "Complete"), job(2, "Failed")]) == Delete(stop=[], waiting=[])
    assert decide_delete([]) == Delete(stop=[], waiting=[])


# --- history ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "limit"),
    [
        ({**SMOKE, "historyLimit": 3}, 3),
        (SMOKE, 10),
        ({"historyLimit": 4}, 4),  # no experiment: invalid, the user's limit still holds
        ({"historyLimit": 0}, 10),
        ({"historyLimit": "3"}, 10),
    ],
)
def test_the_history_limit_holds_even_for_a_spec_that_no_longer_parses(
    spec: dict[str, Any], limit: int
) -> None:
    assert history_limit(scenario(spec=spec)) == limit
