"""What the operator does about a scenario: start runs, follow them, stop them.

Every decision is taken on state read fresh from the API (the scenario and its Jobs),
never on memory, so a restarted operator carries on where the last one stopped. The
decisions themselves are pure (``decisions.py``); this module reads, asks and acts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ripple_contract import names
from ripple_contract.load import MAX_BODY_BYTES

from . import decisions, metrics, runs
from .config import Config
from .errors import RetryLaterError
from .experiment_source import (
    Catalog,
    ConfigMapNotFoundError,
    ResolvedExperiment,
    builtin_catalog,
    resolve_experiment,
    source_field,
    validate_experiment,
)
from .job_builder import ScenarioRef, build_run, configuration_overrides
from .kube import Kube, RefusedError
from .policy import ReferenceNotFoundError, check_policy, references
from .spec import InvalidSpecError, ScenarioSpec, check_scenario_name, parse_spec
from .status import (
    Journal,
    RunInfo,
    finished_patch,
    invalid_patch,
    is_recorded,
    observed,
    pending_patch,
    run_record,
    started_patch,
)

Logger = logging.Logger | logging.LoggerAdapter[logging.Logger]
Body = Mapping[str, Any]


@dataclass(frozen=True, kw_only=True)
class Context:
    """What every handler needs: the configuration and the API client."""

    config: Config
    kube: Kube
    catalog: Catalog = field(default=builtin_catalog)


class RunsStillStoppingError(RetryLaterError):
    """The scenario is being deleted and its run's Job has not gone yet."""

    delay = 2.0


@dataclass(frozen=True, kw_only=True)
class _Prepared:
    spec: ScenarioSpec
    experiment: ResolvedExperiment
    load_body: str | None = None


class _ObjectLogger(logging.LoggerAdapter[logging.Logger]):
    """Log lines about one scenario, prefixed like Kopf's own: ``[namespace/name] ...``."""

    def process(self, msg: Any, kwargs: Any) -> tuple[Any, Any]:
        extra = self.extra or {}
        return f"[{extra.get('namespace')}/{extra.get('name')}] {msg}", kwargs


def object_logger(namespace: str, name: str) -> Logger:
    """Give a logger for work on a scenario outside a Kopf handler (the scheduler's ticks)."""
    return _ObjectLogger(logging.getLogger(__name__), {"namespace": namespace, "name": name})


def now_rfc3339() -> str:
    """Give the current time as the API's ``date-time`` (whole seconds, UTC)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _meta(body: Body) -> Mapping[str, Any]:
    meta: Mapping[str, Any] = body.get("metadata") or {}
    return meta


def _ref(scenario: Body) -> ScenarioRef:
    meta = _meta(scenario)
    return ScenarioRef(name=meta["name"], namespace=meta["namespace"], uid=meta["uid"])


# --- starting runs ----------------------------------------------------------------------


async def handle_reconcile_scenario(
    ctx: Context, *, namespace: str, name: str, logger: Logger
) -> None:
    """Start a run if the scenario asks for one (created, spec changed, rerun) and none runs."""
    scenario = await ctx.kube.get_scenario(namespace, name)
    if scenario is None or not decisions.is_live(scenario):
        return
    jobs = await ctx.kube.list_jobs(namespace, name)
    decision = decisions.decide_reconcile(scenario, jobs)
    if decision.vanished_run is not None:
        logger.warning("run %s lost its Job before it finished", decision.vanished_run)
        journal = await _read_journal(ctx, scenario, decision.vanished_run)
        await _record_run(
            ctx,
            scenario=scenario,
            job=None,
            run=decision.vanished_run,
            journal=journal,
            logger=logger,
        )
    match decision.next:
        case decisions.WaitForRun(trigger=trigger, job=job):
            logger.info("a %s trigger waits for the run underway (Job %s)", trigger, job)
        case decisions.StartRun(trigger=trigger):
            await _start_run(ctx, scenario=scenario, jobs=jobs, trigger=trigger, logger=logger)


async def handle_schedule_tick(ctx: Context, *, namespace: str, name: str, logger: Logger) -> None:
    """Start the scheduled run if a cron tick fell since the last one (skip if one runs)."""
    scenario = await ctx.kube.get_scenario(namespace, name)
    if scenario is None or not decisions.is_live(scenario):
        return
    if not decisions.tick_due(scenario, datetime.now(UTC)):
        return
    stamp = {"lastScheduleTime": now_rfc3339()}
    jobs = await ctx.kube.list_jobs(namespace, name)
    tick = decisions.decide_tick(jobs)
    if isinstance(tick, decisions.SkipTick):
        await ctx.kube.update_status(namespace, name, lambda _: stamp)
        job = tick.job
        logger.info("schedule tick skipped: Job %s is still running", job)
        await ctx.kube.post_event(
            scenario,
            warning=False,
            reason="ScheduleSkipped",
            message=f"a scheduled run was skipped: Job {job} is still running",
        )
        return
    try:
        await _start_run(
            ctx, scenario=scenario, jobs=jobs, trigger=tick.trigger, logger=logger, extra=stamp
        )
    except InvalidSpecError:
        await ctx.kube.update_status(namespace, name, lambda _: stamp)
        raise


async def _start_run(
    ctx: Context,
    *,
    scenario: Body,
    jobs: list[dict[str, Any]],
    trigger: str,
    logger: Logger,
    extra: Mapping[str, Any] | None = None,
) -> None:
    ref = _ref(scenario)
    generation = int(_meta(scenario).get("generation") or 0)
    rerun = runs.annotations_of(scenario).get(names.ANNOTATION_RERUN, "")
    prepared = await _prepare(ctx, scenario, generation=generation, rerun=rerun, logger=logger)
    if prepared.spec.suspend:

        def mark_suspended(fresh: Body) -> dict[str, Any]:
            patch = decisions.suspended_patch(
                fresh.get("status"), trigger=trigger, generation=generation, rerun=rerun
            )
            return {**patch, **(extra or {})}

        await ctx.kube.update_status(ref.namespace, ref.name, mark_suspended)
        logger.info("suspended: the %s trigger starts no run", trigger)
        return
    run = runs.next_run(scenario.get("status"), jobs)
    objects = build_run(
        scenario=ref,
        run=run,
        spec=prepared.spec,
        experiment=prepared.experiment,
        config=ctx.config,
        trigger=trigger,
        annotations=runs.job_annotations(generation, rerun),
        load_body=prepared.load_body,
    )
    if objects.configmap is not None:
        await ctx.kube.create_configmap(objects.configmap)
    job = names.job_name(ref.name, run)
    try:
        created = await ctx.kube.create_job(objects.job)
    except RefusedError as exc:
        if objects.configmap is not None:
            await ctx.kube.delete_configmap(ref.namespace, objects.configmap["metadata"]["name"])
        refused = InvalidSpecError("spec", f"the API server refused the run's Job: {exc}")
        await _mark_invalid(
            ctx,
            scenario,
            refused,
            generation=generation,
            rerun=rerun,
            label=prepared.experiment.label,
            logger=logger,
        )
        raise refused from None
    if not created:
        logger.info("Job %s exists already: another trigger started run %s", job, run)
        return
    metrics.RUNS_STARTED.labels(namespace=ref.namespace, trigger=trigger).inc()
    metrics.job_seen(f"{ref.namespace}/{job}", active=True)
    now = now_rfc3339()

    def mark_started(fresh: Body) -> dict[str, Any]:
        status = fresh.get("status")
        if is_recorded(status, run):  # it finished before we got here
            return {**observed(generation, rerun), **(extra or {})}
        patch = started_patch(
            status,
            run=run,
            job=job,
            trigger=trigger,
            now=now,
            experiment=prepared.experiment.label,
            generation=generation,
            rerun=rerun,
        )
        return {**patch, **(extra or {})}

    await ctx.kube.update_status(ref.namespace, ref.name, mark_started)
    logger.info("run %s started (%s): Job %s", run, trigger, job)
    await ctx.kube.post_event(
        scenario,
        warning=False,
        reason="RunStarted",
        message=f"run {run} started ({trigger}): Job {job}, experiment {prepared.experiment.label}",
    )


async def _prepare(
    ctx: Context, scenario: Body, *, generation: int, rerun: str, logger: Logger
) -> _Prepared:
    """Parse, resolve and validate; an invalid spec ends here with its status written."""
    ref = _ref(scenario)
    label: str | None = None
    try:
        check_scenario_name(ref.name)
        spec = parse_spec(scenario.get("spec"))
        label = spec.experiment.name
        data = None
        if spec.experiment.config_map_ref is not None:
            data = await ctx.kube.get_configmap_data(
                ref.namespace, spec.experiment.config_map_ref.name
            )
        check_policy(spec, config=ctx.config, namespace=ref.namespace)
        experiment = resolve_experiment(spec.experiment, configmap_data=data, catalog=ctx.catalog)
        label = experiment.label
        await _check_priority_class(ctx, spec)
        load_body = await _read_references(ctx, spec, ref.namespace)
        secret_envs = spec.secret_envs()
        await asyncio.to_thread(
            validate_experiment,
            experiment,
            configuration=configuration_overrides(spec, ref.namespace),
            field=source_field(spec.experiment),
            secret_envs=secret_envs,
            env_names={*secret_envs.values(), *(var.name for var in spec.env)},
            resolve_providers=spec.image is None or spec.image == ctx.config.image,
        )
    except InvalidSpecError as exc:
        await _mark_invalid(
            ctx, scenario, exc, generation=generation, rerun=rerun, label=label, logger=logger
        )
        raise
    except (ConfigMapNotFoundError, ReferenceNotFoundError) as exc:
        waiting = str(exc)
        await ctx.kube.update_status(
            ref.namespace,
            ref.name,
            lambda fresh: pending_patch(fresh.get("status"), message=waiting, now=now_rfc3339()),
        )
        logger.info("%s", waiting)
        raise
    return _Prepared(spec=spec, experiment=experiment, load_body=load_body)


async def _mark_invalid(
    ctx: Context,
    scenario: Body,
    exc: InvalidSpecError,
    *,
    generation: int,
    rerun: str,
    label: str | None,
    logger: Logger,
) -> None:
    """Write phase Invalid with the message naming the field, count it and tell the user."""
    ref = _ref(scenario)
    message = str(exc)
    await ctx.kube.update_status(
        ref.namespace,
        ref.name,
        lambda fresh: invalid_patch(
            fresh.get("status"),
            message=message,
            now=now_rfc3339(),
            generation=generation,
            rerun=rerun,
            experiment=label,
        ),
    )
    metrics.INVALID_SPECS.inc()
    logger.warning("invalid spec: %s", message)
    await ctx.kube.post_event(scenario, warning=True, reason="InvalidSpec", message=message)


async def _check_priority_class(ctx: Context, spec: ScenarioSpec) -> None:
    """Refuse a priority class the cluster does not have (its pods would never be created)."""
    name = spec.pod.priority_class_name or ctx.config.pod_defaults.get("priorityClassName")
    if name and await ctx.kube.priority_class_exists(str(name)) is False:
        raise InvalidSpecError(
            "spec.pod.priorityClassName", f"the cluster has no PriorityClass {name!r}"
        )


async def _read_references(ctx: Context, spec: ScenarioSpec, namespace: str) -> str | None:
    """Wait for every Secret and ConfigMap key the run reads; give the load's body.

    Secret values are never read out of :class:`Kube`: only the names of their keys.
    """
    body = spec.load.body if spec.load is not None else None
    for reference in references(spec):
        if reference.kind == "Secret":
            keys = await ctx.kube.secret_keys(namespace, reference.name)
            data = None
        else:
            data = await ctx.kube.get_configmap_data(namespace, reference.name)
            keys = None if data is None else frozenset(data)
        if keys is None:
            raise ReferenceNotFoundError(reference, key_missing=False)
        if reference.key not in keys:
            raise ReferenceNotFoundError(reference, key_missing=True)
        if data is not None and reference.field.startswith("spec.load.bodyFrom"):
            body = data[reference.key]
            if len(body.encode()) > MAX_BODY_BYTES:
                raise InvalidSpecError(
                    reference.field,
                    f"ConfigMap {reference.name!r} key {reference.key!r} holds "
                    f"{len(body.encode())} bytes, the limit is {MAX_BODY_BYTES}",
                )
    return body


# --- following runs ---------------------------------------------------------------------


async def handle_follow_job(
    ctx: Context, *, job: Body, logger: Logger, just_finished: bool = False
) -> None:
    """When a run's Job has ended, write its outcome into the scenario (once).

    ``just_finished``: this change is the Job's end itself, so its run is all but surely
    unrecorded and the journal is read beside the scenario (one round trip, not two).
    Otherwise (a later change, a restart) the journal is read only if the run needs it.
    """
    meta = _meta(job)
    namespace, job_name = meta["namespace"], meta["name"]
    finished = runs.is_finished(job)
    metrics.job_seen(f"{namespace}/{job_name}", active=not finished and not runs.is_deleting(job))
    ended = decisions.ended_run(job)
    if ended is None:
        return
    journal_name = names.journal_configmap_name(ended.scenario, ended.run)
    journal: Journal | None = None
    if just_finished:
        scenario, journal = await asyncio.gather(
            ctx.kube.get_scenario(namespace, ended.scenario),
            ctx.kube.read_journal(namespace, journal_name),
        )
    else:
        scenario = await ctx.kube.get_scenario(namespace, ended.scenario)
    if scenario is None:
        return
    follow = decisions.decide_follow(scenario, ended.run)
    reconcile = follow.reconcile
    if follow.record:
        if not just_finished:
            journal = await ctx.kube.read_journal(namespace, journal_name)
        stored = await _record_run(
            ctx, scenario=scenario, job=job, run=ended.run, journal=journal, logger=logger
        )
        # What waited for this run shows in the status just written (a newer generation
        # or rerun); without it the reconcile would find nothing to start.
        reconcile = stored is None or runs.maybe_pending(stored)
    if reconcile:
        await handle_reconcile_scenario(
            ctx, namespace=namespace, name=ended.scenario, logger=logger
        )


async def _read_journal(ctx: Context, scenario: Body, run: str) -> Journal | None:
    ref = _ref(scenario)
    return await ctx.kube.read_journal(ref.namespace, names.journal_configmap_name(ref.name, run))


async def _record_run(
    ctx: Context,
    *,
    scenario: Body,
    job: Body | None,
    run: str,
    journal: Journal | None,
    logger: Logger,
) -> Body | None:
    """Write a run's end (with the journal read for it) into the status.

    ``job`` is ``None`` when its Job vanished. ``scenario`` was just read: the write goes
    over it. Returns the stored scenario, or ``None`` if the run was recorded meanwhile.
    """
    ref = _ref(scenario)
    journal_name = names.journal_configmap_name(ref.name, run)
    if job is None:
        job_name, trigger, outcome = decisions.vanished_job_end(scenario, run)
    else:
        job_name = _meta(job)["name"]
        trigger = runs.annotations_of(job).get(names.ANNOTATION_TRIGGER, "")
        termination = None
        if decisions.needs_termination_message(job, journal):
            termination = await ctx.kube.termination_message(
                ref.namespace, job_name, names.RUNNER_CONTAINER
            )
        outcome = runs.job_outcome(job, termination)
    info = RunInfo(run=run, job=job_name, trigger=trigger, journal_configmap=journal_name)
    record = run_record(info=info, journal=journal, outcome=outcome)
    limit = decisions.history_limit(scenario)
    dropped: list[str] = []

    def mark_finished(fresh: Body) -> dict[str, Any] | None:
        status = fresh.get("status")
        if is_recorded(status, run):
            return None
        patch, gone = finished_patch(status, record=record, history_limit=limit, now=now_rfc3339())
        dropped[:] = gone
        return patch

    stored = await ctx.kube.update_status(ref.namespace, ref.name, mark_finished, read=scenario)
    if stored is None:
        return None
    verdict = record["verdict"]
    metrics.run_finished(ref.namespace, verdict, record.get("durationSeconds"))
    logger.info(
        "run %s finished: %s, %s (%s)", run, verdict, record.get("reason"), record.get("message")
    )
    await ctx.kube.post_event(
        scenario,
        warning=verdict != "Pass",
        reason="RunFinished",
        message=(
            f"run {run} finished with verdict {verdict} ({record.get('reason')}): "
            f"{record.get('message', '')}"
        ),
    )
    if dropped:
        await _prune(ctx, stored, dropped=dropped, logger=logger)
    return stored


async def _prune(ctx: Context, scenario: Body, *, dropped: list[str], logger: Logger) -> None:
    """Delete the Jobs and ConfigMaps of runs that fell out of the history.

    Called when this write dropped runs: the listing also finds objects of older runs a
    former trim left behind (an operator stopped between the write and this).
    """
    ref = _ref(scenario)
    history = (scenario.get("status") or {}).get("history") or []
    kept = [str(entry.get("id")) for entry in history]
    jobs = await ctx.kube.list_jobs(ref.namespace, ref.name)
    active = [run for run in (runs.run_of(job) for job in runs.active_jobs(jobs)) if run]
    for job in runs.runs_to_prune(kept, active, jobs):
        if not runs.is_deleting(job):
            await ctx.kube.delete_job(ref.namespace, _meta(job)["name"], foreground=False)
    configmaps = await ctx.kube.list_configmaps(ref.namespace, ref.name)
    doomed = {_meta(cm)["name"] for cm in runs.runs_to_prune(kept, active, configmaps)}
    for run in dropped:  # by name too: the runner's journal may carry no run label
        doomed.add(names.journal_configmap_name(ref.name, run))
        doomed.add(names.experiment_configmap_name(ref.name, run))
    for name in sorted(doomed):
        await ctx.kube.delete_configmap(ref.namespace, name)
    logger.info("history trimmed: runs %s deleted", ", ".join(dropped))


# --- stopping runs ----------------------------------------------------------------------


async def handle_delete_scenario(
    ctx: Context, *, namespace: str, name: str, logger: Logger
) -> None:
    """Stop the run underway before the scenario goes: its rollbacks must play.

    The Job is deleted in the foreground (its pod gets SIGTERM and the runner rolls back);
    until it is gone the finalizer stays.
    """
    jobs = await ctx.kube.list_jobs(namespace, name)
    decision = decisions.decide_delete(jobs)
    for job in decision.stop:
        logger.info("stopping Job %s: the scenario is being deleted", job)
        await ctx.kube.delete_job(namespace, job, foreground=True)
    if decision.waiting:
        listed = ", ".join(decision.waiting)
        raise RunsStillStoppingError(f"waiting for Job(s) {listed} to stop and roll back")


async def handle_record_ended_runs(
    ctx: Context, *, namespace: str, name: str, logger: Logger
) -> None:
    """Write every ended run of the scenario into its status, and start nothing.

    For when no operator will follow the runs any more: ripple is being uninstalled.
    """
    scenario = await ctx.kube.get_scenario(namespace, name)
    if scenario is None:
        return
    jobs = await ctx.kube.list_jobs(namespace, name)
    latest: Body = scenario  # each write goes over the one before
    for run, job in decisions.unrecorded_ends(scenario, jobs):
        journal = await _read_journal(ctx, latest, run)
        stored = await _record_run(
            ctx, scenario=latest, job=job, run=run, journal=journal, logger=logger
        )
        latest = stored or latest


async def handle_watch_job(
    ctx: Context, *, event_type: str | None, job: Body, logger: Logger
) -> None:
    """Count a Job as an active run until it finishes or goes; a Job gone mid-run ends it."""
    meta = _meta(job)
    active = event_type != "DELETED" and not runs.is_finished(job)
    metrics.job_seen(f"{meta.get('namespace')}/{meta.get('name')}", active=active)
    scenario = decisions.lost_job(event_type, job)
    if scenario is not None:
        await handle_reconcile_scenario(
            ctx, namespace=str(meta.get("namespace")), name=scenario, logger=logger
        )
