"""Parallel layouts, network inputs and the step-time result.

`Parallelism` and `Network` mirror the scenario keys `cluster.parallelism` and `cluster.network`
(DESIGN.md). Every field is optional: `None` means "choose by search" (parallelism) or "take the
catalog / typical-node default" (network).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from ...scenario.cluster import Parallelism
from ...units import SECONDS_PER_HOUR


class InfeasibleLayoutError(ValueError):
    """No layout satisfies the constraints; the message says which constraint fails and by how much."""


@dataclass(frozen=True)
class StepPrediction:
    """Predicted optimizer step of one layout.

    layout : the complete parallel layout.
    n_gpus : GPUs the layout uses. [1]
    step_time_s : wall time of one optimizer step. [s]
    mfu : model FLOPs (stated convention) / (GPU-seconds x dense peak at `mfu_basis`). [1]
    hfu : hardware FLOPs actually executed (recomputation, full attention matrices when the
        kernel computes them) / the same peak. [1]
    tokens_per_s_per_gpu : training tokens per second per GPU. [token/s]
    breakdown_s : where the step goes (compute, exposed communication by kind, bubble,
        optimizer, overhead); sums to `step_time_s`. [s]
    memory_byte : per-GPU memory of the most loaded stage (weights, grads, optimizer,
        activations, total). [byte]
    fits : total memory within usable HBM.
    assumptions : name, value, unit, source of every default the prediction used.
    """

    layout: Parallelism  # complete
    n_gpus: int
    step_time_s: float
    mfu: float
    hfu: float
    tokens_per_s_per_gpu: float
    breakdown_s: dict[str, float]
    memory_byte: dict[str, float]
    fits: bool
    flop_convention: str = "megatron"
    mfu_basis: str = "bf16"
    model_flops_per_step: float = 0.0
    assumptions: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def gpu_hours(self, tokens: float, global_batch: float, seq_len: float, goodput: float = 1.0) -> float:
        """GPU-hours to train on `tokens` at this step time (see module `gpu_hours`). [h]"""
        return gpu_hours(tokens, global_batch, seq_len, self.step_time_s, self.n_gpus, goodput)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["layout"] = self.layout.model_dump()
        return d


def gpu_hours(
    tokens: float,
    global_batch: float,
    seq_len: float,
    step_time_s: float,
    n_gpus: float,
    goodput: float = 1.0,
) -> float:
    """GPU time of a run from its step time. [h]

    tokens / (global_batch x seq_len) steps, each `step_time_s` on `n_gpus`, divided by the
    goodput (productive fraction of wall time; see `goodput_default`).

    >>> gpu_hours(4096 * 1000, 1000, 4096, 3.6, 1000)
    1.0
    """
    if not 0 < goodput <= 1:
        raise ValueError(f"goodput must be in (0, 1], got {goodput}")
    steps = tokens / (global_batch * seq_len)
    return steps * step_time_s * n_gpus / SECONDS_PER_HOUR / goodput


def divisors(n: int) -> list[int]:
    """Positive divisors of n, ascending."""
    small = [d for d in range(1, math.isqrt(n) + 1) if n % d == 0]
    return sorted(set(small + [n // d for d in small]))
