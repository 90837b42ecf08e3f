"""`cluster:` accelerator, count, MFU or GPU-hours, parallel layout and network of the run."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt, model_validator

from .base import AcceleratorId, Fraction, Frozen, PosFloat, StackName
from .training import Precision

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


class Cluster(Frozen):
    accelerator: AcceleratorId
    count: PosFloat | None = Field(None, description="accelerators used by the run")
    gpus_per_node: Annotated[int, Field(gt=0)] | None = None
    mfu: Fraction | None = None
    mfu_basis: Precision = "bf16"
    gpu_hours: PosFloat | None = None
    goodput: Fraction | None = Field(
        None, description="productive share of wall-clock time (checkpoints, restarts, evaluation)"
    )
    stack: StackName | None = Field(
        None,
        description="software stack (catalog software_stacks.csv); default from training.start_date and the accelerator",
    )
    realized_efficiency: Annotated[float, Field(gt=0, le=1.5, allow_inf_nan=False)] | None = Field(
        None,
        description="realized / ideal step throughput; default calibrated on published runs (with its interval)",
    )
    parallelism: Parallelism = Parallelism()
    network: Network = Network()
