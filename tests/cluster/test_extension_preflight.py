"""The preflight probes against the real API server: what they accept and how they refuse."""

from __future__ import annotations

import pytest
from chaoslib.exceptions import ActivityFailed
from kubernetes.config import kube_config

from ripple_experiments.extension import preflight
from tests.support.cluster import Cluster


@pytest.fixture
def kubeconfig(cluster: Cluster, monkeypatch: pytest.MonkeyPatch) -> None:
    """The local cluster's kubeconfig, as the runner finds it outside a pod.

    The Kubernetes client reads $KUBECONFIG once, when first imported; set both.
    """
    monkeypatch.setenv("KUBECONFIG", str(cluster.kubeconfig))
    monkeypatch.setattr(kube_config, "KUBE_CONFIG_DEFAULT_LOCATION", str(cluster.kubeconfig))
    monkeypatch.delenv("CHAOSTOOLKIT_IN_POD", raising=False)


def test_an_installed_api_is_served_and_a_missing_one_names_its_provider(kubeconfig: None) -> None:
    assert preflight.api_serves("chaos-mesh.org", "v1alpha1", "networkchaos", "Chaos Mesh")
    with pytest.raises(ActivityFailed, match=r"serves no ripple-missing\.example/v1: Nothing"):
        preflight.api_serves("ripple-missing.example", "v1", "things", "Nothing")
    with pytest.raises(ActivityFailed, match=r"serves no podchaos-nope\.chaos-mesh\.org/v1alpha1"):
        preflight.api_serves("chaos-mesh.org", "v1alpha1", "podchaos-nope", "Chaos Mesh")


def test_rights_are_asked_of_the_api_server(kubeconfig: None) -> None:
    checks = [
        {"verb": "delete", "resource": "pods"},
        {"verb": "create", "resource": "jobs", "group": "batch"},
    ]
    assert preflight.can_i(checks, ns="default"), "the admin may"


def test_a_target_without_pods_is_refused(kubeconfig: None, namespace: str) -> None:
    with pytest.raises(ActivityFailed, match=f"no running pod in namespace {namespace} matches"):
        preflight.pods_match("app.kubernetes.io/name=nobody", ns=namespace)
