"""How figures read in every report: ratios as percentages, latencies and spans with units."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def percent(ratio: Any) -> str:
    """``0.1234`` -> ``12.3%``; ``-`` when unknown."""
    if not isinstance(ratio, int | float):
        return "-"
    return f"{ratio * 100:.1f}%"


def millis(value: Any) -> str:
    """``8.3`` -> ``8.3 ms``, ``1520`` -> ``1.52 s``; ``-`` when unknown."""
    if not isinstance(value, int | float):
        return "-"
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.1f} ms"


def seconds(value: Any) -> str:
    """``1.2`` -> ``1.2s``, ``75`` -> ``1m15s``; ``-`` when unknown."""
    if not isinstance(value, int | float):
        return "-"
    if value < 60:
        return f"{value:.1f}s"
    minutes, rest = divmod(round(value), 60)
    return f"{minutes}m{rest:02d}s"


def verdict_line(record: Mapping[str, Any]) -> str:
    """``Fail (Deviated): the steady state deviated ...``."""
    verdict = str(record.get("verdict") or "?")
    reason = record.get("reason")
    message = record.get("message")
    line = verdict + (f" ({reason})" if reason else "")
    return line + (f": {message}" if message else "")


def recovery(impact: Mapping[str, Any]) -> str:
    """How the recovery reads: a time, or why there is none."""
    if impact.get("recovered") is False:
        return "not recovered when the run ended"
    if impact.get("recovered") is None:
        return "unknown (no load after the fault)"
    return seconds(impact.get("timeToRecoverSeconds"))
