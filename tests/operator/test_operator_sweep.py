"""The sweep against the real API server: a fault whose run is over goes, a live run's stays.

The operator runs as a process (its metrics endpoint is scraped) with a two-second sweep.
The faults are NetworkPolicies labelled as a run labels them, selecting no pod; the runs'
Jobs are real Jobs of the ripple image that finish at once or sleep.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from ripple_contract import names
from tests.support.cluster import Cluster
from tests.support.faults import fault, policies, run_job, run_labels
from tests.support.metrics import metric
from tests.support.operator import (
    apply,
    events_of,
    free_port,
    http_get,
    json_records,
    process_operator,
    quick_experiment,
    scenario,
    status_of,
)
from tests.support.poll import wait_for

SWEEP_SECONDS = 2
GRACE_SECONDS = 5
REASON = "OrphanedFaultRemoved"


def events_about(cluster: Cluster, namespace: str, kind: str, name: str) -> list[dict[str, Any]]:
    selector = f"involvedObject.kind={kind},involvedObject.name={name},reason={REASON}"
    found = cluster.get_json("events", "-n", namespace, "--field-selector", selector)
    return list(found["items"])


def test_faults_whose_run_is_over_are_swept_and_a_live_run_s_fault_stays(
    cluster: Cluster, namespace: str, tmp_path: Path
) -> None:
    # a scenario that exists (suspended: it starts no run) and two runs' Jobs: one done, one live
    kept = scenario("kept", {"experiment": {"inline": quick_experiment()}, "suspend": True})
    apply(cluster, namespace, kept)
    apply(cluster, namespace, run_job("done", "1", seconds=0))
    apply(cluster, namespace, run_job("live", "1", seconds=600))
    cluster.kubectl(
        "wait", "--for=condition=Complete", "job/done-1", "-n", namespace, "--timeout=120s",
        timeout=130,
    )  # fmt: skip
    apply(cluster, namespace, fault("of-a-finished-job", run_labels("done", "1")))
    apply(cluster, namespace, fault("of-a-job-never-seen", run_labels("kept", "7")))
    apply(cluster, namespace, fault("of-a-live-job", run_labels("live", "1")))
    no_run = {k: v for k, v in run_labels("live", "2").items() if k != names.LABEL_RUN}
    apply(cluster, namespace, fault("without-a-run-label", no_run))
    apply(
        cluster,
        namespace,
        fault("not-ripple-s", {**run_labels("done", "1"), names.LABEL_MANAGED_BY: "Helm"}),
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}/metrics"
    with process_operator(
        cluster,
        namespace,
        tmp_path / "operator.log",
        RIPPLE_METRICS_PORT=str(port),
        RIPPLE_SWEEP_SECONDS=str(SWEEP_SECONDS),
        RIPPLE_SWEEP_GRACE_SECONDS=str(GRACE_SECONDS),
    ):
        # swept at start (the faults were there before the operator)
        wait_for(
            lambda: not policies(cluster, namespace) & {"of-a-finished-job", "of-a-job-never-seen"},
            timeout=90,
            interval=0.5,
            what="the faults of a finished Job and of a Job never seen to be deleted",
        )

        def removed(count: float) -> str | None:
            text = http_get(url)[1]
            seen = metric(
                text,
                "ripple_orphaned_faults_removed_total",
                namespace=namespace,
                kind="NetworkPolicy",
            )
            return text if seen == count else None

        text = wait_for(lambda: removed(2.0), timeout=30, what="two orphans counted")
        sweeps = metric(text, "ripple_fault_sweeps_total") or 0.0
        wait_for(
            lambda: (metric(http_get(url)[1], "ripple_fault_sweeps_total") or 0) >= sweeps + 2,
            timeout=30,
            what="two more sweeps",
        )
        left = policies(cluster, namespace)
        assert {"of-a-live-job", "without-a-run-label", "not-ripple-s"} <= left, left

        # the scenario that exists gets the event; a fault whose scenario is gone gets it itself
        (on_scenario,) = events_of(cluster, namespace, "kept", REASON)
        assert on_scenario["type"] == "Warning"
        assert on_scenario["involvedObject"]["kind"] == "ChaosScenario"
        assert on_scenario["message"] == (
            f"NetworkPolicy {namespace}/of-a-job-never-seen of run 7 was left behind"
            " (its run's Job kept-7 is gone) and has been deleted"
        )
        (on_fault,) = events_about(cluster, namespace, "NetworkPolicy", "of-a-finished-job")
        assert on_fault["type"] == "Warning"
        assert (
            "its run's Job done-1 finished, and its scenario done is gone" in (on_fault["message"])
        )

        # the live run's Job is deleted (in the background, as kubectl does): its pod stops,
        # then its fault goes, within about one sweep
        cluster.kubectl("delete", "job", "live-1", "-n", namespace, "--wait=false")
        deleted = time.monotonic()
        wait_for(
            lambda: "of-a-live-job" not in policies(cluster, namespace),
            timeout=60,
            interval=0.2,
            what="the fault of the deleted Job to be swept",
        )
        latency = time.monotonic() - deleted
        print(
            f"fault swept {latency:.1f}s after its Job was deleted (sweep every {SWEEP_SECONDS}s)"
        )
        wait_for(lambda: removed(3.0), timeout=30, what="the third orphan counted")
        assert {"without-a-run-label", "not-ripple-s"} <= policies(cluster, namespace)


ABSENT_KIND = (
    "from ripple_operator import orphans\n"
    "orphans.FAULT_KINDS = (*orphans.FAULT_KINDS, orphans.FaultKind(\n"
    "    group='absent.ripple.dev', version='v1', plural='nothings', kind='Nothing'))\n"
)
"""One more fault kind, which no cluster serves (no CRD), for the operator to watch."""


def test_a_fault_kind_without_its_crd_leaves_the_operator_and_the_sweep_working(
    cluster: Cluster, namespace: str, tmp_path: Path
) -> None:
    # as a cluster without Chaos Mesh is for NetworkChaos: Kopf leaves an absent kind unwatched
    apply(cluster, namespace, fault("of-no-run-at-all", run_labels("gone", "1")))
    log = tmp_path / "operator.log"
    with process_operator(
        cluster,
        namespace,
        log,
        before=ABSENT_KIND,
        RIPPLE_SWEEP_SECONDS=str(SWEEP_SECONDS),
        RIPPLE_SWEEP_GRACE_SECONDS="0",
    ):
        wait_for(
            lambda: "of-no-run-at-all" not in policies(cluster, namespace),
            timeout=90,
            interval=0.5,
            what="the sweep to delete the fault (its indices were filled)",
        )
        apply(cluster, namespace, scenario("runs", {"experiment": {"inline": quick_experiment()}}))
        wait_for(
            lambda: status_of(cluster, namespace, "runs").get("phase") == "Completed",
            timeout=120,
            what="a run to complete (the other handlers work too)",
        )
    records = json_records(log.read_text(encoding="utf-8", errors="replace"))
    unwatched = [
        r for r in records if "cannot be served" in str(r.get("message")) and "nothings" in str(r)
    ]
    assert unwatched, "Kopf did not say it leaves the absent kind unwatched"
