"""The demo services in a test namespace, and ``ripple run-experiment`` run against them.

The runner runs on this machine (as from a laptop, with the test cluster's kubeconfig).
Service cluster IPs answer here (hack/cluster: this machine is the node; hack/kind: it
routes the cluster's ranges to the nodes), so vegeta can load front directly. The
services run from the locally built ``ripple:dev`` image.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.cluster import Cluster
from tests.support.demo import Demo
from tests.support.runner import RunnerProc, start_runner


def start_run(
    cluster: Cluster, tmp_path: Path, *args: str, vegeta: str | None = None
) -> RunnerProc:
    """Start ``ripple run-experiment ARGS`` with the cluster's kubeconfig."""
    return start_runner(tmp_path, vegeta, *args, env=cluster.env())


def load_args(
    demo: Demo, tmp_path: Path, *, rate: str = "5/1s", **configuration: object
) -> list[str]:
    """Flags pointing an experiment at the demo with local vegeta load."""
    values: dict[str, object] = {"namespace": demo.namespace, "front_url": demo.front_url}
    values.update(configuration)
    args: list[str] = []
    for key, value in values.items():
        args += ["--configuration", f"{key}={value}"]
    load = ["--load-target", demo.front_url, "--load-rate", rate]
    return [*args, *load, "--load-output-dir", str(tmp_path / "load")]


def connection_from_middle(cluster: Cluster, namespace: str, host: str) -> str:
    """Open a new connection from middle's pod to ``host``:8080: connected, refused or timeout."""
    code = (
        "import socket\n"
        "try:\n"
        f"    socket.create_connection(({host!r}, 8080), timeout=2).close()\n"
        "    print('connected')\n"
        "except ConnectionRefusedError:\n"
        "    print('refused')\n"
        "except TimeoutError:\n"
        "    print('timeout')\n"
    )
    done = cluster.kubectl(
        "exec", "-n", namespace, "deploy/middle", "--", "python", "-c", code, check=False
    )
    return done.stdout.strip() if done.returncode == 0 else f"exec failed: {done.stderr}"
