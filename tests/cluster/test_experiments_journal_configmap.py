"""The runner stores the journal in a ConfigMap owned by its ChaosScenario, in the real API."""

from __future__ import annotations

import json
import random
import string
from pathlib import Path
from typing import Any

import pytest
import yaml

from ripple_contract.journal_codec import journal_of_configmap
from ripple_contract.names import JOURNAL_GZ_KEY, JOURNAL_KEY, TIMELINE_KEY
from tests.cluster.experiments_support import start_run
from tests.support.cluster import Cluster, KubectlError
from tests.support.poll import wait_for
from tests.support.ripple_in_cluster import apply_crd

EXPERIMENT: dict[str, Any] = {
    "title": "nothing but a journal",
    "description": "An experiment without hypothesis nor fault: only its journal matters here.",
    "configuration": {"padding": ""},
    "method": [],
}
NO_VERDICT = 1
"""The runner's exit code for it: without a hypothesis a run cannot say Pass or Fail (NoData),
and its journal is stored all the same."""


@pytest.fixture(scope="module")
def crd(cluster: Cluster) -> None:
    apply_crd(cluster)


def create_scenario(cluster: Cluster, namespace: str, name: str) -> str:
    """A suspended scenario (no operator starts runs for it); returns its uid."""
    scenario = {
        "apiVersion": "ripple.dev/v1alpha1",
        "kind": "ChaosScenario",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"experiment": {"name": "smoke"}, "suspend": True},
    }
    cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump(scenario))
    uid: str = cluster.get_json("chaosscenario", name, "-n", namespace)["metadata"]["uid"]
    return uid


def write_experiment(tmp_path: Path, padding: int = 0) -> Path:
    # random letters do not compress much: a large padding keeps the journal large gzipped
    text = "".join(random.Random(11).choices(string.ascii_letters, k=padding))
    path = tmp_path / "experiment.json"
    path.write_text(json.dumps({**EXPERIMENT, "configuration": {"padding": text}}))
    return path


def test_journal_configmap_is_owned_by_the_scenario_and_goes_with_it(
    cluster: Cluster, namespace: str, crd: None, tmp_path: Path
) -> None:
    uid = create_scenario(cluster, namespace, "owner")
    run = start_run(
        cluster,
        tmp_path,
        str(write_experiment(tmp_path)),
        "--scenario", "owner", "--namespace", namespace, "--run", "7",
    )  # fmt: skip
    assert run.wait() == NO_VERDICT, run.log_text()
    configmap = cluster.get_json("configmap", "owner-7-journal", "-n", namespace)
    assert configmap["metadata"]["labels"] == {
        "ripple.dev/scenario": "owner",
        "ripple.dev/run": "7",
        "app.kubernetes.io/managed-by": "ripple",
    }
    owners = configmap["metadata"]["ownerReferences"]
    assert [(o["apiVersion"], o["kind"], o["name"], o["uid"]) for o in owners] == [
        ("ripple.dev/v1alpha1", "ChaosScenario", "owner", uid)
    ]
    assert set(configmap["data"]) == {JOURNAL_KEY, TIMELINE_KEY}
    assert journal_of_configmap(configmap) == run.journal()
    assert run.journal()["status"] == "completed"
    summary = run.summary()
    assert (summary["status"], summary["verdict"], summary["reason"]) == (
        "completed",
        "Error",
        "NoData",
    )

    cluster.kubectl("delete", "chaosscenario", "owner", "-n", namespace)

    def collected() -> bool:
        try:
            cluster.kubectl("get", "configmap", "owner-7-journal", "-n", namespace)
        except KubectlError as exc:
            return "NotFound" in str(exc)
        return False

    wait_for(collected, timeout=120, what="the garbage collector deleting the journal")


def test_a_large_journal_is_stored_gzipped(
    cluster: Cluster, namespace: str, crd: None, tmp_path: Path
) -> None:
    create_scenario(cluster, namespace, "big")
    run = start_run(
        cluster,
        tmp_path,
        str(write_experiment(tmp_path, padding=600 * 1024)),
        "--scenario", "big", "--namespace", namespace, "--run", "1",
    )  # fmt: skip
    assert run.wait() == NO_VERDICT, run.log_text()
    configmap = cluster.get_json("configmap", "big-1-journal", "-n", namespace)
    assert JOURNAL_KEY not in (configmap.get("data") or {})
    assert set(configmap["binaryData"]) == {JOURNAL_GZ_KEY}
    assert journal_of_configmap(configmap) == run.journal()


def test_no_journal_configmap_for_a_scenario_that_is_gone(
    cluster: Cluster, namespace: str, crd: None, tmp_path: Path
) -> None:
    run = start_run(
        cluster,
        tmp_path,
        str(write_experiment(tmp_path)),
        "--scenario", "ghost", "--namespace", namespace, "--run", "1",
    )  # fmt: skip
    assert run.wait() == NO_VERDICT, run.log_text()
    assert "is gone: journal not stored" in run.log_text()
    listed = cluster.get_json("configmaps", "-n", namespace, "-l", "ripple.dev/scenario=ghost")
    assert listed["items"] == []
