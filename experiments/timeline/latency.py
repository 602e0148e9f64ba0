"""Latency percentiles in bounded memory: a log-scale histogram with 1 % wide bins.

A day-long run at 100 requests per second sends millions of requests; keeping every
latency to rank them would not fit the runner's memory, a histogram per bucket does.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Final

_GROWTH: Final = 1.01
"""Each bin is 1 % wider than the one before: percentiles are exact to within 1 %."""
_LOG_GROWTH: Final = math.log(_GROWTH)
_FLOOR_MS: Final = 0.001


class Histogram:
    """Counts of latencies (ms) by bin; merge them to get a stretch's percentiles."""

    __slots__ = ("bins", "count")

    def __init__(self) -> None:
        self.bins: Counter[int] = Counter()
        self.count = 0

    def add(self, latency_ms: float) -> None:
        """Count one latency."""
        self.bins[_bin(latency_ms)] += 1
        self.count += 1

    def merge(self, other: Histogram) -> None:
        """Add another histogram's counts to this one."""
        self.bins.update(other.bins)
        self.count += other.count

    def percentile(self, p: float) -> float | None:
        """Rank the ``p``-th percentile in ms (nearest rank, 0.1 ms); ``None`` when empty."""
        if not self.count:
            return None
        rank = max(1, math.ceil(p / 100 * self.count))
        seen = 0
        for index in sorted(self.bins):
            seen += self.bins[index]
            if seen >= rank:
                return round(_value(index), 1)
        return round(_value(max(self.bins)), 1)  # pragma: no cover - ranks never exceed count


def _bin(latency_ms: float) -> int:
    return math.floor(math.log(max(latency_ms, _FLOOR_MS) / _FLOOR_MS) / _LOG_GROWTH)


def _value(index: int) -> float:
    """Give a bin's geometric middle, so a value's error stays under half a bin."""
    return float(_FLOOR_MS * _GROWTH ** (index + 0.5))
