"""Stand-ins for what a run creates, for the tests of the sweep and of ``ripple stop-runs``.

Real objects in the real cluster: a NetworkPolicy labelled as a run labels its fault (it
selects no pod, so it cuts nothing), and a Job named and labelled as a run's Job whose pod
only sleeps.
"""

from __future__ import annotations

from typing import Any

from ripple_contract import names
from tests.support.cluster import Cluster
from tests.support.ripple_in_cluster import IMAGE


def run_labels(scenario: str, run: str) -> dict[str, str]:
    """The labels a run puts on its fault objects."""
    return {
        names.LABEL_MANAGED_BY: names.MANAGED_BY,
        names.LABEL_SCENARIO: scenario,
        names.LABEL_RUN: run,
    }


def fault(name: str, labels: dict[str, str]) -> dict[str, Any]:
    """A NetworkPolicy that selects no pod, carrying the given labels."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "podSelector": {"matchLabels": {"ripple.dev/test": "selects-nothing"}},
            "policyTypes": ["Ingress"],
        },
    }


def run_job(scenario: str, run: str, *, seconds: int) -> dict[str, Any]:
    """A Job named and labelled as a run's, whose pod sleeps ``seconds``."""
    labels = run_labels(scenario, run)
    container = {
        "name": "runner",
        "image": IMAGE,
        "imagePullPolicy": "Never",
        "command": ["python3", "-c", f"import time; time.sleep({seconds})"],
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": names.job_name(scenario, run), "labels": labels},
        "spec": {
            "backoffLimit": 0,
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "restartPolicy": "Never",
                    "terminationGracePeriodSeconds": 3,
                    "containers": [container],
                },
            },
        },
    }


def policies(cluster: Cluster, namespace: str) -> set[str]:
    """The names of the NetworkPolicies of the namespace."""
    found = cluster.get_json("networkpolicies", "-n", namespace)["items"]
    return {item["metadata"]["name"] for item in found}
