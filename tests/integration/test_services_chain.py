"""The chain front -> middle -> back as three real processes: values, errors, recovery."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from tests.support.poll import async_wait_for, wait_for
from tests.support.services import (
    Chain,
    get_json,
    running_chain,
    scrape,
    start_service,
    wait_ready,
)


async def test_happy_chain_passes_back_value_and_request_id(tmp_path: Path) -> None:
    async with running_chain(tmp_path) as chain, aiohttp.ClientSession() as session:
        status, first = await get_json(session, chain.front.url)
        assert status == 200
        assert first == {
            "service": "front",
            "value": first["value"],
            "stalled": False,
            "chain": ["front", "middle", "back"],
        }
        async with session.get(chain.front.url, headers={"X-Request-Id": "trace-42"}) as resp:
            assert resp.headers["X-Request-Id"] == "trace-42"
            second = await resp.json()
        # back counts every request it serves: the value comes from back, through the chain.
        assert second["value"] == first["value"] + 1

        _, direct = await get_json(session, chain.back.url)
        assert direct == {
            "service": "back",
            "value": first["value"] + 2,
            "stalled": False,
            "chain": ["back"],
        }

        def traced_in(service_log: Chain) -> bool:
            return all(
                any(line.get("request_id") == "trace-42" for line in svc.log_lines())
                for svc in service_log.all()
            )

        # The id reached every hop's access log (flushed a few times a second).
        wait_for(lambda: traced_in(chain), timeout=5, what="trace-42 in all access logs")
        access = [line for line in chain.back.log_lines() if line.get("request_id") == "trace-42"]
        assert access[0]["status"] == 200
        assert access[0]["path"] == "/"
        assert access[0]["service"] == "back"


async def test_back_down_stalls_middle_and_front_then_recovers(tmp_path: Path) -> None:
    async with running_chain(tmp_path) as chain, aiohttp.ClientSession() as session:
        _, good = await get_json(session, chain.front.url)
        assert good["stalled"] is False

        assert chain.back.stop() == 0

        status, front = await get_json(session, chain.front.url)
        assert status == 200
        assert front == {
            "service": "front",
            "value": good["value"],
            "stalled": True,
            "error": "front: middle: back unreachable (connection refused)",
            "chain": ["front", "middle"],
        }
        status, middle = await get_json(session, chain.middle.url)
        assert status == 200
        assert middle["stalled"] is True
        assert middle["error"] == "middle: back unreachable (connection refused)"
        assert middle["value"] == good["value"]

        # back returns on the same port: the ripple clears without touching front or middle.
        chain.back = start_service("back", tmp_path, port=chain.back.port)
        await wait_ready(chain.back)

        async def healthy() -> dict[str, object] | None:
            _, body = await get_json(session, chain.front.url)
            return body if body["stalled"] is False else None

        recovered = await async_wait_for(healthy, timeout=10, what="front healthy again")
        assert "error" not in recovered
        assert recovered["chain"] == ["front", "middle", "back"]
        # A fresh back starts counting again.
        assert recovered["value"] == 1


async def test_metrics_count_requests_and_upstream_outcomes(tmp_path: Path) -> None:
    async with running_chain(tmp_path) as chain, aiohttp.ClientSession() as session:
        before_front = await scrape(session, chain.front)
        before_middle = await scrape(session, chain.middle)
        for _ in range(5):
            assert (await get_json(session, chain.front.url))[0] == 200
        assert (await session.get(chain.front.url + "nowhere")).status == 404

        front = await scrape(session, chain.front)
        root_200 = "route=/,service=front,status=200"
        assert (
            front[f"ripple_requests_total{{{root_200}}}"]
            - before_front.get(f"ripple_requests_total{{{root_200}}}", 0)
            == 5
        )
        assert front[f"ripple_request_duration_seconds_count{{{root_200}}}"] == 5
        assert front["ripple_requests_total{route=other,service=front,status=404}"] == 1
        ok = "outcome=ok,service=front,upstream=middle"
        assert front[f"ripple_upstream_calls_total{{{ok}}}"] == 5
        assert front[f"ripple_upstream_duration_seconds_count{{{ok}}}"] == 5
        assert front["ripple_stalled_answers_total{service=front}"] == 0

        middle = await scrape(session, chain.middle)
        mid_ok = "outcome=ok,service=middle,upstream=back"
        assert (
            middle[f"ripple_upstream_calls_total{{{mid_ok}}}"]
            - before_middle[f"ripple_upstream_calls_total{{{mid_ok}}}"]
            == 5
        )

        # With back gone, middle counts connection errors; front's call still succeeds,
        # but its answer is stalled.
        assert chain.back.stop() == 0
        for _ in range(3):
            assert (await get_json(session, chain.front.url))[1]["stalled"] is True
        middle = await scrape(session, chain.middle)
        assert (
            middle[
                "ripple_upstream_calls_total{outcome=connect_error,service=middle,upstream=back}"
            ]
            == 3
        )
        assert middle["ripple_stalled_answers_total{service=middle}"] == 3
        front = await scrape(session, chain.front)
        assert front[f"ripple_upstream_calls_total{{{ok}}}"] == 8
        assert front["ripple_stalled_answers_total{service=front}"] == 3


async def test_access_log_lines_stay_json_whatever_the_client_sends(tmp_path: Path) -> None:
    back = start_service("back", tmp_path)
    try:
        await wait_ready(back)
        weird_id = 'id "quoted" \\ back\tslash'
        async with aiohttp.ClientSession() as session:
            async with session.get(back.url, headers={"X-Request-Id": weird_id}) as resp:
                assert resp.status == 200
            async with session.get(back.url + 'no"such\\path') as resp:
                assert resp.status == 404
                assert (await resp.json())["status"] == 404
            async with session.post(back.url) as resp:
                assert resp.status == 405
                assert resp.headers["Allow"] == "GET,HEAD"
                assert (await resp.json())["status"] == 405

        def logged() -> list[dict[str, object]]:
            # log_lines() parses every line as JSON: a bad escape fails here.
            lines = back.log_lines()
            return [line for line in lines if "status" in line and line["path"] != "/readyz"]

        lines = wait_for(lambda: len(logged()) >= 3 and logged(), timeout=5, what="3 lines")
        by_status = {line["status"]: line for line in lines}
        assert by_status[200]["request_id"] == weird_id
        assert by_status[404]["path"] == '/no"such\\path'
        assert by_status[405]["method"] == "POST"
    finally:
        assert back.stop() == 0
