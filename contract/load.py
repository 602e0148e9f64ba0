"""What a load may ask of vegeta: the one rule for the CRD, the operator and ``ripple load``.

The CRD repeats these patterns and limits (a unit test holds them equal), so a header or a
method the API server accepts is one the operator and the load sidecar accept, and no other.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final, Literal, get_args

Method = Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
"""HTTP methods a load may use."""
METHODS: Final[tuple[str, ...]] = get_args(Method)
HEADER_NAME_PATTERN: Final = r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$"
"""An HTTP header name: an RFC 9110 token."""
HEADER_VALUE_PATTERN: Final = r"^[^\x00-\x08\x0a-\x1f\x7f]*$"
"""An HTTP header value: no CR, LF or other control characters (a tab is fine)."""
MAX_HEADER_VALUE: Final = 4096
MAX_HEADERS: Final = 32
MAX_TARGETS: Final = 16
MAX_WEIGHT: Final = 100
MAX_BODY_BYTES: Final = 64 * 1024
"""A load's request body (inline or from a ConfigMap key) travels in the run's ConfigMap."""


def is_header_name(text: str) -> bool:
    """Whether ``text`` is a header name a load accepts."""
    return re.fullmatch(HEADER_NAME_PATTERN, text) is not None


def is_header_value(text: str) -> bool:
    """Whether ``text`` is a header value a load accepts (no line breaks)."""
    return len(text) <= MAX_HEADER_VALUE and re.fullmatch(HEADER_VALUE_PATTERN, text) is not None


def weighted_order(weights: Sequence[int]) -> list[int]:
    """Spread targets by weight over one cycle, as evenly as smooth weighted round robin does.

    vegeta sends to its targets in turn (round robin); a target listed ``w`` times in a
    cycle gets ``w`` of every ``sum(weights)`` requests. ``[3, 1]`` gives ``[0, 0, 1, 0]``.
    """
    if not weights or any(w < 1 for w in weights):
        raise ValueError("weights must be positive integers")
    current = [0] * len(weights)
    total = sum(weights)
    order: list[int] = []
    for _ in range(total):
        for index, weight in enumerate(weights):
            current[index] += weight
        chosen = max(range(len(weights)), key=lambda i: (current[i], -i))
        current[chosen] -= total
        order.append(chosen)
    return order
