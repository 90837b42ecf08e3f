"""What a report says, gathered from an `Estimate` as plain data (no HTML, no charts).

Every piece degrades gracefully: a scenario without a fleet or a lab has no owned-run,
development or lab-total figure, and the report says so instead of failing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..fmt import usd, value
from ..result import RESULT_ORDER, Estimate

# The four views, in the order the waterfall walks them. Used when the chain gives no
# `details["views"]` (scenarios without fleet or lab); the chain's own wording wins otherwise.
DEFAULT_VIEWS: tuple[dict[str, str], ...] = (
    {
        "key": "headline_cost_usd",
        "label": "Headline (rented final run)",
        "includes": "the final run's GPU-hours at a rental price",
        "excludes": "research and ablation runs, staff, data, and owning the fleet",
    },
    {
        "key": "final_run_owned_cost_usd",
        "label": "Owned final run",
        "includes": "the final run's GPU-hours at the owner's cost: amortised hardware, power, facility",
        "excludes": "research and ablation runs, staff, data, idle fleet time",
    },
    {
        "key": "development_cost_usd",
        "label": "Development",
        "includes": "the final run plus the experiments, ablations and staff that led to it",
        "excludes": "the rest of the lab's fleet and spending not tied to this model",
    },
    {
        "key": "lab_total_cost_usd",
        "label": "Lab total",
        "includes": "the lab's whole spend over the period: fleet CapEx and OpEx, staff, data",
        "excludes": "nothing the scenario describes; work for other models is counted too",
    },
)
NOT_COMPUTED = "not computed: the scenario needs a fleet and a lab section for this view"

# Results shown in the FLOP and GPU-hour derivation, in chain order.
DERIVATION_KEYS = RESULT_ORDER[: RESULT_ORDER.index("energy_kwh") + 1]
# The energy and carbon section: energy, the grid intensity and every emissions result.
CARBON_KEYS = tuple(
    k
    for k in RESULT_ORDER
    if k.startswith(("energy_", "grid_", "fleet_energy")) or "carbon" in k or "embodied" in k
)
# Results worth a histogram, most telling first.
HISTOGRAM_KEYS = (
    "lab_total_cost_usd",
    "development_cost_usd",
    "final_run_owned_cost_usd",
    "headline_cost_usd",
    "gpu_hours",
    "training_flops",
    "mfu",
    "wall_clock_days",
)
MAX_HISTOGRAMS = 6


@dataclass(frozen=True)
class Figure:
    """A result as shown: central value, and its 90% interval when sampled."""

    key: str
    unit: str
    central: float | None
    p5: float | None = None
    p95: float | None = None

    @property
    def text(self) -> str:
        if self.central is None:
            return "-"
        return value(self.central, self.unit)

    @property
    def interval(self) -> str:
        if self.p5 is None or self.p95 is None or abs(self.p95 - self.p5) <= 1e-9 * abs(self.p95):
            return ""
        return f"90%: {value(self.p5, self.unit)} to {value(self.p95, self.unit)}"


@dataclass(frozen=True)
class View:
    key: str
    label: str
    includes: str
    excludes: str
    figure: Figure

    @property
    def computed(self) -> bool:
        return self.figure.central is not None

    @property
    def short_label(self) -> str:
        """The label up to its first ':' or ' (' ("Headline: rented GPU-hours..." -> "Headline")."""
        return self.label.split(":")[0].split(" (")[0].strip() or self.label


@dataclass(frozen=True)
class Step:
    """One bar of the headline-to-lab-total waterfall."""

    label: str
    amount_usd: float
    total_usd: float
    note: str


@dataclass(frozen=True)
class Item:
    """One bar of the cost breakdown."""

    group: str
    label: str
    amount_usd: float


@dataclass(frozen=True)
class ResultRow:
    key: str
    figure: Figure
    formula: str


@dataclass(frozen=True)
class Distribution:
    key: str
    unit: str
    draws: np.ndarray
    p5: float
    p50: float
    p95: float


@dataclass(frozen=True)
class TornadoBar:
    label: str
    low: float  # output with this input at its 5th percentile
    high: float  # ... at its 95th
    low_input: float | None
    high_input: float | None
    first_order: float | None = None  # Sobol' indices, when computed
    total_order: float | None = None


@dataclass(frozen=True)
class Tornado:
    output: str
    unit: str
    base: float
    bars: tuple[TornadoBar, ...]


@dataclass(frozen=True)
class ReportData:
    title: str
    question: str
    answer: str
    description: str
    views: tuple[View, ...]
    waterfall: tuple[Step, ...]
    breakdown: tuple[Item, ...]
    derivation: tuple[ResultRow, ...]
    results: tuple[ResultRow, ...]
    conventions: tuple[tuple[str, str], ...]
    stages: tuple[dict[str, Any], ...]
    assumptions: tuple[dict[str, Any], ...]
    notes: tuple[str, ...]
    reference_points: tuple[dict[str, Any], ...]
    owned_terms: tuple[tuple[str, float], ...]
    owned_summary: str
    fleet_summary: tuple[tuple[str, str], ...]
    fleet_note: str
    sources: tuple[str, ...]
    distributions: tuple[Distribution, ...]
    tornado: Tornado | None
    warnings: tuple[str, ...]
    samples: int | None
    seed: int | None
    serving: tuple[View, ...] = ()
    serving_layout: tuple[tuple[str, str], ...] = ()
    serving_curve: tuple[dict[str, Any], ...] = ()
    carbon: tuple[ResultRow, ...] = ()
    carbon_note: str = ""


def _num(x: Any) -> float | None:
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def figure(est: Estimate, key: str) -> Figure:
    """A result key as a `Figure`; central None when the scenario did not produce it."""
    unit = est.units.get(key, "USD" if key.endswith("_usd") else "")
    v = est.results.get(key)
    if v is None:
        return Figure(key, unit, None)
    if isinstance(v, dict):
        return Figure(key, unit, _num(v.get("p50", v.get("mean"))), _num(v.get("p5")), _num(v.get("p95")))
    return Figure(key, unit, _num(v))


def views(est: Estimate) -> tuple[View, ...]:
    rows = est.details.get("views") or DEFAULT_VIEWS
    out = []
    for row in rows:
        if not isinstance(row, dict) or "key" not in row:
            continue
        key = str(row["key"])
        fig = figure(est, key)
        excludes = str(row.get("excludes", ""))
        if fig.central is None:
            excludes = NOT_COMPUTED
        out.append(View(key, str(row.get("label", key)), str(row.get("includes", "")), excludes, fig))
    return tuple(out)


def waterfall(est: Estimate) -> tuple[Step, ...]:
    out = []
    for row in est.details.get("waterfall") or ():
        if not isinstance(row, dict):
            continue
        amount, total = _num(row.get("amount_usd")), _num(row.get("total_usd"))
        if amount is None or total is None:
            continue
        out.append(Step(str(row.get("label", "")), amount, total, str(row.get("note", ""))))
    return tuple(out)


def _horizon(est: Estimate) -> float | None:
    summary = est.details.get("fleet_summary")
    return _num(summary.get("horizon_years")) if isinstance(summary, dict) else None


def _waterfall_step(est: Estimate, prefix: str) -> Step | None:
    return next((s for s in waterfall(est) if s.label.lower().startswith(prefix)), None)


def breakdown(est: Estimate) -> tuple[Item, ...]:
    """CapEx by pool, OpEx by kind, staff, experiments and data, from the fleet and lab details.

    A `details["breakdown"]` list of {group, label, amount_usd}, when the chain gives one, is
    used as it is. Fleet CapEx and OpEx are the whole fleet's (the lab total counts its share).
    """
    d = est.details
    given = d.get("breakdown")
    if isinstance(given, list) and given:
        return tuple(
            Item(str(r.get("group", "")), str(r.get("label", "")), x)
            for r in given
            if isinstance(r, dict) and (x := _num(r.get("amount_usd"))) is not None
        )
    items: list[Item] = []
    for pool in d.get("fleet_pools") or ():
        capex = pool.get("capex_usd") if isinstance(pool, dict) else None
        x = _num(capex.get("capex")) if isinstance(capex, dict) else None
        if x:
            items.append(Item("CapEx by pool", str(pool.get("name") or pool.get("accelerator", "")), x))
    horizon = _horizon(est)
    span = f"over {horizon:g} years" if horizon else "per year"
    opex = d.get("fleet_opex_breakdown_usd_per_year")
    if isinstance(opex, dict):
        for kind, v in opex.items():
            x = _num(v)
            if x:
                items.append(Item(f"OpEx by kind, {span}", kind.replace("_", " "), x * (horizon or 1.0)))
    staff = figure(est, "lab_staff_usd_per_year").central
    if staff:
        items.append(Item("Staff", f"all staff, {span}", staff * (horizon or 1.0)))
    # The lab stage reports experiments and data only as waterfall steps.
    for group, prefix in (("Experiments", "experiments"), ("Data", "data")):
        step = _waterfall_step(est, prefix)
        if step is not None and step.amount_usd:
            items.append(Item(group, step.label.lower(), step.amount_usd))
    return tuple(items)


def owned_terms(est: Estimate) -> tuple[tuple[str, float], ...]:
    """Terms of the owned cost per GPU-hour [USD/GPU-h], largest first."""
    terms = est.details.get("owned_cost_breakdown_usd_per_gpu_hour")
    if not isinstance(terms, dict):
        return ()
    pairs = [(str(k).replace("_", " "), x) for k, v in terms.items() if (x := _num(v)) is not None]
    return tuple(sorted(pairs, key=lambda p: -p[1]))


# Unit of a fleet-summary value from its key: (key part, unit, label suffix removed), first match.
SUMMARY_UNITS: tuple[tuple[str, str], ...] = (
    ("_usd_per_year", "USD/yr"),
    ("_usd", "USD"),
    ("_mw", "MW"),
    ("_years", "yr"),
)


def fleet_summary(est: Estimate) -> tuple[tuple[str, str], ...]:
    """The fleet summary as (label, formatted value) pairs; the unit comes from the key."""
    summary = est.details.get("fleet_summary")
    if not isinstance(summary, dict):
        return ()
    out = []
    for k, v in summary.items():
        part, unit = next(((p, u) for p, u in SUMMARY_UNITS if p in k), ("", ""))
        label = k.replace(part, "") if part else k
        out.append((label.replace("_", " "), value(v, unit)))
    return tuple(out)


def reference_points(est: Estimate) -> tuple[dict[str, Any], ...]:
    """Reference points with this estimate's comparable figure (from the chain), else as given."""
    rows = est.details.get("reference_points")
    if not isinstance(rows, list):
        rows = est.inputs.get("reference_points") if isinstance(est.inputs, dict) else None
    return tuple(r for r in rows or () if isinstance(r, dict))


def _row(est: Estimate, key: str) -> ResultRow:
    return ResultRow(key, figure(est, key), est.formulas.get(key, ""))


def _assumption_value(est: Estimate, name: str) -> Any:
    for a in est.assumptions:
        if a.get("name") == name:
            return a.get("value")
    return None


def answer(est: Estimate, vs: tuple[View, ...]) -> str:
    """The answer in one paragraph, from the figures the scenario produced."""
    by = {v.key: v for v in vs if v.computed}
    parts: list[str] = []
    head = by.get("headline_cost_usd")
    hours = figure(est, "gpu_hours")
    raw = est.inputs if isinstance(est.inputs, dict) else {}
    acc = (raw.get("cluster") or {}).get("accelerator") if isinstance(raw.get("cluster"), dict) else None
    price = _num(_assumption_value(est, "rental_usd_per_gpu_hour"))
    if head is not None:
        s = f"The headline figure is {head.figure.text}"
        if hours.central is not None:
            s += f": {hours.text.replace(' h', '')} {str(acc).upper() + ' ' if acc else ''}GPU-hours"
            if price is not None:
                s += f" at {usd(price)} per GPU-hour"
        parts.append(s + ", the rented cost of the final training run alone.")
    elif hours.central is not None:
        parts.append(
            f"The final training run takes {hours.text.replace(' h', '')} GPU-hours; no rental price was set."
        )
    own = by.get("final_run_owned_cost_usd")
    if own is not None:
        parts.append(f"Owning the hardware instead, the same run costs {own.figure.text}.")
    dev = by.get("development_cost_usd")
    if dev is not None:
        parts.append(
            f"Counting the research and ablation runs and the staff behind it, development cost {dev.figure.text}."
        )
    lab = by.get("lab_total_cost_usd")
    if lab is not None:
        s = f"The lab's total spend over the period is {lab.figure.text}"
        ratio = figure(est, "true_to_headline_ratio").central
        if ratio is None and head is not None and head.figure.central:
            ratio = (lab.figure.central or 0.0) / head.figure.central
        if ratio is not None:
            s += f", {ratio:.3g} times the headline"
        parts.append(s + ".")
    out_m = figure(est, "serving_usd_per_m_output_tokens")
    if out_m.central is not None:
        s = f"Output tokens cost {out_m.text} to serve on rented GPUs"
        owned_m = figure(est, "serving_owned_usd_per_m_output_tokens")
        if owned_m.central is not None:
            s += f" ({owned_m.text} owned)"
        day = figure(est, "serving_cost_usd_per_day")
        if day.central is not None:
            s += f", {day.text} a day for {figure(est, 'serving_gpus').text} GPUs"
        margin = figure(est, "serving_cost_profit_margin")
        if margin.central is not None:
            s += f"; at list prices the cost-profit margin is {margin.central:.0%}"
        parts.append(s + ".")
    if not (dev or lab) and (head is not None or hours.central is not None):
        parts.append(
            "The scenario describes no lab, so only the final run is costed; the development cost and "
            "the lab's total spend would be larger."
        )
    fig_note = figure(est, lab.key if lab else head.key if head else "gpu_hours")
    if est.samples is not None and fig_note.interval:
        parts.append(f"With {est.samples:,} Monte Carlo samples the 90% interval is {fig_note.interval[5:]}.")
    return " ".join(parts)


def distributions(est: Estimate) -> tuple[Distribution, ...]:
    out = []
    for key in HISTOGRAM_KEYS:
        x = est.draws.get(key)
        if x is None:
            continue
        x = np.asarray(x, dtype=float)
        x = x[np.isfinite(x)]
        if x.size < 2 or np.ptp(x) <= 1e-9 * max(abs(float(np.median(x))), 1e-300):
            continue
        p5, p50, p95 = (float(q) for q in np.percentile(x, [5, 50, 95]))
        out.append(Distribution(key, est.units.get(key, ""), x, p5, p50, p95))
        if len(out) == MAX_HISTOGRAMS:
            break
    return tuple(out)


def tornado(sens: dict[str, Any] | None, unit: str = "USD") -> Tornado | None:
    """`truecost.analysis.sensitivity(...)` output -> tornado bars, largest swing first."""
    if not sens:
        return None
    rows = sens.get("inputs") or sens.get("rows") or []
    bars = []
    for row in rows:
        swing = row.get("swing") if isinstance(row, dict) else None
        if not isinstance(swing, dict):
            continue
        lo, hi = _num(swing.get("low")), _num(swing.get("high"))
        if lo is None or hi is None:
            continue
        bars.append(
            TornadoBar(
                str(row.get("input", "")),
                lo,
                hi,
                _num(row.get("low_input")),
                _num(row.get("high_input")),
                _num(row.get("first_order")),
                _num(row.get("total_order")),
            )
        )
    base = _num(sens.get("base"))
    if base is None and bars:
        base = float(np.median([(b.low + b.high) / 2 for b in bars]))
    # Inputs that do not move this output (e.g. staff years for the lab total) add only clutter.
    bars = [b for b in bars if abs(b.high - b.low) > 1e-9 * abs(base or 1.0)]
    if base is None or not bars:
        return None
    bars.sort(key=lambda b: -abs(b.high - b.low))
    return Tornado(str(sens.get("output", "")), unit, base, tuple(bars))


# The serving cards: result key -> (label, what it counts, what it leaves out).
SERVING_CARDS: tuple[tuple[str, str, str, str], ...] = (
    (
        "serving_usd_per_m_output_tokens",
        "$ per million output tokens (rented GPUs)",
        "GPU time of decoding (or its share of a shared replica) at the rental $/GPU-h",
        "idle capacity for peaks, networking and storage beyond the GPU-hour price, staff",
    ),
    (
        "serving_owned_usd_per_m_output_tokens",
        "$ per million output tokens (owned GPUs)",
        "the same GPU time at the owned $/GPU-h (depreciation, capital, power, facility)",
        "idle capacity for peaks, staff",
    ),
    (
        "serving_usd_per_m_input_tokens",
        "$ per million input tokens (rented GPUs)",
        "GPU time of prefill, cache hits counted as input",
        "idle capacity for peaks",
    ),
    (
        "serving_cost_profit_margin",
        "Cost-profit margin at list prices (revenue / cost - 1)",
        "every token billed at price_usd_per_m_tokens, over the serving cost per day",
        "free traffic, discounts, the cost of training the model",
    ),
)
# Latency targets of the cost curve, as multiples of the scenario's own target.
SERVING_CURVE_SCALES = (0.5, 0.75, 1.0, 1.5, 2.0)
SERVING_CURVE_DEFAULT_MS = (20.0, 35.0, 50.0, 80.0)


def serving_views(est: Estimate) -> tuple[View, ...]:
    if not any(k.startswith("serving_") for k in est.results):
        return ()
    return tuple(View(k, label, inc, exc, figure(est, k)) for k, label, inc, exc in SERVING_CARDS)


def serving_layout(est: Estimate) -> tuple[tuple[str, str], ...]:
    d = est.details.get("serving")
    if not isinstance(d, dict):
        return ()
    out = []
    for key, label in (("replica", "Decode (or shared) replica"), ("prefill_replica", "Prefill replica")):
        rep = d.get(key)
        if isinstance(rep, dict):
            out.append((label, ", ".join(f"{k} {v}" for k, v in rep.items())))
    for key, label, unit in (
        ("predicted_output_tokens_per_s_per_node", "Predicted output tokens/s per node", "token/s"),
        ("predicted_input_tokens_per_s_per_node", "Predicted input tokens/s per node", "token/s"),
        ("predicted_interval_factor", "90% interval of a predicted rate (x/÷)", "1"),
        ("batch_sequences", "Sequences decoding at once per replica", "1"),
        ("step_time_s", "Decode step", "s"),
        ("kv_bytes_per_token", "KV cache per token", "byte"),
        ("weight_bytes_per_gpu", "Weights per GPU", "byte"),
    ):
        v = _num(d.get(key))
        if v is None:
            continue
        if unit == "byte":  # decimal units, as vendors publish memory
            text = f"{v / 1e9:.1f} GB" if v >= 1e8 else f"{v / 1e3:.1f} kB"
        elif unit == "s":
            text = f"{v * 1e3:.1f} ms"
        else:
            text = value(v, unit)
        out.append((label, text))
    return tuple(out)


def serving_cost_curve(est: Estimate) -> tuple[dict[str, Any], ...]:
    """$/M output tokens at latency targets around the scenario's (predicted rates)."""
    raw = est.inputs if isinstance(est.inputs, dict) else {}
    sv = raw.get("serving")
    if not isinstance(sv, dict) or raw.get("model") is None:
        return ()
    from ..analysis.serving_curve import serving_curve

    t = _num(sv.get("tpot_ms"))
    grid: list[float | None] = (
        [round(t * k, 3) for k in SERVING_CURVE_SCALES] if t is not None else list(SERVING_CURVE_DEFAULT_MS)
    )
    try:
        return tuple(serving_curve(raw, [*grid, None]))
    except (ValueError, TypeError):  # a distribution input the curve cannot take as a number
        return ()


def carbon_note(est: Estimate) -> str:
    """Where the grid intensity comes from, in one sentence ("" without emissions)."""
    c = est.details.get("carbon")
    if not isinstance(c, dict):
        return ""
    g = c.get("grid")
    if c.get("intensity_basis") == "region" and isinstance(g, dict):
        lo, hi = g.get("spread_g_co2e_per_kwh", [None, None])
        return (
            f"Location-based: the {g.get('region')} grid in {g.get('year')} ({g.get('dataset')}), "
            f"{g.get('g_co2e_per_kwh'):g} gCO2e/kWh; the table's values for the region within a year "
            f"span {lo:g}-{hi:g}, the default uncertainty. Embodied emissions are the hardware's "
            "manufacturing footprint amortised over its life, like CapEx."
        )
    return (
        "Location-based at the grid intensity the scenario gives. Embodied emissions are the "
        "hardware's manufacturing footprint amortised over its life, like CapEx."
    )


def gather(est: Estimate, sens: dict[str, Any] | None = None) -> ReportData:
    """Everything a report shows, as data."""
    raw = est.inputs if isinstance(est.inputs, dict) else {}
    vs = views(est)
    conv = []
    for key, label in (
        ("flop_convention", "FLOP convention"),
        ("mfu_basis", "MFU measured against"),
        ("mfu_source", "MFU from"),
    ):
        if est.details.get(key) is not None:
            conv.append((label, str(est.details[key])))
    by_conv = est.details.get("flops_per_token_by_convention")
    if isinstance(by_conv, dict) and by_conv:
        conv.append(
            (
                "FLOPs per token by convention",
                ", ".join(f"{k} {value(v, 'FLOP')}" for k, v in by_conv.items()),
            )
        )
    order = [k for k in RESULT_ORDER if k in est.results] + [k for k in est.results if k not in RESULT_ORDER]
    sens_unit = str((sens or {}).get("unit") or est.units.get(str((sens or {}).get("output", "")), "USD"))

    def _strs(obj: Any) -> tuple[str, ...]:
        return tuple(str(x) for x in obj) if isinstance(obj, list | tuple) else ()

    def _dicts(obj: Any) -> tuple[dict[str, Any], ...]:
        return tuple(x for x in obj if isinstance(x, dict)) if isinstance(obj, list | tuple) else ()

    return ReportData(
        title=est.scenario,
        question=f"What did it really cost to build {est.scenario}?",
        answer=answer(est, vs),
        description=" ".join(str(raw.get("description", "")).split()),
        views=vs,
        waterfall=waterfall(est),
        breakdown=breakdown(est),
        derivation=tuple(_row(est, k) for k in DERIVATION_KEYS if k in est.results),
        results=tuple(_row(est, k) for k in order),
        conventions=tuple(conv),
        stages=_dicts(est.details.get("stages")),
        assumptions=_dicts(est.assumptions),
        notes=_strs(raw.get("notes")),
        reference_points=reference_points(est),
        owned_terms=owned_terms(est),
        owned_summary=str(est.details.get("owned_cost_summary", "")),
        fleet_summary=fleet_summary(est),
        fleet_note=str(est.details.get("fleet_note", "")),
        sources=_strs(raw.get("sources")),
        distributions=distributions(est),
        tornado=tornado(sens, sens_unit),
        warnings=tuple(est.warnings),
        carbon=tuple(_row(est, k) for k in CARBON_KEYS if k in est.results)
        if any("carbon" in k for k in est.results)
        else (),
        carbon_note=carbon_note(est),
        samples=est.samples,
        seed=est.seed,
        serving=serving_views(est),
        serving_layout=serving_layout(est),
        serving_curve=serving_cost_curve(est) if serving_views(est) else (),
    )
