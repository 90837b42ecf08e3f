"""Charts of a report: which charts a scenario gets, and each as a Plotly figure (plain dicts).

A `Chart` names its kind and carries the report data it draws; `plotly_figure` turns it into a
`{"data", "layout"}` dict that plotly.js draws (in the HTML report, inlined, and in the web
calculator, served from the plotly wheel). `truecost.report.mpl` draws the same charts as PNGs.
Figures are built as plain dicts, not `plotly.graph_objects`, so no theme template is embedded.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..fmt import si, usd, value
from .content import Distribution, Item, ReportData, Step, Tornado, View

PALETTE = ("#1f4e79", "#c0504d", "#4f8a3c", "#8064a2", "#d08b1e", "#2c8c99", "#7f7f7f", "#b5577f")
UP, DOWN, TOTAL = "#c0504d", "#4f8a3c", "#1f4e79"
FONT = {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 13, "color": "#222"}
HIST_BINS = 40
TOTAL_LABEL = "Total"


@dataclass(frozen=True)
class Chart:
    key: str  # id and file-name stem: views, waterfall, breakdown, distributions, tornado
    title: str
    caption: str
    kind: str
    payload: Any


def charts(data: ReportData) -> list[Chart]:
    """The charts this report has data for, in reading order."""
    out: list[Chart] = []
    at_point = (
        " At the point estimate: every uncertain input at its median." if data.samples is not None else ""
    )
    computed = [v for v in data.views if v.computed]
    if computed:
        out.append(
            Chart(
                "views",
                "Four views of what it cost",
                "Each bar is one answer to 'what did it cost?' (log scale); the table below says what each counts.",
                "views",
                tuple(computed),
            )
        )
    if data.waterfall:
        out.append(
            Chart(
                "waterfall",
                "From the headline to the lab's total spend",
                "Each step adds what the previous figure leaves out." + at_point,
                "waterfall",
                data.waterfall,
            )
        )
    if data.breakdown:
        out.append(
            Chart(
                "breakdown",
                "Where the money goes",
                "Fleet CapEx by pool and OpEx by kind are the whole fleet's (the lab total counts the lab's "
                "share of them); staff, experiments and data as the scenario gives them." + at_point,
                "breakdown",
                data.breakdown,
            )
        )
    if data.distributions:
        out.append(
            Chart(
                "distributions",
                "Distributions",
                f"Monte Carlo draws ({data.samples:,} samples, seed {data.seed}); dashed lines at p5, p50, p95.",
                "histograms",
                data.distributions,
            )
        )
    curve = serving_points(data)
    if len(curve) >= 2:
        out.append(
            Chart(
                "serving",
                "Cost per million output tokens against the latency target",
                "Each point re-runs the serving stage at one time per output token, with the rates "
                "predicted: a tighter target allows a smaller batch, and each token costs more.",
                "serving_curve",
                curve,
            )
        )
    if data.tornado is not None:
        out.append(
            Chart(
                "tornado",
                f"What drives {data.tornado.output}",
                "Each input alone at its 5th and 95th percentile, the others at their medians.",
                "tornado",
                data.tornado,
            )
        )
    return out


def serving_points(data: ReportData) -> tuple[dict[str, Any], ...]:
    """The cost-curve points with a latency target and a cost (unreachable targets left out)."""
    return tuple(
        p
        for p in data.serving_curve
        if p.get("tpot_ms") is not None and p.get("usd_per_m_output_tokens") is not None
    )


# ---- Plotly -----------------------------------------------------------------------------------
def _layout(title: str, **extra: Any) -> dict[str, Any]:
    # The page around a chart gives its title (a section heading); `title` is kept for exports.
    layout: dict[str, Any] = {
        "meta": {"title": title},
        "font": FONT,
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "margin": {"l": 70, "r": 30, "t": 20, "b": 60},
        "showlegend": False,
        "hoverlabel": {"align": "left"},
    }
    layout.update(extra)
    return layout


def _axis(**extra: Any) -> dict[str, Any]:
    ax: dict[str, Any] = {"gridcolor": "#e5e5e5", "zerolinecolor": "#bbbbbb", "automargin": True}
    ax.update(extra)
    return ax


def _views(title: str, views: tuple[View, ...]) -> dict[str, Any]:
    # Intervals are in the table and the histograms; error bars here would hide the value labels.
    xs = [v.figure.central for v in views]
    trace: dict[str, Any] = {
        "type": "bar",
        "orientation": "h",
        "y": [v.short_label for v in views],
        "x": xs,
        "marker": {"color": [PALETTE[i % len(PALETTE)] for i in range(len(views))]},
        "text": [v.figure.text for v in views],
        "textposition": "outside",
        "textangle": 0,
        "cliponaxis": False,
        "hovertext": [f"{v.label}: {v.figure.text}<br>{v.figure.interval}" for v in views],
        "hoverinfo": "text",
    }
    return {
        "data": [trace],
        "layout": _layout(
            title,
            height=110 + 55 * len(views),
            xaxis=_views_axis([x for x in xs if x is not None and x > 0]),
            yaxis=_axis(autorange="reversed"),
            margin={"l": 70, "r": 70, "t": 20, "b": 60},
        ),
    }


def _views_axis(xs: list[float]) -> dict[str, Any]:
    # Views span orders of magnitude ($5.6M headline, $2.7B lab total): log scale when they do.
    if xs and max(xs) > 20 * min(xs):
        return _axis(
            type="log",
            title={"text": "USD (log scale)"},
            tickprefix="$",
            dtick=1,
            range=[math.log10(min(xs)) - 0.3, math.log10(max(xs)) + 0.5],
        )
    return _axis(title={"text": "USD"}, tickprefix="$", rangemode="tozero")


def _waterfall(title: str, steps: tuple[Step, ...]) -> dict[str, Any]:
    # The first step is the headline itself (an absolute bar); the others add to it; a closing
    # bar shows the running total the last step reaches.
    labels = [s.label for s in steps] + [TOTAL_LABEL]
    amounts = [s.amount_usd for s in steps] + [steps[-1].total_usd]
    measure = ["absolute"] + ["relative"] * (len(steps) - 1) + ["total"]
    hover = [f"{s.label}<br>adds {usd(s.amount_usd)}; total {usd(s.total_usd)}<br>{s.note}" for s in steps]
    hover.append(f"Total: {usd(steps[-1].total_usd)}")
    trace = {
        "type": "waterfall",
        "x": labels,
        "y": amounts,
        "measure": measure,
        "text": [usd(a) for a in amounts],
        "textposition": "outside",
        "cliponaxis": False,
        "hovertext": hover,
        "hoverinfo": "text",
        "increasing": {"marker": {"color": UP}},
        "decreasing": {"marker": {"color": DOWN}},
        "totals": {"marker": {"color": TOTAL}},
        "connector": {"line": {"color": "#999", "width": 1}},
    }
    return {
        "data": [trace],
        "layout": _layout(
            title,
            height=440,
            yaxis=_axis(title={"text": "USD"}, tickprefix="$"),
            xaxis=_axis(tickangle=-20, ticklabelstandoff=12),
            margin={"l": 80, "r": 30, "t": 30, "b": 110},
        ),
    }


def groups(items: tuple[Item, ...]) -> dict[str, list[Item]]:
    groups: dict[str, list[Item]] = {}
    for it in items:
        groups.setdefault(it.group, []).append(it)
    return groups


def _breakdown(title: str, items: tuple[Item, ...]) -> dict[str, Any]:
    traces = []
    for i, (group, its) in enumerate(groups(items).items()):
        traces.append(
            {
                "type": "bar",
                "orientation": "h",
                "name": group,
                "y": [it.label for it in its],
                "x": [it.amount_usd for it in its],
                "marker": {"color": PALETTE[i % len(PALETTE)]},
                "text": [usd(it.amount_usd) for it in its],
                "textposition": "auto",
                "hovertext": [f"{group}<br>{it.label}: {usd(it.amount_usd)}" for it in its],
                "hoverinfo": "text",
            }
        )
    return {
        "data": traces,
        "layout": _layout(
            title,
            height=120 + 30 * len(items),
            showlegend=len(traces) > 1,
            legend={"orientation": "h", "x": 1, "xanchor": "right", "y": 1.01, "yanchor": "bottom"},
            margin={"l": 70, "r": 30, "t": 40, "b": 50},
            xaxis=_axis(title={"text": "USD"}, tickprefix="$"),
            yaxis=_axis(autorange="reversed"),
            barmode="overlay",
        ),
    }


def grid(n: int) -> tuple[int, int]:
    cols = 1 if n == 1 else 2
    return (n + cols - 1) // cols, cols


def _histograms(title: str, dists: tuple[Distribution, ...]) -> dict[str, Any]:
    rows, cols = grid(len(dists))
    gap_x, gap_y = 0.1, 0.16
    w = (1 - gap_x * (cols - 1)) / cols
    h = (1 - gap_y * (rows - 1)) / rows
    traces: list[dict[str, Any]] = []
    layout = _layout(title, height=90 + 250 * rows, bargap=0.02)
    shapes = []
    annotations = []
    for i, d in enumerate(dists):
        r, c = divmod(i, cols)
        suffix = "" if i == 0 else str(i + 1)
        x0 = c * (w + gap_x)
        y1 = 1 - r * (h + gap_y)
        counts, edges = np.histogram(d.draws, bins=HIST_BINS)
        centers = (edges[:-1] + edges[1:]) / 2
        traces.append(
            {
                "type": "bar",
                "x": centers.tolist(),
                "y": counts.tolist(),
                "width": float(edges[1] - edges[0]),
                "marker": {"color": PALETTE[0]},
                "xaxis": f"x{suffix}",
                "yaxis": f"y{suffix}",
                "hovertemplate": "%{x:.4s}: %{y} draws<extra></extra>",
            }
        )
        layout[f"xaxis{suffix}"] = _axis(
            domain=[x0, x0 + w],
            anchor=f"y{suffix}",
            exponentformat="B",
            tickprefix="$" if d.unit.startswith("USD") else "",
        )
        layout[f"yaxis{suffix}"] = _axis(domain=[y1 - h, y1], anchor=f"x{suffix}", showticklabels=False)
        for q in (d.p5, d.p50, d.p95):
            shapes.append(
                {
                    "type": "line",
                    "xref": f"x{suffix}",
                    "yref": f"y{suffix} domain",
                    "x0": q,
                    "x1": q,
                    "y0": 0,
                    "y1": 1,
                    "line": {"color": UP, "dash": "dash", "width": 1},
                }
            )
        annotations.append(
            {
                "text": f"<b>{d.key}</b>  p50 {value(d.p50, d.unit)} (p5 {value(d.p5, d.unit)}, p95 {value(d.p95, d.unit)})",
                "xref": "paper",
                "yref": "paper",
                "x": x0,
                "y": y1 + 0.01,
                "xanchor": "left",
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": 12},
            }
        )
    layout["shapes"] = shapes
    layout["annotations"] = annotations
    layout["margin"] = {"l": 30, "r": 30, "t": 40, "b": 40}
    return {"data": traces, "layout": layout}


def _tornado(title: str, t: Tornado) -> dict[str, Any]:
    bars = t.bars
    labels = [b.label for b in bars]

    def side(name: str, color: str, ends: list[float], inputs: list[float | None]) -> dict[str, Any]:
        return {
            "type": "bar",
            "orientation": "h",
            "name": name,
            "y": labels,
            "x": [e - t.base for e in ends],
            "base": [t.base] * len(bars),
            "marker": {"color": color},
            "hovertext": [
                f"{lab}{'' if inp is None else ' = ' + si(inp)}: {value(e, t.unit)}"
                for lab, e, inp in zip(labels, ends, inputs, strict=True)
            ],
            "hoverinfo": "text",
        }

    return {
        "data": [
            side("input at p5", DOWN, [b.low for b in bars], [b.low_input for b in bars]),
            side("input at p95", UP, [b.high for b in bars], [b.high_input for b in bars]),
        ],
        "layout": _layout(
            title,
            height=130 + 32 * len(bars),
            barmode="overlay",
            showlegend=True,
            legend={"orientation": "h", "x": 1, "xanchor": "right", "y": 1.01, "yanchor": "bottom"},
            margin={"l": 70, "r": 30, "t": 40, "b": 50},
            xaxis=_axis(
                title={"text": f"{t.output} [{t.unit}]"}, tickprefix="$" if t.unit.startswith("USD") else ""
            ),
            yaxis=_axis(autorange="reversed"),
            shapes=[
                {
                    "type": "line",
                    "x0": t.base,
                    "x1": t.base,
                    "yref": "paper",
                    "y0": 0,
                    "y1": 1,
                    "line": {"color": "#333", "width": 1},
                }
            ],
        ),
    }


def _serving_curve(title: str, points: tuple[dict[str, Any], ...]) -> dict[str, Any]:
    xs = [p["tpot_ms"] for p in points]
    traces = []
    for i, (key, name) in enumerate(
        (("usd_per_m_output_tokens", "rented GPUs"), ("owned_usd_per_m_output_tokens", "owned GPUs"))
    ):
        ys = [p.get(key) for p in points]
        if any(y is None for y in ys):
            continue
        traces.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": name,
                "x": xs,
                "y": ys,
                "line": {"color": PALETTE[i]},
                "hovertext": [
                    f"{x:g} ms: {usd(float(y or 0.0))} per M output tokens ({name})"
                    for x, y in zip(xs, ys, strict=True)
                ],
                "hoverinfo": "text",
            }
        )
    return {
        "data": traces,
        "layout": _layout(
            title,
            height=340,
            showlegend=True,
            xaxis=_axis(title={"text": "time per output token (ms)"}),
            yaxis=_axis(title={"text": "USD per million output tokens"}, tickprefix="$", rangemode="tozero"),
        ),
    }


PLOTLY_BUILDERS: dict[str, Callable[[str, Any], dict[str, Any]]] = {
    "views": _views,
    "waterfall": _waterfall,
    "breakdown": _breakdown,
    "histograms": _histograms,
    "tornado": _tornado,
    "serving_curve": _serving_curve,
}


def _no_tex(obj: Any) -> Any:
    """plotly.js reads text with two '$' as LaTeX ('$5M to $7M'); '&#36;' shows a plain '$'."""
    if isinstance(obj, str):
        return obj.replace("$", "&#36;")
    if isinstance(obj, dict):
        return {k: _no_tex(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_no_tex(v) for v in obj]
    return obj


def plotly_figure(chart: Chart) -> dict[str, Any]:
    """A chart as a plotly.js figure: {"data": [...], "layout": {...}} (JSON-ready)."""
    fig: dict[str, Any] = _no_tex(PLOTLY_BUILDERS[chart.kind](chart.title, chart.payload))
    return fig


def plotly_figures(data: ReportData) -> dict[str, dict[str, Any]]:
    """Every chart of `data`, keyed by chart key."""
    return {c.key: plotly_figure(c) for c in charts(data)}
