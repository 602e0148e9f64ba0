"""What the operator decides to do about a scenario, from the scenario and its Jobs alone.

Pure functions: ``reconcile.py`` reads the state from the API, asks here what to do, and
does it. Every trigger and transition (create, spec change, rerun, schedule, suspend,
deletion mid-run, a Job deleted, a run without a journal) is decided in this module, so
each is unit-tested without a cluster.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ripple_contract import names

from . import runs
from .spec import InvalidSpecError, parse_spec
from .status import JobOutcome, Phase, is_recorded, observed

Body = Mapping[str, Any]

DEFAULT_HISTORY_LIMIT = 10
"""The CRD's default, for a scenario whose spec no longer parses."""


@dataclass(frozen=True, kw_only=True)
class StartRun:
    """Start a run now, for this trigger (``create``, ``spec``, ``rerun``, ``schedule``)."""

    trigger: str


@dataclass(frozen=True, kw_only=True)
class WaitForRun:
    """A trigger is pending but a run is underway: it is taken up when that Job ends."""

    trigger: str
    job: str


@dataclass(frozen=True, kw_only=True)
class Reconcile:
    """What to do when the scenario (or one of its Jobs) changed."""

    vanished_run: str | None = None
    """A run the status calls active whose Job is gone: record its end first."""
    next: StartRun | WaitForRun | None = None
    """Then start a run, wait for the one underway, or (``None``) do nothing."""


@dataclass(frozen=True, kw_only=True)
class SkipTick:
    """A cron tick fell while a run is underway: skipped, not queued (concurrency Forbid)."""

    job: str


@dataclass(frozen=True, kw_only=True)
class Delete:
    """What deleting a scenario needs before its finalizer may go."""

    stop: list[str]
    """Jobs to delete in the foreground (their pods get SIGTERM and roll back)."""
    waiting: list[str]
    """Jobs still running or stopping; while any is left, the finalizer stays."""


@dataclass(frozen=True, kw_only=True)
class EndedRun:
    """A run whose Job has finished: the scenario it belongs to and its number."""

    scenario: str
    run: str


@dataclass(frozen=True, kw_only=True)
class Follow:
    """What to do once a run's Job has finished."""

    record: bool
    """Write the run's end into the status (not yet there)."""
    reconcile: bool
    """Then look for a trigger that waited for this run."""


def is_live(scenario: Body) -> bool:
    """Whether the scenario may start runs: not while it is being deleted."""
    return not runs.is_deleting(scenario)


def decide_reconcile(scenario: Body, jobs: Sequence[Body]) -> Reconcile:
    """Decide, for a live scenario and its Jobs, whether a run starts now.

    A trigger that arrives during a run stays pending in the API state (generation or
    annotation ahead of what was observed) and is taken up when that run's Job ends.
    """
    vanished = runs.vanished_run(scenario, jobs)
    trigger = runs.pending_trigger(scenario, jobs)
    if trigger is None:
        return Reconcile(vanished_run=vanished)
    busy = runs.active_jobs(jobs)
    if busy:
        job = str((busy[0].get("metadata") or {}).get("name"))
        return Reconcile(vanished_run=vanished, next=WaitForRun(trigger=trigger, job=job))
    return Reconcile(vanished_run=vanished, next=StartRun(trigger=trigger))


def tick_due(scenario: Body, now: datetime) -> bool:
    """Whether a scheduled, unsuspended scenario has a cron tick due since its last one.

    An invalid spec is never due: the change handler has already said so in the status.
    """
    schedule = active_schedule(scenario)
    return schedule is not None and runs.schedule_due(*schedule, now)


def next_tick(scenario: Body) -> datetime | None:
    """Give the time (UTC) of a live, scheduled, unsuspended scenario's next cron tick.

    ``None`` for a scenario without a schedule, suspended, being deleted or invalid: the
    scheduler keeps no time for it. A tick already past is returned as it is (due now).
    """
    if not is_live(scenario):
        return None
    schedule = active_schedule(scenario)
    return None if schedule is None else runs.next_schedule(*schedule)


def active_schedule(scenario: Body) -> tuple[str, datetime] | None:
    """Give a valid, scheduled, unsuspended scenario's cron and its last tick (or creation)."""
    try:
        spec = parse_spec(scenario.get("spec"))
    except InvalidSpecError:
        return None
    if not spec.schedule or spec.suspend:
        return None
    status = scenario.get("status") or {}
    last = status.get("lastScheduleTime") or (scenario.get("metadata") or {})["creationTimestamp"]
    return spec.schedule, parse_time(last)


def decide_tick(jobs: Sequence[Body]) -> StartRun | SkipTick:
    """Decide what a due cron tick does: start the scheduled run, or skip it while one runs."""
    busy = runs.active_jobs(jobs)
    if busy:
        return SkipTick(job=str((busy[0].get("metadata") or {}).get("name")))
    return StartRun(trigger="schedule")


def suspended_patch(
    status: Mapping[str, Any] | None, *, trigger: str, generation: int, rerun: str
) -> dict[str, Any]:
    """Patch the status of a suspended scenario: the trigger is observed, and starts no run.

    A scenario that never ran shows Pending; one that did keeps its last phase.
    """
    phase = (status or {}).get("phase") or Phase.PENDING.value
    message = f"suspended: the {trigger} trigger starts no run"
    return {**observed(generation, rerun), "message": message, "phase": phase}


def decide_delete(jobs: Sequence[Body]) -> Delete:
    """Decide what a scenario's deletion waits for: its runs must stop and roll back first."""
    waiting = [job for job in jobs if not runs.is_finished(job) or runs.is_deleting(job)]
    return Delete(
        stop=[_name(job) for job in waiting if not runs.is_deleting(job)],
        waiting=sorted(_name(job) for job in waiting),
    )


def ended_run(job: Body) -> EndedRun | None:
    """Name the run a finished Job belongs to; ``None`` while it runs or when unlabelled."""
    labels = runs.labels_of(job)
    scenario, run = labels.get(names.LABEL_SCENARIO), labels.get(names.LABEL_RUN)
    if not runs.is_finished(job) or not scenario or not run:
        return None
    return EndedRun(scenario=scenario, run=run)


def decide_follow(scenario: Body, run: str) -> Follow:
    """Decide what a finished run's Job asks of its scenario: record it once, then reconcile."""
    recorded = is_recorded(scenario.get("status"), run)
    return Follow(record=not recorded, reconcile=not recorded or runs.maybe_pending(scenario))


def unrecorded_ends(scenario: Body, jobs: Sequence[Body]) -> list[tuple[str, Body | None]]:
    """List the runs that ended but are not in the status yet, oldest first.

    Each comes with its finished Job, or ``None`` for the run whose Job vanished mid-run.
    """
    status = scenario.get("status")
    found: list[tuple[str, Body | None]] = []
    for job in jobs:
        ended = ended_run(job)
        if ended is not None and not is_recorded(status, ended.run):
            found.append((ended.run, job))
    vanished = runs.vanished_run(scenario, jobs)
    if vanished is not None and not is_recorded(status, vanished):
        found.append((vanished, None))
    return sorted(found, key=lambda pair: int(pair[0]) if pair[0].isdigit() else 0)


def lost_job(event_type: str | None, job: Body) -> str | None:
    """Name the scenario to reconcile when its run's Job was deleted before it finished."""
    if event_type != "DELETED" or runs.is_finished(job):
        return None
    return runs.labels_of(job).get(names.LABEL_SCENARIO) or None


def vanished_job_end(scenario: Body, run: str) -> tuple[str, str, JobOutcome]:
    """Give the Job name, trigger and outcome of a run whose Job was deleted mid-run."""
    active = (scenario.get("status") or {}).get("activeRun") or {}
    name = str((scenario.get("metadata") or {}).get("name"))
    job = str(active.get("job") or names.job_name(name, run))
    outcome = JobOutcome(
        succeeded=False,
        start=active.get("start"),
        reason="JobDeleted",
        message="the run's Job was deleted before it finished",
    )
    return job, str(active.get("trigger") or ""), outcome


def needs_termination_message(job: Body, journal: Mapping[str, Any] | None) -> bool:
    """Whether the runner's termination message must be read: no journal, or a failed Job."""
    return journal is None or not runs.job_outcome(job, None).succeeded


def history_limit(scenario: Body) -> int:
    """Count the runs to keep, even from a spec that no longer parses."""
    try:
        return parse_spec(scenario.get("spec")).history_limit
    except InvalidSpecError:
        raw = (scenario.get("spec") or {}).get("historyLimit")
        return raw if isinstance(raw, int) and raw > 0 else DEFAULT_HISTORY_LIMIT


def parse_time(value: str) -> datetime:
    """Read the API's ``date-time`` (``...Z``) as an aware datetime."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _name(job: Body) -> str:
    return str((job.get("metadata") or {})["name"])
