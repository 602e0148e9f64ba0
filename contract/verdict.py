"""Journal -> verdict and reason: the one place that decides Pass, Fail or Error, and why.

The runner writes the judgement into its termination message and the journal; the
operator writes it into the scenario's status. Both call :func:`judge`, so the two can
never disagree. The rule is "no Pass without evidence": a run that was interrupted, whose
fault was not proven in effect, whose fault action failed, or whose steady state had no
data is ``Error`` with a reason, whatever chaostoolkit-lib's own ``status`` says.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from .names import (
    JOURNAL_CRASHED_KEY,
    JOURNAL_INTERRUPTED_KEY,
    JOURNAL_NOTE_KEY,
    JOURNAL_SAFEGUARD_KEY,
)

PREFLIGHT_MODULE: Final = "ripple_experiments.extension.preflight"
"""Probes that check, before the steady state, that a run can do what it says."""
IN_EFFECT_MODULE: Final = "ripple_experiments.extension.in_effect"
"""Probes that prove a fault took effect; their failure means the fault did not happen."""
LOAD_MODULE: Final = "ripple_experiments.extension.load_results"
"""The load probes: a window with too few responses is "no data", never "steady"."""

MAX_MESSAGE: Final = 500


class Verdict(StrEnum):
    """What a run says about the system's resilience."""

    PASS = "Pass"  # noqa: S105 - a verdict, not a password
    """The experiment ran to its end, its faults were in effect, and the steady state held."""
    FAIL = "Fail"
    """The steady state deviated after the method: the fault rippled."""
    ERROR = "Error"
    """The run cannot say either: see the reason."""


class Reason(StrEnum):
    """Why a run got its verdict: machine-readable, beside the human message."""

    STEADY = "Steady"
    DEVIATED = "Deviated"
    FAULT_NOT_IN_EFFECT = "FaultNotInEffect"
    PREFLIGHT_FAILED = "PreflightFailed"
    NOT_STEADY_BEFORE = "NotSteadyBefore"
    INTERRUPTED = "Interrupted"
    ABORTED = "Aborted"
    NO_DATA = "NoData"
    ACTIVITY_FAILED = "ActivityFailed"
    NO_JOURNAL = "NoJournal"
    DEADLINE_EXCEEDED = "DeadlineExceeded"

    @property
    def verdict(self) -> Verdict:
        """The verdict this reason gives."""
        if self is Reason.STEADY:
            return Verdict.PASS
        if self is Reason.DEVIATED:
            return Verdict.FAIL
        return Verdict.ERROR


@dataclass(frozen=True)
class Judgement:
    """A verdict, its reason, and one sentence a person can act on."""

    reason: Reason
    message: str

    @property
    def verdict(self) -> Verdict:
        """Pass, Fail or Error, from the reason."""
        return self.reason.verdict


def judge(journal: Mapping[str, Any] | None) -> Judgement:
    """Judge a run from its Chaos Toolkit journal (or its absence)."""
    if not journal:
        return Judgement(Reason.NO_JOURNAL, "the run left no journal")
    note = _text(journal.get(JOURNAL_NOTE_KEY))
    safeguard = _text(journal.get(JOURNAL_SAFEGUARD_KEY))
    if safeguard:
        return _judged(Reason.ABORTED, f"aborted by safeguard {safeguard}", _rollbacks(journal))
    signal = _text(journal.get(JOURNAL_INTERRUPTED_KEY))
    if signal or journal.get("status") == "interrupted":
        what = f"interrupted by {signal}" if signal else "interrupted"
        return _judged(Reason.INTERRUPTED, what, _rollbacks(journal))
    before = _steady(journal, "before")
    preflight = _first_failed(before, PREFLIGHT_MODULE)
    if preflight is not None:
        return _judged(Reason.PREFLIGHT_FAILED, f"preflight {_failure(preflight)}", "no fault")
    if before is not None and before.get("steady_state_met") is False:
        failing = _first_unmet(before)
        if failing is not None and _no_data(failing):
            why = f"no data for the steady state before the method ({_failure(failing)})"
            return _judged(Reason.NO_DATA, why, "no fault was injected")
        which = f" ({_failure(failing)})" if failing is not None else ""
        return _judged(
            Reason.NOT_STEADY_BEFORE,
            f"the steady state did not hold before the method{which}",
            "no fault was injected",
        )
    runs = _entries(journal.get("run"))
    not_in_effect = next((r for r in runs if _module(r) == IN_EFFECT_MODULE and _failed(r)), None)
    if not_in_effect is not None:
        return _judged(
            Reason.FAULT_NOT_IN_EFFECT,
            f"fault not in effect: {_failure(not_in_effect)}",
            _rollbacks(journal),
        )
    failed_action = next((r for r in runs if _kind(r) == "action" and _failed(r)), None)
    if failed_action is not None:
        return _judged(
            Reason.ACTIVITY_FAILED,
            f"the fault did not happen as written: action {_failure(failed_action)}",
            _rollbacks(journal),
        )
    crashed = _text(journal.get(JOURNAL_CRASHED_KEY))
    if crashed:
        return _judged(Reason.ACTIVITY_FAILED, crashed, _rollbacks(journal))
    after = _steady(journal, "after")
    if journal.get("status") != "completed":
        broken = next((r for r in runs if _failed(r)), None)
        detail = f": {_failure(broken)}" if broken is not None else (f": {note}" if note else "")
        return _judged(
            Reason.ACTIVITY_FAILED,
            f"the experiment ended {journal.get('status')}{detail}",
            _rollbacks(journal),
        )
    if after is None:
        return _judged(Reason.NO_DATA, "the experiment has no steady-state hypothesis to judge by")
    if after.get("steady_state_met") is False or journal.get("deviated") is True:
        failing = _first_unmet(after)
        if failing is not None and _no_data(failing):
            why = f"no data for the steady state after the method ({_failure(failing)})"
            return _judged(Reason.NO_DATA, why)
        which = f" ({_failure(failing)})" if failing is not None else ""
        return _judged(Reason.DEVIATED, f"the steady state deviated after the method{which}")
    return _judged(Reason.STEADY, "the steady state held", _evidence(runs))


def verdict_of(journal: Mapping[str, Any] | None) -> Verdict:
    """Map a journal (or its absence) to a verdict; see :func:`judge` for why."""
    return judge(journal).verdict


def _judged(reason: Reason, message: str, *details: str) -> Judgement:
    text = "; ".join(part for part in (message, *details) if part)
    if len(text) > MAX_MESSAGE:
        text = text[: MAX_MESSAGE - 1] + "…"
    return Judgement(reason, text)


def _steady(journal: Mapping[str, Any], when: str) -> Mapping[str, Any] | None:
    states = journal.get("steady_states") or {}
    state = states.get(when) if isinstance(states, Mapping) else None
    return state if isinstance(state, Mapping) else None


def _entries(value: Any) -> list[Mapping[str, Any]]:
    if not isinstance(value, Sequence) or isinstance(value, str):
        return []
    return [entry for entry in value if isinstance(entry, Mapping)]


def _probes(state: Mapping[str, Any] | None) -> Iterator[Mapping[str, Any]]:
    yield from _entries((state or {}).get("probes"))


def _activity(entry: Mapping[str, Any]) -> Mapping[str, Any]:
    activity = entry.get("activity")
    return activity if isinstance(activity, Mapping) else {}


def _module(entry: Mapping[str, Any]) -> str:
    provider = _activity(entry).get("provider")
    return str(provider.get("module") or "") if isinstance(provider, Mapping) else ""


def _kind(entry: Mapping[str, Any]) -> str:
    return str(_activity(entry).get("type") or "")


def _failed(entry: Mapping[str, Any]) -> bool:
    """Whether the activity raised; chaoslib leaves ``status`` out for an aborted one."""
    return entry.get("status") != "succeeded"


def _first_failed(state: Mapping[str, Any] | None, module: str) -> Mapping[str, Any] | None:
    return next((p for p in _probes(state) if _module(p) == module and _failed(p)), None)


def _first_unmet(state: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """Find the probe that broke the hypothesis (chaoslib stops at the first)."""
    probes = list(_probes(state))
    unmet = [p for p in probes if p.get("tolerance_met") is False or _failed(p)]
    return unmet[0] if unmet else (probes[-1] if probes else None)


def _no_data(entry: Mapping[str, Any]) -> bool:
    """Whether a load probe failed for lack of responses rather than because of them."""
    if _module(entry) != LOAD_MODULE:
        return False
    if _failed(entry):
        return True
    output = entry.get("output")
    if not isinstance(output, Mapping):
        return True
    responses = output.get("responses")
    minimum = output.get("min_responses") or 1
    return (
        output.get("file_found") is False
        or not isinstance(responses, int)
        or (responses < int(minimum))
    )


def _failure(entry: Mapping[str, Any]) -> str:
    """Name the activity and the first line of what went wrong."""
    name = str(_activity(entry).get("name") or "an activity")
    error = error_line(entry)
    if error:
        return f"{name}: {error}"
    output = entry.get("output")
    if isinstance(output, Mapping) and output.get("sample_errors"):
        return f"{name}: {output['sample_errors'][0]}"
    if isinstance(output, Mapping) and output.get("file_found") is False:
        return f"{name}: no load results file {output.get('file')}"
    if isinstance(output, Mapping) and int(output.get("responses") or 0) < int(
        output.get("min_responses") or 0
    ):
        return (
            f"{name}: {output.get('responses') or 0} responses in {output.get('window_seconds')}s,"
            f" fewer than {output.get('min_responses')}"
        )
    if isinstance(output, Mapping) and "responses" in output:
        return f"{name}: {output.get('failures', 0)} of {output.get('responses')} responses failed"
    return (
        name
        if entry.get("status") == "succeeded"
        else f"{name}: {entry.get('status') or 'did not finish'}"
    )


def error_line(entry: Mapping[str, Any]) -> str:
    """Give the last line of an activity's traceback in the journal: what went wrong."""
    exception = entry.get("exception")
    if isinstance(exception, str):
        lines = exception.splitlines()
    elif isinstance(exception, Sequence):
        lines = [line for chunk in exception for line in str(chunk).splitlines()]
    else:
        return ""
    lines = [line.strip() for line in lines if line.strip()]
    if not lines:
        return ""
    last = lines[-1]
    while True:  # "chaoslib.exceptions.ActivityFailed: x.Y: why" -> "why" (chaoslib wraps)
        name, sep, message = last.partition(": ")
        if not (sep and "." in name and " " not in name):
            break
        last = message
    return last[:400]


def _rollbacks(journal: Mapping[str, Any]) -> str:
    rollbacks = _entries(journal.get("rollbacks"))
    if not rollbacks:
        return "no rollback played"
    failed = [str(_activity(r).get("name") or "?") for r in rollbacks if _failed(r)]
    if failed:
        return f"rollbacks played: {len(rollbacks)}, FAILED: {', '.join(failed)}"
    return f"rollbacks played: {len(rollbacks)}"


def _evidence(runs: Sequence[Mapping[str, Any]]) -> str:
    """Say what the in-effect checks saw, for the message of a run that held."""
    seen = []
    for entry in runs:
        output = entry.get("output")
        if _module(entry) == IN_EFFECT_MODULE and isinstance(output, Mapping):
            evidence = output.get("evidence")
            if evidence:
                seen.append(str(evidence))
    return f"fault in effect: {'; '.join(seen)}" if seen else ""


def _text(value: Any) -> str:
    return str(value).strip() if value else ""
