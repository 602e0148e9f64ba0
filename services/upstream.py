"""One call to the next hop, classified into the outcomes the metrics and messages use."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Literal

import yarl

from . import messages
from .answer import Answer, BadBodyError, parse_answer
from .http_response import HttpClientError
from .upstream_pool import UpstreamPool

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


def new_pool(url: yarl.URL, *, max_age: float) -> UpstreamPool:
    """Open the keep-alive connection pool a service shares across all its upstream calls."""
    return UpstreamPool(url, max_age=max_age, max_body=MAX_BODY)


async def call_upstream(
    pool: UpstreamPool,
    *,
    name: str,
    budget: float,
    request_id: str,
) -> UpstreamResult:
    """GET the pool's URL once within ``budget`` seconds (connect, answer and body, in total)."""
    start = time.perf_counter()
    try:
        async with asyncio.timeout(budget):
            response = await pool.get({REQUEST_ID: request_id})
        if response.status != 200:
            return UpstreamResult(
                outcome="bad_status",
                duration=time.perf_counter() - start,
                reason=messages.bad_status(name, response.status),
            )
        answer = parse_answer(response.body)
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
    except (HttpClientError, OSError) as exc:
        return UpstreamResult(
            outcome="connect_error",
            duration=time.perf_counter() - start,
            reason=messages.unreachable(name, exc),
        )
    return UpstreamResult(outcome="ok", duration=time.perf_counter() - start, answer=answer)
