"""Realized, not ideal: what a real training run achieves on top of the step-time physics.

The step-time model (`step`, `search`) gives the *ideal* step of a layout on a software stack:
calibrated on benchmark iterations whose layout is known (Narayanan et al. 2021 Table 1, vTrain).
A run whose layout is not given realizes less, for three reasons, each a separate factor here:

1. **The layout a practitioner runs.** Not the fastest of every layout the search can build
   (huge micro-batches, ZeRO-3 at a thousand data-parallel ranks), but the fastest of the
   *conventional* layouts of the stack's era (`catalog.stacks`): its recomputation mode, its
   pipeline schedules (DualPipe only for MoE models) and at most its ZeRO stage.
2. **The software stack of the run's era** (`cluster.stack`, else chosen from
   `training.start_date` and the accelerator): its kernels and overlaps are physics (`params.STACKS`).
3. **Realized efficiency** `realized_efficiency` = realized / ideal steady-state throughput at
   that layout: kernels below benchmark speed on production shapes, stragglers, data-loader and
   host stalls, batch-size warm-up, evaluation during training. One number, fitted on published
   runs by `truecost.analysis.calibrate_realized` (leave-one-out), with a lognormal interval from the LOO residuals.
   When the scenario pins the layout (any parallel degree given) the run is taken as measured:
   the physics stands (factor 1), its interval from the published steady-state step times.

On top, **goodput at scale** (`goodput_at_scale`): wall-clock time lost to interruptions grows
with the GPU count, from Llama 3's interruption statistics.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ...catalog.fitted import realized_parameter
from ...catalog.stacks import StackEntry
from ...scenario.cluster import Parallelism
from .layout import InfeasibleLayoutError, StepPrediction
from .search import search_problem
from .step import Problem

# ---- goodput at scale ---------------------------------------------------------------------------
# Llama 3 paper (arXiv:2407.21783) sec. 3.3.4: "During a 54-day snapshot period of pre-training,
# we experienced a total of 466 job interruptions" on up to 16K H100 GPUs, and the team "achieved
# higher than 90% effective training time". Interruptions arrive at a rate proportional to the
# GPU count; each costs the restart plus the work since the last checkpoint.
LLAMA3_INTERRUPTIONS = 466
LLAMA3_SNAPSHOT_DAYS = 54
LLAMA3_GPUS = 16384
LLAMA3_EFFECTIVE_TIME = 0.90
INTERRUPTIONS_PER_GPU_HOUR = LLAMA3_INTERRUPTIONS / (LLAMA3_SNAPSHOT_DAYS * 24 * LLAMA3_GPUS)
# Lost hours per interruption L such that goodput(16,384) = 0.90 exactly: wall = productive x
# (1 + n lambda L) => L = (1/0.9 - 1) / (16384 lambda) ~ 0.31 h (restart + recomputed work).
HOURS_LOST_PER_INTERRUPTION = (1 / LLAMA3_EFFECTIVE_TIME - 1) / (LLAMA3_GPUS * INTERRUPTIONS_PER_GPU_HOUR)
GOODPUT_SOURCE = (
    "Llama 3 paper (arXiv:2407.21783) sec. 3.3.4: 466 job interruptions in a 54-day snapshot on 16,384 "
    f"H100 (= {INTERRUPTIONS_PER_GPU_HOUR:.3g} per GPU-hour) and >90% effective training time (=> "
    f"{HOURS_LOST_PER_INTERRUPTION * 60:.0f} min lost per interruption); goodput = 1 / (1 + count x rate x loss)"
)


def goodput_at_scale(count: Any) -> Any:
    """Productive share of a run's wall-clock on `count` accelerators. [1]

    Interruptions arrive at Llama 3's measured rate per GPU-hour and each costs
    `HOURS_LOST_PER_INTERRUPTION`; per productive hour the job loses count x rate x loss hours.

    >>> round(float(goodput_at_scale(16384)), 3), round(float(goodput_at_scale(2048)), 3)
    (0.9, 0.986)
    """
    return 1.0 / (
        1.0 + np.asarray(count, dtype=float) * INTERRUPTIONS_PER_GPU_HOUR * HOURS_LOST_PER_INTERRUPTION
    )


# ---- the practitioner's layout -----------------------------------------------------------------
DEGREES = ("tp", "pp", "dp", "ep", "cp")
# Context parallelism is for long sequences: Llama 3 trains 8K sequences with cp 1 and turns it on
# (cp 16) only for the 128K long-context stage (Llama 3 paper Table 4).
CP_MIN_SEQ_LEN = 32768


def layout_given(p: Parallelism) -> bool:
    """True when the scenario pins any parallel degree: the run's layout is then taken as known."""
    return any(getattr(p, k) is not None for k in DEGREES)


def practitioner_prediction(
    problem: Problem, fixed: Parallelism, entry: StackEntry
) -> tuple[StepPrediction, str]:
    """The fastest *conventional* layout of the stack's era (entries set in `fixed` are kept).

    Conventional: the stack's recomputation mode or full recomputation (a memory-for-time trade
    practitioners tune: DeepSeek-V3's DualPipe fits only with it), its pipeline schedules
    (DualPipe only for MoE models: it exists to hide the expert all-to-all), ZeRO up to the
    stack's stage, no context parallelism below `CP_MIN_SEQ_LEN` tokens. Returns the prediction
    and a sentence saying what was chosen.
    """
    moe = problem.arch.moe is not None
    if fixed.cp is None and problem.seq_len < CP_MIN_SEQ_LEN:
        fixed = fixed.model_copy(update={"cp": 1})
    schedules = [fixed.schedule] if fixed.schedule else [s for s in entry.schedules if s != "dualpipe" or moe]
    zeros = [fixed.zero] if fixed.zero is not None else list(range(entry.max_zero + 1))
    modes = [fixed.recompute] if fixed.recompute else list(dict.fromkeys([entry.recompute, "full"]))
    best: StepPrediction | None = None
    for rec in modes:
        for sch in schedules:
            for z in zeros:
                try:
                    cand = fixed.model_copy(update={"recompute": rec, "schedule": sch, "zero": z})
                    p = search_problem(problem, fixed=cand, objective="time", top=1)[0]
                except InfeasibleLayoutError:
                    continue
                if best is None or p.step_time_s < best.step_time_s:
                    best = p
    if best is not None:
        why = (
            f"fastest conventional layout of {entry.name} ({' or '.join(modes)} recomputation, schedules "
            f"{'/'.join(schedules)}, ZeRO <= {max(zeros)}"
            + (", no context parallelism below 32K tokens" if problem.seq_len < CP_MIN_SEQ_LEN else "")
            + ")"
        )
        return best, why
    best = search_problem(problem, fixed=fixed, objective="time", top=1)[0]
    return best, f"no conventional {entry.name} layout fits: the fastest feasible layout instead"


# ---- realized efficiency ----------------------------------------------------------------------
@dataclass(frozen=True)
class Realized:
    """The realized-efficiency factor of a run and its 90% interval.

    value : realized / ideal steady-state throughput (point: the median). [1]
    p5, p95 : 90% interval (lognormal). [1]
    source : where it comes from (fit, LOO figures), for the assumptions.
    """

    value: float
    p5: float
    p95: float
    source: str


def realized_efficiency(given_layout: bool) -> Realized:
    """The calibrated realized efficiency: fitted (layout chosen by the practitioner rule) or 1
    (layout given: the physics at a measured layout), with the interval each earned out of sample."""
    if given_layout:
        lo, hi = realized_parameter("given_layout_p5"), realized_parameter("given_layout_p95")
        return Realized(
            1.0,
            lo.value,
            hi.value,
            "layout given: the step-time physics at that layout (factor 1); 90% interval "
            f"[{lo.value:.3f}, {hi.value:.3f}] from {lo.source}",
        )
    eta = realized_parameter("realized_efficiency")
    lo, hi = realized_parameter("realized_efficiency_p5"), realized_parameter("realized_efficiency_p95")
    cov = realized_parameter("loo_coverage_90")
    med = realized_parameter("loo_median_abs_gpu_hours_error_pct")
    return Realized(
        eta.value,
        lo.value,
        hi.value,
        f"{eta.source}; 90% interval [{lo.value:.3f}, {hi.value:.3f}] (lognormal, {lo.source}); leave-one-out "
        f"median GPU-hour error {med.value:.1f}%, 90% interval coverage {cov.value:.0%}",
    )
