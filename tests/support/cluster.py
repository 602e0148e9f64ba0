"""The local Kubernetes cluster (hack/cluster) as the tests see it.

Tests talk to the cluster only through the kubeconfig that ``hack/cluster up`` writes
into the cluster directory, with its context named explicitly: never the user's current
context, so a test run cannot touch another cluster.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import secrets
import shlex
import socket
import subprocess
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

TOP = Path(__file__).resolve().parents[2]
CLUSTERS = {"local": ("cluster", "ripple-local"), "kind": ("kind", "kind-ripple-kind")}
"""``RIPPLE_CLUSTER`` -> (the script under hack/, the context its ``up`` writes). ``local``
(hack/cluster) is the default; ``kind`` (hack/kind, issue 17) passes tests/cluster too."""
_SCRIPT, CONTEXT = CLUSTERS.get(os.environ.get("RIPPLE_CLUSTER") or "local", ("", ""))
if not _SCRIPT:
    raise RuntimeError(f"RIPPLE_CLUSTER must be one of {sorted(CLUSTERS)}")
HACK_CLUSTER = TOP / "hack" / _SCRIPT
"""The cluster's script (commands up, wait, status, env, logs, load, stop, start)."""
SERVER = re.compile(r"^https://127\.0\.0\.1:\d+$")
UP_TIMEOUT = 80 * 60
"""A cold ``up`` compiles Kubernetes; it must still fit in CI's 90 minutes."""


class KubectlError(subprocess.CalledProcessError):
    """A kubectl call failed; the message carries its arguments and stderr."""

    def __str__(self) -> str:
        args = shlex.join(str(a) for a in self.cmd[1:])
        return f"kubectl {args} exited {self.returncode}: {(self.stderr or '').strip()}"


class UnexpectedContextError(RuntimeError):
    """The kubeconfig does not point at the local ripple cluster."""


CONTROL_PLANE_TAINT = "node-role.kubernetes.io/control-plane"


@dataclass(frozen=True, kw_only=True)
class Node:
    """One node as the API reports it."""

    name: str
    internal_ip: str
    pod_cidr: str
    taints: tuple[str, ...]
    """Each taint as ``key:effect``."""

    @property
    def schedulable(self) -> bool:
        """Whether ordinary pods (no tolerations) may run here."""
        return not self.taints

    def has_pod_ip(self, ip: str) -> bool:
        return ipaddress.ip_address(ip) in ipaddress.ip_network(self.pod_cidr)


@dataclass(frozen=True, kw_only=True)
class Facts:
    """What the tests need to know about the cluster, asked of the cluster and its script
    (never hack/cluster's values hard-coded): both hack/cluster and hack/kind satisfy it."""

    nodes: tuple[Node, ...]
    dns_ip: str
    """kube-system/kube-dns's ClusterIP."""
    host_is_node: bool
    """Whether this machine is a node (hack/cluster) or only routes to them (hack/kind):
    a process here then reaches pods as the node does, which NetworkPolicies let through."""

    def node(self, name: str) -> Node:
        (found,) = (n for n in self.nodes if n.name == name)
        return found

    @property
    def schedulable_nodes(self) -> tuple[Node, ...]:
        return tuple(n for n in self.nodes if n.schedulable)


def is_local_address(ip: str) -> bool:
    """Whether ``ip`` is an address of this machine (binding to it succeeds)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind((ip, 0))
        except OSError:
            return False
    return True


@dataclass(frozen=True, kw_only=True)
class Cluster:
    """A running local cluster: its kubeconfig, its tool directory, a kubectl."""

    kubeconfig: Path
    bindir: Path
    prometheus_url: str
    """Prometheus's API from this machine: ``RIPPLE_PROMETHEUS_URL`` of the script's ``env``."""

    @cached_property
    def facts(self) -> Facts:
        """The cluster's facts, asked once per session (they do not change while it runs)."""
        nodes = tuple(
            Node(
                name=item["metadata"]["name"],
                internal_ip=next(
                    a["address"] for a in item["status"]["addresses"] if a["type"] == "InternalIP"
                ),
                pod_cidr=item["spec"]["podCIDR"],
                taints=tuple(f"{t['key']}:{t['effect']}" for t in item["spec"].get("taints", [])),
            )
            for item in self.get_json("nodes")["items"]
        )
        dns = self.get_json("service", "kube-dns", "-n", "kube-system")
        return Facts(
            nodes=nodes,
            dns_ip=dns["spec"]["clusterIP"],
            host_is_node=any(is_local_address(n.internal_ip) for n in nodes),
        )

    def env(self) -> dict[str, str]:
        """os.environ with KUBECONFIG and PATH (kubectl, helm, vegeta) for this cluster."""
        env = dict(os.environ)
        env["KUBECONFIG"] = str(self.kubeconfig)
        env["PATH"] = f"{self.bindir}{os.pathsep}{env.get('PATH', '')}"
        return env

    def kubectl(
        self,
        *args: str,
        input: str | None = None,
        check: bool = True,
        timeout: float = 60,
    ) -> subprocess.CompletedProcess[str]:
        """Run kubectl against this cluster (and only this one); raise on failure if check."""
        cmd = [
            str(self.bindir / "kubectl"),
            f"--kubeconfig={self.kubeconfig}",
            f"--context={CONTEXT}",
            *args,
        ]
        done = subprocess.run(
            cmd, input=input, capture_output=True, text=True, timeout=timeout, env=self.env()
        )
        if check and done.returncode != 0:
            raise KubectlError(done.returncode, cmd, done.stdout, done.stderr)
        return done

    def get_json(self, *args: str, timeout: float = 60) -> Any:
        """``kubectl get ARGS -o json``, parsed."""

        return json.loads(self.kubectl("get", *args, "-o", "json", timeout=timeout).stdout)


def cluster_env_exports() -> dict[str, str]:
    """Parse ``hack/cluster env``: the single source of the kubeconfig and tool paths."""
    done = subprocess.run(
        [str(HACK_CLUSTER), "env"], capture_output=True, text=True, timeout=120, check=True
    )
    exports: dict[str, str] = {}
    for line in done.stdout.splitlines():
        match = re.fullmatch(r"export (\w+)=(.*)", line.strip())
        if match:
            exports[match.group(1)] = shlex.split(match.group(2))[0]
    return exports


def cluster_is_ready() -> bool:
    """``hack/cluster status`` exits 0 only when the node is Ready."""
    if not HACK_CLUSTER.exists():
        return False
    done = subprocess.run(
        [str(HACK_CLUSTER), "status"], capture_output=True, text=True, timeout=120
    )
    return done.returncode == 0


def cluster_diagnosis() -> str:
    """What ``hack/cluster status`` says and the tail of every component's log."""
    out = []
    for args in (["status"], ["logs", "15"]):
        done = subprocess.run(
            [str(HACK_CLUSTER), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=120,
        )
        out.append(done.stdout.strip())
    return "\n".join(out)


def wait_for_up_in_progress() -> None:
    """Let an ``hack/cluster up`` already running finish (``make test`` starts one early).

    Until it has, the node may be Ready while the addons (Chaos Mesh, Prometheus) are still
    being built, and ``status`` alone would let the tests in too soon.
    """
    subprocess.run([str(HACK_CLUSTER), "wait"], check=True, timeout=UP_TIMEOUT)


def bring_up() -> None:
    """Run ``hack/cluster up``; raise with the tail of its output if it fails."""
    done = subprocess.run(
        [str(HACK_CLUSTER), "up"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=UP_TIMEOUT,
    )
    if done.returncode != 0:
        tail = "\n".join(done.stdout.splitlines()[-80:])
        raise RuntimeError(f"hack/cluster up exited {done.returncode}:\n{tail}")


def connect() -> Cluster:
    """The cluster described by ``hack/cluster env``, after checking its kubeconfig."""
    exports = cluster_env_exports()
    kubeconfig = Path(exports["KUBECONFIG"])
    bindir = Path(exports["PATH"].split(os.pathsep)[0])
    check_kubeconfig(kubeconfig)
    return Cluster(
        kubeconfig=kubeconfig, bindir=bindir, prometheus_url=exports["RIPPLE_PROMETHEUS_URL"]
    )


def check_kubeconfig(kubeconfig: Path) -> None:
    """Refuse any kubeconfig whose context is not the local ripple cluster on loopback."""
    config = yaml.safe_load(kubeconfig.read_text())
    if config.get("current-context") != CONTEXT:
        raise UnexpectedContextError(
            f"{kubeconfig}: current-context is {config.get('current-context')!r}, "
            f"expected {CONTEXT!r}"
        )
    contexts = {c["name"]: c["context"] for c in config.get("contexts", [])}
    clusters = {c["name"]: c["cluster"] for c in config.get("clusters", [])}
    server = clusters.get(contexts.get(CONTEXT, {}).get("cluster", ""), {}).get("server", "")
    if not SERVER.match(server):
        raise UnexpectedContextError(f"{kubeconfig}: context {CONTEXT} points at {server!r}")


def namespace_name(test_name: str) -> str:
    """A valid, unique namespace name (<= 63 chars) derived from a test's name."""
    base = re.sub(r"[^a-z0-9-]+", "-", test_name.lower()).strip("-")
    base = re.sub(r"-+", "-", base)[:50].rstrip("-") or "test"
    return f"{base}-{secrets.token_hex(3)}"
