"""Shared fixtures: the local cluster (hack/cluster) and a fresh namespace per test.

Under CI=true the ``cluster`` fixture brings the cluster up and fails if it cannot;
elsewhere it skips with one line when the cluster is not running.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support.cluster import (
    Cluster,
    bring_up,
    cluster_is_ready,
    connect,
    namespace_name,
)


@pytest.fixture(scope="session")
def cluster() -> Cluster:
    """The running local cluster, brought up under CI=true."""
    if not cluster_is_ready():
        if os.environ.get("CI") != "true":
            pytest.skip("local cluster not running: start it with `hack/cluster up`")
        try:
            bring_up()
        except Exception as exc:
            pytest.fail(f"local cluster could not come up: {exc}", pytrace=False)
        if not cluster_is_ready():
            pytest.fail("hack/cluster up finished but hack/cluster status fails", pytrace=False)
    return connect()


@pytest.fixture
def namespace(cluster: Cluster, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh namespace named after the test, deleted (without waiting) afterwards."""
    name = namespace_name(request.node.name)
    cluster.kubectl("create", "namespace", name)
    cluster.kubectl("label", "namespace", name, "ripple.dev/test=true")
    yield name
    cluster.kubectl("delete", "namespace", name, "--wait=false", "--ignore-not-found", check=False)
