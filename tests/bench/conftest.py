"""The benchmarks' fixtures: the operator's (the CRD, the image in the cluster)."""

from tests.support.operator_fixtures import crd, image_in_cluster  # noqa: F401
