"""The cluster's Prometheus Operator and Prometheus, and the runner's safeguards against them.

The runner runs here as a real ``ripple run-experiment`` process, asking the real Prometheus
(its NodePort) every second; no image, no chart.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from chaoslib.exceptions import ActivityFailed

from ripple_contract.names import JOURNAL_SAFEGUARD_KEY
from ripple_experiments.extension import prometheus as probe
from tests.support import prometheus as prom
from tests.support.cluster import Cluster
from tests.support.runner import start_runner

pytestmark = pytest.mark.cluster

NEVER = "vector(1) > 2"
ALWAYS = "vector(1)"


def test_the_operator_runs_prometheus_from_its_resource(cluster: Cluster) -> None:
    resource = cluster.get_json("prometheus", "ripple", "-n", prom.NAMESPACE)
    conditions = {c["type"]: c["status"] for c in resource["status"]["conditions"]}
    assert conditions.get("Available") == "True", resource["status"]
    assert conditions.get("Reconciled") == "True", resource["status"]
    assert resource["spec"]["serviceMonitorSelector"] == {"matchLabels": prom.SELECTED_LABEL}
    assert resource["spec"]["ruleSelector"] == {"matchLabels": prom.SELECTED_LABEL}
    statefulset = cluster.get_json("statefulset", "prometheus-ripple", "-n", prom.NAMESPACE)
    containers = {c["name"] for c in statefulset["spec"]["template"]["spec"]["containers"]}
    assert containers == {"prometheus", "config-reloader"}, "the operator's own pod layout"
    assert prom.api("status/buildinfo")["version"] == "3.16.0"


def test_the_safeguard_probe_asks_prometheus() -> None:
    assert probe.no_series(NEVER, prom.host_url(), safeguard="never") is True
    assert probe.no_series(ALWAYS, prom.host_url(), safeguard="always") is False
    assert probe.answer_of("always") == "vector(1) returned 1 series ({} 1)"
    with pytest.raises(ActivityFailed, match="Prometheus refused the query"):
        probe.no_series("sum(", prom.host_url(), safeguard="bad")
    with pytest.raises(ActivityFailed, match="cannot ask Prometheus"):
        probe.no_series(ALWAYS, "http://127.0.0.1:1", safeguard="away")
    assert probe.answer_of("away").startswith("could not be checked: cannot ask Prometheus")


def experiment(tmp_path: Path, *, method_seconds: int) -> Path:
    """A method that waits, a rollback that leaves a mark, a PromQL steady state."""
    document: dict[str, Any] = {
        "title": "waits under a safeguard",
        "description": "a method that only waits, so only a safeguard can stop it early",
        "configuration": {"prometheus_base_url": "http://localhost:9090"},
        "steady-state-hypothesis": {
            "title": "Prometheus answers",
            "probes": [
                {
                    "type": "probe",
                    "name": "prometheus-answers-one",
                    "tolerance": {
                        "type": "jsonpath",
                        "path": "$.data.result[0].value[1]",
                        "expect": "1",
                    },
                    "provider": {
                        "type": "python",
                        "module": "chaosprometheus.probes",
                        "func": "query",
                        "arguments": {"query": "vector(1)"},
                    },
                }
            ],
        },
        "method": [
            {
                "type": "action",
                "name": "wait",
                "provider": {
                    "type": "process",
                    "path": sys.executable,
                    "arguments": ["-c", f"import time; time.sleep({method_seconds})"],
                },
            }
        ],
        "rollbacks": [
            {
                "type": "action",
                "name": "leave-a-mark",
                "provider": {
                    "type": "process",
                    "path": sys.executable,
                    "arguments": ["-c", f"open({str(tmp_path / 'rolled-back')!r}, 'w')"],
                },
            }
        ],
    }
    path = tmp_path / "experiment.json"
    path.write_text(json.dumps(document))
    return path


def run(tmp_path: Path, *args: str, method_seconds: int) -> tuple[int, dict[str, Any], float]:
    started = time.monotonic()
    runner = start_runner(
        tmp_path,
        None,
        str(experiment(tmp_path, method_seconds=method_seconds)),
        "--safeguard-interval",
        "1",
        *args,
    )
    code = runner.wait(timeout=180)
    print(runner.log_text()[-3000:])
    return code, runner.journal(), time.monotonic() - started


def test_a_safeguard_that_never_holds_lets_the_run_pass(tmp_path: Path) -> None:
    code, journal, _ = run(
        tmp_path,
        "--prometheus-url",
        prom.host_url(),
        "--safeguard",
        f"never={NEVER}",
        method_seconds=4,
    )
    assert code == 0
    assert journal["status"] == "completed"
    assert JOURNAL_SAFEGUARD_KEY not in journal
    # chaostoolkit-prometheus asked the URL the runner was given, not its own default
    assert journal["steady_states"]["after"]["steady_state_met"] is True
    assert "steady state held" in journal["ripple_note"]


def test_a_safeguard_that_holds_aborts_the_run_and_the_rollback_plays(tmp_path: Path) -> None:
    code, journal, took = run(
        tmp_path,
        "--prometheus-url",
        prom.host_url(),
        "--safeguard",
        f"never={NEVER}",
        "--safeguard",
        f"always={ALWAYS}",
        method_seconds=120,
    )
    assert code == 1, "an aborted run is an Error"
    assert journal[JOURNAL_SAFEGUARD_KEY] == "always: vector(1) returned 1 series ({} 1)"
    assert journal["ripple_note"].startswith("aborted by safeguard always: vector(1)")
    assert [(r["activity"]["name"], r["status"]) for r in journal["rollbacks"]] == [
        ("leave-a-mark", "succeeded")
    ]
    assert (tmp_path / "rolled-back").exists()
    assert took < 60, f"stopped within seconds of the safeguard, not after the method ({took}s)"


def test_a_safeguard_that_cannot_ask_prometheus_aborts_too(tmp_path: Path) -> None:
    code, journal, _ = run(
        tmp_path,
        "--prometheus-url",
        "http://127.0.0.1:1",
        "--safeguard",
        f"blind={NEVER}",
        "--configuration",
        f"prometheus_base_url={prom.host_url()}",
        method_seconds=120,
    )
    assert code == 1
    assert journal[JOURNAL_SAFEGUARD_KEY].startswith(
        "blind: could not be checked: cannot ask Prometheus at http://127.0.0.1:1"
    )
    assert (tmp_path / "rolled-back").exists()
