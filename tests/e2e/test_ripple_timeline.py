"""See the ripple: each run's stored timeline, ``ripple report``, and the pages in a browser.

With one middle replica the restart and the network-policy scenarios make front's users
see errors. Their timelines must show those errors inside the fault window (and its
recovery) only, attributed to the hop that broke; ``ripple report`` and
``kubectl ripple report`` must print them; the HTML report and the operator's page of the
run must load in Debian's Chromium with no console error and a chart drawn. Screenshots
go under ``$RIPPLE_TEST_ARTIFACTS`` (default ``~/.cache/ripple/artifacts``).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ripple_contract.names import journal_configmap_name
from ripple_contract.timeline import Timeline, from_configmap
from tests.e2e.product import CHART, DEMO, NAMESPACE, QUICK, RELEASE, Product, scenario_manifest
from tests.support.browser import look_at
from tests.support.cluster import CONTEXT
from tests.support.poll import wait_for

pytestmark = pytest.mark.e2e

RESTART = "ripple-restart"
NETPOL = "ripple-netpol"
RUN_TIMEOUT = 300
RECOVERY_SLACK = 10.0
"""Seconds after the fault's removal in which errors may still show (the recovery)."""
PAGES_SERVICE = f"{RELEASE}-pages"
PAGES_PORT = 8090
BIN = Path(sys.executable).parent


def artifacts(name: str) -> Path:
    base = os.environ.get("RIPPLE_TEST_ARTIFACTS") or os.path.join(
        os.environ.get("RIPPLE_CACHE", str(Path.home() / ".cache" / "ripple")), "artifacts"
    )
    path = Path(base) / "e2e-timeline" / name
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def chain(product: Product) -> Iterator[Product]:
    """The release with one middle replica (whatever ran before); scenarios removed after."""
    product.helm(
        "upgrade", RELEASE, str(CHART), "-n", NAMESPACE, "--reuse-values",
        "--set", "demo.resilient=false", "--wait", "--timeout", "5m",
    )  # fmt: skip
    product.rollout(*DEMO)
    product.wait_steady(timeout=90)
    yield product
    product.delete_scenarios([RESTART, NETPOL])


def stored_timeline(product: Product, scenario: str, run: int) -> Timeline:
    configmap = product.get("configmap", journal_configmap_name(scenario, str(run)))
    timeline = from_configmap(configmap.get("data"), configmap.get("binaryData"))
    assert timeline is not None, f"the journal ConfigMap of {scenario} run {run} has no timeline"
    return timeline


def assert_the_ripple(timeline: Timeline, culprit: str, *, seen: set[str]) -> None:
    """Errors inside the fault window (plus the recovery) only, at the hops ``seen``.

    Each error is counted at the hop its text names; the culprit is the deepest of them
    (front's one-second timer on middle may fire while middle still waits on back).
    """
    fault = timeline.fault
    assert fault is not None, "a fault window"
    failing = [b for b in timeline.buckets if b.failed]
    print(
        f"fault +{fault.start:.1f}s..+{fault.end:.1f}s ({fault.source}); failing seconds "
        + ", ".join(f"+{b.start:.0f}s:{b.errors}" for b in failing)
    )
    assert failing, "the fault rippled to front's users"
    early = [b.start for b in failing if b.start + timeline.bucket_seconds <= fault.start]
    late = [b.start for b in failing if b.start > fault.end + RECOVERY_SLACK]
    assert early == [], "no error before the fault"
    assert late == [], "no error long after the fault's removal"
    assert {key for b in failing for key in b.errors} == seen
    assert timeline.impact is not None
    assert timeline.impact.culprit == culprit
    assert timeline.impact.baseline.error_ratio == 0.0, "a clean baseline before the fault"
    assert timeline.impact.time_to_impact_seconds is not None


def report(product: Product, *args: str, plugin: bool = False) -> str:
    """Run ``ripple report`` (or ``kubectl ripple report``) as a user would; its stdout."""
    env = {**product.cluster.env(), "PATH": f"{BIN}{os.pathsep}{product.cluster.env()['PATH']}"}
    if plugin:
        cmd = [str(product.cluster.bindir / "kubectl"), "ripple", "report"]
    else:
        cmd = [str(BIN / "ripple"), "report"]
    cmd += [*args, "-n", product.namespace, "--context", CONTEXT]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, f"{' '.join(cmd)} exited {done.returncode}: {done.stderr}"
    assert "reading ChaosScenario" in done.stderr, "progress while it fetches"
    return done.stdout


def test_restart_timeline_shows_front_losing_middle(chain: Product) -> None:
    chain.wait_steady()
    chain.apply(
        scenario_manifest(
            RESTART,
            experiment="middle-service-restarts",
            configuration={**QUICK, "restart_timeout_seconds": 120},
        )
    )
    status = chain.wait_run(RESTART, run=1, timeout=RUN_TIMEOUT)
    assert status["verdict"] == "Fail", status.get("message")
    timeline = stored_timeline(chain, RESTART, 1)
    assert_the_ripple(timeline, "front->middle", seen={"front->middle"})
    impact = status["lastRun"]["impact"]
    assert impact["culprit"] == "front->middle"
    assert status["history"][0]["impact"] == impact
    text = report(chain, RESTART)
    print(text)
    assert f"{NAMESPACE}/{RESTART} run 1" in text
    assert "front → middle" in text
    for row in ("verdict", "fault", "errors", "success", "p99", "phases"):
        assert f"  {row} " in text, row


def test_network_timeline_shows_middle_losing_back_and_the_pages_draw_it(
    chain: Product,
) -> None:
    chain.wait_steady()
    chain.apply(
        scenario_manifest(
            NETPOL,
            experiment="middle-loses-network-to-back",
            configuration={**QUICK, "fault_seconds": 12},
        )
    )
    status = chain.wait_run(NETPOL, run=1, timeout=RUN_TIMEOUT)
    assert status["verdict"] == "Fail", status.get("message")
    timeline = stored_timeline(chain, NETPOL, 1)
    hops = {hop.key for hop in timeline.hops}
    assert_the_ripple(timeline, "middle->back", seen=hops)
    assert "middle->back" in hops
    assert hops <= {"middle->back", "front->middle"}, "nothing broke but middle's link to back"
    for hop in timeline.hops:
        print(f"{hop.label}: {hop.failed} ({hop.reasons}) e.g. {hop.samples}")
    out = artifacts("network")
    html = out / "report.html"
    text = report(chain, NETPOL, "--html", str(html), plugin=True)
    print(text)
    assert "middle → back" in text
    document = json.loads(report(chain, NETPOL, "--output", "json"))
    assert document["timeline"]["fault"] == json.loads(timeline.to_json())["fault"]
    look = asyncio.run(look_at(html.as_uri(), screenshot=out / "report.png"))
    print(f"report page: {look.title!r}, {look.drawn} traces drawn, screenshot {look.screenshot}")
    assert look.errors == []
    assert look.drawn > 0, "plotly drew the chart"
    assert "middle → back" in look.text
    with port_forward(chain) as base:
        url = f"{base}/scenarios/{NAMESPACE}/{NETPOL}/runs/1"
        look = asyncio.run(look_at(url, screenshot=out / "operator-page.png"))
    print(f"operator page: {look.title!r}, {look.drawn} traces drawn, screenshot {look.screenshot}")
    assert look.errors == []
    assert look.drawn > 0, "plotly drew the chart (plotly.js served by the operator)"
    assert "Fail" in look.text


class port_forward:  # noqa: N801 - used as a context manager, like contextlib's
    """``kubectl port-forward`` to the operator's pages Service; yields the local base URL."""

    def __init__(self, product: Product) -> None:
        self.product = product
        self.proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> str:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        cluster = self.product.cluster
        self.proc = subprocess.Popen(
            [
                str(cluster.bindir / "kubectl"), f"--kubeconfig={cluster.kubeconfig}",
                f"--context={CONTEXT}", "port-forward", "-n", self.product.namespace,
                f"service/{PAGES_SERVICE}", f"{port}:{PAGES_PORT}",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=cluster.env(),
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"

        def answers() -> bool:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    return True
            except OSError:
                assert self.proc is not None
                assert self.proc.poll() is None, "port-forward died"
                return False

        wait_for(answers, timeout=60, interval=0.5, what="kubectl port-forward to the pages")
        return base

    def __exit__(self, *_: object) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
