"""The operator's Prometheus metrics: what ran, how it ended, how long handlers take."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

from prometheus_client import Counter, Gauge, Histogram

RUNS: Final = Counter(
    "ripple_runs_total", "Finished chaos runs, by verdict.", ["namespace", "verdict"]
)
RUNS_STARTED: Final = Counter(
    "ripple_runs_started_total", "Chaos runs started, by trigger.", ["namespace", "trigger"]
)
RUN_SECONDS: Final = Histogram(
    "ripple_run_duration_seconds",
    "Duration of finished chaos runs.",
    ["verdict"],
    buckets=(5, 10, 30, 60, 120, 300, 600, 1800, 3600),
)
LEADER: Final = Gauge(
    "ripple_leader", "1 on the replica that runs the scenarios (the Lease's holder), else 0."
)
ACTIVE_RUNS: Final = Gauge("ripple_active_runs", "Runs whose Job has not finished.")
INVALID_SPECS: Final = Counter(
    "ripple_invalid_specs_total", "Reconciliations that found an invalid spec."
)
ORPHANED_FAULTS_REMOVED: Final = Counter(
    "ripple_orphaned_faults_removed_total",
    "Fault objects deleted because their run was over (a rollback that never came).",
    ["namespace", "kind"],
)
FAULT_SWEEPS: Final = Counter(
    "ripple_fault_sweeps_total", "Sweeps of the fault objects for ones left behind."
)
HANDLER_SECONDS: Final = Histogram(
    "ripple_handler_duration_seconds",
    "Time spent in each operator handler.",
    ["handler"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

_active_jobs: set[str] = set()


@contextmanager
def timed(handler: str) -> Iterator[None]:
    """Observe the handler's latency, whether it returns or raises."""
    start = time.perf_counter()
    try:
        yield
    finally:
        HANDLER_SECONDS.labels(handler=handler).observe(time.perf_counter() - start)


def job_seen(key: str, *, active: bool) -> None:
    """Track whether the Job ``namespace/name`` is running; the gauge counts those."""
    if active:
        _active_jobs.add(key)
    else:
        _active_jobs.discard(key)
    ACTIVE_RUNS.set(len(_active_jobs))


def run_finished(namespace: str, verdict: str, seconds: float | None) -> None:
    """Count a finished run and observe its duration."""
    RUNS.labels(namespace=namespace, verdict=verdict).inc()
    if seconds is not None:
        RUN_SECONDS.labels(verdict=verdict).observe(seconds)
