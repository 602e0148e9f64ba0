"""The demo chain front -> middle -> back from the ripple image, in one test namespace.

Shared by the cluster, operator and benchmark tiers (the chart deploys the same shape).
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from typing import Any

import yaml

from tests.support.cluster import Cluster
from tests.support.poll import wait_for
from tests.support.ripple_in_cluster import IMAGE

UPSTREAM = {"front": "middle", "middle": "back"}


def demo_manifests(namespace: str) -> str:
    """Deployments and Services front, middle, back as the chart names them, one replica each."""
    documents: list[dict[str, Any]] = []
    for role in ("front", "middle", "back"):
        labels = {"app.kubernetes.io/name": role, "app.kubernetes.io/part-of": "ripple-test"}
        args = ["service", "--role", role]
        if role in UPSTREAM:
            args += ["--upstream", f"http://{UPSTREAM[role]}:8080/"]
        container = {
            "name": role,
            "image": IMAGE,
            "imagePullPolicy": "Never",
            "args": args,
            "env": [
                {"name": "RIPPLE_PORT", "value": "8080"},
                {"name": "RIPPLE_UPSTREAM_TIMEOUT", "value": "1"},
                {"name": "RIPPLE_SHUTDOWN_DELAY", "value": "0"},
            ],
            "ports": [{"name": "http", "containerPort": 8080}],
            # Small requests: benchmarks put a hundred runner pods beside the demo.
            "resources": {"requests": {"cpu": "10m", "memory": "48Mi"}},
            "readinessProbe": {
                "httpGet": {"path": "/readyz", "port": "http"},
                "periodSeconds": 1,
                "failureThreshold": 1,
            },
        }
        documents.append(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": role, "namespace": namespace, "labels": labels},
                "spec": {
                    "replicas": 1,
                    "selector": {"matchLabels": {"app.kubernetes.io/name": role}},
                    "template": {
                        "metadata": {"labels": labels},
                        "spec": {"terminationGracePeriodSeconds": 5, "containers": [container]},
                    },
                },
            }
        )
        documents.append(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": role, "namespace": namespace, "labels": labels},
                "spec": {
                    "selector": {"app.kubernetes.io/name": role},
                    "ports": [{"name": "http", "port": 8080, "targetPort": "http"}],
                },
            }
        )
    return yaml.safe_dump_all(documents)


@dataclass(frozen=True)
class Demo:
    """The demo services deployed in one test namespace."""

    cluster: Cluster
    namespace: str
    front_url: str
    """front's Service, by cluster IP (reachable from this machine, the node)."""

    def front_answer(self) -> dict[str, Any] | None:
        """front's body, or ``None`` when it does not answer."""
        done = subprocess.run(
            ["curl", "-s", "-m", "3", self.front_url], capture_output=True, text=True, check=False
        )
        if done.returncode != 0 or not done.stdout:
            return None
        body: dict[str, Any] = json.loads(done.stdout)
        return body

    def healthy(self) -> bool:
        """front answers with a fresh value from the whole chain."""
        answer = self.front_answer()
        return bool(answer and answer.get("stalled") is False)

    def service_ip(self, role: str) -> str:
        """The ClusterIP of one role's Service (reachable from the node)."""
        return self.cluster.kubectl(
            "get", "service", role, "-n", self.namespace, "-o", "jsonpath={.spec.clusterIP}"
        ).stdout.strip()

    def pod_names(self, role: str) -> list[str]:
        """The pods of one role, terminating ones included."""
        pods = self.cluster.get_json(
            "pods", "-n", self.namespace, "-l", f"app.kubernetes.io/name={role}"
        )
        return sorted(p["metadata"]["name"] for p in pods["items"])


def deploy_demo(cluster: Cluster, namespace: str, manifests: str | None = None) -> Demo:
    """Apply the demo (``manifests``, default :func:`demo_manifests`) and wait until front
    answers from a healthy chain."""
    cluster.kubectl(
        "apply", "-n", namespace, "-f", "-", input=manifests or demo_manifests(namespace)
    )
    for role in ("back", "middle", "front"):
        cluster.kubectl(
            "rollout", "status", f"deployment/{role}", "-n", namespace, "--timeout=120s",
            timeout=150,
        )  # fmt: skip
    ip = cluster.kubectl(
        "get", "service", "front", "-n", namespace, "-o", "jsonpath={.spec.clusterIP}"
    ).stdout.strip()
    demo = Demo(cluster=cluster, namespace=namespace, front_url=f"http://{ip}:8080/")
    wait_for(demo.healthy, timeout=60, what="front answering through middle and back")
    return demo
