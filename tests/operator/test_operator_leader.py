"""Two ``ripple operator`` processes and one Lease: one leads, the other stands by and takes
over within 15 s when the leader is SIGKILLed mid-run; the run starts once, its result is
written once."""

from __future__ import annotations

import signal
import subprocess
import time
from contextlib import ExitStack
from pathlib import Path

from tests.support.cluster import Cluster
from tests.support.operator import (
    apply,
    events_of,
    free_port,
    http_get,
    jobs_of,
    process_operator,
    quick_experiment,
    scenario,
    wait_for_status,
)
from tests.support.poll import wait_for

LEASE = "ripple-test-leader"


def holder(cluster: Cluster, namespace: str) -> str:
    found = cluster.kubectl(
        "get",
        "lease",
        LEASE,
        "-n",
        namespace,
        "-o",
        "jsonpath={.spec.holderIdentity}",
        check=False,
    )
    return found.stdout.strip() if found.returncode == 0 else ""


def test_the_standby_takes_over_a_killed_leader_and_no_run_starts_or_ends_twice(
    cluster: Cluster, namespace: str, tmp_path: Path
) -> None:
    ports = {"a": free_port(), "b": free_port()}
    procs: dict[str, subprocess.Popen[bytes]] = {}
    with ExitStack() as stack:
        for name in ("a", "b"):
            procs[name] = stack.enter_context(
                process_operator(
                    cluster,
                    namespace,
                    tmp_path / f"operator-{name}.log",
                    RIPPLE_LEASE_NAME=LEASE,
                    RIPPLE_LEASE_NAMESPACE=namespace,
                    RIPPLE_POD_NAME=name,
                    RIPPLE_LIVENESS_PORT=str(ports[name]),
                )
            )
        leader_id = wait_for(
            lambda: holder(cluster, namespace) or None, timeout=60, what="a leader in the Lease"
        )
        leader = leader_id.split("_")[0]  # the Lease names the process: <pod>_<random>
        standby = "b" if leader == "a" else "a"
        # The standby answers its liveness probe while it waits.
        healthz = f"http://127.0.0.1:{ports[standby]}/healthz"
        status, body = wait_for(
            lambda: (r := http_get(healthz))[0] == 200 and r, timeout=30, what="standby health"
        )
        assert '"standby": true' in body
        apply(
            cluster,
            namespace,
            scenario("long", {"experiment": {"inline": quick_experiment(seconds=15)}}),
        )
        wait_for_status(cluster, namespace, "long", timeout=90, what="Running", phase="Running")
        procs[leader].send_signal(signal.SIGKILL)
        procs[leader].wait(timeout=10)
        killed = time.monotonic()
        wait_for(
            lambda: holder(cluster, namespace).startswith(f"{standby}_"),
            timeout=20,
            interval=0.2,
            what="the standby holding the Lease",
        )
        takeover = time.monotonic() - killed
        assert takeover <= 15, f"the standby took over after {takeover:.1f}s"
        print(f"\ntakeover after SIGKILL of the leader: {takeover:.1f}s")
        status = wait_for_status(
            cluster, namespace, "long", timeout=120, what="Completed", phase="Completed"
        )
        assert status["runs"] == 1, status
        assert [h["id"] for h in status["history"]] == ["1"]
        assert status["verdict"] == "Pass", status
        assert [j["metadata"]["name"] for j in jobs_of(cluster, namespace, "long")] == ["long-1"]
        for reason in ("RunStarted", "RunFinished"):
            posted = events_of(cluster, namespace, "long", reason)
            assert sum(int(e.get("count") or 1) for e in posted) == 1, (reason, posted)
