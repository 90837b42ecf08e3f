"""The serving stage: tokens per second per GPU -> $ per million tokens, GPUs, cost, revenue, margin."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...architecture import Architecture
from ...catalog import Accelerator
from ...errors import ScenarioError
from ...scenario.serving import Replica, Serving, TokenPrices
from ..base import Notes, StageResult, quantity
from . import money
from .layout import search
from .params import (
    COLLECTIVE_LATENCY_S,
    MAX_SEQUENCES_PER_RANK,
    MEMORY_USABLE,
    PRECISION_CLASS,
    SCALE_OUT_FALLBACK,
    SCALE_UP_FALLBACK,
    Z90,
    ServingParams,
    fitted,
    gemm_fraction,
    gemm_fraction_source,
)
from .throughput import MS_PER_S, Rates, Workload, attention_precision, default_kv_precision, rates

# Accelerators of the calibration set (catalog/data/validation/serving_throughput.csv).
# h800 is the H100 SXM die and HBM with a slower NVLink (catalog notes), so it counts as covered.
CALIBRATED_ACCELERATORS = ("a100-sxm4-80gb", "h100-sxm", "h800", "h200", "b200", "gb200")


def extra(unit: str) -> Any:
    """A typed explanatory field (not a result key): its unit in the metadata."""
    return field(default=None, metadata={"extra_unit": unit})


@dataclass(frozen=True, kw_only=True)
class ServingResult(StageResult):
    serving_output_tokens_per_s_per_gpu: Any = quantity(
        "token/s",
        "decode replica: batch / step time; shared: output / (prefill + output x step / batch) / gpus",
    )
    serving_input_tokens_per_s_per_gpu: Any = quantity(
        "token/s", "prefill replica: 1 / ((1 - cache_hit_rate) x time per computed token) / gpus"
    )
    serving_gpus: Any = quantity(
        "1",
        "serving.gpus, else daily tokens / (rate x utilisation x 86,400 s) per pool, rounded up to whole replicas",
    )
    serving_cost_usd_per_day: Any = quantity("USD", "serving_gpus x 24 h x rental $/GPU-h")
    serving_usd_per_m_output_tokens: Any = quantity(
        "USD/Mtoken", "rental $/GPU-h x decode share / (output rate x utilisation x 3600) x 1e6"
    )
    serving_usd_per_m_input_tokens: Any = quantity(
        "USD/Mtoken", "rental $/GPU-h x prefill share / (input rate x utilisation x 3600) x 1e6"
    )
    serving_revenue_usd_per_day: Any = quantity(
        "USD", "paid share x (hits x hit price + misses x input price + output x output price) / 1e6"
    )
    serving_cost_profit_margin: Any = quantity("1", "revenue / cost - 1")
    serving_owned_cost_usd_per_day: Any = quantity("USD", "serving_gpus x 24 h x owned $/GPU-h")
    serving_owned_usd_per_m_output_tokens: Any = quantity(
        "USD/Mtoken", "owned $/GPU-h x decode share / (output rate x utilisation x 3600) x 1e6"
    )
    serving_owned_usd_per_m_input_tokens: Any = quantity(
        "USD/Mtoken", "owned $/GPU-h x prefill share / (input rate x utilisation x 3600) x 1e6"
    )
    serving_owned_cost_profit_margin: Any = quantity("1", "revenue / owned cost - 1")
    serving_break_even_paid_share: Any = quantity(
        "1", "cost / revenue with every token billed: the share of the traffic that must pay list prices"
    )

    # Typed extras (explanations, not result keys).
    # Revenue, margin and break-even paid share at each of serving.price_scenarios (point values).
    margins_by_price: dict[str, dict[str, float]] | None = None
    replica: Replica | None = None
    prefill_replica: Replica | None = None
    layout_searched: bool = False
    # The calibrated 90% interval (p5, p95) of serving.throughput_factor for the chain to draw
    # from; None when no rate is predicted or the scenario sets the factor.
    throughput_interval: tuple[float, float] | None = None
    predicted_output_tokens_per_s_per_gpu: Any = extra("token/s")
    predicted_input_tokens_per_s_per_gpu: Any = extra("token/s")
    predicted_output_tokens_per_s_per_node: Any = extra("token/s")
    predicted_input_tokens_per_s_per_node: Any = extra("token/s")
    predicted_interval_factor: float | None = extra("1")  # 90% interval: rate x/÷ this
    predicted_output_tokens_per_s_per_gpu_p5: Any = extra("token/s")
    predicted_output_tokens_per_s_per_gpu_p95: Any = extra("token/s")
    predicted_input_tokens_per_s_per_gpu_p5: Any = extra("token/s")
    predicted_input_tokens_per_s_per_gpu_p95: Any = extra("token/s")
    batch_sequences: Any = extra("1")
    batch_sequences_memory_limit: Any = extra("1")
    step_time_s: Any = extra("s")
    kv_bytes_per_token: float | None = extra("byte")
    weight_bytes_per_gpu: float | None = extra("byte")
    kv_capacity_bytes_per_gpu: float | None = extra("byte")
    daily_input_tokens: Any = extra("token")
    daily_output_tokens: Any = extra("token")
    gpus_unrounded: Any = extra("1")  # GPUs the volume needs before rounding up to whole replicas
    # Measured rate / the model's rate for the same layout (a measured daily average over a
    # predicted capacity reads as the average load).
    measured_over_predicted_output_rate: Any = extra("1")
    measured_over_predicted_input_rate: Any = extra("1")

    def details(self) -> dict[str, Any]:
        """Layouts and explanatory values as plain data (the JSON `details.serving` object)."""

        def layout(rep: Replica | None) -> dict[str, int] | None:
            if rep is None:
                return None
            return {"gpus": rep.gpus, "tp": rep.tp, "ep": rep.ep, "dp": rep.attention_dp}

        out: dict[str, Any] = {
            "replica": layout(self.replica),
            "prefill_replica": layout(self.prefill_replica),
            "layout_searched": self.layout_searched,
        }
        for k, v in self.extras().items():
            out[k] = float(np.median(np.asarray(v, dtype=float)))
        if self.margins_by_price is not None:
            out["margins_by_price"] = self.margins_by_price
        return out

    def comparable(self) -> dict[str, Any]:
        """Predicted rates a reference point may compare to (`compare_to: predicted_...`)."""
        keys = (
            "predicted_output_tokens_per_s_per_gpu",
            "predicted_input_tokens_per_s_per_gpu",
            "predicted_output_tokens_per_s_per_node",
            "predicted_input_tokens_per_s_per_node",
        )
        return {k: v for k in keys if (v := getattr(self, k)) is not None}

    def extras(self) -> dict[str, Any]:
        """The explanatory fields that are set, by name."""
        from dataclasses import fields as _fields

        return {
            f.name: getattr(self, f.name)
            for f in _fields(self)
            if "extra_unit" in f.metadata and getattr(self, f.name) is not None
        }


def _pct(u: Any) -> str:
    return f"{float(np.median(u)):.0%}"


def _point(x: Any) -> Any:
    return None if x is None else (float(np.median(x)) if np.ndim(x) else x)


def workload(serving: Serving, precision: str, kv_precision: str) -> Workload:
    tpot = serving.tpot_ms
    return Workload(
        input_tokens=serving.input_tokens,
        output_tokens=serving.output_tokens,
        context_tokens=serving.mean_context_tokens,
        cache_hit_rate=serving.cache_hit_rate,
        tpot_s=None if tpot is None else tpot / MS_PER_S,
        precision=precision,
        kv_precision=kv_precision,
    )


def _point_workload(w: Workload) -> Workload:
    return Workload(
        input_tokens=_point(w.input_tokens),
        output_tokens=_point(w.output_tokens),
        context_tokens=_point(w.context_tokens),
        cache_hit_rate=_point(w.cache_hit_rate),
        tpot_s=_point(w.tpot_s),
        precision=w.precision,
        kv_precision=w.kv_precision,
    )


def _record_model(
    notes: Notes, params: ServingParams, acc: Accelerator, arch: Architecture, precisions: tuple[str, ...]
) -> None:
    src = params.source
    notes.assume("serving HBM efficiency (decode)", params.hbm_efficiency, "1", src)
    classes = {PRECISION_CLASS[p] for p in precisions}
    if classes - {"fp4"}:
        notes.assume(
            "serving sustained share of the best GEMM (16-bit, FP8)",
            params.compute_efficiency["fp8"],
            "1",
            src,
        )
    for p in dict.fromkeys(precisions):
        if PRECISION_CLASS[p] != "fp4":
            notes.assume(
                f"best-GEMM fraction of the {p} peak ({acc.id})",
                gemm_fraction(acc.id, p),
                "1",
                gemm_fraction_source(acc.id, p),
            )
    if "fp4" in classes:
        notes.assume("serving sustained share of the FP4 peak", params.compute_efficiency["fp4"], "1", src)
    notes.assume(
        "serving throughput 90% interval factor",
        float(np.exp(Z90 * params.log_sd)),
        "1",
        src + "; leave-one-out RMS log error",
    )
    for name, c in (
        ("serving usable HBM share", MEMORY_USABLE),
        ("serving collective latency", COLLECTIVE_LATENCY_S),
        ("serving batch limit per attention rank", MAX_SEQUENCES_PER_RANK),
    ):
        notes.assume(name, c.value, c.unit, c.source, accessed=c.accessed)
    if acc.scale_up_byte_per_s is None:
        notes.assume(
            "serving scale-up bandwidth (fallback)",
            SCALE_UP_FALLBACK.value,
            "byte/s",
            SCALE_UP_FALLBACK.source,
        )
    if acc.scale_out_byte_per_s is None:
        notes.assume(
            "serving scale-out bandwidth (fallback)",
            SCALE_OUT_FALLBACK.value,
            "byte/s",
            SCALE_OUT_FALLBACK.source,
        )
    if acc.id not in CALIBRATED_ACCELERATORS:
        notes.warn(
            f"serving: no published serving run on {acc.id} is in the calibration set "
            f"({', '.join(CALIBRATED_ACCELERATORS)}); its throughput is extrapolated from the datasheet"
        )
    if arch.moe is not None:
        notes.warn(
            "serving: the calibration set has dense models only; MoE throughput (expert reads, EP "
            "all-to-all) is physics checked against one MoE deployment, DeepSeek's Day-6 decode "
            "(predicted 10% above its daily average, nothing fitted to it)"
        )


def stage(
    serving: Serving,
    arch: Architecture | None,
    accelerator: Accelerator,
    *,
    rental_usd_per_gpu_hour: Any,
    owned_usd_per_gpu_hour: Any = None,
    point: bool = True,
    params: ServingParams | None = None,
) -> ServingResult:
    """Serving throughput and money for one `serving:` section.

    serving : Serving             the section (numbers may be arrays of draws).
    arch : Architecture | None    the model; None = measured rates only.
    accelerator : Accelerator     serving.accelerator (or the cluster's), resolved by the caller.
    rental_usd_per_gpu_hour, owned_usd_per_gpu_hour : numeric   from the pricing stage. [USD/h]
    """
    notes = Notes(point)
    params = params or fitted()
    precision = serving.precision
    if precision not in accelerator.peak_flop_per_s:
        raise ScenarioError(
            f"{accelerator.id} has no published dense {precision} peak; available: "
            f"{', '.join(sorted(accelerator.peak_flop_per_s))}",
            field="serving.precision",
        )
    kv_precision = serving.kv_precision or default_kv_precision(precision)
    w = workload(serving, precision, kv_precision)
    disagg = serving.prefill_replica is not None

    replica = serving.replica
    searched = False
    pred: Rates | None = None
    if arch is not None:
        if replica is None:
            replica = search(arch, accelerator, _point_workload(w), params, serving.gpus)
            searched = True
            notes.warn(
                f"serving.replica not given: searched layout gpus={replica.gpus}, tp={replica.tp}, "
                f"ep={replica.ep}, dp={replica.attention_dp} (highest output tokens/s per GPU)"
            )
        pred = rates(arch, accelerator, replica, w, params, prefill_replica=serving.prefill_replica)
        attn = attention_precision(accelerator, kv_precision)
        _record_model(notes, params, accelerator, arch, (precision, attn))
        notes.assume(
            "serving.throughput_factor",
            serving.throughput_factor,
            "1",
            "multiplier on the predicted rates; in Monte Carlo runs drawn from the calibration's "
            "leave-one-out errors unless given",
            "serving.throughput_factor",
        )

    out_rate = serving.output_tokens_per_s_per_gpu
    in_rate = serving.input_tokens_per_s_per_gpu
    if out_rate is not None:
        notes.assume(
            "serving output tokens/s per GPU",
            out_rate,
            "token/s",
            "scenario input (measured rate)",
            "serving.output_tokens_per_s_per_gpu",
        )
    elif pred is not None:
        out_rate = pred.output_tokens_per_s_per_gpu * serving.throughput_factor
    else:
        raise ScenarioError(
            "give a model (to predict the throughput) or serving.output_tokens_per_s_per_gpu",
            field="serving.output_tokens_per_s_per_gpu",
        )
    if in_rate is not None:
        notes.assume(
            "serving input tokens/s per GPU",
            in_rate,
            "token/s",
            "scenario input (measured rate)",
            "serving.input_tokens_per_s_per_gpu",
        )
    elif pred is not None:
        in_rate = pred.input_tokens_per_s_per_gpu * serving.throughput_factor
    elif not disagg:
        in_rate = out_rate * serving.input_tokens / serving.output_tokens
    else:
        raise ScenarioError(
            "a disaggregated fleet (serving.prefill_replica) needs a prefill rate: give "
            "serving.input_tokens_per_s_per_gpu, or a model to predict it",
            field="serving.input_tokens_per_s_per_gpu",
        )
    # Time shares: a shared replica spends part of its time on prefill; disaggregated pools
    # each spend all their time on one phase.
    if disagg:
        out_share, in_share = 1.0, 1.0
    elif pred is not None:
        out_share, in_share = pred.decode_time_share, 1.0 - pred.decode_time_share
    else:
        out_share, in_share = 1.0, 0.0
        notes.warn(
            "serving: shared replica with a measured rate and no model: all GPU time is charged to output tokens"
        )

    # Average rates: the sustained (or measured) rate at the fleet's average load.
    u = serving.utilisation
    notes.assume(
        "serving utilisation",
        u,
        "1",
        "scenario input: average load / sustained rate over the day"
        if "utilisation" in serving.model_fields_set
        else "default: full load around the clock, as in the benchmark runs the rates are fitted on "
        "(a measured daily-average rate already includes the load)",
        "serving.utilisation",
    )
    out_avg = out_rate * u
    in_avg = in_rate * u

    # GPUs and daily volumes.
    daily_in, daily_out = serving.daily_input_tokens, serving.daily_output_tokens
    gpus_exact: Any = None
    if serving.gpus is not None:
        gpus: Any = serving.gpus
        if daily_in is None or daily_out is None:
            # Requests/s the fleet can serve, with prefill and decode pools balanced.
            per_request = (
                (serving.output_tokens / out_avg + serving.input_tokens / in_avg)
                if disagg
                else (serving.output_tokens / out_avg)
            )
            requests = money.volume_for_gpus(gpus, 1.0) / per_request
            daily_out = requests * serving.output_tokens if daily_out is None else daily_out
            daily_in = requests * serving.input_tokens if daily_in is None else daily_in
            notes.warn(
                f"serving: no daily volume given: the fleet is assumed to serve at {_pct(u)} of its "
                "sustained rate all day (serving.utilisation)"
            )
    else:
        if daily_out is None:
            assert daily_in is not None  # the section's validator asks for one of them
            daily_out = daily_in * serving.output_tokens / serving.input_tokens
        if daily_in is None:
            daily_in = daily_out * serving.input_tokens / serving.output_tokens
        g_out = money.gpus_for_volume(daily_out, out_avg)
        g_in = money.gpus_for_volume(daily_in, in_avg)
        if disagg:
            gpus_exact = g_out + g_in
            gpus = money.whole_units(g_out, replica.gpus if replica else 1) + money.whole_units(
                g_in, serving.prefill_replica.gpus if serving.prefill_replica else 1
            )
        else:
            gpus_exact = np.maximum(g_out, g_in)
            gpus = money.whole_units(gpus_exact, replica.gpus if replica else 1)
        sizes = [r.gpus for r in (replica, serving.prefill_replica) if r is not None]
        unit = (
            "whole GPUs"
            if max(sizes, default=1) == 1
            else f"whole replicas ({' and '.join(f'{n} GPUs' for n in dict.fromkeys(sizes))})"
        )
        notes.warn(
            f"serving: GPUs sized for the daily volume at {_pct(u)} of the sustained rate "
            f"(serving.utilisation), rounded up to {unit}; no further slack for peaks"
        )

    def per_m(price: Any) -> tuple[Any, Any]:
        if price is None:
            return None, None
        out = money.usd_per_m_tokens(price, out_avg, out_share)
        inp = None if np.all(np.asarray(in_share) == 0) else money.usd_per_m_tokens(price, in_avg, in_share)
        return out, inp

    cost = money.cost_usd_per_day(gpus, rental_usd_per_gpu_hour)
    owned_cost = (
        None if owned_usd_per_gpu_hour is None else money.cost_usd_per_day(gpus, owned_usd_per_gpu_hour)
    )
    out_m, in_m = per_m(rental_usd_per_gpu_hour)
    owned_out_m, owned_in_m = per_m(owned_usd_per_gpu_hour)
    revenue = margin = owned_margin = None
    break_even = None
    prices = serving.price_usd_per_m_tokens
    paid = serving.paid_share

    def list_revenue(p: TokenPrices) -> Any:
        """Revenue of a day with every token billed at `p`. [USD]"""
        return money.revenue_usd_per_day(
            daily_in, daily_out, serving.cache_hit_rate, p.input, p.output, p.input_cache_hit
        )

    if prices is not None:
        full = list_revenue(prices)
        revenue = full * paid
        margin = money.cost_profit_margin(revenue, cost)
        owned_margin = None if owned_cost is None else money.cost_profit_margin(revenue, owned_cost)
        if np.all(np.asarray(full) > 0):
            break_even = money.break_even_paid_share(cost, full)
        else:
            notes.warn("serving: the list prices earn nothing, so no paid share breaks even")
        notes.assume(
            "serving paid share",
            paid,
            "1",
            "scenario input: share of the traffic billed at the list prices"
            if "paid_share" in serving.model_fields_set
            else "default: every token billed at the list prices (DeepSeek's 'theoretical' revenue)",
            "serving.paid_share",
        )
    by_price: dict[str, dict[str, float]] | None = None
    if serving.price_scenarios:
        by_price = {}
        for name, p in serving.price_scenarios.items():
            full_p = list_revenue(p)
            row = {
                "revenue_usd_per_day": full_p * paid,
                "cost_profit_margin": money.cost_profit_margin(full_p * paid, cost),
            }
            if np.all(np.asarray(full_p) > 0):
                row["break_even_paid_share"] = money.break_even_paid_share(cost, full_p)
            if owned_cost is not None:
                row["owned_cost_profit_margin"] = money.cost_profit_margin(full_p * paid, owned_cost)
            by_price[name] = {k: float(np.median(np.asarray(v, dtype=float))) for k, v in row.items()}

    factor = float(np.exp(Z90 * params.log_sd))
    predicted_used = pred is not None and (
        serving.output_tokens_per_s_per_gpu is None or (disagg and serving.input_tokens_per_s_per_gpu is None)
    )
    interval = (
        (1.0 / factor, factor)
        if predicted_used and "throughput_factor" not in serving.model_fields_set
        else None
    )
    return ServingResult(
        serving_output_tokens_per_s_per_gpu=out_rate,
        serving_input_tokens_per_s_per_gpu=in_rate,
        serving_gpus=gpus,
        serving_cost_usd_per_day=cost,
        serving_usd_per_m_output_tokens=out_m,
        serving_usd_per_m_input_tokens=in_m,
        serving_revenue_usd_per_day=revenue,
        serving_cost_profit_margin=margin,
        serving_owned_cost_usd_per_day=owned_cost,
        serving_owned_usd_per_m_output_tokens=owned_out_m,
        serving_owned_usd_per_m_input_tokens=owned_in_m,
        serving_owned_cost_profit_margin=owned_margin,
        serving_break_even_paid_share=break_even,
        margins_by_price=by_price,
        replica=replica,
        prefill_replica=serving.prefill_replica,
        layout_searched=searched,
        throughput_interval=interval,
        **_predicted_extras(pred, serving, factor, accelerator.gpus_per_node),
        daily_input_tokens=daily_in,
        daily_output_tokens=daily_out,
        gpus_unrounded=gpus_exact,
        assumptions=notes.assumptions,
        warnings=notes.warnings,
    )


def _predicted_extras(
    pred: Rates | None, serving: Serving, factor: float, gpus_per_node: int
) -> dict[str, Any]:
    """The model's rates and explanatory values for ServingResult (none without a prediction),
    with their 90% interval (x/÷ `factor`) and, where measured rates are given, measured / predicted."""
    if pred is None:
        return {}
    out_r, in_r = pred.output_tokens_per_s_per_gpu, pred.input_tokens_per_s_per_gpu
    extras: dict[str, Any] = {
        "predicted_output_tokens_per_s_per_gpu": out_r,
        "predicted_input_tokens_per_s_per_gpu": in_r,
        "predicted_output_tokens_per_s_per_node": out_r * gpus_per_node,
        "predicted_input_tokens_per_s_per_node": in_r * gpus_per_node,
        "predicted_interval_factor": factor,
        "predicted_output_tokens_per_s_per_gpu_p5": out_r / factor,
        "predicted_output_tokens_per_s_per_gpu_p95": out_r * factor,
        "predicted_input_tokens_per_s_per_gpu_p5": in_r / factor,
        "predicted_input_tokens_per_s_per_gpu_p95": in_r * factor,
        "batch_sequences": pred.batch,
        "batch_sequences_memory_limit": pred.max_batch_memory,
        "step_time_s": pred.step_time_s,
        "kv_bytes_per_token": pred.kv_bytes_per_token,
        "weight_bytes_per_gpu": pred.weight_bytes_per_gpu,
        "kv_capacity_bytes_per_gpu": pred.kv_capacity_bytes_per_gpu,
    }
    if serving.output_tokens_per_s_per_gpu is not None:
        extras["measured_over_predicted_output_rate"] = serving.output_tokens_per_s_per_gpu / out_r
    if serving.input_tokens_per_s_per_gpu is not None:
        extras["measured_over_predicted_input_rate"] = serving.input_tokens_per_s_per_gpu / in_r
    return extras


__all__ = ["ServingResult", "stage"]
