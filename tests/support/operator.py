"""Helpers of the operator tests: the runner's account, the demo services, the operator."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from kopf.testing import KopfRunner

from tests.support.cluster import Cluster
from tests.support.poll import wait_for
from tests.support.rbac import JOURNAL_RULES, account_manifests
from tests.support.ripple_in_cluster import IMAGE

RUNNER_ACCOUNT = "ripple-runner"

# What the chart's runner Role grants, for the test namespace's runner account.
RUNNER_RBAC = account_manifests(
    RUNNER_ACCOUNT,
    [
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch", "delete"]},
        {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "list"]},
        *JOURNAL_RULES,
    ],
)


def operator_env(cluster: Cluster) -> dict[str, str]:
    """The environment the operator runs with in these tests."""
    return {
        "KUBECONFIG": str(cluster.kubeconfig),
        "RIPPLE_IMAGE": IMAGE,
        "RIPPLE_IMAGE_PULL_POLICY": "Never",
        "RIPPLE_RUNNER_SERVICE_ACCOUNT": RUNNER_ACCOUNT,
        "RIPPLE_METRICS_PORT": "0",
        "RIPPLE_LIVENESS_PORT": "0",
        "RIPPLE_PAGES_PORT": "0",
        "RIPPLE_LOG_FORMAT": "json",
        "RIPPLE_TERMINATION_GRACE_SECONDS": "30",
    }


@contextmanager
def kopf_operator(cluster: Cluster, namespace: str) -> Iterator[KopfRunner]:
    """The operator in-process under KopfRunner, watching only the test's namespace.

    The caller sets the environment (``operator_env``) first, e.g. with monkeypatch.
    On the way out the namespace's scenarios are deleted while the operator still runs,
    so their finalizers never hold the namespace's deletion.
    """
    args = ["run", "--standalone", "--namespace", namespace, "-m", "ripple_operator.handlers"]
    with KopfRunner(args, timeout=60) as runner:
        try:
            yield runner
        finally:
            delete_scenarios(cluster, namespace)
    release_scenarios(cluster, namespace)
    assert runner.exit_code == 0, runner.output
    assert runner.exception is None, runner.output


def delete_scenarios(cluster: Cluster, namespace: str) -> None:
    """Delete every scenario of the namespace and wait (an operator must be running)."""
    cluster.kubectl(
        "delete", "scn", "--all", "-n", namespace, "--timeout=120s", check=False, timeout=150
    )


def release_scenarios(cluster: Cluster, namespace: str) -> None:
    """Drop the finalizer of scenarios left behind (no operator will ever remove it)."""
    left = cluster.get_json("scn", "-n", namespace)["items"]
    for item in left:
        cluster.kubectl(
            "patch",
            "scn",
            item["metadata"]["name"],
            "-n",
            namespace,
            "--type=merge",
            "-p",
            '{"metadata": {"finalizers": null}}',
            check=False,
        )


@contextmanager
def process_operator(
    cluster: Cluster, namespace: str, log: Path, *, before: str = "", **extra_env: str
) -> Iterator[subprocess.Popen[bytes]]:
    """``ripple operator`` as a real process (so a test can SIGKILL it).

    ``before`` is Python run in that process before the operator's modules are imported.
    """
    env = {**os.environ, **operator_env(cluster), **extra_env}
    command = ["operator", "--namespace", namespace]
    run = (
        f"{before}\nfrom ripple_contract.commands import main\nraise SystemExit(main({command!r}))"
    )
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", run],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
        try:
            yield proc
        finally:
            if proc.poll() is None:
                delete_scenarios(cluster, namespace)
                proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            release_scenarios(cluster, namespace)


def apply(cluster: Cluster, namespace: str, manifest: dict[str, Any] | str) -> None:
    """``kubectl apply`` a manifest (dict or YAML text) into the namespace."""
    text = manifest if isinstance(manifest, str) else yaml.safe_dump(manifest)
    cluster.kubectl("apply", "-n", namespace, "-f", "-", input=text)


def scenario(name: str, spec: dict[str, Any], **annotations: str) -> dict[str, Any]:
    """A ChaosScenario manifest."""
    meta: dict[str, Any] = {"name": name}
    if annotations:
        meta["annotations"] = annotations
    return {
        "apiVersion": "ripple.dev/v1alpha1",
        "kind": "ChaosScenario",
        "metadata": meta,
        "spec": spec,
    }


def get_scenario(cluster: Cluster, namespace: str, name: str) -> dict[str, Any]:
    """The scenario as stored now."""
    found: dict[str, Any] = cluster.get_json("chaosscenario", name, "-n", namespace)
    return found


def status_of(cluster: Cluster, namespace: str, name: str) -> dict[str, Any]:
    """The scenario's status (empty before the operator wrote one)."""
    return dict(get_scenario(cluster, namespace, name).get("status") or {})


def wait_for_status(
    cluster: Cluster, namespace: str, name: str, *, timeout: float, what: str, **expected: Any
) -> dict[str, Any]:
    """Poll the scenario until its status has every ``expected`` key/value; return it."""

    def probe() -> dict[str, Any] | None:
        status = status_of(cluster, namespace, name)
        return status if all(status.get(k) == v for k, v in expected.items()) else None

    return wait_for(probe, timeout=timeout, interval=0.5, what=f"{name}: {what}")


def jobs_of(cluster: Cluster, namespace: str, name: str) -> list[dict[str, Any]]:
    """The Jobs of a scenario's runs."""
    found = cluster.get_json("jobs", "-n", namespace, "-l", f"ripple.dev/scenario={name}")
    return list(found["items"])


def unfinished(jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The Jobs not yet Complete or Failed."""
    return [
        job
        for job in jobs
        if not any(
            c.get("type") in ("Complete", "Failed") and c.get("status") == "True"
            for c in (job.get("status") or {}).get("conditions") or []
        )
    ]


def events_of(cluster: Cluster, namespace: str, name: str, reason: str) -> list[dict[str, Any]]:
    """Events on the scenario with this reason."""
    selector = f"involvedObject.name={name},reason={reason}"
    found = cluster.get_json("events", "-n", namespace, "--field-selector", selector)
    return list(found["items"])


def quick_experiment(*, seconds: int = 0, title: str = "quick check") -> dict[str, Any]:
    """An inline experiment needing nothing but the runner: a probe, a pause, a rollback."""
    exists = {
        "type": "probe",
        "name": "tmp-is-a-directory",
        "tolerance": True,
        "provider": {
            "type": "python",
            "module": "os.path",
            "func": "exists",
            "arguments": {"path": "/tmp"},
        },
    }
    wait = {**exists, "name": "wait-a-little", "pauses": {"after": seconds}}
    wait.pop("tolerance")
    return {
        "title": title,
        "description": "runs in the runner alone, for the operator's tests",
        "steady-state-hypothesis": {"title": "/tmp is there", "probes": [exists]},
        "method": [wait],
        "rollbacks": [{**exists, "name": "look-again"}],
    }


def json_records(text: str) -> list[dict[str, Any]]:
    """The JSON log records in an operator's output (other lines ignored)."""
    records = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                records.append(json.loads(line))
            except ValueError:
                continue
    return records


def free_port() -> int:
    """A TCP port free on this machine now (for an operator process's endpoints)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def http_get(url: str) -> tuple[int, str]:
    """GET a URL: its status code and body."""
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read().decode()
