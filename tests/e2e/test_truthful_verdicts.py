"""No Pass without evidence, through the installed product.

A network plugin that ignores NetworkPolicies (the local cluster's kube-router, stopped)
must make the network scenario ``FaultNotInEffect``, not ``Pass``; started again, the same
scenario ``Fail``s. A runner account without the rights its faults need must make the run
``PreflightFailed`` naming the verb and the resource, with no fault ever created.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from tests.e2e.product import QUICK, Product, scenario_manifest
from tests.support.cluster import HACK_CLUSTER
from tests.support.rbac import JOURNAL_RULES, account_manifests

NETWORK_POLICY = "ripple-back-denies-ingress"
RUN_TIMEOUT = 300
LIMITED_ACCOUNT = "limited-runner"


def cluster_component(verb: str, component: str) -> None:
    """``hack/cluster stop|start COMPONENT``: one real component of the local cluster."""
    done = subprocess.run(
        [str(HACK_CLUSTER), verb, component],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"hack/cluster {verb} {component}:\n{done.stderr[-2000:]}"


@pytest.fixture
def policies_unenforced(product: Product) -> Iterator[None]:
    """The NetworkPolicy controller stopped for the test, always started again."""
    product.wait_steady()
    cluster_component("stop", "kube-router")
    try:
        yield
    finally:
        cluster_component("start", "kube-router")


def netpol(name: str, **spec: object) -> dict[str, object]:
    return scenario_manifest(
        name,
        experiment="middle-loses-network-to-back",
        configuration={**QUICK, "fault_seconds": 8, "fault_check_seconds": 8},
        **spec,
    )


def test_a_cni_that_ignores_network_policies_gives_fault_not_in_effect_then_fail_again(
    product: Product, policies_unenforced: None
) -> None:
    name = "truth-netpol"
    product.apply(netpol(name))
    status = product.wait_run(name, run=1, timeout=RUN_TIMEOUT)
    last = status["lastRun"]
    print(f"policies unenforced: {status['verdict']} {last.get('reason')}: {last['message']}")
    assert status["verdict"] == "Error", last["message"]
    assert last["reason"] == "FaultNotInEffect", last["message"]
    assert "does not enforce NetworkPolicies" in last["message"]
    (fault,) = last["fault"]
    assert (fault["kind"], fault["inEffect"]) == ("NetworkPolicy", False), fault
    assert "still succeed" in fault["evidence"]
    assert NETWORK_POLICY not in product.names("networkpolicies"), "the rollback still played"

    cluster_component("start", "kube-router")
    product.wait_steady()
    product.rerun(name)
    status = product.wait_run(name, run=2, timeout=RUN_TIMEOUT)
    last = status["lastRun"]
    print(f"policies enforced again: {status['verdict']} {last.get('reason')}: {last['message']}")
    assert (status["verdict"], last["reason"]) == ("Fail", "Deviated"), last["message"]
    assert last["fault"][0]["inEffect"] is True
    print(f"steady again after {product.wait_steady():.1f}s")
    product.delete_scenarios([name])


@pytest.fixture
def limited_account(product: Product) -> Iterator[str]:
    """A runner account that may store its journal but may not touch NetworkPolicies."""
    ns = product.namespace
    pods = {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}
    manifests = account_manifests(LIMITED_ACCOUNT, [*JOURNAL_RULES, pods], namespace=ns)
    product.kubectl("apply", "-n", ns, "-f", "-", input=manifests)
    yield LIMITED_ACCOUNT
    product.kubectl(
        "delete", "-n", ns, "rolebinding,role,serviceaccount", LIMITED_ACCOUNT,
        "--ignore-not-found",
    )  # fmt: skip


def test_a_runner_without_the_rights_fails_its_preflight_and_injects_nothing(
    product: Product, limited_account: str
) -> None:
    name = "truth-preflight"
    product.wait_steady()
    product.apply(netpol(name, serviceAccountName=limited_account))
    status = product.wait_run(name, run=1, timeout=RUN_TIMEOUT)
    last = status["lastRun"]
    print(f"limited runner: {status['verdict']} {last.get('reason')}: {last['message']}")
    assert status["verdict"] == "Error", last["message"]
    assert last["reason"] == "PreflightFailed", last["message"]
    assert "may not create networkpolicies.networking.k8s.io" in last["message"]
    assert f"namespace {product.namespace}" in last["message"]
    journal = product.journal(name, 1)
    assert journal["run"] == [], "the method never ran"
    assert not [r for r in journal.get("rollbacks") or [] if r.get("status") == "succeeded"]
    assert "fault" not in last or last["fault"] == []
    assert NETWORK_POLICY not in product.names("networkpolicies")
    product.delete_scenarios([name])
