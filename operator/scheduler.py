"""The scheduler: one in-process timer for every scheduled scenario, keyed by its next tick.

The scenarios' watch feeds it (``feed``): each event gives the scenario's next cron tick,
computed from its schedule and ``status.lastScheduleTime`` (``decisions.next_tick``). One
background task sleeps until the earliest tick and hands it to ``fire`` then, so a tick
starts within milliseconds of its cron time, and while nothing is due the scheduler makes
no API request at all, however many scenarios have a schedule. A tick that fired writes
``lastScheduleTime``, whose watch event brings the next one.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import kopf

from . import decisions
from .errors import RetryLaterError
from .spec import InvalidSpecError

logger = logging.getLogger(__name__)

Key = tuple[str, str]
"""A scenario's namespace and name."""
Fire = Callable[[str, str], Awaitable[None]]
"""Start a scenario's tick (``reconcile.handle_schedule_tick``)."""

RETRY_SECONDS: Final = 10.0
"""How soon a tick that failed (the API did not answer) is tried again."""
MAX_SLEEP_SECONDS: Final = 3600.0
"""The longest single sleep: a wall clock that jumps is seen within the hour."""


@dataclass(kw_only=True)
class Scheduler:
    """The next tick of every scheduled scenario and the task that fires them on time."""

    fire: Fire
    due: dict[Key, datetime] = field(default_factory=dict)
    """The next tick of each scheduled scenario; the heap may hold stale times besides."""
    heap: list[tuple[datetime, Key]] = field(default_factory=list)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    firing: set[asyncio.Task[None]] = field(default_factory=set)
    task: asyncio.Task[None] | None = None

    def set(self, key: Key, when: datetime | None) -> None:
        """Keep ``when`` as the scenario's next tick (``None``: it has none)."""
        if when is None:
            if self.due.pop(key, None) is not None:
                self.wake.set()
            return
        if self.due.get(key) == when:
            return
        self.due[key] = when
        heapq.heappush(self.heap, (when, key))
        self.wake.set()

    def start(self) -> None:
        """Start the background task."""
        self.task = asyncio.create_task(self.run_forever(), name="ripple scheduler")

    async def stop(self) -> None:
        """Cancel the background task and the ticks under way; wait for them to end."""
        tasks = [t for t in (self.task, *self.firing) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def next_due(self) -> tuple[datetime, Key] | None:
        """Give the earliest tick still current, dropping stale ones from the heap top."""
        while self.heap:
            when, key = self.heap[0]
            if self.due.get(key) == when:
                return when, key
            heapq.heappop(self.heap)
        return None

    async def run_forever(self) -> None:
        """Sleep until the earliest tick (or a new, earlier one), then fire it."""
        logger.info("scheduler started")
        while True:
            self.wake.clear()
            upcoming = self.next_due()
            delay = MAX_SLEEP_SECONDS
            if upcoming is not None:
                when, key = upcoming
                delay = (when - datetime.now(UTC)).total_seconds()
                if delay <= 0:
                    heapq.heappop(self.heap)
                    del self.due[key]
                    task = asyncio.create_task(self._fire(key, when), name=f"tick {key}")
                    self.firing.add(task)
                    task.add_done_callback(self.firing.discard)
                    continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=min(delay, MAX_SLEEP_SECONDS))

    async def _fire(self, key: Key, when: datetime) -> None:
        namespace, name = key
        late = (datetime.now(UTC) - when).total_seconds()
        logger.info("schedule tick of %s/%s due %s (%.3fs ago)", namespace, name, when, late)
        try:
            await self.fire(namespace, name)
        except InvalidSpecError as exc:
            logger.warning("schedule tick of %s/%s refused: %s", namespace, name, exc)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            delay = exc.delay if isinstance(exc, RetryLaterError) and exc.delay else RETRY_SECONDS
            logger.warning(
                "schedule tick of %s/%s failed (%s); again in %ss", namespace, name, exc, delay
            )
            if key not in self.due:
                self.set(key, datetime.now(UTC) + timedelta(seconds=delay))


MEMO_SCHEDULER: Final = "ripple_scheduler"


def start(memo: kopf.Memo, *, fire: Fire) -> Scheduler:
    """Start the scheduler's task; keep it in the memo for the watch to feed."""
    scheduler = Scheduler(fire=fire)
    memo[MEMO_SCHEDULER] = scheduler
    scheduler.start()
    return scheduler


def feed(memo: kopf.Memo, scenario: Mapping[str, Any]) -> None:
    """Take a scenario as its watch shows it: its next tick, or none (being deleted).

    A scenario deleted with no finalizer left keeps its time until it fires, which finds
    the scenario gone and does nothing.
    """
    scheduler = memo.get(MEMO_SCHEDULER)
    if not isinstance(scheduler, Scheduler):
        return
    meta = scenario.get("metadata") or {}
    key = (str(meta.get("namespace")), str(meta.get("name")))
    scheduler.set(key, decisions.next_tick(scenario))


async def stop(memo: kopf.Memo) -> None:
    """Stop the scheduler, if one runs."""
    scheduler = memo.get(MEMO_SCHEDULER)
    if isinstance(scheduler, Scheduler):
        await scheduler.stop()
