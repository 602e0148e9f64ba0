"""Small Kubernetes reads the probes and actions share."""

from __future__ import annotations

from typing import Any

from chaoslib.exceptions import ActivityFailed
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from ripple_contract.names import LABEL_MANAGED_BY, LABEL_RUN, LABEL_SCENARIO, MANAGED_BY

REQUEST_TIMEOUT = (5.0, 15.0)


def live_pods(api: client.CoreV1Api, ns: str, label_selector: str) -> list[Any]:
    """Pods matching the selector that are not going away."""
    pods = api.list_namespaced_pod(
        ns, label_selector=label_selector, _request_timeout=REQUEST_TIMEOUT
    ).items
    return [pod for pod in pods if pod.metadata and pod.metadata.deletion_timestamp is None]


def target_pods(api: client.CoreV1Api, ns: str, label_selector: str) -> list[Any]:
    """List the live pods a fault aims at; ``ActivityFailed`` naming the selector if none."""
    try:
        pods = live_pods(api, ns, label_selector)
    except ApiException as exc:
        raise ActivityFailed(f"cannot list pods in namespace {ns}: {exc.reason}") from exc
    if not pods:
        raise ActivityFailed(f"no running pod in namespace {ns} matches {label_selector!r}")
    return pods


def fault_labels(scenario: str = "", run: str = "") -> dict[str, str]:
    """Labels every fault object carries, so a sweep can find what a crashed run left."""
    labels = {LABEL_MANAGED_BY: MANAGED_BY}
    if scenario:
        labels[LABEL_SCENARIO] = scenario
    if run:
        labels[LABEL_RUN] = run
    return labels
