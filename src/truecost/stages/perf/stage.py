"""The `perf` stage: the step time and MFU the step-time model predicts for the run, when the
scenario gives neither GPU-hours nor an MFU. Runs once, at the point values; Monte Carlo chunks
reuse the point prediction (the architecture, layout and cluster are not uncertain)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ...architecture import Architecture
from ...catalog import get_accelerator
from ...defaults import Cited
from ...errors import ScenarioError
from ...scenario.cluster import Cluster
from ...scenario.training import Training
from ..base import Notes, StageResult, quantity
from .layout import StepPrediction
from .spec import StepSpec
from .step import predict_step

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
    """What the step-time model (`predict_step`, `search_layouts`) takes from a scenario.
    The 6ND convention has no attention term to time, so the model counts Megatron FLOPs then."""
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
    )


@dataclass(frozen=True, kw_only=True)
class PerfResult(StageResult):
    """step_time_s : predicted optimizer step. [s]
    mfu : predicted model FLOPs utilisation. [1]
    hfu : predicted hardware FLOPs utilisation (with recomputation). [1]
    prediction : the step-time model's whole prediction (layout, breakdown, memory).
    global_batch : sequences per step used (given, or the cited default). [sequence]
    """

    step_time_s: Any = quantity("s", "step-time model (truecost.stages.perf) at the layout shown")
    mfu: Any = quantity("1")
    hfu: Any = quantity("1", "predicted hardware FLOPs (with recomputation) / (step_time_s x count x peak)")
    prediction: StepPrediction | None = None
    global_batch: int | None = None


def needed(training: Training, cluster: Cluster | None, arch: Architecture | None) -> bool:
    """The step-time model runs when the run has a shape and a size but no GPU-hours or MFU."""
    if cluster is None or arch is None or training.tokens is None or cluster.count is None:
        return False
    return cluster.gpu_hours is None and not training.stages and cluster.mfu is None


def stage(
    training: Training,
    cluster: Cluster | None,
    arch: Architecture | None,
    *,
    known: PerfResult | None = None,
    point: bool = True,
) -> PerfResult:
    """Predict the run's step. `known`: the point run's result, reused by Monte Carlo chunks."""
    if not needed(training, cluster, arch):
        return PerfResult()
    if known is not None:
        return known
    assert cluster is not None and arch is not None
    notes = Notes(point)
    gb = training.global_batch
    if gb is None:
        gb = default_global_batch(training.seq_len, float(cluster.count or 0))
        notes.assume("global_batch", gb, "sequences", DEFAULT_TOKENS_PER_STEP.source, "training.global_batch")
    try:
        pred = predict_step(step_spec(training, cluster, arch, gb), cluster.parallelism)
    except ValueError as exc:
        raise ScenarioError(str(exc), field="cluster.parallelism") from None
    for a in pred.assumptions:
        notes.assume(a["name"], a["value"], a.get("unit", ""), a.get("source", ""), a.get("field", ""))
    return PerfResult(
        step_time_s=pred.step_time_s,
        mfu=pred.mfu,
        hfu=pred.hfu,
        prediction=pred,
        global_batch=gb,
        formulas={
            "mfu": f"predicted: model FLOPs per step / (step_time_s x count x dense {cluster.mfu_basis} peak)"
        },
        assumptions=notes.assumptions,
        warnings=notes.warnings,
    )
