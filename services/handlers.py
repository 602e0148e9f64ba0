"""Request handlers: the chain's ``GET /``, the probes and the metrics."""

from __future__ import annotations

from secrets import token_hex

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from .answer import Answer, compose_answer
from .state import (
    CONFIG,
    LIFECYCLE,
    METRICS,
    UPSTREAM,
    UPSTREAM_OUTCOME,
)
from .upstream import REQUEST_ID, call_upstream

_JSON = "application/json"
_READY = b'{"ready":true}'
_NOT_READY = b'{"ready":false,"reason":"shutting down"}'
_ALIVE = b'{"alive":true}'


async def handle_root(request: web.Request) -> web.Response:
    """Answer with this service's value: back counts, front and middle ask their upstream."""
    app = request.app
    config = app[CONFIG]
    lifecycle = app[LIFECYCLE]
    request_id = request.headers.get(REQUEST_ID) or token_hex(8)
    if config.upstream is None:
        value = (lifecycle.last_good or 0) + 1
        lifecycle.last_good = value
        answer = Answer(
            service=config.role, value=value, stalled=False, error=None, chain=(config.role,)
        )
    else:
        result = await call_upstream(
            app[UPSTREAM],
            name=config.upstream_name or "upstream",
            budget=config.upstream_timeout,
            request_id=request_id,
        )
        app[METRICS].observe_upstream(result.outcome, result.duration)
        request[UPSTREAM_OUTCOME] = result.outcome
        answer = compose_answer(
            config.role, lifecycle.last_good, upstream=result.answer, reason=result.reason
        )
        if answer.stalled:
            app[METRICS].observe_stalled()
        else:
            lifecycle.last_good = answer.value
    response = web.Response(body=answer.to_json(), content_type=_JSON)
    response.headers[REQUEST_ID] = request_id
    if lifecycle.shutting_down:
        # Send keep-alive clients elsewhere: their next request opens a new connection,
        # which the Service routes to a ready replica.
        response.force_close()
    return response


async def handle_healthz(request: web.Request) -> web.Response:
    """Alive as long as the event loop answers."""
    return web.Response(body=_ALIVE, content_type=_JSON)


async def handle_readyz(request: web.Request) -> web.Response:
    """Ready until shutdown begins; then 503 so the Service stops sending new connections."""
    if request.app[LIFECYCLE].shutting_down:
        return web.Response(status=503, body=_NOT_READY, content_type=_JSON)
    return web.Response(body=_READY, content_type=_JSON)


async def handle_metrics(request: web.Request) -> web.Response:
    """Prometheus text exposition of this service's registry."""
    response = web.Response(body=request.app[METRICS].exposition())
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    return response
