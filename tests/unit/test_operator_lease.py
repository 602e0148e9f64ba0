"""The Lease's pure rules: a holder is gone only once its record stood still for its duration
on this replica's own clock; a new holder counts a transition."""

from __future__ import annotations

from datetime import UTC, datetime

from ripple_operator.lease import (
    DURATION_SECONDS,
    holding_of,
    may_take,
    observe,
    released_spec,
    taken_spec,
)


def lease(holder: str, renew: str = "2026-12-02T10:00:00.000000Z", transitions: int = 1) -> dict:
    return {
        "metadata": {"resourceVersion": "7"},
        "spec": {
            "holderIdentity": holder,
            "renewTime": renew,
            "leaseDurationSeconds": DURATION_SECONDS,
            "leaseTransitions": transitions,
        },
    }


def test_another_holder_is_gone_only_after_its_record_stood_still_for_the_duration() -> None:
    held = holding_of(lease("a"))
    seen = observe(None, held, now=100.0)
    assert not may_take(held, seen, "b", now=100.0 + DURATION_SECONDS - 0.1)
    assert may_take(held, observe(seen, held, now=109.0), "b", now=100.0 + DURATION_SECONDS)
    renewed = holding_of(lease("a", renew="2026-12-02T10:00:04.000000Z"))
    seen_again = observe(seen, renewed, now=104.0)
    assert seen_again.since == 104.0
    assert not may_take(renewed, seen_again, "b", now=100.0 + DURATION_SECONDS)


def test_ones_own_or_a_released_lease_is_taken_at_once() -> None:
    for holder in ("b", ""):
        held = holding_of(lease(holder))
        assert may_take(held, observe(None, held, now=0.0), "b", now=0.0)


def test_taking_counts_a_transition_renewing_does_not() -> None:
    now = datetime(2026, 12, 2, 10, 0, 1, 500, tzinfo=UTC)
    taken = taken_spec(holding_of(lease("a", transitions=3)), "b", now)
    assert taken["holderIdentity"] == "b"
    assert taken["leaseTransitions"] == 4
    assert taken["acquireTime"] == taken["renewTime"] == "2026-12-02T10:00:01.000500Z"
    renewed = taken_spec(holding_of(lease("b", transitions=4)), "b", now)
    assert renewed["leaseTransitions"] == 4
    assert "acquireTime" not in renewed
    assert taken_spec(None, "b", now)["leaseTransitions"] == 1
    assert released_spec(holding_of(lease("b")))["holderIdentity"] == ""
