"""A run's start-up overhead: its pod scheduled -> the experiment's first activity started.

Real runs, one at a time, on the local cluster with the demo deployed: the ``smoke``
built-in (a load sidecar, an HTTP probe first) and ``middle-service-restarts`` (its first
probe asks the API server through chaostoolkit-kubernetes). Before the measured runs a
warm-up run puts the image's files into the page cache.

Per run, on this machine's clock (the cluster's node is this machine):

- scheduled: when a watch of the namespace's pods first saw the pod bound to the node
  (the PodScheduled condition's own time has whole seconds only);
- container: the runner container's ``startedAt`` (whole seconds, from the kubelet);
- first log: the kubelet's timestamp of the runner's first log line (chaoslib's first);
- first activity: the journal's first activity ``start`` (steady-state probe, else method).

Prints each run and p50/max per scenario; no timed assertion. Knob: RIPPLE_BENCH_RUN_STARTS (5).
"""

from __future__ import annotations

import json
import os
import statistics
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config, watch

from ripple_contract import names
from ripple_contract.journal_codec import journal_of_configmap
from tests.support.cluster import Cluster
from tests.support.demo import deploy_demo
from tests.support.operator import RUNNER_RBAC, apply, process_operator, scenario, status_of
from tests.support.poll import wait_for

RUNS = int(os.environ.get("RIPPLE_BENCH_RUN_STARTS", "5"))
LOAD = {"target": "http://front:8080/", "rate": "5/1s", "timeout": "3s"}
SPECS: dict[str, dict[str, Any]] = {
    "smoke": {
        "experiment": {"name": "smoke"},
        "configuration": {
            "window_seconds": 5,
            "observe_seconds": 1,
            "min_responses": 2,
            "load_wait_seconds": 60,
        },
        "load": LOAD,
        "activeDeadlineSeconds": 300,
    },
    "restart": {
        "experiment": {"name": "middle-service-restarts"},
        "configuration": {
            "window_seconds": 5,
            "min_responses": 2,
            "load_wait_seconds": 60,
            "fault_check_seconds": 15,
        },
        "load": LOAD,
        "activeDeadlineSeconds": 300,
    },
}


class PodClock:
    """Wall-clock time at which a watch first saw each runner pod bound to a node."""

    def __init__(self, kubeconfig: Path, namespace: str) -> None:
        self.api = config.new_client_from_config(str(kubeconfig))  # type: ignore[no-untyped-call]
        self.namespace = namespace
        self.scheduled: dict[str, float] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _watch(self) -> None:
        core = client.CoreV1Api(self.api)
        while not self.stop.is_set():
            stream = watch.Watch().stream  # type: ignore[no-untyped-call]
            for event in stream(  # type: ignore[no-untyped-call]
                core.list_namespaced_pod,
                self.namespace,
                label_selector=names.LABEL_SCENARIO,
                timeout_seconds=10,
            ):
                now = time.time()
                pod = event["object"]
                if pod.spec.node_name:
                    self.scheduled.setdefault(pod.metadata.name, now)


def timestamp(text: str) -> float:
    """Seconds since the epoch of an RFC 3339 time (``Z`` or an offset, any fraction)."""
    text = text.strip().replace("Z", "+00:00")
    head, _, rest = text.partition(".")
    if rest:  # Python parses at most microseconds; the kubelet writes nanoseconds
        digits = "".join(c for c in rest if c.isdigit())
        zone = rest[len(digits) :]
        text = f"{head}.{digits[:6]}{zone}"
    return datetime.fromisoformat(text).timestamp()


def first_activity_start(journal: dict[str, Any]) -> float:
    """When the run's first activity started, from the journal chaoslib wrote."""
    before = (journal.get("steady_states") or {}).get("before") or {}
    activities = [*(before.get("probes") or []), *(journal.get("run") or [])]
    if not activities:
        raise AssertionError(f"the journal has no activity: {journal.get('status')}")
    return min(timestamp(a["start"]) for a in activities)


def one_run(
    cluster: Cluster, namespace: str, clock: PodClock, name: str, spec: dict[str, Any]
) -> dict[str, Any]:
    """Run one scenario to its verdict; the figures of its start-up."""
    apply(cluster, namespace, scenario(name, spec))

    def judged() -> dict[str, Any] | None:
        last: dict[str, Any] = status_of(cluster, namespace, name).get("lastRun") or {}
        return last if last.get("verdict") else None

    last = wait_for(
        judged,
        timeout=300,
        interval=0.5,
        what=f"{name}: a verdict",
    )
    run = str(last["id"])
    selector = f"{names.LABEL_SCENARIO}={name},{names.LABEL_RUN}={run}"
    pod = cluster.get_json("pods", "-n", namespace, "-l", selector)["items"][0]
    pod_name = pod["metadata"]["name"]
    scheduled_condition = next(
        timestamp(c["lastTransitionTime"])
        for c in pod["status"]["conditions"]
        if c["type"] == "PodScheduled"
    )
    runner = next(
        s for s in pod["status"]["containerStatuses"] if s["name"] == names.RUNNER_CONTAINER
    )
    state = runner["state"].get("terminated") or runner["state"].get("running") or {}
    logs = cluster.kubectl(
        "logs", pod_name, "-n", namespace, "-c", names.RUNNER_CONTAINER, "--timestamps"
    ).stdout
    first_log = timestamp(logs.split(" ", 1)[0]) if logs else float("nan")
    configmap = cluster.get_json(
        "configmap", names.journal_configmap_name(name, run), "-n", namespace
    )
    journal = journal_of_configmap(configmap)
    assert journal is not None, f"{name}: no journal stored"
    activity = first_activity_start(journal)
    scheduled = clock.scheduled.get(pod_name, scheduled_condition)
    return {
        "run": name,
        "verdict": last["verdict"],
        "scheduled_to_first_activity_s": round(activity - scheduled, 3),
        "scheduled_to_container_s": round(timestamp(state["startedAt"]) - scheduled, 1),
        "scheduled_to_first_log_s": round(first_log - scheduled, 3),
        "first_log_to_first_activity_s": round(activity - first_log, 3),
        "condition_to_first_activity_s": round(activity - scheduled_condition, 3),
    }


@pytest.mark.bench
@pytest.mark.usefixtures("crd", "image_in_cluster")
def test_bench_run_start(cluster: Cluster, namespace: str, tmp_path: Path) -> None:
    apply(cluster, namespace, RUNNER_RBAC)
    deploy_demo(cluster, namespace)
    clock = PodClock(cluster.kubeconfig, namespace)
    clock.start()
    figures: dict[str, list[dict[str, Any]]] = {kind: [] for kind in SPECS}
    with process_operator(cluster, namespace, tmp_path / "operator.log"):
        one_run(cluster, namespace, clock, "warm-up", SPECS["smoke"])
        for i in range(RUNS):
            for kind, spec in SPECS.items():
                figures[kind].append(one_run(cluster, namespace, clock, f"{kind}-{i}", spec))
    clock.stop.set()
    print()
    print(f"run start-up, {RUNS} runs per scenario, one at a time (load {os.getloadavg()})")
    summary: dict[str, Any] = {"load_average": [round(x, 2) for x in os.getloadavg()]}
    for kind, runs in figures.items():
        for r in runs:
            print("  " + json.dumps(r))
        overhead = [r["scheduled_to_first_activity_s"] for r in runs]
        in_python = [r["first_log_to_first_activity_s"] for r in runs]
        to_log = [r["scheduled_to_first_log_s"] for r in runs]
        summary[kind] = {
            "scheduled_to_first_activity_p50_s": round(statistics.median(overhead), 3),
            "scheduled_to_first_activity_max_s": round(max(overhead), 3),
            "scheduled_to_first_log_p50_s": round(statistics.median(to_log), 3),
            "first_log_to_first_activity_p50_s": round(statistics.median(in_python), 3),
            "verdicts": sorted({r["verdict"] for r in runs}),
        }
        for key, value in summary[kind].items():
            print(f"  {kind:<8} {key:<36} {value}")
    print("BENCH " + json.dumps(summary))
    assert all(len(runs) == RUNS for runs in figures.values())
