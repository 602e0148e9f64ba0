"""Go durations and vegeta rates: the one rule for the CRD, the operator and ``ripple load``.

The CRD's schema carries the same two patterns (a unit test holds them equal), so a rate
the API server accepts is a rate the operator and the load sidecar accept, and no other.
"""

from __future__ import annotations

import re
from typing import Final

DURATION_PATTERN: Final = r"^([0-9]{1,6}(\.[0-9]{1,6})?(ns|us|ms|s|m|h)){1,3}$"
"""A Go duration such as ``3s``, ``1m30s`` or ``1.5s`` (at most three parts)."""
RATE_PATTERN: Final = r"^[1-9][0-9]{0,5}/[1-9][0-9]{0,5}(ns|us|ms|s|m|h)$"
"""vegeta's ``freq/per`` rate: ``5/1s``, ``100/1m``."""

_UNIT_SECONDS: Final = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ns|us|ms|s|m|h)")


def is_duration(text: str) -> bool:
    """Whether ``text`` is a Go duration ripple accepts."""
    return re.fullmatch(DURATION_PATTERN, text) is not None


def is_rate(text: str) -> bool:
    """Whether ``text`` is a vegeta rate ripple accepts."""
    return re.fullmatch(RATE_PATTERN, text) is not None


def duration_seconds(text: str) -> float:
    """Return the seconds in a Go duration such as ``1m30s``; ``ValueError`` if not one."""
    if not is_duration(text):
        raise ValueError(f"{text!r} is not a Go duration")
    return sum(float(number) * _UNIT_SECONDS[unit] for number, unit in _PART.findall(text))


def rate_per_second(text: str) -> float:
    """Return the requests per second of a rate such as ``100/1m``; ``ValueError`` if not one."""
    if not is_rate(text):
        raise ValueError(f"{text!r} is not a rate like 5/1s")
    freq, per = text.split("/", 1)
    return int(freq) / duration_seconds(per)
