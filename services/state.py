"""Typed application state: the keys every module uses to reach shared objects."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from .config import ServiceConfig
from .metrics import Metrics
from .upstream_pool import UpstreamPool


@dataclass(eq=False, slots=True)
class Lifecycle:
    """What changes while the process runs: readiness, and the chain's last good value."""

    shutting_down: bool = False
    """Set at SIGTERM: readiness answers 503 and responses close their connection."""
    last_good: int | None = None
    """front/middle: the last value a healthy upstream gave; back: its counter."""


CONFIG = web.AppKey("config", ServiceConfig)
METRICS = web.AppKey("metrics", Metrics)
LIFECYCLE = web.AppKey("lifecycle", Lifecycle)
UPSTREAM = web.AppKey("upstream", UpstreamPool)

#: Request-scoped keys (plain strings: aiohttp's request mapping is untyped).
ROUTE = "ripple.route"
"""The matched route's path template, for bounded metric labels."""
ROUTE_OTHER = "other"
"""Route label of a request that matched no route."""
UPSTREAM_OUTCOME = "ripple.upstream_outcome"
"""How the call to the upstream went, for the access log."""
