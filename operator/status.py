"""Pure mapping from what a run left behind (journal, Job outcome) to the scenario's status.

Every function takes the current status and returns a merge patch for it; the time is
an argument, so the same inputs always give the same status.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final

from pydantic import ValidationError

from ripple_contract.faults import fault_records
from ripple_contract.names import JOURNAL_FAULTS_KEY, JOURNAL_IMPACT_KEY
from ripple_contract.timeline import Impact
from ripple_contract.verdict import Judgement, Reason, Verdict, judge

Journal = Mapping[str, Any]
"""A Chaos Toolkit journal, as the runner stored it."""
Status = Mapping[str, Any]
"""A ChaosScenario's ``status`` stanza."""

MAX_ACTIVITIES: Final = 50
MAX_TEXT: Final = 512
MAX_FAULTS: Final = 10
MAX_FIELD: Final = 253


class Phase(StrEnum):
    """Where a scenario stands."""

    PENDING = "Pending"
    RUNNING = "Running"
    COMPLETED = "Completed"
    ERROR = "Error"
    INVALID = "Invalid"


class Condition(StrEnum):
    """The condition types a scenario reports."""

    VALID = "Valid"
    """The spec parsed and the experiment resolved and validated."""
    RUNNING = "Running"
    """A run's Job is underway."""
    STEADY = "SteadyStateHeld"
    """The last finished run kept its steady state (Unknown when it could not tell)."""


@dataclass(frozen=True, kw_only=True)
class JobOutcome:
    """How a run's Job ended, from the Job and its pod, for runs without a journal."""

    succeeded: bool
    start: str | None = None
    end: str | None = None
    reason: str | None = None
    """The Job's Failed condition reason, e.g. ``DeadlineExceeded``."""
    message: str | None = None
    """The Job's Failed condition message."""
    termination_message: str | None = None
    """The runner container's termination message (or its last log lines)."""


@dataclass(frozen=True, kw_only=True)
class RunInfo:
    """What the operator knows of a run independently of how it ended."""

    run: str
    job: str
    trigger: str
    journal_configmap: str


def run_record(*, info: RunInfo, journal: Journal | None, outcome: JobOutcome) -> dict[str, Any]:
    """Build the ``lastRun`` entry for a finished run."""
    judgement = judgement_of(journal, outcome)
    start = (journal or {}).get("start") or outcome.start
    end = (journal or {}).get("end") or outcome.end
    seconds = _duration(journal, start, end)
    record: dict[str, Any] = {
        "id": info.run,
        "job": info.job,
        "trigger": info.trigger,
        "start": _rfc3339(start),
        "end": _rfc3339(end),
        "duration": human_duration(seconds) if seconds is not None else None,
        "durationSeconds": round(seconds, 3) if seconds is not None else None,
        "status": str(journal.get("status")) if journal else None,
        "verdict": judgement.verdict.value,
        "reason": judgement.reason.value,
        "deviated": bool(journal.get("deviated")) if journal else False,
        "journal": info.journal_configmap if journal else None,
        "message": _clip(judgement.message),
    }
    if journal:
        states = journal.get("steady_states") or {}
        record["steadyStateBefore"] = steady_state(states.get("before"))
        record["steadyStateAfter"] = steady_state(states.get("after"))
        record["activities"] = activities(journal.get("run"))
        record["rollbacks"] = activities(journal.get("rollbacks"))
        faults = journal.get(JOURNAL_FAULTS_KEY)
        record["fault"] = [
            fault_entry(f)
            for f in (faults if isinstance(faults, list) else fault_records(journal))
            if isinstance(f, Mapping)
        ][:MAX_FAULTS]
        record["impact"] = impact_entry(journal.get(JOURNAL_IMPACT_KEY))
    return {key: value for key, value in record.items() if value is not None}


def impact_entry(summary: Any) -> dict[str, Any] | None:
    """Keep the run's impact as the runner summed it up; ``None`` when absent or unreadable."""
    if not isinstance(summary, Mapping):
        return None
    try:
        return Impact.model_validate(summary).as_status()
    except ValidationError:
        return None


def judgement_of(journal: Journal | None, outcome: JobOutcome) -> Judgement:
    """Judge the run from its journal, and from its Job where the journal cannot say."""
    if outcome.reason == "DeadlineExceeded":
        seen = judge(journal).message if journal else (outcome.termination_message or "")
        detail = f"; {_clip(seen.strip())}" if seen.strip() else ""
        return Judgement(
            Reason.DEADLINE_EXCEEDED,
            f"the run outlived spec.activeDeadlineSeconds and was stopped{detail}",
        )
    if journal:
        return judge(journal)
    parts = ["the run left no journal"]
    if outcome.reason:
        parts.append(f"Job {outcome.reason}" + (f": {outcome.message}" if outcome.message else ""))
    elif not outcome.succeeded:
        parts.append("Job failed")
    if outcome.termination_message:
        parts.append(f"runner: {_clip(outcome.termination_message.strip())}")
    return Judgement(Reason.NO_JOURNAL, _clip("; ".join(parts)))


def fault_entry(fault: Mapping[str, Any]) -> dict[str, Any]:
    """One fault of ``lastRun.fault``: what, where, when it was in effect, and the proof."""
    entry = {
        "kind": _short(fault.get("kind")),
        "target": _short(fault.get("target")),
        "injectedAt": _rfc3339(fault.get("injectedAt")),
        "confirmedAt": _rfc3339(fault.get("confirmedAt")),
        "removedAt": _rfc3339(fault.get("removedAt")),
        "inEffect": fault.get("inEffect") if isinstance(fault.get("inEffect"), bool) else None,
        "evidence": _short(fault.get("evidence")),
    }
    return {key: value for key, value in entry.items() if value is not None}


def _short(value: Any) -> str | None:
    return _clip(str(value))[:MAX_FIELD] if value else None


def steady_state(state: Mapping[str, Any] | None) -> dict[str, Any]:
    """Summarise a steady-state check: met or not, and each probe's outcome."""
    if not state:
        return {"met": None, "probes": []}
    probes = []
    for entry in state.get("probes") or []:
        probe = activity(entry)
        probe["met"] = bool(entry.get("tolerance_met"))
        probes.append(probe)
    return {"met": state.get("steady_state_met"), "probes": probes}


def activities(entries: Sequence[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    """Each probe/action of the method or the rollbacks with its status (at most 50)."""
    return [activity(entry) for entry in (entries or [])[:MAX_ACTIVITIES]]


def activity(entry: Mapping[str, Any]) -> dict[str, Any]:
    """One journal run entry, reduced to what a user reads in the status."""
    definition = entry.get("activity") or {}
    summary: dict[str, Any] = {
        "name": str(definition.get("name", "")),
        "type": str(definition.get("type", "")),
        "status": str(entry.get("status", "")),
    }
    if isinstance(entry.get("duration"), int | float):
        summary["durationSeconds"] = round(float(entry["duration"]), 3)
    error = _error_text(entry.get("exception"))
    if error:
        summary["error"] = error
    return summary


def _error_text(exception: Any) -> str | None:
    if not exception:
        return None
    if isinstance(exception, list):
        lines = [str(line).strip() for line in exception if str(line).strip()]
        return _clip(lines[-1]) if lines else None
    return _clip(str(exception).strip())


def history_entry(record: Mapping[str, Any]) -> dict[str, Any]:
    """Shorten a run record to what ``status.history`` keeps."""
    keys: tuple[str, ...] = ("id", "job", "trigger", "start", "end", "duration")
    keys += ("durationSeconds", "status", "verdict", "reason", "deviated", "journal", "message")
    keys += ("fault", "impact")
    return {key: record[key] for key in keys if key in record}


def trim_history(
    history: Sequence[Mapping[str, Any]], record: Mapping[str, Any], limit: int
) -> tuple[list[dict[str, Any]], list[str]]:
    """Newest first, at most ``limit`` runs; also the ids of the runs that fell off."""
    entries = [history_entry(record)]
    entries += [dict(entry) for entry in history if entry.get("id") != record.get("id")]
    entries.sort(key=lambda entry: _run_number(entry.get("id")), reverse=True)
    return entries[:limit], [str(entry.get("id")) for entry in entries[limit:]]


def _run_number(run: Any) -> int:
    try:
        return int(str(run))
    except ValueError:
        return -1


def is_recorded(status: Status | None, run: str) -> bool:
    """Whether the run's end is already in the status (handled before a restart, say)."""
    if not status:
        return False
    last = status.get("lastRun") or {}
    if last.get("id") == run and last.get("verdict"):
        return True
    return any(entry.get("id") == run for entry in status.get("history") or [])


def finished_patch(
    status: Status | None,
    *,
    record: Mapping[str, Any],
    history_limit: int,
    now: str,
) -> tuple[dict[str, Any], list[str]]:
    """Patch the status for a finished run; also say which runs' objects to delete."""
    current = status or {}
    history, dropped = trim_history(current.get("history") or [], record, history_limit)
    journal_found = "status" in record
    phase = Phase.COMPLETED if journal_found else Phase.ERROR
    verdict = Verdict(record["verdict"])
    steady = {Verdict.PASS: "True", Verdict.FAIL: "False"}.get(verdict, "Unknown")
    conditions = set_condition(
        current.get("conditions"),
        type_=Condition.RUNNING,
        status="False",
        reason="RunFinished",
        message=f"run {record['id']} finished",
        now=now,
        generation=None,
    )
    conditions = set_condition(
        conditions,
        type_=Condition.STEADY,
        status=steady,
        reason=str(record.get("reason") or verdict.value),
        message=str(record.get("message", "")),
        now=now,
        generation=None,
    )
    active = current.get("activeRun") or {}
    patch: dict[str, Any] = {
        "phase": phase.value,
        "message": f"run {record['id']}: {record.get('message', '')}",
        "verdict": verdict.value,
        "deviated": bool(record.get("deviated")),
        "lastRun": dict(record),
        "history": history,
        "conditions": conditions,
        "runs": max(_run_number(current.get("runs")), _run_number(record["id"])),
    }
    if active.get("id") in (None, record["id"]):
        patch["activeRun"] = None
    return patch, dropped


def started_patch(
    status: Status | None,
    *,
    run: str,
    job: str,
    trigger: str,
    now: str,
    experiment: str,
    generation: int | None,
    rerun: str | None,
) -> dict[str, Any]:
    """Patch the status once a run's Job has been created."""
    current = status or {}
    conditions = set_condition(
        current.get("conditions"),
        type_=Condition.VALID,
        status="True",
        reason="Resolved",
        message=f"experiment {experiment} is valid",
        now=now,
        generation=generation,
    )
    conditions = set_condition(
        conditions,
        type_=Condition.RUNNING,
        status="True",
        reason="RunStarted",
        message=f"run {run} started ({trigger})",
        now=now,
        generation=generation,
    )
    patch: dict[str, Any] = {
        "phase": Phase.RUNNING.value,
        "message": f"run {run} started ({trigger})",
        "experiment": experiment,
        "verdict": None,
        "deviated": None,
        "runs": max(_run_number(current.get("runs")), _run_number(run)),
        "activeRun": {"id": run, "job": job, "trigger": trigger, "start": now},
        "lastRun": {"id": run, "job": job, "trigger": trigger, "start": now},
        "conditions": conditions,
    }
    patch.update(observed(generation, rerun))
    return patch


def invalid_patch(
    status: Status | None,
    *,
    message: str,
    now: str,
    generation: int | None,
    rerun: str | None,
    experiment: str | None = None,
) -> dict[str, Any]:
    """Patch the status for a spec that cannot run: phase Invalid and why."""
    current = status or {}
    patch: dict[str, Any] = {
        "phase": Phase.INVALID.value,
        "message": message,
        "conditions": set_condition(
            current.get("conditions"),
            type_=Condition.VALID,
            status="False",
            reason="InvalidSpec",
            message=message,
            now=now,
            generation=generation,
        ),
    }
    if experiment:
        patch["experiment"] = experiment
    patch.update(observed(generation, rerun))
    return patch


def pending_patch(status: Status | None, *, message: str, now: str) -> dict[str, Any]:
    """Patch the status while the scenario waits for something outside it (a ConfigMap)."""
    current = status or {}
    return {
        "phase": Phase.PENDING.value,
        "message": message,
        "conditions": set_condition(
            current.get("conditions"),
            type_=Condition.VALID,
            status="Unknown",
            reason="Waiting",
            message=message,
            now=now,
            generation=None,
        ),
    }


def observed(generation: int | None, rerun: str | None) -> dict[str, Any]:
    """Record what the operator acted on: the spec's generation and the rerun annotation."""
    patch: dict[str, Any] = {"observedRerun": rerun or ""}
    if generation is not None:
        patch["observedGeneration"] = generation
    return patch


def set_condition(
    conditions: Sequence[Mapping[str, Any]] | None,
    *,
    type_: Condition,
    status: str,
    reason: str,
    message: str,
    now: str,
    generation: int | None,
) -> list[dict[str, Any]]:
    """Conditions with one set; its transition time moves only when its status changes."""
    result = [dict(c) for c in conditions or [] if c.get("type") != type_.value]
    previous = next((c for c in conditions or [] if c.get("type") == type_.value), None)
    since = now
    if previous is not None and previous.get("status") == status:
        since = str(previous.get("lastTransitionTime") or now)
    condition: dict[str, Any] = {
        "type": type_.value,
        "status": status,
        "reason": reason,
        "message": _clip(message),
        "lastTransitionTime": since,
    }
    if generation is not None:
        condition["observedGeneration"] = generation
    result.append(condition)
    result.sort(key=lambda c: str(c["type"]))
    return result


def human_duration(seconds: float) -> str:
    """``4.2s``, ``1m05s``, ``2h03m``: what the DURATION column shows."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def _duration(journal: Journal | None, start: Any, end: Any) -> float | None:
    if journal and isinstance(journal.get("duration"), int | float):
        return float(journal["duration"])
    begin, finish = _parse_time(start), _parse_time(end)
    if begin and finish:
        return max(0.0, (finish - begin).total_seconds())
    return None


def _parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def _rfc3339(value: Any) -> str | None:
    """Format a timestamp as the API server's ``date-time`` wants it (UTC, ``Z``)."""
    moment = _parse_time(value)
    if moment is None:
        return None
    moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _clip(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"
