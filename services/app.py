"""The application factory: one aiohttp app, configured for its role."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator

from aiohttp import web
from aiohttp.typedefs import Handler

from .config import ServiceConfig
from .handlers import handle_healthz, handle_metrics, handle_readyz, handle_root
from .metrics import Metrics
from .state import CONFIG, LIFECYCLE, METRICS, ROUTE, ROUTE_OTHER, UPSTREAM, Lifecycle
from .upstream import new_pool

#: How often buffered log lines are pushed to stdout.
FLUSH_INTERVAL = 0.25


def setup_routes(app: web.Application) -> None:
    """Every path the service answers; anything else is a JSON 404 or 405."""
    app.router.add_get("/", handle_root)
    app.router.add_get("/healthz", handle_healthz)
    app.router.add_get("/readyz", handle_readyz)
    app.router.add_get("/metrics", handle_metrics)


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Label the request with its route, and turn HTTP errors into JSON bodies."""
    resource = request.match_info.route.resource
    request[ROUTE] = resource.canonical if resource is not None else ROUTE_OTHER
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        response = web.json_response(
            {"error": exc.reason, "status": exc.status, "path": request.path},
            status=exc.status,
        )
        if "Allow" in exc.headers:
            response.headers["Allow"] = exc.headers["Allow"]
        return response


async def upstream_pool(app: web.Application) -> AsyncIterator[None]:
    """Open the keep-alive connections to the upstream, renewed by age; close them at the end."""
    config = app[CONFIG]
    assert config.upstream is not None
    app[UPSTREAM] = new_pool(config.upstream, max_age=config.upstream_max_connection_age)
    yield
    await app[UPSTREAM].close()


async def flush_stdout(app: web.Application) -> AsyncIterator[None]:
    """Flush the access log's buffered lines a few times a second, and once at the end."""

    async def flusher() -> None:
        while True:
            await asyncio.sleep(FLUSH_INTERVAL)
            sys.stdout.flush()

    task = asyncio.create_task(flusher())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    sys.stdout.flush()


def init_app(config: ServiceConfig) -> web.Application:
    """Build the application for ``config.role``."""
    app = web.Application(middlewares=[json_errors])
    app[CONFIG] = config
    app[METRICS] = Metrics(service=config.role, upstream=config.upstream_name or "")
    app[LIFECYCLE] = Lifecycle()
    setup_routes(app)
    app.cleanup_ctx.append(flush_stdout)
    if config.upstream is not None:
        app.cleanup_ctx.append(upstream_pool)
    return app
