"""Twenty scenarios applied at once: all complete, none lost or run twice, memory bounded.

The figures (time to all recorded, the operator's RSS before, during and after, its high-water
mark) are printed, not asserted on: they are compared between commits, as benchmarks are.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import yaml

from tests.e2e.product import Product, scenario_manifest
from tests.support.poll import wait_for

COUNT = 20
MIB = 1024 * 1024
MEMORY_BOUND = 300 * MIB
"""Generous: the operator idles near 100 MiB; a leak per scenario would blow past this."""
SMOKE = {
    "window_seconds": 6,
    "min_responses": 3,
    "load_wait_seconds": 60,
    "observe_seconds": 3,
}
LOAD = {"target": "http://front:8080/", "rate": "2/1s", "timeout": "3s"}


def mib(value: int | None) -> str:
    """Bytes as MiB for the report."""
    return "n/a" if value is None else f"{value / MIB:.1f} MiB"


def test_twenty_scenarios_at_once_each_run_exactly_once_memory_bounded(
    product: Product,
) -> None:
    names = [f"load-{i:02d}" for i in range(COUNT)]
    product.wait_steady()
    before = product.operator_memory()
    manifests = [
        scenario_manifest(name, experiment="smoke", configuration=SMOKE, load=LOAD, deadline=900)
        for name in names
    ]
    started = time.monotonic()
    product.kubectl(
        "apply", "-n", product.namespace, "-f", "-", input=yaml.safe_dump_all(manifests)
    )
    samples: list[dict[str, int]] = []
    missed: list[str] = []

    def all_recorded() -> dict[str, dict[str, Any]] | None:
        try:
            samples.append(product.operator_memory())
        except Exception as exc:  # a sample may fail under load; counted, the poll goes on
            missed.append(str(exc))
        scenarios = product.items("chaosscenarios")
        statuses = {
            s["metadata"]["name"]: s.get("status") or {}
            for s in scenarios
            if s["metadata"]["name"] in names
        }
        done = {
            n: st
            for n, st in statuses.items()
            if st.get("phase") in {"Completed", "Error"}
            and (st.get("lastRun") or {}).get("verdict")
        }
        return done if len(done) == COUNT else None

    statuses = wait_for(all_recorded, timeout=900, interval=2.0, what=f"{COUNT} runs recorded")
    elapsed = time.monotonic() - started
    after = product.operator_memory()
    peak_rss = max([s.get("VmRSS", 0) for s in samples] + [after.get("VmRSS", 0)])
    peak_cgroup = max([s.get("cgroup", 0) for s in samples] + [after.get("cgroup", 0)])
    verdicts = Counter(st["verdict"] for st in statuses.values())
    reasons = Counter(
        f"{st['verdict']}: {st['lastRun'].get('message', '')}" for st in statuses.values()
    )
    durations = sorted(float(st["lastRun"].get("durationSeconds", 0)) for st in statuses.values())
    print(
        f"\n{COUNT} smoke scenarios at once: all recorded in {elapsed:.1f}s; "
        f"verdicts {dict(verdicts)}; run durations {durations[0]:.1f}s..{durations[-1]:.1f}s"
    )
    print("outcomes: " + "; ".join(f"{n} x {why}" for why, n in reasons.most_common()))
    for name in [n for n, st in statuses.items() if st["verdict"] != "Pass"][:3]:
        # A hypothesis stops at its first failing probe: show each probe that ran.
        hypothesis = (product.journal(name, 1).get("steady_states") or {}).get("before") or {}
        for probe in hypothesis.get("probes") or []:
            print(
                f"  {name}: before the method, {probe['activity']['name']}: {probe.get('output')}"
            )
    print(
        f"operator memory: RSS before {mib(before.get('VmRSS'))}, "
        f"peak sampled {mib(peak_rss)} ({len(samples)} samples, {len(missed)} missed), "
        f"after {mib(after.get('VmRSS'))}, "
        f"high-water mark VmHWM {mib(after.get('VmHWM'))}; "
        f"cgroup before {mib(before.get('cgroup'))}, peak sampled {mib(peak_cgroup or None)}, "
        f"cgroup peak {mib(after.get('cgroup_peak'))}"
    )
    for name, status in statuses.items():
        assert status["phase"] == "Completed", f"{name}: {status.get('message')}"
        assert status["runs"] == 1, f"{name} ran {status['runs']} times"
        assert [h["id"] for h in status["history"]] == ["1"], f"{name}: {status['history']}"
    jobs = product.items("jobs", selector="ripple.dev/scenario")
    by_scenario = Counter(j["metadata"]["labels"]["ripple.dev/scenario"] for j in jobs)
    assert {n: by_scenario[n] for n in names} == dict.fromkeys(names, 1), "one Job each"
    assert sorted(
        j["metadata"]["name"]
        for j in jobs
        if j["metadata"]["labels"]["ripple.dev/scenario"] in names
    ) == sorted(f"{n}-1" for n in names)
    assert after["VmHWM"] < MEMORY_BOUND, f"operator high-water mark {mib(after['VmHWM'])}"
    product.delete_scenarios(names, timeout=300)
