"""Prometheus metrics of one service, in a registry of its own (one per application)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from .upstream import OUTCOMES, Outcome

#: Sub-millisecond to the timeout and beyond: the chain is fast, its failures are slow.
LATENCY_BUCKETS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    1.5,
    2.5,
    5.0,
    10.0,
)


@dataclass(eq=False)
class Metrics:
    """The counters and histograms a service exports on ``/metrics``."""

    service: str
    upstream: str = ""
    registry: CollectorRegistry = field(
        default_factory=lambda: CollectorRegistry(auto_describe=True)
    )
    _by_request: dict[tuple[str, int], tuple[Counter, Histogram]] = field(default_factory=dict)
    _by_outcome: dict[str, tuple[Counter, Histogram]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Register the metric families and pre-create the upstream outcome series."""
        self.requests = Counter(
            "ripple_requests",
            "HTTP requests served, by route and status.",
            ["service", "route", "status"],
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "ripple_request_duration_seconds",
            "Time to serve a request, by route and status.",
            ["service", "route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.stalled = Counter(
            "ripple_stalled_answers",
            "Answers on / that carried a stalled value.",
            ["service"],
            registry=self.registry,
        )
        self.upstream_calls = Counter(
            "ripple_upstream_calls",
            "Calls to the upstream, by outcome.",
            ["service", "upstream", "outcome"],
            registry=self.registry,
        )
        self.upstream_seconds = Histogram(
            "ripple_upstream_duration_seconds",
            "Duration of calls to the upstream, by outcome.",
            ["service", "upstream", "outcome"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._stalled = self.stalled.labels(self.service)
        if self.upstream:
            for outcome in OUTCOMES:
                self._by_outcome[outcome] = (
                    self.upstream_calls.labels(self.service, self.upstream, outcome),
                    self.upstream_seconds.labels(self.service, self.upstream, outcome),
                )

    def observe_request(self, route: str, status: int, seconds: float) -> None:
        """Count one served request; label children are cached to keep this cheap."""
        key = (route, status)
        children = self._by_request.get(key)
        if children is None:
            label = str(status)
            children = (
                self.requests.labels(self.service, route, label),
                self.request_seconds.labels(self.service, route, label),
            )
            self._by_request[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def observe_upstream(self, outcome: Outcome, seconds: float) -> None:
        """Count one call to the upstream."""
        counter, histogram = self._by_outcome[outcome]
        counter.inc()
        histogram.observe(seconds)

    def observe_stalled(self) -> None:
        """Count one stalled answer."""
        self._stalled.inc()

    def exposition(self) -> bytes:
        """Render the registry in the Prometheus text format."""
        return generate_latest(self.registry)
