"""CustomResourceDefinitions: status subresource and printer columns; Chaos Mesh's schema."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.cluster import Cluster, KubectlError
from tests.support.poll import wait_for


def widget_crd(group: str) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"widgets.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": [
                        {"name": "Size", "type": "integer", "jsonPath": ".spec.size"},
                        {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
                    ],
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "spec": {
                                    "type": "object",
                                    "properties": {"size": {"type": "integer", "minimum": 1}},
                                },
                                "status": {
                                    "type": "object",
                                    "properties": {"phase": {"type": "string"}},
                                },
                            },
                        }
                    },
                }
            ],
        },
    }


@pytest.fixture
def widget_group(cluster: Cluster, namespace: str) -> Iterator[str]:
    """A CRD in a group of its own (CRDs are cluster-wide), deleted afterwards."""
    group = f"{namespace}.test.ripple.dev"
    cluster.kubectl("apply", "-f", "-", input=json.dumps(widget_crd(group)))
    cluster.kubectl("wait", "--for=condition=Established", f"crd/widgets.{group}", "--timeout=60s")
    yield group
    cluster.kubectl("delete", "crd", f"widgets.{group}", "--wait=false", check=False)


def test_crd_status_subresource_and_printer_columns(
    cluster: Cluster, namespace: str, widget_group: str
) -> None:
    resource = f"widgets.{widget_group}"
    widget = {
        "apiVersion": f"{widget_group}/v1",
        "kind": "Widget",
        "metadata": {"name": "w1"},
        "spec": {"size": 3},
        "status": {"phase": "IgnoredOnCreate"},
    }
    wait_for(
        lambda: (
            cluster.kubectl(
                "apply", "-n", namespace, "-f", "-", input=json.dumps(widget)
            ).returncode
            == 0
        ),
        timeout=30,
        what="the new CRD to be served",
    )
    # With a status subresource, status is written only through /status.
    assert "status" not in cluster.get_json(resource, "w1", "-n", namespace)
    cluster.kubectl(
        "patch",
        resource,
        "w1",
        "-n",
        namespace,
        "--subresource=status",
        "--type=merge",
        "-p",
        '{"status": {"phase": "Ready"}}',
    )
    cluster.kubectl(
        "patch",
        resource,
        "w1",
        "-n",
        namespace,
        "--type=merge",
        "-p",
        '{"status": {"phase": "Hacked"}}',
    )
    assert cluster.get_json(resource, "w1", "-n", namespace)["status"] == {"phase": "Ready"}

    table = cluster.kubectl("get", resource, "-n", namespace).stdout.splitlines()
    assert table[0].split() == ["NAME", "SIZE", "PHASE"]
    assert table[1].split()[:3] == ["w1", "3", "Ready"]

    with pytest.raises(KubectlError, match=r"spec.size"):
        cluster.kubectl(
            "patch", resource, "w1", "-n", namespace, "--type=merge", "-p", '{"spec": {"size": 0}}'
        )


def network_chaos(action: str) -> dict[str, Any]:
    return {
        "apiVersion": "chaos-mesh.org/v1alpha1",
        "kind": "NetworkChaos",
        "metadata": {"name": "middle-latency"},
        "spec": {
            "action": action,
            "mode": "all",
            "selector": {"labelSelectors": {"app.kubernetes.io/name": "middle"}},
            "delay": {"latency": "1500ms", "jitter": "0ms", "correlation": "0"},
            "duration": "60s",
        },
    }


def test_network_chaos_is_checked_by_chaos_mesh_schema(cluster: Cluster, namespace: str) -> None:
    cluster.kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(network_chaos("delay")))
    stored = cluster.get_json("networkchaos", "middle-latency", "-n", namespace)
    assert stored["spec"]["delay"]["latency"] == "1500ms"
    with pytest.raises(KubectlError, match=r"spec.action"):
        cluster.kubectl(
            "apply", "-n", namespace, "-f", "-", input=json.dumps(network_chaos("teleport"))
        )
