"""The operator idle with 1 000 scheduled scenarios (due once a year) in 10 namespaces.

Prints the operator's API requests per second while nothing is due, counted twice: by the
API server's audit log (``hack/cluster`` logs every ServiceAccount's requests; the operator
runs as its own ServiceAccount here, so the count is the server's, not the operator's word)
and by the operator's own HTTP client (every aiohttp request of the process, counted in it);
beside them its CPU share of one core and its RSS over the same window.

Knobs: RIPPLE_BENCH_IDLE_SCENARIOS (1000), RIPPLE_BENCH_IDLE_SECONDS (120).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client, config

from tests.support.cluster import Cluster
from tests.support.operator import operator_env
from tests.support.poll import wait_for

COUNT = int(os.environ.get("RIPPLE_BENCH_IDLE_SCENARIOS", "1000"))
WINDOW = float(os.environ.get("RIPPLE_BENCH_IDLE_SECONDS", "120"))
NAMESPACES = 10
ACCOUNT = "ripple-bench-operator"
QUIET = 20.0
YEARLY = {"experiment": {"name": "smoke"}, "schedule": "0 0 1 1 *"}

# Counts every HTTP request the operator's process makes (Kopf's and ripple's clients
# both use aiohttp) and writes the count to a file once a second.
COUNTER = """
import aiohttp, threading, time, os
_count = [0]
_request = aiohttp.ClientSession._request
async def _counted(self, *args, **kwargs):
    _count[0] += 1
    return await _request(self, *args, **kwargs)
aiohttp.ClientSession._request = _counted
def _write():
    while True:
        with open(os.environ["RIPPLE_BENCH_COUNT_FILE"], "w") as out:
            out.write(str(_count[0]))
        time.sleep(0.5)
threading.Thread(target=_write, daemon=True).start()
"""


def audit_log(cluster: Cluster) -> Path:
    return cluster.kubeconfig.parent / "audit" / "audit.log"


def audited(path: Path, user: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """The audit events of ``user``'s requests received in [start, end), one per request."""
    seen: dict[str, dict[str, Any]] = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if user not in line:
            continue
        event = json.loads(line)
        if event.get("user", {}).get("username") != user:
            continue
        received = datetime.fromisoformat(event["requestReceivedTimestamp"].replace("Z", "+00:00"))
        if start <= received < end:
            seen.setdefault(event["auditID"], event)
    return list(seen.values())


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def account_kubeconfig(cluster: Cluster, namespace: str, path: Path) -> str:
    """A kubeconfig that logs in as the ServiceAccount ``ACCOUNT`` (cluster-admin here)."""
    cluster.kubectl("create", "serviceaccount", ACCOUNT, "-n", namespace)
    cluster.kubectl(
        "create",
        "clusterrolebinding",
        f"{namespace}-operator",
        "--clusterrole=cluster-admin",
        f"--serviceaccount={namespace}:{ACCOUNT}",
    )
    token = cluster.kubectl(
        "create", "token", ACCOUNT, "-n", namespace, "--duration=2h"
    ).stdout.strip()
    admin = yaml.safe_load(cluster.kubeconfig.read_text())
    cluster_entry = admin["clusters"][0]
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [cluster_entry],
                "users": [{"name": ACCOUNT, "user": {"token": token}}],
                "contexts": [
                    {
                        "name": ACCOUNT,
                        "context": {"cluster": cluster_entry["name"], "user": ACCOUNT},
                    }
                ],
                "current-context": ACCOUNT,
            }
        )
    )
    return f"system:serviceaccount:{namespace}:{ACCOUNT}"


def create_scenarios(api: client.ApiClient, namespaces: list[str]) -> None:
    """COUNT yearly scenarios, each marked as having had its create run (none starts)."""
    custom = client.CustomObjectsApi(api)
    for i in range(COUNT):
        ns = namespaces[i % len(namespaces)]
        body = {
            "apiVersion": "ripple.dev/v1alpha1",
            "kind": "ChaosScenario",
            "metadata": {"name": f"yearly-{i}"},
            "spec": YEARLY,
        }
        created = custom.create_namespaced_custom_object(
            "ripple.dev", "v1alpha1", ns, "chaosscenarios", body
        )
        created["status"] = {"observedGeneration": 1, "observedRerun": "", "phase": "Completed"}
        custom.replace_namespaced_custom_object_status(
            "ripple.dev", "v1alpha1", ns, "chaosscenarios", created["metadata"]["name"], created
        )


@pytest.mark.bench
@pytest.mark.usefixtures("crd")
def test_bench_operator_idle(cluster: Cluster, namespace: str, tmp_path: Path) -> None:
    log = audit_log(cluster)
    assert log.exists(), f"no audit log at {log}: restart the API server (hack/cluster)"
    user = account_kubeconfig(cluster, namespace, tmp_path / "operator.kubeconfig")
    namespaces = [f"{namespace[:50]}-{i}" for i in range(NAMESPACES)]
    for ns in namespaces:
        cluster.kubectl("create", "namespace", ns)
    api = config.new_client_from_config(str(cluster.kubeconfig))
    started = time.monotonic()
    create_scenarios(api, namespaces)
    print(f"\n{COUNT} scenarios created in {time.monotonic() - started:.1f}s")
    count_file = tmp_path / "requests"
    env = {
        **os.environ,
        **operator_env(cluster),
        "KUBECONFIG": str(tmp_path / "operator.kubeconfig"),
        "RIPPLE_BENCH_COUNT_FILE": str(count_file),
    }
    command = ["operator"] + [arg for ns in namespaces for arg in ("-n", ns)]
    run = (
        f"{COUNTER}\nfrom ripple_contract.commands import main\nraise SystemExit(main({command!r}))"
    )
    custom = client.CustomObjectsApi(api)
    with (tmp_path / "operator.log").open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", run], stdout=out, stderr=subprocess.STDOUT, env=env
        )
        try:
            launched = time.monotonic()

            def all_served() -> bool:
                served = 0
                for ns in namespaces:
                    items = custom.list_namespaced_custom_object(
                        "ripple.dev", "v1alpha1", ns, "chaosscenarios"
                    )["items"]
                    served += sum(1 for s in items if s["metadata"].get("finalizers"))
                return served == COUNT

            wait_for(all_served, timeout=300, interval=1.0, what="every scenario served")
            print(f"operator start -> every scenario served: {time.monotonic() - launched:.1f}s")
            # Caught up: the operator's own count stood still for QUIET seconds (Kopf may
            # still be handling the last scenarios' creation, or retrying a failed one).
            last = [int(count_file.read_text()), time.monotonic()]

            def quiet() -> bool:
                now = int(count_file.read_text())
                if now != last[0]:
                    last[:] = [now, time.monotonic()]
                return time.monotonic() - last[1] >= QUIET

            wait_for(quiet, timeout=600, interval=1.0, what="the operator quiet")
            print(f"operator start -> last request of the start: {last[1] - launched:.1f}s")
            start, cpu0, count0 = (
                datetime.now(UTC),
                cpu_seconds(proc.pid),
                int(count_file.read_text()),
            )
            time.sleep(WINDOW)
            end, cpu1, count1 = (
                datetime.now(UTC),
                cpu_seconds(proc.pid),
                int(count_file.read_text()),
            )
            rss = rss_mib(proc.pid)
            # No wait for the log: its default mode, blocking, writes each event before
            # the request returns, so every request that ended by `end` is in it.
            events = audited(log, user, start, end)
            seconds = (end - start).total_seconds()
            kinds: dict[str, int] = {}
            for e in events:
                key = f"{e['verb']} {e.get('objectRef', {}).get('resource', '?')}"
                kinds[key] = kinds.get(key, 0) + 1
            rate = len(events) / seconds
            own = (count1 - count0) / seconds
            print(
                f"idle over {seconds:.0f}s, {COUNT} scheduled scenarios, {NAMESPACES} namespaces:"
            )
            print(f"  API requests (audit log, {user}): {len(events)} = {rate:.3f}/s {kinds}")
            print(f"  API requests (operator's aiohttp count): {count1 - count0} = {own:.3f}/s")
            print(f"  CPU {100 * (cpu1 - cpu0) / seconds:.2f}% of a core, RSS {rss:.0f} MiB")
            assert proc.poll() is None, "the operator died"
        finally:
            for ns in namespaces:
                cluster.kubectl("delete", "namespace", ns, "--wait=false", check=False)
            # The operator releases the scenarios as their namespaces go.
            wait_for(
                lambda: (
                    not any(
                        cluster.kubectl("get", "namespace", ns, check=False).returncode == 0
                        for ns in namespaces
                    )
                ),
                timeout=600,
                interval=2.0,
                what="the bench namespaces gone",
            )
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
            cluster.kubectl("delete", "clusterrolebinding", f"{namespace}-operator", check=False)
