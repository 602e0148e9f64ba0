"""The process around the application: listen, wait for a signal, shut down gracefully.

SIGTERM (or SIGINT) turns readiness to 503 at once, keeps serving for the shutdown delay
(so the Service can move traffic to other replicas), then stops listening, drains the
requests in flight, closes the upstream connections and returns 0. A second signal skips
the rest of the delay.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import logging
import signal
from collections.abc import Callable

from aiohttp import web

from .access_log import access_logger_for
from .app import init_app
from .config import ServiceConfig
from .state import LIFECYCLE, METRICS

logger = logging.getLogger(__name__)

#: Extra seconds the drain allows beyond one upstream call's timeout.
DRAIN_MARGIN = 2.0


async def serve(config: ServiceConfig) -> int:
    """Run one service until a signal, then shut down gracefully; return the exit code."""
    app = init_app(config)
    runner = web.AppRunner(
        app,
        handle_signals=False,
        access_log_class=access_logger_for(app[METRICS]),
        access_log=logging.getLogger("ripple_services.access"),
        shutdown_timeout=config.upstream_timeout + DRAIN_MARGIN,
    )
    await runner.setup()
    site = web.TCPSite(runner, config.host, config.port, backlog=1024, reuse_address=True)
    try:
        await site.start()
    except OSError as exc:
        logger.error("cannot listen on %s:%s: %s", config.host, config.port, exc.strerror)
        await runner.cleanup()
        return 1

    # Everything allocated so far lives until exit: keep it out of the collector's
    # full passes, which otherwise show up as latency spikes under load.
    gc.freeze()
    signalled = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, signalled.set)
    logger.info(
        "%s listening on %s (upstream %s, timeout %ss, shutdown delay %ss)",
        config.role,
        " ".join(f"{host}:{port}" for host, port, *_ in runner.addresses),
        config.upstream or "none",
        config.upstream_timeout,
        config.shutdown_delay,
    )

    await signalled.wait()
    app[LIFECYCLE].shutting_down = True
    logger.info("shutdown began: unready, serving for %ss more", config.shutdown_delay)
    signalled.clear()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(signalled.wait(), config.shutdown_delay)
    logger.info("draining requests in flight")
    await runner.cleanup()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.remove_signal_handler(sig)
    logger.info("stopped")
    return 0


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """Pick uvloop's loop when it is installed (it is faster), else asyncio's default."""
    try:
        uvloop = importlib.import_module("uvloop")
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def run(config: ServiceConfig) -> int:
    """Run :func:`serve` on a fresh event loop."""
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        return runner.run(serve(config))
