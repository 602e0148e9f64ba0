"""The report of one run for a terminal: verdict, fault window, impact, and a compact chart.

The chart has one column per bucket (or per group of buckets, for long runs), so the
success ratio and the p99 latency read against the fault window and the phases above
the same column.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Final

from ripple_contract.timeline import Bucket, Phase, Timeline

from . import formats
from .model import StoredRun

CHART_COLUMNS: Final = 60
BLOCKS: Final = "▁▂▃▄▅▆▇█"
LABEL: Final = 10
_PHASE_MARKS: Final = {
    "steady-state-before": "B",
    "action": "M",
    "probe": "M",
    "pause": "m",
    "steady-state-after": "A",
    "rollback": "R",
}


def render(run: StoredRun, *, columns: int = CHART_COLUMNS) -> str:
    """Render the whole terminal report of a run, as lines of text."""
    record = run.record
    timeline = run.timeline
    impact = _impact(run)
    lines = [f"ripple report: {run.title}" + (f" ({run.experiment})" if run.experiment else "")]
    lines.append(_row("verdict", formats.verdict_line(record)))
    if record.get("start"):
        took = f", took {record['duration']}" if record.get("duration") else ""
        lines.append(_row("started", f"{record['start']}{took}"))
    if timeline is not None and timeline.fault is not None:
        fault = timeline.fault
        kinds = f", {', '.join(fault.kinds)}" if fault.kinds else ""
        if fault.confirmed is not None:
            kinds += f", in effect at +{formats.seconds(fault.confirmed)}"
        source = "the fault records" if fault.source == "faults" else "the method and rollbacks"
        lines.append(
            _row(
                "fault",
                f"+{formats.seconds(fault.start)} to +{formats.seconds(fault.end)} "
                f"({formats.seconds(fault.end - fault.start)}{kinds}; from {source})",
            )
        )
    if impact:
        lines += _impact_rows(impact)
    if timeline is not None and len(timeline.hops) > 1:
        counted = ", ".join(f"{hop.label} ({hop.failed})" for hop in timeline.hops)
        lines.append(_row("hops", counted))
    if timeline is not None and timeline.buckets:
        lines.append("")
        lines += chart(timeline, columns=columns)
    for problem in run.problems:
        lines.append(_row("note", problem))
    return "\n".join(lines) + "\n"


def _impact(run: StoredRun) -> Mapping[str, Any]:
    if run.timeline is not None and run.timeline.impact is not None:
        return run.timeline.impact.as_status()
    found = run.record.get("impact")
    return found if isinstance(found, Mapping) else {}


def _impact_rows(impact: Mapping[str, Any]) -> list[str]:
    before, during, after = (impact.get(k) or {} for k in ("baseline", "fault", "after"))
    rows = []
    if impact.get("culpritLabel"):
        rows.append(_row("culprit", str(impact["culpritLabel"])))
    rows.append(
        _row(
            "errors",
            f"{formats.percent(before.get('errorRatio'))} before, "
            f"{formats.percent(during.get('errorRatio'))} during the fault, "
            f"{formats.percent(after.get('errorRatio'))} after "
            f"({before.get('requests', 0)}/{during.get('requests', 0)}/{after.get('requests', 0)}"
            " requests)",
        )
    )
    rows.append(
        _row(
            "p99",
            f"{formats.millis(before.get('p99Ms'))} before, "
            f"{formats.millis(during.get('p99Ms'))} during, "
            f"{formats.millis(after.get('p99Ms'))} after",
        )
    )
    impact_time = impact.get("timeToImpactSeconds")
    rows.append(
        _row(
            "impact",
            f"first error {formats.seconds(impact_time)} after the fault"
            if impact_time is not None
            else "no request failed after the fault",
        )
    )
    rows.append(_row("recovery", formats.recovery(impact)))
    if impact.get("rippledShare") is not None:
        rows.append(
            _row(
                "rippled",
                f"{formats.percent(impact['rippledShare'])} of the requests from the fault to "
                f"the recovery failed at the user ({impact.get('rippledRequests', 0)})",
            )
        )
    return rows


def chart(timeline: Timeline, *, columns: int = CHART_COLUMNS) -> list[str]:
    """Success ratio and p99 over time, the fault window and the phases under them."""
    dense = _dense(timeline)
    groups = _groups(len(dense), columns)
    span = timeline.bucket_seconds * (len(dense) / len(groups))
    success, p99s, fault, phases = [], [], [], []
    top = max((b.p99_ms or 0.0 for b in dense if b is not None), default=0.0) or 1.0
    for first, last in groups:
        chunk = [b for b in dense[first:last] if b is not None and b.requests]
        requests = sum(b.requests for b in chunk)
        ok = sum(b.ok for b in chunk)
        success.append(_block(ok / requests) if requests else " ")
        worst = max((b.p99_ms or 0.0 for b in chunk), default=None)
        p99s.append(_block(worst / top) if worst else " ")
        start, end = first * timeline.bucket_seconds, last * timeline.bucket_seconds
        window = timeline.fault
        fault.append(
            "▓" if window is not None and window.start < end and window.end > start else "·"
        )
        phases.append(_phase_mark(timeline.phases, start, end))
    total = formats.seconds(timeline.duration)
    axis = "0s".ljust(len(groups) - len(total)) + total
    return [
        _row("success", "".join(success) + "  100% at the top"),
        _row("p99", "".join(p99s) + f"  {formats.millis(top)} at the top"),
        _row("fault", "".join(fault)),
        _row("phases", "".join(phases) + "  B before, M method, A after, R rollback"),
        _row("time", axis + f"  ({formats.seconds(span)} a column)"),
    ]


def _dense(timeline: Timeline) -> list[Bucket | None]:
    count = max(1, math.ceil(timeline.duration / timeline.bucket_seconds))
    dense: list[Bucket | None] = [None] * count
    for bucket in timeline.buckets:
        index = min(count - 1, int(bucket.start // timeline.bucket_seconds))
        dense[index] = bucket
    return dense


def _groups(count: int, columns: int) -> list[tuple[int, int]]:
    width = max(1, math.ceil(count / columns))
    return [(i, min(i + width, count)) for i in range(0, count, width)]


def _block(fraction: float) -> str:
    index = min(len(BLOCKS) - 1, max(0, round(fraction * (len(BLOCKS) - 1))))
    return BLOCKS[index]


def _phase_mark(phases: Sequence[Phase], start: float, end: float) -> str:
    marks = [_PHASE_MARKS[p.kind] for p in phases if p.start < end and p.end > start]
    for mark in ("R", "M", "A", "B", "m"):
        if mark in marks:
            return mark
    return "·"


def _row(label: str, text: str) -> str:
    return f"  {label:<{LABEL}}{text}"
