"""A service account with a Role of its own: the runner accounts tests give their runs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import yaml

JOURNAL_RULES: list[dict[str, Any]] = [
    {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["create", "get", "update", "patch"]},
    {"apiGroups": ["ripple.dev"], "resources": ["chaosscenarios"], "verbs": ["get"]},
]
"""What every runner needs to store its journal, owned by its scenario."""


def account_manifests(
    name: str, rules: Sequence[Mapping[str, Any]], *, namespace: str | None = None
) -> str:
    """ServiceAccount, Role and RoleBinding named ``name``, as one YAML stream."""
    meta: dict[str, str] = {"name": name, **({"namespace": namespace} if namespace else {})}
    subject: dict[str, str] = {"kind": "ServiceAccount", "name": name}
    if namespace:
        subject["namespace"] = namespace
    documents = [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta},
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": meta,
            "rules": [dict(rule) for rule in rules],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": meta,
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
            "subjects": [subject],
        },
    ]
    return yaml.safe_dump_all(documents, sort_keys=False)
