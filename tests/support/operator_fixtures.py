"""Fixtures of the operator tests and benchmark: the CRD, the image in the cluster, an account."""

from __future__ import annotations

import pytest

from tests.support import ripple_in_cluster
from tests.support.cluster import Cluster
from tests.support.operator import RUNNER_RBAC, apply, operator_env


@pytest.fixture(scope="session")
def crd(cluster: Cluster) -> None:
    """The ChaosScenario CRD from crds/, applied and established."""
    ripple_in_cluster.apply_crd(cluster)


@pytest.fixture(scope="session")
def image_in_cluster(cluster: Cluster) -> str:
    """The ripple image, built if CI needs it, loaded into the cluster's containerd once."""
    return ripple_in_cluster.image_in_cluster(cluster)


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
