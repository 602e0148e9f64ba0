"""Give the C heap's free pages back to the system, now and then.

A start with 1 000 scenarios parses and patches them all at once: glibc's heap grows by
hundreds of MiB of short-lived bodies and buffers, and once they are freed it keeps them
(only the heap's top is ever returned, and a few live chunks pin the rest). Measured idle
after such a start: RSS 500 MiB, of which a full garbage collection (the responses and
errors of the start sit in reference cycles until one runs) and ``malloc_trim(0)`` return
290 MiB. The trimmer looks every ``period`` seconds and does both while it pays (the resident set
grew by 8 MiB since it last did, or that time gave 8 MiB back); where the C library is not
glibc it does nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Final

import kopf

MEMO_TRIMMER: Final = "ripple_memory_trimmer"
DEFAULT_PERIOD_SECONDS: Final = 30.0
DEFAULT_GROWTH_BYTES: Final = 8 << 20

log = logging.getLogger(__name__)


def _malloc_trim() -> Callable[[int], int] | None:
    """Find the C library's ``malloc_trim`` (glibc's); ``None`` where it has none (musl)."""
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


MALLOC_TRIM: Final = _malloc_trim()


def release_free_memory() -> bool:
    """Return the heap's free pages to the system; ``True`` if some were returned."""
    return MALLOC_TRIM is not None and MALLOC_TRIM(0) == 1


def collect_and_release() -> bool:
    """Free the garbage in reference cycles (a start leaves tens of thousands), then trim."""
    gc.collect()
    return release_free_memory()


def rss_bytes() -> int | None:
    """Read the process's resident set (Linux); ``None`` where there is no /proc."""
    try:
        resident = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    return resident * os.sysconf("SC_PAGE_SIZE")


class Trimmer:
    """Collects and trims while it pays: the resident set grew, or the last time gave back.

    Idle costs nothing then (a full collection takes tens of milliseconds with 1 000
    scenarios); a burst that is still growing when it is first trimmed is trimmed again.
    """

    def __init__(self, *, growth: int = DEFAULT_GROWTH_BYTES) -> None:
        self.growth = growth
        self.after: int | None = None
        """The resident set after the last collection, ``None`` before the first."""
        self.gained = 0
        """What the last collection gave back."""
        self.looks = 0
        """How many times :meth:`step` looked."""

    def step(self) -> bool:
        """Collect and trim if it may pay (see the class); ``True`` if it did."""
        self.looks += 1
        now = rss_bytes()
        if (
            self.after is not None
            and now is not None
            and now < self.after + self.growth
            and self.gained < self.growth
        ):
            return False
        collect_and_release()
        self.after = rss_bytes()
        self.gained = (now or 0) - (self.after or 0)
        return True


async def trim_forever(period: float, trimmer: Trimmer | None = None) -> None:
    """Look every ``period`` seconds until cancelled."""
    trimmer = trimmer or Trimmer()
    while True:
        await asyncio.sleep(period)
        trimmer.step()


def start(
    memo: kopf.Memo, *, period: float = DEFAULT_PERIOD_SECONDS, trimmer: Trimmer | None = None
) -> None:
    """Start the trimmer task (nothing where there is no ``malloc_trim``); keep it in the memo."""
    if MALLOC_TRIM is None:
        log.debug("no malloc_trim in this C library: the heap is not trimmed")
        return
    memo[MEMO_TRIMMER] = asyncio.create_task(
        trim_forever(period, trimmer), name="ripple memory trim"
    )


async def stop(memo: kopf.Memo) -> None:
    """Cancel the trimmer task, if one runs."""
    task = memo.get(MEMO_TRIMMER)
    if isinstance(task, asyncio.Task):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
