"""Monitoring for real: the cluster's Prometheus Operator scrapes what the chart renders.

The local cluster runs the Prometheus Operator and one Prometheus selecting ServiceMonitors
and PrometheusRules labelled ``app.kubernetes.io/part-of=ripple`` (hack/cluster.d/
prometheus.sh). This module installs a release of its own in a namespace of its own (the
end-to-end suite's values plus ServiceMonitors scraped every 5 s and ``prometheus.url``,
watching only that namespace), so it runs beside other tests; everything is asked of
Prometheus's API.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from tests.e2e.product import CHART, DEMO, LOAD, QUICK, TOP, VALUES, Product, scenario_manifest
from tests.support import prometheus as prom
from tests.support.chart import helm
from tests.support.cluster import Cluster
from tests.support.poll import wait_for
from tests.support.ripple_in_cluster import apply_crd, image_in_cluster

pytestmark = pytest.mark.cluster

NAMESPACE = "ripple-prom"
RELEASE = "ripple-prom"

RUN_TIMEOUT = 300
SCRAPE_SLACK = 12.0
"""Seconds after a moment by which Prometheus has scraped it (5 s scrapes, 5 s evaluations)."""
FRONT_STALLED = f'ripple_stalled_answers_total{{namespace="{NAMESPACE}",service="front"}}'
ALERT = "RipplePromFrontStalling"
SLO_EXAMPLE = TOP / "examples" / "prometheus" / "front-slo.json"


def seconds(stamp: str) -> float:
    return datetime.fromisoformat(stamp).timestamp()


def scraped_past(moment: float) -> bool:
    """Whether front's counter has a sample later than ``moment``."""
    series = prom.query(f"timestamp({FRONT_STALLED})")
    return bool(series) and float(series[0]["value"][1]) > moment


@pytest.fixture(scope="module")
def monitored(cluster: Cluster) -> Iterator[Product]:
    assert prom.is_up(), f"no Prometheus at {prom.host_url()}: hack/cluster up brings it"
    image_in_cluster(cluster)
    product = Product(cluster=cluster, helm_path=helm(), namespace=NAMESPACE, release=RELEASE)
    if cluster.kubectl("get", "namespace", NAMESPACE, check=False).returncode == 0:
        product.helm("uninstall", RELEASE, "-n", NAMESPACE, "--wait", "--ignore-not-found")
        cluster.kubectl("delete", "namespace", NAMESPACE, "--timeout=240s")
    cluster.kubectl("create", "namespace", NAMESPACE)
    apply_crd(cluster, CHART / "crds")
    product.helm(
        "upgrade", "--install", RELEASE, str(CHART), "-n", NAMESPACE, "--values", str(VALUES),
        "--set", f"operator.watchNamespaces={{{NAMESPACE}}}",
        "--set", f"runner.namespaces={{{NAMESPACE}}}",
        "--set", "serviceMonitor.enabled=true", "--set", "serviceMonitor.interval=5s",
        "--set", f"prometheus.url={prom.CLUSTER_URL}",
        "--wait", "--timeout", "5m",
    )  # fmt: skip
    product.rollout(RELEASE, *DEMO)
    product.wait_steady(timeout=120)
    try:
        yield product
    finally:
        product.kubectl(
            "delete", "prometheusrule", "ripple-prom-front-stalling", "-n", NAMESPACE,
            "--ignore-not-found",
        )  # fmt: skip
        product.delete_scenarios()
        product.helm("uninstall", RELEASE, "-n", NAMESPACE, "--wait", "--timeout", "3m")
        cluster.kubectl("delete", "namespace", NAMESPACE, "--wait=false", check=False)


def test_prometheus_scrapes_front_middle_back_and_the_operator(monitored: Product) -> None:
    expected = {"front", "middle", "back", f"{RELEASE}-metrics"}

    def all_up() -> dict[str, str] | None:
        health = {
            t["labels"].get("service", ""): t["health"]
            for t in prom.active_targets()
            if t["labels"].get("namespace") == NAMESPACE
        }
        return health if all(health.get(s) == "up" for s in expected) else None

    health = wait_for(all_up, timeout=120, interval=2.0, what=f"targets {expected} up")
    assert expected <= set(health)
    up = prom.query(f'up{{namespace="{NAMESPACE}"}} == 1')
    assert {s["metric"]["service"] for s in up} >= expected


def test_a_failing_run_shows_in_prometheus(monitored: Product) -> None:
    monitored.wait_steady(timeout=90)
    fails = f'ripple_runs_total{{namespace="{NAMESPACE}",verdict="Fail"}}'
    before = prom.value(fails) or 0.0
    monitored.apply(
        scenario_manifest(
            "prom-netpol",
            experiment="middle-loses-network-to-back",
            configuration={**QUICK, "fault_seconds": 15},
        )
    )
    status = monitored.wait_run("prom-netpol", run=1, timeout=RUN_TIMEOUT)
    last = status["lastRun"]
    assert last["verdict"] == "Fail", last
    (fault,) = last["fault"]
    start, injected, removed = (
        seconds(last["start"]),
        seconds(fault["injectedAt"]),
        seconds(fault["removedAt"]),
    )

    # The operator's counter, with the run's verdict, is queryable.
    wait_for(
        lambda: (prom.value(fails) or 0.0) >= before + 1,
        timeout=60,
        interval=2.0,
        what=f"{fails} to count the run",
    )
    # front's stalled answers rose inside the fault window, and not before it.
    wait_for(
        lambda: scraped_past(removed + SCRAPE_SLACK),
        timeout=60,
        interval=2.0,
        what="a scrape after the fault",
    )
    at_start = prom.value(FRONT_STALLED, at=start)
    at_injection = prom.value(FRONT_STALLED, at=injected)
    after = prom.value(FRONT_STALLED, at=removed + SCRAPE_SLACK)
    print(f"front stalled answers: {at_start} at start, {at_injection} at injection, {after} after")
    assert at_start is not None, "front's counter was scraped before the run"
    assert at_injection is not None
    assert after is not None
    assert at_injection == at_start, "no stalled answer before the fault"
    assert after > at_injection, "front answered stalled while middle lost back"


def slo_query() -> str:
    experiment = json.loads(SLO_EXAMPLE.read_text(encoding="utf-8"))
    (probe,) = [
        p
        for p in experiment["steady-state-hypothesis"]["probes"]
        if p["provider"].get("module") == "chaosprometheus.probes"
    ]
    query: str = probe["provider"]["arguments"]["query"]
    return query.replace("${namespace}", NAMESPACE).replace("${slo_window}", "30s")


def probe_of(journal: dict[str, Any], when: str, name: str) -> dict[str, Any]:
    probes = journal["steady_states"][when]["probes"]
    (found,) = [p for p in probes if p["activity"]["name"] == name]
    return found  # type: ignore[no-any-return]


def test_a_promql_steady_state_holds_when_healthy_and_deviates_under_the_fault(
    monitored: Product,
) -> None:
    """The README's ConfigMap example: front's stalled-answer ratio over 30 s below 1 %."""
    monitored.wait_steady(timeout=90)
    slo = slo_query()
    wait_for(
        lambda: prom.value(slo) == 1.0,
        timeout=120,
        interval=2.0,
        what="front within its SLO before the run",
    )
    manifest = monitored.kubectl(
        "create", "configmap", "prom-slo", "-n", NAMESPACE,
        f"--from-file=experiment.json={SLO_EXAMPLE}", "--dry-run=client", "-o", "yaml",
    ).stdout  # fmt: skip
    monitored.kubectl("apply", "-n", NAMESPACE, "-f", "-", input=manifest)
    monitored.apply(
        {
            "apiVersion": "ripple.dev/v1alpha1",
            "kind": "ChaosScenario",
            "metadata": {"name": "prom-slo"},
            "spec": {
                "experiment": {"configMapRef": {"name": "prom-slo", "key": "experiment.json"}},
                "configuration": {"fault_seconds": 20},
                "load": dict(LOAD),
                "activeDeadlineSeconds": 300,
            },
        }
    )
    status = monitored.wait_run("prom-slo", run=1, timeout=RUN_TIMEOUT)
    last = status["lastRun"]
    journal = monitored.journal("prom-slo", 1)
    name = "front-stalled-answers-below-1-percent"
    healthy = probe_of(journal, "before", name)
    faulty = probe_of(journal, "after", name)
    print(f"SLO before: {healthy['output']['data']}, after: {faulty['output']['data']}")
    assert healthy["tolerance_met"] is True, "the SLO held before the fault"
    assert healthy["output"]["data"]["result"][0]["value"][1] == "1"
    assert faulty["tolerance_met"] is False, "the SLO broke under the fault"
    assert faulty["output"]["data"]["result"][0]["value"][1] == "0"
    assert (last["verdict"], last["reason"]) == ("Fail", "Deviated"), last
    assert name in last["message"]


def test_a_firing_alert_aborts_the_run_and_the_rollback_plays(monitored: Product) -> None:
    """A PrometheusRule alert that starts firing mid-run stops it: Error, Aborted, rolled back."""
    monitored.wait_steady(timeout=90)
    monitored.apply(
        {
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "PrometheusRule",
            "metadata": {"name": "ripple-prom-front-stalling", "labels": prom.SELECTED_LABEL},
            "spec": {
                "groups": [
                    {
                        "name": "ripple-prom",
                        "interval": "5s",
                        "rules": [
                            {
                                "alert": ALERT,
                                "expr": f"increase({FRONT_STALLED}[20s]) > 0",
                                "labels": {"severity": "critical"},
                            }
                        ],
                    }
                ]
            },
        }
    )
    firing = f'ALERTS{{alertname="{ALERT}",alertstate="firing"}}'

    def loaded_and_quiet() -> bool:
        groups = prom.api("rules", type="alert")["groups"]
        rules = [r for g in groups for r in g["rules"] if r["name"] == ALERT]
        return bool(rules) and rules[0]["state"] == "inactive" and not prom.query(firing)

    wait_for(loaded_and_quiet, timeout=120, interval=2.0, what=f"{ALERT} loaded and not firing")
    fault_seconds = 120
    monitored.apply(
        scenario_manifest(
            "prom-safeguard",
            experiment="middle-loses-network-to-back",
            configuration={**QUICK, "fault_seconds": fault_seconds},
            safeguards={"intervalSeconds": 3, "conditions": [{"alert": ALERT}]},
        )
    )
    status = monitored.wait_run("prom-safeguard", run=1, timeout=RUN_TIMEOUT)
    last = status["lastRun"]
    print(f"lastRun: {last['verdict']} {last['reason']}: {last['message']}")
    assert (last["verdict"], last["reason"]) == ("Error", "Aborted"), last
    assert ALERT in last["message"]
    assert last["durationSeconds"] < fault_seconds, "stopped mid-run, not at the fault's end"
    rollbacks = {r["name"]: r["status"] for r in last["rollbacks"]}
    assert rollbacks == {"allow-ingress-to-back-again": "succeeded"}
    assert monitored.names("networkpolicies") == [], "the fault was rolled back"
    (fault,) = last["fault"]
    injected = seconds(fault["injectedAt"])
    assert not prom.query(firing, at=injected), "the alert was not firing when the fault began"
    end = seconds(last["end"])
    during = f"max_over_time({firing}[{int(end - injected) + 1}s])"
    assert prom.query(during, at=end), "the alert fired during the run"
    monitored.wait_steady(timeout=90)
