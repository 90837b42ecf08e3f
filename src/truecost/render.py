"""Rich tables for the terminal (presentation only; the numbers come from the library)."""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table

from .fmt import value
from .result import Estimate
from .scenario.cluster import LAYOUT_KEYS


def estimate_tables(est: Estimate) -> Group:
    parts: list[Any] = []
    title = f"[bold]{est.scenario}[/bold]"
    if est.samples is not None:
        title += f"  ({est.samples:,} Monte Carlo samples, seed {est.seed})"
    t = Table(title=title, title_justify="left", show_lines=False)
    t.add_column("result")
    if est.samples is None:
        t.add_column("value", justify="right")
    else:
        for q in ("mean", "p5", "p25", "p50", "p75", "p95"):
            t.add_column(q, justify="right")
    t.add_column("how", style="dim", overflow="fold")
    for k, v in est.results.items():
        unit = est.units.get(k, "")
        how = est.formulas.get(k, "")
        if isinstance(v, dict):
            ext = est.percentiles.get(k, v)
            cells = [
                value(ext.get(q, v.get(q, float("nan"))), unit)
                for q in ("mean", "p5", "p25", "p50", "p75", "p95")
            ]
            t.add_row(k, *cells, how)
        else:
            t.add_row(k, value(v, unit), how)
    parts.append(t)

    stages = est.details.get("stages")
    costs = est.details.get("stage_costs_usd", {})
    if stages:
        st = Table(title="Reported stages", title_justify="left")
        st.add_column("stage")
        st.add_column("GPU-hours", justify="right")
        st.add_column("rental cost", justify="right")
        st.add_column("source", style="dim", overflow="fold")
        for s in stages:
            st.add_row(
                s["name"],
                value(s["gpu_hours"], "h"),
                value(costs.get(s["name"], float("nan")), "USD"),
                s["source"],
            )
        parts.append(st)

    perf = est.details.get("perf")
    if perf:
        lay = perf["layout"]
        shown = ", ".join(f"{k} {lay[k]}" for k in LAYOUT_KEYS)
        pt = Table(title=f"Step-time model: {shown}", title_justify="left")
        pt.add_column("where one step goes")
        pt.add_column("s", justify="right")
        pt.add_column("share", justify="right")
        step = perf["step_time_s"]
        for part, sec in perf["breakdown_s"].items():
            if sec > 0:
                pt.add_row(part, f"{sec:.3f}", f"{sec / step:.0%}")
        pt.add_row("[bold]step[/bold]", f"[bold]{step:.3f}[/bold]", "")
        mem = perf["memory_byte"]
        pt.caption = (
            "memory per GPU: "
            + ", ".join(f"{k} {v / 1e9:.1f} GB" for k, v in mem.items())
            + ("" if perf["fits"] else "  [red]does not fit[/red]")
        )
        parts.append(pt)

    waterfall = est.details.get("waterfall")
    if waterfall:
        w = Table(title="From the headline to the lab's total spend", title_justify="left")
        w.add_column("step")
        w.add_column("adds", justify="right")
        w.add_column("running total", justify="right")
        w.add_column("what it is", style="dim", overflow="fold")
        for row in waterfall:
            w.add_row(
                row["label"],
                value(row["amount_usd"], "USD"),
                value(row["total_usd"], "USD"),
                row.get("note", ""),
            )
        parts.append(w)

    views = est.details.get("views")
    if views:
        vt = Table(title="Four views of what it cost", title_justify="left")
        vt.add_column("view")
        vt.add_column("value", justify="right")
        vt.add_column("includes", overflow="fold")
        vt.add_column("leaves out", style="dim", overflow="fold")
        for row in views:
            key = row["key"]
            v = est.results.get(key)
            shown = value(v["p50"] if isinstance(v, dict) else v, "USD") if v is not None else "-"
            vt.add_row(row["label"], shown, row["includes"], row["excludes"])
        parts.append(vt)

    a = Table(title="Assumptions", title_justify="left")
    a.add_column("input")
    a.add_column("value", justify="right")
    a.add_column("source", style="dim", overflow="fold")
    for row in est.assumptions:
        a.add_row(row["name"], value(row["value"], row.get("unit", "")), row.get("source", ""))
    parts.append(a)

    notes = est.inputs.get("notes") if isinstance(est.inputs, dict) else None
    if notes:
        parts.append(
            Panel("\n\n".join(str(n) for n in notes), title="Notes from the scenario", title_align="left")
        )
    if est.warnings:
        parts.append(Panel("\n".join(est.warnings), title="Warnings", title_align="left", style="yellow"))
    return Group(*parts)


def rows_table(rows: list[dict[str, Any]], columns: list[str], title: str) -> Table:
    t = Table(title=title, title_justify="left")
    for c in columns:
        t.add_column(c, overflow="fold")
    for r in rows:
        t.add_row(*("" if r.get(c) is None else str(r.get(c)) for c in columns))
    return t


def print_renderable(obj: Any) -> None:
    Console().print(obj)


def sensitivity_table(res: dict[str, Any]) -> Table:
    unit = res.get("unit", "")
    t = Table(
        title=f"What drives {res['output']} (base {value(res['base'], unit)}; Sobol n = {res.get('sobol_n')})",
        title_justify="left",
    )
    for c in ("input", "p5 -> p95 of input", "output at p5", "output at p95", "first order", "total order"):
        t.add_column(c, justify="left" if c == "input" else "right")
    for r in res["inputs"]:
        t.add_row(
            r.get("label", r["input"]),
            f"{r['low_input']:.4g} -> {r['high_input']:.4g}",
            value(r["swing"]["low"], unit),
            value(r["swing"]["high"], unit),
            f"{r['first_order']:.3f}",
            f"{r['total_order']:.3f}",
        )
    return t


def plan_table(res: dict[str, Any]) -> Table:
    t = Table(
        title=f"{res['scenario']}: layouts on {res['count']:,} x {res['accelerator']}, global batch "
        f"{res['global_batch']} ({res['objective']})",
        title_justify="left",
    )
    short = {"micro_batch": "mb", "virtual_stages": "v"}
    for c in ("#", *(short.get(k, k) for k in LAYOUT_KEYS), "step s", "MFU", "GB/GPU", "fits"):
        t.add_column(c, justify="right", no_wrap=True)
    for i, p in enumerate(res["layouts"], 1):
        lay = p["layout"]
        mem = p["memory_byte"]["total"] / 1e9
        t.add_row(
            str(i),
            *(str(lay.get(k)) for k in LAYOUT_KEYS),
            f"{p['step_time_s']:.3f}",
            f"{p['mfu']:.3f}",
            f"{mem:.1f}",
            "yes" if p["fits"] else "NO",
        )
    return t


def validation_table(name: str, block: dict[str, Any]) -> Table:
    """One validation set: measured vs predicted with the error of each row."""
    title = f"{name}: mean absolute error {block['mape_pct']:.1f}% over {block['n']} rows"
    if block.get("held_out_mape_pct") is not None:
        title += f" (held-out rows {block['held_out_mape_pct']:.1f}%)"
    if block.get("median_ratio") is not None:
        title += (
            f"; median ratio predicted/measured {block['median_ratio']:.3f} "
            f"(range {block['min_ratio']:.3f}-{block['max_ratio']:.3f})"
        )
    rows = block["rows"]
    if len(rows) > 40:
        rows = sorted(rows, key=lambda r: -abs(r["error_pct"]))[:15]
        title += "; the 15 largest errors shown (--json for all)"
    t = Table(title=title, title_justify="left")
    for c in ("label", "measured", "predicted", "error %", "note"):
        t.add_column(c, justify="left" if c in ("label", "note") else "right", overflow="fold")
    for r in rows:
        t.add_row(
            r["label"],
            f"{r['measured']:.4g}",
            f"{r['predicted']:.4g}",
            f"{r['error_pct']:+.1f}",
            r.get("note", ""),
        )
    return t
