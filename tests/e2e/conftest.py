"""The product installed by Helm, once per session, and proven gone after ``helm uninstall``.

The session fixture builds the image (``make image`` loads it into the running cluster),
installs the chart with tests/e2e/data/values.yaml, waits for the operator and the demo
services, and at the end uninstalls the release and checks that nothing of ripple is left
(no Job, pod, ConfigMap of a run, NetworkPolicy or NetworkChaos; the CRD stays, as Helm does).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from tests.e2e.product import (
    BAD_NAMESPACE,
    CHART,
    DEMO,
    MANAGED,
    NAMESPACE,
    OPERATOR,
    RELEASE,
    VALUES,
    Product,
)
from tests.support.chart import helm
from tests.support.cluster import CONTEXT, Cluster
from tests.support.poll import PollTimeout, wait_for
from tests.support.ripple_in_cluster import apply_crd, image_in_cluster


def release_exists(product: Product) -> bool:
    """Whether a release of that name is installed in the namespace."""
    done = subprocess.run(
        [
            product.helm_path,
            f"--kubeconfig={product.cluster.kubeconfig}",
            f"--kube-context={CONTEXT}",
            "status",
            RELEASE,
            "-n",
            NAMESPACE,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=product.cluster.env(),
    )
    return done.returncode == 0


def uninstall(product: Product) -> None:
    """Delete the scenarios while the operator still runs, then ``helm uninstall --wait``."""
    product.delete_scenarios(timeout=180)
    product.delete_scenarios(timeout=60, namespace=BAD_NAMESPACE)
    product.helm("uninstall", RELEASE, "-n", NAMESPACE, "--wait", "--timeout", "3m")


def leftovers(product: Product) -> dict[str, list[str]]:
    """What of ripple is still in the suite's namespaces (other releases may run elsewhere)."""
    found: dict[str, list[str]] = {}
    for ns in (NAMESPACE, BAD_NAMESPACE):
        kinds = {
            "chaosscenarios": product.names("chaosscenarios", namespace=ns),
            "pods": product.names("pods", namespace=ns),
            "jobs": product.names("jobs", namespace=ns),
            "configmaps managed by ripple": product.names(
                "configmaps", namespace=ns, selector=MANAGED
            ),
            "networkpolicies": product.names("networkpolicies", namespace=ns),
            "networkchaos": product.names("networkchaos", namespace=ns),
            "deployments": product.names("deployments", namespace=ns),
            "services": product.names("services", namespace=ns),
            "serviceaccounts of the release": product.names(
                "serviceaccounts", namespace=ns, selector=f"app.kubernetes.io/instance={RELEASE}"
            ),
            "roles of the release": product.names(
                "roles", namespace=ns, selector=f"app.kubernetes.io/instance={RELEASE}"
            ),
        }
        found.update({f"{ns}: {kind}": names for kind, names in kinds.items() if names})
    clusterroles = product.cluster.get_json(
        "clusterroles", "-l", f"app.kubernetes.io/instance={RELEASE}"
    )["items"]
    if clusterroles:
        found["clusterroles of the release"] = [r["metadata"]["name"] for r in clusterroles]
    return found


def fresh_namespace(cluster: Cluster, name: str) -> None:
    """Create the namespace empty: a copy left by an interrupted session is deleted first.

    Its scenarios have lost their operator (the release was uninstalled before this), so
    their finalizers are removed by hand or the namespace would never go.
    """
    if cluster.kubectl("get", "namespace", name, check=False).returncode == 0:
        left = cluster.get_json("chaosscenarios", "-n", name)["items"]
        for scenario in left:
            cluster.kubectl(
                "patch", "chaosscenario", scenario["metadata"]["name"], "-n", name,
                "--type=merge", "-p", '{"metadata":{"finalizers":null}}', check=False,
            )  # fmt: skip
        cluster.kubectl("delete", "namespace", name, "--wait=false", check=False)
        wait_for(
            lambda: cluster.kubectl("get", "namespace", name, check=False).returncode != 0,
            timeout=240,
            interval=1.0,
            what=f"the last session's namespace {name} to go",
        )
    cluster.kubectl("create", "namespace", name)


@pytest.fixture(scope="package")
def product(cluster: Cluster) -> Iterator[Product]:
    """ripple installed by Helm in the local cluster; uninstalled and checked at the end.

    Package-scoped: the release goes as soon as the last e2e test is done, before any other
    directory's tests run.
    """
    image_in_cluster(cluster, rebuild=True)
    installed = Product(cluster=cluster, helm_path=helm())
    if release_exists(installed):  # left by an interrupted session: start clean
        uninstall(installed)
    for ns in (NAMESPACE, BAD_NAMESPACE):  # empty; the operator's Roles go into both
        fresh_namespace(cluster, ns)
    # Helm installs crds/ only on the first install; keep the CRD current as `make demo` does.
    apply_crd(cluster, CHART / "crds")
    installed.helm(
        "upgrade",
        "--install",
        RELEASE,
        str(CHART),
        "-n",
        NAMESPACE,
        "--values",
        str(VALUES),
        "--wait",
        "--timeout",
        "5m",
    )
    installed.rollout(OPERATOR, *DEMO)
    wait_for(installed.operator_pod, timeout=120, interval=1.0, what="a ready operator pod")
    installed.wait_steady(timeout=120)
    yield installed
    seen: list[dict[str, list[str]]] = [{}]

    def clean() -> bool:
        seen[0] = leftovers(installed)
        return not seen[0]

    try:
        uninstall(installed)
        wait_for(clean, timeout=180, interval=2.0, what="nothing of ripple left")
    except PollTimeout:
        pytest.fail(f"left behind after helm uninstall: {seen[0]}", pytrace=False)
    finally:
        for ns in (NAMESPACE, BAD_NAMESPACE):
            cluster.kubectl("delete", "namespace", ns, "--wait=false", check=False)
    crds = cluster.kubectl("get", "crd", "chaosscenarios.ripple.dev", check=False)
    assert crds.returncode == 0, "helm uninstall keeps the CRD (crds/ is never deleted by Helm)"
