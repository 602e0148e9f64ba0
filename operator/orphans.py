"""Which fault objects outlived their run: the sweep's decision, on plain values.

Every fault object a run creates (a NetworkPolicy, a Chaos Mesh NetworkChaos, ...) carries
the labels of its run. The run's rollback deletes it; one still there when the run is over
(its Job finished or gone) was left behind: the runner was killed before it could roll back,
or its rights went first. The operator's sweep deletes those.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from ripple_contract import names

from . import runs

Body = Mapping[str, Any]
JobKey = tuple[str, str]
"""``(namespace, name)`` of a Job or a scenario."""


@dataclass(frozen=True, kw_only=True)
class FaultKind:
    """A kind of object a run creates as its fault."""

    group: str
    version: str
    plural: str
    kind: str

    @property
    def api_version(self) -> str:
        """The ``apiVersion`` of its objects."""
        return f"{self.group}/{self.version}"


FAULT_KINDS: Final = (
    FaultKind(
        group="networking.k8s.io", version="v1", plural="networkpolicies", kind="NetworkPolicy"
    ),
    FaultKind(
        group="chaos-mesh.org", version="v1alpha1", plural="networkchaos", kind="NetworkChaos"
    ),
)
"""Every kind a run may leave behind. Each gets a watch and an index in the operator, and the
chart grants the operator (and its uninstall hook) list, watch and delete on it."""

FAULT_SELECTOR: Final = (
    f"{names.LABEL_MANAGED_BY}={names.MANAGED_BY},{names.LABEL_SCENARIO},{names.LABEL_RUN}"
)
"""The label selector of a run's fault objects."""

DEFAULT_GRACE_SECONDS: Final = 30.0
"""A fault this young whose Job is not known yet is left alone: the Job may not have reached
the operator's watch yet."""


@dataclass(frozen=True, kw_only=True)
class Fault:
    """A fault object of a run, as the operator's index keeps it."""

    kind: FaultKind
    namespace: str
    name: str
    uid: str
    scenario: str
    run: str
    created: datetime | None
    deleting: bool = False

    @property
    def job(self) -> str:
        """The name of its run's Job."""
        return names.job_name(self.scenario, self.run)


@dataclass(frozen=True, kw_only=True)
class RunJob:
    """A run's Job, as the operator's index keeps it."""

    finished: bool


@dataclass(frozen=True, kw_only=True)
class Orphan:
    """A fault whose run is over, and where to say so."""

    fault: Fault
    why: str
    """Why its run is over, e.g. "its run's Job shop-3 is gone"."""
    scenario_uid: str | None
    """The uid of its scenario, which gets the event; ``None`` when the scenario is gone (the
    event is then about the fault object itself)."""

    def message(self) -> str:
        """Say in one sentence what was deleted and why."""
        fault = self.fault
        return (
            f"{fault.kind.kind} {fault.namespace}/{fault.name} of run {fault.run} was left behind"
            f" ({self.why}) and has been deleted"
        )


def kind_of(group: str, plural: str) -> FaultKind | None:
    """Find the fault kind of an API resource; ``None`` if it is not one."""
    return next((k for k in FAULT_KINDS if (k.group, k.plural) == (group, plural)), None)


def fault_of(body: Body, kind: FaultKind) -> Fault | None:
    """Read a fault object; ``None`` when it does not carry its run's labels."""
    meta = body.get("metadata") or {}
    labels = runs.labels_of(body)
    scenario, run = labels.get(names.LABEL_SCENARIO), labels.get(names.LABEL_RUN)
    if labels.get(names.LABEL_MANAGED_BY) != names.MANAGED_BY or not scenario or not run:
        return None
    if not meta.get("name") or not meta.get("namespace") or not meta.get("uid"):
        return None
    return Fault(
        kind=kind,
        namespace=str(meta["namespace"]),
        name=str(meta["name"]),
        uid=str(meta["uid"]),
        scenario=str(scenario),
        run=str(run),
        created=_time(meta.get("creationTimestamp")),
        deleting=runs.is_deleting(body),
    )


def run_job_of(job: Body) -> RunJob:
    """Read a run's Job for the index."""
    return RunJob(finished=runs.is_finished(job))


def orphans(
    faults: Iterable[Fault],
    jobs: Mapping[JobKey, RunJob],
    scenarios: Mapping[JobKey, str],
    now: datetime,
    *,
    grace_seconds: float = DEFAULT_GRACE_SECONDS,
    seen_jobs: Collection[JobKey] = (),
) -> list[Orphan]:
    """Pick the faults whose run is over: its Job finished, or gone.

    A fault whose Job still runs is the run's own business, even when its scenario is gone:
    the Job is then being stopped, and its runner rolls back. A fault being deleted already is
    left to finish going. ``scenarios`` maps each scenario that exists to its uid.

    A Job absent from ``jobs`` is gone if it was in ``seen_jobs`` (an earlier look); one never
    seen may not have reached the watch yet, so its fault is left alone while younger than
    ``grace_seconds``.
    """
    grace = timedelta(seconds=grace_seconds)
    found = []
    for fault in sorted(faults, key=lambda f: (f.namespace, f.name, f.uid)):
        if fault.deleting:
            continue
        key = (fault.namespace, fault.job)
        job = jobs.get(key)
        if job is not None and not job.finished:
            continue
        young = fault.created is None or now - fault.created < grace
        if job is None and key not in seen_jobs and young:
            continue
        scenario_uid = scenarios.get((fault.namespace, fault.scenario))
        state = "finished" if job is not None else "is gone"
        why = f"its run's Job {fault.job} {state}"
        if scenario_uid is None:
            why += f", and its scenario {fault.scenario} is gone"
        found.append(Orphan(fault=fault, why=why, scenario_uid=scenario_uid))
    return found


def remember_jobs(
    seen: Collection[JobKey], jobs: Collection[JobKey], faults: Iterable[Fault]
) -> set[JobKey]:
    """Keep, for the next sweep, the Jobs there are now and those gone that a fault names.

    A Job seen once and absent later is gone; forgetting the gone Jobs no fault names keeps
    the set as small as the index and the faults.
    """
    wanted = {(fault.namespace, fault.job) for fault in faults}
    return set(jobs) | (set(seen) & wanted)


def event_subject(orphan: Orphan) -> dict[str, Any]:
    """Name what the event is about: the fault's scenario, or the fault itself if it is gone."""
    fault = orphan.fault
    if orphan.scenario_uid is not None:
        meta = {"name": fault.scenario, "namespace": fault.namespace, "uid": orphan.scenario_uid}
        return {
            "apiVersion": f"{names.GROUP}/{names.VERSION}",
            "kind": names.KIND,
            "metadata": meta,
        }
    meta = {"name": fault.name, "namespace": fault.namespace, "uid": fault.uid}
    return {"apiVersion": fault.kind.api_version, "kind": fault.kind.kind, "metadata": meta}


def stopping_pods(pods: Iterable[Body]) -> list[str]:
    """Name the pods of a run that may still be playing its rollbacks (not Succeeded/Failed).

    A Job can be finished (its deadline passed) or gone (deleted in the background) while its
    pod still has its termination grace period to roll back in.
    """
    return sorted(
        str((pod.get("metadata") or {}).get("name"))
        for pod in pods
        if (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
    )


def _time(value: Any) -> datetime | None:
    if not value:
        return None
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
