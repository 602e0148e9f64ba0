"""The fault window of a run, read from its journal: when each fault began, took effect, ended.

A fault is the action just before an in-effect check (see ``ripple_experiments.extension.
in_effect``): the action's start is ``injectedAt``, the check's success ``confirmedAt``,
and the end of the rollbacks (or of the method, for a fault that heals itself, such as a
deleted pod) ``removedAt``. The runner stores the records in the journal; the operator
copies them into ``status.lastRun.fault``; the timeline shades that window.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from .verdict import IN_EFFECT_MODULE, error_line

FAULT_KINDS: Final = {
    "network_chaos_injected": "NetworkChaos",
    "network_policy_blocks": "NetworkPolicy",
    "pod_replaced": "PodRestart",
    "proxy_latency_in_effect": "ProxyLatency",
}
"""What each in-effect check proves, by its function name."""

MAX_EVIDENCE: Final = 240


def fault_records(journal: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """One record per in-effect check the method ran (succeeded or not)."""
    if not journal:
        return []
    runs = [entry for entry in _list(journal.get("run")) if isinstance(entry, Mapping)]
    healed_at = _end_of_fault(journal, runs)
    records = []
    for index, entry in enumerate(runs):
        activity = entry.get("activity") or {}
        provider = activity.get("provider") or {}
        if provider.get("module") != IN_EFFECT_MODULE:
            continue
        func = str(provider.get("func") or "")
        raw_output = entry.get("output")
        output: Mapping[str, Any] = raw_output if isinstance(raw_output, Mapping) else {}
        arguments = provider.get("arguments") or {}
        injected = next(
            (
                runs[i].get("start")
                for i in range(index - 1, -1, -1)
                if (runs[i].get("activity") or {}).get("type") == "action"
            ),
            entry.get("start"),
        )
        succeeded = entry.get("status") == "succeeded"
        evidence = str(output.get("evidence") or "") if succeeded else error_line(entry)
        records.append(
            {
                "kind": str(output.get("kind") or FAULT_KINDS.get(func, func)),
                "target": str(output.get("target") or _target(arguments)),
                "injectedAt": injected,
                "confirmedAt": output.get("confirmedAt") if succeeded else None,
                "removedAt": output.get("removedAt") or healed_at,
                "inEffect": succeeded,
                "evidence": evidence[:MAX_EVIDENCE],
            }
        )
    return records


def _end_of_fault(journal: Mapping[str, Any], runs: Sequence[Mapping[str, Any]]) -> Any:
    """When the faults were gone: the last rollback's end, else the method's end."""
    rollbacks = [r for r in _list(journal.get("rollbacks")) if isinstance(r, Mapping)]
    done = [str(r["end"]) for r in rollbacks if r.get("status") == "succeeded" and r.get("end")]
    if rollbacks:
        return max(done) if len(done) == len(rollbacks) else None
    ends = [str(r["end"]) for r in runs if r.get("end")]
    return max(ends) if ends else None


def _target(arguments: Mapping[str, Any]) -> str:
    for key in ("name", "label_selector", "address"):
        if arguments.get(key):
            return str(arguments[key])
    return ""


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
