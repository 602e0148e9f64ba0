"""The API server restarted during a run: the operator reconnects and the run completes.

Runs last of the e2e modules (file order): if the cluster does not come back, only the
uninstall check after it suffers. The apiserver is stopped by its PID file under the
cluster directory and started again with ``hack/cluster restart kube-apiserver`` when
hack/cluster offers it; otherwise with the very command line it was running (``hack/cluster
up`` would rebuild the whole cluster once the node is not Ready: see /work/brief/BUGS.md).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.e2e.product import QUICK, Product, scenario_manifest
from tests.support.cluster import HACK_CLUSTER
from tests.support.poll import wait_for

pytestmark = pytest.mark.e2e

APISERVER = "kube-apiserver"


def hack_cluster_can_restart() -> bool:
    """Whether ``hack/cluster``'s usage line offers a ``restart`` command."""
    done = subprocess.run([str(HACK_CLUSTER)], capture_output=True, text=True, timeout=30)
    return "restart" in done.stderr + done.stdout


def stop_apiserver(cluster_dir: Path) -> list[str]:
    """SIGTERM the apiserver its PID file names; wait for it to exit; return its command."""
    pid = int((cluster_dir / "pids" / f"{APISERVER}.pid").read_text().strip())
    command = Path(f"/proc/{pid}/cmdline").read_bytes().rstrip(b"\0").split(b"\0")
    assert APISERVER in command[0].decode(), f"PID {pid} is not the apiserver: {command[0]!r}"
    os.kill(pid, signal.SIGTERM)
    wait_for(
        lambda: not Path(f"/proc/{pid}").exists() or _is_zombie(pid),
        timeout=60,
        interval=0.2,
        what="the apiserver to exit",
    )
    return [part.decode() for part in command]


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("Z")
    except (OSError, IndexError):
        return True


def start_apiserver(cluster_dir: Path, command: list[str]) -> None:
    """Start the apiserver again as hack/cluster does: detached, logging, PID file."""
    if hack_cluster_can_restart():
        subprocess.run(
            [str(HACK_CLUSTER), "restart", APISERVER], check=True, timeout=300, text=True
        )
        return
    with (cluster_dir / "logs" / f"{APISERVER}.log").open("ab") as log:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    (cluster_dir / "pids" / f"{APISERVER}.pid").write_text(f"{process.pid}\n")


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
    started = time.monotonic()
    command = stop_apiserver(cluster_dir)
    assert not api_ready(product)
    down_at = datetime.now(UTC).replace(microsecond=0)
    start_apiserver(cluster_dir, command)
    wait_for(lambda: api_ready(product), timeout=180, interval=0.5, what="the apiserver back")
    print(f"apiserver down and back in {time.monotonic() - started:.1f}s")
    status = product.wait_run(name, run=1, timeout=300)
    print(f"run recorded {time.monotonic() - started:.1f}s after the apiserver stopped")
    assert status["phase"] == "Completed", status.get("message")
    assert status["verdict"] == "Pass", status.get("message")
    ended = datetime.fromisoformat(status["lastRun"]["end"].replace("Z", "+00:00"))
    assert ended >= down_at, "the run ended after the restart: the operator saw it reconnected"
    assert [j["metadata"]["name"] for j in product.jobs(name)] == [f"{name}-1"], "one run only"
    product.delete_scenarios([name])
