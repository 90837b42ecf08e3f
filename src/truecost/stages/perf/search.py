"""Layout search: every valid (tp, cp, pp, dp, ep, micro_batch, schedule, recompute, ZeRO),
scored in one vectorised pass, ranked by step time or by GPU-hours.

The structural part (tp, cp, pp, dp, ep, micro-batch, schedule) is enumerated in Python (a few
thousand rows at most); recompute and ZeRO stage are crossed with numpy, and `step.evaluate`
scores all rows at once.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict
from typing import Literal

import numpy as np

from ...scenario.cluster import RECOMPUTE_MODES, SCHEDULES, Parallelism
from .layout import InfeasibleLayoutError, Layout, StepPrediction, divisors
from .spec import StepSpec
from .step import (
    Array,
    Problem,
    evaluate,
    layout_at,
    layout_errors,
    make_problem,
    memory_message,
    prediction_at,
)

# Search bounds. Tensor parallelism stays inside a node (Narayanan et al. 2021, takeaway 1);
# context parallelism keeps at least 512 tokens per rank; interleaving up to 8 chunks per GPU.
MAX_MICRO_BATCH = 64
MAX_CP = 32
MIN_TOKENS_PER_CP_RANK = 512
MAX_VIRTUAL_STAGES = 8
ZERO_STAGES = (0, 1, 2, 3)

Objective = Literal["time", "cost"]


def _options(fixed: int | None, candidates: list[int]) -> list[int]:
    return [fixed] if fixed is not None else candidates


def _structures(problem: Problem, fixed: Parallelism, n_gpus: int) -> list[tuple[int, ...]]:
    """(tp, cp, pp, dp, ep, micro_batch, schedule code, virtual_stages) rows."""
    arch = problem.arch
    gb, s, gpn = problem.global_batch, problem.seq_len, problem.gpus_per_node
    tps = _options(fixed.tp, [t for t in divisors(arch.n_heads) if t <= gpn])
    cps = _options(
        fixed.cp,
        [c for c in divisors(s) if c <= MAX_CP and (c == 1 or s // c >= MIN_TOKENS_PER_CP_RANK)],
    )
    rows: list[tuple[int, ...]] = []
    for tp, cp in itertools.product(tps, cps):
        if n_gpus % (tp * cp):
            continue
        rest = n_gpus // (tp * cp)
        for pp in _options(fixed.pp, [p for p in divisors(rest) if p <= arch.layers]):
            if rest % pp:
                continue
            dp = rest // pp
            if fixed.dp is not None and dp != fixed.dp:
                continue
            if gb % dp:
                continue
            if arch.moe is None:
                eps = [1]
            else:
                eps = [e for e in divisors(dp * cp) if arch.moe.experts % e == 0]
            for ep in _options(fixed.ep, eps):
                per_pipe = gb // dp
                mbs = _options(fixed.micro_batch, [b for b in divisors(per_pipe) if b <= MAX_MICRO_BATCH])
                for mb in mbs:
                    if per_pipe % mb:
                        continue
                    m = per_pipe // mb
                    for sched, v in _schedules(fixed, pp, m, arch.layers):
                        rows.append((tp, cp, pp, dp, ep, mb, sched, v))
    return rows


def _schedules(fixed: Parallelism, pp: int, m: int, layers: int) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    if pp == 1:
        # No pipeline: the schedule is moot; report 1f1b unless the caller fixed another.
        if fixed.schedule == "dualpipe":
            return []  # DualPipe needs an even number of stages
        return [(SCHEDULES.index(fixed.schedule or "1f1b"), 1)]
    if fixed.schedule in (None, "1f1b"):
        out.append((SCHEDULES.index("1f1b"), 1))
    if fixed.schedule in (None, "interleaved") and m >= pp:
        vs = [fixed.virtual_stages] if fixed.virtual_stages else range(2, MAX_VIRTUAL_STAGES + 1)
        out += [(SCHEDULES.index("interleaved"), v) for v in vs if pp * v <= layers and v >= 2]
    if fixed.schedule in (None, "dualpipe") and pp % 2 == 0 and m >= pp and m % 2 == 0:
        out.append((SCHEDULES.index("dualpipe"), 1))
    return out


def candidate_arrays(problem: Problem, fixed: Parallelism, n_gpus_options: list[int]) -> dict[str, Array]:
    """All structurally valid layouts consistent with `fixed`, as evaluate() arrays."""
    rows: list[tuple[int, ...]] = []
    for n in n_gpus_options:
        rows += _structures(problem, fixed, n)
    if not rows:
        return {}
    base = np.array(rows, dtype=float)
    rcs = _options(None if fixed.recompute is None else RECOMPUTE_MODES.index(fixed.recompute), [0, 1, 2])
    zeros = _options(fixed.zero, list(ZERO_STAGES))
    cross = np.array(list(itertools.product(rcs, zeros)), dtype=float)
    full = np.repeat(base, len(cross), axis=0)
    tiled = np.tile(cross, (len(base), 1))
    return {
        "tp": full[:, 0],
        "cp": full[:, 1],
        "pp": full[:, 2],
        "dp": full[:, 3],
        "ep": full[:, 4],
        "micro_batch": full[:, 5],
        "schedule": full[:, 6].astype(int),
        "virtual_stages": full[:, 7],
        "recompute": tiled[:, 0].astype(int),
        "zero": tiled[:, 1].astype(int),
    }


def _gpu_count_options(problem: Problem, objective: str) -> list[int]:
    n = problem.n_gpus
    if objective == "time":
        return [n]
    # Cheapest: the job may leave part of the cluster idle if that raises throughput per GPU;
    # whole nodes only.
    opts = [n]
    for k in (2, 4, 8):
        if n % k == 0 and (n // k) % problem.gpus_per_node == 0:
            opts.append(n // k)
    return opts


def _explain_no_structure(problem: Problem, fixed: Parallelism) -> str:
    """A message for a search that found no structurally valid layout."""
    # A Layout is not validated, so an odd pp with dualpipe still yields a message.
    filled = Layout(
        tp=fixed.tp or 1,
        pp=fixed.pp or 1,
        dp=fixed.dp or max(1, problem.n_gpus // ((fixed.tp or 1) * (fixed.pp or 1) * (fixed.cp or 1))),
        ep=fixed.ep or 1,
        cp=fixed.cp or 1,
        micro_batch=fixed.micro_batch or 1,
        recompute=fixed.recompute or "none",
        schedule=fixed.schedule or "1f1b",
        virtual_stages=fixed.virtual_stages or (2 if fixed.schedule == "interleaved" else 1),
        zero=fixed.zero if fixed.zero is not None else 0,
    )
    errors = layout_errors(problem, filled)
    detail = "; ".join(errors) if errors else "no combination of the free entries satisfies the constraints"
    return f"no valid layout for {problem.n_gpus} GPUs with {_fixed_str(fixed)}: {detail}"


def _fixed_str(fixed: Parallelism) -> str:
    given = {k: v for k, v in fixed.model_dump().items() if v is not None}
    return "parallelism " + (", ".join(f"{k}={v}" for k, v in given.items()) if given else "unconstrained")


def search_problem(
    problem: Problem,
    *,
    fixed: Parallelism | None = None,
    objective: Objective = "time",
    top: int = 10,
    include_oom: bool = False,
) -> list[StepPrediction]:
    """Rank the layouts of a resolved problem (see `search_layouts`)."""
    if objective not in ("time", "cost"):
        raise ValueError(f"objective {objective!r} is unknown; expected 'time' or 'cost'")
    if top < 1:
        raise ValueError(f"top must be >= 1, got {top}")
    fixed = fixed or Parallelism()
    arrays = candidate_arrays(problem, fixed, _gpu_count_options(problem, objective))
    if not arrays:
        raise InfeasibleLayoutError(_explain_no_structure(problem, fixed))
    result = evaluate(problem, arrays)
    fits = result["fits"]
    ok = np.ones_like(fits) if include_oom else fits
    if not ok.any():
        i = int(np.argmin(result["memory.total"]))
        raise InfeasibleLayoutError(
            f"no layout fits in memory with {_fixed_str(fixed)}: the leanest "
            f"({asdict(layout_at(arrays, i))}) {memory_message(problem, float(result['memory.total'][i]))}"
        )
    score = result["step_time_s"] if objective == "time" else result["step_time_s"] * result["n_gpus"]
    # Ties (ZeRO stages whose communication hides completely) go to the lower ZeRO stage (less
    # traffic, fewer moving parts), then to less memory.
    order = np.lexsort((result["memory.total"], arrays["zero"], np.where(ok, score, np.inf)))
    order = order[: min(top, int(ok.sum()))]
    return [prediction_at(problem, result, layout_at(arrays, int(i)), int(i)) for i in order]


def search_layouts(
    spec: StepSpec,
    *,
    fixed: Parallelism | None = None,
    objective: Objective = "time",
    top: int = 10,
    include_oom: bool = False,
) -> list[StepPrediction]:
    """Fastest (objective 'time') or cheapest in GPU-hours ('cost') feasible layouts, best first.

    Entries set in `fixed` are kept; every other entry is searched. With 'cost' the job may
    also use 1/2, 1/4 or 1/8 of the GPUs (whole nodes) when that lowers GPU-hours per token;
    each prediction's `n_gpus` says how many it uses.

    Raises InfeasibleLayoutError when nothing is valid or nothing fits in memory.
    """
    return search_problem(
        make_problem(spec), fixed=fixed, objective=objective, top=top, include_oom=include_oom
    )
