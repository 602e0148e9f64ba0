"""Kopf's entry points: thin handlers, each handing over to a ``handle_<verb>_<thing>``.

Domain outcomes become Kopf's: an invalid spec gives up (``PermanentError``) after the
status says why; "not yet" (a ConfigMap to come, a Job still stopping) retries later.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, Final

import kopf

from ripple_contract import names

from . import memory, metrics, orphans, reconcile, runs, scheduler, startup, sweep
from .errors import RetryLaterError
from .kube import throttled_delay
from .spec import InvalidSpecError

SCENARIOS: Final = (names.GROUP, names.VERSION, names.PLURAL)
JOBS: Final = ("batch", "v1", "jobs")
RUN_JOBS: Final[dict[str, Any]] = {
    names.LABEL_MANAGED_BY: names.MANAGED_BY,
    names.LABEL_SCENARIO: kopf.PRESENT,
}
FAULTS: Final[dict[str, Any]] = {
    names.LABEL_MANAGED_BY: names.MANAGED_BY,
    names.LABEL_SCENARIO: kopf.PRESENT,
    names.LABEL_RUN: kopf.PRESENT,
}
"""The labels of every fault object a run creates (see ``orphans.FAULT_KINDS``)."""
MAX_BACKOFF_SECONDS: Final = 60.0


def backoff(retry: int) -> float:
    """Seconds before retry number ``retry``: 1, 2, 4, ... up to a minute."""
    return float(min(MAX_BACKOFF_SECONDS, 2.0 ** min(retry, 6)))


@asynccontextmanager
async def outcome(handler: str, retry: int) -> AsyncIterator[None]:
    """Time the handler; domain errors and the API server's 429 become Kopf's give-up or retry."""
    with metrics.timed(handler):
        try:
            yield
        except InvalidSpecError as exc:
            raise kopf.PermanentError(str(exc)) from exc
        except RetryLaterError as exc:
            raise kopf.TemporaryError(str(exc), delay=exc.delay or backoff(retry)) from exc
        except Exception as exc:
            delay = throttled_delay(exc)
            if delay is None:
                raise
            raise kopf.TemporaryError("the API server asked us to slow down", delay=delay) from exc


@kopf.on.login()
def log_in(**kwargs: Any) -> kopf.ConnectionInfo | None:
    """Log in from the pod's service account, else from $KUBECONFIG (read now)."""
    return kopf.login_with_service_account(**kwargs) or kopf.login_with_kubeconfig(**kwargs)


@kopf.on.startup()
async def start_operator(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    """Load the configuration, log in, tune Kopf."""
    await startup.handle_start_operator(settings=settings, memo=memo)


@kopf.on.startup()
async def start_sweep(memo: kopf.Memo, **kwargs: Any) -> None:
    """Start the background sweep of fault objects left behind by runs.

    Kopf hands every handler its indices by name (below); they fill as the watches list.
    """
    context = startup.context_of(memo)
    indices = sweep.Indices(
        faults=kwargs["ripple_faults"],
        jobs=kwargs["ripple_run_jobs"],
        scenarios=kwargs["ripple_scenarios"],
    )
    sweep.start(
        memo,
        kube=context.kube,
        indices=indices,
        period=context.config.sweep_seconds,
        grace=context.config.sweep_grace_seconds,
    )


@kopf.on.startup()
async def start_scheduler(memo: kopf.Memo, **_: Any) -> None:
    """Start the one timer of every scheduled scenario; the scenarios' watch feeds it."""
    context = startup.context_of(memo)

    async def fire(namespace: str, name: str) -> None:
        log = reconcile.object_logger(namespace, name)
        with metrics.timed("tick_schedule"):
            await reconcile.handle_schedule_tick(
                context, namespace=namespace, name=name, logger=log
            )

    scheduler.start(memo, fire=fire)


@kopf.on.startup()
async def start_memory_trim(memo: kopf.Memo, **_: Any) -> None:
    """Give the heap's free pages back now and then (a start's bodies leave hundreds of MiB)."""
    memory.start(memo)


@kopf.on.cleanup()
async def stop_memory_trim(memo: kopf.Memo, **_: Any) -> None:
    """Stop the memory trimmer."""
    await memory.stop(memo)


@kopf.on.cleanup()
async def stop_scheduler(memo: kopf.Memo, **_: Any) -> None:
    """Stop the scheduler before the API client closes."""
    await scheduler.stop(memo)


@kopf.on.cleanup()
async def stop_sweep(memo: kopf.Memo, **_: Any) -> None:
    """Stop the sweep before the API client closes."""
    await sweep.stop(memo)


@kopf.on.cleanup()
async def stop_operator(memo: kopf.Memo, **_: Any) -> None:
    """Close the API client and the metrics endpoint."""
    await startup.handle_stop_operator(memo=memo)


@kopf.on.resume(*SCENARIOS)
@kopf.on.create(*SCENARIOS)
@kopf.on.update(*SCENARIOS)
async def reconcile_scenario(
    name: str, namespace: str | None, memo: kopf.Memo, logger: kopf.Logger, retry: int, **_: Any
) -> None:
    """Start a run when the scenario asks for one."""
    async with outcome("reconcile_scenario", retry):
        await reconcile.handle_reconcile_scenario(
            startup.context_of(memo), namespace=str(namespace), name=name, logger=logger
        )


@kopf.index(*SCENARIOS, id="ripple_schedules")
def index_schedule(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    """Give the scheduler the scenario's next cron tick (no API request, no log line).

    An index rather than an event handler: Kopf calls it on every change as well, logs
    nothing, and keeps nothing (the scheduler keeps the times).
    """
    scheduler.feed(memo, body)


@kopf.on.delete(*SCENARIOS)
async def delete_scenario(
    name: str, namespace: str | None, memo: kopf.Memo, logger: kopf.Logger, retry: int, **_: Any
) -> None:
    """Stop the run underway, in the foreground, before the scenario goes."""
    async with outcome("delete_scenario", retry):
        await reconcile.handle_delete_scenario(
            startup.context_of(memo), namespace=str(namespace), name=name, logger=logger
        )


@kopf.on.resume(*JOBS, labels=RUN_JOBS)
@kopf.on.field(*JOBS, field="status", labels=RUN_JOBS)
async def follow_job(
    body: kopf.Body,
    old: Any,
    reason: str,
    memo: kopf.Memo,
    logger: kopf.Logger,
    retry: int,
    **_: Any,
) -> None:
    """Write a finished run's outcome into its scenario."""
    just_finished = (
        reason != kopf.Reason.RESUME
        and retry == 0
        and isinstance(old, Mapping)
        and runs.is_finished(body)
        and not runs.is_finished({"status": old})
    )
    async with outcome("follow_job", retry):
        await reconcile.handle_follow_job(
            startup.context_of(memo), job=body, logger=logger, just_finished=just_finished
        )


@kopf.on.event(*JOBS, labels=RUN_JOBS)
async def watch_job(event: kopf.RawEvent, memo: kopf.Memo, logger: kopf.Logger, **_: Any) -> None:
    """Keep the active-runs gauge in step; end a run whose Job was deleted."""
    meta = event["object"].get("metadata") or {}
    sweep.job_seen(memo, str(meta.get("namespace")), str(meta.get("name")))
    async with outcome("watch_job", retry=0):
        await reconcile.handle_watch_job(
            startup.context_of(memo), event_type=event["type"], job=event["object"], logger=logger
        )


# --- the indices of the sweep: in memory, kept by Kopf's watches -----------------------


@kopf.index(*SCENARIOS, id="ripple_scenarios")
def index_scenario(namespace: str | None, name: str, uid: str, **_: Any) -> dict[Any, str]:
    """Index every scenario's uid by namespace and name."""
    return {(str(namespace), name): uid}


@kopf.index(*JOBS, labels=RUN_JOBS, id="ripple_run_jobs")
def index_run_job(
    body: kopf.Body, namespace: str | None, name: str, **_: Any
) -> dict[Any, orphans.RunJob]:
    """Index every run's Job (finished or not) by namespace and name."""
    return {(str(namespace), name): orphans.run_job_of(body)}


def index_fault(
    body: kopf.Body, resource: kopf.Resource, **_: Any
) -> dict[str, orphans.Fault] | None:
    """Index a run's fault object by its uid."""
    kind = orphans.kind_of(resource.group, resource.plural)
    fault = orphans.fault_of(body, kind) if kind is not None else None
    return {fault.uid: fault} if fault is not None else None


def fault_seen(memo: kopf.Memo, **_: Any) -> None:
    """Kopf calls a resource's handlers only once every index is full: the sweep may begin."""
    sweep.mark_ready(memo)


for _kind in orphans.FAULT_KINDS:
    _fault_kind = (_kind.group, _kind.version, _kind.plural)
    kopf.index(*_fault_kind, labels=FAULTS, id="ripple_faults")(index_fault)
    kopf.on.event(*_fault_kind, labels=FAULTS, id=f"fault_seen/{_kind.plural}")(fault_seen)
