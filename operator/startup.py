"""Operator start and stop: configuration, API client, Kopf's settings, metrics, pages."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import kopf
from aiohttp import web
from prometheus_client import start_http_server

from ripple_contract import names

from . import metrics, pages
from .config import Config, load_config
from .kube import Kube
from .reconcile import Context

MEMO_CONTEXT = "ripple"
MEMO_CONFIG = "ripple_config"
MEMO_METRICS = "ripple_metrics_server"
MEMO_PAGES = "ripple_pages"
# Set when the caller serves metrics and pages itself (a replica elected by the Lease serves
# them from its start, standby included, so that the Services answer whichever pod they pick).
MEMO_SERVED = "ripple_served_outside"


async def handle_start_operator(*, settings: kopf.OperatorSettings, memo: kopf.Memo) -> None:
    """Load the configuration (once), log in, and tune Kopf for this operator."""
    config = memo.get(MEMO_CONFIG)
    if not isinstance(config, Config):
        config = load_config()
    # Our own Events only: Kopf would post every handler log line as one.
    settings.posting.enabled = False
    # Kopf's bookkeeping stays in annotations; the status belongs to the schema.
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage()
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage()
    settings.persistence.finalizer = names.FINALIZER
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330
    kube = await Kube.connect()
    memo[MEMO_CONTEXT] = Context(config=config, kube=kube)
    metrics.LEADER.set(1)
    if not memo.get(MEMO_SERVED):
        memo[MEMO_METRICS], memo[MEMO_PAGES] = await serve(config, kube)
    logging.getLogger(__name__).info(
        "ripple operator started: image %s, namespaces %s",
        config.image,
        ", ".join(config.watch_namespaces) or "all",
    )


async def handle_stop_operator(*, memo: kopf.Memo) -> None:
    """Close the pages, the API client and the metrics endpoint."""
    context = memo.get(MEMO_CONTEXT)
    if isinstance(context, Context):
        await context.kube.close()
    await unserve(memo.get(MEMO_METRICS), memo.get(MEMO_PAGES))


async def serve(config: Config, kube: Kube) -> tuple[Any, web.AppRunner | None]:
    """Start the metrics endpoint and the pages the configuration asks for."""
    server = start_http_server(config.metrics_port) if config.metrics_port else None
    served = None
    if config.pages_port:
        served = await pages.start(kube, namespaces=config.watch_namespaces, port=config.pages_port)
    return server, served


async def unserve(server: Any, served: web.AppRunner | None) -> None:
    """Stop what :func:`serve` started (either may be ``None``)."""
    if served is not None:
        await served.cleanup()
    if server is not None:
        http_server, thread = server
        await asyncio.to_thread(http_server.shutdown)
        await asyncio.to_thread(thread.join, 5)


def context_of(memo: kopf.Memo) -> Context:
    """Get the operator's context, set up by :func:`handle_start_operator`."""
    context = memo.get(MEMO_CONTEXT)
    if not isinstance(context, Context):
        raise kopf.TemporaryError("the operator is still starting", delay=1)
    return context
