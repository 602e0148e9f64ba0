"""kube.py against the real API server: journals as the runner stores them, status writes
that never lose a concurrent writer's change, and Events."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from chaoslib.experiment import run_experiment
from chaoslib.types import Strategy

from ripple_experiments.runner.journal import build_journal_configmap, journal_to_json
from ripple_operator.kube import Kube
from tests.support.cluster import Cluster
from tests.support.operator import apply, events_of, scenario

pytestmark = pytest.mark.no_runs


@pytest.fixture
async def kube(cluster: Cluster, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Kube]:
    monkeypatch.setenv("KUBECONFIG", str(cluster.kubeconfig))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    connected = await Kube.connect()
    yield connected
    await connected.close()


def _journal(tmp_path: Path, size: int) -> dict[str, Any]:
    """A real journal whose one action printed ``size`` characters."""
    experiment = {
        "title": "a talkative action",
        "description": "makes the journal as large as asked",
        "method": [
            {
                "type": "action",
                "name": "talk",
                "provider": {
                    "type": "process",
                    "path": sys.executable,
                    "arguments": ["-c", f"print('x' * {size})"],
                },
            }
        ],
    }
    journal: dict[str, Any] = run_experiment(experiment, strategy=Strategy.DEFAULT)
    return journal


@pytest.mark.parametrize(("size", "key"), [(1000, "data"), (600_000, "binaryData")])
async def test_journals_are_read_plain_or_gzipped(
    kube: Kube, cluster: Cluster, namespace: str, tmp_path: Path, size: int, key: str
) -> None:
    journal = _journal(tmp_path, size)
    configmap = build_journal_configmap(
        journal_text=journal_to_json(journal),
        scenario="talky",
        run="1",
        namespace=namespace,
        owner_uid=None,
    )
    assert key in configmap
    apply(cluster, namespace, configmap)
    read = await kube.read_journal(namespace, "talky-1-journal")
    assert read is not None
    assert read["status"] == journal["status"]
    assert len(read["run"][0]["output"]["stdout"]) == size + 1
    assert await kube.read_journal(namespace, "absent-1-journal") is None


async def test_concurrent_status_writers_all_land(
    kube: Kube, cluster: Cluster, namespace: str
) -> None:
    apply(cluster, namespace, scenario("shared", {"experiment": {"name": "smoke"}}))

    def add(entry: str) -> Any:
        def mutate(body: Mapping[str, Any]) -> dict[str, Any]:
            history = list((body.get("status") or {}).get("history") or [])
            return {"history": [*history, {"id": entry}]}

        return mutate

    await asyncio.gather(*(kube.update_status(namespace, "shared", add(str(i))) for i in range(8)))
    stored = await kube.get_scenario(namespace, "shared")
    assert stored is not None
    ids = sorted(int(entry["id"]) for entry in stored["status"]["history"])
    assert ids == list(range(8))
    assert await kube.update_status(namespace, "shared", lambda _: None) is None
    assert await kube.update_status(namespace, "absent", lambda _: {"phase": "Error"}) is None


async def test_events_land_on_the_scenario(kube: Kube, cluster: Cluster, namespace: str) -> None:
    apply(cluster, namespace, scenario("noted", {"experiment": {"name": "smoke"}}))
    body = await kube.get_scenario(namespace, "noted")
    assert body is not None
    await kube.post_event(body, warning=True, reason="InvalidSpec", message="spec.x: bad")
    (event,) = events_of(cluster, namespace, "noted", "InvalidSpec")
    assert event["type"] == "Warning"
    assert event["message"] == "spec.x: bad"
    assert event["involvedObject"]["uid"] == body["metadata"]["uid"]
