"""Latency through Toxiproxy, the fault proxy the chart can put in each middle pod.

A fault that needs no kernel support (Chaos Mesh's delay needs netem): the chart's
``demo.faultProxy.enabled`` puts a Toxiproxy container beside the service, the Service
targets the proxy, and the proxy forwards to the service on localhost. Each pod has its own
proxy, so every action here addresses each matching pod's API (``<pod IP>:8474``, no
Service) rather than one of them at random.

Toxiproxy keeps toxics in memory only: a toxic is not a Kubernetes object the operator's
sweep can find. The rollback (played on SIGTERM too) removes it; a runner killed outright
leaves it until the pod restarts or :func:`remove_proxy_latency` runs.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any, Final

from chaosk8s import create_k8s_api_client
from chaoslib.exceptions import ActivityFailed
from kubernetes import client

from .kube_reads import REQUEST_TIMEOUT, target_pods

API_PORT: Final = 8474
"""Toxiproxy's HTTP API port in the pod (the chart's ``proxy-api`` container port)."""
LISTEN_PORT: Final = 8081
"""The port the proxy listens on (the chart's ``proxy`` port, which middle's Service targets)."""
PROXY: Final = "middle"
"""The proxy's name in the chart's Toxiproxy configuration."""


def add_proxy_latency(
    label_selector: str,
    ns: str = "default",
    latency_ms: int = 1500,
    jitter_ms: int = 0,
    toxic: str = "ripple-latency",
    proxy: str = PROXY,
    secrets: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Add a latency toxic (to the responses) on the proxy of every matching pod."""
    body = {
        "name": toxic,
        "type": "latency",
        "stream": "downstream",
        "toxicity": 1.0,
        "attributes": {"latency": int(latency_ms), "jitter": int(jitter_ms)},
    }
    pods = proxy_pods(label_selector, ns, secrets)
    for name, ip in pods:
        status, answer = call(ip, "POST", f"/proxies/{proxy}/toxics", body)
        if status == 409:  # left by an earlier run: make it this run's
            status, answer = call(ip, "POST", f"/proxies/{proxy}/toxics/{toxic}", body)
        if status != 200:
            raise ActivityFailed(
                f"Toxiproxy in pod {ns}/{name} refused the toxic {toxic}: {status} {answer}"
            )
    return {"toxic": toxic, "latencyMs": int(latency_ms), "pods": [n for n, _ in pods]}


def remove_proxy_latency(
    label_selector: str,
    ns: str = "default",
    toxic: str = "ripple-latency",
    proxy: str = PROXY,
    secrets: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Remove the toxic from the proxy of every matching pod; gone already is fine."""
    removed, failed = [], []
    for name, ip in proxy_pods(label_selector, ns, secrets):
        status, answer = call(ip, "DELETE", f"/proxies/{proxy}/toxics/{toxic}")
        if status == 204:
            removed.append(name)
        elif status != 404:
            failed.append(f"{name}: {status} {answer}")
    if failed:
        raise ActivityFailed(f"cannot remove the toxic {toxic}: {'; '.join(failed)}")
    return {"toxic": toxic, "removedFrom": removed}


def toxics(ip: str, proxy: str = PROXY) -> list[dict[str, Any]]:
    """List the toxics on one pod's proxy (``ActivityFailed`` when its API does not answer)."""
    status, answer = call(ip, "GET", f"/proxies/{proxy}/toxics")
    if status != 200 or not isinstance(answer, list):
        raise ActivityFailed(f"Toxiproxy at {ip}:{API_PORT} answered {status} {answer}")
    return [t for t in answer if isinstance(t, dict)]


def timed_get(ip: str, port: int = LISTEN_PORT, path: str = "/", timeout: float = 10.0) -> float:
    """Time a GET through the proxy, in seconds (``ActivityFailed`` if it got no answer)."""
    start = time.monotonic()
    try:
        with urllib.request.urlopen(f"http://{ip}:{port}{path}", timeout=timeout) as answer:
            answer.read()
    except (urllib.error.URLError, OSError) as exc:
        raise ActivityFailed(f"a request through the proxy at {ip}:{port} failed: {exc}") from exc
    return time.monotonic() - start


def proxy_pods(
    label_selector: str, ns: str, secrets: dict[str, Any] | None = None
) -> list[tuple[str, str]]:
    """``(name, pod IP)`` of each live matching pod that has an IP."""
    api = client.CoreV1Api(create_k8s_api_client(secrets))
    pods = target_pods(api, ns, label_selector)
    found = [
        (str(p.metadata.name), str(p.status.pod_ip)) for p in pods if p.status and p.status.pod_ip
    ]
    if not found:
        raise ActivityFailed(f"no pod matching {label_selector!r} in {ns} has an IP yet")
    return found


def call(ip: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """One request to a pod's Toxiproxy API: its status and decoded answer."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        f"http://{ip}:{API_PORT}{path}",
        data=data,
        method=method,
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT[1]) as answer:  # noqa: S310
            return answer.status, _decode(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, _decode(exc.read())
    except (urllib.error.URLError, OSError) as exc:
        raise ActivityFailed(
            f"Toxiproxy's API at {ip}:{API_PORT} does not answer ({exc}): is the chart's "
            "demo.faultProxy.enabled set?"
        ) from exc


def _decode(raw: bytes) -> Any:
    try:
        return json.loads(raw or b"null")
    except ValueError:
        return raw.decode(errors="replace")[:200]
