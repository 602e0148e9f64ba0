"""Fixtures of the operator tests and benchmark: the CRD, the image in the cluster, an account."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.support.cluster import Cluster
from tests.support.operator import CRD, IMAGE, RUNNER_RBAC, apply, operator_env

TOP = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def crd(cluster: Cluster) -> None:
    """The ChaosScenario CRD from crds/, applied and established."""
    cluster.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(CRD))
    cluster.kubectl(
        "wait", "--for=condition=Established", "crd/chaosscenarios.ripple.dev", "--timeout=60s"
    )


def _docker_image_id(image: str) -> str | None:
    done = subprocess.run(
        ["docker", "image", "inspect", "-f", "{{.Id}}", image], capture_output=True, text=True
    )
    return done.stdout.strip() if done.returncode == 0 else None


@pytest.fixture(scope="session")
def image_in_cluster(cluster: Cluster) -> str:
    """The ripple image, built if CI needs it, loaded into the cluster's containerd once."""
    image_id = _docker_image_id(IMAGE)
    if image_id is None:
        if os.environ.get("CI") != "true":
            pytest.skip(f"image {IMAGE} not built: run `make image`")
        subprocess.run(["make", "image"], cwd=TOP, check=True, timeout=3600)
        image_id = _docker_image_id(IMAGE)
        assert image_id, f"make image did not produce {IMAGE}"
    marker = cluster.kubeconfig.parent / f"loaded-{IMAGE.replace('/', '_').replace(':', '_')}"
    if not marker.exists() or marker.read_text() != image_id:
        subprocess.run([str(TOP / "hack" / "cluster"), "load", IMAGE], check=True, timeout=900)
        marker.write_text(image_id)
    return IMAGE


@pytest.fixture
def runner_account(cluster: Cluster, namespace: str) -> str:
    """The runner's ServiceAccount and Role in the test namespace (as the chart makes them)."""
    apply(cluster, namespace, RUNNER_RBAC)
    return namespace


@pytest.fixture
def operator_environment(cluster: Cluster, monkeypatch: pytest.MonkeyPatch) -> None:
    """RIPPLE_* and KUBECONFIG for an in-process operator."""
    for key, value in operator_env(cluster).items():
        monkeypatch.setenv(key, value)
