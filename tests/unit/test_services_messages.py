"""Composing the chain's answers and error messages (pure)."""

from __future__ import annotations

import errno
import json

import aiohttp
import pytest

from ripple_services import messages
from ripple_services.answer import Answer, BadBodyError, compose_answer, parse_answer

BACK_OK = Answer(service="back", value=3, stalled=False, error=None, chain=("back",))


def test_healthy_upstream_passes_its_value_and_extends_the_chain() -> None:
    middle = compose_answer("middle", 1, upstream=BACK_OK, reason=None)
    assert middle == Answer(
        service="middle", value=3, stalled=False, error=None, chain=("middle", "back")
    )
    front = compose_answer("front", None, upstream=middle, reason=None)
    assert front.chain == ("front", "middle", "back")
    assert front.value == 3


def test_failed_call_gives_last_good_value_and_names_this_hop() -> None:
    reason = messages.unreachable("back", ConnectionRefusedError(errno.ECONNREFUSED, "refused"))
    middle = compose_answer("middle", 2, upstream=None, reason=reason)
    assert middle == Answer(
        service="middle",
        value=2,
        stalled=True,
        error="middle: back unreachable (connection refused)",
        chain=("middle",),
    )


def test_stalled_upstream_ripples_to_the_edge() -> None:
    middle = compose_answer(
        "middle", 5, upstream=None, reason=messages.unreachable("back", ConnectionRefusedError())
    )
    front = compose_answer("front", 4, upstream=middle, reason=None)
    assert front.error == "front: middle: back unreachable (connection refused)"
    assert front.stalled is True
    # front keeps its own last good value: the one that came through a healthy chain.
    assert front.value == 4
    assert front.chain == ("front", "middle")


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        (messages.timed_out("middle", 1.0), "front: middle timed out after 1.0s"),
        (messages.bad_status("middle", 503), "front: middle answered HTTP 503"),
        (messages.bad_body("middle", "not JSON"), "front: middle sent a bad body (not JSON)"),
    ],
)
def test_reasons_read_as_one_sentence(reason: str, expected: str) -> None:
    assert compose_answer("front", None, upstream=None, reason=reason).error == expected


@pytest.mark.parametrize(
    ("exc", "words"),
    [
        (ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"), "connection refused"),
        (ConnectionResetError(errno.ECONNRESET, "reset by peer"), "connection reset"),
        (OSError(errno.EHOSTUNREACH, "No route to host"), "host unreachable"),
        (aiohttp.ServerDisconnectedError(), "server disconnected"),
        (OSError("Multiple exceptions: [Errno 111] ..."), "multiple exceptions: [errno 111] ..."),
    ],
)
def test_connection_failures_in_a_few_words(exc: BaseException, words: str) -> None:
    assert messages.connection_failure(exc) == words


def test_answer_round_trips_through_json() -> None:
    answer = Answer(service="front", value=None, stalled=True, error="front: x", chain=("front",))
    assert json.loads(answer.to_json()) == {
        "service": "front",
        "value": None,
        "stalled": True,
        "error": "front: x",
        "chain": ["front"],
    }
    assert parse_answer(answer.to_json()) == answer


def test_a_healthy_answer_has_no_error_key_and_reads_back() -> None:
    answer = Answer(service="back", value=7, stalled=False, error=None, chain=("back",))
    assert answer.to_json() == b'{"service":"back","value":7,"stalled":false,"chain":["back"]}'
    assert parse_answer(answer.to_json()) == answer
    # ripple's earlier answers, with an explicit null, still read the same
    old = b'{"service":"back","value":7,"stalled":false,"error":null,"chain":["back"]}'
    assert parse_answer(old) == answer


def test_a_stalled_answer_keeps_its_error_in_place() -> None:
    answer = Answer(service="front", value=3, stalled=True, error="front: x", chain=("front",))
    assert answer.to_json() == (
        b'{"service":"front","value":3,"stalled":true,"error":"front: x","chain":["front"]}'
    )


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"<html>", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"value": 1, "stalled": false, "error": null, "chain": []}', "'service'"),
        (b'{"service": "b", "stalled": false, "error": null, "chain": []}', "'value'"),
        (
            b'{"service": "b", "value": true, "stalled": false, "error": null, "chain": []}',
            "'value'",
        ),
        (b'{"service": "b", "value": 1, "stalled": "no", "error": null, "chain": []}', "'stalled'"),
        (b'{"service": "b", "value": 1, "stalled": true, "error": null, "chain": []}', "stalled"),
        (b'{"service": "b", "value": 1, "stalled": false, "error": null, "chain": [1]}', "'chain'"),
        (b"\xff\xfe", "not JSON"),
    ],
)
def test_bad_bodies_are_refused_with_a_reason(body: bytes, why: str) -> None:
    with pytest.raises(BadBodyError) as caught:
        parse_answer(body)
    assert why in str(caught.value)
