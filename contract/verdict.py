"""Journal -> verdict: the one place that decides Pass, Fail or Error.

The runner writes the verdict into its termination message and the operator
writes it into the scenario's status; both call :func:`verdict_of`.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any


class Verdict(StrEnum):
    """What a run says about the system's resilience."""

    PASS = "Pass"  # noqa: S105 - a verdict, not a password
    """The experiment ran to its end and the steady state held."""
    FAIL = "Fail"
    """The steady state deviated after the method: the fault rippled."""
    ERROR = "Error"
    """The experiment could not run to its end (failed, aborted, interrupted, no journal)."""


def verdict_of(journal: Mapping[str, Any] | None) -> Verdict:
    """Map a Chaos Toolkit journal (or its absence) to a verdict."""
    if not journal:
        return Verdict.ERROR
    if journal.get("deviated") is True:
        return Verdict.FAIL
    # chaoslib ends a run "completed" when the hypothesis fails *before* the method:
    # nothing was tested, so that run could not do its job.
    before = (journal.get("steady_states") or {}).get("before") or {}
    if before.get("steady_state_met") is False:
        return Verdict.ERROR
    if journal.get("status") == "completed":
        return Verdict.PASS
    return Verdict.ERROR
