"""Shared fixtures: the local cluster (hack/cluster) and a fresh namespace per test.

Under CI=true the ``cluster`` fixture brings the cluster up and fails if it cannot;
elsewhere it skips with one line when the cluster is not running.

Each tier is a directory, and its directory marks its tests with what it needs
(:data:`TIER_MARKS`), so ``-m "not cluster"`` runs everything that needs no cluster.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cluster import (
    UP_TIMEOUT,
    Cluster,
    bring_up,
    cluster_diagnosis,
    cluster_is_ready,
    connect,
    namespace_name,
    wait_for_up_in_progress,
)

TESTS = Path(__file__).resolve().parent
TIER_MARKS: dict[str, tuple[str, ...]] = {
    "chart": ("chart",),
    "cluster": ("cluster",),
    "operator": ("cluster",),
    "e2e": ("cluster", "e2e"),
    "bench": ("bench",),
}
"""The markers of each tier (``tests/<tier>/``); unit and integration need no cluster."""


@pytest.hookimpl(tryfirst=True)  # before -m selects by these marks
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test with its tier's needs, from the directory it lives in."""
    for item in items:
        try:
            tier = item.path.resolve().relative_to(TESTS).parts[0]
        except ValueError:
            continue
        for mark in TIER_MARKS.get(tier, ()):
            item.add_marker(mark)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Give the first test that needs the cluster the time to bring it up, too.

    The session's ``cluster`` fixture is set up within that test, and pytest-timeout
    counts the setup: a cold ``hack/cluster up`` (builds from source) takes far longer
    than one test may.
    """
    first = next((item for item in session.items if item.get_closest_marker("cluster")), None)
    if first is not None:
        per_test = float(session.config.getini("timeout") or 0)  # pyproject.toml's
        first.add_marker(pytest.mark.timeout(UP_TIMEOUT + per_test))


@pytest.fixture(scope="session")
def cluster() -> Cluster:
    """The running local cluster, brought up under CI=true."""
    wait_for_up_in_progress()
    if not cluster_is_ready():
        if os.environ.get("CI") != "true":
            pytest.skip("local cluster not running: start it with `hack/cluster up`")
        try:
            bring_up()
        except Exception as exc:
            pytest.fail(f"local cluster could not come up: {exc}", pytrace=False)
        if not cluster_is_ready():
            pytest.fail(
                "hack/cluster up finished but hack/cluster status fails:\n" + cluster_diagnosis(),
                pytrace=False,
            )
    return connect()


@pytest.fixture
def namespace(cluster: Cluster, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh namespace named after the test, deleted (without waiting) afterwards."""
    name = namespace_name(request.node.name)
    cluster.kubectl("create", "namespace", name)
    cluster.kubectl("label", "namespace", name, "ripple.dev/test=true")
    yield name
    cluster.kubectl("delete", "namespace", name, "--wait=false", "--ignore-not-found", check=False)
