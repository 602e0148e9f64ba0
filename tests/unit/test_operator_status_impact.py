"""The impact summary travels from the runner's journal into lastRun and history, unpruned."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from ripple_contract.names import JOURNAL_IMPACT_KEY
from ripple_experiments.timeline import build_timeline, with_impact
from ripple_operator.status import JobOutcome, RunInfo, history_entry, impact_entry, run_record

TOP = Path(__file__).parents[2]
DATA = TOP / "tests" / "unit" / "data" / "timeline" / "back-restarts"
CRD = TOP / "crds" / "chaosscenarios.ripple.dev.yaml"
INFO = RunInfo(run="1", job="s-1", trigger="create", journal_configmap="s-1-journal")


def journal_with_impact() -> dict[str, Any]:
    journal = json.loads((DATA / "journal.json").read_text())
    return with_impact(journal, build_timeline(DATA / "results.jsonl", journal))


def status_schema() -> dict[str, Any]:
    crd = yaml.safe_load(CRD.read_text())
    schema: dict[str, Any] = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return schema["properties"]["status"]["properties"]  # type: ignore[no-any-return]


def undeclared(value: Any, schema: dict[str, Any], path: str = "") -> list[str]:
    """Fields of ``value`` the schema does not declare (the API server would prune them)."""
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        found = [f"{path}.{k}" for k in value if k not in props]
        for key, item in value.items():
            if key in props:
                found += undeclared(item, props[key], f"{path}.{key}")
        return found
    if isinstance(value, list):
        return [p for item in value for p in undeclared(item, schema.get("items") or {}, path)]
    return []


def test_last_run_and_history_keep_the_impact_the_crd_declares() -> None:
    record = run_record(
        info=INFO, journal=journal_with_impact(), outcome=JobOutcome(succeeded=True)
    )
    impact = record["impact"]
    assert impact["culprit"] == "middle->back"
    assert impact["recovered"] is True
    assert impact["baseline"]["errorRatio"] == 0.0
    assert impact["timeToImpactSeconds"] < 1
    assert history_entry(record)["impact"] == impact
    schema = status_schema()
    assert undeclared(record, schema["lastRun"]) == []
    assert undeclared(history_entry(record), schema["history"]["items"]) == []


def test_a_journal_without_impact_or_with_a_broken_one_has_none() -> None:
    journal = json.loads((DATA / "journal.json").read_text())
    journal.pop(JOURNAL_IMPACT_KEY, None)
    assert "impact" not in run_record(
        info=INFO, journal=journal, outcome=JobOutcome(succeeded=True)
    )
    assert impact_entry({"baseline": "nonsense"}) is None
    assert impact_entry(None) is None
