"""GPU-hours, wall-clock and energy of a run, and the glue of the model / flops / run stages."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .. import defaults
from ..state import ChainState
from ..units import HOURS_PER_DAY, SECONDS_PER_HOUR, W_PER_KW
from .flops import FLOP_CONVENTIONS, flops_per_token, macs_per_token

if TYPE_CHECKING:
    from .perf import StepSpec

TOKENS_IMPLAUSIBLY_FEW = 1e6  # fewer tokens than this is almost surely a unit slip (14.8 vs 14.8e12)
MFU_IMPLAUSIBLY_HIGH = 0.75  # above any published LLM training MFU (formulas.md; PaLM 46%, LaMDA 56%)


# ---- formulas ------------------------------------------------------------------------------
def gpu_hours(training_flops: Any, peak_flop_per_s: Any, mfu: Any, goodput: Any = 1.0) -> Any:
    """GPU time for a run. [h]

    training_flops : numeric   model FLOPs of the run. [FLOP]
    peak_flop_per_s : numeric  dense peak of one accelerator at the MFU basis. [FLOP/s]
    mfu : numeric              model FLOPs utilisation while training, 0 < mfu <= 1. [1]
    goodput : numeric          productive share of the run's GPU time, 0 < goodput <= 1. [1]

    >>> round(gpu_hours(3.6e24, 1e15, 0.5))
    2000000
    """
    return training_flops / (peak_flop_per_s * mfu * goodput) / SECONDS_PER_HOUR


def implied_mfu(training_flops: Any, gpu_hours_: Any, peak_flop_per_s: Any) -> Any:
    """MFU implied by a reported GPU-hour figure (includes non-productive time). [1]"""
    return training_flops / (gpu_hours_ * SECONDS_PER_HOUR * peak_flop_per_s)


def wall_clock_days(gpu_hours_: Any, count: Any) -> Any:
    """Calendar days with `count` accelerators busy. [d]

    >>> wall_clock_days(2_664_000, 2048)
    54.19921875
    """
    return gpu_hours_ / count / HOURS_PER_DAY


def energy_kwh(gpu_hours_: Any, tdp_w: Any, server_to_chip: Any, utilisation: Any, pue: Any) -> Any:
    """Facility energy of a run (Epoch AI method, formulas.md sec. 3). [kWh]

    TDP x server-to-chip power x average utilisation x PUE x hours.

    >>> round(energy_kwh(1000, 700, 1.82, 0.75, 1.25))
    1194
    """
    return gpu_hours_ * tdp_w / W_PER_KW * server_to_chip * utilisation * pue


# ---- stage glue ----------------------------------------------------------------------------
def model_stage(state: ChainState) -> None:
    arch = state.scenario.model
    if arch is None:
        return
    state.put("params_total", float(arch.params_total), "1", "weights of the main model (MTP excluded)")
    state.put("params_active", float(arch.params_active), "1", "weights used per token")
    if state.point:
        src = arch.source or "scenario input (architecture given inline)"
        state.assume("architecture", state.scenario.model_id or "inline", "", src, "model")


def flops_stage(state: ChainState) -> None:
    scn = state.scenario
    tr = scn.training
    conv = tr.flop_convention
    if tr.flops is not None:
        state.put("training_flops", tr.flops, "FLOP", "given (training.flops)")
        state.detail("flop_convention", "given")
        return
    arch = scn.model
    if arch is None:
        return
    fpt = flops_per_token(arch, tr.seq_len, conv)
    state.put("flops_per_token", fpt, "FLOP", f"{conv} convention, fwd+bwd, s = {tr.seq_len}")
    state.detail("flop_convention", conv)
    if state.point:
        state.detail(
            "flops_per_token_by_convention",
            {c: flops_per_token(arch, tr.seq_len, c) for c in FLOP_CONVENTIONS},
        )
        macs = macs_per_token(arch, tr.seq_len)
        state.detail(
            "flops_per_token_parts",
            {
                "attention_projections": 6 * macs.projections,
                "mlp": 6 * macs.mlp,
                "attention_core_full": 6 * macs.attention_core,
                "logits": 6 * macs.logits,
                "mtp": 6 * (macs.mtp + macs.mtp_attention_core),
            },
        )
    if tr.tokens is None:
        return
    if state.point and tr.tokens < TOKENS_IMPLAUSIBLY_FEW:
        state.warn(f"training.tokens = {tr.tokens:g} is implausibly small; did you mean {tr.tokens:g}e12?")
    state.put("training_flops", fpt * tr.tokens, "FLOP", f"flops_per_token x training.tokens ({conv})")


# Llama 2 (Touvron et al. 2023, sec. 2.2): "global batch-size of 4M tokens".
DEFAULT_TOKENS_PER_STEP = defaults.Cited(
    4.0e6, "tokens", "Llama 2 paper (arXiv:2307.09288) sec. 2.2: global batch of 4M tokens"
)


def default_global_batch(seq_len: int, count: float) -> int:
    """Sequences per step when none is given: about 4M tokens (Llama 2), but at least one sequence
    per 8 accelerators so that a data-parallel layout exists on large clusters; rounded up to a
    power of two so that it divides among data-parallel ranks.

    >>> default_global_batch(4096, 4096), default_global_batch(8192, 16384)
    (1024, 2048)
    """
    need = max(DEFAULT_TOKENS_PER_STEP.value / seq_len, count / 8, 1.0)
    return int(2 ** np.ceil(np.log2(need)))


def step_spec(scn: Any, global_batch: int) -> StepSpec:
    """What the step-time model (`perf.predict_step`, `perf.search_layouts`) takes from a scenario.
    The 6ND convention has no attention term to time, so the model counts Megatron FLOPs then."""
    from ..catalog import get_accelerator
    from .perf import StepSpec

    tr, cl = scn.training, scn.cluster
    return StepSpec(
        arch=scn.model,
        accelerator=get_accelerator(cl.accelerator),
        n_gpus=int(round(float(cl.count))),
        seq_len=tr.seq_len,
        global_batch=global_batch,
        precision=tr.precision,
        network=cl.network,
        gpus_per_node=cl.gpus_per_node,
        flop_convention=tr.flop_convention if tr.flop_convention != "6nd" else "megatron",
        mfu_basis=cl.mfu_basis,
    )


def perf_stage(state: ChainState) -> None:
    """Predict step time and MFU with the step-time model when the run gives neither GPU-hours
    nor MFU. Runs once, at the point values; Monte Carlo chunks reuse its prediction."""
    scn = state.scenario
    cl = scn.cluster
    tr = scn.training
    if cl is None or scn.model is None or tr.tokens is None or cl.count is None:
        return
    if cl.gpu_hours is not None or tr.stages or cl.mfu is not None:
        return
    pred = state.cache.get("perf")
    if pred is None:
        from ..errors import ScenarioError
        from .perf import predict_step

        gb = tr.global_batch
        if gb is None:
            gb = default_global_batch(tr.seq_len, float(cl.count))
            state.assume(
                "global_batch", gb, "sequences", DEFAULT_TOKENS_PER_STEP.source, "training.global_batch"
            )
        try:
            pred = predict_step(step_spec(scn, gb), cl.parallelism)
        except ValueError as exc:
            raise ScenarioError(str(exc), field="cluster.parallelism") from None
        state.cache["perf"] = pred
        state.cache["global_batch"] = gb
    gb = state.cache["global_batch"]
    state.put(
        "step_time_s", pred.step_time_s, "s", "step-time model (truecost.stages.perf) at the layout shown"
    )
    state.put(
        "mfu",
        pred.mfu,
        "1",
        f"predicted: model FLOPs per step / (step_time_s x count x dense {cl.mfu_basis} peak)",
    )
    state.put(
        "hfu", pred.hfu, "1", "predicted hardware FLOPs (with recomputation) / (step_time_s x count x peak)"
    )
    if state.point:
        state.detail("mfu_source", "predicted by the step-time model")
        state.detail("perf", pred.to_dict())
        for a in pred.assumptions:
            state.assume(a["name"], a["value"], a.get("unit", ""), a.get("source", ""), a.get("field", ""))
    from .perf import goodput_assumption

    g = goodput_assumption()
    g_default = defaults.Cited(float(g["value"]), "1", str(g["source"]))  # type: ignore[arg-type]
    goodput = state.cited("goodput", cl.goodput, g_default, "cluster.goodput")
    steps = tr.tokens / (gb * tr.seq_len)
    state.put(
        "gpu_hours",
        steps * pred.step_time_s * cl.count / SECONDS_PER_HOUR / goodput,
        "h",
        "training.tokens / (global_batch x seq_len) x step_time_s x count / 3600 / goodput",
    )


def _peak(state: ChainState) -> float:
    from ..catalog import get_accelerator

    cl = state.scenario.cluster
    acc = get_accelerator(cl.accelerator)
    try:
        return acc.peak(cl.mfu_basis)
    except ValueError as exc:
        from ..errors import ScenarioError

        raise ScenarioError(str(exc), field="cluster.mfu_basis") from None


def run_stage(state: ChainState) -> None:
    scn = state.scenario
    cl = scn.cluster
    if cl is None:
        return
    from ..catalog import get_accelerator

    acc = get_accelerator(cl.accelerator)
    flops = state.get("training_flops")
    stages = scn.training.stages
    basis = f"dense {cl.mfu_basis} peak of {acc.id}"

    if state.get("gpu_hours") is not None:  # predicted by the perf stage
        pass
    elif cl.gpu_hours is not None or stages:
        if cl.gpu_hours is not None:
            hours = cl.gpu_hours
            state.put("gpu_hours", hours, "h", "given (cluster.gpu_hours)")
        else:
            hours = sum(s.gpu_hours for s in stages)
            state.put("gpu_hours", hours, "h", " + ".join(s.name for s in stages) + " (training.stages)")
        if stages and state.point:
            state.detail(
                "stages",
                [
                    {"name": s.name, "gpu_hours": s.gpu_hours, "tokens": s.tokens, "source": s.source}
                    for s in stages
                ],
            )
        state.detail("mfu_source", "implied by the reported GPU-hours")
        if flops is not None:
            with_tokens = [s.gpu_hours for s in stages if s.tokens is not None]
            hours_for_flops = sum(with_tokens) if with_tokens else hours
            which = "stages with tokens" if with_tokens else "all GPU-hours"
            state.put(
                "mfu",
                implied_mfu(flops, hours_for_flops, _peak(state)),
                "1",
                f"implied: training_flops / (GPU-hours of {which} x 3600 x {basis}); includes non-productive time",
            )
    else:
        if flops is None:
            return
        if cl.count is None and cl.mfu is None:
            return
        if state.point:
            state.detail("mfu_source", "given" if cl.mfu is not None else "default (Epoch AI median)")
        mfu = state.cited("mfu", cl.mfu, defaults.MFU_WHEN_UNKNOWN, "cluster.mfu")
        state.put("mfu", mfu, "1", f"model FLOPs / (GPU-seconds x {basis})")
        goodput = 1.0 if cl.goodput is None else cl.goodput
        state.assume(
            "goodput",
            goodput,
            "1",
            "scenario input"
            if cl.goodput is not None
            else "MFU given: taken as the whole run's utilisation; set cluster.goodput to add non-productive time",
            "cluster.goodput",
        )
        if state.point and np.any(np.asarray(mfu) > MFU_IMPLAUSIBLY_HIGH):
            state.warn(
                f"cluster.mfu = {float(np.median(mfu)):.2f} is above 0.75, higher than any published run"
            )
        state.put(
            "gpu_hours",
            gpu_hours(flops, _peak(state), mfu, goodput),
            "h",
            f"training_flops / ({basis} x mfu x goodput) / 3600",
        )
    state.detail("mfu_basis", f"{cl.mfu_basis} ({acc.peak(cl.mfu_basis) / 1e12:g} TFLOP/s dense)")
    hours = state.get("gpu_hours")
    if cl.count is not None:
        state.put("wall_clock_days", wall_clock_days(hours, cl.count), "d", "gpu_hours / cluster.count / 24")
    _energy(state, acc, hours)


def _energy(state: ChainState, acc: Any, hours: Any) -> None:
    if acc.tdp_w is None:
        state.warn(f"no TDP in the catalog for {acc.id}: energy_kwh not computed")
        return
    p = state.scenario.power
    s2c_default, util_default = defaults.power_defaults(acc.id)
    s2c = state.cited("server_to_chip_power", p.server_to_chip, s2c_default, "power.server_to_chip")
    util = state.cited("power_utilisation", p.utilisation, util_default, "power.utilisation")
    pue = state.cited("pue", p.pue, defaults.PUE, "power.pue")
    state.assume("tdp_w", acc.tdp_w, "W", acc.source, "cluster.accelerator", acc.accessed)
    state.put(
        "energy_kwh",
        energy_kwh(hours, acc.tdp_w, s2c, util, pue),
        "kWh",
        "gpu_hours x TDP x server_to_chip_power x power_utilisation x PUE",
    )
