"""The API server restarted during a run: the operator reconnects and the run completes.

Runs last of the e2e modules (file order): if the cluster does not come back, only the
uninstall check after it suffers. The apiserver is stopped by its PID file under the
cluster directory and started again by ``hack/cluster up``, which starts only what is not
running (should ``up`` fail, the apiserver is restarted from its own command line so the
cluster survives, and the test fails).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

from tests.e2e.product import QUICK, Product, scenario_manifest
from tests.support.cluster import HACK_CLUSTER
from tests.support.poll import PollTimeout, wait_for

APISERVER = "kube-apiserver"


def apiserver_command(cluster_dir: Path) -> tuple[int, list[str]]:
    """The PID its PID file names and that process's command line."""
    pid = int((cluster_dir / "pids" / f"{APISERVER}.pid").read_text().strip())
    command = Path(f"/proc/{pid}/cmdline").read_bytes().rstrip(b"\0").split(b"\0")
    assert APISERVER in command[0].decode(), f"PID {pid} is not the apiserver: {command[0]!r}"
    return pid, [part.decode() for part in command]


def stop_apiserver(pid: int) -> None:
    """As ``hack/cluster down`` stops a component: SIGTERM, then SIGKILL after 15s.

    (Its graceful shutdown waits up to a minute for requests in flight.)
    """
    os.kill(pid, signal.SIGTERM)
    try:
        wait_for(lambda: _gone(pid), timeout=15, interval=0.2, what="the apiserver to exit")
    except PollTimeout:
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: _gone(pid), timeout=30, interval=0.2, what="the apiserver killed")


def _gone(pid: int) -> bool:
    return not Path(f"/proc/{pid}").exists() or _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("Z")
    except (OSError, IndexError):
        return True


def start_apiserver(cluster_dir: Path, pid: int, command: list[str]) -> str:
    """Bring the apiserver back with ``hack/cluster up``; say how it came back.

    ``up`` starts only the components that are not running. Should it fail, the apiserver
    is started as hack/cluster starts it (detached, logging, PID file) so that the cluster
    outlives this test either way; the test then fails on the returned method.
    """
    if not _gone(pid):
        return "never stopped"
    done = subprocess.run(
        [str(HACK_CLUSTER), "up"], capture_output=True, text=True, timeout=900, check=False
    )
    if done.returncode == 0:
        return "hack/cluster up"
    with (cluster_dir / "logs" / f"{APISERVER}.log").open("ab") as log:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    (cluster_dir / "pids" / f"{APISERVER}.pid").write_text(f"{process.pid}\n")
    tail = "\n".join((done.stdout + done.stderr).splitlines()[-20:])
    return f"hack/cluster up exited {done.returncode} (apiserver restarted by hand):\n{tail}"


def api_ready(product: Product) -> bool:
    """The apiserver answers /readyz."""
    done = product.kubectl("get", "--raw", "/readyz", check=False, timeout=10)
    return done.returncode == 0 and done.stdout.strip() == "ok"


def test_apiserver_restarted_mid_run_the_operator_reconnects_and_the_run_completes(
    product: Product,
) -> None:
    name = "fault-apiserver"
    cluster_dir = product.cluster.kubeconfig.parent
    product.wait_steady()
    product.apply(
        scenario_manifest(name, experiment="smoke", configuration={**QUICK, "observe_seconds": 45})
    )
    product.wait_phase(name, ["Running"], timeout=60)
    wait_for(
        lambda: any(p["status"].get("phase") == "Running" for p in product.runner_pods(name)),
        timeout=180,
        interval=0.5,
        what="the run's pod running",
    )
    pid, command = apiserver_command(cluster_dir)
    started = time.monotonic()
    how = "not started"
    try:
        stop_apiserver(pid)
        down_at = datetime.now(UTC).replace(microsecond=0)
        assert not api_ready(product)
    finally:  # whatever happens, the cluster gets its apiserver back
        how = start_apiserver(cluster_dir, pid, command)
    wait_for(lambda: api_ready(product), timeout=180, interval=0.5, what="the apiserver back")
    print(f"apiserver down and back in {time.monotonic() - started:.1f}s ({how})")
    assert how == "hack/cluster up", how
    status = product.wait_run(name, run=1, timeout=300)
    print(f"run recorded {time.monotonic() - started:.1f}s after the apiserver stopped")
    assert status["phase"] == "Completed", status.get("message")
    assert status["verdict"] == "Pass", status.get("message")
    ended = datetime.fromisoformat(status["lastRun"]["end"].replace("Z", "+00:00"))
    assert ended >= down_at, "the run ended after the restart: the operator saw it reconnected"
    assert [j["metadata"]["name"] for j in product.jobs(name)] == [f"{name}-1"], "one run only"
    product.delete_scenarios([name])
