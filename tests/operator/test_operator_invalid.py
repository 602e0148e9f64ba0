"""Specs the API server accepts but that cannot run: Invalid, a message naming the field,
a Warning event, and no Job. And a missing ConfigMap: Pending until it appears."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.cluster import Cluster, KubectlError
from tests.support.operator import (
    apply,
    events_of,
    jobs_of,
    kopf_operator,
    quick_experiment,
    scenario,
    status_of,
    wait_for_status,
)
from tests.support.poll import wait_for

BROKEN_MODULE = {
    **quick_experiment(),
    "method": [
        {
            "type": "action",
            "name": "call-nowhere",
            "provider": {"type": "python", "module": "ripple_no_such_module", "func": "boom"},
        }
    ],
}

# name -> (spec, the field or problem the message must name)
INVALID: dict[str, tuple[dict[str, Any], str]] = {
    "unknown-builtin": ({"experiment": {"name": "no-such-experiment"}}, "spec.experiment.name"),
    "unknown-module": ({"experiment": {"inline": BROKEN_MODULE}}, "ripple_no_such_module"),
    "unknown-config-key": (
        {"experiment": {"name": "smoke"}, "configuration": {"windw_seconds": 3}},
        "spec.configuration.windw_seconds",
    ),
    "impossible-cron": (
        {"experiment": {"name": "smoke"}, "schedule": "61 * * * *"},
        "spec.schedule",
    ),
    "missing-key": (
        {"experiment": {"configMapRef": {"name": "holder", "key": "nope.json"}}},
        "spec.experiment.configMapRef.key",
    ),
    "not-an-experiment": (
        {"experiment": {"configMapRef": {"name": "holder", "key": "list.json"}}},
        "spec.experiment.configMapRef",
    ),
}


@pytest.mark.no_runs
def test_invalid_specs_end_invalid_with_no_job(cluster: Cluster, namespace: str) -> None:
    holder = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "holder"},
        "data": {"list.json": json.dumps([1, 2, 3])},
    }
    apply(cluster, namespace, holder)
    with kopf_operator(cluster, namespace):
        for name, (spec, _) in INVALID.items():
            apply(cluster, namespace, scenario(name, spec))
        for name, (_, needle) in INVALID.items():
            status = wait_for_status(
                cluster, namespace, name, timeout=60, what="phase Invalid", phase="Invalid"
            )
            assert needle in status["message"], (name, status["message"])
            valid = next(c for c in status["conditions"] if c["type"] == "Valid")
            assert valid["status"] == "False"
            assert status["observedGeneration"] == 1
            assert "runs" not in status
            warnings = wait_for(
                lambda name=name: events_of(cluster, namespace, name, "InvalidSpec"),
                timeout=30,
                what=f"{name}: InvalidSpec event",
            )
            assert warnings[0]["type"] == "Warning"
            assert needle in warnings[0]["message"]
        assert cluster.get_json("jobs", "-n", namespace)["items"] == []


@pytest.mark.no_runs
@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        ({"experiment": {"name": "smoke", "inline": quick_experiment()}}, "exactly one of"),
        ({"experiment": {}}, "exactly one of"),
        (
            {"experiment": {"name": "smoke"}, "load": {"target": "http://f/", "rate": "5/s"}},
            "spec.load.rate",
        ),
        (
            {"experiment": {"name": "smoke"}, "load": {"target": "http://f/", "timeout": "5m"}},
            "load.timeout",
        ),
        ({"experiment": {"name": "smoke"}, "schedule": "every day"}, "spec.schedule"),
        (
            {"experiment": {"name": "smoke"}, "activeDeadlineSeconds": 999999999},
            "activeDeadlineSeconds",
        ),
        ({"experiment": {"name": "smoke"}, "rollbackStrategy": "sometimes"}, "rollbackStrategy"),
        ({"experiment": {"inline": {"title": "no method"}}}, "spec.experiment.inline.method"),
    ],
    ids=["two-sources", "no-source", "rate", "timeout", "cron", "deadline", "strategy", "inline"],
)
def test_malformed_specs_are_refused_at_apply(
    cluster: Cluster, namespace: str, spec: dict[str, Any], needle: str
) -> None:
    with pytest.raises(KubectlError) as refused:
        apply(cluster, namespace, scenario("refused", spec))
    assert needle in str(refused.value)


def test_a_missing_configmap_waits_then_runs(cluster: Cluster, namespace: str) -> None:
    spec = {"experiment": {"configMapRef": {"name": "later", "key": "exp.yaml"}}}
    with kopf_operator(cluster, namespace):
        apply(cluster, namespace, scenario("waits", spec))
        status = wait_for_status(
            cluster, namespace, "waits", timeout=60, what="phase Pending", phase="Pending"
        )
        assert "waiting for ConfigMap 'later'" in status["message"]
        assert jobs_of(cluster, namespace, "waits") == []
        import yaml

        later = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "later"},
            "data": {"exp.yaml": yaml.safe_dump(quick_experiment(title="from a ConfigMap"))},
        }
        apply(cluster, namespace, later)
        done = wait_for_status(
            cluster, namespace, "waits", timeout=180, what="phase Completed", phase="Completed"
        )
        assert done["verdict"] == "Pass", done
        assert done["experiment"] == "later/exp.yaml"
        assert status_of(cluster, namespace, "waits")["runs"] == 1
