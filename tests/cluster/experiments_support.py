"""The demo services in a test namespace, and ``ripple run-experiment`` run against them.

The runner runs on this machine (as from a laptop, with the test cluster's kubeconfig);
the node is this machine too, so Service cluster IPs answer here and vegeta can load
front directly. The services run from the locally built ``ripple:dev`` image.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.support.cluster import HACK_CLUSTER, Cluster
from tests.support.demo import IMAGE, Demo
from tests.support.runner import RunnerProc, start_runner

TOP = Path(__file__).resolve().parents[2]
CRD = TOP / "crds" / "chaosscenarios.ripple.dev.yaml"


def load_image(cluster: Cluster) -> None:
    """Copy ``ripple:dev`` from Docker into the cluster; under CI=true, build it if missing."""
    present = subprocess.run(
        ["docker", "image", "inspect", IMAGE], capture_output=True, text=True, check=False
    )
    if present.returncode != 0:
        if os.environ.get("CI") != "true":
            pytest.skip(f"no {IMAGE} image in Docker: build it with `make image`")
        built = subprocess.run(
            ["make", "--no-print-directory", "image"],
            cwd=TOP,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=30 * 60,
            check=False,
        )
        if built.returncode != 0:
            pytest.fail(f"make image failed:\n{built.stdout[-3000:]}", pytrace=False)
    done = subprocess.run(
        [str(HACK_CLUSTER), "load", IMAGE],
        capture_output=True,
        text=True,
        timeout=600,
        env=cluster.env(),
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"hack/cluster load {IMAGE} failed: {done.stderr[-2000:]}", pytrace=False)


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
