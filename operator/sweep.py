"""The sweep: fault objects left behind by runs are found in Kopf's indices and deleted.

Kopf keeps three in-memory indices from its watches: the runs' fault objects, the runs' Jobs
and the scenarios. One background task reads them every period, so while nothing is left
behind the sweep makes no API request at all; a fault it deletes costs a look at its run's
pods (one may still be rolling back) and the deletion.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

import kopf

from . import metrics, orphans
from .kube import Kube
from .orphans import Fault, JobKey, Orphan, RunJob

REASON: Final = "OrphanedFaultRemoved"
"""The reason of the Warning event posted for each fault the sweep deletes."""

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class Indices:
    """Kopf's indices the sweep reads: each maps a key to the values of the objects with it."""

    faults: Mapping[Any, Collection[Fault]]
    """Every fault object of a run, by uid."""
    jobs: Mapping[JobKey, Collection[RunJob]]
    """Every run's Job, by namespace and name."""
    scenarios: Mapping[JobKey, Collection[str]]
    """Every scenario's uid, by namespace and name."""


def snapshot(
    indices: Indices,
) -> tuple[list[Fault], dict[JobKey, RunJob], dict[JobKey, str]]:
    """Copy the indices into plain values.

    A Job counts as finished only if all its namesakes are, so a replaced Job never hides a
    running one.
    """
    faults = [fault for store in list(indices.faults.values()) for fault in store]
    jobs = {
        key: orphans.RunJob(finished=all(job.finished for job in store))
        for key, store in list(indices.jobs.items())
        if store
    }
    scenarios = {key: next(iter(store)) for key, store in list(indices.scenarios.items()) if store}
    return faults, jobs, scenarios


async def remove_fault(kube: Kube, orphan: Orphan) -> bool:
    """Delete a fault left behind, say so in an event and count it.

    ``False`` if it was gone already, or replaced by a later run's object of the same name.
    """
    fault, kind = orphan.fault, orphan.fault.kind
    deleted = await kube.delete_object(
        kind.group,
        kind.version,
        kind.plural,
        namespace=fault.namespace,
        name=fault.name,
        uid=fault.uid,
    )
    if not deleted:
        return False
    metrics.ORPHANED_FAULTS_REMOVED.labels(namespace=fault.namespace, kind=kind.kind).inc()
    message = orphan.message()
    logger.warning("%s", message)
    await kube.post_event(
        orphans.event_subject(orphan), warning=True, reason=REASON, message=message
    )
    return True


@dataclass(kw_only=True)
class Sweeper:
    """The background task that sweeps every ``period`` seconds once the indices are full."""

    kube: Kube
    indices: Indices
    period: float
    grace: float
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when Kopf has listed every indexed kind (it calls resource handlers only then)."""
    seen_jobs: set[JobKey] = field(default_factory=set)
    """The Jobs in the index at the last sweep, and those gone since that a fault names: one
    no longer in the index is gone, however young its fault."""
    task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the background task."""
        self.task = asyncio.create_task(self.run_forever(), name="ripple fault sweep")

    async def stop(self) -> None:
        """Cancel the background task and wait for it to end."""
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task

    async def run_forever(self) -> None:
        """Sweep as soon as the indices are full, then every period; never die of an error."""
        await self.ready.wait()
        logger.info("fault sweep started: every %ss", self.period)
        while True:
            try:
                await self.sweep()
            except Exception:
                logger.exception("fault sweep failed; next one in %ss", self.period)
            await asyncio.sleep(self.period)

    async def sweep(self) -> int:
        """Delete the faults whose run is over; return how many went."""
        faults, jobs, scenarios = snapshot(self.indices)
        found = orphans.orphans(
            faults,
            jobs,
            scenarios,
            datetime.now(UTC),
            grace_seconds=self.grace,
            seen_jobs=self.seen_jobs,
        )
        self.seen_jobs = orphans.remember_jobs(self.seen_jobs, set(jobs), faults)
        removed = 0
        for orphan in found:
            fault = orphan.fault
            try:
                stopping = orphans.stopping_pods(
                    await self.kube.list_job_pods(fault.namespace, fault.job)
                )
                if stopping:
                    logger.debug(
                        "%s %s/%s waits: pod %s may still roll it back",
                        fault.kind.kind,
                        fault.namespace,
                        fault.name,
                        ", ".join(stopping),
                    )
                    continue
                removed += await remove_fault(self.kube, orphan)
            except Exception:
                logger.exception(
                    "could not delete %s %s/%s", fault.kind.kind, fault.namespace, fault.name
                )
        metrics.FAULT_SWEEPS.inc()
        return removed


MEMO_SWEEPER: Final = "ripple_sweeper"


def start(memo: kopf.Memo, *, kube: Kube, indices: Indices, period: float, grace: float) -> None:
    """Start the sweep task (it waits for :func:`mark_ready`); keep it in the memo."""
    sweeper = Sweeper(kube=kube, indices=indices, period=period, grace=grace)
    memo[MEMO_SWEEPER] = sweeper
    sweeper.start()


def mark_ready(memo: kopf.Memo) -> None:
    """Let the sweep begin: Kopf has listed every indexed kind."""
    sweeper = memo.get(MEMO_SWEEPER)
    if isinstance(sweeper, Sweeper) and not sweeper.ready.is_set():
        sweeper.ready.set()


def job_seen(memo: kopf.Memo, namespace: str, name: str) -> None:
    """Remember a run's Job the moment its watch shows it, not only at the next sweep.

    A Job created and deleted between two sweeps is then still known as gone, so the fault
    its killed runner left waits one period, not the grace given to Jobs never seen.
    """
    sweeper = memo.get(MEMO_SWEEPER)
    if isinstance(sweeper, Sweeper):
        sweeper.seen_jobs.add((namespace, name))


async def stop(memo: kopf.Memo) -> None:
    """Stop the sweep task, if one runs."""
    sweeper = memo.get(MEMO_SWEEPER)
    if isinstance(sweeper, Sweeper):
        await sweeper.stop()
