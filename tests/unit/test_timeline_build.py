"""The timeline of recorded real runs (tests/unit/data/timeline): buckets, hops, phases, impact."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ripple_contract.names import JOURNAL_FAULTS_KEY, JOURNAL_IMPACT_KEY
from ripple_contract.timeline import Timeline, configmap_entries, from_configmap
from ripple_experiments.timeline import build_timeline, with_impact

DATA = Path(__file__).parent / "data" / "timeline"
RECORDED = {
    "back-frozen": "middle->back",
    "middle-frozen": "front->middle",
    "back-restarts": "middle->back",
}


def journal_of(name: str) -> dict[str, Any]:
    journal: dict[str, Any] = json.loads((DATA / name / "journal.json").read_text())
    return journal


def timeline_of(name: str, journal: dict[str, Any] | None = None) -> Timeline:
    return build_timeline(DATA / name / "results.jsonl", journal or journal_of(name))


def lines(name: str) -> int:
    return sum(1 for _ in (DATA / name / "results.jsonl").open())


@pytest.mark.parametrize(("name", "culprit"), RECORDED.items())
def test_errors_only_inside_the_fault_window_attributed_to_the_hop_that_failed(
    name: str, culprit: str
) -> None:
    timeline = timeline_of(name)
    assert timeline.fault is not None
    assert timeline.impact is not None
    assert timeline.bucket_seconds == 1
    assert timeline.responses == lines(name), "every recorded response is counted"
    assert sum(b.requests for b in timeline.buckets) == timeline.responses
    failing = [b for b in timeline.buckets if b.failed]
    assert failing, "the fault rippled to front"
    # the last failing second may run into the recovery: at most two seconds after the fault
    assert all(timeline.fault.start - 1 < b.start < timeline.fault.end + 2 for b in failing)
    assert {key for b in failing for key in b.errors} == {culprit}
    assert [hop.key for hop in timeline.hops] == [culprit]
    assert timeline.impact.culprit == culprit
    before = [b for b in timeline.buckets if b.start + 1 <= timeline.fault.start]
    assert before
    assert all(b.ok == b.requests for b in before), "a clean baseline"


def test_impact_against_the_runs_own_baseline() -> None:
    impact = timeline_of("back-restarts").impact
    assert impact is not None
    assert impact.baseline.requests >= 30
    assert impact.baseline.error_ratio == 0.0
    assert impact.fault.error_ratio is not None
    assert impact.fault.error_ratio > 0.9
    assert impact.after.requests > 30
    assert impact.after.error_ratio is not None
    assert impact.after.error_ratio < 0.1
    assert impact.time_to_impact_seconds is not None
    assert impact.time_to_impact_seconds < 1.0
    assert impact.recovered is True
    assert impact.time_to_recover_seconds is not None
    assert 0 < impact.time_to_recover_seconds <= 3, "back answers again within a second or two"
    assert impact.rippled_share is not None
    assert 0.5 < impact.rippled_share < 1.0
    assert impact.culprit_label == "middle → back: unreachable (connection refused)"
    assert impact.fault_source == "activities"


def test_a_frozen_service_shows_in_the_latency() -> None:
    impact = timeline_of("back-frozen").impact
    assert impact is not None
    assert impact.baseline.p99_ms is not None
    assert impact.baseline.p99_ms < 200
    # front answers after its own 1 s timeout budget on middle, middle's on back
    assert impact.fault.p50_ms is not None
    assert 990 <= impact.fault.p50_ms <= 1100


def test_phases_on_the_same_clock_as_the_load() -> None:
    timeline = timeline_of("back-frozen")
    kinds = [p.kind for p in timeline.phases]
    assert kinds == [
        "steady-state-before",
        "action",
        "pause",
        "probe",
        "steady-state-after",
        "rollback",
    ]
    pause = timeline.phases[2]
    assert pause.name == "pause after freeze-back"
    assert pause.end - pause.start == pytest.approx(6.0, abs=0.01), "the configured 6 s"
    assert timeline.fault is not None
    assert timeline.fault.start == timeline.phases[1].start
    assert timeline.fault.end == timeline.phases[-1].end
    starts = [p.start for p in timeline.phases]
    assert starts == sorted(starts)
    assert 0 <= starts[0] < timeline.duration


def test_a_recorded_fault_window_wins_over_the_activities() -> None:
    journal = journal_of("back-restarts")
    start = journal["run"][0]["start"]
    proven = journal["run"][0]["end"]
    rollback_end = journal["rollbacks"][0]["end"]
    journal[JOURNAL_FAULTS_KEY] = [
        {
            "kind": "PodRestart",
            "target": "back",
            "injectedAt": start,
            "confirmedAt": proven,
            "removedAt": rollback_end,
            "evidence": "back stopped",
        }
    ]
    timeline = timeline_of("back-restarts", journal)
    assert timeline.fault is not None
    assert timeline.impact is not None
    assert timeline.fault.source == "faults"
    assert timeline.fault.kinds == ["PodRestart"]
    stop_back = timeline.phases[1]
    assert stop_back.name == "stop-back"
    assert timeline.fault.start == stop_back.start, "the window opens at the injection"
    assert timeline.fault.confirmed == stop_back.end, "and keeps when it was proven"
    assert timeline.impact.fault_source == "faults"
    journal[JOURNAL_FAULTS_KEY][0]["removedAt"] = None
    still = timeline_of("back-restarts", journal)
    assert still.fault is not None
    assert still.fault.end == still.duration, "a fault never removed lasts to the end"
    assert still.impact is not None
    assert still.impact.after.requests == 0


def test_no_results_file_still_gives_the_phases() -> None:
    timeline = build_timeline(DATA / "nowhere.jsonl", journal_of("middle-frozen"))
    assert timeline.responses == 0
    assert timeline.buckets == []
    assert not timeline.load_file_found
    assert len(timeline.phases) == 6
    assert timeline.impact is not None
    assert timeline.impact.recovered is None


def test_stored_and_read_back_through_the_configmap_and_the_journal() -> None:
    timeline = timeline_of("middle-frozen")
    data, binary = configmap_entries(timeline)
    assert from_configmap(data, binary) == timeline
    journal = with_impact(journal_of("middle-frozen"), timeline)
    impact = journal[JOURNAL_IMPACT_KEY]
    assert impact["culprit"] == "front->middle"
    assert impact["recovered"] is True
    assert set(impact["baseline"]) >= {"requests", "failed", "errorRatio", "p99Ms"}
    assert json.loads(json.dumps(impact)) == impact
