"""A timeline stays small: a 10-minute run at 100 requests/s fits, longer runs downsample."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ripple_contract.timeline import (
    LARGE_TIMELINE_BYTES,
    MAX_BUCKETS,
    MAX_HOPS,
    MAX_TIMELINE_BYTES,
    OTHER_HOP,
    Bucket,
    Timeline,
    bucket_width,
    configmap_entries,
)
from ripple_experiments.timeline import build_timeline

DATA = Path(__file__).parent / "data" / "timeline"


@pytest.mark.parametrize(
    ("seconds", "width"),
    [(0, 1), (1, 1), (600, 1), (720, 1), (721, 2), (3600, 5), (7200, 10), (86400, 120)],
)
def test_bucket_width(seconds: float, width: int) -> None:
    assert bucket_width(seconds) == width
    assert seconds / width <= MAX_BUCKETS


def recorded_lines() -> list[dict[str, Any]]:
    """Every real response of the recordings (healthy and failed alike)."""
    found = []
    for name in ("back-frozen", "middle-frozen", "back-restarts"):
        with (DATA / name / "results.jsonl").open() as stream:
            found += [json.loads(line) for line in stream]
    return found


def replay(path: Path, *, seconds: int, rate: int, start: datetime) -> None:
    """Write ``seconds`` of load at ``rate``/s, cycling through the recorded responses."""
    recorded = recorded_lines()
    step = timedelta(seconds=1 / rate)
    with path.open("w") as out:
        for i in range(seconds * rate):
            line = dict(recorded[i % len(recorded)])
            line["timestamp"] = (start + i * step).isoformat().replace("+00:00", "Z")
            line["seq"] = i
            out.write(json.dumps(line, separators=(",", ":")) + "\n")


def journal_for(start: datetime, seconds: int) -> dict[str, Any]:
    iso = (start + timedelta(seconds=seconds)).isoformat()
    return {"start": start.isoformat(), "end": iso, "run": [], "rollbacks": []}


def test_ten_minutes_at_a_hundred_per_second_keep_one_second_buckets(tmp_path: Path) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    results = tmp_path / "results.jsonl"
    replay(results, seconds=600, rate=100, start=start)
    timeline = build_timeline(results, journal_for(start, 600))
    assert timeline.bucket_seconds == 1
    assert len(timeline.buckets) == 600
    assert timeline.responses == 60_000
    data, binary = configmap_entries(timeline)
    size = len(timeline.to_json().encode())
    print(f"10 min at 100/s: {size} B as JSON, {len(next(iter(binary.values()), ''))} B stored")
    assert size <= MAX_TIMELINE_BYTES
    assert binary, f"above {LARGE_TIMELINE_BYTES} B it is stored gzipped"
    assert not data


def test_a_two_hour_run_downsamples_to_the_bucket_limit(tmp_path: Path) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    results = tmp_path / "results.jsonl"
    replay(results, seconds=7200, rate=2, start=start)
    timeline = build_timeline(results, journal_for(start, 7200))
    assert timeline.bucket_seconds == 10
    assert len(timeline.buckets) == MAX_BUCKETS
    assert all(b.requests == 20 for b in timeline.buckets)
    assert timeline.responses == 14_400


def test_the_largest_timeline_the_limits_allow_still_fits() -> None:
    hops = {f"hop-{i}->upstream-{i}": 10_000 + i for i in range(MAX_HOPS)}
    hops[OTHER_HOP] = 99_999
    bucket = Bucket(
        start=86_280.0,
        requests=999_999,
        ok=999_999,
        errors=hops,
        p50_ms=59_999.9,
        p90_ms=59_999.9,
        p99_ms=59_999.9,
    )
    timeline = Timeline(
        origin=datetime(2026, 1, 1, tzinfo=UTC),
        duration=86_400.0,
        bucket_seconds=120,
        buckets=[bucket] * MAX_BUCKETS,
    )
    assert len(timeline.to_json().encode()) <= MAX_TIMELINE_BYTES
    configmap_entries(timeline)


def test_more_failing_hops_than_kept_are_counted_as_other(tmp_path: Path) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    results = tmp_path / "results.jsonl"
    with results.open("w") as out:
        for i in range(MAX_HOPS + 5):
            body = {"service": "front", "value": 1, "stalled": True, "chain": ["front"]}
            body["error"] = f"front: hop{i}: upstream{i} timed out after 1.0s"
            line = {
                "timestamp": (start + timedelta(seconds=i / 10)).isoformat(),
                "code": 200,
                "latency": 1_000_000,
                "error": "",
                "body": base64.b64encode(json.dumps(body).encode()).decode(),
            }
            out.write(json.dumps(line) + "\n")
    timeline = build_timeline(results, journal_for(start, 2))
    assert len(timeline.hops) == MAX_HOPS + 1
    other = timeline.hop(OTHER_HOP)
    assert other is not None
    assert other.failed == 5
