"""The latency fault without netem: Toxiproxy in middle's pods, as the chart puts it there.

The demo comes from the chart itself (``demo.faultProxy.enabled=true``): middle's Service
targets the proxy, the proxy forwards to middle. The built-in
``middle-service-has-latency-proxy`` adds 1500 ms there; front's one-second timeout fires,
its users see ``stalled`` answers with an error, and the verdict is ``Fail``. The rollback
leaves no toxic behind. Latency at front during the fault is printed (``-s``).
"""

from __future__ import annotations

import json
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ripple_experiments.extension.load_results import percentiles, read_responses
from tests.cluster.experiments_support import load_args, start_run
from tests.support.chart import render, to_yaml
from tests.support.cluster import Cluster
from tests.support.demo import Demo, deploy_demo
from tests.support.poll import wait_for
from tests.support.ripple_in_cluster import IMAGE, image_in_cluster
from tests.support.runner import probe_output, vegeta_path

LOAD = "load-responses-carry-no-error"
TIMEOUT_SECONDS = 1.0
"""front's upstream timeout (the chart's demo.upstreamTimeoutSeconds)."""


@pytest.fixture(scope="module")
def vegeta() -> str:
    return vegeta_path()


@pytest.fixture
def demo(cluster: Cluster, namespace: str) -> Demo:
    """The chart's demo services with the fault proxy, in this test's namespace."""
    image_in_cluster(cluster)
    repository, _, tag = IMAGE.rpartition(":")
    rendered = render(
        namespace=namespace,
        set_values=[
            "demo.faultProxy.enabled=true",
            "demo.nodePort.enabled=false",
            f"image.repository={repository}",
            f"image.tag={tag}",
            "image.pullPolicy=Never",
        ],
    )
    demo_objects = [
        m
        for m in rendered.manifests
        if m["kind"] in {"Deployment", "Service", "ConfigMap"}
        and m["metadata"].get("labels", {}).get("app.kubernetes.io/component") == "demo"
    ]
    assert {m["metadata"]["name"] for m in demo_objects} >= {"front", "middle", "back"}
    return deploy_demo(cluster, namespace, to_yaml(demo_objects))


def middle_ip(demo: Demo) -> str:
    pods = demo.cluster.get_json(
        "pods", "-n", demo.namespace, "-l", "app.kubernetes.io/name=middle"
    )["items"]
    (pod,) = pods
    return str(pod["status"]["podIP"])


def toxics(ip: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"http://{ip}:8474/proxies/middle/toxics", timeout=5) as answer:
        found: list[dict[str, Any]] = json.loads(answer.read())
    return found


def test_middle_service_goes_through_the_proxy(demo: Demo) -> None:
    service = demo.cluster.get_json("service", "middle", "-n", demo.namespace)
    assert service["spec"]["ports"][0]["targetPort"] == "proxy"
    ip = middle_ip(demo)
    assert toxics(ip) == []
    with urllib.request.urlopen(f"http://{ip}:8474/proxies/middle", timeout=5) as answer:
        proxy = json.loads(answer.read())
    assert (proxy["upstream"], proxy["enabled"]) == ("127.0.0.1:8080", True), proxy


def test_proxy_latency_ripples_to_front_and_is_rolled_back(
    demo: Demo, cluster: Cluster, vegeta: str, tmp_path: Path
) -> None:
    ip = middle_ip(demo)
    run = start_run(
        cluster,
        tmp_path,
        "middle-service-has-latency-proxy",
        *load_args(demo, tmp_path, fault_seconds=15, window_seconds=10),
        vegeta=vegeta,
    )
    seen = wait_for(
        lambda: [t for t in toxics(ip) if t["name"] == "ripple-latency"],
        timeout=90,
        what="the latency toxic on middle's proxy during the method",
    )
    assert seen[0]["type"] == "latency"
    assert seen[0]["attributes"]["latency"] == 1500
    assert seen[0]["stream"] == "downstream"
    assert run.wait() == 0, "a Fail run exits 0\n" + run.log_text()
    journal = run.journal()
    add, proven = journal["run"]
    assert add["status"] == "succeeded", add
    assert proven["status"] == "succeeded", proven
    assert "toxic ripple-latency on 1 proxies" in proven["output"]["evidence"], proven
    (fault,) = journal["ripple_faults"]
    assert (fault["kind"], fault["inEffect"]) == ("ProxyLatency", True), fault
    after = probe_output(journal, "after", LOAD)
    assert after["failures"] > 0
    assert after["failures"] == after["error_bodies"], "front answered 200, with errors"
    assert any("middle" in message for message in after["sample_errors"]), after
    summary = run.summary()
    assert (summary["verdict"], summary["reason"]) == ("Fail", "Deviated"), summary
    assert [r["status"] for r in journal["rollbacks"]] == ["succeeded"]
    assert toxics(ip) == [], "the rollback removed the toxic"
    wait_for(demo.healthy, timeout=60, what="the chain healing once the toxic is gone")

    start = utc(fault["confirmedAt"])
    # A request sent within the delay of the rollback may be answered fresh: not counted.
    end = utc(journal["rollbacks"][0]["start"]) - timedelta(seconds=2)
    p50, p99, count = front_latency(tmp_path / "load" / "results.jsonl", start, end)
    print(
        f"\nfront during the proxy fault: {count} responses, p50 {p50:.3f}s, p99 {p99:.3f}s "
        f"(front's upstream timeout {TIMEOUT_SECONDS:g}s)"
    )
    assert count >= 10
    assert p50 >= TIMEOUT_SECONDS, "front waited its whole timeout for middle"
    assert p99 < 1500 / 1000 + TIMEOUT_SECONDS, "front answered before middle's delay ended"


def utc(stamp: str) -> datetime:
    """A journal's time stamp (Chaos Toolkit's carry no zone: they are UTC)."""
    at = datetime.fromisoformat(stamp)
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def front_latency(results: Path, start: datetime, end: datetime) -> tuple[float, float, int]:
    """p50 and p99 (seconds) of the load's responses sent between ``start`` and ``end``."""
    during = [r for r in read_responses(results, since=start) if r.at <= end]
    assert during, "no load response during the fault"
    assert all(r.code == 200 and r.stalled and r.body_error for r in during), during[:3]
    ranks = percentiles(r.latency_ms for r in during)
    return float(ranks["p50"] or 0) / 1000, float(ranks["p99"] or 0) / 1000, len(during)
