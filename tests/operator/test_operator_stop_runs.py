"""``ripple stop-runs`` against the real API server, as the uninstall hook runs it.

The namespace holds what an uninstall meets mid-run: an "operator" Deployment (the image,
sleeping), a scenario holding ripple's finalizer whose status says its run 1 is underway,
that run's Job (sleeping), its fault, and the fault of a run whose scenario is long gone.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from ripple_contract import names
from ripple_operator.kube import Kube
from ripple_operator.stop_runs import stop_runs
from tests.support.cluster import Cluster
from tests.support.faults import fault, policies, run_job, run_labels
from tests.support.operator import apply, events_of, quick_experiment, scenario, status_of
from tests.support.ripple_in_cluster import IMAGE

OPERATOR = "stand-in-operator"


@pytest.fixture
async def kube(cluster: Cluster, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Kube]:
    monkeypatch.setenv("KUBECONFIG", str(cluster.kubeconfig))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    connected = await Kube.connect()
    yield connected
    await connected.close()


def sleeping_deployment(name: str) -> dict[str, Any]:
    labels = {"app.kubernetes.io/name": name}
    container = {
        "name": "operator",
        "image": IMAGE,
        "imagePullPolicy": "Never",
        "command": ["python3", "-c", "import time; time.sleep(3600)"],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"terminationGracePeriodSeconds": 2, "containers": [container]},
            },
        },
    }


async def test_stop_runs_stops_operator_and_runs_deletes_faults_and_releases_scenarios(
    kube: Kube, cluster: Cluster, namespace: str
) -> None:
    apply(cluster, namespace, sleeping_deployment(OPERATOR))
    held = scenario("shop", {"experiment": {"inline": quick_experiment()}, "suspend": True})
    held["metadata"]["finalizers"] = [names.FINALIZER]
    apply(cluster, namespace, held)
    underway = {
        "phase": "Running",
        "runs": 1,
        "activeRun": {
            "id": "1",
            "job": "shop-1",
            "trigger": "create",
            "start": "2025-01-01T00:00:00Z",
        },
    }
    cluster.kubectl(
        "patch", "chaosscenario", "shop", "-n", namespace, "--subresource=status",
        "--type=merge", "-p", json.dumps({"status": underway}),
    )  # fmt: skip
    apply(cluster, namespace, run_job("shop", "1", seconds=3600))
    apply(cluster, namespace, fault("shop-cut", run_labels("shop", "1")))
    apply(cluster, namespace, fault("old-cut", run_labels("gone", "4")))
    apply(cluster, namespace, fault("not-a-fault", {"app.kubernetes.io/managed-by": "Helm"}))
    cluster.kubectl(
        "rollout", "status", f"deployment/{OPERATOR}", "-n", namespace, "--timeout=120s",
        timeout=130,
    )  # fmt: skip

    done = await stop_runs(
        kube, namespaces=[namespace], operator=(namespace, OPERATOR), wait_seconds=60
    )

    assert done.jobs == [f"{namespace}/shop-1"]
    assert done.still_stopping == []
    assert sorted(done.faults) == [
        f"NetworkPolicy {namespace}/old-cut",
        f"NetworkPolicy {namespace}/shop-cut",
    ]
    assert done.released == [f"{namespace}/shop"]
    deployment = cluster.get_json("deployment", OPERATOR, "-n", namespace)
    assert deployment["spec"]["replicas"] == 0
    pods = cluster.get_json("pods", "-n", namespace, "-l", f"app.kubernetes.io/name={OPERATOR}")
    assert pods["items"] == [], "stop-runs went on before the operator's pods were gone"
    assert cluster.get_json("jobs", "-n", namespace)["items"] == []
    assert policies(cluster, namespace) == {"not-a-fault"}
    stored = cluster.get_json("chaosscenario", "shop", "-n", namespace)
    assert names.FINALIZER not in (stored["metadata"].get("finalizers") or [])
    status = status_of(cluster, namespace, "shop")
    assert "activeRun" not in status, status
    assert status["lastRun"]["id"] == "1"
    assert status["lastRun"]["verdict"] == "Error"
    (event,) = events_of(cluster, namespace, "shop", "OrphanedFaultRemoved")
    assert "(ripple is being uninstalled)" in event["message"]

    again = await stop_runs(
        kube, namespaces=[namespace], operator=(namespace, OPERATOR), wait_seconds=60
    )
    assert (again.jobs, again.faults, again.released) == ([], [], []), "a retry finds nothing"
    cluster.kubectl("delete", "chaosscenario", "shop", "-n", namespace, "--timeout=30s")
