"""Keep-alive connections to the upstream are renewed, so a new firewall rule bites.

Between middle and back sits a test-only stateful firewall (a TCP relay): once
"closed" it refuses new connections but keeps relaying the established ones, which
is how NetworkPolicy implementations built on conntrack behave. middle and back are
the real services.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.support.poll import async_wait_for
from tests.support.services import ServiceProc, free_port, start_service, wait_ready


class StatefulFirewall:
    """Relay 127.0.0.1:port -> target; when closed, refuse new connections only."""

    def __init__(self, target_port: int) -> None:
        self.port = free_port()
        self.target_port = target_port
        self.closed = False
        self.accepted = 0
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._pipes):
            task.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.closed:
            writer.transport.abort()
            return
        self.accepted += 1
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(src, dst))
            self._pipes.add(task)
            task.add_done_callback(self._pipes.discard)

    @staticmethod
    async def _pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        try:
            while chunk := await src.read(65536):
                dst.write(chunk)
                await dst.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            with contextlib.suppress(Exception):
                dst.close()


@pytest.fixture
async def back(tmp_path: Path) -> AsyncIterator[ServiceProc]:
    service = start_service("back", tmp_path)
    await wait_ready(service)
    yield service
    assert service.stop() == 0


@pytest.fixture
async def firewall(back: ServiceProc) -> AsyncIterator[StatefulFirewall]:
    wall = StatefulFirewall(back.port)
    await wall.start()
    yield wall
    await wall.stop()


async def _start_middle(tmp_path: Path, firewall: StatefulFirewall, age: float) -> ServiceProc:
    middle = start_service(
        "middle",
        tmp_path,
        upstream=f"http://127.0.0.1:{firewall.port}/",
        upstream_timeout=0.5,
        extra_args=("--upstream-max-connection-age", str(age)),
    )
    await wait_ready(middle)
    return middle


async def _steady_load_until_stalled(middle: ServiceProc, within: float) -> dict[str, object]:
    """Ask middle ten times a second (never idle) until an answer is stalled."""
    async with aiohttp.ClientSession() as session:

        async def stalled() -> dict[str, object] | None:
            async with session.get(middle.url) as resp:
                body: dict[str, object] = await resp.json()
            if body["stalled"]:
                return body
            await asyncio.sleep(0.1)  # the load's pace, not a wait for a condition
            return None

        return await async_wait_for(stalled, timeout=within, interval=0, what="a stalled answer")


async def test_rule_on_new_connections_reaches_a_busy_keepalive_within_the_max_age(
    tmp_path: Path, firewall: StatefulFirewall
) -> None:
    middle = await _start_middle(tmp_path, firewall, age=1.0)
    try:
        async with aiohttp.ClientSession() as session, session.get(middle.url) as resp:
            assert (await resp.json())["stalled"] is False
        firewall.closed = True
        body = await _steady_load_until_stalled(middle, within=1.0 + 0.5 + 3.0)
        assert str(body["error"]).startswith("middle: back")
    finally:
        assert middle.stop() == 0


async def test_without_a_max_age_the_keepalive_outlives_the_rule(
    tmp_path: Path, firewall: StatefulFirewall
) -> None:
    """The reason for the max age: with it off, the closed firewall changes nothing."""
    middle = await _start_middle(tmp_path, firewall, age=0)
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(middle.url) as resp:
                assert (await resp.json())["stalled"] is False
            firewall.closed = True
            for _ in range(30):
                async with session.get(middle.url) as resp:
                    body = await resp.json()
                assert body["stalled"] is False, body
                await asyncio.sleep(0.1)  # steady load over three seconds
        assert firewall.accepted == 1
    finally:
        assert middle.stop() == 0
