"""Deployments from a locally built image: pods Ready, replaced when deleted."""

from __future__ import annotations

import re

from tests.cluster.kube import apply, deployment, ready_pods, wait_deployment_ready
from tests.support.cluster import Cluster
from tests.support.poll import wait_for


def test_deployment_pods_become_ready_from_local_image(
    cluster: Cluster, namespace: str, busybox_image: str
) -> None:
    apply(cluster, namespace, deployment("web", busybox_image, replicas=2))
    wait_deployment_ready(cluster, namespace, "web", 2)
    pods = ready_pods(cluster, namespace, "web")
    assert len(pods) == 2
    for pod in pods.values():
        (status,) = pod["status"]["containerStatuses"]
        assert status["ready"] is True
        assert status["image"].endswith(busybox_image)
        # Content-addressed, whatever the load named it: hack/cluster's ``sha256:ID``,
        # kind load's ``docker.io/library/import-DATE@sha256:DIGEST``.
        assert re.search(r"(^|@)sha256:[0-9a-f]{64}$", status["imageID"]), status["imageID"]
        node = cluster.facts.node(pod["spec"]["nodeName"])
        assert node.has_pod_ip(pod["status"]["podIP"]), (pod["status"]["podIP"], node)


def test_deleted_pod_is_replaced_by_a_ready_one(
    cluster: Cluster, namespace: str, busybox_image: str
) -> None:
    apply(cluster, namespace, deployment("web", busybox_image, replicas=1))
    wait_deployment_ready(cluster, namespace, "web", 1)
    (victim,) = ready_pods(cluster, namespace, "web")
    cluster.kubectl("delete", "pod", victim, "-n", namespace, "--wait=false")

    def replacement() -> str | None:
        names = set(ready_pods(cluster, namespace, "web")) - {victim}
        return names.pop() if names else None

    new = wait_for(replacement, timeout=120, interval=0.5, what="a Ready replacement pod")
    assert new != victim
