"""The report as HTML: one self-contained file (plotly.js inlined), every text escaped.

The section builders return HTML fragments; the web calculator shows the same fragments.
Anything that did not come from this module is escaped with `html.escape`; fragments built here
are wrapped in `Safe` so that they are not escaped twice.
"""

from __future__ import annotations

import datetime as _dt
import html
import json
from collections.abc import Iterable, Sequence
from functools import cache
from importlib import resources
from string import Template
from typing import Any

from .. import __version__
from ..fmt import value
from .charts import Chart, charts, plotly_figure
from .content import ReportData, ResultRow, View


class Safe(str):
    """HTML that is already escaped."""


def esc(x: Any) -> str:
    return x if isinstance(x, Safe) else html.escape("" if x is None else str(x))


def tag(name: str, body: Any, **attrs: Any) -> Safe:
    """<name attrs>body</name>; attribute names take `_` for `-` and a trailing `_` for keywords."""
    at = "".join(f' {k.rstrip("_").replace("_", "-")}="{esc(v)}"' for k, v in attrs.items() if v is not None)
    return Safe(f"<{name}{at}>{esc(body)}</{name}>")


def join(parts: Iterable[Any]) -> Safe:
    return Safe("".join(esc(p) for p in parts))


def table(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], cls: str = "", numeric: Sequence[int] = ()
) -> Safe:
    head = tag(
        "tr", join(tag("th", h, class_="num" if i in numeric else None) for i, h in enumerate(headers))
    )
    body = join(
        tag("tr", join(tag("td", c, class_="num" if i in numeric else None) for i, c in enumerate(row)))
        for row in rows
    )
    return tag("table", join([tag("thead", head), tag("tbody", body)]), class_=cls or None)


@cache
def plotly_js() -> str:
    """plotly.js from the plotly wheel (read once)."""
    from plotly.offline import get_plotlyjs

    return str(get_plotlyjs())


def template(name: str) -> str:
    return resources.files("truecost.report").joinpath("templates", name).read_text(encoding="utf-8")


def script_json(obj: Any) -> str:
    """JSON safe to place inside a <script> element."""
    return (
        json.dumps(obj, allow_nan=False, separators=(",", ":"))
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )


# ---- sections -----------------------------------------------------------------------------------
def cards(views: Sequence[View]) -> Safe:
    """The four views as figure cards; data-value holds the number (for tests and scripts)."""
    out = []
    for v in views:
        body = [tag("div", v.label, class_="card-label"), tag("div", v.figure.text, class_="card-value")]
        if v.figure.interval:
            body.append(tag("div", v.figure.interval, class_="card-interval"))
        out.append(
            tag(
                "div",
                join(body),
                class_="card" + ("" if v.computed else " card-missing"),
                id=f"view-{v.key}",
                data_key=v.key,
                data_value="" if v.figure.central is None else repr(v.figure.central),
            )
        )
    return tag("div", join(out), class_="cards")


def views_table(views: Sequence[View]) -> Safe:
    return table(
        ["view", "value", "includes", "leaves out"],
        (
            [
                v.label,
                join([v.figure.text, tag("div", v.figure.interval, class_="interval")]),
                v.includes,
                v.excludes,
            ]
            for v in views
        ),
        cls="views",
        numeric=(1,),
    )


def waterfall_table(data: ReportData) -> Safe:
    return table(
        ["step", "adds", "running total", "what it is"],
        ([s.label, value(s.amount_usd, "USD"), value(s.total_usd, "USD"), s.note] for s in data.waterfall),
        numeric=(1, 2),
    )


def breakdown_table(data: ReportData) -> Safe:
    return table(
        ["group", "item", "amount"],
        ([i.group, i.label, value(i.amount_usd, "USD")] for i in data.breakdown),
        numeric=(2,),
    )


def results_table(rows: Sequence[ResultRow], sampled: bool) -> Safe:
    if sampled:
        return table(
            ["result", "p50", "p5", "p95", "unit", "how"],
            (
                [
                    tag("code", r.key),
                    r.figure.text,
                    "-" if r.figure.p5 is None else value(r.figure.p5, r.figure.unit),
                    "-" if r.figure.p95 is None else value(r.figure.p95, r.figure.unit),
                    r.figure.unit,
                    r.formula,
                ]
                for r in rows
            ),
            cls="results",
            numeric=(1, 2, 3),
        )
    return table(
        ["result", "value", "unit", "how"],
        ([tag("code", r.key), r.figure.text, r.figure.unit, r.formula] for r in rows),
        cls="results",
        numeric=(1,),
    )


def derivation(data: ReportData) -> Safe:
    parts: list[Any] = []
    if data.conventions:
        parts.append(
            tag(
                "dl",
                join(join([tag("dt", k), tag("dd", v)]) for k, v in data.conventions),
                class_="conventions",
            )
        )
    if data.derivation:
        parts.append(results_table(data.derivation, data.samples is not None))
    if data.stages:
        parts.append(tag("h3", "Reported stages"))
        parts.append(
            table(
                ["stage", "GPU-hours", "tokens", "source"],
                (
                    [
                        s.get("name", ""),
                        value(s.get("gpu_hours"), "h"),
                        "-" if s.get("tokens") is None else value(s.get("tokens"), ""),
                        s.get("source", ""),
                    ]
                    for s in data.stages
                ),
                numeric=(1, 2),
            )
        )
    return join(parts)


def assumptions_table(data: ReportData) -> Safe:
    return table(
        ["input", "value", "set by", "source", "date"],
        (
            [
                a.get("name", ""),
                value(a.get("value"), str(a.get("unit", ""))),
                tag("code", a["field"]) if a.get("field") else "",
                a.get("source", ""),
                a.get("accessed", ""),
            ]
            for a in data.assumptions
        ),
        cls="assumptions",
        numeric=(1,),
    )


def reference_table(data: ReportData) -> Safe:
    def ours(r: dict[str, Any]) -> Any:
        if "ours" not in r:
            return ""
        return join(
            [
                value(r["ours"], str(r.get("unit", ""))) if r["ours"] is not None else "-",
                tag("div", r.get("gap", ""), class_="interval"),
            ]
        )

    def about(r: dict[str, Any]) -> Any:
        return join([r.get("source", ""), tag("div", r["note"], class_="interval") if r.get("note") else ""])

    return table(
        ["reference point", "published", "this estimate", "source"],
        (
            [r.get("name", ""), value(r.get("value"), str(r.get("unit", ""))), ours(r), about(r)]
            for r in data.reference_points
        ),
        numeric=(1, 2),
    )


def sobol_table(data: ReportData) -> Safe:
    t = data.tornado
    if t is None:
        return Safe("")

    def idx(x: float | None) -> str:
        return "-" if x is None else f"{x:.2f}"

    return table(
        ["input", "output at its p5", "output at its p95", "Sobol' first order", "Sobol' total order"],
        (
            [
                tag("code", b.label),
                value(b.low, t.unit),
                value(b.high, t.unit),
                idx(b.first_order),
                idx(b.total_order),
            ]
            for b in t.bars
        ),
        numeric=(1, 2, 3, 4),
    )


def owned_table(data: ReportData) -> Safe:
    total = sum(x for _k, x in data.owned_terms) or 1.0
    return table(
        ["term", "USD per GPU-hour", "share"],
        ([k, value(x, "USD"), f"{x / total:.0%}"] for k, x in data.owned_terms),
        numeric=(1, 2),
    )


def fleet_block(data: ReportData) -> Safe:
    parts: list[Any] = []
    if data.fleet_summary:
        parts.append(tag("h3", "The fleet"))
        parts.append(
            tag(
                "dl",
                join(join([tag("dt", k), tag("dd", v)]) for k, v in data.fleet_summary),
                class_="conventions",
            )
        )
        if data.fleet_note:
            parts.append(tag("p", data.fleet_note, class_="note"))
    if data.owned_terms:
        parts.append(tag("h3", "Owned cost per GPU-hour of the final run's accelerator"))
        if data.owned_summary:
            parts.append(tag("p", data.owned_summary, class_="note"))
        parts.append(owned_table(data))
    return join(parts)


def warnings_block(warnings: Sequence[str]) -> Safe:
    if not warnings:
        return Safe("")
    return tag(
        "div",
        join([tag("h3", "Warnings"), tag("ul", join(tag("li", w) for w in warnings))]),
        class_="warnings",
    )


def chart_block(chart: Chart, figure: dict[str, Any] | None = None) -> Safe:
    """A chart's <figure>; plotly.js draws it from the inline JSON (plotly.js must be loaded)."""
    fig = figure if figure is not None else plotly_figure(chart)
    div_id = f"chart-{chart.key}"
    script = Safe(
        f"<script>Plotly.newPlot({json.dumps(div_id)}, {script_json(fig['data'])}, {script_json(fig['layout'])}, "
        '{"responsive": true, "displaylogo": false});</script>'
    )
    return tag(
        "figure",
        join(
            [
                tag("div", "", id=div_id, class_="chart"),
                tag("figcaption", join([tag("b", chart.title), ". ", chart.caption])),
                script,
            ]
        ),
        class_="chart-figure",
        data_chart=chart.key,
    )


def section(title: str, body: Any, sid: str, intro: str = "") -> Safe:
    parts: list[Any] = [tag("h2", title)]
    if intro:
        parts.append(tag("p", intro, class_="intro"))
    parts.append(body)
    return tag("section", join(parts), id=sid)


def serving_section(data: ReportData, curve_chart: Any = "") -> Safe:
    return section(
        "Serving: cost per million tokens",
        join([serving_block(data), curve_chart]),
        "serving",
        SERVING_INTRO,
    )


SERVING_INTRO = (
    "What serving costs per token, from the throughput of the layout (measured when the scenario "
    "gives a rate, else predicted) and the $/GPU-h of the pricing stage. A tighter latency target "
    "forces a smaller batch, and each token costs more."
)


def serving_block(data: ReportData) -> Safe:
    """Cards for $/M tokens and the margin, the layout and predicted rates, and the cost curve."""
    if not data.serving:
        return Safe("")
    body: list[Any] = [cards(data.serving)]
    if data.serving_layout:
        body.append(table(["", ""], list(data.serving_layout), cls="serving-layout", numeric=(1,)))
    if data.serving_curve:
        rows = []
        for p in data.serving_curve:
            target = "none (maximum throughput)" if p.get("tpot_ms") is None else f"{p['tpot_ms']:g} ms"
            if "error" in p:
                rows.append([target, "-", "-", "-", str(p["error"])])
                continue
            rows.append(
                [
                    target,
                    f"{p['batch_sequences']:,.0f}",
                    f"{p['output_tokens_per_s_per_gpu']:,.0f}",
                    f"${p['usd_per_m_output_tokens']:.4g}",
                    ""
                    if p.get("owned_usd_per_m_output_tokens") is None
                    else f"${p['owned_usd_per_m_output_tokens']:.4g}",
                ]
            )
        body.append(tag("h3", "Cost per million output tokens against the latency target"))
        body.append(
            table(
                [
                    "time per output token",
                    "batch",
                    "output tokens/s per GPU",
                    "$/M output (rented)",
                    "$/M output (owned)",
                ],
                rows,
                cls="serving-curve",
                numeric=(1, 2, 3, 4),
            )
        )
    return join(body)


# ---- the document -------------------------------------------------------------------------------
def body(data: ReportData, sensitivity_note: str = "") -> Safe:
    """Everything inside <main>."""
    by_key = {c.key: c for c in charts(data)}

    def chart(key: str) -> Safe:
        return chart_block(by_key[key]) if key in by_key else Safe("")

    parts: list[Any] = [
        tag(
            "header",
            join(
                [
                    tag("p", "truecost report", class_="kicker"),
                    tag("h1", data.question),
                    tag("p", data.answer, class_="answer"),
                    tag("p", data.description, class_="description") if data.description else "",
                    cards(data.views),
                ]
            ),
        ),
        warnings_block(data.warnings),
        section(
            "Four views of the cost",
            join([views_table(data.views), chart("views")]),
            "views",
            "The same model has several honest price tags; each counts a different set of costs.",
        ),
    ]
    if data.serving:
        parts.append(serving_section(data, chart("serving")))
    if data.waterfall:
        parts.append(
            section(
                "From the headline to the lab total",
                join([chart("waterfall"), waterfall_table(data)]),
                "waterfall",
            )
        )
    else:
        parts.append(
            section(
                "From the headline to the lab total",
                tag(
                    "p",
                    "The scenario has no fleet or lab section, so there is no waterfall: only the final run is costed.",
                ),
                "waterfall",
            )
        )
    if data.breakdown or data.owned_terms:
        parts.append(
            section(
                "Where the money goes",
                join(
                    [chart("breakdown"), breakdown_table(data) if data.breakdown else "", fleet_block(data)]
                ),
                "breakdown",
            )
        )
    if data.carbon:
        parts.append(
            section(
                "Energy and carbon",
                results_table(data.carbon, data.samples is not None),
                "carbon",
                data.carbon_note,
            )
        )
    parts.append(
        section(
            "How the FLOPs and GPU-hours were derived",
            derivation(data),
            "derivation",
            "Each result with the formula that produced it; FLOP counts follow the convention named first.",
        )
    )
    if data.distributions or data.tornado is not None or sensitivity_note:
        unc: list[Any] = [chart("distributions"), chart("tornado"), sobol_table(data)]
        if sensitivity_note:
            unc.append(tag("p", sensitivity_note, class_="note"))
        parts.append(section("Uncertainty", join(unc), "uncertainty"))
    parts.append(section("All results", results_table(data.results, data.samples is not None), "results"))
    parts.append(
        section(
            "Assumptions",
            assumptions_table(data),
            "assumptions",
            "Every input the chain used, with where its value comes from; override any of them in the scenario file.",
        )
    )
    if data.notes:
        parts.append(
            section("Notes from the scenario", join(tag("blockquote", n) for n in data.notes), "notes")
        )
    if data.reference_points:
        parts.append(section("Reference points", reference_table(data), "reference-points"))
    if data.sources:
        parts.append(section("Sources", tag("ul", join(tag("li", s) for s in data.sources)), "sources"))
    return join(parts)


def footer(data: ReportData) -> str:
    run = (
        f"{data.samples:,} Monte Carlo samples, seed {data.seed}"
        if data.samples is not None
        else "point estimate"
    )
    return f"Generated by truecost {__version__} on {_dt.date.today().isoformat()} ({run})."


def document(data: ReportData, sensitivity_note: str = "") -> str:
    """A complete, self-contained HTML page (plotly.js inlined only when there are charts)."""
    plotlyjs = ""
    if charts(data):
        plotlyjs = f"<script>{plotly_js()}</script>"
    return Template(template("report.html")).substitute(
        title=esc(f"truecost: {data.title}"),
        css=template("report.css"),
        plotlyjs=plotlyjs,
        body=body(data, sensitivity_note),
        footer=esc(footer(data)),
    )
