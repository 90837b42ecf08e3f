"""Rich tables for the terminal (presentation only; the numbers come from the library).

Every table fits the console's width (80 columns in a pipe) without cutting a value or a name:
text columns fold, and at narrow widths several values stack in one column.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich import box
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from .fmt import value as _value
from .result import Estimate
from .scenario.cluster import LAYOUT_KEYS

WIDE = 120  # columns from which the wide forms of the tables are shown
TOP_ASSUMPTIONS = 10


def value(x: Any, unit: str) -> str:
    """A value with its unit, compact for narrow terminals ("$692.7M/yr", "$2.095/GPU-h")."""
    return _value(x, unit).replace(" / ", "/")


def _table(title: str | None = None, caption: str | None = None) -> Table:
    return Table(
        title=title,
        caption=caption,
        title_justify="left",
        caption_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        title_style="bold",
    )


def _col(
    t: Table, name: str, *, right: bool = False, dim: bool = False, min_width: int | None = None
) -> None:
    """A column that folds its text (never an ellipsis)."""
    t.add_column(
        name,
        justify="right" if right else "left",
        overflow="fold",
        style="dim" if dim else None,
        min_width=min_width,
    )


def _central(v: Any) -> float:
    return float(v["p50"]) if isinstance(v, dict) else float(v)


def _interval(v: Any, unit: str) -> str:
    if not isinstance(v, dict) or abs(float(v["p95"]) - float(v["p5"])) <= 1e-9 * abs(float(v["p95"])):
        return ""
    return f"{value(v['p5'], unit)} – {value(v['p95'], unit)}"


# ---- the answer -----------------------------------------------------------------------------
def answer_block(est: Estimate) -> Group:
    """The headline, the four views, the ratio and the reference points: what a reader came for."""
    from .stages.views import VIEWS

    parts: list[Any] = []
    head = Text(est.scenario, style="bold")
    if est.samples is not None:
        head.append(
            f"\n{est.samples:,} Monte Carlo samples, seed {est.seed} (p50 shown; 90% interval beside it)",
            style="dim",
        )
    parts.append(head)
    t = _table()
    t.show_header = False
    _col(t, "view", min_width=16)
    _col(t, "value", right=True)
    if est.samples is not None:
        _col(t, "90% interval", dim=True)
    shown = 0
    for v in VIEWS:
        r = est.results.get(v.key)
        if r is None:
            continue
        shown += 1
        row: list[str | Text] = [v.short_label, Text(value(_central(r), "USD"), style="bold")]
        if est.samples is not None:
            row.append(_interval(r, "USD"))
        t.add_row(*row)
    if not shown and "gpu_hours" in est.results:
        r = est.results["gpu_hours"]
        t.add_row("GPU-hours", Text(value(_central(r), "h"), style="bold"), *([""] if est.samples else []))
    parts.append(t)
    ratio = est.results.get("true_to_headline_ratio")
    if ratio is not None:
        parts.append(Text(f"The lab's total spend is {_central(ratio):.3g} times the headline."))
    elif "lab_total_cost_usd" not in est.results and shown:
        parts.append(
            Text(
                "No lab in the scenario: only the final run is costed (development and the lab total "
                "would be larger).",
                style="dim",
            )
        )
    refs = reference_table(est)
    if refs is not None:
        parts.append(refs)
    return Group(*parts)


def reference_table(est: Estimate) -> Table | None:
    """Third-party figures beside this estimate's (at the point values)."""
    refs = est.stages.views.reference_points
    if not refs:
        return None
    t = _table(
        "Reference points",
        "ours: at the point values (each uncertain input at its median)" if est.samples is not None else None,
    )
    compared = any(r.compare_to for r in refs)
    _col(t, "published figure", min_width=20)
    _col(t, "theirs", right=True)
    if compared:
        _col(t, "ours", right=True)
        _col(t, "gap", right=True)
    for r in refs:
        unit = str(r.unit or "")
        row = [str(r.name or ""), value(r.value, unit)]
        if compared:
            ours = "-" if r.ours is None else value(r.ours, unit)
            gap = f"{r.ours_over_reference - 1:+.0%}" if r.ours_over_reference is not None else ""
            row += [ours if r.compare_to else "", gap]
        t.add_row(*row)
    return t


# ---- results ----------------------------------------------------------------------------------
def results_table(est: Estimate, width: int) -> Table:
    if est.samples is None:
        t = _table("Results")
        _col(t, "result", min_width=min(24, max(map(len, est.results), default=14)))
        _col(t, "value", right=True)
        _col(t, "how", dim=True, min_width=16)
        for k, v in est.results.items():
            t.add_row(k, value(v, est.units.get(k, "")), est.formulas.get(k, ""))
        return t
    wide = width >= WIDE
    t = _table("Results", None if wide else f"mean, p25, p75 and formulas: --json, or {WIDE}+ columns")
    if wide:
        qs = ("mean", "p5", "p25", "p50", "p75", "p95")
        _col(t, "result", min_width=max(map(len, est.results), default=14))
        for q in qs:
            _col(t, q, right=True)
        _col(t, "how", dim=True, min_width=16)
    else:  # the median, then the 90% interval in one column that may fold: long names and units fit
        _col(t, "result", min_width=min(24, max(map(len, est.results), default=14)))
        _col(t, "p50", right=True)
        _col(t, "p5 – p95", right=True, min_width=12)
    for k, v in est.results.items():
        unit = est.units.get(k, "")
        if not isinstance(v, dict):
            t.add_row(k)
            continue
        ext = est.percentiles.get(k, v)

        def at(name: str, ext: Any = ext, v: Any = v, unit: str = unit) -> str:
            return value(ext.get(name, v.get(name, float("nan"))), unit)

        if wide:
            t.add_row(k, *(at(n) for n in qs), est.formulas.get(k, ""))
        else:
            t.add_row(k, at("p50"), f"{at('p5')} – {at('p95')}")
    return t


def stages_table(est: Estimate) -> Table | None:
    stages = est.stages.run.reported_stages
    if not stages:
        return None
    costs = est.stages.rental.stage_costs_usd or {}
    t = _table("Reported stages")
    _col(t, "stage", min_width=12)
    _col(t, "GPU-hours", right=True)
    _col(t, "rental cost", right=True)
    _col(t, "source", dim=True, min_width=16)
    for s in stages:
        t.add_row(s.name, value(s.gpu_hours, "h"), value(costs.get(s.name, float("nan")), "USD"), s.source)
    return t


def step_table(est: Estimate) -> Table | None:
    perf = est.stages.perf.prediction
    if perf is None:
        return None
    shown = ", ".join(f"{k} {getattr(perf.layout, k)}" for k in LAYOUT_KEYS)
    mem = perf.memory_byte
    t = _table(
        f"Step-time model: {shown}",
        "memory per GPU: "
        + ", ".join(f"{k} {v / 1e9:.1f} GB" for k, v in mem.items())
        + ("" if perf.fits else "  (does not fit)"),
    )
    _col(t, "where one step goes", min_width=16)
    _col(t, "s", right=True)
    _col(t, "share", right=True)
    step = perf.step_time_s
    for part, sec in perf.breakdown_s.items():
        if sec > 0:
            t.add_row(part, f"{sec:.3f}", f"{sec / step:.0%}")
    t.add_row(Text("step", style="bold"), Text(f"{step:.3f}", style="bold"), "")
    return t


def waterfall_table(est: Estimate) -> Table | None:
    steps = est.stages.lab.waterfall
    if not steps:
        return None
    caption = None
    if est.samples is not None:
        caption = (
            "At the point values (each input at its median). The figures above are medians of the "
            "sampled totals, which differ: the median of a sum is not the sum of the medians."
        )
    t = _table("From the headline to the lab's total spend", caption)
    _col(t, "step", min_width=14)
    _col(t, "adds", right=True)
    _col(t, "running total", right=True)
    _col(t, "what it is", dim=True, min_width=16)
    for s in steps:
        t.add_row(s.label, value(s.amount_usd, "USD"), value(s.total_usd, "USD"), s.note)
    return t


def views_table(est: Estimate) -> Table | None:
    views = est.stages.views.views
    if not views:
        return None
    t = _table("What each view counts")
    _col(t, "view", min_width=12)
    _col(t, "includes", min_width=16)
    _col(t, "leaves out", dim=True, min_width=16)
    for v in views:
        t.add_row(v.short_label, v.includes, v.excludes)
    return t


# ---- assumptions -----------------------------------------------------------------------------
def assumptions_table(est: Estimate) -> Table:
    t = _table(f"Assumptions (all {len(est.assumptions)})")
    _col(t, "input", min_width=14)
    _col(t, "value", right=True)
    _col(t, "source", dim=True, min_width=16)
    for row in est.assumptions:
        t.add_row(row["name"], value(row["value"], row.get("unit", "")), row.get("source", ""))
    return t


def assumptions_summary(est: Estimate, scenario_arg: str, ranked: tuple[str | None, Sequence[Any]]) -> Group:
    """The assumptions that move the answer most, and where to see all of them."""
    output, rows = ranked
    n = len(est.assumptions)
    parts: list[Any] = []
    if output and rows:
        t = _table(
            f"Assumptions: the {min(TOP_ASSUMPTIONS, len(rows))} of {n} that move {output} most",
            "change: how much the result moves when the input moves by 10% (one at a time)",
        )
        _col(t, "input", min_width=min(40, max(len(r.field) for r in rows[:TOP_ASSUMPTIONS])))
        _col(t, "value", right=True)
        _col(t, "change", right=True)
        for r in rows[:TOP_ASSUMPTIONS]:
            t.add_row(r.field or r.name, value(r.value, r.unit), r.change_text())
        parts.append(t)
    parts.append(
        Text(
            f"All {n} assumptions with their sources: truecost estimate {scenario_arg} --assumptions "
            "(or --json).",
            style="dim",
        )
    )
    return Group(*parts)


def estimate_tables(
    est: Estimate,
    *,
    width: int = 80,
    all_assumptions: bool = True,
    ranked: tuple[str | None, Sequence[Any]] = (None, ()),
    scenario_arg: str = "SCENARIO",
) -> Group:
    """The estimate as the CLI prints it: the answer, key results, then the assumptions."""
    parts: list[Any] = [answer_block(est), Text("")]
    parts.append(results_table(est, width))
    for extra in (stages_table(est), step_table(est), waterfall_table(est), views_table(est)):
        if extra is not None:
            parts.append(extra)
    if all_assumptions:
        parts.append(assumptions_table(est))
    else:
        parts.append(assumptions_summary(est, scenario_arg, ranked))
    notes = est.inputs.get("notes") if isinstance(est.inputs, dict) else None
    if notes and all_assumptions:
        parts.append(
            Panel("\n\n".join(str(n) for n in notes), title="Notes from the scenario", title_align="left")
        )
    return Group(*parts)


def warnings_panel(warnings: Sequence[str]) -> Panel:
    return Panel("\n".join(warnings), title="Warnings", title_align="left", style="yellow")


# ---- compare ---------------------------------------------------------------------------------
def compare_table(cmp: Any, width: int) -> Table:
    """Results side by side; each scenario after the first with its ratio to the first."""
    ests = cmp.estimates
    t = _table("Side by side (ratio to the first scenario in brackets)")
    _col(t, "result", min_width=14)
    for i, e in enumerate(ests):
        _col(t, f"{i + 1}. {e.scenario}", right=True, min_width=8)
    for k in cmp.keys():
        unit = next((e.units[k] for e in ests if k in e.units), "")
        cells = []
        for i in range(len(ests)):
            v = cmp.value(i, k)
            if v is None:
                cells.append("-")
                continue
            r = cmp.ratio(i, k) if i else None
            cells.append(value(v, unit) + (f"\n({r:.3g}x)" if r is not None else ""))
        t.add_row(k, *cells)
    return t


# ---- other commands ----------------------------------------------------------------------------
def rows_table(rows: list[dict[str, Any]], columns: list[str], title: str) -> Table:
    t = _table(title)
    for c in columns:
        _col(t, c)
    for r in rows:
        t.add_row(*("" if r.get(c) is None else str(r.get(c)) for c in columns))
    return t


def console(stderr: bool = False) -> Console:
    return Console(stderr=stderr, markup=False)


def print_renderable(obj: Any, stderr: bool = False) -> None:
    # markup=False: names, notes and sources from a scenario print literally (`name: "[/x]"` is
    # text, not a tag); styling goes through rich Text objects, never markup strings.
    Console(stderr=stderr, markup=False).print(obj)


def sensitivity_table(res: dict[str, Any], width: int = 80) -> Table:
    unit = res.get("unit", "")
    t = _table(
        f"What drives {res['output']} (base {value(res['base'], unit)}; Sobol n = {res.get('sobol_n')})",
        "Each input from its p5 to its p95, the others at their medians; Sobol indices: the share "
        "of the output's variance due to the input alone (first) and with its interactions (total).",
    )
    names = [str(r.get("label", r["input"])) for r in res["inputs"]]
    _col(t, "input", min_width=min(34, max(map(len, names), default=18)))
    if width >= WIDE:
        for c in ("input p5 -> p95", "output at p5", "output at p95", "first order", "total order"):
            _col(t, c, right=True)
    else:
        for c in ("input\np5 -> p95", "output\np5 -> p95", "Sobol\n1st / total"):
            _col(t, c, right=True)
    for r in res["inputs"]:
        span = f"{r['low_input']:.4g} ->\n{r['high_input']:.4g}"
        lo, hi = value(r["swing"]["low"], unit), value(r["swing"]["high"], unit)
        name = r.get("label", r["input"])
        if width >= WIDE:
            t.add_row(name, span, lo, hi, f"{r['first_order']:.3f}", f"{r['total_order']:.3f}")
        else:
            t.add_row(name, span, f"{lo} ->\n{hi}", f"{r['first_order']:.3f} /\n{r['total_order']:.3f}")
    return t


def _layout_text(lay: dict[str, Any]) -> str:
    short = {"micro_batch": "mb", "virtual_stages": "v"}
    return " ".join(f"{short.get(k, k)}={lay.get(k)}" for k in LAYOUT_KEYS if lay.get(k) is not None)


def plan_table(res: dict[str, Any], width: int = 80) -> Table:
    t = _table(
        f"{res['scenario']}: layouts on {res['count']:,} x {res['accelerator']}, global batch "
        f"{res['global_batch']} ({res['objective']})"
    )
    short = {"micro_batch": "mb", "virtual_stages": "v"}
    wide = width >= 150
    _col(t, "#", right=True)
    if wide:
        for k in LAYOUT_KEYS:
            _col(t, short.get(k, k), right=True)
    else:
        _col(t, "layout", min_width=24)
    for c in ("step s", "MFU", "GB/GPU", "fits"):
        _col(t, c, right=True)
    for i, p in enumerate(res["layouts"], 1):
        lay = p["layout"]
        mem = p["memory_byte"]["total"] / 1e9
        cells = [str(lay.get(k)) for k in LAYOUT_KEYS] if wide else [_layout_text(lay)]
        t.add_row(
            str(i),
            *cells,
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
    t = _table(title)
    if block.get("note"):
        t.caption = str(block["note"])
    for c in ("label", "measured", "predicted", "error %", "note"):
        _col(t, c, right=c not in ("label", "note"), min_width=12 if c in ("label", "note") else None)
    for r in rows:
        t.add_row(
            r["label"],
            f"{r['measured']:.4g}",
            f"{r['predicted']:.4g}",
            f"{r['error_pct']:+.1f}",
            r.get("note", ""),
        )
    return t
