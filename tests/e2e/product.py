"""The ripple product as a user meets it: a Helm release, scenarios, their runs and status.

Everything goes through the real tools (helm, kubectl) against the local cluster; waits are
polls with deadlines (tests/support/poll.py), never sleeps.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml

from ripple_contract.journal_codec import journal_of_configmap
from ripple_contract.names import journal_configmap_name
from tests.support.cluster import CONTEXT, Cluster
from tests.support.poll import wait_for

TOP: Final = Path(__file__).resolve().parents[2]
CHART: Final = TOP / "charts" / "ripple"
DATA: Final = Path(__file__).resolve().parent / "data"
VALUES: Final = DATA / "values.yaml"

RELEASE: Final = "ripple-e2e"
"""The release name; it holds "ripple", so the operator's objects are named exactly this."""
NAMESPACE: Final = "ripple-e2e"
BAD_NAMESPACE: Final = "ripple-e2e-bad"
"""Where the bad inputs go; the operator watches only these two (data/values.yaml)."""
OPERATOR: Final = RELEASE
"""The operator's Deployment (the chart's full name)."""
OPERATOR_SELECTOR: Final = (
    f"app.kubernetes.io/instance={RELEASE},app.kubernetes.io/component=operator"
)
RUNNER_SERVICE_ACCOUNT: Final = f"{RELEASE}-runner"
DEMO: Final = ("front", "middle", "back")
MANAGED: Final = "app.kubernetes.io/managed-by=ripple"
TERMINAL: Final = frozenset({"Completed", "Error"})
LOAD: Final = {"target": "http://front:8080/", "rate": "5/1s", "timeout": "3s"}
QUICK: Final[dict[str, int]] = {"window_seconds": 10, "min_responses": 5, "load_wait_seconds": 30}
"""Shorter windows than the built-ins' defaults: every built-in has these keys."""

FRONT_PROBE: Final = (
    "import json, urllib.request\n"
    "with urllib.request.urlopen('http://front:8080/', timeout=5) as r:\n"
    "    print(json.dumps({'code': r.status, 'body': json.loads(r.read())}))\n"
)
METRICS_PROBE: Final = (
    "import urllib.request\n"
    "with urllib.request.urlopen('http://127.0.0.1:9090/metrics', timeout=5) as r:\n"
    "    print(r.read().decode())\n"
)
MEMORY_PROBE: Final = (
    "import json, pathlib\n"
    "out = {}\n"
    "for line in pathlib.Path('/proc/1/status').read_text().splitlines():\n"
    "    key, _, value = line.partition(':')\n"
    "    if key in ('VmRSS', 'VmHWM'):\n"
    "        out[key] = int(value.split()[0]) * 1024\n"
    "for name, path in (('cgroup', '/sys/fs/cgroup/memory.current'),\n"
    "                   ('cgroup', '/sys/fs/cgroup/memory/memory.usage_in_bytes'),\n"
    "                   ('cgroup_peak', '/sys/fs/cgroup/memory.peak'),\n"
    "                   ('cgroup_peak', '/sys/fs/cgroup/memory/memory.max_usage_in_bytes')):\n"
    "    p = pathlib.Path(path)\n"
    "    if name not in out and p.exists():\n"
    "        out[name] = int(p.read_text().split()[0])\n"
    "print(json.dumps(out))\n"
)


def scenario_manifest(
    name: str,
    *,
    experiment: str,
    configuration: Mapping[str, Any] | None = None,
    load: Mapping[str, str] | None = LOAD,
    deadline: int = 300,
    **spec: Any,
) -> dict[str, Any]:
    """A ChaosScenario running a built-in experiment with the given overrides."""
    body: dict[str, Any] = {
        "experiment": {"name": experiment},
        "configuration": dict(configuration or {}),
        "activeDeadlineSeconds": deadline,
        **spec,
    }
    if load is not None:
        body["load"] = dict(load)
    return {
        "apiVersion": "ripple.dev/v1alpha1",
        "kind": "ChaosScenario",
        "metadata": {"name": name},
        "spec": body,
    }


@dataclass(frozen=True, kw_only=True)
class Product:
    """The installed release and the kubectl/helm calls the tests make against it."""

    cluster: Cluster
    helm_path: str
    namespace: str = NAMESPACE
    release: str = RELEASE

    # --- tools ----------------------------------------------------------------------------

    def kubectl(
        self, *args: str, input: str | None = None, check: bool = True, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        """kubectl against the local cluster (its own context only)."""
        return self.cluster.kubectl(*args, input=input, check=check, timeout=timeout)

    def helm(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        """helm against the local cluster; raise with helm's output on failure."""
        cmd = [
            self.helm_path,
            f"--kubeconfig={self.cluster.kubeconfig}",
            f"--kube-context={CONTEXT}",
            *args,
        ]
        done = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, env=self.cluster.env()
        )
        if done.returncode != 0:
            raise AssertionError(
                f"helm {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
            )
        return done

    def get(self, *args: str, namespace: str | None = None) -> Any:
        """``kubectl get ARGS -o json`` in ``namespace`` (the release's by default)."""
        return self.cluster.get_json("-n", namespace or self.namespace, *args)

    def items(self, kind: str, *, namespace: str | None = None, selector: str = "") -> list[Any]:
        """The objects of ``kind`` (optionally by label selector)."""
        args = [kind] + (["-l", selector] if selector else [])
        items: list[Any] = self.get(*args, namespace=namespace)["items"]
        return items

    def names(self, kind: str, *, namespace: str | None = None, selector: str = "") -> list[str]:
        """The names of the objects of ``kind``."""
        return sorted(
            o["metadata"]["name"] for o in self.items(kind, namespace=namespace, selector=selector)
        )

    # --- scenarios -----------------------------------------------------------------------

    def apply(self, manifest: Mapping[str, Any], *, namespace: str | None = None) -> None:
        """``kubectl apply`` one object."""
        self.kubectl(
            "apply", "-n", namespace or self.namespace, "-f", "-", input=yaml.safe_dump(manifest)
        )

    def scenario(self, name: str, *, namespace: str | None = None) -> dict[str, Any] | None:
        """The scenario as stored, or None if it does not exist."""
        done = self.kubectl(
            "get",
            "chaosscenario",
            name,
            "-n",
            namespace or self.namespace,
            "-o",
            "json",
            "--ignore-not-found",
        )
        if not done.stdout.strip():
            return None
        found: dict[str, Any] = json.loads(done.stdout)
        return found

    def status(self, name: str, *, namespace: str | None = None) -> dict[str, Any]:
        """The scenario's status ({} when it has none yet)."""
        scenario = self.scenario(name, namespace=namespace)
        assert scenario is not None, f"scenario {name} does not exist"
        status: dict[str, Any] = scenario.get("status") or {}
        return status

    def wait_run(
        self, name: str, *, run: int, timeout: float, namespace: str | None = None
    ) -> dict[str, Any]:
        """Wait until run number ``run`` has ended and its outcome is in the status."""

        def ended() -> dict[str, Any] | None:
            status = self.status(name, namespace=namespace)
            last = status.get("lastRun") or {}
            if (
                status.get("phase") in TERMINAL
                and str(last.get("id")) == str(run)
                and last.get("verdict")
                and not status.get("activeRun")
            ):
                return status
            return None

        return wait_for(ended, timeout=timeout, interval=1.0, what=f"run {run} of {name} to end")

    def wait_phase(
        self, name: str, phases: Sequence[str], *, timeout: float, namespace: str | None = None
    ) -> dict[str, Any]:
        """Wait until the scenario's phase is one of ``phases``; return its status."""

        def reached() -> dict[str, Any] | None:
            status = self.status(name, namespace=namespace)
            return status if status.get("phase") in phases else None

        return wait_for(reached, timeout=timeout, interval=0.5, what=f"{name} phase in {phases}")

    def rerun(self, name: str, *, namespace: str | None = None) -> None:
        """Ask for another run through the ``ripple.dev/rerun`` annotation."""
        self.kubectl(
            "annotate",
            "chaosscenario",
            name,
            "-n",
            namespace or self.namespace,
            "--overwrite",
            f"ripple.dev/rerun={time.time_ns()}",
        )

    def delete_scenarios(
        self, names: Sequence[str] = (), *, timeout: float = 150, namespace: str | None = None
    ) -> None:
        """Delete scenarios (all in the namespace if none named) and wait until they are gone."""
        ns = namespace or self.namespace
        targets = list(names) or ["--all"]
        self.kubectl(
            "delete", "chaosscenario", *targets, "-n", ns, "--ignore-not-found", "--wait=false"
        )

        def gone() -> bool:
            left = self.names("chaosscenarios", namespace=ns)
            return not (set(left) & set(names)) if names else not left

        wait_for(gone, timeout=timeout, interval=1.0, what=f"scenarios {targets} to be gone")

    def jobs(self, scenario: str, *, namespace: str | None = None) -> list[dict[str, Any]]:
        """The run Jobs of one scenario."""
        return self.items("jobs", namespace=namespace, selector=f"ripple.dev/scenario={scenario}")

    def runner_pods(self, scenario: str, *, namespace: str | None = None) -> list[dict[str, Any]]:
        """The pods of one scenario's runs."""
        return self.items("pods", namespace=namespace, selector=f"ripple.dev/scenario={scenario}")

    def journal(self, scenario: str, run: int, *, namespace: str | None = None) -> dict[str, Any]:
        """A run's journal, read from its ConfigMap (JSON, or gzip in binaryData)."""
        name = journal_configmap_name(scenario, str(run))
        journal = journal_of_configmap(self.get("configmap", name, namespace=namespace))
        assert journal is not None, f"ConfigMap {name} holds no journal"
        return journal

    def table(self, *, namespace: str | None = None) -> dict[str, dict[str, str]]:
        """``kubectl get chaosscenarios`` parsed by its header's column positions."""
        out = self.kubectl("get", "chaosscenarios", "-n", namespace or self.namespace).stdout
        return parse_table(out)

    # --- the demo services and the operator -----------------------------------------------

    def front_answer(self) -> dict[str, Any]:
        """One GET of front through its Service, from inside the front pod."""
        done = self.kubectl(
            "exec",
            "-n",
            self.namespace,
            "deploy/front",
            "--",
            "python3",
            "-c",
            FRONT_PROBE,
            timeout=30,
        )
        answer: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        return answer

    def wait_steady(self, *, timeout: float = 45) -> float:
        """Wait until front answers 200 with no error and nothing stalled; return the seconds."""
        start = time.monotonic()

        def steady() -> dict[str, Any] | None:
            answer = self.front_answer()
            body = answer["body"]
            ok = answer["code"] == 200 and not body.get("error") and body.get("stalled") is False
            return answer if ok else None

        wait_for(steady, timeout=timeout, interval=1.0, what="front to answer without error")
        return time.monotonic() - start

    def operator_pod(self) -> dict[str, Any]:
        """The one running, ready operator pod."""
        pods = [
            p
            for p in self.items("pods", selector=OPERATOR_SELECTOR)
            if not p["metadata"].get("deletionTimestamp") and is_ready(p)
        ]
        assert len(pods) == 1, f"{len(pods)} ready operator pods"
        pod: dict[str, Any] = pods[0]
        return pod

    def operator_memory(self) -> dict[str, int]:
        """The operator process's RSS and high-water mark (and its cgroup's usage), in bytes.

        Read in the one ready operator pod by name (``deploy/...`` may pick a terminating one).
        """
        pod = self.operator_pod()["metadata"]["name"]
        done = self.kubectl(
            "exec", "-n", self.namespace, pod, "-c", "operator", "--",
            "python3", "-c", MEMORY_PROBE, timeout=30,
        )  # fmt: skip
        memory: dict[str, int] = json.loads(done.stdout.strip().splitlines()[-1])
        assert "VmRSS" in memory, f"no VmRSS in {pod}'s /proc/1/status: {done.stdout!r}"
        return memory

    def operator_metrics(self) -> str:
        """The operator's Prometheus metrics, read inside its ready pod on its metrics port."""
        pod = self.operator_pod()["metadata"]["name"]
        done = self.kubectl(
            "exec", "-n", self.namespace, pod, "-c", "operator", "--",
            "python3", "-c", METRICS_PROBE, timeout=30,
        )  # fmt: skip
        return done.stdout

    def follow_logs(self, pod: str, container: str) -> subprocess.Popen[str]:
        """``kubectl logs -f`` of one container, kept for a failure report; stop with .kill()."""
        return subprocess.Popen(
            [
                str(self.cluster.bindir / "kubectl"),
                f"--kubeconfig={self.cluster.kubeconfig}",
                f"--context={CONTEXT}",
                "logs", "-f", "-n", self.namespace, pod, "-c", container,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=self.cluster.env(),
        )  # fmt: skip

    @contextmanager
    def logs_on_failure(self, pod: str, container: str, lines: int = 40) -> Iterator[None]:
        """Follow a container's log; a failing assertion inside carries its last lines.

        The log is followed from the start, so what a pod said before it was deleted
        is kept even once the pod is gone.
        """
        logs = self.follow_logs(pod, container)
        try:
            yield
        except AssertionError as exc:
            logs.kill()
            out = logs.stdout.read() if logs.stdout else ""
            tail = "".join(out.splitlines(True)[-lines:])
            raise AssertionError(f"{exc}\n{pod}/{container}'s last log lines:\n{tail}") from exc
        finally:
            logs.kill()
            logs.wait(timeout=10)

    def rollout(self, *deployments: str, timeout: int = 240) -> None:
        """Wait for Deployments to finish rolling out."""
        for name in deployments:
            self.kubectl(
                "rollout",
                "status",
                f"deployment/{name}",
                "-n",
                self.namespace,
                f"--timeout={timeout}s",
                timeout=timeout + 10,
            )


def container_pids(container_id: str) -> list[int]:
    """The host PIDs of one container's processes.

    Every node's processes run on this machine's kernel: hack/cluster's node is this
    machine, kind's nodes are containers on it. ``container_id`` is a pod status's
    ``containerID`` (``containerd://<id>``); each process of the container sits in a cgroup
    named after that id: ``<id>`` with the cgroupfs driver (hack/cluster),
    ``cri-containerd-<id>.scope`` with the systemd one (kind's nodes).
    """
    cid = container_id.rsplit("/", 1)[-1]
    names = {cid, f"cri-containerd-{cid}.scope"}
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cgroups = (proc / "cgroup").read_text()
        except OSError:
            continue  # the process ended meanwhile
        if any(line.rsplit("/", 1)[-1] in names for line in cgroups.splitlines()):
            pids.append(int(proc.name))
    return sorted(pids)


def is_ready(pod: Mapping[str, Any]) -> bool:
    """Whether a pod is Running with its Ready condition True."""
    status = pod.get("status") or {}
    conditions = {c["type"]: c["status"] for c in status.get("conditions") or []}
    return status.get("phase") == "Running" and conditions.get("Ready") == "True"


def parse_table(text: str) -> dict[str, dict[str, str]]:
    """Rows of a kubectl table keyed by NAME; columns cut at the header's word positions."""
    lines = [line for line in text.splitlines() if line.strip()]
    header = lines[0]
    starts = [m.start() for m in re.finditer(r"(?:(?<=\s{2})|^)\S", header)]
    titles = [header[a:b].strip() for a, b in zip(starts, [*starts[1:], None], strict=True)]
    rows: dict[str, dict[str, str]] = {}
    for line in lines[1:]:
        cells = [line[a:b].strip() for a, b in zip(starts, [*starts[1:], None], strict=True)]
        row = dict(zip(titles, cells, strict=True))
        rows[row["NAME"]] = row
    return rows


def activity_statuses(entries: Sequence[Mapping[str, Any]] | None) -> dict[str, str]:
    """name -> status of the activities (or rollbacks) of a status's lastRun."""
    return {str(e.get("name")): str(e.get("status")) for e in entries or []}
