"""The shared keep-alive client session, renewed so no connection outlives the network's rules.

NetworkPolicies, like most firewalls, filter new connections only: a keep-alive
connection that never idles (a steady 5 requests a second does that) would carry
traffic across a policy forever, and the "middle loses the network to back"
scenario would show nothing. Bounding each connection's age, as proxies do with a
maximum connection duration, makes the network's current rules apply within that
age, at the price of one new connection per age per upstream.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import aiohttp


class RotatingSession:
    """One client session at a time, replaced every ``max_age`` seconds.

    The replaced session is closed only after ``grace`` seconds, so calls already
    under way on it (each bounded by the upstream timeout) finish undisturbed.
    """

    def __init__(
        self, factory: Callable[[], aiohttp.ClientSession], *, max_age: float, grace: float
    ) -> None:
        self._factory = factory
        self._max_age = max_age
        self._grace = grace
        self._current = factory()
        self._retiring: set[asyncio.Task[None]] = set()
        self._rotator: asyncio.Task[None] | None = None

    @property
    def current(self) -> aiohttp.ClientSession:
        """The session new upstream calls use."""
        return self._current

    def start(self) -> None:
        """Begin renewing the session (never, when ``max_age`` is 0)."""
        if self._max_age > 0 and self._rotator is None:
            self._rotator = asyncio.create_task(self._rotate_forever(), name="session-rotator")

    def rotate(self) -> None:
        """Put a fresh session in place and retire the old one after the grace period."""
        old, self._current = self._current, self._factory()
        task = asyncio.create_task(self._close_later(old))
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)

    async def close(self) -> None:
        """Stop renewing and close every session, current and retiring."""
        if self._rotator is not None:
            self._rotator.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._rotator
        for task in list(self._retiring):
            task.cancel()
        await asyncio.gather(*self._retiring, return_exceptions=True)
        await self._current.close()

    async def _rotate_forever(self) -> None:
        while True:
            await asyncio.sleep(self._max_age)
            self.rotate()

    async def _close_later(self, session: aiohttp.ClientSession) -> None:
        try:
            await asyncio.sleep(self._grace)
        finally:
            await session.close()
