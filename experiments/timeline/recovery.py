"""Watch the load after the fault is removed, until errors are back at the baseline.

chaoslib plays the rollbacks last, so the run would end the moment the fault is gone and
the timeline would never show the recovery. The runner waits here a bounded time, while
the load goes on, for a few settled seconds at the baseline's error ratio.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from ..extension.load_results import Response, parse_line, read_responses
from .impact import impact_threshold
from .phases import fault_window

logger = logging.getLogger(__name__)

SETTLE_SECONDS: Final = 3
"""Consecutive seconds at the baseline that count as recovered."""
LAG_SECONDS: Final = 2.0
"""A result is written when its answer comes: the last seconds may still be filling."""
POLL_SECONDS: Final = 0.5


def wait_for_recovery(
    results: Path,
    journal: Mapping[str, Any] | None,
    *,
    max_seconds: float,
    stop: Callable[[], bool] = lambda: False,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> float | None:
    """Wait until the load is back at its baseline after the fault window, or give up.

    Returns the seconds waited once recovered, ``None`` when it gave up (time out, no data,
    ``stop()`` said so) or there was nothing to wait for (no fault window, no load).
    """
    window = fault_window(journal or {})
    if window is None or window.end is None or max_seconds <= 0 or not results.is_file():
        return None
    end = window.end
    baseline = [r for r in read_responses(results) if r.at < window.start]
    failed = sum(1 for r in baseline if r.failed)
    threshold = impact_threshold(failed / len(baseline) if baseline else None)
    started = time.monotonic()
    seconds: dict[int, list[int]] = {}
    with results.open("rb") as stream:
        while not stop():
            for response in _new_responses(stream):
                if response.at >= end:
                    second = seconds.setdefault(
                        math.floor((response.at - end).total_seconds()), [0, 0]
                    )
                    second[0] += 1
                    second[1] += int(response.failed)
            settled = (clock() - end).total_seconds() - LAG_SECONDS
            if _recovered(seconds, complete=math.floor(settled), threshold=threshold):
                waited = time.monotonic() - started
                logger.info("the load is back at its baseline (waited %.1fs)", waited)
                return waited
            if time.monotonic() - started >= max_seconds:
                logger.info("the load did not settle within %ss after the fault", max_seconds)
                return None
            time.sleep(POLL_SECONDS)
    return None


def _recovered(seconds: Mapping[int, list[int]], *, complete: int, threshold: float) -> bool:
    """Whether the last ``SETTLE_SECONDS`` complete seconds each had requests, none impacted."""
    if complete < SETTLE_SECONDS:
        return False
    recent = [seconds.get(s) for s in range(complete - SETTLE_SECONDS, complete)]
    return all(s is not None and s[0] and s[1] / s[0] <= threshold for s in recent)


def _new_responses(stream: Any) -> Iterator[Response]:
    """Read the complete lines appended since the last call (a partial one waits)."""
    while True:
        position = stream.tell()
        line = stream.readline()
        if not line:
            return
        if not line.endswith(b"\n"):
            stream.seek(position)
            return
        response = parse_line(line)
        if response is not None:
            yield response
