"""Poll for a condition with a deadline: the only way tests wait for anything."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


class PollTimeout(AssertionError):  # noqa: N818 - reads as a test failure
    """The condition did not hold before the deadline; carries the last value seen."""


def wait_for(
    probe: Callable[[], T | None],
    *,
    timeout: float,
    interval: float = 0.2,
    what: str = "condition",
) -> T:
    """Call ``probe`` until it returns a truthy value; return that value.

    Exceptions raised by ``probe`` count as "not yet" and the last one is reported.
    """
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        try:
            value = probe()
            if value:
                return value
            last = value
        except Exception as exc:  # reported on timeout
            last = exc
        if time.monotonic() >= deadline:
            raise PollTimeout(f"timed out after {timeout}s waiting for {what}; last: {last!r}")
        time.sleep(interval)


async def async_wait_for(
    probe: Callable[[], Awaitable[T | None]],
    *,
    timeout: float,  # noqa: ASYNC109 - a polling deadline, not an I/O timeout
    interval: float = 0.2,
    what: str = "condition",
) -> T:
    """Async twin of :func:`wait_for`."""
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        try:
            value = await probe()
            if value:
                return value
            last = value
        except Exception as exc:  # reported on timeout
            last = exc
        if time.monotonic() >= deadline:
            raise PollTimeout(f"timed out after {timeout}s waiting for {what}; last: {last!r}")
        await asyncio.sleep(interval)
