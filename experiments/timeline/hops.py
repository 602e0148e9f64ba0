"""Which hop failed, read from the error text the user got back.

Each demo service prefixes an error with its own name and nests its upstream's error
behind it (``front: middle: back unreachable (connection refused)``), so the deepest
named link is the one that broke: here middle could not reach back. The load's own
failures (no answer from the target at all, or a status other than 200) are the hop
from the load to the target.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from ripple_contract.timeline import LOAD_HOP

LOAD: Final = "load"
"""The caller of the target: the load sidecar, as the user it stands for."""

_REASON = re.compile(
    r"^(?P<upstream>[\w.-]+) (?P<reason>timed out.*|unreachable.*|answered HTTP.*|"
    r"sent a bad body.*|no answer.*)$"
)
_TRANSPORT_REASONS: Final = (
    ("connection refused", "unreachable (connection refused)"),
    ("connection reset", "unreachable (connection reset)"),
    ("no such host", "unreachable (name not resolved)"),
    ("i/o timeout", "timed out"),
    ("deadline exceeded", "timed out"),
    ("timeout", "timed out"),
    ("eof", "unreachable (server disconnected)"),
)


@dataclass(frozen=True)
class FailedHop:
    """One failed link and why: ``middle`` could not get an answer from ``back``."""

    caller: str
    upstream: str
    reason: str
    depth: int = 0
    """How far down the chain the break is: 0 the load's own hop, 1 the target's call to
    its upstream (``front->middle``), 2 the next one (``middle->back``)..."""

    @property
    def key(self) -> str:
        """The hop's key in a timeline: ``caller->upstream`` (the load's is fixed)."""
        if self.caller == LOAD:
            return LOAD_HOP
        return f"{self.caller}->{self.upstream}"


def from_error_text(text: str) -> FailedHop:
    """Attribute a service's error text to the deepest hop it names."""
    parts = [part.strip() for part in text.split(": ") if part.strip()]
    if not parts:
        return FailedHop(caller="unknown", upstream="unknown", reason="failed")
    if len(parts) == 1:
        # a service's own words without a chain: it is the one that failed
        return FailedHop(caller=LOAD, upstream="target", reason=parts[0])
    caller, last, depth = parts[-2], parts[-1], len(parts) - 1
    match = _REASON.match(last)
    if match is None:
        return FailedHop(caller=caller, upstream="unknown", reason=last, depth=depth)
    return FailedHop(caller=caller, upstream=match["upstream"], reason=match["reason"], depth=depth)


def from_transport_error(error: str, target: str) -> FailedHop:
    """Attribute vegeta's own error (no HTTP answer) to the hop from the load to the target."""
    lowered = error.lower()
    reason = next((why for needle, why in _TRANSPORT_REASONS if needle in lowered), None)
    return FailedHop(caller=LOAD, upstream=target, reason=reason or error.rsplit(": ", 1)[-1])


def from_status(code: int, target: str) -> FailedHop:
    """Attribute an answer with a bad status and no error text to the target itself."""
    return FailedHop(caller=LOAD, upstream=target, reason=f"answered HTTP {code}")


def target_name(url: str) -> str:
    """Name the target as a hop shows it: the URL's host (``front``, ``127.0.0.1``)."""
    host = urlsplit(url).hostname or ""
    return host.split(".")[0] if host and not host[0].isdigit() else (host or "target")
