"""front against a test-only upstream that is slow, broken or stalled (front is real)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.support.services import (
    FakeUpstream,
    ServiceProc,
    get_json,
    scrape,
    start_service,
    wait_ready,
)

#: How late front may be beyond its upstream timeout.
MARGIN = 0.5


@pytest.fixture
async def fake() -> AsyncIterator[FakeUpstream]:
    upstream = FakeUpstream()
    await upstream.start()
    yield upstream
    await upstream.stop()


@pytest.fixture
async def front(fake: FakeUpstream, tmp_path: Path) -> AsyncIterator[ServiceProc]:
    service = start_service("front", tmp_path, upstream=fake.url, upstream_timeout=1.0)
    try:
        await wait_ready(service)
        yield service
    finally:
        assert service.stop() == 0


async def test_slow_upstream_front_answers_in_time_with_last_good_value(
    fake: FakeUpstream, front: ServiceProc
) -> None:
    async with aiohttp.ClientSession() as session:
        _, good = await get_json(session, front.url)
        assert good["value"] == 7
        assert good["stalled"] is False

        fake.mode = "slow"
        fake.value = 8
        started = time.monotonic()
        status, body = await get_json(session, front.url)
        elapsed = time.monotonic() - started

        assert status == 200
        assert elapsed < 1.0 + MARGIN, f"front took {elapsed:.3f}s"
        assert body == {
            "service": "front",
            "value": 7,
            "stalled": True,
            "error": "front: middle timed out after 1.0s",
            "chain": ["front"],
        }
        metrics = await scrape(session, front)
        assert (
            metrics["ripple_upstream_calls_total{outcome=timeout,service=front,upstream=middle}"]
            == 1
        )
        # The timeout lands in the histogram bucket that holds one second, not below it.
        timeout_le = "le=0.5,outcome=timeout,service=front,upstream=middle"
        assert metrics[f"ripple_upstream_duration_seconds_bucket{{{timeout_le}}}"] == 0


@pytest.mark.parametrize(
    ("mode", "outcome", "error"),
    [
        ("garbage", "bad_body", "front: middle sent a bad body (not JSON)"),
        ("status", "bad_status", "front: middle answered HTTP 500"),
        ("huge", "bad_body", "front: middle sent a bad body (too large: 100000 bytes)"),
        ("stalled", "ok", "front: middle: back timed out after 1.0s"),
    ],
)
async def test_broken_upstream_gives_stalled_answer_naming_the_reason(
    fake: FakeUpstream, front: ServiceProc, mode: str, outcome: str, error: str
) -> None:
    async with aiohttp.ClientSession() as session:
        assert (await get_json(session, front.url))[1]["value"] == 7
        fake.mode = mode
        fake.value = 9
        status, body = await get_json(session, front.url)
        assert status == 200
        assert body["stalled"] is True
        assert body["value"] == 7
        assert body["error"] == error
        metrics = await scrape(session, front)
        calls = f"ripple_upstream_calls_total{{outcome={outcome},service=front,upstream=middle}}"
        assert metrics[calls] == (2 if outcome == "ok" else 1)
        assert metrics["ripple_stalled_answers_total{service=front}"] == 1


async def test_before_any_success_the_stalled_value_is_null(tmp_path: Path) -> None:
    # Nothing listens on the upstream port: connection refused from the first request.
    service = start_service("middle", tmp_path, upstream="http://127.0.0.1:9/")
    try:
        await wait_ready(service)
        async with aiohttp.ClientSession() as session:
            status, body = await get_json(session, service.url)
        assert status == 200
        assert body == {
            "service": "middle",
            "value": None,
            "stalled": True,
            "error": "middle: back unreachable (connection refused)",
            "chain": ["middle"],
        }
    finally:
        assert service.stop() == 0
