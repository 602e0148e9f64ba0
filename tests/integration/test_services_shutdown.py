"""SIGTERM: unready at once, serving through the shutdown delay, draining, exit 0."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from tests.support.poll import async_wait_for
from tests.support.services import (
    FakeUpstream,
    get_json,
    start_service,
    wait_ready,
)

SHUTDOWN_DELAY = 2.0
#: Requests started this close to the end of the delay may meet the closing listener.
EDGE = 0.3


@dataclass
class LoadLog:
    """What every request of the load saw: (start, end, HTTP status or error name)."""

    results: list[tuple[float, float, int | str]] = field(default_factory=list)

    def ok(self) -> int:
        return sum(1 for *_, outcome in self.results if outcome == 200)


async def load(session: aiohttp.ClientSession, url: str, log: LoadLog, stop: asyncio.Event) -> None:
    """One closed-loop worker: request after request until ``stop``."""
    while not stop.is_set():
        started = time.monotonic()
        try:
            async with session.get(url) as resp:
                await resp.read()
                outcome: int | str = resp.status
        except aiohttp.ClientError as exc:
            outcome = type(exc).__name__
            await asyncio.sleep(0.01)  # the server is gone: do not spin
        log.results.append((started, time.monotonic(), outcome))


async def test_sigterm_under_load_refuses_nothing_during_the_delay(tmp_path: Path) -> None:
    back = start_service("back", tmp_path, shutdown_delay=SHUTDOWN_DELAY)
    try:
        await wait_ready(back)
        log = LoadLog()
        stop = asyncio.Event()
        async with aiohttp.ClientSession() as session, aiohttp.ClientSession() as probe_session:
            workers = [asyncio.create_task(load(session, back.url, log, stop)) for _ in range(8)]
            await async_wait_for(_at_least(log, 100), timeout=10, what="load running")

            sigterm_at = time.monotonic()
            back.terminate()

            async def unready() -> bool:
                async with probe_session.get(f"http://127.0.0.1:{back.port}/readyz") as resp:
                    return resp.status == 503

            await async_wait_for(unready, timeout=SHUTDOWN_DELAY / 2, interval=0.05, what="503")
            served_while_unready = log.ok()

            async def exited() -> bool:
                return back.proc.poll() is not None

            await async_wait_for(exited, timeout=SHUTDOWN_DELAY + 10, what="back to exit")
            stop.set()
            await asyncio.gather(*workers)

        assert back.proc.returncode == 0
        in_delay = [r for r in log.results if r[0] < sigterm_at + SHUTDOWN_DELAY - EDGE]
        refused = [r for r in in_delay if r[2] != 200]
        assert not refused, f"{len(refused)} requests failed during the delay: {refused[:5]}"
        after_sigterm = [r for r in in_delay if r[0] > sigterm_at]
        assert len(after_sigterm) > 50, "the load kept going during the delay"
        assert log.ok() > served_while_unready, "requests were served after readiness fell"
    finally:
        back.stop()


def _at_least(log: LoadLog, count: int) -> Callable[[], Awaitable[bool]]:
    async def probe() -> bool:
        return log.ok() >= count

    return probe


async def test_sigterm_drains_a_request_in_flight(tmp_path: Path) -> None:
    fake = FakeUpstream(mode="slow", delay=0.8)
    await fake.start()
    front = start_service(
        "front", tmp_path, upstream=fake.url, upstream_timeout=1.0, shutdown_delay=0.2
    )
    try:
        await wait_ready(front)
        async with aiohttp.ClientSession() as session:
            in_flight = asyncio.create_task(get_json(session, front.url))

            async def upstream_called() -> bool:
                return fake.calls >= 1

            await async_wait_for(upstream_called, timeout=5, interval=0.02, what="call")
            front.terminate()
            # The delay (0.2 s) ends while the upstream still has ~0.6 s to go: the drain
            # must wait for it rather than cut the request.
            status, body = await in_flight
        assert status == 200
        assert body["stalled"] is False
        assert body["value"] == 7

        async def exited() -> bool:
            return front.proc.poll() is not None

        await async_wait_for(exited, timeout=10, what="front to exit")
        assert front.proc.returncode == 0
        assert any(line.get("msg") == "stopped" for line in front.log_lines())
    finally:
        front.stop()
        await fake.stop()
