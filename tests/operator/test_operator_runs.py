"""Runs end to end against the real API server: smoke passes, reruns, history trimming."""

from __future__ import annotations

from tests.support.cluster import Cluster
from tests.support.demo import deploy_demo
from tests.support.operator import (
    apply,
    events_of,
    jobs_of,
    kopf_operator,
    quick_experiment,
    scenario,
    status_of,
    wait_for_status,
)
from tests.support.poll import wait_for

SMOKE = {
    "experiment": {"name": "smoke"},
    "configuration": {"window_seconds": 5, "observe_seconds": 2, "min_responses": 5},
    "load": {"target": "http://front:8080/", "rate": "10/1s", "timeout": "2s"},
    "activeDeadlineSeconds": 240,
}


def test_smoke_completes_with_pass_and_the_columns_show_it(
    cluster: Cluster, namespace: str
) -> None:
    deploy_demo(cluster, namespace)
    with kopf_operator(cluster, namespace):
        apply(cluster, namespace, scenario("smoke", SMOKE))
        running = wait_for_status(
            cluster, namespace, "smoke", timeout=60, what="phase Running", phase="Running"
        )
        assert running["activeRun"]["job"] == "smoke-1"
        status = wait_for_status(
            cluster, namespace, "smoke", timeout=240, what="phase Completed", phase="Completed"
        )
        assert status["verdict"] == "Pass", status.get("lastRun")
        assert status["deviated"] is False
        assert status["runs"] == 1
        assert status["experiment"] == "smoke"
        assert status["observedGeneration"] == 1
        last = status["lastRun"]
        assert last["id"] == "1"
        assert last["job"] == "smoke-1"
        assert last["journal"] == "smoke-1-journal"
        assert last["status"] == "completed"
        assert last["steadyStateBefore"]["met"] is True
        assert last["steadyStateAfter"]["met"] is True
        probes = {p["name"] for p in last["steadyStateBefore"]["probes"]}
        assert probes == {"front-answers-200", "load-responses-carry-no-error"}
        assert [a["name"] for a in last["activities"]] == ["observe-the-load"]
        assert all(a["status"] == "succeeded" for a in last["activities"])
        assert [h["id"] for h in status["history"]] == ["1"]
        assert "activeRun" not in status
        (job,) = jobs_of(cluster, namespace, "smoke")
        assert job["status"].get("succeeded") == 1
        assert [c["name"] for c in job["spec"]["template"]["spec"]["initContainers"]] == ["load"]
        finished = events_of(cluster, namespace, "smoke", "RunFinished")
        assert "verdict Pass" in finished[0]["message"]
        assert events_of(cluster, namespace, "smoke", "RunStarted")

        table = cluster.kubectl("get", "scn", "smoke", "-n", namespace).stdout.splitlines()
        header, row = table[0].split(), table[1].split()
        assert header == [
            "NAME",
            "EXPERIMENT",
            "PHASE",
            "VERDICT",
            "DEVIATED",
            "RUNS",
            "LAST",
            "RUN",
            "DURATION",
            "AGE",
        ]
        assert row[:6] == ["smoke", "smoke", "Completed", "Pass", "false", "1"]
        assert row[7] == last["duration"]
        chaos = cluster.kubectl("get", "chaos", "-n", namespace).stdout
        # the "chaos" category lists scenarios (prefixed when other kinds share it)
        names = [line.split()[0].rsplit("/", 1)[-1] for line in chaos.splitlines()[1:]]
        assert "smoke" in names


def test_rerun_annotation_gives_a_second_history_entry(cluster: Cluster, namespace: str) -> None:
    spec = {"experiment": {"inline": quick_experiment()}}
    with kopf_operator(cluster, namespace):
        apply(cluster, namespace, scenario("again", spec))
        wait_for_status(
            cluster,
            namespace,
            "again",
            timeout=120,
            what="run 1 recorded",
            runs=1,
            phase="Completed",
        )
        cluster.kubectl("annotate", "scn", "again", "-n", namespace, "ripple.dev/rerun=first")
        status = wait_for(
            lambda: (
                (s := status_of(cluster, namespace, "again")).get("phase") == "Completed"
                and len(s.get("history", [])) == 2
                and s
            ),
            timeout=120,
            what="a second history entry",
        )
        assert [h["id"] for h in status["history"]] == ["2", "1"]
        assert status["history"][0]["trigger"] == "rerun"
        assert status["history"][1]["trigger"] == "create"
        assert status["observedRerun"] == "first"
        assert status["runs"] == 2
        assert sorted(j["metadata"]["name"] for j in jobs_of(cluster, namespace, "again")) == [
            "again-1",
            "again-2",
        ]


def test_history_is_trimmed_with_its_jobs_and_journals(cluster: Cluster, namespace: str) -> None:
    spec = {"experiment": {"inline": quick_experiment()}, "historyLimit": 2}
    with kopf_operator(cluster, namespace):
        apply(cluster, namespace, scenario("trim", spec))
        wait_for_status(
            cluster, namespace, "trim", timeout=120, what="run 1", runs=1, phase="Completed"
        )
        for value, run in (("a", 2), ("b", 3)):
            cluster.kubectl(
                "annotate",
                "--overwrite",
                "scn",
                "trim",
                "-n",
                namespace,
                f"ripple.dev/rerun={value}",
            )
            wait_for_status(
                cluster,
                namespace,
                "trim",
                timeout=120,
                what=f"run {run}",
                runs=run,
                phase="Completed",
            )

        def trimmed() -> bool:
            jobs = sorted(j["metadata"]["name"] for j in jobs_of(cluster, namespace, "trim"))
            maps = cluster.get_json("configmaps", "-n", namespace)["items"]
            journals = sorted(
                m["metadata"]["name"] for m in maps if m["metadata"]["name"].endswith("-journal")
            )
            return jobs == ["trim-2", "trim-3"] and journals == ["trim-2-journal", "trim-3-journal"]

        wait_for(trimmed, timeout=60, what="run 1's Job and journal deleted")
        status = status_of(cluster, namespace, "trim")
        assert [h["id"] for h in status["history"]] == ["3", "2"]
        assert status["runs"] == 3
