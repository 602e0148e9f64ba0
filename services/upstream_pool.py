"""Keep-alive HTTP/1.1 GETs to the one upstream, over a pool of asyncio connections.

The services only ever GET one URL, so this small client does just that, at a
fraction of a general client's cost per request. Each new connection resolves the
name afresh (a Service's address may change), and no connection is reused past
``max_age`` seconds: NetworkPolicies, like most firewalls, filter new connections
only, so a keep-alive connection that never idles would carry traffic across a
policy forever and the "middle loses the network to back" scenario would show
nothing. Bounding each connection's age, as proxies do with a maximum connection
duration, makes the network's current rules apply within that age.
"""

from __future__ import annotations

import asyncio
import collections
import socket
import ssl
from dataclasses import dataclass
from typing import cast

import yarl

from .http_response import ResponseCutShortError, ResponseReader, ServerDisconnectedError

#: Idle connections are closed after this many seconds (the server may close sooner).
IDLE_TIMEOUT = 15.0


@dataclass(frozen=True, slots=True)
class Response:
    """A status and, when the status is 200, the whole body."""

    status: int
    body: bytes


class _Connection(asyncio.Protocol):
    """One TCP connection carrying one request at a time."""

    def __init__(self, pool: UpstreamPool, max_body: int) -> None:
        self._pool = pool
        self._max_body = max_body
        self.transport: asyncio.Transport | None = None
        self.born = 0.0
        self.idle_since = 0.0
        self.closed = False
        self.received = False
        """Whether any byte of the current response arrived."""
        self.reusable = False
        self._reader: ResponseReader | None = None
        self._waiter: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, only alike.
        self.transport = cast(asyncio.Transport, transport)
        self.born = self.idle_since = self._pool.loop.time()
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        reader, waiter = self._reader, self._waiter
        if reader is None or waiter is None or waiter.done():
            self.close()  # bytes nobody asked for
            return
        self.received = True
        try:
            reader.feed(data)
        except Exception as exc:  # handed to the caller
            waiter.set_exception(exc)
            self.close()
            return
        head = reader.head
        if reader.done or (head is not None and head.status != 200):
            self.reusable = (
                reader.done and not reader.extra and head is not None and head.keep_alive
            )
            waiter.set_result(None)

    def eof_received(self) -> bool | None:
        return None  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.reusable = False
        self._pool.forget(self)
        reader, waiter = self._reader, self._waiter
        if reader is None or waiter is None or waiter.done():
            return
        if exc is not None:
            # Reset: before the head it is the OS error itself, within the body a cut.
            waiter.set_exception(exc if reader.head is None else ResponseCutShortError())
            return
        try:
            reader.feed_eof()
        except Exception as failure:  # handed to the caller
            waiter.set_exception(failure)
            return
        waiter.set_result(None)

    async def get(self, request: bytes) -> Response:
        """Send ``request`` and wait for its response; the connection closes on failure."""
        assert self.transport is not None
        reader = self._reader = ResponseReader(self._max_body)
        waiter = self._waiter = self._pool.loop.create_future()
        self.received = False
        self.reusable = False
        self.transport.write(request)
        try:
            await waiter
            assert reader.head is not None
            status = reader.head.status
            return Response(status, reader.body if status == 200 else b"")
        except BaseException:
            self.close()
            raise
        finally:
            self._reader = self._waiter = None

    def close(self) -> None:
        """Close the connection (its loss is reported to the pool)."""
        self.reusable = False
        if self.transport is not None and not self.closed:
            self.transport.close()


class UpstreamPool:
    """GET one upstream URL over reused connections, at most ``limit`` open at once."""

    def __init__(
        self,
        url: yarl.URL,
        *,
        max_age: float,
        max_body: int,
        limit: int = 512,
        idle_timeout: float = IDLE_TIMEOUT,
    ) -> None:
        self.loop = asyncio.get_running_loop()
        self._host = url.raw_host or ""
        self._port = url.port or 80
        self._ssl = ssl.create_default_context() if url.scheme == "https" else None
        self._max_age = max_age
        self._max_body = max_body
        self._limit = limit
        self._idle_timeout = idle_timeout
        self._path = url.raw_path_qs or "/"
        self._request_head = (
            f"GET {self._path} HTTP/1.1\r\nHost: {url.host_port_subcomponent}\r\n"
        ).encode()
        self._idle: list[_Connection] = []
        self._open: set[_Connection] = set()
        self._connecting = 0
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()
        self._sweeper: asyncio.TimerHandle | None = None
        self._closed = False

    async def get(self, headers: dict[str, str]) -> Response:
        """GET the URL with ``headers``.

        A reused connection the server closed before any of the response arrived (it
        closed while idle) is retried once, on a new connection.
        """
        request = self._request(headers)
        conn, reused = await self._acquire(fresh=False)
        try:
            response = await conn.get(request)
        except (ServerDisconnectedError, OSError):
            if not reused or conn.received:
                raise
            conn, _ = await self._acquire(fresh=True)
            response = await conn.get(request)
        self._release(conn)
        return response

    async def close(self) -> None:
        """Close every connection, idle or busy; later calls fail."""
        self._closed = True
        if self._sweeper is not None:
            self._sweeper.cancel()
        for conn in list(self._open):
            conn.close()
        self._idle.clear()
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)

    def _request(self, headers: dict[str, str]) -> bytes:
        lines = "".join(
            f"{name}: {value.replace(chr(13), ' ').replace(chr(10), ' ')}\r\n"
            for name, value in headers.items()
        )
        return self._request_head + f"{lines}\r\n".encode("utf-8", "surrogateescape")

    def _fit(self, conn: _Connection, now: float) -> bool:
        """Whether an idle connection may carry one more request."""
        if conn.closed or not conn.reusable:
            return False
        if self._max_age > 0 and now - conn.born >= self._max_age:
            return False
        return now - conn.idle_since < self._idle_timeout

    async def _acquire(self, *, fresh: bool) -> tuple[_Connection, bool]:
        """Take an idle connection fit for reuse (and True), else open one (and False)."""
        while True:
            if self._closed:
                raise ConnectionAbortedError("client closed")
            if not fresh:
                now = self.loop.time()
                while self._idle:
                    conn = self._idle.pop()
                    if self._fit(conn, now):
                        return conn, True
                    conn.close()
            if len(self._open) + self._connecting < self._limit:
                return await self._connect(), False
            waiter = self.loop.create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except BaseException:
                if waiter.done() and not waiter.cancelled():
                    self._wake()  # pass the turn on
                raise
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)

    async def _connect(self) -> _Connection:
        self._connecting += 1
        try:
            _, conn = await self.loop.create_connection(
                lambda: _Connection(self, self._max_body),
                self._host,
                self._port,
                ssl=self._ssl,
            )
        finally:
            self._connecting -= 1
        if conn.closed:  # lost before we got it back
            raise ServerDisconnectedError
        self._open.add(conn)
        return conn

    def _release(self, conn: _Connection) -> None:
        now = self.loop.time()
        conn.idle_since = now
        if self._closed or not self._fit(conn, now):
            conn.close()
            return
        self._idle.append(conn)
        if self._sweeper is None:
            self._sweeper = self.loop.call_later(self._sweep_interval(), self._sweep)
        self._wake()

    def forget(self, conn: _Connection) -> None:
        """Free the place of a connection that closed."""
        self._open.discard(conn)
        self._wake()

    def _wake(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _sweep_interval(self) -> float:
        if self._max_age > 0:
            return min(self._max_age, self._idle_timeout)
        return self._idle_timeout

    def _sweep(self) -> None:
        """Close idle connections that are too old or idle too long."""
        self._sweeper = None
        now = self.loop.time()
        keep: list[_Connection] = []
        for conn in self._idle:
            if self._fit(conn, now):
                keep.append(conn)
            else:
                conn.close()
        self._idle = keep
        if keep and not self._closed:
            self._sweeper = self.loop.call_later(self._sweep_interval(), self._sweep)
