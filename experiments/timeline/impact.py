"""The fault's impact, judged against the run's own baseline rather than a fixed threshold.

A bucket is *impacted* when its share of failed requests is clearly above the baseline's:
more than twice it, and at least five points more. The system has *recovered* once no
bucket after the fault's removal is impacted any more.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final

from ripple_contract.timeline import Bucket, FaultWindow, Figures, Hop, Impact

from .hops import FailedHop
from .latency import Histogram

MIN_EXCESS: Final = 0.05
"""An impacted bucket fails at least this much more often than the baseline."""


@dataclass
class Stretch:
    """The load over one stretch of the run (before, during or after the fault)."""

    requests: int = 0
    failed: int = 0
    latency: Histogram = field(default_factory=Histogram)
    hops: Counter[str] = field(default_factory=Counter)

    def add(self, latency_ms: float, *, failed: bool, hop: FailedHop | None) -> None:
        """Count one response."""
        self.requests += 1
        self.latency.add(latency_ms)
        if failed:
            self.failed += 1
            if hop is not None:
                self.hops[hop.key] += 1

    def figures(self) -> Figures:
        """Sum the stretch up: error ratio and latency percentiles."""
        return Figures(
            requests=self.requests,
            failed=self.failed,
            error_ratio=round(self.failed / self.requests, 4) if self.requests else None,
            p50_ms=self.latency.percentile(50),
            p99_ms=self.latency.percentile(99),
        )


def impact_threshold(baseline_ratio: float | None) -> float:
    """Give the error ratio above which a bucket counts as impacted."""
    base = baseline_ratio or 0.0
    return max(2 * base, base + MIN_EXCESS)


def impact_of(
    *,
    buckets: Sequence[Bucket],
    width: int,
    fault: FaultWindow | None,
    stretches: dict[str, Stretch],
    first_failure: float | None,
    hops: Sequence[Hop],
    origin: datetime,
) -> Impact:
    """Baseline vs fault vs after, time to impact and to recover, and the rippled share."""
    baseline = stretches["baseline"].figures()
    impact = Impact(
        baseline=baseline,
        fault=stretches["fault"].figures(),
        after=stretches["after"].figures(),
    )
    if fault is None:
        return impact
    threshold = impact_threshold(baseline.error_ratio)
    recover = _time_to_recover(buckets, width=width, fault_end=fault.end, threshold=threshold)
    recovered_at = fault.end + recover if recover is not None else None
    span = [
        b
        for b in buckets
        if b.start + width > fault.start and (recovered_at is None or b.start < recovered_at)
    ]
    requests = sum(b.requests for b in span)
    failed = sum(b.failed for b in span)
    culprit_hop = culprit_of(stretches["fault"].hops or stretches["after"].hops, hops)
    culprit = culprit_hop.key if culprit_hop else None
    return impact.model_copy(
        update={
            "time_to_impact_seconds": round(first_failure, 3)
            if first_failure is not None
            else None,
            "time_to_recover_seconds": recover,
            "recovered": recover is not None
            if _has_data_after(buckets, width, fault.end)
            else None,
            "rippled_share": round(failed / requests, 4) if requests else None,
            "rippled_requests": failed,
            "culprit": culprit,
            "culprit_label": culprit_hop.label if culprit_hop else None,
            "fault_start": _iso(origin, fault.start),
            "fault_end": _iso(origin, fault.end),
            "fault_source": fault.source,
        }
    )


def culprit_of(failed: Counter[str], hops: Sequence[Hop]) -> Hop | None:
    """Pick the deepest hop that failed (the one failing most among equally deep ones).

    With every hop giving its upstream the same budget, a caller's timer can expire while
    its upstream still waits on the broken hop below: the deeper failure is the cause.
    """
    known = [hop for hop in hops if failed.get(hop.key)]
    if not known:
        return None
    return max(known, key=lambda hop: (hop.depth, failed[hop.key]))


def _time_to_recover(
    buckets: Sequence[Bucket], *, width: int, fault_end: float, threshold: float
) -> float | None:
    """Seconds from the fault's removal to the end of the last impacted bucket after it.

    ``0`` when nothing was impacted after the removal; ``None`` when the last bucket with
    requests is still impacted (the run ended before the system recovered) or none came.
    """
    after = [b for b in buckets if b.start + width > fault_end and b.requests]
    if not after:
        return None
    impacted = [b for b in after if b.failed / b.requests > threshold]
    if not impacted:
        return 0.0
    if impacted[-1] is after[-1]:
        return None
    return round(max(0.0, impacted[-1].start + width - fault_end), 3)


def _has_data_after(buckets: Sequence[Bucket], width: int, fault_end: float) -> bool:
    return any(b.requests for b in buckets if b.start + width > fault_end)


def _iso(origin: datetime, offset: float) -> str:
    moment = datetime.fromtimestamp(origin.timestamp() + offset, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
