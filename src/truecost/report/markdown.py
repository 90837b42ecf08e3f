"""The report as Markdown, with its charts as PNG files beside it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ..fmt import value
from .charts import charts
from .content import ReportData, ResultRow
from .html import footer
from .mpl import write_png


def cell(x: Any) -> str:
    """Text safe in a Markdown table cell: no raw HTML, no column breaks, no math, one line."""
    s = "" if x is None else str(x)
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # "\$": a literal dollar; renderers with math read "$5M to $7M" as LaTeX otherwise.
    return " ".join(s.replace("|", "\\|").replace("$", "\\$").split())


def text(x: Any) -> str:
    """Text safe in a Markdown paragraph (no raw HTML)."""
    return cell(x).replace("\\|", "|")


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(cell(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _results(rows: Sequence[ResultRow], sampled: bool) -> str:
    if sampled:
        return table(
            ["result", "p50", "90% interval", "how"],
            ([f"`{r.key}`", r.figure.text, r.figure.interval.removeprefix("90%: "), r.formula] for r in rows),
        )
    return table(["result", "value", "how"], ([f"`{r.key}`", r.figure.text, r.formula] for r in rows))


def document(data: ReportData, path: Path, sensitivity_note: str = "") -> tuple[str, list[Path]]:
    """Markdown text for `path`, and the PNGs it links (written next to it as STEM-KEY.png)."""
    pngs: dict[str, str] = {}
    written: list[Path] = []
    for chart in charts(data):
        png = path.with_name(f"{path.stem}-{chart.key}.png")
        written.append(write_png(chart, png))
        pngs[chart.key] = f"![{cell(chart.title)}]({png.name})\n\n*{text(chart.caption)}*"

    out: list[str] = [f"# {text(data.question)}", text(data.answer)]
    if data.description:
        out.append(f"*{text(data.description)}*")
    if data.warnings:
        out.append("**Warnings**\n\n" + "\n".join(f"- {text(w)}" for w in data.warnings))
    out.append("## Four views of the cost")
    out.append(
        table(
            ["view", "value", "includes", "leaves out"],
            (
                [v.label, (v.figure.text + " " + v.figure.interval).strip(), v.includes, v.excludes]
                for v in data.views
            ),
        )
    )
    if "views" in pngs:
        out.append(pngs["views"])
    if data.serving:
        out.append("## Serving: cost per million tokens")
        out.append(
            table(
                ["figure", "value", "counts", "leaves out"],
                (
                    [v.label, (v.figure.text + " " + v.figure.interval).strip(), v.includes, v.excludes]
                    for v in data.serving
                ),
            )
        )
        if data.serving_layout:
            out.append(table(["", ""], data.serving_layout))
        if data.serving_curve:
            out.append("### Cost per million output tokens against the latency target")
            out.append(
                table(
                    ["time per output token", "batch", "output tokens/s per GPU", "$/M output (rented)"],
                    (
                        [
                            "none (maximum throughput)"
                            if p.get("tpot_ms") is None
                            else f"{p['tpot_ms']:g} ms",
                            "-" if "error" in p else f"{p['batch_sequences']:,.0f}",
                            "-" if "error" in p else f"{p['output_tokens_per_s_per_gpu']:,.0f}",
                            str(p["error"]) if "error" in p else f"${p['usd_per_m_output_tokens']:.4g}",
                        ]
                        for p in data.serving_curve
                    ),
                )
            )
    if "serving" in pngs:
        out.append(pngs["serving"])
    out.append("## From the headline to the lab total")
    if data.waterfall:
        out.append(pngs["waterfall"])
        out.append(
            table(
                ["step", "adds", "running total", "what it is"],
                (
                    [s.label, value(s.amount_usd, "USD"), value(s.total_usd, "USD"), s.note]
                    for s in data.waterfall
                ),
            )
        )
    else:
        out.append(
            "The scenario has no fleet or lab section, so there is no waterfall: only the final run is costed."
        )
    if data.breakdown or data.owned_terms:
        out.append("## Where the money goes")
    if data.breakdown:
        out.append(pngs["breakdown"])
        out.append(
            table(
                ["group", "item", "amount"],
                ([i.group, i.label, value(i.amount_usd, "USD")] for i in data.breakdown),
            )
        )
    if data.fleet_summary:
        out.append("### The fleet")
        out.append("\n".join(f"- **{text(k)}**: {text(v)}" for k, v in data.fleet_summary))
        if data.fleet_note:
            out.append(text(data.fleet_note))
    if data.owned_terms:
        out.append("### Owned cost per GPU-hour of the final run's accelerator")
        if data.owned_summary:
            out.append(text(data.owned_summary))
        total = sum(x for _k, x in data.owned_terms) or 1.0
        out.append(
            table(
                ["term", "USD per GPU-hour", "share"],
                ([k, value(x, "USD"), f"{x / total:.0%}"] for k, x in data.owned_terms),
            )
        )
    if data.carbon:
        out.append("## Energy and carbon")
        if data.carbon_note:
            out.append(text(data.carbon_note))
        out.append(_results(data.carbon, data.samples is not None))
    out.append("## How the FLOPs and GPU-hours were derived")
    if data.conventions:
        out.append("\n".join(f"- **{text(k)}**: {text(v)}" for k, v in data.conventions))
    if data.derivation:
        out.append(_results(data.derivation, data.samples is not None))
    if data.stages:
        out.append("### Reported stages")
        out.append(
            table(
                ["stage", "GPU-hours", "source"],
                (
                    [s.get("name", ""), value(s.get("gpu_hours"), "h"), s.get("source", "")]
                    for s in data.stages
                ),
            )
        )
    if "distributions" in pngs or "tornado" in pngs or sensitivity_note:
        out.append("## Uncertainty")
        out += [pngs[k] for k in ("distributions", "tornado") if k in pngs]
        if sensitivity_note:
            out.append(text(sensitivity_note))
    out.append("## All results")
    out.append(_results(data.results, data.samples is not None))
    out.append("## Assumptions")
    out.append(
        table(
            ["input", "value", "set by", "source", "date"],
            (
                [
                    a.get("name", ""),
                    value(a.get("value"), str(a.get("unit", ""))),
                    f"`{a['field']}`" if a.get("field") else "",
                    a.get("source", ""),
                    a.get("accessed", ""),
                ]
                for a in data.assumptions
            ),
        )
    )
    if data.notes:
        out.append("## Notes from the scenario")
        out += [f"> {text(n)}" for n in data.notes]
    if data.reference_points:
        out.append("## Reference points")
        out.append(
            table(
                ["reference point", "published", "this estimate", "source"],
                (
                    [
                        r.get("name", ""),
                        value(r.get("value"), str(r.get("unit", ""))),
                        ""
                        if "ours" not in r
                        else f"{value(r['ours'], str(r.get('unit', ''))) if r['ours'] is not None else '-'} ({r.get('gap', '')})",
                        " ".join(str(x) for x in (r.get("source", ""), r.get("note", "")) if x),
                    ]
                    for r in data.reference_points
                ),
            )
        )
    if data.sources:
        out.append("## Sources")
        out.append("\n".join(f"- {text(s)}" for s in data.sources))
    out.append(f"---\n\n*{text(footer(data))}*")
    return "\n\n".join(out) + "\n", written
