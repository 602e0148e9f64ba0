"""Pure reading of a scenario's runs from the API's objects: what is running, what is due.

The operator keeps no memory of its own: whether a run is underway, which number comes
next and whether a trigger is pending are all derived from the scenario and its Jobs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from croniter import croniter

from ripple_contract import names

from .status import JobOutcome

Body = Mapping[str, Any]


def labels_of(body: Body) -> Mapping[str, str]:
    """Get an object's labels (empty if it has none)."""
    labels: Mapping[str, str] = (body.get("metadata") or {}).get("labels") or {}
    return labels


def annotations_of(body: Body) -> Mapping[str, str]:
    """Get an object's annotations (empty if it has none)."""
    annotations: Mapping[str, str] = (body.get("metadata") or {}).get("annotations") or {}
    return annotations


def run_of(obj: Body) -> int | None:
    """Get the run number an object (Job or ConfigMap) belongs to, from its label."""
    value = labels_of(obj).get(names.LABEL_RUN, "")
    return int(value) if value.isdigit() else None


def _conditions(job: Body) -> dict[str, Mapping[str, Any]]:
    found = (job.get("status") or {}).get("conditions") or []
    return {c.get("type", ""): c for c in found if c.get("status") == "True"}


def is_finished(job: Body) -> bool:
    """Whether the Job reached Complete or Failed (its pods are done)."""
    conditions = _conditions(job)
    return "Complete" in conditions or "Failed" in conditions


def is_deleting(obj: Body) -> bool:
    """Whether the object has a deletion timestamp (it is going away)."""
    return bool((obj.get("metadata") or {}).get("deletionTimestamp"))


def active_jobs(jobs: Iterable[Body]) -> list[Body]:
    """Keep the Jobs still running (a scenario has at most one; this tolerates more)."""
    return [job for job in jobs if not is_finished(job)]


def next_run(status: Mapping[str, Any] | None, jobs: Iterable[Body]) -> str:
    """Pick the next run number: past the status counter and past every Job that exists."""
    counter = int((status or {}).get("runs") or 0)
    seen = [run for run in (run_of(job) for job in jobs) if run is not None]
    return str(max([counter, *seen]) + 1)


def pending_trigger(scenario: Body, jobs: Sequence[Body]) -> str | None:
    """Why the scenario wants a new run now (create, spec, rerun), or ``None``.

    What was acted on is read from the status and, in case the operator stopped between
    creating a Job and writing the status, from the annotations of the Jobs themselves.
    """
    meta = scenario.get("metadata") or {}
    status = scenario.get("status") or {}
    generation = int(meta.get("generation") or 0)
    rerun = annotations_of(scenario).get(names.ANNOTATION_RERUN, "")
    job_generations = [_int(annotations_of(job).get(names.ANNOTATION_GENERATION)) for job in jobs]
    if "observedGeneration" not in status and not jobs:
        return "create"
    observed = max([_int(status.get("observedGeneration")), *job_generations])
    if generation > observed:
        return "spec"
    if rerun and rerun != status.get("observedRerun", "") and rerun != _newest_rerun(jobs):
        return "rerun"
    return None


def vanished_run(scenario: Body, jobs: Sequence[Body]) -> str | None:
    """Name the run the status calls active whose Job no longer exists (deleted by someone)."""
    active = (scenario.get("status") or {}).get("activeRun") or {}
    job = active.get("job")
    if not job or not active.get("id"):
        return None
    if any((j.get("metadata") or {}).get("name") == job for j in jobs):
        return None
    return str(active["id"])


def maybe_pending(scenario: Body) -> bool:
    """Check cheaply, on the scenario alone, whether :func:`pending_trigger` could say yes."""
    status = scenario.get("status") or {}
    generation = int((scenario.get("metadata") or {}).get("generation") or 0)
    rerun = annotations_of(scenario).get(names.ANNOTATION_RERUN, "")
    if generation > _int(status.get("observedGeneration")):
        return True
    return bool(rerun) and rerun != status.get("observedRerun", "")


def _newest_rerun(jobs: Sequence[Body]) -> str | None:
    numbered = [(run_of(job) or 0, job) for job in jobs]
    if not numbered:
        return None
    newest = max(numbered, key=lambda pair: pair[0])[1]
    return annotations_of(newest).get(names.ANNOTATION_OBSERVED_RERUN)


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def job_annotations(generation: int, rerun: str) -> dict[str, str]:
    """Record on a Job the trigger state it was started for."""
    return {names.ANNOTATION_GENERATION: str(generation), names.ANNOTATION_OBSERVED_RERUN: rerun}


def job_outcome(job: Body, termination_message: str | None) -> JobOutcome:
    """How the Job ended, in the status module's terms."""
    status = job.get("status") or {}
    conditions = _conditions(job)
    failed = conditions.get("Failed")
    end = status.get("completionTime") or (failed or {}).get("lastTransitionTime")
    return JobOutcome(
        succeeded="Complete" in conditions,
        start=status.get("startTime"),
        end=end,
        reason=(failed or {}).get("reason"),
        message=(failed or {}).get("message"),
        termination_message=termination_message,
    )


def next_schedule(schedule: str, last: datetime) -> datetime:
    """Give the first cron tick after ``last``."""
    upcoming: datetime = croniter(schedule, last).get_next(datetime)
    return upcoming


def schedule_due(schedule: str, last: datetime, now: datetime) -> bool:
    """Whether a cron tick fell between ``last`` and ``now`` (one run, however many)."""
    return next_schedule(schedule, last) <= now


def runs_to_prune(
    kept: Iterable[str], active: Iterable[int], objects: Iterable[Body]
) -> list[Body]:
    """Objects of runs older than the newest kept one that are neither kept nor running."""
    kept_runs = {int(run) for run in kept if str(run).isdigit()}
    if not kept_runs:
        return []
    newest = max(kept_runs)
    busy = set(active)
    doomed = []
    for obj in objects:
        run = run_of(obj)
        if run is None or run in kept_runs or run in busy or run > newest:
            continue
        doomed.append(obj)
    return doomed
