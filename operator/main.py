"""``ripple operator``: run the Kopf operator with the configuration from ``RIPPLE_*``."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import secrets
import signal
import sys
from collections.abc import Sequence

import kopf

from ripple_contract.commands import OneLineParser

from . import leader, metrics
from .config import Config, ConfigError, LogFormat, load_config
from .kube import Kube
from .startup import MEMO_CONFIG, MEMO_SERVED, serve, unserve


def build_parser() -> OneLineParser:
    """Declare the flags of ``ripple operator`` (everything else comes from ``RIPPLE_*``)."""
    parser = OneLineParser(
        prog="ripple operator",
        description="Run ChaosScenarios as Jobs and write their outcome into their status.",
    )
    parser.add_argument(
        "-n",
        "--namespace",
        action="append",
        default=[],
        help="watch this namespace (repeatable; default RIPPLE_WATCH_NAMESPACES, else all)",
    )
    parser.add_argument("--verbose", action="store_true", help="log at DEBUG level")
    return parser


def main(argv: Sequence[str]) -> int:
    """Run the operator until it is stopped; 2 on a bad flag or bad configuration."""
    args = build_parser().parse_args(list(argv))
    try:
        config = load_config()
    except ConfigError as exc:
        sys.stderr.write(f"ripple operator: error: {exc}\n")
        return 2
    kopf.configure(
        verbose=args.verbose or config.log_level == "DEBUG",
        quiet=config.log_level == "WARNING",
        log_format=kopf.LogFormat.JSON
        if config.log_format is LogFormat.JSON
        else kopf.LogFormat.FULL,
    )
    logging.getLogger("chaostoolkit").setLevel(logging.WARNING)
    from . import handlers  # noqa: F401 - registers the handlers with Kopf

    namespaces = tuple(args.namespace) or config.watch_namespaces
    config = dataclasses.replace(config, watch_namespaces=namespaces)
    liveness = f"http://0.0.0.0:{config.liveness_port}/healthz" if config.liveness_port else None
    memo = kopf.Memo()
    memo[MEMO_CONFIG] = config
    if config.lease_name:
        return asyncio.run(run_elected(config, liveness=liveness, memo=memo))
    kopf.run(
        clusterwide=not namespaces,
        namespaces=namespaces,
        standalone=config.standalone,
        liveness_endpoint=liveness,
        memo=memo,
    )
    return 0


async def run_elected(config: Config, *, liveness: str | None, memo: kopf.Memo) -> int:
    """Wait as a standby for the Lease, then run the operator while it stays ours.

    Metrics and pages are served from the start, standby included (the pages only read the
    API; ``ripple_leader`` says which replica leads), so their Services answer whichever
    pod they pick. 0 when stopped (SIGTERM), 1 when the Lease was lost: the kubelet
    restarts the container, which waits as a standby again.
    """
    kube = await Kube.connect()
    metrics.LEADER.set(0)
    server, served = await serve(config, kube)
    memo[MEMO_SERVED] = True
    try:
        return await lead(config, kube, liveness=liveness, memo=memo)
    finally:
        metrics.LEADER.set(0)
        await unserve(server, served)
        await kube.close()


async def lead(config: Config, kube: Kube, *, liveness: str | None, memo: kopf.Memo) -> int:
    """Stand by until the Lease is ours (or we are stopped), then run Kopf while it stays."""
    elector = leader.Elector(
        kube=kube,
        namespace=config.lease_namespace,
        name=config.lease_name,
        # One identity per process, as client-go's: a leader's container restarted by the
        # kubelet is a new candidate, not the holder of its dead predecessor's Lease.
        identity=f"{config.identity}_{secrets.token_hex(4)}",
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    health = await leader.serve_standby_health(config.liveness_port)
    try:
        acquired = await elector.acquire(stop)
    finally:
        if health is not None:
            await health.cleanup()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
    if not acquired:
        return 0
    lost = asyncio.Event()
    keeper = asyncio.create_task(elector.keep(lost), name="ripple lease renewal")
    try:
        await kopf.operator(
            clusterwide=not config.watch_namespaces,
            namespaces=config.watch_namespaces,
            standalone=True,
            liveness_endpoint=liveness,
            memo=memo,
            stop_flag=lost,
        )
    finally:
        keeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await keeper
        if not lost.is_set():
            await elector.release()
    return 1 if lost.is_set() else 0
