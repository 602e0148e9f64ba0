"""Reports of a recorded real run: the terminal text, the JSON, the HTML page, the flags."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ripple_experiments.timeline import build_timeline, with_impact
from ripple_operator.status import JobOutcome, RunInfo, history_entry, run_record
from ripple_report import cli, terminal
from ripple_report.figure import figure
from ripple_report.html import PLOTLY_PATH, run_page, runs_page, scenarios_page
from ripple_report.model import ReportError, StoredRun, finished_runs, pick_run

DATA = Path(__file__).parent / "data" / "timeline" / "back-restarts"


@pytest.fixture(scope="module")
def run() -> StoredRun:
    journal = json.loads((DATA / "journal.json").read_text())
    timeline = build_timeline(DATA / "results.jsonl", journal)
    info = RunInfo(run="3", job="s-3", trigger="rerun", journal_configmap="s-3-journal")
    done = JobOutcome(succeeded=True)
    record = run_record(info=info, journal=with_impact(journal, timeline), outcome=done)
    return StoredRun(
        namespace="demo", scenario="s", run="3", record=record, timeline=timeline, experiment="x"
    )


def test_the_terminal_report_tells_the_ripple(run: StoredRun) -> None:
    text = terminal.render(run)
    print(text)
    assert text.startswith("ripple report: demo/s run 3 (x)\n")
    assert "Fail (Deviated)" in text
    assert "middle → back: unreachable (connection refused)" in text
    assert "0.0% before, 98.4% during the fault" in text
    assert "recovery  1.2s" in text
    rows = {line.split()[0]: line for line in text.splitlines() if line.startswith("  ")}
    fault_row = rows["fault"][2 + terminal.LABEL :]
    success_row = rows["success"][2 + terminal.LABEL :].split("  ")[0]
    assert len(fault_row) == len(success_row), "one column per bucket on every row"
    inside = [s for s, f in zip(success_row, fault_row, strict=True) if f == "▓"]
    outside = [s for s, f in zip(success_row, fault_row, strict=True) if f != "▓"]
    assert inside.count("▁") >= 5, "the success ratio falls inside the fault window"
    assert set(outside) <= set("▇█"), "and stays up outside it"


def test_a_long_run_gets_at_most_the_chart_width(run: StoredRun) -> None:
    assert run.timeline is not None
    lines = terminal.chart(run.timeline, columns=5)
    assert len(lines[0][2 + terminal.LABEL :].split("  ")[0]) == 5


def test_json_has_the_record_and_the_whole_timeline(run: StoredRun) -> None:
    document = json.loads(json.dumps(cli.as_json(run)))
    assert document["record"]["impact"]["culprit"] == "middle->back"
    assert len(document["timeline"]["buckets"]) == len(run.timeline.buckets)  # type: ignore[union-attr]


def test_the_html_page_inlines_plotly_or_links_the_operators(run: StoredRun) -> None:
    page = run_page(run)
    assert "Plotly.newPlot" in page
    assert PLOTLY_PATH not in page
    assert len(page) > 3_000_000, "plotly.js is inlined: the page works offline"
    served = run_page(run, inline_plotly=False)
    assert f'src="{PLOTLY_PATH}"' in served
    assert len(served) < 200_000


def test_the_figure_shades_the_fault_and_marks_each_activity(run: StoredRun) -> None:
    assert run.timeline is not None
    drawn = figure(run.timeline)
    rects = [s for s in drawn["layout"]["shapes"] if s["type"] == "rect"]
    assert [(r["x0"], r["x1"]) for r in rects] == [
        (run.timeline.fault.start, run.timeline.fault.end)
    ]  # type: ignore[union-attr]
    names = {trace["name"] for trace in drawn["data"]}
    assert {"ok", "middle → back: unreachable (connection refused)", "latency p99"} <= names
    marks = [s for s in drawn["layout"]["shapes"] if s["type"] == "line"]
    assert len(marks) == 2, "the fault action and the rollback"


def test_pages_of_the_operator_escape_what_they_show(run: StoredRun) -> None:
    scenario: dict[str, Any] = {
        "metadata": {"namespace": "demo", "name": "<s>"},
        "status": {"verdict": "Fail", "phase": "Completed", "runs": 3, "message": "<b>x</b>"},
    }
    page = scenarios_page([scenario])
    assert "&lt;b&gt;x&lt;/b&gt;" in page
    assert "<b>x</b>" not in page
    assert 'href="/scenarios/demo/&lt;s&gt;"' in page
    runs = runs_page("demo", "s", [history_entry(run.record)])
    assert 'href="/scenarios/demo/s/runs/3"' in runs
    assert "middle → back" in runs


def test_picking_a_run_from_the_status(run: StoredRun) -> None:
    older = {"id": "2", "verdict": "Pass"}
    status = {"lastRun": dict(run.record), "history": [history_entry(run.record), older]}
    assert [r["id"] for r in finished_runs(status)] == ["3", "2"]
    assert pick_run(status, None)["id"] == "3"
    assert pick_run(status, "2") == older
    with pytest.raises(ReportError, match=r"no run 7 .*finished runs: 3, 2"):
        pick_run(status, "7")
    with pytest.raises(ReportError, match="run 4 is underway"):
        pick_run({"activeRun": {"id": "4"}, "lastRun": {"id": "4"}}, None)


@pytest.mark.parametrize(
    "argv",
    [[], ["s", "--output", "yaml"], ["s", "--run", "x"], ["s", "--bogus"]],
)
def test_bad_flags_exit_2_with_one_line(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(argv)
    assert exited.value.code == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_the_kubectl_plugin_knows_one_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.kubectl_main(["delete", "s"]) == 2
    assert capsys.readouterr().err.strip() == (
        "kubectl ripple: error: unknown command 'delete' (expected report)"
    )
    with pytest.raises(SystemExit) as exited:
        cli.kubectl_main(["report"])
    assert exited.value.code == 2
    assert capsys.readouterr().err.startswith("kubectl ripple report: error:")


def test_a_hostile_error_text_cannot_leave_the_charts_script() -> None:
    from ripple_report.html import script_json

    text = script_json({"hover": "front: </script><script>alert(1)</script> & more"})
    assert "</script>" not in text
    assert "<" not in text
    assert json.loads(text) == {"hover": "front: </script><script>alert(1)</script> & more"}
