"""One call to the next hop, classified into the outcomes the metrics and messages use."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Literal

import aiohttp
import yarl

from . import messages
from .answer import Answer, BadBodyError, parse_answer

Outcome = Literal["ok", "timeout", "connect_error", "bad_status", "bad_body"]
OUTCOMES: tuple[Outcome, ...] = ("ok", "timeout", "connect_error", "bad_status", "bad_body")

REQUEST_ID = "X-Request-Id"

#: An answer is under 200 bytes; anything far bigger is not one.
MAX_BODY = 64 * 1024


@dataclass(frozen=True, slots=True)
class UpstreamResult:
    """What the upstream did: an answer when ``outcome`` is ok, else a reason."""

    outcome: Outcome
    duration: float
    answer: Answer | None = None
    reason: str | None = None


def new_session() -> aiohttp.ClientSession:
    """Open the one keep-alive client session a service shares across all its requests."""
    connector = aiohttp.TCPConnector(limit=512, ttl_dns_cache=10, keepalive_timeout=15)
    return aiohttp.ClientSession(
        connector=connector,
        # call_upstream bounds each call with asyncio.timeout; aiohttp's own timers
        # would only add work per request.
        timeout=aiohttp.ClientTimeout(total=None, sock_connect=None, sock_read=None),
        cookie_jar=aiohttp.DummyCookieJar(),
        auto_decompress=False,
        skip_auto_headers=("User-Agent",),
    )


async def call_upstream(
    session: aiohttp.ClientSession,
    url: yarl.URL,
    *,
    name: str,
    budget: float,
    request_id: str,
) -> UpstreamResult:
    """GET ``url`` once within ``budget`` seconds (connect, answer and body, in total)."""
    start = time.perf_counter()
    try:
        async with asyncio.timeout(budget):
            async with session.get(url, headers={REQUEST_ID: request_id}) as resp:
                if resp.status != 200:
                    return UpstreamResult(
                        outcome="bad_status",
                        duration=time.perf_counter() - start,
                        reason=messages.bad_status(name, resp.status),
                    )
                if (resp.content_length or 0) > MAX_BODY:
                    raise BadBodyError(f"too large: {resp.content_length} bytes")
                body = await resp.read()
                if len(body) > MAX_BODY:
                    raise BadBodyError(f"too large: {len(body)} bytes")
        answer = parse_answer(body)
    except TimeoutError:
        return UpstreamResult(
            outcome="timeout",
            duration=time.perf_counter() - start,
            reason=messages.timed_out(name, budget),
        )
    except BadBodyError as exc:
        return UpstreamResult(
            outcome="bad_body",
            duration=time.perf_counter() - start,
            reason=messages.bad_body(name, str(exc)),
        )
    except (aiohttp.ClientError, OSError) as exc:
        return UpstreamResult(
            outcome="connect_error",
            duration=time.perf_counter() - start,
            reason=messages.unreachable(name, exc),
        )
    return UpstreamResult(outcome="ok", duration=time.perf_counter() - start, answer=answer)
