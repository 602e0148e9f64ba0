"""``ripple stop-runs``: its flags, and which runs it writes into a scenario's status."""

from __future__ import annotations

from typing import Any

import pytest

from ripple_contract import names
from ripple_contract.commands import SUBCOMMANDS
from ripple_operator.decisions import unrecorded_ends
from ripple_operator.stop_runs import main


def test_it_is_a_subcommand_of_the_one_image() -> None:
    assert SUBCOMMANDS["stop-runs"][0] == "ripple_operator.stop_runs"


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--operator", "no-slash"], "--operator: 'no-slash' is not NAMESPACE/NAME"),
        (["--operator", "ns/"], "is not NAMESPACE/NAME"),
        (["--timeout", "0"], "--timeout: must be above 0"),
        (["--timeout", "soon"], "invalid float value"),
    ],
)
def test_a_bad_flag_is_one_line_and_exit_2(
    argv: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert needle in err


def job(run: int, state: str | None) -> dict[str, Any]:
    conditions = [{"type": state, "status": "True"}] if state else []
    return {
        "metadata": {
            "name": f"s-{run}",
            "labels": {names.LABEL_SCENARIO: "s", names.LABEL_RUN: str(run)},
        },
        "status": {"conditions": conditions},
    }


def scenario(*, recorded: list[str], active: int | None = None) -> dict[str, Any]:
    status: dict[str, Any] = {"history": [{"id": run} for run in recorded]}
    if recorded:
        status["lastRun"] = {"id": recorded[0]}
    if active is not None:
        status["activeRun"] = {"id": str(active), "job": f"s-{active}"}
    return {"metadata": {"name": "s", "namespace": "ns"}, "status": status}


def test_runs_ended_but_not_recorded_are_written_oldest_first_with_their_job() -> None:
    jobs = [job(3, "Failed"), job(2, "Complete"), job(1, "Complete")]
    ends = unrecorded_ends(scenario(recorded=["1"]), jobs)
    assert [(run, j is not None and j["metadata"]["name"]) for run, j in ends] == [
        ("2", "s-2"),
        ("3", "s-3"),
    ]


def test_the_run_whose_job_was_stopped_and_is_gone_is_written_without_a_job() -> None:
    ends = unrecorded_ends(scenario(recorded=["1"], active=2), [job(1, "Complete")])
    assert ends == [("2", None)]


def test_a_job_still_running_and_runs_already_recorded_are_left_alone() -> None:
    jobs = [job(1, "Complete"), job(2, None)]
    assert unrecorded_ends(scenario(recorded=["1"], active=2), jobs) == []
