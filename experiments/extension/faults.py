"""Fault actions that label what they create and remember what they did.

Every object made here carries ripple's fault labels (managed-by, scenario, run), so the
operator's sweep can remove it if the runner dies before its rollback. The pods a run
deletes are remembered in this process, so :func:`..in_effect.pod_replaced` can prove
that exactly those pods were replaced.
"""

from __future__ import annotations

import json
import random
import threading
from datetime import UTC, datetime
from typing import Any, Final

from chaosk8s import create_k8s_api_client
from chaoslib.exceptions import ActivityFailed
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from .kube_reads import REQUEST_TIMEOUT, fault_labels, target_pods

CHAOS_MESH: Final = ("chaos-mesh.org", "v1alpha1", "networkchaos")

_lock = threading.Lock()
_terminated: list[dict[str, Any]] = []


def terminated_pods() -> list[dict[str, Any]]:
    """List the pods :func:`terminate_pod` deleted in this run, oldest first."""
    with _lock:
        return [dict(entry) for entry in _terminated]


def terminate_pod(
    label_selector: str,
    ns: str = "default",
    grace_period_seconds: int | None = None,
    secrets: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Delete one live pod matching the selector, chosen at random; say which and when."""
    api = client.CoreV1Api(create_k8s_api_client(secrets))
    pods = target_pods(api, ns, label_selector)
    victim = random.choice(pods)  # noqa: S311 - picking a pod, not a secret
    body = client.V1DeleteOptions(grace_period_seconds=grace_period_seconds)
    try:
        api.delete_namespaced_pod(
            victim.metadata.name, ns, body=body, _request_timeout=REQUEST_TIMEOUT
        )
    except ApiException as exc:
        raise ActivityFailed(
            f"cannot delete pod {ns}/{victim.metadata.name}: {exc.reason}"
        ) from exc
    entry = {
        "pod": victim.metadata.name,
        "uid": victim.metadata.uid,
        "namespace": ns,
        "label_selector": label_selector,
        "before": sorted(str(pod.metadata.uid) for pod in pods),
        "deletedAt": datetime.now(UTC).isoformat(),
    }
    with _lock:
        _terminated.append(entry)
    return {key: entry[key] for key in ("pod", "uid", "namespace", "deletedAt")}


def add_network_chaos(
    name: str,
    ns: str = "default",
    action: str = "delay",
    label_selectors: dict[str, str] | None = None,
    mode: str = "all",
    direction: str = "to",
    latency: str = "1500ms",
    jitter: str = "0ms",
    bandwidth: dict[str, Any] | None = None,
    duration: str | None = None,
    scenario: str = "",
    run: str = "",
    secrets: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Create a Chaos Mesh NetworkChaos on the selected pods, labelled as a ripple fault.

    ``action`` is Chaos Mesh's: ``delay`` (needs netem in the nodes' kernels),
    ``partition`` (iptables), ``bandwidth`` (tbf, with ``bandwidth`` settings), ...
    """
    spec: dict[str, Any] = {
        "action": action,
        "mode": mode,
        "selector": {"namespaces": [ns], "labelSelectors": dict(label_selectors or {})},
        "direction": direction,
    }
    if action == "delay":
        spec["delay"] = {"latency": latency, "jitter": jitter}
    if action == "bandwidth":
        spec["bandwidth"] = dict(bandwidth or {"rate": "1mbps", "limit": 20971520, "buffer": 10000})
    if duration:
        spec["duration"] = duration
    body = {
        "apiVersion": f"{CHAOS_MESH[0]}/{CHAOS_MESH[1]}",
        "kind": "NetworkChaos",
        "metadata": {"name": name, "namespace": ns, "labels": fault_labels(scenario, run)},
        "spec": spec,
    }
    api = client.CustomObjectsApi(create_k8s_api_client(secrets))
    try:
        created: Any = api.create_namespaced_custom_object(
            CHAOS_MESH[0], CHAOS_MESH[1], ns, CHAOS_MESH[2], body, _request_timeout=REQUEST_TIMEOUT
        )
    except ApiException as exc:
        raise ActivityFailed(
            f"cannot create NetworkChaos {ns}/{name}: {exc.status} {_api_message(exc)}"
        ) from exc
    return {"name": name, "namespace": ns, "uid": (created.get("metadata") or {}).get("uid")}


def delete_network_chaos(
    name: str, ns: str = "default", secrets: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Delete the NetworkChaos (Chaos Mesh then recovers the pods); gone already is fine."""
    api = client.CustomObjectsApi(create_k8s_api_client(secrets))
    try:
        api.delete_namespaced_custom_object(
            CHAOS_MESH[0], CHAOS_MESH[1], ns, CHAOS_MESH[2], name, _request_timeout=REQUEST_TIMEOUT
        )
    except ApiException as exc:
        if exc.status == 404:
            return {"name": name, "namespace": ns, "deleted": False}
        raise ActivityFailed(f"cannot delete NetworkChaos {ns}/{name}: {exc.reason}") from exc
    return {"name": name, "namespace": ns, "deleted": True}


def _api_message(exc: ApiException) -> str:
    """Give the API server's own message (an admission webhook's refusal reads best)."""
    try:
        return str(json.loads(exc.body or "{}").get("message") or exc.reason)
    except (ValueError, AttributeError):
        return str(exc.reason)
