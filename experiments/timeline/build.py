"""Build a run's timeline from the load's results file and the experiment's journal.

One pass over vegeta's JSON lines: each response lands in its bucket, its failure is
attributed to a hop (:mod:`.hops`), and its latency goes into the bucket's histogram and
into the stretch it belongs to (before, during or after the fault). Memory stays bounded
by the number of buckets, however long the run.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ripple_contract.timeline import (
    MAX_HOPS,
    MAX_SAMPLES,
    MAX_TEXT,
    OTHER_HOP,
    Bucket,
    FaultWindow,
    Hop,
    Phase,
    Timeline,
    bucket_width,
)

from ..extension.load_results import Response, read_responses
from . import hops as attribution
from .hops import FailedHop
from .impact import Stretch, impact_of
from .latency import Histogram
from .phases import Step, Window, fault_window, parse_time, steps

_TAIL_BYTES = 64 * 1024


@dataclass
class _Bucket:
    requests: int = 0
    ok: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    latency: Histogram = field(default_factory=Histogram)


@dataclass
class _Hop:
    failed: FailedHop
    count: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)


def build_timeline(
    results: Path | None, journal: Mapping[str, Any] | None, *, now: datetime | None = None
) -> Timeline:
    """Build the timeline of a run; works without results file (phases only) or journal."""
    journal = journal or {}
    found = results is not None and results.is_file()
    span = _span(results if found else None, journal, now or datetime.now(UTC))
    origin, end = span
    width = bucket_width((end - origin).total_seconds())
    count = max(1, math.ceil((end - origin).total_seconds() / width))
    window = fault_window(journal)
    accumulator = _Accumulator(
        origin=origin, width=width, count=count, window=window, file_found=found
    )
    if found and results is not None:
        accumulator.target = attribution.target_name(_first_url(results))
        for response in read_responses(results):
            accumulator.add(response)
    return accumulator.timeline(journal, steps(journal), duration=(end - origin).total_seconds())


@dataclass
class _Accumulator:
    origin: datetime
    width: int
    count: int
    window: Window | None
    file_found: bool
    target: str = "target"
    responses: int = 0
    buckets: dict[int, _Bucket] = field(default_factory=dict)
    hops: dict[str, _Hop] = field(default_factory=dict)
    stretches: dict[str, Stretch] = field(
        default_factory=lambda: {name: Stretch() for name in ("baseline", "fault", "after")}
    )
    first_failure_in_fault: float | None = None

    def add(self, response: Response) -> None:
        offset = (response.at - self.origin).total_seconds()
        index = min(max(0, math.floor(offset / self.width)), self.count - 1)
        bucket = self.buckets.setdefault(index, _Bucket())
        bucket.requests += 1
        bucket.latency.add(response.latency_ms)
        self.responses += 1
        stretch = self._stretch(response.at)
        failed = self._failed_hop(response) if response.failed else None
        if stretch is not None:
            stretch.add(response.latency_ms, failed=failed is not None, hop=failed)
        if failed is None:
            bucket.ok += 1
            return
        key = failed.key
        if key not in self.hops and len(self.hops) >= MAX_HOPS:
            key = OTHER_HOP
            failed = FailedHop(caller="?", upstream="?", reason="failed")
        bucket.errors[key] += 1
        hop = self.hops.setdefault(key, _Hop(failed=failed))
        hop.count += 1
        hop.reasons[failed.reason[:MAX_TEXT]] += 1
        text = (response.body_error or response.transport_error or failed.reason)[:MAX_TEXT]
        if len(hop.samples) < MAX_SAMPLES and text not in hop.samples:
            hop.samples.append(text)
        if self.window is not None and response.at >= self.window.start:
            since = (response.at - self.window.start).total_seconds()
            if self.first_failure_in_fault is None or since < self.first_failure_in_fault:
                self.first_failure_in_fault = since

    def _failed_hop(self, response: Response) -> FailedHop:
        if response.body_error:
            return attribution.from_error_text(response.body_error)
        if response.transport_error:
            return attribution.from_transport_error(response.transport_error, self.target)
        if response.code != 200:
            return attribution.from_status(response.code, self.target)
        return FailedHop(caller=attribution.LOAD, upstream=self.target, reason="stalled")

    def _stretch(self, at: datetime) -> Stretch | None:
        if self.window is None:
            return self.stretches["baseline"]
        if at < self.window.start:
            return self.stretches["baseline"]
        if self.window.end is None or at < self.window.end:
            return self.stretches["fault"]
        return self.stretches["after"]

    def timeline(
        self, journal: Mapping[str, Any], found: list[Step], *, duration: float
    ) -> Timeline:
        buckets = [
            Bucket(
                start=float(index * self.width),
                requests=acc.requests,
                ok=acc.ok,
                errors=dict(acc.errors),
                p50_ms=acc.latency.percentile(50),
                p90_ms=acc.latency.percentile(90),
                p99_ms=acc.latency.percentile(99),
            )
            for index, acc in sorted(self.buckets.items())
        ]
        hop_list = [
            Hop(
                key=key,
                caller=hop.failed.caller,
                upstream=hop.failed.upstream,
                depth=hop.failed.depth,
                failed=hop.count,
                reasons=dict(hop.reasons.most_common(MAX_SAMPLES)),
                samples=hop.samples,
            )
            for key, hop in sorted(
                self.hops.items(), key=lambda item: (-item[1].failed.depth, -item[1].count)
            )
        ]
        fault = None
        if self.window is not None:
            end = self._offset(self.window.end) if self.window.end else duration
            fault = FaultWindow(
                start=self._offset(self.window.start),
                end=round(min(end, duration), 3),
                source="faults" if self.window.source == "faults" else "activities",
                kinds=list(self.window.kinds),
                confirmed=self._offset(self.window.confirmed) if self.window.confirmed else None,
            )
        impact = impact_of(
            buckets=buckets,
            width=self.width,
            fault=fault,
            stretches=self.stretches,
            first_failure=self.first_failure_in_fault,
            hops=hop_list,
            origin=self.origin,
        )
        return Timeline(
            origin=self.origin,
            duration=round(duration, 3),
            bucket_seconds=self.width,
            buckets=buckets,
            hops=hop_list,
            phases=[
                Phase(
                    kind=step.kind,
                    name=step.name,
                    start=self._offset(step.start),
                    end=self._offset(step.end),
                    status=step.status,
                )
                for step in found
            ],
            fault=fault,
            impact=impact,
            load_file_found=self.file_found,
            responses=self.responses,
        )

    def _offset(self, moment: datetime) -> float:
        return round((moment - self.origin).total_seconds(), 3)


def _span(
    results: Path | None, journal: Mapping[str, Any], now: datetime
) -> tuple[datetime, datetime]:
    """Second 0 (a whole second) and the end: the earliest and latest of the run and the load."""
    moments = [t for t in (parse_time(journal.get("start")), parse_time(journal.get("end"))) if t]
    if results is not None:
        moments += _first_and_last_times(results)
    if not moments:
        moments = [now]
    origin = datetime.fromtimestamp(math.floor(min(moments).timestamp()), tz=UTC)
    end = max(moments)
    if end <= origin:
        end = datetime.fromtimestamp(origin.timestamp() + 1, tz=UTC)
    return origin, end


def _first_and_last_times(path: Path) -> list[datetime]:
    """When the first and the last complete result were sent (reads two ends of the file)."""
    with path.open("rb") as stream:
        head = stream.readline()
        stream.seek(0, 2)
        size = stream.tell()
        stream.seek(max(0, size - _TAIL_BYTES))
        tail = stream.read().split(b"\n")
    found = []
    for line in [head, *reversed(tail[:-1])]:
        moment = _timestamp(line)
        if moment is not None:
            found.append(moment)
            if len(found) == 2:
                break
    return found


def _timestamp(line: bytes) -> datetime | None:
    try:
        raw = json.loads(line)
    except ValueError:
        return None
    return parse_time(raw.get("timestamp")) if isinstance(raw, dict) else None


def _first_url(path: Path) -> str:
    with path.open("rb") as stream:
        try:
            raw = json.loads(stream.readline())
        except ValueError:
            return ""
    return str(raw.get("url") or "") if isinstance(raw, dict) else ""
