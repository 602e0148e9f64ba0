"""What starts a run: a spec change (queued behind the run underway, never two at once),
the schedule, and nothing at all while suspended."""

from __future__ import annotations

from datetime import timedelta

from ripple_operator.decisions import parse_time
from tests.support.cluster import Cluster
from tests.support.operator import (
    apply,
    jobs_of,
    kopf_operator,
    quick_experiment,
    scenario,
    status_of,
    unfinished,
    wait_for_status,
)
from tests.support.poll import wait_for


def test_triggers_during_a_run_queue_one_run_never_two_at_once(
    cluster: Cluster, namespace: str
) -> None:
    spec = {"experiment": {"inline": quick_experiment(seconds=8)}}
    with kopf_operator(cluster, namespace):
        apply(cluster, namespace, scenario("busy", spec))
        wait_for_status(cluster, namespace, "busy", timeout=60, what="run 1", phase="Running")
        cluster.kubectl(
            "patch",
            "scn",
            "busy",
            "-n",
            namespace,
            "--type=merge",
            "-p",
            '{"spec": {"historyLimit": 5}}',
        )
        cluster.kubectl("annotate", "scn", "busy", "-n", namespace, "ripple.dev/rerun=now")
        most_at_once: list[int] = []

        def second_run_recorded() -> bool:
            most_at_once.append(len(unfinished(jobs_of(cluster, namespace, "busy"))))
            status = status_of(cluster, namespace, "busy")
            return status.get("phase") == "Completed" and status.get("runs") == 2

        wait_for(second_run_recorded, timeout=180, what="the queued run recorded")
        status = status_of(cluster, namespace, "busy")
        assert max(most_at_once) == 1
        assert [h["id"] for h in status["history"]] == ["2", "1"]
        assert status["history"][0]["trigger"] == "spec"
        assert status["observedGeneration"] == 2
        assert status["observedRerun"] == "now"
        assert len(jobs_of(cluster, namespace, "busy")) == 2


def test_a_schedule_starts_runs_and_suspend_stops_them(cluster: Cluster, namespace: str) -> None:
    scheduled = {"experiment": {"inline": quick_experiment()}, "schedule": "* * * * *"}
    suspended = {**scheduled, "suspend": True}
    with kopf_operator(cluster, namespace):
        apply(cluster, namespace, scenario("ticking", scheduled))
        apply(cluster, namespace, scenario("sleeping", suspended))
        status = wait_for(
            lambda: (
                (s := status_of(cluster, namespace, "ticking")).get("runs", 0) >= 2
                and s.get("phase") == "Completed"
                and s
            ),
            timeout=150,
            what="a run started by the schedule",
        )
        assert status["history"][0]["trigger"] == "schedule"
        assert status["history"][-1]["trigger"] == "create"
        # The tick fires on its minute, not up to a polling period later: the stamp is the
        # minute itself and the scheduled run's Job exists within a second of it.
        tick = parse_time(status["lastScheduleTime"])
        assert tick.second == 0, status["lastScheduleTime"]
        scheduled_job = next(
            j
            for j in jobs_of(cluster, namespace, "ticking")
            if j["metadata"]["name"] == f"ticking-{status['history'][0]['id']}"
        )
        created = parse_time(scheduled_job["metadata"]["creationTimestamp"])
        assert timedelta(0) <= created - tick <= timedelta(seconds=1), (tick, created)
        asleep = status_of(cluster, namespace, "sleeping")
        assert "suspended" in asleep.get("message", "")
        assert asleep["phase"] == "Pending"
        assert "runs" not in asleep
        assert jobs_of(cluster, namespace, "sleeping") == []
