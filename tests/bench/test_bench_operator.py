"""The operator under a burst: N smoke scenarios created at once (N=100 by default).

Prints p50/p99 of creation -> Job created and Job finished -> status written (both seen
by one watching client, so one clock), and the operator's peak RSS (the kernel's VmHWM).
Runner requests are lowered so that every run fits on the one-node cluster at once.
"""

from __future__ import annotations

import json
import os
import statistics
import threading
import time
from pathlib import Path

import pytest
import yaml
from kubernetes import client, config, watch

from tests.support.cluster import Cluster
from tests.support.demo import deploy_demo
from tests.support.operator import (
    RUNNER_RBAC,
    apply,
    process_operator,
    quick_experiment,
    scenario,
    status_of,
)
from tests.support.poll import wait_for

COUNT = int(os.environ.get("RIPPLE_BENCH_SCENARIOS", "100"))
SPEC = {
    "experiment": {"name": "smoke"},
    "configuration": {
        "window_seconds": 10,
        "observe_seconds": 2,
        "min_responses": 2,
        "load_wait_seconds": 120,
    },
    "load": {"target": "http://front:8080/", "rate": "1/1s", "timeout": "3s"},
    "activeDeadlineSeconds": 900,
}


class Stopwatch:
    """Client-side times of what a watch saw: scenario created, Job created/finished, status."""

    def __init__(self, kubeconfig: Path, namespace: str) -> None:
        self.api = config.new_client_from_config(str(kubeconfig))
        self.namespace = namespace
        self.created: dict[str, float] = {}
        self.job_created: dict[str, float] = {}
        self.job_finished: dict[str, float] = {}
        self.status_written: dict[str, float] = {}
        self.stop = threading.Event()
        self.threads = [
            threading.Thread(target=self._scenarios, daemon=True),
            threading.Thread(target=self._jobs, daemon=True),
        ]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def _scenarios(self) -> None:
        custom = client.CustomObjectsApi(self.api)
        while not self.stop.is_set():
            for event in watch.Watch().stream(
                custom.list_namespaced_custom_object,
                "ripple.dev",
                "v1alpha1",
                self.namespace,
                "chaosscenarios",
                timeout_seconds=30,
            ):
                now = time.monotonic()
                obj = event["object"]
                name = obj["metadata"]["name"]
                if name == "warm-up":
                    continue
                self.created.setdefault(name, now)
                if (obj.get("status") or {}).get("lastRun", {}).get("verdict"):
                    self.status_written.setdefault(name, now)

    def _jobs(self) -> None:
        batch = client.BatchV1Api(self.api)
        while not self.stop.is_set():
            for event in watch.Watch().stream(
                batch.list_namespaced_job, self.namespace, timeout_seconds=30
            ):
                now = time.monotonic()
                job = event["object"]
                name = job.metadata.labels.get("ripple.dev/scenario", "")
                if name == "warm-up":
                    continue
                self.job_created.setdefault(name, now)
                conditions = job.status.conditions or []
                if any(c.type in ("Complete", "Failed") and c.status == "True" for c in conditions):
                    self.job_finished.setdefault(name, now)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


@pytest.mark.usefixtures("crd", "image_in_cluster")
def test_bench_operator_burst(cluster: Cluster, namespace: str, tmp_path: Path) -> None:
    apply(cluster, namespace, RUNNER_RBAC)
    deploy_demo(cluster, namespace)
    watcher = Stopwatch(cluster.kubeconfig, namespace)
    watcher.start()
    small = {
        "RIPPLE_RUNNER_CPU_REQUEST": "1m",
        "RIPPLE_RUNNER_MEMORY_REQUEST": "32Mi",
        "RIPPLE_LOAD_MEMORY_REQUEST": "8Mi",
    }
    with process_operator(cluster, namespace, tmp_path / "operator.log", **small) as proc:
        # a first scenario proves the operator's watches are up before the clock starts
        apply(
            cluster, namespace, scenario("warm-up", {"experiment": {"inline": quick_experiment()}})
        )
        wait_for(
            lambda: status_of(cluster, namespace, "warm-up").get("phase"),
            timeout=120,
            what="the operator handling a first scenario",
        )
        docs = [scenario(f"burst-{i:03d}", SPEC) for i in range(COUNT)]
        started = time.monotonic()
        apply(cluster, namespace, yaml.safe_dump_all(docs))
        wait_for(
            lambda: len(watcher.status_written) >= COUNT,
            timeout=45 * 60,
            interval=2,
            what=f"{COUNT} statuses written",
        )
        wall = time.monotonic() - started
        peak = _peak_rss_mib(proc.pid)
        verdicts = [
            item["status"]["verdict"]
            for item in cluster.get_json("scn", "-n", namespace)["items"]
            if item["metadata"]["name"] != "warm-up"
        ]
    watcher.stop.set()
    to_job = [watcher.job_created[n] - watcher.created[n] for n in watcher.status_written]
    to_status = [
        watcher.status_written[n] - watcher.job_finished[n] for n in watcher.status_written
    ]
    report = {
        "scenarios": COUNT,
        "create_to_job_p50_s": round(statistics.median(to_job), 3),
        "create_to_job_p99_s": round(_percentile(to_job, 0.99), 3),
        "job_finished_to_status_p50_s": round(statistics.median(to_status), 3),
        "job_finished_to_status_p99_s": round(_percentile(to_status, 0.99), 3),
        "operator_peak_rss_mib": round(peak, 1),
        "wall_clock_s": round(wall, 1),
        "verdicts": {v: verdicts.count(v) for v in sorted(set(verdicts))},
    }
    print()
    print(f"operator burst of {COUNT} smoke scenarios")
    for key, value in report.items():
        print(f"  {key:<32} {value}")
    print("BENCH " + json.dumps(report))
    assert len(to_job) == COUNT
