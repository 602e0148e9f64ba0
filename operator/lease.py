"""Leader election by a Kubernetes Lease, the pure part: who holds it, may we take it.

Like client-go's leader election, expiry is judged on this replica's own monotonic clock:
a holder whose record (holder and renew time) has not changed for ``leaseDurationSeconds``
since we first saw it is gone, whatever the clocks of the machines say.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

DURATION_SECONDS: Final = 8
"""How long a Lease holds without renewal: a leader killed outright is replaced within it
plus one ``RETRY_SECONDS``."""
RENEW_SECONDS: Final = 4.0
"""How often the leader renews (one request each: 0.25 a second)."""
RETRY_SECONDS: Final = 4.0
"""How often a standby looks at the Lease (one request each)."""


@dataclass(frozen=True, kw_only=True)
class Holding:
    """What a Lease says: who holds it, since when its record changed, how long it lasts."""

    holder: str
    renew_time: str
    duration_seconds: int
    transitions: int
    resource_version: str


def holding_of(lease: Mapping[str, Any]) -> Holding:
    """Read a Lease object as the API returns it."""
    spec = lease.get("spec") or {}
    return Holding(
        holder=str(spec.get("holderIdentity") or ""),
        renew_time=str(spec.get("renewTime") or ""),
        duration_seconds=int(spec.get("leaseDurationSeconds") or DURATION_SECONDS),
        transitions=int(spec.get("leaseTransitions") or 0),
        resource_version=str((lease.get("metadata") or {}).get("resourceVersion") or ""),
    )


@dataclass(frozen=True, kw_only=True)
class Observed:
    """The Lease record as first seen by this replica, and when (monotonic seconds)."""

    record: tuple[str, str]
    since: float


def observe(previous: Observed | None, holding: Holding, now: float) -> Observed:
    """Remember when the record changed last, as this replica saw it."""
    record = (holding.holder, holding.renew_time)
    if previous is not None and previous.record == record:
        return previous
    return Observed(record=record, since=now)


def may_take(holding: Holding, observed: Observed, identity: str, now: float) -> bool:
    """Whether this replica may write itself in: its own, released, or expired Lease."""
    if holding.holder in ("", identity):
        return True
    return now - observed.since >= holding.duration_seconds


def micro_time(moment: datetime) -> str:
    """Write a time as the API's MicroTime."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def taken_spec(holding: Holding | None, identity: str, now: datetime) -> dict[str, Any]:
    """Give the Lease's spec with this replica as holder (a new holder counts a transition)."""
    stamp = micro_time(now)
    keeps = holding is not None and holding.holder == identity
    transitions = (holding.transitions if holding else 0) + (0 if keeps else 1)
    spec: dict[str, Any] = {
        "holderIdentity": identity,
        "leaseDurationSeconds": DURATION_SECONDS,
        "renewTime": stamp,
        "leaseTransitions": transitions,
    }
    if not keeps:
        spec["acquireTime"] = stamp
    return spec


def released_spec(holding: Holding) -> dict[str, Any]:
    """Give the Lease's spec released by its holder: a standby takes it at its next look."""
    return {
        "holderIdentity": "",
        "leaseDurationSeconds": 1,
        "renewTime": holding.renew_time or None,
        "leaseTransitions": holding.transitions,
    }
