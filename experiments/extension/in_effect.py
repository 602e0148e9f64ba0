"""In-effect checks: proof that a fault really happened, before the fault window is waited out.

Call each right after its fault action, with the fault window as the check's
``pauses.after``. A check returns what it saw (``kind``, ``target``, ``evidence``,
``confirmedAt``) or raises ``ActivityFailed`` saying which fault, why, and what to do;
such a run is ``Error``, reason ``FaultNotInEffect``, never ``Pass`` nor ``Fail``.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

from chaosk8s import create_k8s_api_client
from chaoslib.exceptions import ActivityFailed
from kubernetes import client
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from . import fault_proxy
from .faults import CHAOS_MESH, terminated_pods
from .kube_reads import REQUEST_TIMEOUT, live_pods

POLL_SECONDS = 0.5
T = TypeVar("T")


def network_chaos_injected(
    name: str,
    ns: str = "default",
    timeout_seconds: float = 15,
    secrets: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Wait until Chaos Mesh reports the NetworkChaos injected into every selected pod."""
    api = client.CustomObjectsApi(create_k8s_api_client(secrets))
    target = f"{ns}/{name}"

    def look() -> tuple[dict[str, Any] | None, str]:
        try:
            chaos: Any = api.get_namespaced_custom_object(
                CHAOS_MESH[0],
                CHAOS_MESH[1],
                ns,
                CHAOS_MESH[2],
                name,
                _request_timeout=REQUEST_TIMEOUT,
            )
        except ApiException as exc:
            if exc.status == 404:
                return None, f"NetworkChaos {target} does not exist"
            return None, f"cannot read NetworkChaos {target}: {exc.reason}"
        return chaos_mesh_injected(chaos)

    seen = _poll(look, timeout_seconds)
    if isinstance(seen, dict):
        return {"kind": "NetworkChaos", "target": target, **seen, "confirmedAt": _now()}
    raise ActivityFailed(
        f"Chaos Mesh did not inject NetworkChaos {target} within {timeout_seconds:g}s: {seen}; "
        "are its controller-manager and chaos-daemon running, and do the nodes' kernels "
        "support the action (delay and loss need netem)?"
    )


def chaos_mesh_injected(chaos: Mapping[str, Any]) -> tuple[dict[str, Any] | None, str]:
    """Read Chaos Mesh's status: evidence when every selected pod is injected, else why not."""
    status = chaos.get("status") or {}
    conditions = {
        str(c.get("type")): str(c.get("status"))
        for c in status.get("conditions") or []
        if isinstance(c, Mapping)
    }
    records = ((status.get("experiment") or {}).get("containerRecords")) or []
    failures = [
        str(event.get("message"))
        for record in records
        for event in record.get("events") or []
        if event.get("type") == "Failed" and event.get("message")
    ]
    if not status or not conditions:
        return None, "no Chaos Mesh controller answered (the object has no status)"
    if conditions.get("Selected") == "False":
        return None, "Chaos Mesh selected no pod"
    injected = [r for r in records if r.get("phase") == "Injected"]
    if conditions.get("AllInjected") == "True" and records and len(injected) == len(records):
        return {"evidence": f"{len(injected)}/{len(records)} pods injected by Chaos Mesh"}, ""
    if failures:
        return None, f"Chaos Mesh says: {failures[-1]}"
    return None, f"{len(injected)}/{len(records)} pods injected so far"


def proxy_latency_in_effect(
    label_selector: str,
    ns: str = "default",
    toxic: str = "ripple-latency",
    latency_ms: int = 1500,
    path: str = "/",
    timeout_seconds: float = 15,
    secrets: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Prove the proxy latency: the toxic is on every pod's proxy, and a request is delayed.

    A request through each pod's proxy must take at least 90 % of ``latency_ms``.
    """
    pods = fault_proxy.proxy_pods(label_selector, ns, secrets)
    want = float(latency_ms) / 1000

    def look() -> tuple[dict[str, Any] | None, str]:
        took = []
        for name, ip in pods:
            names = [str(t.get("name")) for t in fault_proxy.toxics(ip)]
            if toxic not in names:
                return None, f"the proxy of pod {name} has no toxic {toxic} (it has {names})"
            seconds = fault_proxy.timed_get(ip, path=path, timeout=want + 10)
            if seconds < 0.9 * want:
                return None, f"a request through the proxy of pod {name} took {seconds:.2f}s"
            took.append(f"{name} {seconds:.2f}s")
        evidence = f"toxic {toxic} on {len(pods)} proxies; requests took {', '.join(took)}"
        return {"evidence": evidence}, ""

    seen = _poll(look, timeout_seconds)
    if isinstance(seen, dict):
        target = f"{ns}/{label_selector}"
        return {"kind": "ProxyLatency", "target": target, **seen, "confirmedAt": _now()}
    raise ActivityFailed(f"the proxy latency is not in effect after {timeout_seconds:g}s: {seen}")


def network_policy_blocks(
    name: str,
    address: str,
    ns: str = "default",
    timeout_seconds: float = 15,
    connect_timeout_seconds: float = 1.0,
    secrets: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Prove the NetworkPolicy bites: it exists, and a new connection to ``address`` fails.

    ``address`` is ``host:port`` of the cut-off service, seen from the run's pod. A
    network plugin that ignores NetworkPolicies lets the connection through: not in effect.
    """
    api = client.NetworkingV1Api(create_k8s_api_client(secrets))
    host, _, port = address.rpartition(":")
    target = f"{ns}/{name}"
    try:
        api.read_namespaced_network_policy(name, ns, _request_timeout=REQUEST_TIMEOUT)
    except ApiException as exc:
        raise ActivityFailed(f"NetworkPolicy {target} is not there: {exc.reason}") from exc

    def look() -> tuple[dict[str, Any] | None, str]:
        outcome = connect(host, int(port), connect_timeout_seconds)
        if outcome is None:
            return None, f"new connections to {address} still succeed"
        return {"evidence": f"a new connection to {address} {outcome}"}, ""

    seen = _poll(look, timeout_seconds)
    if isinstance(seen, dict):
        return {"kind": "NetworkPolicy", "target": target, **seen, "confirmedAt": _now()}
    raise ActivityFailed(
        f"NetworkPolicy {target} exists but {seen} after {timeout_seconds:g}s: the cluster's "
        "network plugin does not enforce NetworkPolicies"
    )


def connect(host: str, port: int, timeout: float) -> str | None:
    """Open and close a new TCP connection; ``None`` if it worked, else how it failed."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except ConnectionRefusedError:
        return "was refused"
    except TimeoutError:
        return f"timed out after {timeout:g}s"
    except OSError as exc:
        return f"failed ({exc.strerror or exc})"


def pod_replaced(
    label_selector: str,
    ns: str = "default",
    timeout_seconds: float = 15,
    secrets: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Prove the pod restart: each pod this run deleted is gone, and a new pod replaced it."""
    deleted = [p for p in terminated_pods() if p["namespace"] == ns]
    if not deleted:
        raise ActivityFailed(
            "no pod was deleted by ripple_experiments.extension.faults.terminate_pod in this run"
        )
    api = client.CoreV1Api(create_k8s_api_client(secrets))
    before = {uid for entry in deleted for uid in entry["before"]}

    def look() -> tuple[dict[str, Any] | None, str]:
        try:
            pods = live_pods(api, ns, label_selector)
        except ApiException as exc:
            return None, f"cannot list pods: {exc.reason}"
        live = {str(pod.metadata.uid) for pod in pods}
        still = [e["pod"] for e in deleted if e["uid"] in live or _exists(api, ns, e)]
        fresh = sorted(str(pod.metadata.name) for pod in pods if pod.metadata.uid not in before)
        if still:
            return None, f"pod {', '.join(still)} is still there"
        if not fresh:
            return None, f"no new pod matches {label_selector!r}"
        old = ", ".join(e["pod"] for e in deleted)
        return {"evidence": f"pod {old} replaced by {', '.join(fresh)}"}, ""

    seen = _poll(look, timeout_seconds)
    if isinstance(seen, dict):
        target = f"{ns}/{label_selector}"
        return {"kind": "PodRestart", "target": target, **seen, "confirmedAt": _now()}
    raise ActivityFailed(
        f"the pod restart did not happen within {timeout_seconds:g}s: {seen}. Check the "
        "pod's Deployment (or other controller) and whether a finalizer holds the pod"
    )


def _exists(api: client.CoreV1Api, ns: str, entry: Mapping[str, Any]) -> bool:
    """Whether the deleted pod (same name and UID) is still there, terminating or not."""
    try:
        pod = api.read_namespaced_pod(entry["pod"], ns, _request_timeout=REQUEST_TIMEOUT)
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise
    return bool(pod.metadata and pod.metadata.uid == entry["uid"])


def _poll(look: Callable[[], tuple[T | None, str]], timeout_seconds: float) -> T | str:
    """Call ``look`` until it gives a result or time is up; then its last reason."""
    deadline = time.monotonic() + float(timeout_seconds)
    why = "not checked"
    while True:
        try:
            found, why = look()
        except (ApiException, HTTPError) as exc:
            found, why = None, f"API error: {str(exc).splitlines()[0][:200]}"
        if found is not None:
            return found
        if time.monotonic() >= deadline:
            return why
        time.sleep(POLL_SECONDS)


def _now() -> str:
    return datetime.now(UTC).isoformat()
