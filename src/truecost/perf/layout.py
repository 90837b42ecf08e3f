"""Parallel layouts, network inputs and the step-time result.

`Parallelism` and `Network` mirror the scenario keys `cluster.parallelism` and `cluster.network`
(DESIGN.md). Every field is optional: `None` means "choose by search" (parallelism) or "take the
catalog / typical-node default" (network).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt, model_validator

from ..units import SECONDS_PER_HOUR

# Registries: code used inside the vectorised evaluation <- scenario name. Order is the code.
RECOMPUTE_MODES: tuple[str, ...] = ("none", "selective", "full")
SCHEDULES: tuple[str, ...] = ("1f1b", "interleaved", "dualpipe")
LAYOUT_KEYS: tuple[str, ...] = (
    "tp",
    "pp",
    "dp",
    "ep",
    "cp",
    "micro_batch",
    "recompute",
    "schedule",
    "virtual_stages",
    "zero",
)


class InfeasibleLayoutError(ValueError):
    """No layout satisfies the constraints; the message says which constraint fails and by how much."""


class Parallelism(BaseModel):
    """A (possibly partial) parallel layout; `None` entries are chosen by `search_layouts`.

    tp, pp, dp, ep, cp : tensor, pipeline, data, expert and context parallel degrees. GPUs are
        tp * cp * pp * dp; expert parallelism is carved out of dp * cp (Megatron-Core), so ep
        divides dp * cp.
    micro_batch : sequences per micro-batch. [sequence]
    recompute : activation recomputation, none | selective (attention core; Korthikanti et al.
        2022) | full (every layer's forward is re-run in the backward pass).
    schedule : 1f1b (Narayanan et al. 2021), interleaved (same, with `virtual_stages` model
        chunks per GPU) or dualpipe (DeepSeek-V3 report sec. 3.2.1).
    virtual_stages : model chunks per GPU for the interleaved schedule (1 otherwise).
    zero : ZeRO stage 0-3 (Rajbhandari et al. 2020): 1 shards optimizer states over data
        parallel ranks, 2 also gradients, 3 also weights.

    >>> Parallelism(tp=8, pp=16).is_complete()
    False
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    tp: PositiveInt | None = Field(default=None, description="tensor-parallel degree")
    pp: PositiveInt | None = Field(default=None, description="pipeline-parallel degree")
    dp: PositiveInt | None = Field(default=None, description="data-parallel degree")
    ep: PositiveInt | None = Field(default=None, description="expert-parallel degree (MoE); divides dp * cp")
    cp: PositiveInt | None = Field(default=None, description="context-parallel degree")
    micro_batch: PositiveInt | None = Field(default=None, description="sequences per micro-batch")
    recompute: Literal["none", "selective", "full"] | None = Field(
        default=None, description="activation recomputation"
    )
    schedule: Literal["1f1b", "interleaved", "dualpipe"] | None = Field(
        default=None, description="pipeline schedule"
    )
    virtual_stages: PositiveInt | None = Field(default=None, description="model chunks per GPU (interleaved)")
    zero: int | None = Field(default=None, ge=0, le=3, description="ZeRO stage 0-3")

    @model_validator(mode="after")
    def _consistent(self) -> Parallelism:
        if self.schedule in ("1f1b", "dualpipe") and self.virtual_stages not in (None, 1):
            raise ValueError(
                f"parallelism.virtual_stages ({self.virtual_stages}) needs schedule 'interleaved', "
                f"not {self.schedule!r}"
            )
        if self.schedule == "dualpipe" and self.pp is not None and self.pp % 2:
            raise ValueError(f"parallelism.pp ({self.pp}) must be even for the dualpipe schedule")
        return self

    def is_complete(self) -> bool:
        return all(getattr(self, k) is not None for k in LAYOUT_KEYS)

    def missing(self) -> list[str]:
        return [k for k in LAYOUT_KEYS if getattr(self, k) is None]

    @property
    def n_gpus(self) -> int | None:
        if None in (self.tp, self.pp, self.dp, self.cp):
            return None
        return int(self.tp * self.pp * self.dp * self.cp)  # type: ignore[operator]


class Network(BaseModel):
    """Interconnect bandwidths, as published.

    intra_node_gb_per_s : scale-up (NVLink-class) bandwidth per GPU, the vendor's figure (the
        sum of both directions for NVLink: A100 600, H100 900, H800 400). [GB/s]
    inter_node_gbit_per_s : scale-out NIC line rate per node, all NICs together (DGX A100:
        8 x 200 Gbit/s HDR = 1600; DGX H100: 8 x 400 Gbit/s NDR = 3200). [Gbit/s]
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    intra_node_gb_per_s: PositiveFloat | None = Field(
        default=None, description="NVLink-class GB/s per GPU, as published"
    )
    inter_node_gbit_per_s: PositiveFloat | None = Field(
        default=None, description="NIC Gbit/s per node, all NICs"
    )


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
