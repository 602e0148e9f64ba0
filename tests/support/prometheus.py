"""The cluster's Prometheus (hack/cluster.d/prometheus.sh), through its real HTTP API."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from functools import cache
from typing import Any, Final

from tests.support.cluster import connect


@cache
def host_url() -> str:
    """Prometheus's API from this machine, as the cluster's script reports it
    (hack/cluster: its NodePort on 127.0.0.1; hack/kind: on the control plane's address)."""
    return connect().prometheus_url


CLUSTER_URL: Final = "http://prometheus.monitoring.svc:9090"
"""What pods (and the chart's prometheus.url) use."""
NAMESPACE: Final = "monitoring"
SELECTED_LABEL: Final = {"app.kubernetes.io/part-of": "ripple"}
"""The label the cluster's Prometheus selects ServiceMonitors and PrometheusRules by."""


def api(path: str, **params: str) -> Any:
    """GET ``/api/v1/<path>`` and give its ``data``; AssertionError when it is not a success."""
    query = f"?{urllib.parse.urlencode(params)}" if params else ""
    url = f"{host_url()}/api/v1/{path}{query}"
    with urllib.request.urlopen(url, timeout=10) as answer:
        body = json.loads(answer.read())
    assert body.get("status") == "success", f"{url}: {body}"
    return body["data"]


def query(expression: str, *, at: float | None = None) -> list[dict[str, Any]]:
    """An instant query's series (at ``at``, a UNIX time, or now)."""
    params = {"query": expression}
    if at is not None:
        params["time"] = f"{at:.3f}"
    data = api("query", **params)
    result: list[dict[str, Any]] = data["result"]
    return result


def value(expression: str, *, at: float | None = None) -> float | None:
    """The single value of an instant query, or None when it returns no series."""
    series = query(expression, at=at)
    assert len(series) <= 1, f"{expression} returned {len(series)} series: {series}"
    return float(series[0]["value"][1]) if series else None


def active_targets() -> list[dict[str, Any]]:
    """The targets Prometheus scrapes, with their labels and health."""
    targets: list[dict[str, Any]] = api("targets", state="active")["activeTargets"]
    return targets


def is_up() -> bool:
    """Whether the API answers."""
    try:
        api("status/buildinfo")
    except OSError:
        return False
    return True
