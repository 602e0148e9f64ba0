"""The shipped experiments: valid for chaostoolkit-lib, consistent, and fully configurable."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from chaoslib.experiment import ensure_experiment_is_valid

from ripple_experiments import builtin as catalog

SHIPPED = [
    "middle-loses-network-to-back",
    "middle-service-has-latency",
    "middle-service-has-latency-proxy",
    "middle-service-restarts",
    "smoke",
]
PATTERN = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


def experiment(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(catalog.read_text(name))
    return document


def placeholders(node: Any) -> set[str]:
    """Every ``${key}`` used anywhere in a document."""
    if isinstance(node, str):
        return set(PATTERN.findall(node))
    if isinstance(node, dict):
        return set().union(*(placeholders(v) for v in node.values())) if node else set()
    if isinstance(node, list):
        return set().union(*(placeholders(v) for v in node)) if node else set()
    return set()


def test_the_catalog_lists_the_shipped_experiments() -> None:
    assert catalog.names() == SHIPPED
    assert catalog.find("no-such-experiment") is None
    with pytest.raises(KeyError):
        catalog.read_text("no-such-experiment")


@pytest.mark.parametrize("name", SHIPPED)
def test_experiment_validates_with_every_provider_resolvable(name: str) -> None:
    # ensure_experiment_is_valid imports every Python provider and binds its arguments
    ensure_experiment_is_valid(experiment(name))


@pytest.mark.parametrize("name", SHIPPED)
def test_every_placeholder_is_a_configuration_key_and_every_key_is_used(name: str) -> None:
    document = experiment(name)
    configuration = set(document["configuration"])
    used = placeholders({k: v for k, v in document.items() if k != "configuration"})
    assert used <= configuration, f"undeclared: {used - configuration}"
    # every experiment declares namespace so a scenario can always set it, smoke included
    assert configuration - used - {"namespace"} == set(), "declared but never used"


@pytest.mark.parametrize("name", SHIPPED)
def test_all_share_one_steady_state_hypothesis_after_their_preflight(name: str) -> None:
    shared = experiment("smoke")["steady-state-hypothesis"]
    hypothesis = experiment(name)["steady-state-hypothesis"]
    assert hypothesis["title"] == shared["title"]
    probes = hypothesis["probes"]
    assert probes[-len(shared["probes"]) :] == shared["probes"]
    preflight = probes[: -len(shared["probes"])]
    assert bool(preflight) is (name != "smoke"), "every fault is preceded by a preflight"
    for probe in preflight:
        assert probe["provider"]["module"] == "ripple_experiments.extension.preflight"
        assert probe["tolerance"] is True
        assert probe["name"].startswith("preflight-")


def test_the_hypothesis_requires_load_data_and_front_200() -> None:
    probes = experiment("smoke")["steady-state-hypothesis"]["probes"]
    assert probes[0]["provider"] == {"type": "http", "url": "${front_url}", "timeout": 3}
    assert probes[0]["tolerance"] == 200
    tolerance = probes[1]["tolerance"]["provider"]
    assert (tolerance["module"], tolerance["func"]) == (
        "ripple_experiments.extension.load_results",
        "no_failures",
    )
    assert tolerance["arguments"] == {"min_responses": "${min_responses}"}


@pytest.mark.parametrize(
    ("name", "fault", "check", "rollback"),
    [
        (
            "middle-service-has-latency",
            "ripple_experiments.extension.faults.add_network_chaos",
            "ripple_experiments.extension.in_effect.network_chaos_injected",
            "ripple_experiments.extension.faults.delete_network_chaos",
        ),
        (
            "middle-service-has-latency-proxy",
            "ripple_experiments.extension.fault_proxy.add_proxy_latency",
            "ripple_experiments.extension.in_effect.proxy_latency_in_effect",
            "ripple_experiments.extension.fault_proxy.remove_proxy_latency",
        ),
        (
            "middle-loses-network-to-back",
            "chaosk8s.networking.actions.create_network_policy",
            "ripple_experiments.extension.in_effect.network_policy_blocks",
            "chaosk8s.networking.actions.remove_network_policy",
        ),
        (
            "middle-service-restarts",
            "ripple_experiments.extension.faults.terminate_pod",
            "ripple_experiments.extension.in_effect.pod_replaced",
            None,
        ),
    ],
)
def test_faults_their_proof_and_their_rollbacks(
    name: str, fault: str, check: str, rollback: str | None
) -> None:
    """Each fault is followed by the check that it is in effect, which waits out the window."""
    document = experiment(name)

    def call(activity: dict[str, Any]) -> str:
        return f"{activity['provider']['module']}.{activity['provider']['func']}"

    assert call(document["method"][0]) == fault
    assert call(document["method"][1]) == check
    assert "pauses" not in document["method"][0]
    assert document["method"][1]["provider"]["arguments"]["timeout_seconds"] == (
        "${fault_check_seconds}"
    )
    assert [call(a) for a in document["rollbacks"]] == ([rollback] if rollback else [])


def test_defaults_follow_the_chart_and_the_demo() -> None:
    latency = experiment("middle-service-has-latency")["configuration"]
    assert latency["latency"] == "1500ms"
    assert latency["middle_selector"] == "app.kubernetes.io/name=middle"
    proxy = experiment("middle-service-has-latency-proxy")["configuration"]
    assert proxy["latency_ms"] == 1500
    assert proxy["middle_selector"] == latency["middle_selector"]
    assert proxy["fault_seconds"] == latency["fault_seconds"]
    network = experiment("middle-loses-network-to-back")["configuration"]
    assert network["back_pod_labels"] == {"app.kubernetes.io/name": "back"}
    for name in SHIPPED:
        configuration = experiment(name)["configuration"]
        assert configuration["front_url"] == "http://front:8080/"
        assert configuration["load_results_dir"] == "/var/run/ripple/load"
        assert configuration["namespace"] == "default"
