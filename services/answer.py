"""The JSON every service answers on ``GET /``, and the check of an upstream's answer."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


class BadBodyError(ValueError):
    """An upstream body is not the answer the chain speaks; the message says why."""


@dataclass(frozen=True, slots=True)
class Answer:
    """One service's answer: its value, whether it is stale, and who answered."""

    service: str
    value: int | None
    stalled: bool
    error: str | None
    chain: tuple[str, ...]

    def to_json(self) -> bytes:
        """Encode as the compact JSON body sent on the wire.

        A healthy answer has no ``error`` key at all, as the original demo's did: its
        steady-state probes count ``$.error`` matches, so even ``"error": null`` would
        read as an error there.
        """
        document: dict[str, Any] = {
            "service": self.service,
            "value": self.value,
            "stalled": self.stalled,
        }
        if self.error is not None:
            document["error"] = self.error
        document["chain"] = list(self.chain)
        return json.dumps(document, separators=(",", ":")).encode()


def parse_answer(body: bytes) -> Answer:
    """Decode and check an upstream's body; raise :class:`BadBodyError` naming the first problem."""
    try:
        doc: Any = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise BadBodyError("not JSON") from None
    if not isinstance(doc, dict):
        raise BadBodyError("not a JSON object")
    service = doc.get("service")
    value = doc.get("value", ...)
    stalled = doc.get("stalled")
    error = doc.get("error")
    chain = doc.get("chain")
    if not isinstance(service, str):
        raise BadBodyError("'service' is not a string")
    if value is ... or not (value is None or (isinstance(value, int) and type(value) is not bool)):
        raise BadBodyError("'value' is not an integer or null")
    if not isinstance(stalled, bool):
        raise BadBodyError("'stalled' is not a boolean")
    if not (error is None or isinstance(error, str)):
        raise BadBodyError("'error' is not a string (or absent)")
    if stalled and not error:
        raise BadBodyError("stalled without an error")
    if not isinstance(chain, list) or not all(isinstance(hop, str) for hop in chain):
        raise BadBodyError("'chain' is not a list of names")
    return Answer(service=service, value=value, stalled=stalled, error=error, chain=tuple(chain))


def compose_answer(
    service: str,
    last_good: int | None,
    *,
    upstream: Answer | None,
    reason: str | None,
) -> Answer:
    """Build this service's answer from its upstream's answer, or from why there is none.

    A healthy upstream answer passes its value through; a stalled one keeps its error
    behind this service's name; no answer at all gives this hop's own reason. Stalled
    answers carry ``last_good``: the last value that came through a healthy chain.
    """
    if upstream is None:
        return Answer(
            service=service,
            value=last_good,
            stalled=True,
            error=f"{service}: {reason or 'no answer'}",
            chain=(service,),
        )
    chain = (service, *upstream.chain)
    if upstream.stalled:
        return Answer(
            service=service,
            value=last_good,
            stalled=True,
            error=f"{service}: {upstream.error}",
            chain=chain,
        )
    return Answer(service=service, value=upstream.value, stalled=False, error=None, chain=chain)
