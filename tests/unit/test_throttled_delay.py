"""The API server's 429 is a short retry (its Retry-After), not a handler's failure."""

from __future__ import annotations

from kubernetes_asyncio.client.exceptions import ApiException

from ripple_operator.kube import throttled_delay


def shed(retry_after: str | None) -> ApiException:
    exc = ApiException(status=429, reason="Too Many Requests")
    exc.headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return exc


def test_429_waits_for_retry_after() -> None:
    assert throttled_delay(shed("2")) == 2.0


def test_429_without_header_waits_a_second() -> None:
    assert throttled_delay(shed(None)) == 1.0
    assert throttled_delay(shed("soon")) == 1.0


def test_other_errors_are_not_throttling() -> None:
    assert throttled_delay(ApiException(status=500)) is None
    assert throttled_delay(ValueError("x")) is None
