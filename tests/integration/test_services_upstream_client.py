"""The services' own upstream client against a real raw-socket server that misbehaves."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import yarl

from ripple_services.upstream import UpstreamResult, call_upstream, new_pool
from ripple_services.upstream_pool import UpstreamPool
from tests.support.poll import async_wait_for
from tests.support.services import free_port

BODY = b'{"service":"back","value":3,"stalled":false,"chain":["back"]}'
Script = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def ok(body: bytes = BODY, extra: bytes = b"") -> bytes:
    """A keep-alive 200 with a Content-Length."""
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s" % (len(body), extra, body)


class RawServer:
    """Answer each request with whatever ``script`` does; count connections."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.port = free_port()
        self.connections = 0
        self.request_ids: list[bytes] = []
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> RawServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._server is not None
        self._server.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"x-request-id:"):
                        self.request_ids.append(line.split(b":", 1)[1].strip())
                await self.script(reader, writer)
                if writer.is_closing():
                    return


@contextlib.asynccontextmanager
async def client(server: RawServer, *, max_age: float = 0) -> AsyncIterator[UpstreamPool]:
    pool = new_pool(yarl.URL(f"http://127.0.0.1:{server.port}/"), max_age=max_age)
    try:
        yield pool
    finally:
        await pool.close()


async def call(pool: UpstreamPool, budget: float = 1.0) -> UpstreamResult:
    return await call_upstream(pool, name="back", budget=budget, request_id="r-1")


async def test_keep_alive_reuses_one_connection_and_passes_the_request_id() -> None:
    async def answer(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(ok())

    async with RawServer(answer) as server, client(server) as pool:
        for _ in range(3):
            result = await call(pool)
            assert result.outcome == "ok"
            assert result.answer is not None
            assert result.answer.value == 3
    assert server.connections == 1
    assert server.request_ids == [b"r-1"] * 3


async def test_chunked_and_close_delimited_bodies_are_read_whole() -> None:
    async def chunked(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for part in (BODY[:10], BODY[10:]):
            writer.write(b"%x;ext=1\r\n%s\r\n" % (len(part), part))
            await writer.drain()
        writer.write(b"0\r\nX-Trailer: 1\r\n\r\n")

    async def until_close(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\n\r\n" + BODY)
        writer.close()

    for script in (chunked, until_close):
        async with RawServer(script) as server, client(server) as pool:
            assert (await call(pool)).outcome == "ok"
            assert (await call(pool)).outcome == "ok"


async def test_an_idle_connection_the_server_closed_is_replaced_without_an_error() -> None:
    async def answer_then_close(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(ok())
        await writer.drain()
        writer.close()  # as a server's keep-alive timeout does, with no Connection: close

    async with RawServer(answer_then_close) as server, client(server) as pool:
        assert (await call(pool)).outcome == "ok"
        assert (await call(pool)).outcome == "ok"
    assert server.connections == 2


async def test_connection_close_from_the_server_is_honoured() -> None:
    async def answer(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(ok(extra=b"Connection: close\r\n"))

    async with RawServer(answer) as server, client(server) as pool:
        assert (await call(pool)).outcome == "ok"
        assert (await call(pool)).outcome == "ok"
    assert server.connections == 2


async def test_no_connection_is_reused_past_the_max_age() -> None:
    async def answer(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(ok())

    async with RawServer(answer) as server, client(server, max_age=0.2) as pool:

        async def renewed() -> bool:
            assert (await call(pool)).outcome == "ok"
            return server.connections >= 2

        await async_wait_for(renewed, timeout=5, interval=0.05, what="a renewed connection")


@pytest.mark.parametrize(
    ("payload", "outcome", "reason"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n", "bad_body", "too large: 100000"),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n186a0\r\n"
            + b" " * 100_000
            + b"\r\n0\r\n\r\n",
            "bad_body",
            "back sent a bad body (too large: 100000 bytes)",
        ),
        (b"HTTP/1.1 503 Unavailable\r\nContent-Length: 0\r\n\r\n", "bad_status", "HTTP 503"),
        (ok(b"<html>"), "bad_body", "back sent a bad body (not JSON)"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{", "connect_error", "cut short"),
        (b"HTTP/1.1 200 OK\r\nContent-Le", "connect_error", "(server disconnected)"),
        (b"SMTP ready\r\n\r\n", "connect_error", "malformed response"),
    ],
)
async def test_broken_answers_get_their_outcome_and_reason(
    payload: bytes, outcome: str, reason: str
) -> None:
    async def answer(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(payload)
        await writer.drain()
        writer.close()

    async with RawServer(answer) as server, client(server) as pool:
        result = await call(pool)
    assert result.outcome == outcome
    assert reason in str(result.reason)


async def test_a_reset_mid_body_is_a_response_cut_short() -> None:
    async def reset(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{")
        await writer.drain()
        writer.transport.abort()

    async with RawServer(reset) as server, client(server) as pool:
        result = await call(pool)
    assert result.outcome == "connect_error"
    assert result.reason == "back unreachable (response cut short)"


async def test_a_stalled_server_times_out_within_the_budget() -> None:
    release = asyncio.Event()

    async def stall(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await release.wait()

    async with RawServer(stall) as server, client(server) as pool:
        result = await call(pool, budget=0.2)
        release.set()
    assert result.outcome == "timeout"
    assert result.reason == "back timed out after 0.2s"
    assert result.duration < 1.0


async def test_refused_and_unresolved_name_are_named() -> None:
    async with contextlib.AsyncExitStack() as stack:
        refused = await stack.enter_async_context(
            client_for(yarl.URL(f"http://127.0.0.1:{free_port()}/"))
        )
        unresolved = await stack.enter_async_context(
            client_for(yarl.URL("http://no-such-host.invalid/"))
        )
        assert (await call(refused)).reason == "back unreachable (connection refused)"
        assert (await call(unresolved, budget=5)).reason == "back unreachable (name not resolved)"


@contextlib.asynccontextmanager
async def client_for(url: yarl.URL) -> AsyncIterator[UpstreamPool]:
    pool = new_pool(url, max_age=0)
    try:
        yield pool
    finally:
        await pool.close()
