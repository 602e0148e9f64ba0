"""The README's namespaced RBAC example: only namespaced grants, no wildcard, the runner bounded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

EXAMPLE = Path(__file__).parents[2] / "examples" / "rbac" / "team-namespace.yaml"


def documents() -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(EXAMPLE.read_text(encoding="utf-8")) if d]


def rules(role: str) -> dict[tuple[str, str], set[str]]:
    (found,) = [d for d in documents() if d["kind"] == "Role" and d["metadata"]["name"] == role]
    granted: dict[tuple[str, str], set[str]] = {}
    for rule in found["rules"]:
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                granted.setdefault((group, resource), set()).update(rule["verbs"])
    return granted


def test_every_grant_is_namespaced_and_names_what_it_allows() -> None:
    kinds = {d["kind"] for d in documents()}
    assert kinds == {"Role", "RoleBinding", "ServiceAccount"}
    assert {d["metadata"]["namespace"] for d in documents()} == {"shop"}
    for role in ("chaos-engineer", "shop-chaos-runner"):
        for (group, resource), verbs in rules(role).items():
            assert "*" not in {group, resource, *verbs}, role


def test_engineers_write_scenarios_but_never_their_status_or_secrets() -> None:
    granted = rules("chaos-engineer")
    assert "create" in granted[("ripple.dev", "chaosscenarios")]
    assert ("ripple.dev", "chaosscenarios/status") not in granted
    assert ("", "secrets") not in granted


def test_the_runner_account_may_not_read_secrets_or_grant_rights() -> None:
    granted = rules("shop-chaos-runner")
    assert ("", "secrets") not in granted
    assert not any(group == "rbac.authorization.k8s.io" for group, _ in granted)
    assert granted[("", "configmaps")] >= {"create", "get", "update"}, "it stores its journal"
