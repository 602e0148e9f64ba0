"""``ripple stop-runs``: stop every run before ripple goes, so that no fault is left behind.

The chart runs it as a ``pre-delete`` hook: Helm deletes nothing before it has finished, so
the operator's and the runners' rights are all still there while it

1. scales the operator to zero: nothing starts a run or puts a finalizer back any more;
2. deletes every active run's Job in the foreground: its runner gets SIGTERM, plays its
   rollbacks and stores its journal; and waits (up to ``--timeout``) until those Jobs are gone;
3. writes the end of those runs into their scenarios' status, as the operator would have;
4. deletes any fault object a run left behind (a runner that did not make it in time);
5. removes ripple's finalizer from every scenario: the CRD stays after an uninstall, so the
   scenarios must stay deletable with no operator.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from ripple_contract import names
from ripple_contract.commands import OneLineParser

from . import orphans, reconcile, runs, sweep
from .config import load_config
from .kube import Body, Kube
from .reconcile import Context

POLL_SECONDS: Final = 1.0
WHY: Final = "ripple is being uninstalled"

logger = logging.getLogger("ripple.stop-runs")


@dataclass(kw_only=True)
class Stopped:
    """What ``stop-runs`` did."""

    jobs: list[str] = field(default_factory=list)
    """The run Jobs it stopped (``namespace/name``)."""
    still_stopping: list[str] = field(default_factory=list)
    """Those not gone by the deadline (their faults were deleted all the same)."""
    faults: list[str] = field(default_factory=list)
    """The fault objects it deleted (``Kind namespace/name``)."""
    released: list[str] = field(default_factory=list)
    """The scenarios whose finalizer it removed (``namespace/name``)."""


def build_parser() -> OneLineParser:
    """Declare the flags of ``ripple stop-runs``."""
    parser = OneLineParser(
        prog="ripple stop-runs",
        description="Stop every run and release every scenario, before ripple is uninstalled.",
    )
    parser.add_argument(
        "-n",
        "--namespace",
        action="append",
        default=[],
        help="a namespace the operator watches (repeatable; default: every namespace)",
    )
    parser.add_argument(
        "--operator",
        default="",
        metavar="NAMESPACE/NAME",
        help="the operator's Deployment, scaled to zero first",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=120.0,
        help="seconds to wait for the operator and for the runs to stop (default 120)",
    )
    return parser


def main(argv: Sequence[str]) -> int:
    """Stop everything; 0 when done, 1 on an API error, 2 on a bad flag."""
    parser = build_parser()
    args = parser.parse_args(list(argv))
    operator = None
    if args.operator:
        namespace, sep, name = args.operator.partition("/")
        if not sep or not namespace or not name:
            parser.error(f"--operator: {args.operator!r} is not NAMESPACE/NAME")
        operator = (namespace, name)
    if args.timeout <= 0:
        parser.error("--timeout: must be above 0")
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr
    )
    try:
        asyncio.run(
            _main(namespaces=tuple(args.namespace), operator=operator, wait_seconds=args.timeout)
        )
    except Exception:
        logger.exception("stop-runs failed")
        return 1
    return 0


async def _main(
    *, namespaces: tuple[str, ...], operator: tuple[str, str] | None, wait_seconds: float
) -> None:
    kube = await Kube.connect()
    try:
        done = await stop_runs(
            kube, namespaces=namespaces, operator=operator, wait_seconds=wait_seconds
        )
    finally:
        await kube.close()
    logger.info(
        "stopped %d run(s), deleted %d fault(s), released %d scenario(s)",
        len(done.jobs),
        len(done.faults),
        len(done.released),
    )


async def stop_runs(
    kube: Kube,
    *,
    namespaces: Sequence[str],
    operator: tuple[str, str] | None,
    wait_seconds: float,
) -> Stopped:
    """Do the five steps above in ``namespaces`` (every namespace when empty)."""
    scopes: list[str | None] = list(namespaces) or [None]
    done = Stopped()
    if operator is not None:
        await _stop_operator(kube, *operator, wait_seconds=wait_seconds)
    done.jobs = await _stop_jobs(kube, scopes)
    done.still_stopping = await _wait_gone(kube, scopes, set(done.jobs), wait_seconds)
    for key in done.still_stopping:
        logger.warning(
            "Job %s did not stop within %ss; its faults are deleted anyway", key, wait_seconds
        )
    scenarios = [s for scope in scopes for s in await kube.list_scenarios(scope)]
    await _record_ends(kube, scenarios)
    done.faults = await _delete_faults(kube, scopes, scenarios)
    for scope in scopes:
        for scenario in await kube.list_scenarios(scope):
            meta = scenario["metadata"]
            if await kube.remove_finalizer(meta["namespace"], meta["name"], names.FINALIZER):
                done.released.append(f"{meta['namespace']}/{meta['name']}")
    return done


async def _stop_jobs(kube: Kube, scopes: Sequence[str | None]) -> list[str]:
    """Delete every active run's Job in the foreground; name them ``namespace/name``."""
    stopped = []
    for scope in scopes:
        for job in await kube.list_run_jobs(scope):
            if runs.is_finished(job):
                continue
            namespace, name = job["metadata"]["namespace"], job["metadata"]["name"]
            stopped.append(f"{namespace}/{name}")
            if not runs.is_deleting(job):
                logger.info("stopping Job %s/%s: its runner rolls back", namespace, name)
                await kube.delete_job(namespace, name, foreground=True)
    return stopped


async def _record_ends(kube: Kube, scenarios: Sequence[Body]) -> None:
    """Write the runs' ends into their scenarios; one that fails does not stop the others."""
    ctx = Context(config=load_config(), kube=kube)
    for scenario in scenarios:
        meta = scenario["metadata"]
        try:
            await reconcile.handle_record_ended_runs(
                ctx, namespace=meta["namespace"], name=meta["name"], logger=logger
            )
        except Exception:
            logger.exception("could not record the runs of %s/%s", meta["namespace"], meta["name"])


async def _delete_faults(
    kube: Kube, scopes: Sequence[str | None], scenarios: Sequence[Body]
) -> list[str]:
    """Delete every fault object a run left; name them ``Kind namespace/name``."""
    uids = {
        (s["metadata"]["namespace"], s["metadata"]["name"]): s["metadata"]["uid"] for s in scenarios
    }
    deleted = []
    for kind in orphans.FAULT_KINDS:
        for scope in scopes:
            found = await kube.list_objects(
                kind.group,
                kind.version,
                kind.plural,
                namespace=scope,
                selector=orphans.FAULT_SELECTOR,
            )
            for body in found or []:
                fault = orphans.fault_of(body, kind)
                if fault is None or fault.deleting:
                    continue
                uid = uids.get((fault.namespace, fault.scenario))
                orphan = orphans.Orphan(fault=fault, why=WHY, scenario_uid=uid)
                if await sweep.remove_fault(kube, orphan):
                    deleted.append(f"{kind.kind} {fault.namespace}/{fault.name}")
    return deleted


async def _stop_operator(kube: Kube, namespace: str, name: str, *, wait_seconds: float) -> None:
    """Scale the operator to zero and wait until its pods are gone."""
    selector = await kube.scale_to_zero(namespace, name)
    if selector is None:
        logger.info("no operator Deployment %s/%s: nothing to stop", namespace, name)
        return
    logger.info("operator %s/%s scaled to zero", namespace, name)
    deadline = time.monotonic() + wait_seconds
    while await kube.list_pods(namespace, selector):
        if time.monotonic() >= deadline:
            logger.warning("the operator's pods are still there after %ss; going on", wait_seconds)
            return
        await asyncio.sleep(POLL_SECONDS)


async def _wait_gone(
    kube: Kube, scopes: Sequence[str | None], jobs: set[str], wait_seconds: float
) -> list[str]:
    """Wait until none of ``jobs`` exists any more; give those still there at the deadline."""
    deadline = time.monotonic() + wait_seconds
    while True:
        listed = [job for scope in scopes for job in await kube.list_run_jobs(scope)]
        left = sorted(
            key
            for job in listed
            if (key := f"{job['metadata']['namespace']}/{job['metadata']['name']}") in jobs
        )
        if not left or time.monotonic() >= deadline:
            return left
        await asyncio.sleep(POLL_SECONDS)
