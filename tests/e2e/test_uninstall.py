"""``helm uninstall`` in the middle of a run: the run stops and rolls back, nothing stays stuck.

A release of its own, in a namespace of its own (the suite's release stays installed for
the other tests): the network scenario cuts middle off from back, and the chart is
uninstalled while the cut is in place. Its pre-delete hook stops the operator and the run
before Helm deletes any RBAC, so the runner rolls back and stores its journal; afterwards
no NetworkPolicy is left, the run's end is in the status, and the scenario, with the CRD
still there and no operator, can be deleted like any object.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from ripple_contract.names import FINALIZER
from tests.e2e.product import (
    CHART,
    DEMO,
    MANAGED,
    QUICK,
    VALUES,
    Product,
    activity_statuses,
    scenario_manifest,
)
from tests.e2e.test_faults import NETWORK_POLICY, running_runner
from tests.support.chart import helm
from tests.support.cluster import Cluster
from tests.support.poll import wait_for
from tests.support.ripple_in_cluster import apply_crd, image_in_cluster

RELEASE = "ripple-e2e-uninstall"
"""It holds "ripple": the operator's objects are named exactly this."""
NAMESPACE = RELEASE
INSTANCE = f"app.kubernetes.io/instance={RELEASE}"


def _release_installed(product: Product) -> bool:
    listed = product.helm("list", "-n", NAMESPACE, "-q").stdout.split()
    return RELEASE in listed


def _clear(product: Product) -> None:
    """Remove what a failed or interrupted run of this test left: release, scenarios, namespace."""
    cluster = product.cluster
    if _release_installed(product):
        product.helm("uninstall", RELEASE, "-n", NAMESPACE, "--no-hooks", "--wait")
    if cluster.kubectl("get", "namespace", NAMESPACE, check=False).returncode != 0:
        return
    for name in product.names("chaosscenarios"):
        cluster.kubectl(
            "patch", "chaosscenario", name, "-n", NAMESPACE,
            "--type=merge", "-p", '{"metadata":{"finalizers":null}}', check=False,
        )  # fmt: skip
    cluster.kubectl("delete", "namespace", NAMESPACE, "--wait=false", check=False)
    wait_for(
        lambda: cluster.kubectl("get", "namespace", NAMESPACE, check=False).returncode != 0,
        timeout=240,
        interval=1.0,
        what=f"namespace {NAMESPACE} to go",
    )


@pytest.fixture(scope="module")
def release(cluster: Cluster) -> Iterator[Product]:
    """The chart installed as the suite installs it, watching only its own namespace."""
    image_in_cluster(cluster, rebuild=True)
    product = Product(cluster=cluster, helm_path=helm(), namespace=NAMESPACE, release=RELEASE)
    _clear(product)
    cluster.kubectl("create", "namespace", NAMESPACE)
    apply_crd(cluster, CHART / "crds")
    product.helm(
        "upgrade", "--install", RELEASE, str(CHART), "-n", NAMESPACE,
        "--values", str(VALUES),
        "--set", f"operator.watchNamespaces={{{NAMESPACE}}}",
        "--set", f"runner.namespaces={{{NAMESPACE}}}",
        "--wait", "--timeout", "5m",
    )  # fmt: skip
    product.rollout(RELEASE, *DEMO)
    product.wait_steady(timeout=120)
    try:
        yield product
    finally:
        _clear(product)


def test_helm_uninstall_mid_run_rolls_back_stores_the_journal_and_strands_nothing(
    release: Product,
) -> None:
    name = "uninstalled-mid-run"
    release.apply(
        scenario_manifest(
            name,
            experiment="middle-loses-network-to-back",
            configuration={**QUICK, "fault_seconds": 300},
        )
    )
    wait_for(
        lambda: NETWORK_POLICY in release.names("networkpolicies"),
        timeout=180,
        interval=0.5,
        what=f"NetworkPolicy {NETWORK_POLICY} (the method is underway)",
    )
    running_runner(release, name)
    started = time.monotonic()
    try:
        release.helm("uninstall", RELEASE, "-n", NAMESPACE, "--wait", "--timeout", "5m")
    except AssertionError as exc:
        logs = release.kubectl(
            "logs", f"job/{RELEASE}-stop-runs", "-n", NAMESPACE, "--tail=40", check=False
        )
        raise AssertionError(
            f"{exc}\nthe hook's last log lines:\n{logs.stdout}{logs.stderr}"
        ) from None
    took = time.monotonic() - started
    print(f"helm uninstall mid-run took {took:.1f}s")

    # the fault went with its run, by the runner's own rollback
    assert release.names("networkpolicies") == [], "a fault outlived the uninstall"
    journal = release.journal(name, 1)
    rolled_back = {
        str(r.get("activity", {}).get("name")): r.get("status") for r in journal["rollbacks"]
    }
    assert rolled_back == {"allow-ingress-to-back-again": "succeeded"}, journal["rollbacks"]
    assert journal["status"] == "interrupted", journal["status"]

    # the run's end is in the status and nothing holds the scenario any more
    scenario = release.scenario(name)
    assert scenario is not None, "helm uninstall never deletes a user's scenario"
    assert FINALIZER not in (scenario["metadata"].get("finalizers") or [])
    status = scenario.get("status") or {}
    assert "activeRun" not in status, status
    assert status["lastRun"]["id"] == "1"
    assert status["lastRun"]["verdict"] == "Error", status["lastRun"]
    assert activity_statuses(status["lastRun"].get("rollbacks")) == rolled_back

    # the release is gone, the uninstall hook's own objects too; the CRD stays
    assert release.names("deployments", selector=INSTANCE) == []
    assert release.names("serviceaccounts", selector=INSTANCE) == []
    assert release.names("jobs") == []
    assert release.cluster.get_json("clusterroles", "-l", INSTANCE)["items"] == []
    assert release.cluster.kubectl("get", "crd", "chaosscenarios.ripple.dev").returncode == 0

    # with no operator, the scenario is deleted like any object; what it owned goes with it
    release.kubectl("delete", "chaosscenario", name, "-n", NAMESPACE, "--timeout=60s")
    assert release.scenario(name) is None
    wait_for(
        lambda: not release.names("configmaps", selector=MANAGED),
        timeout=60,
        interval=1.0,
        what="the run's ConfigMaps to go with their scenario",
    )
