"""``ripple operator`` as a process: liveness endpoint, Prometheus metrics, JSON logs."""

from __future__ import annotations

from pathlib import Path

from tests.support.cluster import Cluster
from tests.support.metrics import metric
from tests.support.operator import (
    apply,
    free_port,
    http_get,
    json_records,
    process_operator,
    quick_experiment,
    scenario,
    wait_for_status,
)
from tests.support.poll import wait_for


def test_liveness_metrics_and_json_logs(cluster: Cluster, namespace: str, tmp_path: Path) -> None:
    metrics_port, liveness_port = free_port(), free_port()
    log = tmp_path / "operator.log"
    with process_operator(
        cluster,
        namespace,
        log,
        RIPPLE_METRICS_PORT=str(metrics_port),
        RIPPLE_LIVENESS_PORT=str(liveness_port),
    ):
        healthz = f"http://127.0.0.1:{liveness_port}/healthz"
        wait_for(lambda: http_get(healthz)[0] == 200, timeout=60, what="the liveness endpoint")
        apply(
            cluster, namespace, scenario("counted", {"experiment": {"inline": quick_experiment()}})
        )
        wait_for_status(
            cluster, namespace, "counted", timeout=120, what="Completed", phase="Completed"
        )
        metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"

        def counted() -> str | None:
            text = http_get(metrics_url)[1]
            runs = metric(text, "ripple_runs_total", namespace=namespace, verdict="Pass")
            return text if runs == 1.0 else None

        text = wait_for(counted, timeout=30, what="ripple_runs_total counts the run")
        assert (
            metric(text, "ripple_runs_started_total", namespace=namespace, trigger="create") == 1.0
        )
        assert metric(text, "ripple_run_duration_seconds_count", verdict="Pass") == 1.0
        assert metric(text, "ripple_active_runs") == 0.0
        latency = metric(
            text, "ripple_handler_duration_seconds_count", handler="reconcile_scenario"
        )
        assert latency is not None
        assert latency >= 1
    records = json_records(log.read_text(encoding="utf-8", errors="replace"))
    finished = [r for r in records if "run 1 finished: Pass" in str(r.get("message"))]
    assert finished, records[-5:]
    assert finished[0]["severity"] == "info"
    assert finished[0]["object"]["name"] == "counted-1"  # logged by the Job handler
    assert finished[0]["object"]["kind"] == "Job"
