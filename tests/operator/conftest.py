"""What every operator test needs: the CRD, the operator's environment, and what runs need.

Each test gets the ChaosScenario CRD and the ``RIPPLE_*`` environment of an in-process
operator. Unless marked ``no_runs`` (it starts no run: an invalid spec, the API alone), it
also gets what a run's Job needs: the image in the cluster and the runner's account in the
test's namespace.
"""

from __future__ import annotations

import pytest

from tests.support.operator_fixtures import (  # noqa: F401 - fixtures of this tier
    crd,
    image_in_cluster,
    operator_environment,
    runner_account,
)

EVERY_TEST_NEEDS = ("crd", "operator_environment")
RUNS_NEED = ("image_in_cluster", "runner_account")


@pytest.fixture(autouse=True)
def operator_tier(request: pytest.FixtureRequest) -> None:
    """Give each test the CRD and the environment, and what a run needs unless ``no_runs``."""
    needs = EVERY_TEST_NEEDS
    if request.node.get_closest_marker("no_runs") is None:
        needs += RUNS_NEED
    for name in needs:
        request.getfixturevalue(name)
