"""The operator tests' fixtures (defined in fixtures.py, shared with the benchmark)."""

from tests.operator.fixtures import (  # noqa: F401
    crd,
    image_in_cluster,
    operator_environment,
    runner_account,
)
