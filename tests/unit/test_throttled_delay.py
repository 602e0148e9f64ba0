"""The API server's 429 is a short retry (its Retry-After), not a handler's failure."""

from __future__ import annotations

from multidict import CIMultiDict

from ripple_operator.kube import ApiError, throttled_delay


def shed(retry_after: str | None) -> ApiError:
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return ApiError(429, "Too Many Requests", "", headers)


def test_retry_after_is_read_whatever_its_case() -> None:
    # aiohttp gives the answer's headers case-insensitive, as the API server may spell them
    exc = ApiError(429, "Too Many Requests", "", CIMultiDict({"retry-after": "3"}))
    assert throttled_delay(exc) == 3.0


def test_429_waits_for_retry_after() -> None:
    assert throttled_delay(shed("2")) == 2.0


def test_429_without_header_waits_a_second() -> None:
    assert throttled_delay(shed(None)) == 1.0
    assert throttled_delay(shed("soon")) == 1.0


def test_other_errors_are_not_throttling() -> None:
    assert throttled_delay(ApiError(500)) is None
    assert throttled_delay(ValueError("x")) is None
