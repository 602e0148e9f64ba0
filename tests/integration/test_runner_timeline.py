"""The runner keeps a timeline of the run: real services on loopback, real vegeta, real chaoslib."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from ripple_contract.names import JOURNAL_IMPACT_KEY
from ripple_contract.timeline import Timeline
from tests.support.runner import start_runner, vegeta_path
from tests.support.services import Chain, start_chain

FIXTURE_EXPERIMENT = Path(__file__).parent / "data" / "back-freezes.json"


@pytest.fixture
def chain(tmp_path: Path) -> Iterator[Chain]:
    logs = tmp_path / "services"
    logs.mkdir()
    with start_chain(logs) as running:
        yield running


def test_a_frozen_back_leaves_a_timeline_with_its_fault_window_and_recovery(
    chain: Chain, tmp_path: Path
) -> None:
    runner = start_runner(
        tmp_path,
        vegeta_path(),
        str(FIXTURE_EXPERIMENT),
        "--configuration", f"front_url={chain.front.url}",
        "--configuration", f"back_pid={chain.back.proc.pid}",
        "--configuration", "min_responses=10",
        "--load-target", chain.front.url,
        "--load-rate", "10/1s",
        "--load-output-dir", str(tmp_path / "load"),
    )  # fmt: skip
    assert runner.wait() == 0, runner.log_text()
    journal = runner.journal()
    timeline = Timeline.from_json(runner.journal_path.with_suffix(".timeline.json").read_text())
    assert timeline.fault is not None
    assert timeline.impact is not None
    failing = [b for b in timeline.buckets if b.failed]
    assert failing, "freezing back rippled to front"
    assert all(timeline.fault.start - 1 < b.start < timeline.fault.end + 3 for b in failing)
    assert timeline.impact.baseline.error_ratio == 0.0
    assert timeline.impact.recovered is True, "the runner watched the load recover"
    after = [b for b in timeline.buckets if b.start >= timeline.fault.end + 1]
    assert len(after) >= 3, "a few seconds of load after the rollback"
    assert journal[JOURNAL_IMPACT_KEY] == json.loads(json.dumps(timeline.impact.as_status()))
    assert "timeline: " in runner.log_text()
