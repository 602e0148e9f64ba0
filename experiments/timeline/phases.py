"""The experiment's steps and its fault window, read from the Chaos Toolkit journal.

chaoslib records each activity's start and end but not its pauses, which it sleeps
outside them: a pause is placed after (or before) its activity, for the seconds the
experiment's configuration gave it, and never past the next step.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ripple_contract.names import JOURNAL_FAULTS_KEY
from ripple_contract.timeline import MAX_PHASES, MAX_TEXT, PhaseKind

_TEMPLATE = re.compile(r"^\$\{(\w+)\}$")


@dataclass(frozen=True)
class Step:
    """One phase with wall-clock times; the builder moves it onto the timeline's clock."""

    kind: PhaseKind
    name: str
    start: datetime
    end: datetime
    status: str = ""


@dataclass(frozen=True)
class Window:
    """When the fault was in effect, in wall-clock time."""

    start: datetime
    end: datetime | None
    """``None``: still in effect when the journal was written."""
    source: str
    kinds: tuple[str, ...] = ()
    confirmed: datetime | None = None
    """When the last fault was proven in effect, if the run's checks said so."""


def parse_time(value: Any) -> datetime | None:
    """Read a journal timestamp (ISO 8601; chaoslib writes UTC, at times without offset)."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def steps(journal: Mapping[str, Any]) -> list[Step]:
    """Every step of the run in order: steady state before, method, after, rollbacks."""
    found: list[Step] = []
    states = journal.get("steady_states") or {}
    found += _steady_state(states.get("before"), "steady-state-before")
    found += list(_activities(journal, _entries(journal.get("run")), rollback=False))
    found += _steady_state(states.get("after"), "steady-state-after")
    found += list(_activities(journal, _entries(journal.get("rollbacks")), rollback=True))
    return found[:MAX_PHASES]


def fault_window(journal: Mapping[str, Any]) -> Window | None:
    """Find the fault window: from the run's fault records if any, else from its steps.

    Without records: the method's first action to the end of the last rollback (or of
    the method, for a fault that heals itself, such as a deleted pod).
    """
    recorded = _recorded_window(journal.get(JOURNAL_FAULTS_KEY))
    if recorded is not None:
        return recorded
    method = _entries(journal.get("run"))
    actions = [e for e in method if (e.get("activity") or {}).get("type") == "action"]
    start = parse_time(actions[0].get("start")) if actions else None
    if start is None:
        return None
    ends = [parse_time(e.get("end")) for e in _entries(journal.get("rollbacks"))]
    if not any(ends):
        method_steps = list(_activities(journal, method, rollback=False))
        ends = [step.end for step in method_steps]
    done = [end for end in ends if end is not None]
    return Window(start=start, end=max(done) if done else None, source="activities")


def _recorded_window(records: Any) -> Window | None:
    if not isinstance(records, list) or not records:
        return None
    starts, ends, kinds, confirmations = [], [], [], []
    open_ended = False
    for record in records:
        if not isinstance(record, Mapping):
            continue
        # the fault may bite before its check proves it in effect: the window opens at
        # the injection, and the proof's time is kept beside it
        start = parse_time(record.get("injectedAt")) or parse_time(record.get("confirmedAt"))
        if start is None:
            continue
        starts.append(start)
        confirmed = parse_time(record.get("confirmedAt"))
        if confirmed is not None:
            confirmations.append(confirmed)
        kinds.append(str(record.get("kind") or "fault")[:MAX_TEXT])
        removed = parse_time(record.get("removedAt"))
        if removed is None:
            open_ended = True
        else:
            ends.append(removed)
    if not starts:
        return None
    end = None if open_ended or not ends else max(ends)
    return Window(
        start=min(starts),
        end=end,
        source="faults",
        kinds=tuple(dict.fromkeys(kinds)),
        confirmed=max(confirmations) if confirmations else None,
    )


def _steady_state(state: Any, kind: PhaseKind) -> list[Step]:
    if not isinstance(state, Mapping):
        return []
    probes = _entries(state.get("probes"))
    starts = [t for t in (parse_time(p.get("start")) for p in probes) if t]
    ends = [t for t in (parse_time(p.get("end")) for p in probes) if t]
    if not starts or not ends:
        return []
    met = state.get("steady_state_met")
    status = "met" if met is True else "not met" if met is False else ""
    title = "steady state before" if kind == "steady-state-before" else "steady state after"
    return [Step(kind=kind, name=title, start=min(starts), end=max(ends), status=status)]


def _activities(
    journal: Mapping[str, Any], entries: Sequence[Mapping[str, Any]], *, rollback: bool
) -> Iterator[Step]:
    configuration = (journal.get("experiment") or {}).get("configuration") or {}
    for index, entry in enumerate(entries):
        activity = entry.get("activity") or {}
        start, end = parse_time(entry.get("start")), parse_time(entry.get("end"))
        if start is None or end is None:
            continue
        name = str(activity.get("name") or "?")[:MAX_TEXT]
        kind: PhaseKind = (
            "rollback" if rollback else "probe" if activity.get("type") == "probe" else "action"
        )
        pauses = activity.get("pauses") or {}
        before = _seconds(pauses.get("before"), configuration)
        if before:
            yield Step(
                kind="pause", name=f"pause before {name}", start=_minus(start, before), end=start
            )
        yield Step(kind=kind, name=name, start=start, end=end, status=str(entry.get("status", "")))
        after = _seconds(pauses.get("after"), configuration)
        if after:
            following = entries[index + 1].get("start") if index + 1 < len(entries) else None
            limit = parse_time(following)
            pause_end = _plus(end, after)
            if limit is not None and limit < pause_end:
                pause_end = limit
            yield Step(kind="pause", name=f"pause after {name}", start=end, end=pause_end)


def _seconds(value: Any, configuration: Mapping[str, Any]) -> float:
    if isinstance(value, str):
        match = _TEMPLATE.match(value.strip())
        value = configuration.get(match.group(1)) if match else value
        if isinstance(value, Mapping):  # a configuration entry of the env/key kind
            value = value.get("default")
    try:
        seconds = float(value) if value is not None else 0.0
    except (TypeError, ValueError):
        return 0.0
    return max(seconds, 0.0)


def _plus(moment: datetime, seconds: float) -> datetime:
    return datetime.fromtimestamp(moment.timestamp() + seconds, tz=UTC)


def _minus(moment: datetime, seconds: float) -> datetime:
    return datetime.fromtimestamp(moment.timestamp() - seconds, tz=UTC)


def _entries(value: Any) -> list[Mapping[str, Any]]:
    if not isinstance(value, list):
        return []
    return [entry for entry in value if isinstance(entry, Mapping)]
