"""Fixtures for the cluster proofs: the test image and small manifest helpers."""

from __future__ import annotations

import pytest

from tests.cluster.images import build_and_load_busybox
from tests.support.cluster import Cluster


@pytest.fixture(scope="session")
def busybox_image(cluster: Cluster) -> str:
    """A locally built busybox image, loaded into the cluster's containerd."""
    return build_and_load_busybox()


@pytest.fixture(scope="session", autouse=True)
def cluster_up(cluster: Cluster) -> None:
    """Every test of this tier waits for the cluster, also one that never names it."""
