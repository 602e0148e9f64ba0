"""The scheduler fires each scenario's next tick on time, once, and only the current one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from ripple_operator.errors import RetryLaterError
from ripple_operator.scheduler import Scheduler


class UnansweredError(RetryLaterError):
    delay = 0.1


class Recorder:
    """A ``fire`` that records which scenario fired when, and can fail on demand."""

    def __init__(self) -> None:
        self.fired: list[tuple[str, datetime]] = []
        self.failures = 0
        self.event = asyncio.Event()

    async def __call__(self, namespace: str, name: str) -> None:
        self.fired.append((f"{namespace}/{name}", datetime.now(UTC)))
        self.event.set()
        if self.failures:
            self.failures -= 1
            raise UnansweredError("the API did not answer")

    async def next(self) -> tuple[str, datetime]:
        await asyncio.wait_for(self.event.wait(), 2.0)
        self.event.clear()
        return self.fired[-1]


@pytest.fixture
async def running() -> AsyncIterator[tuple[Scheduler, Recorder]]:
    recorder = Recorder()
    scheduler = Scheduler(fire=recorder)
    scheduler.start()
    yield scheduler, recorder
    await scheduler.stop()


def soon(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


async def test_a_tick_fires_at_its_time_not_before(running: tuple[Scheduler, Recorder]) -> None:
    scheduler, recorder = running
    when = soon(0.3)
    scheduler.set(("ns", "a"), when)
    key, fired = await recorder.next()
    assert key == "ns/a"
    assert when <= fired < when + timedelta(seconds=0.1)
    assert scheduler.due == {}


async def test_ticks_fire_in_time_order_whatever_the_order_they_came_in(
    running: tuple[Scheduler, Recorder],
) -> None:
    scheduler, recorder = running
    scheduler.set(("ns", "late"), soon(0.4))
    scheduler.set(("ns", "early"), soon(0.1))
    assert (await recorder.next())[0] == "ns/early"
    assert (await recorder.next())[0] == "ns/late"


async def test_a_moved_or_dropped_tick_fires_only_as_it_now_is(
    running: tuple[Scheduler, Recorder],
) -> None:
    scheduler, recorder = running
    scheduler.set(("ns", "moved"), soon(0.1))
    scheduler.set(("ns", "moved"), soon(0.5))
    scheduler.set(("ns", "dropped"), soon(0.2))
    scheduler.set(("ns", "dropped"), None)
    key, fired = await recorder.next()
    assert key == "ns/moved"
    assert fired >= soon(0) - timedelta(seconds=0.2)
    # A later tick: by the time it fires, the dropped one (due at 0.2 s) would have too.
    scheduler.set(("ns", "sentinel"), soon(0.1))
    assert (await recorder.next())[0] == "ns/sentinel"
    assert [k for k, _ in recorder.fired] == ["ns/moved", "ns/sentinel"]


async def test_a_tick_whose_start_failed_is_tried_again(
    running: tuple[Scheduler, Recorder],
) -> None:
    scheduler, recorder = running
    recorder.failures = 1
    scheduler.set(("ns", "flaky"), soon(0))
    first = await recorder.next()
    second = await recorder.next()
    assert first[0] == second[0] == "ns/flaky"
    assert second[1] - first[1] >= timedelta(seconds=0.1)
    assert scheduler.due == {}


async def test_a_thousand_far_ticks_cost_one_sleeping_task(
    running: tuple[Scheduler, Recorder],
) -> None:
    scheduler, recorder = running
    for i in range(1000):
        scheduler.set((f"ns{i % 10}", f"s{i}"), soon(3600 * 24 * 365))
    scheduler.set(("ns", "now"), soon(0.05))
    assert (await recorder.next())[0] == "ns/now"
    assert len(scheduler.due) == 1000
    assert not scheduler.firing or all(t.done() for t in scheduler.firing)
