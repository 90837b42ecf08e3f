"""The `perf` stage: the step time and MFU a run realizes, when the scenario gives neither GPU-hours
nor an MFU: the ideal step of the step-time physics (at the given layout, or at the layout a
practitioner of the stack's era would run) times the calibrated realized efficiency
(`realized`). The ideal step runs once per distinct GPU count (`CountCache`): Monte Carlo chunks
with an uncertain count predict per drawn count; the realized efficiency is an uncertain input
(`cluster.realized_efficiency`, drawn from its calibrated interval by the chain)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ...architecture import Architecture
from ...catalog import get_accelerator
from ...catalog.stacks import StackEntry, default_stack, stack, stack_reason
from ...dates import decimal_year
from ...defaults import Cited
from ...errors import ScenarioError
from ...scenario.cluster import Cluster
from ...scenario.training import Training
from ..base import Notes, StageResult, quantity
from .layout import InfeasibleLayoutError, Layout, StepPrediction
from .realized import Realized, layout_given, practitioner_prediction, realized_efficiency
from .spec import StepSpec
from .step import make_problem, predict_step

# Llama 2 (Touvron et al. 2023, sec. 2.2): "global batch-size of 4M tokens".
DEFAULT_TOKENS_PER_STEP = Cited(
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


def step_spec(training: Training, cluster: Cluster, arch: Architecture, global_batch: int) -> StepSpec:
    """What the step-time model (`predict_step`, `search_layouts`) takes from a scenario, on the
    run's software stack (`run_stack`). The 6ND convention has no attention term to time, so the
    model counts Megatron FLOPs then."""
    return StepSpec(
        arch=arch,
        accelerator=get_accelerator(cluster.accelerator),
        n_gpus=int(round(float(cluster.count or 0))),
        seq_len=training.seq_len,
        global_batch=global_batch,
        precision=training.precision,
        network=cluster.network,
        gpus_per_node=cluster.gpus_per_node,
        flop_convention=training.flop_convention if training.flop_convention != "6nd" else "megatron",
        mfu_basis=cluster.mfu_basis,
        stack=run_stack(training, cluster)[0].name,
    )


@dataclass(frozen=True)
class Ideal:
    """The ideal step of a run at one GPU count: prediction, batch, how the layout was chosen."""

    prediction: StepPrediction
    global_batch: int
    seq_len: int
    layout_note: str

    @property
    def gpu_s_per_token(self) -> float:
        """GPU-seconds per training token at this count. [s]"""
        p = self.prediction
        return p.step_time_s * p.n_gpus / (self.global_batch * self.seq_len)


def run_stack(training: Training, cluster: Cluster) -> tuple[StackEntry, str]:
    """The run's software stack (given, or chosen from the start date and accelerator) and why."""
    if cluster.stack is not None:
        entry = stack(cluster.stack)
        return entry, f"scenario input (cluster.stack). {entry.source}"
    year = decimal_year(training.start_date) if training.start_date else None
    entry = default_stack(cluster.accelerator, year)
    return entry, stack_reason(cluster.accelerator, year, entry)


def ideal_step(training: Training, cluster: Cluster, arch: Architecture, count: int) -> Ideal:
    """The ideal step on `count` GPUs: the physics at the layout a practitioner of the stack's era
    would run (`realized.practitioner_prediction`), keeping every entry the scenario gives."""
    entry, _ = run_stack(training, cluster)
    gb = training.global_batch or default_global_batch(training.seq_len, float(count))
    spec = replace(step_spec(training, cluster, arch, gb), n_gpus=int(count))
    fixed = cluster.parallelism
    if fixed.is_complete():
        return Ideal(predict_step(spec, fixed), gb, training.seq_len, "scenario input (cluster.parallelism)")
    pred, note = practitioner_prediction(make_problem(spec), fixed, entry)
    if layout_given(fixed):
        note = f"degrees given (cluster.parallelism); the entries not given: {note}"
    return Ideal(pred, gb, training.seq_len, note)


class CountCache:
    """Ideal steps by GPU count, filled on demand: an uncertain `cluster.count` is predicted per
    drawn count.

    A few distinct counts (`choice`, at most `EXACT_COUNTS`) are each predicted exactly. A
    continuous distribution draws counts no job would run as such (3,649 GPUs: no data-parallel
    degree divides a power-of-two batch), so GPU-seconds per token are predicted at the regular
    counts around the draws, whole nodes times powers of two, and interpolated in log-log between
    them; the draws at those counts equal the point estimates there. A count with no valid layout
    takes the per-GPU throughput of the nearest lower count that has one.
    """

    EXACT_COUNTS = 16

    def __init__(self, training: Training, cluster: Cluster, arch: Architecture, point: Ideal) -> None:
        self._args = (training, cluster, arch)
        self._gpn = cluster.gpus_per_node or get_accelerator(cluster.accelerator).gpus_per_node
        self._by_count: dict[int, Ideal | None] = {point.prediction.n_gpus: point}

    def _get(self, n: int) -> Ideal | None:
        if n not in self._by_count:
            try:
                self._by_count[n] = ideal_step(*self._args, n)
            except (InfeasibleLayoutError, ValueError):
                self._by_count[n] = None
        return self._by_count[n]

    def _feasible(self, n: int) -> Ideal:
        got = self._get(n)
        if got is not None:
            return got
        tries = [n // self._gpn * self._gpn] + [2**k for k in range(int(np.log2(max(n, 1))), -1, -1)]
        for m in tries:
            if 0 < m < n and (got := self._get(m)) is not None:
                return got
        raise ScenarioError(f"no valid layout for {n} GPUs or fewer", field="cluster.count")

    def regular_counts(self, low: int, high: int) -> list[int]:
        """Whole nodes x powers of two from the one at or below `low` to the one at or above `high`."""
        k_lo = int(np.floor(np.log2(max(low / self._gpn, 1))))
        k_hi = int(np.ceil(np.log2(max(high / self._gpn, 1))))
        grid = [self._gpn * 2**k for k in range(k_lo, k_hi + 1)]
        return [n for n in grid if self._get(n) is not None] or [self._feasible(low).prediction.n_gpus]

    def gpu_s_per_token(self, counts: Any) -> Any:
        """GPU-seconds per token at each count (array in, array out). [s]"""
        c = np.maximum(1, np.rint(np.asarray(counts, dtype=float))).astype(int)
        uniq = np.unique(c)
        if len(uniq) <= self.EXACT_COUNTS:
            vals = np.array([self._feasible(int(n)).gpu_s_per_token for n in uniq])
            return vals[np.searchsorted(uniq, c)]
        grid = np.array(self.regular_counts(int(uniq[0]), int(uniq[-1])))
        vals = np.array([self._feasible(int(n)).gpu_s_per_token for n in grid])
        return np.exp(np.interp(np.log(c), np.log(grid), np.log(vals)))

    def global_batch(self, counts: Any) -> Any:
        training = self._args[0]
        if training.global_batch is not None:
            return training.global_batch
        c = np.asarray(counts, dtype=float)
        return np.vectorize(lambda n: default_global_batch(training.seq_len, float(n)))(c)


@dataclass(frozen=True, kw_only=True)
class PerfResult(StageResult):
    """step_time_s : realized optimizer step (ideal / realized_efficiency). [s]
    mfu : realized model FLOPs utilisation (ideal x realized_efficiency), while training. [1]
    hfu : realized hardware FLOPs utilisation (with recomputation). [1]
    ideal_step_time_s, ideal_mfu : the step-time physics at the layout shown. [s], [1]
    realized_efficiency : realized / ideal throughput (point: the median of its distribution). [1]
    efficiency_interval : its calibrated 90% interval (p5, p95), for the chain to draw from; None
        when the scenario sets `cluster.realized_efficiency`. [1]
    stack : the software stack used.
    prediction : the step-time model's whole prediction at the point count (layout, breakdown, memory).
    global_batch : sequences per step used (given, or the cited default). [sequence]
    counts : ideal steps by GPU count, for Monte Carlo chunks with an uncertain count.
    """

    step_time_s: Any = quantity(
        "s", "ideal step time (step-time model at the layout shown) / realized_efficiency"
    )
    mfu: Any = quantity("1")
    hfu: Any = quantity("1", "predicted hardware FLOPs (with recomputation) / (step_time_s x count x peak)")
    ideal_step_time_s: Any = None
    ideal_mfu: Any = None
    realized_efficiency: Any = None
    efficiency_interval: tuple[float, float] | None = None
    stack: str = ""
    prediction: StepPrediction | None = None
    global_batch: Any = None
    counts: CountCache | None = None


def needed(training: Training, cluster: Cluster | None, arch: Architecture | None) -> bool:
    """The step-time model runs when the run has a shape and a size but no GPU-hours or MFU."""
    if cluster is None or arch is None or training.tokens is None or cluster.count is None:
        return False
    return cluster.gpu_hours is None and not training.stages and cluster.mfu is None


def _realized(known: PerfResult, training: Training, cluster: Cluster) -> PerfResult:
    """A Monte Carlo chunk: the point run's ideal step, per drawn count, times the drawn efficiency."""
    eta = known.realized_efficiency if cluster.realized_efficiency is None else cluster.realized_efficiency
    count: Any = cluster.count  # an array of draws when the count is uncertain
    assert known.prediction is not None and known.counts is not None
    if np.ndim(count) == 0 and int(round(float(count or 0))) == known.prediction.n_gpus:
        step, gb = known.ideal_step_time_s, known.global_batch
    else:
        gb = known.counts.global_batch(count)
        step = known.counts.gpu_s_per_token(count) * gb * training.seq_len / np.asarray(count, dtype=float)
    flop_per_step = known.prediction.model_flops_per_step / known.global_batch * gb
    peak = get_accelerator(cluster.accelerator).peak(cluster.mfu_basis)
    ideal_mfu = flop_per_step / (step * np.asarray(count, dtype=float) * peak)
    hfu_ratio = known.prediction.hfu / known.prediction.mfu
    return PerfResult(
        step_time_s=step / eta,
        mfu=ideal_mfu * eta,
        hfu=ideal_mfu * eta * hfu_ratio,
        ideal_step_time_s=step,
        ideal_mfu=ideal_mfu,
        realized_efficiency=eta,
        efficiency_interval=known.efficiency_interval,
        stack=known.stack,
        prediction=known.prediction,
        global_batch=gb,
        counts=known.counts,
        formulas=known.formulas,
    )


def stage(
    training: Training,
    cluster: Cluster | None,
    arch: Architecture | None,
    *,
    known: PerfResult | None = None,
    point: bool = True,
) -> PerfResult:
    """Predict the run's realized step. `known`: the point run's result, reused by Monte Carlo
    chunks (its `counts` cache predicts other GPU counts when the count is uncertain)."""
    if not needed(training, cluster, arch):
        return PerfResult()
    assert cluster is not None and arch is not None
    if known is not None and known.prediction is not None:
        return _realized(known, training, cluster)
    notes = Notes(point)
    entry, why = run_stack(training, cluster)
    notes.assume("software_stack", entry.name, "", why, "cluster.stack", entry.accessed)
    if training.global_batch is None:
        gb = default_global_batch(training.seq_len, float(cluster.count or 0))
        notes.assume("global_batch", gb, "sequences", DEFAULT_TOKENS_PER_STEP.source, "training.global_batch")
    try:
        ideal = ideal_step(training, cluster, arch, int(round(float(cluster.count or 0))))
    except ValueError as exc:
        raise ScenarioError(str(exc), field="cluster.parallelism") from None
    pred = ideal.prediction
    for a in pred.assumptions:
        if a["name"] != "software_stack":
            notes.assume(a["name"], a["value"], a.get("unit", ""), a.get("source", ""), a.get("field", ""))
    notes.assume("layout", _layout_text(pred.layout), "", ideal.layout_note, "cluster.parallelism")
    notes.assume("ideal_step_time_s", pred.step_time_s, "s", "step-time model (physics) at the layout shown")
    notes.assume("ideal_mfu", pred.mfu, "1", "step-time model (physics) at the layout shown")
    cal: Realized = realized_efficiency(layout_given(cluster.parallelism))
    if cluster.realized_efficiency is not None:
        eta = float(cluster.realized_efficiency)
        notes.assume("realized_efficiency", eta, "1", "scenario input", "cluster.realized_efficiency")
        interval = None
    else:
        eta = cal.value
        notes.assume("realized_efficiency", eta, "1", cal.source, "cluster.realized_efficiency")
        interval = (cal.p5, cal.p95)
        notes.assume(
            "mfu_90pct_interval",
            [pred.mfu * cal.p5, pred.mfu * cal.p95],
            "1",
            "ideal_mfu x the 90% interval of realized_efficiency (run with --samples for every result's interval)",
        )
    return PerfResult(
        step_time_s=pred.step_time_s / eta,
        mfu=pred.mfu * eta,
        hfu=pred.hfu * eta,
        ideal_step_time_s=pred.step_time_s,
        ideal_mfu=pred.mfu,
        realized_efficiency=eta,
        efficiency_interval=interval,
        stack=entry.name,
        prediction=pred,
        global_batch=ideal.global_batch,
        counts=CountCache(training, cluster, arch, ideal),
        formulas={
            "mfu": f"predicted: ideal MFU (model FLOPs per step / (ideal step x count x dense {cluster.mfu_basis} "
            "peak)) x realized_efficiency"
        },
        assumptions=notes.assumptions,
        warnings=notes.warnings,
    )


def _layout_text(p: Layout) -> str:
    v = f"/v{p.virtual_stages}" if p.schedule == "interleaved" else ""
    return (
        f"tp {p.tp}, pp {p.pp}, dp {p.dp}, ep {p.ep}, cp {p.cp}, micro-batch {p.micro_batch}, "
        f"{p.recompute} recompute, {p.schedule}{v}, ZeRO {p.zero}"
    )
