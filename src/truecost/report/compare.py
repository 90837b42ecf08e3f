"""Scenarios side by side, as HTML: results with ratios to the first, the four views as grouped
bars and the headline-to-lab-total steps as a grouped waterfall (the web page shows the same)."""

from __future__ import annotations

import datetime as _dt
from string import Template
from typing import Any

from .. import __version__
from ..analysis.compare import Comparison
from ..fmt import value
from ..stages.views import VIEWS
from .charts import FONT, PALETTE
from .html import Safe, chart_block, esc, join, plotly_js, section, table, tag, template


def side_by_side(cmp: Comparison) -> Safe:
    """Every result of any scenario; after the first, each value with its ratio to the first's."""
    ests = cmp.estimates
    rows = []
    for k in cmp.keys():
        unit = next((e.units[k] for e in ests if k in e.units), "")
        cells: list[Any] = [tag("code", k)]
        for i in range(len(ests)):
            v = cmp.value(i, k)
            r = cmp.ratio(i, k) if i else None
            cells.append(
                "-"
                if v is None
                else join(
                    [value(v, unit), tag("div", f"{r:.3g}x" if r is not None else "", class_="interval")]
                )
            )
        rows.append(cells)
    headers = ["result", *(f"{i + 1}. {e.scenario}" for i, e in enumerate(ests))]
    return table(headers, rows, cls="compare", numeric=tuple(range(1, len(ests) + 1)))


def _bars(
    title: str, cats: list[str], series: list[tuple[str, list[float | None]]], log: bool
) -> dict[str, Any]:
    data = [
        {
            "type": "bar",
            "name": name,
            "x": cats,
            "y": ys,
            "marker": {"color": PALETTE[i % len(PALETTE)]},
            "text": ["" if y is None else value(y, "USD") for y in ys],
            "textposition": "outside",
            "cliponaxis": False,
        }
        for i, (name, ys) in enumerate(series)
    ]
    yaxis: dict[str, Any] = {"tickprefix": "$", "automargin": True, "gridcolor": "#e5e5e5"}
    if log:
        yaxis.update(type="log", title={"text": "USD (log scale)"})
    return {
        "data": data,
        "layout": {
            "meta": {"title": title},
            "font": FONT,
            "barmode": "group",
            "height": 420,
            "showlegend": True,
            "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
            "margin": {"l": 70, "r": 20, "t": 60, "b": 120},
            "yaxis": yaxis,
            "xaxis": {"automargin": True, "tickangle": -20},
            "paper_bgcolor": "#ffffff",
            "plot_bgcolor": "#ffffff",
        },
    }


def figures(cmp: Comparison) -> dict[str, dict[str, Any]]:
    """'views' (grouped bars of the four views) and, when any scenario has a lab, 'waterfall'
    (each step's amount per scenario, steps matched by their kind, not their label)."""
    ests = cmp.estimates
    names = [f"{i + 1}. {e.scenario}" for i, e in enumerate(ests)]
    out: dict[str, dict[str, Any]] = {}
    views = [v for v in VIEWS if any(v.key in e.results for e in ests)]
    if views:
        out["views"] = _bars(
            "The four views",
            [v.short_label for v in views],
            [
                (n, [e.value(v.key) if v.key in e.results else None for v in views])
                for n, e in zip(names, ests, strict=True)
            ],
            log=True,
        )
    steps: dict[str, str] = {}
    for e in ests:
        for s in e.stages.lab.waterfall:
            steps.setdefault(s.key, s.label)
    if len(steps) > 1:
        series = []
        for n, e in zip(names, ests, strict=True):
            by_key = {s.key: s.amount_usd for s in e.stages.lab.waterfall}
            series.append((n, [by_key.get(k) for k in steps]))
        out["waterfall"] = _bars(
            "From the headline to the lab total, step by step", list(steps.values()), series, log=False
        )
    return out


def fragment(cmp: Comparison) -> Safe:
    """The comparison's sections (table, then charts), for the report page and the web page."""
    from .charts import Chart

    figs = figures(cmp)
    parts: list[Any] = [
        section(
            "Side by side",
            side_by_side(cmp),
            "compare",
            "Each result of each scenario; below a value, its ratio to the first scenario's.",
        )
    ]
    captions = {
        "views": "Each view of each scenario (log scale).",
        "waterfall": "What each step from the headline to the lab total adds, per scenario; steps at "
        "the point values.",
    }
    for key, fig in figs.items():
        chart = Chart(f"compare-{key}", str(fig["layout"]["meta"]["title"]), captions[key], "views", ())
        parts.append(section(chart.title, chart_block(chart, fig), f"compare-{key}-section"))
    return join(parts)


def document(cmp: Comparison) -> str:
    """A self-contained HTML page comparing the scenarios (plotly.js inlined)."""
    title = " vs ".join(e.scenario for e in cmp.estimates)
    body = join(
        [
            tag(
                "header",
                join(
                    [
                        tag("p", "truecost comparison", class_="kicker"),
                        tag("h1", title),
                    ]
                ),
            ),
            fragment(cmp),
        ]
    )
    footer = f"Generated by truecost {__version__} on {_dt.date.today().isoformat()}."
    return Template(template("report.html")).substitute(
        title=esc(f"truecost: {title}"),
        css=template("report.css"),
        plotlyjs=f"<script>{plotly_js()}</script>",
        body=body,
        footer=esc(footer),
    )
