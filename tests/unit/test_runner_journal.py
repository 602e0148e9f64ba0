"""The journal's ConfigMap, the termination summary, and what counts as "ran to its end"."""

from __future__ import annotations

import json
import random
import string
from pathlib import Path
from typing import Any

import pytest

from ripple_contract.journal_codec import LARGE_JOURNAL_BYTES, journal_of_configmap
from ripple_contract.names import JOURNAL_GZ_KEY, JOURNAL_KEY
from ripple_experiments.runner.journal import (
    JournalStoreError,
    build_journal_configmap,
    journal_to_json,
    termination_summary,
    write_termination_log,
)
from ripple_experiments.runner.run import prepare_kubernetes_environment, ran_to_end

JOURNALS = Path(__file__).parent / "data" / "journals"


def journal(
    status: str = "completed", deviated: bool = False, before_met: bool | None = True
) -> dict[str, Any]:
    before = None if before_met is None else {"steady_state_met": before_met, "probes": []}
    after = None if status != "completed" else {"steady_state_met": not deviated, "probes": []}
    return {
        "status": status,
        "deviated": deviated,
        "steady_states": {"before": before, "after": after},
    }


def test_a_small_journal_is_json_in_data_owned_by_the_scenario() -> None:
    text = journal_to_json(journal())
    body = build_journal_configmap(
        journal_text=text, scenario="lat", run="r1", namespace="demo", owner_uid="u-1"
    )
    assert body["metadata"]["name"] == "lat-r1-journal"
    assert body["metadata"]["namespace"] == "demo"
    assert body["metadata"]["labels"] == {
        "ripple.dev/scenario": "lat",
        "ripple.dev/run": "r1",
        "app.kubernetes.io/managed-by": "ripple",
    }
    assert body["metadata"]["ownerReferences"] == [
        {
            "apiVersion": "ripple.dev/v1alpha1",
            "kind": "ChaosScenario",
            "name": "lat",
            "uid": "u-1",
            "controller": True,
            "blockOwnerDeletion": False,
        }
    ]
    assert body["data"] == {JOURNAL_KEY: text}
    assert "binaryData" not in body
    assert journal_of_configmap(body) == journal()


def test_a_large_journal_is_gzipped_into_binary_data() -> None:
    noise = "".join(random.Random(7).choices(string.ascii_letters, k=LARGE_JOURNAL_BYTES))
    big = {**journal(), "run": [{"output": noise}]}
    body = build_journal_configmap(
        journal_text=journal_to_json(big), scenario="s", run="r", namespace="n", owner_uid=None
    )
    assert "data" not in body
    assert "ownerReferences" not in body["metadata"]
    assert set(body["binaryData"]) == {JOURNAL_GZ_KEY}
    assert journal_of_configmap(body) == big


def test_a_journal_too_large_even_gzipped_is_an_error() -> None:
    noise = "".join(random.Random(3).choices(string.printable, k=3 * 1024 * 1024))
    with pytest.raises(JournalStoreError, match="too large"):
        build_journal_configmap(
            journal_text=noise, scenario="s", run="r", namespace="n", owner_uid="u"
        )


def test_objects_json_lacks_are_written_not_crashed() -> None:
    class Thing:
        def __repr__(self) -> str:
            return "<thing>"

    assert json.loads(journal_to_json({"output": Thing()})) == {"output": "<thing>"}


@pytest.mark.parametrize(
    ("doc", "verdict"),
    [
        (journal(), "Pass"),
        (journal(deviated=True), "Fail"),
        (journal(status="interrupted"), "Error"),
        (None, "Error"),
    ],
)
def test_termination_summary(doc: dict[str, Any] | None, verdict: str) -> None:
    summary = json.loads(termination_summary(doc, "why"))
    assert summary["verdict"] == verdict
    assert summary["message"] == "why"
    assert summary["status"] == (doc or {}).get("status")


def test_termination_summary_fits_the_kubelet_limit() -> None:
    assert len(termination_summary(journal(), "x" * 10_000).encode()) <= 4096


def test_termination_log_is_not_created_where_the_kubelet_did_not(tmp_path: Path) -> None:
    path = tmp_path / "termination-log"
    assert not write_termination_log("{}", path, must_exist=True)
    assert not path.exists()
    assert write_termination_log("{}", path, must_exist=False)
    assert write_termination_log('{"a": 1}', path, must_exist=True)
    assert path.read_text() == '{"a": 1}'
    assert not write_termination_log("{}", tmp_path / "no" / "dir", must_exist=False)


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        (journal(), True),
        (journal(deviated=True), True),
        (journal(before_met=None), True),
        (journal(before_met=False), False),
        (journal(status="interrupted"), False),
        (journal(status="aborted"), False),
        (journal(status="failed", deviated=True), False),
        (None, False),
    ],
)
def test_ran_to_end(doc: dict[str, Any] | None, expected: bool) -> None:
    assert ran_to_end(doc) is expected


def test_in_a_pod_without_kubeconfig_chaosk8s_uses_the_service_account(tmp_path: Path) -> None:
    env = {"KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBECONFIG": str(tmp_path / "none")}
    prepare_kubernetes_environment(env)
    assert env["CHAOSTOOLKIT_IN_POD"] == "true"
    laptop = {"KUBECONFIG": str(tmp_path / "none")}
    prepare_kubernetes_environment(laptop)
    assert "CHAOSTOOLKIT_IN_POD" not in laptop
