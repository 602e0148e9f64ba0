"""The API server restarted during a run: the operator reconnects and the run completes.

Runs last of the e2e modules (file order): if the cluster does not come back, only the
uninstall check after it suffers. The apiserver is stopped by the cluster's script
(``hack/cluster stop kube-apiserver``: its process; ``hack/kind stop kube-apiserver``: its
static pod) and brought back by the script's ``up``, which starts what is stopped. Should
``up`` fail, ``start kube-apiserver`` brings it back so the cluster survives, and the test
fails.
"""

from __future__ import annotations

import subprocess
import time
from datetime import UTC, datetime

from tests.e2e.product import QUICK, Product, scenario_manifest
from tests.support.cluster import HACK_CLUSTER
from tests.support.poll import wait_for

APISERVER = "kube-apiserver"


def cluster_script(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the cluster's script (hack/cluster or hack/kind) with ``args``."""
    return subprocess.run(
        [str(HACK_CLUSTER), *args], capture_output=True, text=True, timeout=900, check=False
    )


def stop_apiserver() -> None:
    """Stop the apiserver and return once it is gone (the script waits for that)."""
    done = cluster_script("stop", APISERVER)
    assert done.returncode == 0, f"{HACK_CLUSTER.name} stop {APISERVER}: {done.stderr}"


def start_apiserver() -> str:
    """Bring the apiserver back with ``up``; say how it came back.

    Should ``up`` fail, ``start kube-apiserver`` brings it back, so that the cluster
    outlives this test either way; the test then fails on the returned method.
    """
    done = cluster_script("up")
    if done.returncode == 0:
        return f"{HACK_CLUSTER.name} up"
    fallback = cluster_script("start", APISERVER)
    tail = "\n".join((done.stdout + done.stderr).splitlines()[-20:])
    return (
        f"{HACK_CLUSTER.name} up exited {done.returncode} (then start {APISERVER} exited "
        f"{fallback.returncode}):\n{tail}"
    )


def api_ready(product: Product) -> bool:
    """The apiserver answers /readyz."""
    done = product.kubectl("get", "--raw", "/readyz", check=False, timeout=10)
    return done.returncode == 0 and done.stdout.strip() == "ok"


def test_apiserver_restarted_mid_run_the_operator_reconnects_and_the_run_completes(
    product: Product,
) -> None:
    name = "fault-apiserver"
    product.wait_steady()
    # Long enough to outlast the stop: kind's kubelet notices a static pod's manifest gone
    # within 20 s, then the apiserver drains.
    product.apply(
        scenario_manifest(name, experiment="smoke", configuration={**QUICK, "observe_seconds": 75})
    )
    product.wait_phase(name, ["Running"], timeout=60)
    wait_for(
        lambda: any(p["status"].get("phase") == "Running" for p in product.runner_pods(name)),
        timeout=180,
        interval=0.5,
        what="the run's pod running",
    )
    started = time.monotonic()
    how = "not started"
    try:
        stop_apiserver()
        down_at = datetime.now(UTC).replace(microsecond=0)
        assert not api_ready(product)
    finally:  # whatever happens, the cluster gets its apiserver back
        how = start_apiserver()
    wait_for(lambda: api_ready(product), timeout=180, interval=0.5, what="the apiserver back")
    print(f"apiserver down and back in {time.monotonic() - started:.1f}s ({how})")
    assert how == f"{HACK_CLUSTER.name} up", how
    status = product.wait_run(name, run=1, timeout=300)
    print(f"run recorded {time.monotonic() - started:.1f}s after the apiserver stopped")
    assert status["phase"] == "Completed", status.get("message")
    assert status["verdict"] == "Pass", status.get("message")
    ended = datetime.fromisoformat(status["lastRun"]["end"].replace("Z", "+00:00"))
    assert ended >= down_at, "the run ended after the restart: the operator saw it reconnected"
    assert [j["metadata"]["name"] for j in product.jobs(name)] == [f"{name}-1"], "one run only"
    product.delete_scenarios([name])
