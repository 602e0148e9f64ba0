"""The operator's read-only pages: its scenarios, their runs, and one page per run.

Served on their own port (``RIPPLE_PAGES_PORT``) behind a ClusterIP Service, reached
with ``kubectl port-forward``. Only GET and HEAD are answered; nothing here writes to
the API, and only the namespaces the operator watches are shown. A page is rendered by
``ripple_report`` from what :mod:`.kube` reads, exactly as ``ripple report`` renders it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Final

from aiohttp import web

from ripple_contract import names
from ripple_report.html import PLOTLY_PATH, plotly_js, run_nav, run_page, runs_page, scenarios_page
from ripple_report.model import ReportError, StoredRun, finished_runs, pick_run

from .kube import ApiError, Kube

logger = logging.getLogger(__name__)

KUBE: Final = web.AppKey("kube", Kube)
NAMESPACES: Final = web.AppKey("namespaces", tuple[str, ...])
READ_ONLY: Final = frozenset({"GET", "HEAD"})
HEADERS: Final = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def read_only(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse every method but GET and HEAD, whatever the path."""
    if request.method not in READ_ONLY:
        return web.Response(
            status=405, text="405: these pages are read-only\n", headers={"Allow": "GET, HEAD"}
        )
    return await handler(request)


def init_app(kube: Kube, *, namespaces: Sequence[str]) -> web.Application:
    """Build the pages' application over the operator's API client (not closed here)."""
    app = web.Application(middlewares=[read_only])
    app[KUBE] = kube
    app[NAMESPACES] = tuple(namespaces)
    setup_routes(app)
    return app


def setup_routes(app: web.Application) -> None:
    """Every page is a GET (aiohttp answers HEAD for each too)."""
    app.router.add_get("/", scenarios)
    app.router.add_get("/scenarios/{namespace}/{name}", runs)
    app.router.add_get("/scenarios/{namespace}/{name}/runs/{run}", run)
    app.router.add_get(PLOTLY_PATH, plotly)


async def scenarios(request: web.Request) -> web.Response:
    """Show every scenario in the watched namespaces."""
    kube, namespaces = request.app[KUBE], request.app[NAMESPACES]
    found = []
    try:
        for namespace in namespaces or (None,):
            found += await kube.list_scenarios(namespace)
    except ApiError as exc:
        return _unavailable(exc)
    found.sort(key=lambda s: (s["metadata"].get("namespace", ""), s["metadata"].get("name", "")))
    return _html(scenarios_page(found))


async def runs(request: web.Request) -> web.Response:
    """Show the runs of one scenario, newest first."""
    namespace, name = _watched(request), request.match_info["name"]
    try:
        scenario = await request.app[KUBE].get_scenario(namespace, name)
    except ApiError as exc:
        return _unavailable(exc)
    if scenario is None:
        raise web.HTTPNotFound(text=f"no ChaosScenario {namespace}/{name}\n")
    return _html(runs_page(namespace, name, finished_runs(scenario.get("status"))))


async def run(request: web.Request) -> web.Response:
    """Show one run: verdict, impact and its timeline's chart."""
    namespace, name = _watched(request), request.match_info["name"]
    kube = request.app[KUBE]
    try:
        scenario = await kube.get_scenario(namespace, name)
        if scenario is None:
            raise web.HTTPNotFound(text=f"no ChaosScenario {namespace}/{name}\n")
        status = scenario.get("status") or {}
        try:
            record = pick_run(status, request.match_info["run"])
        except ReportError as exc:
            raise web.HTTPNotFound(text=f"{exc}\n") from None
        run_id = str(record.get("id"))
        configmap = str(record.get("journal") or names.journal_configmap_name(name, run_id))
        timeline = await kube.read_timeline(namespace, configmap)
    except ApiError as exc:
        return _unavailable(exc)
    stored = StoredRun(
        namespace=namespace,
        scenario=name,
        run=run_id,
        record=record,
        timeline=timeline,
        experiment=str(status.get("experiment") or ""),
        problems=() if timeline is not None else (f"run {run_id} stored no timeline",),
    )
    return _html(run_page(stored, inline_plotly=False, nav=run_nav(stored)))


async def plotly(_: web.Request) -> web.Response:
    """plotly.js for the run pages, from the ``plotly`` package (cached by the browser)."""
    return web.Response(
        text=plotly_js(),
        content_type="application/javascript",
        headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )


async def start(kube: Kube, *, namespaces: Sequence[str], port: int) -> web.AppRunner:
    """Serve the pages on ``port`` until the runner is cleaned up."""
    runner = web.AppRunner(init_app(kube, namespaces=namespaces), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "0.0.0.0", port).start()
    logger.info("read-only pages on port %d", port)
    return runner


def _watched(request: web.Request) -> str:
    namespace = request.match_info["namespace"]
    watched = request.app[NAMESPACES]
    if watched and namespace not in watched:
        raise web.HTTPNotFound(text=f"namespace {namespace} is not watched by this operator\n")
    return namespace


def _html(page: str) -> web.Response:
    return web.Response(text=page, content_type="text/html", headers=HEADERS)


def _unavailable(exc: ApiError) -> web.Response:
    logger.warning("pages: the API server answered %s %s", exc.status, exc.reason)
    return web.Response(status=502, text=f"the API server answered {exc.status} {exc.reason}\n")
