"""The load probes count what vegeta wrote, and "no data" is never steady."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ripple_contract.names import METHOD_STARTED_ENV
from ripple_experiments.extension.load_results import (
    count_window,
    judged_window,
    load_summary,
    no_failures,
    parse_line,
    percentiles,
)

NOW = datetime(2026, 11, 24, 12, 0, 0, tzinfo=UTC)


def body(**fields: Any) -> str:
    return base64.b64encode(json.dumps(fields).encode()).decode()


def result(
    *,
    ago: float = 1.0,
    code: int = 200,
    latency_ms: float = 5.0,
    error: str = "",
    payload: str | None = None,
    now: datetime = NOW,
) -> str:
    """One line as ``vegeta encode --to json`` writes it."""
    line = {
        "attack": "",
        "seq": 0,
        "code": code,
        "timestamp": (now - timedelta(seconds=ago)).isoformat().replace("+00:00", "Z"),
        "latency": int(latency_ms * 1e6),
        "bytes_out": 0,
        "bytes_in": 10,
        "error": error,
        "body": payload if payload is not None else body(stalled=False, error=None, value=1),
        "method": "GET",
        "url": "http://front:8080/",
        "headers": {},
    }
    return json.dumps(line) + "\n"


def write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "results.jsonl"
    path.write_text("".join(lines))
    return path


def test_healthy_responses_are_counted_ok(tmp_path: Path) -> None:
    path = write(tmp_path, *(result(ago=i, latency_ms=i + 1) for i in range(10)))
    counts = count_window(path, window_seconds=30, min_responses=5, now=NOW).as_output()
    assert counts["responses"] == 10
    assert counts["ok"] == 10
    assert counts["failures"] == 0
    assert counts["latency_ms"] == {"p50": 5.0, "p95": 10.0, "p99": 10.0, "max": 10.0}
    assert no_failures(counts, min_responses=5)


def test_each_kind_of_failure_is_counted(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        result(),
        result(code=0, error="Get http://front:8080/: connection refused"),
        result(code=503, payload=""),
        result(payload=body(stalled=True, error="front: middle timed out after 1.0s")),
        result(payload=body(stalled=True, error=None)),
        result(payload=body(stalled=False, error="boom")),
    )
    counts = count_window(path, window_seconds=30, min_responses=1, now=NOW).as_output()
    assert counts["responses"] == 6
    assert counts["ok"] == 1
    assert counts["failures"] == 5
    assert counts["transport_errors"] == 1
    assert counts["non_200"] == 1
    assert counts["error_bodies"] == 2
    assert counts["stalled_bodies"] == 2
    assert "front: middle timed out after 1.0s" in counts["sample_errors"]
    assert len(counts["sample_errors"]) == 3
    assert not no_failures(counts, min_responses=1)


def test_healthy_answers_read_the_same_with_or_without_an_error_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        result(payload=body(service="front", value=1, stalled=False, chain=["front"])),
        result(payload=body(service="front", value=2, stalled=False, error=None, chain=[])),
        result(payload=body(service="front", value=2, stalled=True, error="front: x")),
    )
    counts = count_window(path, window_seconds=30, min_responses=1, now=NOW).as_output()
    assert (counts["responses"], counts["ok"], counts["error_bodies"]) == (3, 2, 1)


def test_only_the_window_counts(tmp_path: Path) -> None:
    path = write(tmp_path, result(ago=60, code=500), result(ago=2), result(ago=1))
    counts = count_window(path, window_seconds=10, min_responses=2, now=NOW).as_output()
    assert (counts["responses"], counts["failures"]) == (2, 0)


def test_a_partial_last_line_is_ignored_not_a_crash(tmp_path: Path) -> None:
    complete = result(ago=1)
    path = write(tmp_path, complete, complete, complete[: len(complete) // 2])
    counts = count_window(path, window_seconds=10, min_responses=1, now=NOW).as_output()
    assert counts["responses"] == 2


def test_foreign_lines_are_skipped() -> None:
    assert parse_line("not json\n") is None
    assert parse_line('{"code": 200}\n') is None
    assert parse_line("[1, 2]\n") is None
    assert parse_line(result(payload="%%%not-base64")) is not None


def test_missing_file_is_not_steady(tmp_path: Path) -> None:
    output = load_summary(
        str(tmp_path / "nowhere"), window_seconds=10, min_responses=1, wait_seconds=0
    )
    assert output["file_found"] is False
    assert output["responses"] == 0
    assert output["latency_ms"]["p50"] is None
    assert not no_failures(output, min_responses=1)


def test_too_few_responses_are_not_steady(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    write(tmp_path, result(ago=0.1, now=now), result(ago=0.2, now=now))
    output = load_summary(str(tmp_path), window_seconds=10, min_responses=5, wait_seconds=0)
    assert output["responses"] == 2
    assert output["failures"] == 0
    assert not no_failures(output, min_responses=5)


def test_tolerance_without_a_value_is_not_steady() -> None:
    assert not no_failures(None)
    assert not no_failures({})


@pytest.mark.parametrize(
    ("values", "p50", "p99"),
    [([1.0], 1.0, 1.0), ([3.0, 1.0, 2.0], 2.0, 3.0), (list(map(float, range(1, 101))), 50.0, 99.0)],
)
def test_percentiles_by_nearest_rank(values: list[float], p50: float, p99: float) -> None:
    ranked = percentiles(values)
    assert (ranked["p50"], ranked["p99"], ranked["max"]) == (p50, p99, max(values))


def test_the_window_reaches_back_to_the_method_once_it_started() -> None:
    assert judged_window(10, method_started=None, now=1000.0) == 10
    assert judged_window(10, method_started="", now=1000.0) == 10
    assert judged_window(10, method_started="995", now=1000.0) == 10
    assert judged_window(10, method_started="970.5", now=1000.0) == 29.5
    assert judged_window(10, method_started="not a time", now=1000.0) == 10


def test_an_error_during_a_long_method_still_fails_the_hypothesis_after_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A restart that took 25 s: its errors are older than the 10 s window, not forgotten."""
    now = datetime.now(UTC)
    lines = [result(ago=a, now=now) for a in (1, 2, 3, 4, 5, 6)]
    lines.append(result(ago=20, code=0, error="connection refused", now=now))
    write(tmp_path, *lines)
    before = load_summary(str(tmp_path), window_seconds=10, min_responses=5, wait_seconds=0)
    assert (before["window_seconds"], before["failures"]) == (10, 0)
    assert no_failures(before, min_responses=5)
    # Whole seconds, rounded down: a start rounded up would make the window 24.9999 s.
    monkeypatch.setenv(METHOD_STARTED_ENV, str(int(now.timestamp()) - 25))
    after = load_summary(str(tmp_path), window_seconds=10, min_responses=5, wait_seconds=0)
    assert after["window_seconds"] >= 25
    assert after["failures"] == 1
    assert not no_failures(after, min_responses=5)
