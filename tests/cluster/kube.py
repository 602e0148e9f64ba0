"""Small helpers the cluster proofs share: manifests, apply, readiness, in-pod HTTP."""

from __future__ import annotations

import json
from typing import Any

from tests.support.cluster import Cluster
from tests.support.poll import wait_for

Manifest = dict[str, Any]


def apply(cluster: Cluster, namespace: str, *manifests: Manifest) -> None:
    """``kubectl apply`` the manifests into the namespace."""
    items = {"apiVersion": "v1", "kind": "List", "items": list(manifests)}
    cluster.kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(items))


def web_container(image: str, *, name: str = "web", port: int = 8080) -> Manifest:
    """busybox httpd serving the pod's hostname on ``port``, Ready once it listens."""
    script = f"hostname > /www/index.html && exec httpd -f -p {port} -h /www"
    return {
        "name": name,
        "image": image,
        "imagePullPolicy": "Never",
        "command": ["sh", "-c", script],
        "ports": [{"containerPort": port}],
        "readinessProbe": {"tcpSocket": {"port": port}, "periodSeconds": 1},
    }


def deployment(name: str, image: str, *, replicas: int = 1) -> Manifest:
    """A Deployment of busybox web servers labelled ``app: name``."""
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "terminationGracePeriodSeconds": 1,
                    "containers": [web_container(image)],
                },
            },
        },
    }


def service(name: str, *, port: int = 80, target_port: int = 8080) -> Manifest:
    """A ClusterIP Service selecting ``app: name``."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {
            "selector": {"app": name},
            "ports": [{"port": port, "targetPort": target_port, "protocol": "TCP"}],
        },
    }


def client_pod(name: str, image: str) -> Manifest:
    """A pod that idles, to run probes from inside the cluster network."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "terminationGracePeriodSeconds": 0,
            "containers": [
                {
                    "name": "client",
                    "image": image,
                    "imagePullPolicy": "Never",
                    "command": ["sleep", "3600"],
                }
            ],
        },
    }


def wait_deployment_ready(
    cluster: Cluster, namespace: str, name: str, replicas: int, timeout: float = 120
) -> None:
    """Poll until the Deployment reports ``replicas`` ready, up-to-date pods."""

    def ready() -> bool:
        status: Manifest = cluster.get_json("deployment", name, "-n", namespace).get("status", {})
        return bool(
            status.get("readyReplicas") == replicas and status.get("updatedReplicas") == replicas
        )

    wait_for(ready, timeout=timeout, interval=0.5, what=f"deployment {name} ready")


def wait_pod_ready(cluster: Cluster, namespace: str, name: str, timeout: float = 120) -> None:
    """Poll until the pod's Ready condition is True."""

    def ready() -> bool:
        pod = cluster.get_json("pod", name, "-n", namespace)
        conditions = pod.get("status", {}).get("conditions", [])
        return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)

    wait_for(ready, timeout=timeout, interval=0.5, what=f"pod {name} ready")


def ready_pods(cluster: Cluster, namespace: str, app: str) -> dict[str, Manifest]:
    """The Ready, not terminating pods labelled ``app``, by name."""
    pods = cluster.get_json("pods", "-n", namespace, "-l", f"app={app}")["items"]
    return {
        p["metadata"]["name"]: p
        for p in pods
        if "deletionTimestamp" not in p["metadata"]
        and any(
            c["type"] == "Ready" and c["status"] == "True"
            for c in p.get("status", {}).get("conditions", [])
        )
    }


def http_get(
    cluster: Cluster, namespace: str, pod: str, host: str, port: int, path: str = "/"
) -> str | None:
    """GET http://host:port/path from inside ``pod`` with busybox nc; the body, or None."""
    request = f"GET {path} HTTP/1.0\\r\\nHost: {host}\\r\\n\\r\\n"
    done = cluster.kubectl(
        "exec",
        "-n",
        namespace,
        pod,
        "--",
        "sh",
        "-c",
        f"printf '{request}' | nc -w 2 {host} {port}",
        check=False,
        timeout=30,
    )
    # kubectl's output arrives with universal newlines: \r\n is already \n here.
    head, _, body = done.stdout.replace("\r\n", "\n").partition("\n\n")
    if done.returncode != 0 or " 200 " not in head.split("\n", 1)[0]:
        return None
    return body.strip()
