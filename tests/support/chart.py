"""Render the Helm chart with the built helm (``hack/tools helm``) and index what it made."""

from __future__ import annotations

import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

TOP = Path(__file__).resolve().parents[2]
CHART = TOP / "charts" / "ripple"
CI_VALUES = sorted((CHART / "ci").glob("*-values.yaml"))
KUBE_VERSION = "1.31.0"
"""Told to ``helm template`` (the chart needs >= 1.29 for native sidecars)."""

Manifest = dict[str, Any]


@cache
def helm() -> str:
    """The path of the helm that hack/tools builds (once) into the tool cache."""
    done = subprocess.run(
        [str(TOP / "hack" / "tools"), "helm"], capture_output=True, text=True, check=True
    )
    return done.stdout.strip().splitlines()[-1]


class RenderError(RuntimeError):
    """helm template refused the values; the message is helm's."""


@dataclass(frozen=True)
class Rendered:
    """The manifests of one render, findable by kind and name."""

    manifests: list[Manifest]

    def of_kind(self, kind: str) -> list[Manifest]:
        """Every manifest of ``kind``."""
        return [m for m in self.manifests if m["kind"] == kind]

    def get(self, kind: str, name: str, namespace: str | None = None) -> Manifest:
        """The one manifest of ``kind`` named ``name`` (in ``namespace`` if given)."""
        found = [
            m
            for m in self.of_kind(kind)
            if m["metadata"]["name"] == name
            and (namespace is None or m["metadata"].get("namespace") == namespace)
        ]
        assert len(found) == 1, f"{len(found)} {kind}/{name} rendered, expected one"
        return found[0]

    def names(self, kind: str) -> set[str]:
        """The names of every manifest of ``kind``."""
        return {m["metadata"]["name"] for m in self.of_kind(kind)}


def render(
    *,
    values: Iterable[Path] = (),
    set_values: Iterable[str] = (),
    release: str = "ripple",
    namespace: str = "ripple-demo",
    api_versions: Iterable[str] = (),
    kube_version: str = KUBE_VERSION,
) -> Rendered:
    """``helm template`` the chart (CRDs included) and parse every document."""
    cmd = [
        helm(),
        "template",
        release,
        str(CHART),
        "--namespace",
        namespace,
        "--kube-version",
        kube_version,
        "--include-crds",
    ]
    for path in values:
        cmd += ["--values", str(path)]
    for item in set_values:
        cmd += ["--set", item]
    for api in api_versions:
        cmd += ["--api-versions", api]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise RenderError(done.stderr.strip())
    docs = [d for d in yaml.safe_load_all(done.stdout) if d]
    return Rendered(manifests=docs)


def to_yaml(manifests: Iterable[Manifest]) -> str:
    """Manifests as one multi-document YAML stream."""
    return yaml.safe_dump_all(list(manifests), sort_keys=False)


def rules_of(role: Manifest) -> dict[tuple[str, str], set[str]]:
    """A Role's or ClusterRole's verbs by (API group, resource)."""
    rules: dict[tuple[str, str], set[str]] = {}
    for rule in role["rules"]:
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                rules.setdefault((group, resource), set()).update(rule["verbs"])
    return rules
