"""The operator's own share of reaction and startup, with no pod ever started.

A ResourceQuota of zero pods in the namespace lets the API server store every Job while
the Job controller can create none of its pods, so the cluster's pod start-up (the bulk
of the full-cluster burst's figures) is out of the clock. A Job's end is then written by
this test into its status subresource (SuccessCriteriaMet and Complete, as the Job
controller would): the operator reacts to that Job exactly as to a real one, except that
no runner wrote a journal (one GET of the journal answers 404, and the operator lists the
Job's pods for a termination message). The verdict is therefore not a real one.

- ``test_bench_reaction``: N scenarios created at once -> Job created (p50/p99); their N
  Jobs finished within about a second -> status written (p50/p99).
- ``test_bench_startup``: N scenarios whose status calls run 1 active, each with its Job
  finished and not yet recorded (an operator stopped mid-run, restarted): operator start
  -> every status current; no Job started twice.

Prints the figures and the operator's RSS (now and peak); no timed assertions.
Knobs: RIPPLE_BENCH_REACTION_SCENARIOS (100), RIPPLE_BENCH_STARTUP_SCENARIOS (1000).
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from ripple_contract import names
from ripple_operator.status import started_patch
from tests.bench.test_bench_operator import Stopwatch
from tests.support.cluster import Cluster
from tests.support.operator import RUNNER_RBAC, apply, process_operator, scenario
from tests.support.poll import wait_for
from tests.support.ripple_in_cluster import IMAGE

REACTION = int(os.environ.get("RIPPLE_BENCH_REACTION_SCENARIOS", "100"))
STARTUP = int(os.environ.get("RIPPLE_BENCH_STARTUP_SCENARIOS", "1000"))
SPEC = {"experiment": {"name": "smoke"}}
ZERO_PODS = {
    "apiVersion": "v1",
    "kind": "ResourceQuota",
    "metadata": {"name": "no-pods"},
    "spec": {"hard": {"pods": "0"}},
}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def rss_mib(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def started(batch: client.BatchV1Api, namespace: str, name: str) -> None:
    """Wait for the Job controller's startTime (a Job's end may not come before it)."""

    def start_time() -> Any:
        status = batch.read_namespaced_job_status(name, namespace).status
        return status.start_time if status is not None else None

    wait_for(
        start_time,
        timeout=60,
        interval=0.1,
        what=f"Job {name} started",
    )


def finish_job(batch: client.BatchV1Api, namespace: str, name: str) -> None:
    """Write Complete into the Job's status as the Job controller would."""
    now = rfc3339()
    conditions = [
        {"type": kind, "status": "True", "lastTransitionTime": now}
        for kind in ("SuccessCriteriaMet", "Complete")
    ]
    patch = {"status": {"completionTime": now, "succeeded": 1, "conditions": conditions}}
    batch.patch_namespaced_job_status(name, namespace, patch)


def pooled_client(cluster: Cluster) -> client.ApiClient:
    """A client with a connection per worker thread (the library's default pool is 4)."""
    configuration = client.Configuration()
    config.load_kube_config(str(cluster.kubeconfig), client_configuration=configuration)
    configuration.connection_pool_maxsize = 64
    return client.ApiClient(configuration)


def in_parallel(work: list[Callable[[], Any]], workers: int = 16) -> None:
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for future in [pool.submit(w) for w in work]:
            future.result()


def report(title: str, figures: dict[str, Any]) -> None:
    print()
    print(title)
    for key, value in figures.items():
        print(f"  {key:<34} {value}")
    print("BENCH " + json.dumps(figures))


@pytest.mark.bench
@pytest.mark.usefixtures("crd")
def test_bench_reaction(cluster: Cluster, namespace: str, tmp_path: Path) -> None:
    apply(cluster, namespace, RUNNER_RBAC)
    apply(cluster, namespace, ZERO_PODS)
    api = pooled_client(cluster)
    batch = client.BatchV1Api(api)
    watcher = Stopwatch(cluster.kubeconfig, namespace)
    watcher.start()
    with process_operator(cluster, namespace, tmp_path / "operator.log") as proc:
        apply(cluster, namespace, scenario("warm-up", SPEC))
        wait_for(
            lambda: (
                batch.list_namespaced_job(namespace, label_selector="ripple.dev/scenario").items
            ),
            timeout=120,
            what="the operator handling a first scenario",
        )
        docs = [scenario(f"burst-{i:03d}", SPEC) for i in range(REACTION)]
        apply(cluster, namespace, yaml.safe_dump_all(docs))
        wait_for(
            lambda: len(watcher.job_created) >= REACTION,
            timeout=600,
            interval=0.5,
            what=f"{REACTION} Jobs created",
        )
        jobs = [names.job_name(f"burst-{i:03d}", "1") for i in range(REACTION)]
        in_parallel([lambda job=job: started(batch, namespace, job) for job in jobs])
        finishing = time.monotonic()
        in_parallel([lambda job=job: finish_job(batch, namespace, job) for job in jobs], 50)
        finished_in = time.monotonic() - finishing
        wait_for(
            lambda: len(watcher.status_written) >= REACTION,
            timeout=600,
            interval=0.5,
            what=f"{REACTION} statuses written",
        )
        rss, peak = rss_mib(proc.pid, "VmRSS"), rss_mib(proc.pid, "VmHWM")
    watcher.stop.set()
    to_job = [watcher.job_created[n] - watcher.created[n] for n in watcher.status_written]
    to_status = [
        watcher.status_written[n] - watcher.job_finished[n] for n in watcher.status_written
    ]
    report(
        f"operator reaction, {REACTION} scenarios, no pod started (zero-pod quota)",
        {
            "create_to_job_p50_s": round(statistics.median(to_job), 3),
            "create_to_job_p99_s": round(percentile(to_job, 0.99), 3),
            "jobs_finished_within_s": round(finished_in, 2),
            "job_finished_to_status_p50_s": round(statistics.median(to_status), 3),
            "job_finished_to_status_p99_s": round(percentile(to_status, 0.99), 3),
            "operator_rss_mib": round(rss),
            "operator_peak_rss_mib": round(peak),
        },
    )
    assert len(to_job) == REACTION


def interrupted_run(namespace: str, name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A scenario served by an operator that started its run 1, and that run's Job."""
    job_name = names.job_name(name, "1")
    body = {
        "apiVersion": "ripple.dev/v1alpha1",
        "kind": "ChaosScenario",
        "metadata": {
            "name": name,
            "finalizers": [names.FINALIZER],
            # what Kopf stored when it handled the creation: a restart sees no change
            "annotations": {
                "kopf.zalando.org/last-handled-configuration": json.dumps({"spec": SPEC})
            },
        },
        "spec": SPEC,
    }
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": job_name,
            "labels": {
                names.LABEL_MANAGED_BY: names.MANAGED_BY,
                names.LABEL_SCENARIO: name,
                names.LABEL_RUN: "1",
            },
            "annotations": {
                names.ANNOTATION_TRIGGER: "create",
                names.ANNOTATION_GENERATION: "1",
                names.ANNOTATION_OBSERVED_RERUN: "",
            },
        },
        "spec": {
            "backoffLimit": 0,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [
                        {"name": names.RUNNER_CONTAINER, "image": IMAGE, "command": ["true"]}
                    ],
                }
            },
        },
    }
    return body, job


def seed(api: client.ApiClient, namespace: str, name: str) -> None:
    custom, batch = client.CustomObjectsApi(api), client.BatchV1Api(api)
    body, job = interrupted_run(namespace, name)
    created = custom.create_namespaced_custom_object(
        "ripple.dev", "v1alpha1", namespace, "chaosscenarios", body
    )
    created["status"] = started_patch(
        None,
        run="1",
        job=job["metadata"]["name"],
        trigger="create",
        now=rfc3339(),
        experiment="smoke",
        generation=1,
        rerun="",
    )
    custom.replace_namespaced_custom_object_status(
        "ripple.dev", "v1alpha1", namespace, "chaosscenarios", name, created
    )
    try:
        batch.create_namespaced_job(namespace, job)
    except ApiException as exc:
        if exc.status != 409:
            raise
    started(batch, namespace, job["metadata"]["name"])
    finish_job(batch, namespace, job["metadata"]["name"])


@pytest.mark.bench
@pytest.mark.usefixtures("crd")
def test_bench_startup(cluster: Cluster, namespace: str, tmp_path: Path) -> None:
    apply(cluster, namespace, RUNNER_RBAC)
    apply(cluster, namespace, ZERO_PODS)
    api = pooled_client(cluster)
    custom, batch = client.CustomObjectsApi(api), client.BatchV1Api(api)
    seeding = time.monotonic()
    in_parallel(
        [lambda i=i: seed(api, namespace, f"restart-{i:04d}") for i in range(STARTUP)], workers=8
    )
    print(
        f"\n{STARTUP} scenarios with a finished, unrecorded run seeded in "
        f"{time.monotonic() - seeding:.1f}s"
    )

    def lagging() -> int:
        items = custom.list_namespaced_custom_object(
            "ripple.dev", "v1alpha1", namespace, "chaosscenarios"
        )["items"]
        return sum(
            1
            for s in items
            if (s.get("status") or {}).get("activeRun")
            or ((s.get("status") or {}).get("lastRun") or {}).get("id") != "1"
        )

    with process_operator(cluster, namespace, tmp_path / "operator.log") as proc:
        launched = time.monotonic()
        wait_for(lambda: lagging() == 0, timeout=900, interval=1.0, what="every status current")
        caught_up = time.monotonic() - launched
        rss, peak = rss_mib(proc.pid, "VmRSS"), rss_mib(proc.pid, "VmHWM")
        jobs = batch.list_namespaced_job(namespace).items
    runs = [job.metadata.labels.get(names.LABEL_RUN) for job in jobs]
    report(
        f"operator startup, {STARTUP} scenarios each with a finished run to record",
        {
            "start_to_every_status_current_s": round(caught_up, 1),
            "jobs": len(jobs),
            "jobs_not_run_1": sum(1 for r in runs if r != "1"),
            "operator_rss_mib": round(rss),
            "operator_peak_rss_mib": round(peak),
        },
    )
    assert len(jobs) == STARTUP, "a run started twice"
