"""Probes over the load results vegeta streams as JSON lines (``vegeta encode --to json``).

The load sidecar appends one JSON object per response to ``<dir>/results.jsonl``;
these probes count what happened in the last seconds so the steady-state hypothesis
can say whether the fault rippled up to the users. "No data" is never "steady":
a missing file or too few responses fail the tolerance.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import os
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ripple_contract.names import LOAD_RESULTS_FILE, METHOD_STARTED_ENV

_MAX_SAMPLE_ERRORS = 3
_MAX_ERROR_CHARS = 200


@dataclass(frozen=True)
class Response:
    """One load response, reduced to what the hypothesis needs."""

    at: datetime
    """When vegeta sent the request."""
    code: int
    """HTTP status; 0 when the request never got an answer."""
    latency_ms: float
    transport_error: str
    """vegeta's own error (connection refused, timeout...); empty when the request completed."""
    body_error: str
    """The ``error`` field of a JSON body, empty when unset."""
    stalled: bool
    """The body's ``stalled`` flag: the service answered with an old value."""

    @property
    def failed(self) -> bool:
        """Whether a user would have seen something wrong."""
        return self.code != 200 or bool(self.transport_error or self.body_error) or self.stalled


@dataclass
class LoadCounts:
    """Counts of one window of responses; serialised into the journal as the probe's output."""

    window_seconds: float
    min_responses: int
    file: str
    file_found: bool = False
    responses: int = 0
    ok: int = 0
    failures: int = 0
    non_200: int = 0
    transport_errors: int = 0
    error_bodies: int = 0
    stalled_bodies: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    sample_errors: list[str] = field(default_factory=list)

    def add(self, response: Response) -> None:
        """Count one response."""
        self.responses += 1
        self.latencies_ms.append(response.latency_ms)
        if not response.failed:
            self.ok += 1
            return
        self.failures += 1
        if response.transport_error:
            self.transport_errors += 1
        elif response.code != 200:
            self.non_200 += 1
        if response.body_error:
            self.error_bodies += 1
        if response.stalled:
            self.stalled_bodies += 1
        message = response.transport_error or response.body_error or f"HTTP {response.code}"
        if response.stalled and not response.body_error and not response.transport_error:
            message = "stalled"
        message = message[:_MAX_ERROR_CHARS]
        if message not in self.sample_errors and len(self.sample_errors) < _MAX_SAMPLE_ERRORS:
            self.sample_errors.append(message)

    def as_output(self) -> dict[str, Any]:
        """Return the probe's output: plain JSON, latency percentiles instead of every latency."""
        return {
            "file": self.file,
            "file_found": self.file_found,
            "window_seconds": self.window_seconds,
            "min_responses": self.min_responses,
            "responses": self.responses,
            "ok": self.ok,
            "failures": self.failures,
            "non_200": self.non_200,
            "transport_errors": self.transport_errors,
            "error_bodies": self.error_bodies,
            "stalled_bodies": self.stalled_bodies,
            "latency_ms": percentiles(self.latencies_ms),
            "sample_errors": list(self.sample_errors),
        }


def percentiles(values: Iterable[float]) -> dict[str, float | None]:
    """p50/p95/p99/max by the nearest-rank method; ``None`` when there is nothing to rank."""
    ordered = sorted(values)
    if not ordered:
        return {"p50": None, "p95": None, "p99": None, "max": None}

    def rank(p: float) -> float:
        index = max(0, math.ceil(p / 100 * len(ordered)) - 1)
        return round(ordered[index], 3)

    return {"p50": rank(50), "p95": rank(95), "p99": rank(99), "max": round(ordered[-1], 3)}


def parse_line(line: str | bytes, *, since: datetime | None = None) -> Response | None:
    """Parse one vegeta JSON result; ``None`` for a partial, blank or foreign line.

    With ``since``, results sent before it are ``None`` too, without decoding their body.
    """
    try:
        raw = json.loads(line)
        at = datetime.fromisoformat(raw["timestamp"])
        code = int(raw.get("code", 0))
        latency_ms = int(raw.get("latency", 0)) / 1e6
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(raw, dict):
        return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    if since is not None and at < since:
        return None
    body_error, stalled = _body_flags(raw.get("body"))
    return Response(
        at=at,
        code=code,
        latency_ms=latency_ms,
        transport_error=str(raw.get("error") or ""),
        body_error=body_error,
        stalled=stalled,
    )


def _body_flags(body: object) -> tuple[str, bool]:
    """Return the ``error`` and ``stalled`` fields of a base64-encoded JSON body, if any."""
    if not isinstance(body, str) or not body:
        return "", False
    try:
        decoded = json.loads(base64.b64decode(body, validate=True))
    except (binascii.Error, ValueError):
        return "", False
    if not isinstance(decoded, dict):
        return "", False
    error = decoded.get("error")
    return (str(error) if error else ""), decoded.get("stalled") is True


def read_responses(path: Path, *, since: datetime | None = None) -> Iterator[Response]:
    """Every complete response in ``path`` (sent at or after ``since``, if given).

    Unreadable lines, such as a partial last one still being written, are skipped.
    """
    with path.open("rb") as stream:
        for line in stream:
            if not line.endswith(b"\n"):
                # vegeta is still writing this one: ignore it rather than guess
                continue
            response = parse_line(line, since=since)
            if response is not None:
                yield response


def count_window(
    path: Path, *, window_seconds: float, min_responses: int, now: datetime | None = None
) -> LoadCounts:
    """Count the responses sent within ``window_seconds`` before ``now``."""
    counts = LoadCounts(window_seconds=window_seconds, min_responses=min_responses, file=str(path))
    if not path.is_file():
        return counts
    counts.file_found = True
    since = (now or datetime.now(UTC)) - timedelta(seconds=window_seconds)
    for response in read_responses(path, since=since):
        counts.add(response)
    return counts


def judged_window(
    window_seconds: float, *, method_started: str | None, now: float | None = None
) -> float:
    """Say how many seconds a load probe looks back: its window, or to the method's start.

    Before the method the window is the one written. After it, what users saw while the
    fault was in place must count however long the method took (a pod that takes 20 s to
    come back would otherwise leave its errors outside a 10 s window and the run would
    pass), so the window reaches back to when the method started.
    """
    if not method_started:
        return window_seconds
    try:
        started = float(method_started)
    except ValueError:
        return window_seconds
    return max(window_seconds, (time.time() if now is None else now) - started)


def load_summary(
    results_dir: str,
    window_seconds: float = 15,
    min_responses: int = 5,
    wait_seconds: float = 30,
) -> dict[str, Any]:
    """Probe: counts and latency percentiles of the load's responses in the last seconds.

    Waits up to ``wait_seconds`` for ``min_responses`` responses to be in the window
    (the load may have just started with the pod); returns the counts either way,
    so the tolerance, not an exception, decides and the journal shows the numbers.
    Under ripple's runner, after the method the window reaches back to the method's start
    (:func:`judged_window`); the output's ``window_seconds`` says which was counted.
    """
    path = Path(results_dir) / LOAD_RESULTS_FILE
    deadline = time.monotonic() + float(wait_seconds)
    while True:
        window = judged_window(
            float(window_seconds), method_started=os.environ.get(METHOD_STARTED_ENV)
        )
        counts = count_window(path, window_seconds=window, min_responses=int(min_responses))
        if counts.responses >= int(min_responses) or time.monotonic() >= deadline:
            return counts.as_output()
        time.sleep(0.5)


def no_failures(value: Mapping[str, Any] | None = None, min_responses: int = 5) -> bool:
    """Tolerance: enough responses were seen and none of them carried an error."""
    if not value:
        return False
    responses = int(value.get("responses", 0))
    return responses >= int(min_responses) and int(value.get("failures", 1)) == 0
