"""A stored run as every report reads it: the scenario's record of the run and its timeline.

The record is the run's entry in the scenario's status (``lastRun`` for the latest run,
a ``history`` entry for an older one); the timeline comes from the run's journal
ConfigMap. Both readers — ``ripple report`` through a kubeconfig, the operator's pages
through its own client — build the same :class:`StoredRun`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ripple_contract.timeline import Timeline


class ReportError(RuntimeError):
    """What was asked for cannot be reported; the message says why in one line."""


@dataclass(frozen=True, kw_only=True)
class StoredRun:
    """One finished run of a scenario, as stored in the cluster."""

    namespace: str
    scenario: str
    run: str
    record: Mapping[str, Any]
    """The run's entry in the status: verdict, reason, message, fault, impact..."""
    timeline: Timeline | None = None
    """``None`` when the run stored none (a runner older than timelines, no journal)."""
    experiment: str = ""
    problems: Sequence[str] = field(default_factory=tuple)
    """What could not be read (a journal ConfigMap gone with the history, say)."""

    @property
    def title(self) -> str:
        """How the run is named in headings: ``namespace/scenario run N``."""
        return f"{self.namespace}/{self.scenario} run {self.run}"


def finished_runs(status: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    """List the finished runs the status remembers, newest first (``lastRun`` once)."""
    status = status or {}
    runs: dict[str, Mapping[str, Any]] = {}
    last = status.get("lastRun")
    if isinstance(last, Mapping) and last.get("verdict") and last.get("id") is not None:
        runs[str(last["id"])] = last
    for entry in status.get("history") or []:
        if isinstance(entry, Mapping) and entry.get("id") is not None:
            runs.setdefault(str(entry["id"]), entry)
    return sorted(runs.values(), key=lambda entry: _number(entry.get("id")), reverse=True)


def pick_run(status: Mapping[str, Any] | None, run: str | None) -> Mapping[str, Any]:
    """Find the record of run ``run`` (the newest finished one when ``None``)."""
    runs = finished_runs(status)
    if not runs:
        active = (status or {}).get("activeRun") or {}
        underway = f" (run {active['id']} is underway)" if active.get("id") else ""
        raise ReportError(f"no finished run yet{underway}")
    if run is None:
        return runs[0]
    for entry in runs:
        if str(entry.get("id")) == str(run):
            return entry
    known = ", ".join(str(entry.get("id")) for entry in runs)
    raise ReportError(f"no run {run} in the status (finished runs: {known})")


def _number(value: Any) -> int:
    try:
        return int(str(value))
    except ValueError:
        return -1
