"""A complete parallel layout and the step-time result.

The scenario's `Parallelism` (`truecost.scenario.cluster`) is a partial layout: `None` means
"choose by search". `Layout` is what the search returns and the model evaluates: every entry set.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from ...scenario.cluster import LAYOUT_KEYS, Parallelism


class InfeasibleLayoutError(ValueError):
    """No layout satisfies the constraints; the message says which constraint fails and by how much."""


@dataclass(frozen=True)
class Layout:
    """A complete parallel layout (the fields and their meaning are `Parallelism`'s, all set).

    tp, pp, dp, ep, cp : tensor, pipeline, data, expert and context parallel degrees. [1]
    micro_batch : sequences per micro-batch. [sequence]
    recompute : none | selective | full.   schedule : 1f1b | interleaved | dualpipe.
    virtual_stages : model chunks per GPU (interleaved; 1 otherwise). [1]
    zero : ZeRO stage 0-3.

    >>> Layout.from_parallelism(Parallelism(tp=8, pp=16, dp=128, ep=1, cp=1, micro_batch=1,
    ...     recompute="none", schedule="1f1b", virtual_stages=1, zero=1)).n_gpus
    16384
    """

    tp: int
    pp: int
    dp: int
    ep: int
    cp: int
    micro_batch: int
    recompute: str
    schedule: str
    virtual_stages: int
    zero: int

    @classmethod
    def from_parallelism(cls, p: Parallelism) -> Layout:
        """The complete layout `p`; raises ValueError naming the entries `p` leaves open."""
        missing = p.missing()
        if missing:
            raise ValueError(f"parallelism is not complete: {', '.join(missing)} not set")
        return cls(**p.model_dump())

    @property
    def n_gpus(self) -> int:
        """GPUs the layout uses: tp x cp x pp x dp (experts are carved out of dp x cp). [1]"""
        return self.tp * self.pp * self.dp * self.cp

    def __str__(self) -> str:
        return ", ".join(f"{k}={getattr(self, k)}" for k in LAYOUT_KEYS)


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

    layout: Layout
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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def divisors(n: int) -> list[int]:
    """Positive divisors of n, ascending."""
    small = [d for d in range(1, math.isqrt(n) + 1) if n % d == 0]
    return sorted(set(small + [n // d for d in small]))
