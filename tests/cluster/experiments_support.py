"""The demo services in a test namespace, and ``ripple run-experiment`` run against them.

The runner runs on this machine (as from a laptop, with the test cluster's kubeconfig);
the node is this machine too, so Service cluster IPs answer here and vegeta can load
front directly. The services run from the locally built ``ripple:dev`` image.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.cluster import HACK_CLUSTER, Cluster
from tests.support.poll import wait_for
from tests.support.runner import RunnerProc, start_runner

IMAGE = "ripple:dev"
TOP = Path(__file__).resolve().parents[2]
CRD = TOP / "crds" / "chaosscenarios.ripple.dev.yaml"
UPSTREAM = {"front": "middle", "middle": "back"}


def vegeta_path() -> str:
    """The vegeta binary, built once into the tool cache by ``hack/tools``."""
    done = subprocess.run(
        [str(TOP / "hack" / "tools"), "vegeta"],
        capture_output=True,
        text=True,
        check=True,
        timeout=900,
    )
    return done.stdout.strip().splitlines()[-1]


def load_image(cluster: Cluster) -> None:
    """Copy ``ripple:dev`` from Docker into the cluster; under CI=true, build it if missing."""
    present = subprocess.run(
        ["docker", "image", "inspect", IMAGE], capture_output=True, text=True, check=False
    )
    if present.returncode != 0:
        if os.environ.get("CI") != "true":
            pytest.skip(f"no {IMAGE} image in Docker: build it with `make image`")
        built = subprocess.run(
            ["make", "--no-print-directory", "image"],
            cwd=TOP,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=30 * 60,
            check=False,
        )
        if built.returncode != 0:
            pytest.fail(f"make image failed:\n{built.stdout[-3000:]}", pytrace=False)
    done = subprocess.run(
        [str(HACK_CLUSTER), "load", IMAGE],
        capture_output=True,
        text=True,
        timeout=600,
        env=cluster.env(),
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"hack/cluster load {IMAGE} failed: {done.stderr[-2000:]}", pytrace=False)


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

    def pod_names(self, role: str) -> list[str]:
        """The pods of one role, terminating ones included."""
        pods = self.cluster.get_json(
            "pods", "-n", self.namespace, "-l", f"app.kubernetes.io/name={role}"
        )
        return sorted(p["metadata"]["name"] for p in pods["items"])


def deploy_demo(cluster: Cluster, namespace: str) -> Demo:
    """Apply the demo and wait until front answers from a healthy chain."""
    cluster.kubectl("apply", "-f", "-", input=demo_manifests(namespace))
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


def start_run(
    cluster: Cluster, tmp_path: Path, *args: str, vegeta: str | None = None
) -> RunnerProc:
    """Start ``ripple run-experiment ARGS`` with the cluster's kubeconfig."""
    return start_runner(tmp_path, vegeta, *args, env=cluster.env())


def load_args(
    demo: Demo, tmp_path: Path, *, rate: str = "5/1s", **configuration: object
) -> list[str]:
    """Flags pointing an experiment at the demo with local vegeta load."""
    values: dict[str, object] = {"namespace": demo.namespace, "front_url": demo.front_url}
    values.update(configuration)
    args: list[str] = []
    for key, value in values.items():
        args += ["--configuration", f"{key}={value}"]
    load = ["--load-target", demo.front_url, "--load-rate", rate]
    return [*args, *load, "--load-output-dir", str(tmp_path / "load")]
