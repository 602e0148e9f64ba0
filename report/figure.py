"""The interactive chart of a run as a plotly figure (a plain dict, drawn by plotly.js).

Four rows on one time axis (seconds from the start of the run): the load, stacked as
successes and failures by failing hop; the success ratio; latency p50/p90/p99; and the
experiment's phases as bars. The fault window is shaded across every row.
"""

from __future__ import annotations

from typing import Any, Final

from ripple_contract.timeline import Timeline

from . import formats

OK_COLOR: Final = "#4caf50"
FAULT_COLOR: Final = "rgba(229, 57, 53, 0.13)"
HOP_COLORS: Final = (
    "#e53935",
    "#fb8c00",
    "#8e24aa",
    "#3949ab",
    "#00897b",
    "#6d4c41",
    "#c0ca33",
    "#546e7a",
    "#d81b60",
    "#757575",
)
PHASE_COLORS: Final = {
    "steady-state-before": "#90caf9",
    "action": "#e53935",
    "probe": "#ffb74d",
    "pause": "#ffe0b2",
    "steady-state-after": "#90caf9",
    "rollback": "#43a047",
}
PHASE_ROWS: Final = {
    "steady-state-before": "steady state",
    "steady-state-after": "steady state",
    "action": "method",
    "probe": "method",
    "pause": "method",
    "rollback": "rollbacks",
}


def figure(timeline: Timeline) -> dict[str, Any]:
    """Draw a timeline as a plotly figure (``data`` and ``layout``)."""
    half = timeline.bucket_seconds / 2
    xs = [b.start + half for b in timeline.buckets]
    data: list[dict[str, Any]] = [
        _bar(xs, [b.ok for b in timeline.buckets], "ok", OK_COLOR),
    ]
    for index, hop in enumerate(timeline.hops):
        counts = [b.errors.get(hop.key, 0) for b in timeline.buckets]
        color = HOP_COLORS[index % len(HOP_COLORS)]
        data.append(_bar(xs, counts, hop.label, color))
    data.append(
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": "success ratio",
            "x": xs,
            "y": [
                round(b.ok / b.requests * 100, 2) if b.requests else None for b in timeline.buckets
            ],
            "line": {"color": OK_COLOR, "width": 2},
            "marker": {"size": 4},
            "xaxis": "x",
            "yaxis": "y2",
            "hovertemplate": "+%{x:.0f}s: %{y:.1f}% ok<extra></extra>",
        }
    )
    for name, attr, dash in (
        ("p50", "p50_ms", "dot"),
        ("p90", "p90_ms", "dash"),
        ("p99", "p99_ms", "solid"),
    ):
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": f"latency {name}",
                "x": xs,
                "y": [getattr(b, attr) for b in timeline.buckets],
                "line": {"color": "#37474f", "dash": dash, "width": 1.5},
                "xaxis": "x",
                "yaxis": "y3",
                "hovertemplate": f"+%{{x:.0f}}s: {name} %{{y:.1f}} ms<extra></extra>",
            }
        )
    data += _phase_bars(timeline)
    return {"data": data, "layout": _layout(timeline)}


def _bar(xs: list[float], ys: list[int], name: str, color: str) -> dict[str, Any]:
    return {
        "type": "bar",
        "name": name,
        "x": xs,
        "y": ys,
        "marker": {"color": color},
        "xaxis": "x",
        "yaxis": "y",
        "hovertemplate": f"+%{{x:.0f}}s: %{{y}} {name}<extra></extra>",
    }


def _phase_bars(timeline: Timeline) -> list[dict[str, Any]]:
    bars = []
    for kind, color in PHASE_COLORS.items():
        phases = [p for p in timeline.phases if p.kind == kind]
        if not phases:
            continue
        bars.append(
            {
                "type": "bar",
                "orientation": "h",
                "name": kind.replace("-", " "),
                "showlegend": False,
                "base": [p.start for p in phases],
                "x": [max(p.end - p.start, 0.15) for p in phases],
                "y": [PHASE_ROWS[kind] for p in phases],
                "text": [p.name for p in phases],
                "textposition": "inside",
                "insidetextanchor": "start",
                "customdata": [
                    [p.name, f"{p.start:.1f}", f"{p.end:.1f}", p.status or "-"] for p in phases
                ],
                "hovertemplate": "%{customdata[0]}<br>+%{customdata[1]}s to "
                "+%{customdata[2]}s<br>%{customdata[3]}<extra></extra>",
                "marker": {"color": color},
                "xaxis": "x",
                "yaxis": "y4",
            }
        )
    return bars


def _layout(timeline: Timeline) -> dict[str, Any]:
    shapes: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    if timeline.fault is not None:
        shapes.append(
            {
                "type": "rect",
                "xref": "x",
                "yref": "paper",
                "x0": timeline.fault.start,
                "x1": timeline.fault.end,
                "y0": 0,
                "y1": 1,
                "fillcolor": FAULT_COLOR,
                "line": {"width": 0},
                "layer": "below",
            }
        )
        annotations.append(
            {
                "x": (timeline.fault.start + timeline.fault.end) / 2,
                "y": 1.0,
                "xref": "x",
                "yref": "paper",
                "yanchor": "bottom",
                "showarrow": False,
                "text": f"fault ({formats.seconds(timeline.fault.end - timeline.fault.start)})",
                "font": {"color": "#c62828"},
            }
        )
    for phase in timeline.phases:
        if phase.kind in ("action", "rollback"):
            shapes.append(
                {
                    "type": "line",
                    "xref": "x",
                    "yref": "paper",
                    "x0": phase.start,
                    "x1": phase.start,
                    "y0": 0,
                    "y1": 1,
                    "line": {"color": PHASE_COLORS[phase.kind], "width": 1, "dash": "dot"},
                }
            )
    return {
        "height": 720,
        "margin": {"l": 100, "r": 30, "t": 40, "b": 50},
        "barmode": "stack",
        "bargap": 0.05,
        "hovermode": "closest",
        "legend": {"orientation": "h", "y": -0.08},
        "xaxis": {
            "title": {"text": "seconds since the run started"},
            "range": [0, timeline.duration],
            "anchor": "y4",
            "showspikes": True,
        },
        "yaxis": {"domain": [0.58, 1.0], "title": {"text": "requests"}},
        "yaxis2": {"domain": [0.40, 0.55], "title": {"text": "ok %"}, "range": [0, 105]},
        "yaxis3": {"domain": [0.16, 0.37], "title": {"text": "latency ms"}, "type": "log"},
        "yaxis4": {"domain": [0.0, 0.13], "autorange": "reversed"},
        "shapes": shapes,
        "annotations": annotations,
    }
