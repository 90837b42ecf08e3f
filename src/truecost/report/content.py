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
from ..stages.lab import WaterfallStep
from ..stages.views import VIEWS, ReferencePoint
from ..stages.views import View as StageView

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
class View(StageView):
    """One of the four views (`truecost.stages.views.VIEWS`) with this estimate's figure."""

    figure: Figure

    @property
    def computed(self) -> bool:
        return self.figure.central is not None


# One bar of the headline-to-lab-total waterfall: the lab stage's typed step.
Step = WaterfallStep


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
class ReportedStage:
    """A reported stage of the run with its rental cost (None without a price)."""

    name: str
    gpu_hours: float
    tokens: float | None
    source: str
    rental_cost_usd: float | None = None


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
    stages: tuple[ReportedStage, ...]
    assumptions: tuple[dict[str, Any], ...]
    notes: tuple[str, ...]
    reference_points: tuple[ReferencePoint, ...]
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
    mc_note: str = ""


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
    """All four views, in the waterfall's order; a view the scenario cannot compute says why."""
    out = []
    for v in VIEWS:
        fig = figure(est, v.key)
        excludes = v.excludes if fig.central is not None else NOT_COMPUTED
        out.append(View(v.key, v.label, v.short_label, v.includes, excludes, fig))
    return tuple(out)


def waterfall(est: Estimate) -> tuple[Step, ...]:
    return tuple(s for s in est.stages.lab.waterfall if _num(s.amount_usd) is not None)


def _horizon(est: Estimate) -> float | None:
    summary = est.stages.fleet.summary
    return _num(summary.horizon_years) if summary is not None else None


def breakdown(est: Estimate) -> tuple[Item, ...]:
    """CapEx by pool, OpEx by kind, staff, experiments and data, from the fleet and lab results.

    Fleet CapEx and OpEx are the whole fleet's (the lab total counts its share).
    """
    fleet, lab = est.stages.fleet, est.stages.lab
    items: list[Item] = []
    for pool in fleet.pools:
        x = _num(pool.capex_usd.get("capex"))
        if x:
            items.append(Item("CapEx by pool", pool.name or pool.accelerator, x))
    horizon = _horizon(est)
    span = f"over {horizon:g} years" if horizon else "per year"
    for kind, v in (fleet.opex_breakdown_usd_per_year or {}).items():
        x = _num(v)
        if x:
            items.append(Item(f"OpEx by kind, {span}", kind.replace("_", " "), x * (horizon or 1.0)))
    staff = _num(lab.lab_staff_usd_per_year)
    if staff:
        items.append(Item("Staff", f"all staff, {span}", staff * (horizon or 1.0)))
    for step in lab.waterfall:
        group = {"experiments": "Experiments", "data": "Data"}.get(step.key)
        if group is not None and step.amount_usd:
            items.append(Item(group, step.label.lower(), step.amount_usd))
    return tuple(items)


def owned_terms(est: Estimate) -> tuple[tuple[str, float], ...]:
    """Terms of the owned cost per GPU-hour [USD/GPU-h], largest first."""
    terms = est.stages.owned.breakdown_usd_per_gpu_hour or {}
    pairs = [(str(k).replace("_", " "), x) for k, v in terms.items() if (x := _num(v)) is not None]
    return tuple(sorted(pairs, key=lambda p: -p[1]))


def fleet_summary(est: Estimate) -> tuple[tuple[str, str], ...]:
    """The fleet summary as (label, formatted value) pairs."""
    s = est.stages.fleet.summary
    if s is None:
        return ()
    return (
        ("horizon", value(s.horizon_years, "yr")),
        ("accelerators", value(s.accelerators, "")),
        ("IT power", value(s.it_power_mw, "MW")),
        ("GPU spend (accelerators alone)", value(s.gpu_spend_usd, "USD")),
        ("server CapEx", value(s.server_capex_usd, "USD")),
        ("OpEx over the horizon", value(s.opex_usd_over_horizon, "USD")),
        ("TCO per year", value(s.tco_usd_per_year, "USD/yr")),
        ("cost of capital per year", value(s.capital_cost_usd_per_year, "USD/yr")),
    )


def reference_points(est: Estimate) -> tuple[ReferencePoint, ...]:
    """Third-party figures with this estimate's comparable figure (from the views stage)."""
    return est.stages.views.reference_points


def gap_text(r: ReferencePoint) -> str:
    """'+8% vs published' (or why there is no comparison)."""
    if r.ours_over_reference is not None:
        return f"{r.ours_over_reference - 1:+.0%} vs published"
    return r.gap


def reported_stages(est: Estimate) -> tuple[ReportedStage, ...]:
    costs = est.stages.rental.stage_costs_usd or {}
    return tuple(
        ReportedStage(s.name, float(s.gpu_hours), _num(s.tokens), s.source, _num(costs.get(s.name)))
        for s in est.stages.run.reported_stages
    )


def _row(est: Estimate, key: str) -> ResultRow:
    return ResultRow(key, figure(est, key), est.formulas.get(key, ""))


def answer(est: Estimate, vs: tuple[View, ...]) -> str:
    """The answer in one paragraph, from the figures the scenario produced."""
    by = {v.key: v for v in vs if v.computed}
    parts: list[str] = []
    head = by.get("headline_cost_usd")
    hours = figure(est, "gpu_hours")
    raw = est.inputs if isinstance(est.inputs, dict) else {}
    acc = (raw.get("cluster") or {}).get("accelerator") if isinstance(raw.get("cluster"), dict) else None
    price = _num(est.stages.rental.rental_usd_per_gpu_hour)
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
            even = figure(est, "serving_break_even_paid_share")
            if even.central is not None:
                s += f", and revenue covers the cost once {even.central:.0%} of the traffic pays"
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
        # The lines and labels are the full sample's percentiles (the cards' p50); the thinned draws
        # only give the histogram its shape.
        full = est.results.get(key)
        if isinstance(full, dict):
            p5, p50, p95 = (float(full[q]) for q in ("p5", "p50", "p95"))
        else:
            p5, p50, p95 = (float(q) for q in np.percentile(x, [5, 50, 95]))
        out.append(Distribution(key, est.units.get(key, ""), x, p5, p50, p95))
        if len(out) == MAX_HISTOGRAMS:
            break
    return tuple(out)


# Unit of an input from its name's suffix, longest first.
INPUT_UNITS: tuple[tuple[str, str], ...] = (
    ("_usd_per_gpu_hour", "USD/GPU-h"),
    ("_usd_per_kw_month", "USD/kW-month"),
    ("_usd_per_kwh", "USD/kWh"),
    ("_usd_per_year", "USD/yr"),
    ("_oom_per_year", "OOM/yr"),
    ("_usd", "USD"),
    ("_years", "yr"),
    ("_per_year", "/yr"),
)


def input_words(path: str, label: str = "", low: float | None = None, high: float | None = None) -> str:
    """A scenario path in words, with its p5-p95 range.

    >>> input_words("fleet[3].unit_price_usd", "fleet[3].unit_price_usd (H20)", 6000, 24000)
    'H20 pool: unit price, $6K to $24K'
    >>> input_words("lab.fleet_share.other", "", 0.015, 0.285)
    'lab fleet share: other, 0.015 to 0.285'
    """
    parts = [p for p in path.replace("]", "").split(".") if p]
    last = parts[-1] if parts else path
    unit = next((u for suffix, u in INPUT_UNITS if last.endswith(suffix)), "")
    suffix = next((sf for sf, u in INPUT_UNITS if u == unit and last.endswith(sf)), "")
    name = (last[: -len(suffix)] if suffix else last).replace("_", " ")
    head: list[str] = []
    for p in parts[:-1]:
        section, _, index = p.partition("[")
        if section == "fleet" and index:
            pool = label.rsplit("(", 1)[-1].rstrip(")") if "(" in label else f"#{int(index) + 1}"
            head.append(f"{pool} pool")
        elif index:
            head.append(f"{section.replace('_', ' ')} #{int(index) + 1}")
        elif section != "ownership" or not head:
            head.append(section.replace("_", " "))
    words = (" ".join(head) + ": " if head else "") + name
    if low is not None and high is not None:
        words += f", {value(low, unit or '1')} to {value(high, unit or '1')}"
    return words


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
                input_words(
                    str(row.get("input", "")),
                    str(row.get("label", "")),
                    _num(row.get("low_input")),
                    _num(row.get("high_input")),
                ),
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
    return tuple(
        View(k, label, label.split(" (")[0], inc, exc, figure(est, k)) for k, label, inc, exc in SERVING_CARDS
    )


def serving_layout(est: Estimate) -> tuple[tuple[str, str], ...]:
    """The serving replicas and the model's explanatory values, from the typed serving result."""
    sv = est.stages.serving
    out = []
    for rep, label in ((sv.replica, "Decode (or shared) replica"), (sv.prefill_replica, "Prefill replica")):
        if rep is not None:
            out.append((label, f"gpus {rep.gpus}, tp {rep.tp}, ep {rep.ep}, dp {rep.attention_dp}"))
    for name, m in (sv.margins_by_price or {}).items():
        text = f"{m['cost_profit_margin']:.0%} (revenue {value(m['revenue_usd_per_day'], 'USD')} a day"
        if "break_even_paid_share" in m:
            text += f"; breaks even when {m['break_even_paid_share']:.0%} of the traffic pays"
        out.append((f"Margin at {name}", text + ")"))
    for x, label, unit in (
        (sv.predicted_output_tokens_per_s_per_node, "Predicted output tokens/s per node", "token/s"),
        (sv.predicted_input_tokens_per_s_per_node, "Predicted input tokens/s per node", "token/s"),
        (sv.predicted_interval_factor, "90% interval of a predicted rate (x/÷)", "1"),
        (sv.measured_over_predicted_output_rate, "Measured / predicted output rate", "ratio"),
        (sv.measured_over_predicted_input_rate, "Measured / predicted input rate", "ratio"),
        (sv.gpus_unrounded, "GPUs the volume needs before rounding to whole replicas", "1"),
        (sv.batch_sequences, "Sequences decoding at once per replica", "1"),
        (sv.step_time_s, "Decode step", "s"),
        (sv.kv_bytes_per_token, "KV cache per token", "byte"),
        (sv.weight_bytes_per_gpu, "Weights per GPU", "byte"),
    ):
        v = None if x is None else _num(float(np.median(np.asarray(x, dtype=float))))
        if v is None:
            continue
        if unit == "byte":  # decimal units, as vendors publish memory
            text = f"{v / 1e9:.1f} GB" if v >= 1e8 else f"{v / 1e3:.1f} kB"
        elif unit == "s":
            text = f"{v * 1e3:.1f} ms"
        elif unit == "ratio":  # a measured daily average over a predicted capacity: the average load
            text = f"{v:.2f}"
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
    c = est.stages.carbon
    if not c.intensity_basis:
        return ""
    g = c.grid
    if c.intensity_basis == "region" and g is not None:
        return (
            f"Location-based: the {g.region} grid in {g.year} ({g.dataset}), "
            f"{g.g_co2e_per_kwh:g} gCO2e/kWh; the table's values for the region within a year "
            f"span {g.low:g}-{g.high:g}, the default uncertainty. Embodied emissions are the hardware's "
            "manufacturing footprint amortised over its life, like CapEx."
        )
    return (
        "Location-based at the grid intensity the scenario gives. Embodied emissions are the "
        "hardware's manufacturing footprint amortised over its life, like CapEx."
    )


def overridden(est: Estimate) -> tuple[str, ...]:
    """Inputs the scenario gives that another input overrides, in words."""
    out = []
    cluster = est.inputs.get("cluster") if isinstance(est.inputs, dict) else None
    if isinstance(cluster, dict) and cluster.get("mfu") is not None:
        if est.stages.run.mfu_source.startswith("implied"):
            out.append(
                "cluster.mfu is ignored: the scenario reports its GPU-hours, which fix the run's length, "
                "so the MFU is implied from them. Remove the reported GPU-hours to use the MFU given."
            )
    return tuple(out)


def question(est: Estimate) -> str:
    """The report's question, from what the scenario covers."""
    if "lab_total_cost_usd" in est.results:
        return "What it really cost, from the rented headline to the lab's total spend."
    if "development_cost_usd" in est.results:
        return "What it really cost, from the rented headline to the model's development."
    if "headline_cost_usd" in est.results or "final_run_owned_cost_usd" in est.results:
        return "What the final training run cost, rented and owned."
    return "What the final training run takes."


def mc_note(est: Estimate) -> str:
    """Why the cards and the waterfall differ in Monte Carlo mode (empty for a point estimate)."""
    if est.samples is None:
        return ""
    return (
        "The figures on the cards are medians (p50) of the sampled totals; the waterfall and the "
        "breakdown add up the parts at the point values (each uncertain input at its median). The "
        "two differ because the median of a sum is not the sum of the medians, and a cost that "
        "multiplies uncertain inputs is skewed."
    )


def gather(est: Estimate, sens: dict[str, Any] | None = None) -> ReportData:
    """Everything a report shows, as data."""
    raw = est.inputs if isinstance(est.inputs, dict) else {}
    vs = views(est)
    serving = serving_views(est)
    st = est.stages
    conv = [
        (label, text)
        for label, text in (
            ("FLOP convention", st.flops.convention),
            ("MFU measured against", st.run.mfu_basis),
            ("MFU from", st.run.mfu_source),
        )
        if text
    ]
    by_conv = st.flops.by_convention
    if by_conv:
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
        question=question(est),
        answer=answer(est, vs),
        description=" ".join(str(raw.get("description", "")).split()),
        views=vs,
        waterfall=waterfall(est),
        breakdown=breakdown(est),
        derivation=tuple(_row(est, k) for k in DERIVATION_KEYS if k in est.results),
        results=tuple(_row(est, k) for k in order),
        conventions=tuple(conv),
        stages=reported_stages(est),
        assumptions=_dicts(est.assumptions),
        notes=_strs(raw.get("notes")),
        reference_points=reference_points(est),
        owned_terms=owned_terms(est),
        owned_summary=st.owned.summary,
        fleet_summary=fleet_summary(est),
        fleet_note=st.fleet.note,
        sources=_strs(raw.get("sources")),
        distributions=distributions(est),
        tornado=tornado(sens, sens_unit),
        warnings=overridden(est) + tuple(est.warnings),
        carbon=tuple(_row(est, k) for k in CARBON_KEYS if k in est.results)
        if any("carbon" in k for k in est.results)
        else (),
        carbon_note=carbon_note(est),
        samples=est.samples,
        seed=est.seed,
        mc_note=mc_note(est),
        serving=serving,
        serving_layout=serving_layout(est),
        serving_curve=serving_cost_curve(est) if serving else (),
    )
