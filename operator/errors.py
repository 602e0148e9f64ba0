"""The operator's root exceptions: what the handlers turn into Kopf's retry or give-up."""

from __future__ import annotations


class RetryLaterError(Exception):
    """Not now, but nothing is wrong with the spec: the handler retries with a backoff."""

    delay: float | None = None
    """Seconds to wait before the retry; ``None`` means the handler's backoff."""
