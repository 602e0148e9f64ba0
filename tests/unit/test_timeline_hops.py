"""Which hop failed, from the error texts the demo services really write."""

from __future__ import annotations

from collections import Counter

import aiohttp
import pytest

from ripple_contract.timeline import LOAD_HOP, Hop
from ripple_experiments.timeline.hops import (
    from_error_text,
    from_status,
    from_transport_error,
    target_name,
)
from ripple_experiments.timeline.impact import culprit_of
from ripple_services import messages
from ripple_services.answer import compose_answer


def through_chain(reason: str, *, failing: str) -> str:
    """The error text front's user gets when ``failing`` could not get its answer."""
    answer = compose_answer(failing, 1, upstream=None, reason=reason)
    if failing == "middle":
        answer = compose_answer("front", 1, upstream=answer, reason=None)
    assert answer.error is not None
    return answer.error


@pytest.mark.parametrize(
    ("reason", "failing", "key", "why"),
    [
        (messages.timed_out("back", 1.0), "middle", "middle->back", "timed out after 1.0s"),
        (messages.timed_out("middle", 1.0), "front", "front->middle", "timed out after 1.0s"),
        (
            messages.unreachable("back", ConnectionRefusedError(111, "refused")),
            "middle",
            "middle->back",
            "unreachable (connection refused)",
        ),
        (
            messages.unreachable("middle", aiohttp.ServerDisconnectedError()),
            "front",
            "front->middle",
            "unreachable (server disconnected)",
        ),
        (messages.bad_status("back", 503), "middle", "middle->back", "answered HTTP 503"),
        (
            messages.bad_body("middle", "not JSON"),
            "front",
            "front->middle",
            "sent a bad body (not JSON)",
        ),
    ],
)
def test_the_deepest_named_hop_is_the_one_that_failed(
    reason: str, failing: str, key: str, why: str
) -> None:
    text = through_chain(reason, failing=failing)
    assert text.startswith("front: ")
    hop = from_error_text(text)
    assert (hop.key, hop.reason) == (key, why), text


def test_the_texts_of_the_demo_read_as_the_brief_says() -> None:
    assert from_error_text("front: middle: back timed out after 1.0s").key == "middle->back"
    assert from_error_text("front: middle timed out after 1.0s").key == "front->middle"
    refused = from_error_text("front: middle: back unreachable (connection refused)")
    assert (refused.caller, refused.upstream) == ("middle", "back")


def test_the_loads_own_failures_are_the_hop_to_the_target() -> None:
    refused = from_transport_error(
        'Get "http://127.0.0.1:9/": dial tcp 0.0.0.0:0->127.0.0.1:9: connect: connection refused',
        "front",
    )
    assert (refused.key, refused.upstream, refused.reason) == (
        LOAD_HOP,
        "front",
        "unreachable (connection refused)",
    )
    timeout = from_transport_error(
        'Get "http://front:8080/": context deadline exceeded (Client.Timeout exceeded)', "front"
    )
    assert timeout.reason == "timed out"
    assert from_status(503, "front").reason == "answered HTTP 503"
    assert from_status(503, "front").key == LOAD_HOP


def test_target_names() -> None:
    assert target_name("http://front:8080/") == "front"
    assert target_name("http://front.ripple-demo.svc.cluster.local:8080/") == "front"
    assert target_name("http://127.0.0.1:3456/") == "127.0.0.1"
    assert target_name("") == "target"


def test_a_text_without_a_known_reason_still_names_its_caller() -> None:
    hop = from_error_text("front: middle: something odd happened")
    assert (hop.caller, hop.upstream, hop.reason) == ("middle", "unknown", "something odd happened")


def test_depth_counts_the_services_in_front_of_the_break() -> None:
    assert from_error_text("front: middle timed out after 1.0s").depth == 1
    assert from_error_text("front: middle: back unreachable (connection refused)").depth == 2
    assert from_transport_error("connection refused", "front").depth == 0


def test_the_culprit_is_the_deepest_hop_that_failed() -> None:
    # front and middle both give their upstream one second: while back drops middle's
    # packets, front's timer on middle often fires first; back is still the cause
    hops = [
        Hop(key="front->middle", caller="front", upstream="middle", depth=1, failed=40),
        Hop(key="middle->back", caller="middle", upstream="back", depth=2, failed=12),
    ]
    failed = Counter({"front->middle": 40, "middle->back": 12})
    culprit = culprit_of(failed, hops)
    assert culprit is not None
    assert culprit.key == "middle->back"
    alone = culprit_of(Counter({"front->middle": 40}), hops)
    assert alone is not None
    assert alone.key == "front->middle", "a restarting middle is its own culprit"
    assert culprit_of(Counter(), hops) is None
