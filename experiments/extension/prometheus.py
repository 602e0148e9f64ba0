"""PromQL for a run: the safeguards' probe, asked every few seconds while the run goes on.

Experiments' own Prometheus probes use chaostoolkit-prometheus (``chaosprometheus.probes``),
whose ``prometheus_base_url`` the runner fills in; this module only answers the one
question a safeguard asks: does this query return any series right now?
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Final

from chaoslib.exceptions import ActivityFailed

logger = logging.getLogger(__name__)

MAX_SHOWN_SERIES: Final = 3

_answers: dict[str, str] = {}
_lock = threading.Lock()


def instant_query(query: str, prometheus_url: str, timeout_seconds: float = 3.0) -> list[Any]:
    """Ask Prometheus's ``/api/v1/query`` and give the result's series (a vector's samples)."""
    url = prometheus_url.rstrip("/") + "/api/v1/query?" + urllib.parse.urlencode({"query": query})
    try:
        with urllib.request.urlopen(url, timeout=timeout_seconds) as answer:  # noqa: S310 - http(s) only
            body = json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        detail = _error_of(exc.read())
        raise ActivityFailed(f"Prometheus refused the query ({exc.code}: {detail})") from None
    except (OSError, ValueError) as exc:
        raise ActivityFailed(f"cannot ask Prometheus at {prometheus_url}: {exc}") from None
    if not isinstance(body, dict) or body.get("status") != "success":
        raise ActivityFailed(f"Prometheus answered {_error_of(body)}")
    data = body.get("data") or {}
    result = data.get("result")
    if data.get("resultType") in ("scalar", "string"):
        return [result]
    return list(result or [])


def no_series(
    query: str, prometheus_url: str, timeout_seconds: float = 3.0, safeguard: str = ""
) -> bool:
    """Safeguard probe: True while ``query`` returns no series, False once it does.

    What it saw is kept for :func:`answer_of` (the verdict names it); an error is kept
    too and raised, so the safeguard stops the run when it cannot look.
    """
    name = safeguard or query
    try:
        series = instant_query(query, prometheus_url, timeout_seconds)
    except ActivityFailed as exc:
        _remember(name, f"could not be checked: {exc}")
        raise
    if not series:
        return True
    shown = ", ".join(_describe(item) for item in series[:MAX_SHOWN_SERIES])
    more = f" and {len(series) - MAX_SHOWN_SERIES} more" if len(series) > MAX_SHOWN_SERIES else ""
    _remember(name, f"{query} returned {len(series)} series ({shown}{more})")
    logger.warning("safeguard %s holds: %s returned %d series", name, query, len(series))
    return False


def answer_of(safeguard: str) -> str:
    """Say what the safeguard ``safeguard`` last saw when it held (or failed), else ``""``."""
    with _lock:
        return _answers.get(safeguard, "")


def forget_answers() -> None:
    """Start a run with no answers kept (one run per process; tests play more)."""
    with _lock:
        _answers.clear()


def _remember(name: str, text: str) -> None:
    with _lock:
        _answers[name] = text


def _describe(item: Any) -> str:
    if not isinstance(item, dict):
        return str(item)
    metric = item.get("metric") or {}
    labels = ",".join(f'{k}="{v}"' for k, v in sorted(metric.items()) if k != "__name__")
    value = item.get("value")
    shown = f" {value[1]}" if isinstance(value, list) and len(value) == 2 else ""
    return f"{metric.get('__name__', '')}{{{labels}}}{shown}"


def _error_of(body: Any) -> str:
    if isinstance(body, bytes):
        try:
            body = json.loads(body)
        except ValueError:
            return str(body[:200].decode("utf-8", "replace"))
    if isinstance(body, dict):
        return str(body.get("error") or body.get("status") or body)[:200]
    return str(body)[:200]
