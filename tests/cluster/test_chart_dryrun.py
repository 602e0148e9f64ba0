"""Every manifest the chart renders is accepted by the real API server (server-side dry run).

The render tests check what the chart says; this checks that Kubernetes agrees: schemas,
defaulting, admission and RBAC escalation checks all run, and nothing is stored.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.support.chart import CHART, CI_VALUES, Manifest, helm, render, to_yaml
from tests.support.cluster import CONTEXT, Cluster
from tests.support.poll import wait_for

CRD = CHART / "crds" / "chaosscenarios.ripple.dev.yaml"
RELEASE = "dryrun"
"""Not the demo's release name, so no real object is ever compared against."""


@pytest.fixture(scope="module")
def kube_version(cluster: Cluster) -> str:
    """The server's version, told to helm so the chart's kubeVersion check is the real one."""
    version = json.loads(cluster.kubectl("version", "-o", "json").stdout)["serverVersion"]
    match = re.match(r"v?(\d+\.\d+\.\d+)", version["gitVersion"])
    assert match, version
    return match.group(1)


@pytest.fixture(scope="module")
def crd_established(cluster: Cluster) -> None:
    """The ChaosScenario CRD is installed (as the chart would) so scenarios can be checked."""
    cluster.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(CRD))

    def established() -> bool:
        crd = cluster.get_json("crd", "chaosscenarios.ripple.dev")
        return any(
            c["type"] == "Established" and c["status"] == "True"
            for c in crd.get("status", {}).get("conditions", [])
        )

    wait_for(established, timeout=60, what="the ChaosScenario CRD to be established")


def has_service_monitor_api(cluster: Cluster) -> bool:
    done = cluster.kubectl("api-resources", "--api-group=monitoring.coreos.com", "-o", "name")
    return any(line.startswith("servicemonitors.") for line in done.stdout.splitlines())


def free_node_port(cluster: Cluster) -> int:
    """A node port no Service holds, so the dry run does not collide with an installed demo."""
    taken = {
        port.get("nodePort")
        for service in cluster.get_json("services", "--all-namespaces")["items"]
        for port in service["spec"].get("ports", [])
    }
    return next(p for p in range(30080, 32768) if p not in taken)


def overrides(values: Path, namespace: str, node_port: int) -> list[str]:
    """Point every namespace a value set names at the test's namespace (which exists)."""
    raw = yaml.safe_load(values.read_text()) or {}
    sets = [f"demo.nodePort.port={node_port}"]
    if raw.get("operator", {}).get("watchNamespaces"):
        sets.append(f"operator.watchNamespaces={{{namespace}}}")
    if raw.get("runner", {}).get("namespaces"):
        sets.append(f"runner.namespaces={{{namespace}}}")
    return sets


def dry_run(cluster: Cluster, manifests: list[Manifest]) -> list[str]:
    """``kubectl apply --dry-run=server`` the manifests; the names the server accepted."""
    done = cluster.kubectl(
        "apply", "--dry-run=server", "-o", "name", "-f", "-", input=to_yaml(manifests), check=False
    )
    assert done.returncode == 0, done.stderr
    return [line for line in done.stdout.splitlines() if line.strip()]


@pytest.mark.usefixtures("crd_established")
@pytest.mark.parametrize("values", CI_VALUES, ids=lambda p: p.name)
def test_every_rendered_manifest_is_accepted_by_the_api_server(
    cluster: Cluster, namespace: str, kube_version: str, values: Path
) -> None:
    rendered = render(
        values=[values],
        set_values=overrides(values, namespace, free_node_port(cluster)),
        release=RELEASE,
        namespace=namespace,
        kube_version=kube_version,
    )
    manifests = rendered.manifests
    if not has_service_monitor_api(cluster):
        # Without the Prometheus Operator the kind cannot exist; the chart only renders it
        # here because the value set forces it.
        manifests = [m for m in manifests if m["kind"] != "ServiceMonitor"]
    accepted = dry_run(cluster, manifests)
    assert len(accepted) == len(manifests), accepted
    kinds = {m["kind"] for m in manifests}
    assert {"Deployment", "ClusterRole", "Role", "ServiceAccount"} <= kinds


@pytest.mark.usefixtures("crd_established")
def test_the_dry_run_refuses_what_the_server_would_refuse(
    cluster: Cluster, namespace: str, kube_version: str
) -> None:
    """The check can fail: a scenario the CRD forbids (two experiment sources) is refused."""
    rendered = render(
        set_values=["scenarios.enabled=true", "demo.enabled=false"],
        release=RELEASE,
        namespace=namespace,
        kube_version=kube_version,
    )
    scenario = rendered.of_kind("ChaosScenario")[0]
    scenario["spec"]["experiment"]["configMapRef"] = {"name": "other"}
    done = cluster.kubectl(
        "apply", "--dry-run=server", "-f", "-", input=to_yaml([scenario]), check=False
    )
    assert done.returncode != 0
    assert "exactly one of experiment.name" in done.stderr


@pytest.mark.usefixtures("crd_established")
def test_install_notes_say_what_to_run_next(cluster: Cluster, namespace: str) -> None:
    """``helm install --dry-run=server`` against the real server, and the NOTES it prints."""
    done = subprocess.run(
        [
            helm(),
            f"--kubeconfig={cluster.kubeconfig}",
            f"--kube-context={CONTEXT}",
            "install",
            RELEASE,
            str(CHART),
            "--namespace",
            namespace,
            "--dry-run=server",
            "--set",
            f"demo.nodePort.port={free_node_port(cluster)}",
            "--set",
            f"operator.watchNamespaces={{{namespace}}}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=cluster.env(),
    )
    assert done.returncode == 0, done.stderr
    notes = done.stdout[done.stdout.index("NOTES:") :]
    assert f"serves ChaosScenarios in {namespace}" in notes
    assert f"kubectl -n {namespace} rollout status deployment/{RELEASE}-ripple" in notes
    assert f"kubectl -n {namespace} get chaosscenarios --watch" in notes
    assert "expect middle-service-restarts to Fail" in notes
    assert "<scenario>-<run>-journal" in notes
