"""What of ripple the cluster tiers put into the local cluster: the CRD and the image.

Shared by the cluster, operator, end-to-end and benchmark tiers.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.support.cluster import HACK_CLUSTER, TOP, Cluster

CRD = TOP / "crds" / "chaosscenarios.ripple.dev.yaml"
IMAGE = os.environ.get("RIPPLE_IMAGE", "ripple:dev")
BUILD_TIMEOUT = 30 * 60
"""A cold image build installs every Python dependency."""


def apply_crd(cluster: Cluster, source: Path = CRD) -> None:
    """Apply the ChaosScenario CRD (from crds/ unless told) and wait until it is established."""
    cluster.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(source))
    cluster.kubectl(
        "wait", "--for=condition=Established", "crd/chaosscenarios.ripple.dev", "--timeout=60s"
    )


def image_in_cluster(cluster: Cluster, *, rebuild: bool = False) -> str:
    """Put the ripple image into the cluster's containerd; return its reference.

    ``rebuild`` runs ``make image`` first (the end-to-end tier tests the code as it is).
    Otherwise the image Docker has is used; when it has none, CI builds it and a
    developer is told to (the test skips). A given image is loaded once into a given
    cluster: the image id loaded last is kept beside the cluster's identity (kube-system's
    uid, new with every cluster: a marker outlives ``hack/kind down``).
    """
    if rebuild or _docker_image_id(IMAGE) is None:
        if not rebuild and os.environ.get("CI") != "true":
            pytest.skip(f"no {IMAGE} image in Docker: build it with `make image`")
        loaded = _make_image()
    else:
        loaded = False
    image_id = _docker_image_id(IMAGE)
    assert image_id, f"make image did not produce {IMAGE}"
    marker = _loaded_marker(cluster)
    stamp = f"{image_id} in {_cluster_uid(cluster)}"
    if loaded:
        marker.write_text(stamp)
    if not marker.exists() or marker.read_text() != stamp:
        done = subprocess.run(
            [str(HACK_CLUSTER), "load", IMAGE],
            capture_output=True,
            text=True,
            timeout=900,
            env=cluster.env(),
            check=False,
        )
        if done.returncode != 0:
            pytest.fail(f"hack/cluster load {IMAGE} failed: {done.stderr[-2000:]}", pytrace=False)
        marker.write_text(stamp)
    return IMAGE


def _make_image() -> bool:
    """Build the image; whether ``make image`` also loaded it (into RIPPLE_CLUSTER's, if up)."""
    done = subprocess.run(
        ["make", "--no-print-directory", "image"],
        cwd=TOP,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=BUILD_TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        tail = "\n".join(done.stdout.splitlines()[-40:])
        pytest.fail(f"make image exited {done.returncode}:\n{tail}", pytrace=False)
    return "not loaded" not in done.stdout


def _docker_image_id(image: str) -> str | None:
    done = subprocess.run(
        ["docker", "image", "inspect", "-f", "{{.Id}}", image],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() if done.returncode == 0 else None


def _cluster_uid(cluster: Cluster) -> str:
    """kube-system's uid: which cluster this is (a new cluster has a new one)."""
    done = cluster.kubectl("get", "namespace", "kube-system", "-o", "jsonpath={.metadata.uid}")
    return done.stdout.strip()


def _loaded_marker(cluster: Cluster) -> Path:
    """Kept in the cluster's data directory, which ``hack/cluster down`` wipes with containerd's."""
    data = cluster.kubeconfig.parent / "data"
    data.mkdir(exist_ok=True)
    return data / f"loaded-{IMAGE.replace('/', '_').replace(':', '_')}"
