"""Deleting a scenario mid-run, and an operator killed mid-run then restarted."""

from __future__ import annotations

from pathlib import Path

from ripple_contract import names
from tests.support.cluster import Cluster
from tests.support.operator import (
    apply,
    get_scenario,
    jobs_of,
    json_records,
    kopf_operator,
    process_operator,
    quick_experiment,
    scenario,
    status_of,
    wait_for_status,
)
from tests.support.poll import wait_for


def _runner_started(cluster: Cluster, namespace: str, job: str) -> bool:
    pods = cluster.get_json("pods", "-n", namespace, "-l", f"batch.kubernetes.io/job-name={job}")
    return any(
        (s.get("state") or {}).get("running")
        for pod in pods["items"]
        for s in (pod.get("status") or {}).get("containerStatuses") or []
    )


def test_deleting_a_scenario_mid_run_removes_the_job_then_the_finalizer(
    cluster: Cluster, namespace: str
) -> None:
    spec = {"experiment": {"inline": quick_experiment(seconds=300)}}
    with kopf_operator(cluster, namespace):
        apply(cluster, namespace, scenario("doomed", spec))
        wait_for_status(cluster, namespace, "doomed", timeout=60, what="Running", phase="Running")
        wait_for(
            lambda: _runner_started(cluster, namespace, "doomed-1"),
            timeout=120,
            what="the runner container running",
        )
        finalizers = get_scenario(cluster, namespace, "doomed")["metadata"]["finalizers"]
        assert names.FINALIZER in finalizers
        cluster.kubectl("delete", "scn", "doomed", "-n", namespace, "--wait=false")

        def job_is_being_deleted() -> bool:
            jobs = jobs_of(cluster, namespace, "doomed")
            return not jobs or bool(jobs[0]["metadata"].get("deletionTimestamp"))

        wait_for(job_is_being_deleted, timeout=30, what="the Job deleted by the finalizer")
        violations: list[str] = []

        def both_gone() -> bool:
            # read the Job first: if it is still there, the scenario must be too
            jobs = jobs_of(cluster, namespace, "doomed")
            scenarios = cluster.get_json("scn", "-n", namespace)["items"]
            if jobs and not scenarios:
                violations.append("the scenario went before its Job")
            return not jobs and not scenarios

        wait_for(both_gone, timeout=120, what="the Job, then the scenario, gone")
        assert violations == []
        assert jobs_of(cluster, namespace, "doomed") == []


def test_an_operator_killed_mid_run_writes_the_result_when_restarted(
    cluster: Cluster, namespace: str, tmp_path: Path
) -> None:
    spec = {"experiment": {"inline": quick_experiment(seconds=10)}}
    log = tmp_path / "operator.log"
    with process_operator(cluster, namespace, log) as proc:
        apply(cluster, namespace, scenario("survivor", spec))
        wait_for_status(cluster, namespace, "survivor", timeout=90, what="Running", phase="Running")
        proc.kill()
        proc.wait(timeout=30)
    records = json_records(log.read_text(encoding="utf-8", errors="replace"))
    assert any("run 1 started (create)" in str(r.get("message")) for r in records), records[-5:]

    def job_finished() -> bool:
        jobs = jobs_of(cluster, namespace, "survivor")
        return bool(jobs) and bool(jobs[0].get("status", {}).get("succeeded"))

    wait_for(job_finished, timeout=180, what="the Job finished while no operator ran")
    assert status_of(cluster, namespace, "survivor")["phase"] == "Running"
    with kopf_operator(cluster, namespace):
        status = wait_for_status(
            cluster, namespace, "survivor", timeout=60, what="Completed", phase="Completed"
        )
        assert status["verdict"] == "Pass"
        assert [h["id"] for h in status["history"]] == ["1"]
        assert status["runs"] == 1
        assert len(jobs_of(cluster, namespace, "survivor")) == 1


def test_a_job_deleted_mid_run_ends_the_run_in_error(cluster: Cluster, namespace: str) -> None:
    spec = {"experiment": {"inline": quick_experiment(seconds=300)}}
    with kopf_operator(cluster, namespace):
        apply(cluster, namespace, scenario("orphan", spec))
        wait_for_status(cluster, namespace, "orphan", timeout=60, what="Running", phase="Running")
        cluster.kubectl("delete", "job", "orphan-1", "-n", namespace, "--wait=false")
        status = wait_for_status(
            cluster, namespace, "orphan", timeout=120, what="phase Error", phase="Error"
        )
        assert status["verdict"] == "Error"
        assert "JobDeleted" in status["lastRun"]["message"]
        assert "activeRun" not in status
        assert [h["id"] for h in status["history"]] == ["1"]
