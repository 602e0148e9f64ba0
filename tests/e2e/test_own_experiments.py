"""Your own experiments on your own services: secrets, settings, env, an image, pod settings, load.

A recorder Deployment stands for the user's service and notification hook: it keeps what it
is sent and answers POST /load/* with 400 unless the request carries the expected header
and body, so a load that reaches it right is a load whose steady state holds.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import pytest

from ripple_contract.names import experiment_configmap_name, job_name, journal_configmap_name
from tests.e2e.product import OPERATOR, QUICK, Product, scenario_manifest
from tests.support.cluster import HACK_CLUSTER
from tests.support.runner import probe_output

RUN_TIMEOUT: Final = 240
EXTENDED_IMAGE: Final = "ripple-e2e-extended:dev"
"""Built FROM ripple:dev with one more package; the e2e values allow ``ripple-e2e-extended:*``."""
EXTRA_PACKAGE: Final = "inflection"
"""A small pure-Python package from PyPI that ripple's image does not have."""
LOAD_HEADER: Final = ("X-Ripple-Check", "post-with-a-header")
LOAD_BODY: Final = '{"order": 42}'
PRIORITY_CLASS: Final = "ripple-e2e-own"

RECORDER: Final = f"""
import json, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
SEEN, LOCK = [], threading.Lock()
class Handler(BaseHTTPRequestHandler):
    def answer(self):
        size = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(size).decode('utf-8', 'replace')
        code, data = 200, b'{{}}'
        if self.path == '/seen':
            with LOCK:
                data = json.dumps(SEEN).encode()
        elif self.path != '/healthz':
            with LOCK:
                SEEN.append({{'method': self.command, 'path': self.path,
                             'headers': dict(self.headers.items()), 'body': body}})
        if self.path.startswith('/load/'):
            right = (self.command == 'POST' and body == {LOAD_BODY!r}
                     and self.headers.get({LOAD_HEADER[0]!r}) == {LOAD_HEADER[1]!r})
            code = 200 if right else 400
        self.send_response(code)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    do_GET = do_POST = do_PUT = answer
    def log_message(self, *args):
        pass
ThreadingHTTPServer(('', 8080), Handler).serve_forever()
"""
SEEN_PROBE: Final = (
    "import urllib.request\n"
    "print(urllib.request.urlopen('http://127.0.0.1:8080/seen', timeout=10).read().decode())\n"
)


def recorder_manifests() -> list[dict[str, Any]]:
    """A Deployment and Service ``recorder`` running the recording server in ripple's image."""
    labels = {"app.kubernetes.io/name": "recorder"}
    container = {
        "name": "recorder",
        "image": "ripple:dev",
        "imagePullPolicy": "Never",
        "command": ["python3", "-c", RECORDER],
        "ports": [{"containerPort": 8080, "name": "http"}],
        "readinessProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 2},
        "securityContext": {"runAsNonRoot": True, "allowPrivilegeEscalation": False},
    }
    return [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "recorder", "labels": labels},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": labels},
                "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "recorder", "labels": labels},
            "spec": {"selector": labels, "ports": [{"port": 8080, "targetPort": "http"}]},
        },
    ]


@pytest.fixture(scope="module")
def recorder(product: Product) -> Iterator[None]:
    """The recording server, ready; deleted (with what the tests created) at the end."""
    for manifest in recorder_manifests():
        product.apply(manifest)
    product.rollout("recorder", timeout=120)
    yield
    product.kubectl(
        "delete", "-n", product.namespace, "deployment/recorder", "service/recorder",
        "secret/own-slack", "secret/own-settings", "configmap/own-load-body",
        "--ignore-not-found", "--wait=true", timeout=120,
    )  # fmt: skip


def seen(product: Product) -> list[dict[str, Any]]:
    """Every request the recorder was sent (readiness probes aside), oldest first."""
    done = product.kubectl(
        "exec", "-n", product.namespace, "deploy/recorder", "--", "python3", "-c", SEEN_PROBE
    )
    requests: list[dict[str, Any]] = json.loads(done.stdout)
    return requests


def inline(name: str, probes: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """A ChaosScenario with an inline experiment: a steady-state hypothesis and no method."""
    experiment = {
        "title": name,
        "description": "checks the wiring of a scenario's own settings",
        "steady-state-hypothesis": {
            "title": "the run got what the scenario gave",
            "probes": probes,
        },
        "method": [],
        **extra,
    }
    return {
        "apiVersion": "ripple.dev/v1alpha1",
        "kind": "ChaosScenario",
        "metadata": {"name": name},
        "spec": {"experiment": {"inline": experiment}, "activeDeadlineSeconds": 300},
    }


def probe_value(journal: dict[str, Any], name: str) -> Any:
    """What the steady-state probe ``name`` returned before the method."""
    for run in journal["steady_states"]["before"]["probes"]:
        if run["activity"]["name"] == name:
            return run.get("output")
    raise AssertionError(f"no probe {name} before the method")


def text_of(product: Product, *args: str) -> str:
    """``kubectl ARGS`` in the release namespace, its output as text ("" if it failed)."""
    done = product.kubectl(*args, "-n", product.namespace, check=False, timeout=60)
    return done.stdout + done.stderr


def test_a_secret_reaches_the_experiment_and_is_written_nowhere(
    product: Product, recorder: None
) -> None:
    canary = f"ripple-canary-{secrets.token_hex(12)}"
    name = "own-secret"
    product.apply(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "own-slack"},
            "stringData": {"token": canary},
        }
    )
    notify = {"type": "http", "url": f"http://recorder:8080/notify/{name}"}
    product.apply(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "own-settings"},
            "stringData": {"settings.yaml": json.dumps({"notifications": [notify]})},
        }
    )
    check_secret = {
        "type": "probe",
        "name": "the-token-is-the-one-given",
        "tolerance": True,
        "provider": {
            "type": "python",
            "module": "ripple_experiments.extension.secrets",
            "func": "secret_matches",
            "arguments": {"name": "token", "sha256": hashlib.sha256(canary.encode()).hexdigest()},
            "secrets": ["slack"],
        },
    }
    check_env = {
        "type": "probe",
        "name": "the-env-reached-the-configuration",
        "tolerance": 200,
        "provider": {"type": "http", "url": "http://recorder:8080/env/${greeting}", "timeout": 5},
    }
    manifest = inline(
        name,
        [check_secret, check_env],
        configuration={"greeting": {"type": "env", "key": "GREETING"}},
    )
    manifest["spec"].update(
        secrets={"slack": {"token": {"secretKeyRef": {"name": "own-slack", "key": "token"}}}},
        settingsSecretRef={"name": "own-settings"},
        env=[{"name": "GREETING", "value": "hello-from-spec-env"}],
    )
    product.apply(manifest)
    try:
        status = product.wait_run(name, run=1, timeout=RUN_TIMEOUT)
        assert status["lastRun"]["verdict"] == "Pass", status["lastRun"]
        journal = product.journal(name, 1)
        assert probe_value(journal, "the-token-is-the-one-given") is True
        bound = journal["experiment"]["secrets"]["slack"]["token"]
        assert bound == {"type": "env", "key": "RIPPLE_SECRET_0"}, "bound as a Chaos Toolkit env"
        paths = [r["path"] for r in seen(product)]
        assert "/env/hello-from-spec-env" in paths, paths
        notified = [r for r in seen(product) if r["path"] == f"/notify/{name}"]
        events = [json.loads(r["body"])["name"] for r in notified]
        assert events[:1] == ["run-started"], events
        assert "run-completed" in events, events
        job = job_name(name, "1")
        places = {
            "scenario": text_of(product, "get", "chaosscenario", name, "-o", "json"),
            "Job": text_of(product, "get", "job", job, "-o", "json"),
            "pod": text_of(product, "get", "pods", "-l", f"job-name={job}", "-o", "json"),
            "journal": text_of(
                product, "get", "configmap", journal_configmap_name(name, "1"), "-o", "json"
            ),
            "run's ConfigMap": text_of(
                product, "get", "configmap", experiment_configmap_name(name, "1"), "-o", "json"
            ),
            "events": text_of(product, "get", "events", "-o", "json"),
            "runner's log": text_of(product, "logs", f"job/{job}", "-c", "runner"),
            "operator's log": text_of(product, "logs", f"deploy/{OPERATOR}", "-c", "operator"),
            "notifications": json.dumps(notified),
        }
        for place, text in places.items():
            assert text.strip(), f"nothing read from the {place}"
            assert canary not in text, f"the secret's value is in the {place}"
    finally:
        product.delete_scenarios([name])


def test_a_post_load_with_a_header_and_a_body_reaches_its_endpoint(
    product: Product, recorder: None
) -> None:
    name = "own-post-load"
    product.apply(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "own-load-body"},
            "data": {"body.json": LOAD_BODY},
        }
    )
    load = {
        "targets": [
            {"url": "http://recorder:8080/load/a", "weight": 2},
            {"url": "http://recorder:8080/load/b"},
        ],
        "rate": "10/1s",
        "method": "POST",
        "headers": {LOAD_HEADER[0]: LOAD_HEADER[1]},
        "bodyFrom": {"configMapKeyRef": {"name": "own-load-body", "key": "body.json"}},
        "maxWorkers": 4,
        "keepalive": False,
    }
    configuration = {**QUICK, "front_url": "http://recorder:8080/healthz", "observe_seconds": 3}
    manifest = scenario_manifest(name, experiment="smoke", configuration=configuration, load=None)
    manifest["spec"]["load"] = load
    product.apply(manifest)
    try:
        status = product.wait_run(name, run=1, timeout=RUN_TIMEOUT)
        after = probe_output(product.journal(name, 1), "after", "load-responses-carry-no-error")
        assert status["lastRun"]["verdict"] == "Pass", (status["lastRun"], after)
        assert after["failures"] == 0, after
        posts = [r for r in seen(product) if r["path"].startswith("/load/")]
        assert len(posts) >= 10
        assert {r["method"] for r in posts} == {"POST"}
        assert {r["headers"].get(LOAD_HEADER[0]) for r in posts} == {LOAD_HEADER[1]}
        assert {r["body"] for r in posts} == {LOAD_BODY}
        to_a = sum(1 for r in posts if r["path"] == "/load/a")
        assert abs(to_a - 2 * (len(posts) - to_a)) <= 3, f"{to_a} of {len(posts)} to /load/a"
        load_container = product.jobs(name)[0]["spec"]["template"]["spec"]["initContainers"][0]
        assert LOAD_BODY not in json.dumps(load_container), "the body is mounted, not an argument"
    finally:
        product.delete_scenarios([name])


def build_extended_image(product: Product) -> None:
    """Build ``FROM ripple:dev`` with one more package (as the README shows) and load it."""
    dockerfile = (
        "FROM ripple:dev\n"
        "USER root\n"
        "ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt\n"
        f"RUN python -m ensurepip >/dev/null && python -m pip install -q {EXTRA_PACKAGE}\n"
    )
    with tempfile.TemporaryDirectory() as context:
        (Path(context) / "Dockerfile").write_text(dockerfile)
        built = subprocess.run(
            ["docker", "build", "-q", "--network", "host", "-t", EXTENDED_IMAGE, context],
            capture_output=True,
            text=True,
            timeout=600,
            env={**os.environ, "DOCKER_BUILDKIT": "0"},
            check=False,
        )
    assert built.returncode == 0, built.stderr[-2000:]
    loaded = subprocess.run(
        [str(HACK_CLUSTER), "load", EXTENDED_IMAGE],
        capture_output=True,
        text=True,
        timeout=600,
        env=product.cluster.env(),
        check=False,
    )
    assert loaded.returncode == 0, loaded.stderr[-2000:]


def test_an_image_built_from_ripples_runs_an_activity_of_its_extra_package(
    product: Product,
) -> None:
    build_extended_image(product)
    name = "own-image"
    probe = {
        "type": "probe",
        "name": "an-activity-of-the-extra-package",
        "tolerance": "device_type",
        "provider": {
            "type": "python",
            "module": EXTRA_PACKAGE,
            "func": "underscore",
            "arguments": {"word": "DeviceType"},
        },
    }
    manifest = inline(name, [probe])
    manifest["spec"].update(
        image=EXTENDED_IMAGE, load={"target": "http://front:8080/", "rate": "2/1s"}
    )
    product.apply(manifest)
    try:
        status = product.wait_run(name, run=1, timeout=RUN_TIMEOUT)
        assert status["lastRun"]["verdict"] == "Pass", status["lastRun"]
        assert probe_value(product.journal(name, 1), str(probe["name"])) == "device_type"
        pod = product.jobs(name)[0]["spec"]["template"]["spec"]
        assert pod["containers"][0]["image"] == EXTENDED_IMAGE
        assert pod["initContainers"][0]["image"] == "ripple:dev", "the load keeps ripple's image"
    finally:
        product.delete_scenarios([name])


@pytest.fixture
def priority_class(product: Product) -> Iterator[str]:
    """A PriorityClass for the run's pod (cluster-wide, so deleted after)."""
    product.cluster.kubectl(
        "apply",
        "-f",
        "-",
        input=json.dumps(
            {
                "apiVersion": "scheduling.k8s.io/v1",
                "kind": "PriorityClass",
                "metadata": {"name": PRIORITY_CLASS},
                "value": 1000,
                "globalDefault": False,
                "description": "ripple's end-to-end test of spec.pod.priorityClassName",
            }
        ),
    )
    yield PRIORITY_CLASS
    product.cluster.kubectl("delete", "priorityclass", PRIORITY_CLASS, "--ignore-not-found")


def test_pod_settings_land_on_the_runs_pod(product: Product, priority_class: str) -> None:
    name = "own-pod"
    pod_settings = {
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "tolerations": [{"key": "ripple.dev/e2e", "operator": "Exists", "effect": "NoSchedule"}],
        "affinity": {
            "nodeAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "weight": 1,
                        "preference": {
                            "matchExpressions": [{"key": "kubernetes.io/os", "operator": "Exists"}]
                        },
                    }
                ]
            }
        },
        "priorityClassName": priority_class,
        "labels": {"example.com/team": "sre"},
        "annotations": {"sidecar.istio.io/inject": "false"},
        "resources": {
            "runner": {"limits": {"memory": "600Mi"}},
            "load": {"requests": {"cpu": "30m"}},
        },
    }
    configuration = {**QUICK, "observe_seconds": 2}
    product.apply(
        scenario_manifest(name, experiment="smoke", configuration=configuration, pod=pod_settings)
    )
    try:
        status = product.wait_run(name, run=1, timeout=RUN_TIMEOUT)
        assert status["lastRun"]["verdict"] == "Pass", status["lastRun"]
        (pod,) = product.runner_pods(name)
        meta, spec = pod["metadata"], pod["spec"]
        assert meta["labels"]["example.com/team"] == "sre"
        assert meta["labels"]["ripple.dev/scenario"] == name
        assert meta["annotations"]["sidecar.istio.io/inject"] == "false"
        assert spec["nodeSelector"] == {"kubernetes.io/os": "linux"}
        assert pod_settings["tolerations"][0] in spec["tolerations"]
        assert spec["affinity"] == pod_settings["affinity"]
        assert (spec["priorityClassName"], spec["priority"]) == (priority_class, 1000)
        runner = next(c for c in spec["containers"] if c["name"] == "runner")
        assert runner["resources"]["limits"]["memory"] == "600Mi"
        assert runner["resources"]["requests"]["memory"] == "128Mi", "the chart's stays"
        load = next(c for c in spec["initContainers"] if c["name"] == "load")
        assert load["resources"]["requests"]["cpu"] == "30m"
    finally:
        product.delete_scenarios([name])
