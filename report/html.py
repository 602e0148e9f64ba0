"""HTML pages of stored runs: one self-contained report file, and the operator's pages.

plotly.js comes from the ``plotly`` package ripple depends on: a report file inlines it
(it opens offline, anywhere); the operator's pages load it from the operator itself
(:data:`PLOTLY_PATH`), so a page costs tens of kilobytes, not megabytes.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Mapping, Sequence
from functools import cache
from html import escape
from pathlib import Path
from typing import Any, Final

from . import formats
from .figure import figure
from .model import StoredRun

PLOTLY_PATH: Final = "/static/plotly.min.js"
CHART_ID: Final = "ripple-chart"
_STYLE: Final = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:1.5rem;color:#212121}
h1{font-size:1.4rem;margin:.2rem 0}h2{font-size:1.1rem;margin:1.2rem 0 .4rem}
table{border-collapse:collapse;margin:.4rem 0}td,th{padding:.25rem .7rem;text-align:left;
border-bottom:1px solid #e0e0e0;vertical-align:top}th{background:#fafafa}
.Pass{color:#2e7d32}.Fail{color:#c62828}.Error{color:#ef6c00}.muted{color:#757575}
nav a{margin-right:1rem}code{background:#f5f5f5;padding:0 .2rem}
"""


@cache
def plotly_js() -> str:
    """plotly.js, minified, as the ``plotly`` package ships it.

    Read as a file of the package without importing it: the image keeps only this file of
    plotly (its Python half is 60 MB that no report needs).
    """
    spec = importlib.util.find_spec("plotly")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        bundle = Path(location) / "package_data" / "plotly.min.js"
        if bundle.is_file():
            return bundle.read_text(encoding="utf-8")
    raise FileNotFoundError("plotly.min.js: the plotly package is not installed")


def run_page(run: StoredRun, *, inline_plotly: bool = True, nav: str = "") -> str:
    """Render one run: verdict, impact, failing hops, and the interactive chart."""
    record = run.record
    verdict = str(record.get("verdict") or "")
    parts = [
        nav,
        f"<h1>{escape(run.title)}</h1>",
        f'<p class="{escape(verdict)}"><b>{escape(formats.verdict_line(record))}</b></p>',
        _facts(run),
    ]
    timeline = run.timeline
    if timeline is not None and timeline.hops:
        culprit = timeline.impact.culprit if timeline.impact is not None else None
        rows = "".join(
            f"<tr><td>{escape(hop.label)}{' <b>(culprit)</b>' if hop.key == culprit else ''}"
            f"</td><td>{hop.failed}</td>"
            f"<td>{escape('; '.join(hop.samples))}</td></tr>"
            for hop in timeline.hops
        )
        parts.append(
            "<h2>Failing hops</h2><table><tr><th>hop</th><th>failed</th>"
            f"<th>what the user got</th></tr>{rows}</table>"
        )
    if timeline is not None and timeline.buckets:
        parts.append("<h2>Timeline</h2>")
        parts.append(f'<div id="{CHART_ID}" style="width:100%;height:720px"></div>')
        script = _plotly_tag(inline_plotly)
        drawing = script_json(figure(timeline))
        config = json.dumps({"displaylogo": False, "responsive": True})
        parts.append(script)
        parts.append(
            f"<script>const ripple={drawing};"
            f"Plotly.newPlot({json.dumps(CHART_ID)},ripple.data,ripple.layout,{config});</script>"
        )
    else:
        parts.append('<p class="muted">No load timeline was stored with this run.</p>')
    for problem in run.problems:
        parts.append(f'<p class="muted">{escape(problem)}</p>')
    return _page(run.title, "\n".join(parts))


def script_json(value: object) -> str:
    """JSON safe inside ``<script>``: an error text a service sent cannot close the tag."""
    text = json.dumps(value, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _plotly_tag(inline: bool) -> str:
    if inline:
        return f"<script>{plotly_js()}</script>"
    return f'<script src="{PLOTLY_PATH}"></script>'


def _facts(run: StoredRun) -> str:
    record = run.record
    impact: Mapping[str, Any] = {}
    if run.timeline is not None and run.timeline.impact is not None:
        impact = run.timeline.impact.as_status()
    elif isinstance(record.get("impact"), Mapping):
        impact = record["impact"]
    rows = [("experiment", run.experiment), ("started", str(record.get("start") or ""))]
    rows.append(("duration", str(record.get("duration") or "")))
    fault = run.timeline.fault if run.timeline is not None else None
    if fault is not None:
        rows.append(
            (
                "fault window",
                f"+{formats.seconds(fault.start)} to +{formats.seconds(fault.end)}"
                + (f" ({', '.join(fault.kinds)})" if fault.kinds else ""),
            )
        )
    if impact:
        before, during, after = (impact.get(k) or {} for k in ("baseline", "fault", "after"))
        rows += [
            ("culprit", str(impact.get("culpritLabel") or "-")),
            (
                "error ratio",
                f"{formats.percent(before.get('errorRatio'))} before · "
                f"{formats.percent(during.get('errorRatio'))} during · "
                f"{formats.percent(after.get('errorRatio'))} after",
            ),
            (
                "p99 latency",
                f"{formats.millis(before.get('p99Ms'))} before · "
                f"{formats.millis(during.get('p99Ms'))} during · "
                f"{formats.millis(after.get('p99Ms'))} after",
            ),
            ("time to impact", formats.seconds(impact.get("timeToImpactSeconds"))),
            ("time to recover", formats.recovery(impact)),
            ("rippled to the user", formats.percent(impact.get("rippledShare"))),
        ]
    body = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows if v)
    return f"<table>{body}</table>"


def scenarios_page(scenarios: Sequence[Mapping[str, Any]]) -> str:
    """Render the operator's front page: every scenario it sees, with its last verdict."""
    rows = []
    for scenario in scenarios:
        meta = scenario.get("metadata") or {}
        status = scenario.get("status") or {}
        ns, name = str(meta.get("namespace", "")), str(meta.get("name", ""))
        verdict = str(status.get("verdict") or "")
        rows.append(
            f'<tr><td><a href="/scenarios/{escape(ns)}/{escape(name)}">{escape(ns)}/'
            f"{escape(name)}</a></td><td>{escape(str(status.get('phase') or ''))}</td>"
            f'<td class="{escape(verdict)}">{escape(verdict)}</td>'
            f"<td>{escape(str(status.get('runs') or 0))}</td>"
            f"<td>{escape(str(status.get('message') or ''))}</td></tr>"
        )
    table = (
        "<table><tr><th>scenario</th><th>phase</th><th>verdict</th><th>runs</th>"
        f"<th>message</th></tr>{''.join(rows)}</table>"
        if rows
        else '<p class="muted">No ChaosScenario yet.</p>'
    )
    return _page("ripple scenarios", f"<h1>ChaosScenarios</h1>{table}")


def runs_page(namespace: str, name: str, runs: Sequence[Mapping[str, Any]]) -> str:
    """Render the runs of one scenario the status remembers, newest first."""
    rows = []
    for entry in runs:
        run = escape(str(entry.get("id")))
        verdict = str(entry.get("verdict") or "")
        impact = entry.get("impact") if isinstance(entry.get("impact"), Mapping) else {}
        rows.append(
            f'<tr><td><a href="/scenarios/{escape(namespace)}/{escape(name)}/runs/{run}">'
            f"run {run}</a></td><td>{escape(str(entry.get('start') or ''))}</td>"
            f'<td class="{escape(verdict)}">{escape(verdict)}</td>'
            f"<td>{escape(str(entry.get('reason') or ''))}</td>"
            f"<td>{escape(str((impact or {}).get('culpritLabel') or ''))}</td>"
            f"<td>{escape(formats.percent((impact or {}).get('rippledShare')))}</td></tr>"
        )
    nav = '<nav><a href="/">all scenarios</a></nav>'
    table = (
        "<table><tr><th>run</th><th>started</th><th>verdict</th><th>reason</th>"
        f"<th>culprit</th><th>rippled</th></tr>{''.join(rows)}</table>"
        if rows
        else '<p class="muted">No finished run yet.</p>'
    )
    title = f"{namespace}/{name}"
    return _page(title, f"{nav}<h1>{escape(title)}</h1>{table}")


def run_nav(run: StoredRun) -> str:
    """Links back from a run's page in the operator."""
    runs = f"/scenarios/{escape(run.namespace)}/{escape(run.scenario)}"
    scenario = escape(run.scenario)
    return f'<nav><a href="/">all scenarios</a><a href="{runs}">runs of {scenario}</a></nav>'


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        # no favicon to fetch: a page opened from a file or the operator asks for nothing else
        '<link rel="icon" href="data:,">'
        f"<title>{escape(title)} · ripple</title><style>{_STYLE}</style></head>"
        f"<body>{body}</body></html>\n"
    )
