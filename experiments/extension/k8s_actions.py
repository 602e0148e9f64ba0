"""Small Kubernetes actions the experiments need and chaostoolkit-kubernetes lacks."""

from __future__ import annotations

import time
from typing import Any

from chaosk8s import create_k8s_api_client
from chaoslib.exceptions import ActivityFailed
from kubernetes import client
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError


def wait_for_deployment_available(
    name: str,
    ns: str = "default",
    label_selector: str = "",
    timeout_seconds: float = 120,
    secrets: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Wait until the Deployment has all its replicas available again.

    Right after a pod is deleted, the Deployment can still count the dying pod as
    available, so this also requires as many ready pods matching ``label_selector``
    as the Deployment wants, none of them terminating. API server blips are retried;
    fails the activity on timeout or when the Deployment cannot be read (404, 403).
    """
    api = create_k8s_api_client(secrets)
    apps = client.AppsV1Api(api)
    core = client.CoreV1Api(api)
    started = time.monotonic()
    deadline = started + float(timeout_seconds)
    last: dict[str, Any] = {}
    while True:
        try:
            last = _availability(apps, core, name, ns, label_selector)
        except ApiException as exc:
            if exc.status is not None and exc.status < 500 and exc.status != 429:
                raise ActivityFailed(f"cannot read Deployment {ns}/{name}: {exc.reason}") from exc
            last = {"deployment": name, "api_error": f"{exc.status} {exc.reason}"}
        except HTTPError as exc:
            # the API server may blink (a restart, a network hiccup): keep polling
            last = {"deployment": name, "api_error": str(exc)[:200]}
        last["waited_seconds"] = round(time.monotonic() - started, 3)
        if last.get("available_now"):
            del last["available_now"]
            return last
        if time.monotonic() >= deadline:
            raise ActivityFailed(
                f"Deployment {ns}/{name} not available after {timeout_seconds}s: {last}"
            )
        time.sleep(0.5)


def _availability(
    apps: client.AppsV1Api, core: client.CoreV1Api, name: str, ns: str, label_selector: str
) -> dict[str, Any]:
    """Read what the Deployment and its pods say right now."""
    deployment = apps.read_namespaced_deployment(name, ns)
    wanted = deployment.spec.replicas if deployment.spec.replicas is not None else 1
    available = (deployment.status.available_replicas if deployment.status else None) or 0
    selector = label_selector or _selector_of(deployment)
    pods = core.list_namespaced_pod(ns, label_selector=selector).items
    ready = [
        str(pod.metadata.name) for pod in pods if pod.metadata and _ready_and_not_terminating(pod)
    ]
    return {
        "deployment": name,
        "replicas": wanted,
        "available": available,
        "ready_pods": sorted(ready),
        "available_now": available >= wanted and len(ready) >= wanted,
    }


def _selector_of(deployment: Any) -> str:
    labels = deployment.spec.selector.match_labels or {}
    return ",".join(f"{key}={value}" for key, value in sorted(labels.items()))


def _ready_and_not_terminating(pod: Any) -> bool:
    if pod.metadata.deletion_timestamp is not None:
        return False
    conditions = pod.status.conditions or []
    return any(c.type == "Ready" and c.status == "True" for c in conditions)
