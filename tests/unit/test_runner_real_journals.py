"""The committed real journals: what the runner and the verdict make of them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ripple_contract.verdict import verdict_of
from ripple_experiments.runner.journal import termination_summary
from ripple_experiments.runner.run import ran_to_end

JOURNALS = Path(__file__).parent / "data" / "journals"


def journal(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((JOURNALS / f"{name}.json").read_text())
    return document


@pytest.mark.parametrize(
    ("name", "status", "verdict", "exit_zero"),
    [
        ("pass", "completed", "Pass", True),
        ("deviated", "completed", "Fail", True),
        ("interrupted", "interrupted", "Error", False),
        ("failed", "failed", "Error", False),
        ("aborted", "aborted", "Error", False),
        ("aborted-chaoslib-crashed", "aborted", "Error", False),
    ],
)
def test_real_journals(name: str, status: str, verdict: str, exit_zero: bool) -> None:
    document = journal(name)
    assert document["status"] == status
    assert verdict_of(document) == verdict
    assert ran_to_end(document) is exit_zero
    assert json.loads(termination_summary(document))["verdict"] == verdict


def test_a_steady_state_not_met_before_the_method_did_not_run_to_its_end() -> None:
    document = journal("steady-state-not-met-before")
    assert document["status"] == "completed"
    assert document["steady_states"]["before"]["steady_state_met"] is False
    assert document["run"] == []
    assert not ran_to_end(document)
    assert verdict_of(document) == "Error", "nothing was tested"


def test_the_deviated_journal_carries_the_counts() -> None:
    after = journal("deviated")["steady_states"]["after"]["probes"][1]["output"]
    assert after["failures"] > 0
    assert after["failures"] == after["error_bodies"]
