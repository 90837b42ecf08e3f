"""`cluster:` accelerator, count, MFU or GPU-hours, parallel layout and network of the run."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .base import AcceleratorId, Frozen, Range, StackName
from .training import GPU_HOURS, Precision

# Bounds. The largest training clusters hold ~1e5 accelerators (xAI Colossus, 2024: 100k-200k
# H100); 1e7 is refused because the layout search enumerates divisors of the count (a
# square-root loop) and nothing physical comes near it. Scale-up domains: 8 (DGX) to 72 (NVL72)
# and 576 (NVL576, announced).
GPU_COUNT = Range(1, 1e7, "accelerators", plausible=(1, 1e6), whole=True)
GPUS_PER_NODE = Range(1, 1024, "accelerators", plausible=(1, 576), whole=True)
# MFU: published runs report 0.2-0.6 (PaLM 0.46, Llama 3 0.38-0.43, DeepSeek-V3 ~0.39 of FP8
# peak is ~0.2 of it); below 0.1% a run is not training. Above 0.75 no published run.
MFU = Range(1e-3, 1, plausible=(0.05, 0.75))
GOODPUT = Range(0.01, 1, plausible=(0.5, 1))
DEGREE = Range(1, 1e7, whole=True)
MICRO_BATCH = Range(1, 2**27, "sequences", whole=True)
VIRTUAL_STAGES = Range(1, 1024, whole=True)
INTRA_GB_PER_S = Range(0, 1e5, "GB/s", plausible=(10, 1e4), lo_open=True)
INTER_GBIT_PER_S = Range(0, 1e6, "Gbit/s", plausible=(10, 1e5), lo_open=True)

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

    tp: Annotated[int, DEGREE] | None = Field(default=None, description="tensor-parallel degree")
    pp: Annotated[int, DEGREE] | None = Field(default=None, description="pipeline-parallel degree")
    dp: Annotated[int, DEGREE] | None = Field(default=None, description="data-parallel degree")
    ep: Annotated[int, DEGREE] | None = Field(
        default=None, description="expert-parallel degree (MoE); divides dp * cp"
    )
    cp: Annotated[int, DEGREE] | None = Field(default=None, description="context-parallel degree")
    micro_batch: Annotated[int, MICRO_BATCH] | None = Field(
        default=None, description="sequences per micro-batch"
    )
    recompute: Literal["none", "selective", "full"] | None = Field(
        default=None, description="activation recomputation"
    )
    schedule: Literal["1f1b", "interleaved", "dualpipe"] | None = Field(
        default=None, description="pipeline schedule"
    )
    virtual_stages: Annotated[int, VIRTUAL_STAGES] | None = Field(
        default=None, description="model chunks per GPU (interleaved)"
    )
    zero: Annotated[int, Range(0, 3, whole=True)] | None = Field(default=None, description="ZeRO stage 0-3")

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

    intra_node_gb_per_s: Annotated[float, INTRA_GB_PER_S] | None = Field(
        default=None, description="NVLink-class GB/s per GPU, as published"
    )
    inter_node_gbit_per_s: Annotated[float, INTER_GBIT_PER_S] | None = Field(
        default=None, description="NIC Gbit/s per node, all NICs"
    )


class Cluster(Frozen):
    accelerator: AcceleratorId
    count: Annotated[float, GPU_COUNT] | None = Field(None, description="accelerators used by the run")
    gpus_per_node: Annotated[int, GPUS_PER_NODE] | None = None
    mfu: Annotated[float, MFU] | None = None
    mfu_basis: Precision = Field(
        "bf16",
        description="precision of the dense peak MFU is measured against; default bf16, or the "
        "accelerator's 16-bit peak where it has no bf16 figure (V100: fp16)",
    )
    gpu_hours: Annotated[float, GPU_HOURS] | None = None
    goodput: Annotated[float, GOODPUT] | None = Field(
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

    @model_validator(mode="before")
    @classmethod
    def _default_mfu_basis(cls, data: Any) -> Any:
        """bf16 unless the accelerator publishes no bf16 peak (V100: fp16 only): then its 16-bit,
        or else its only, dense peak. Without this a V100 run with no `mfu_basis` failed late."""
        if not isinstance(data, Mapping) or data.get("mfu_basis") is not None:
            return data
        from ..catalog import accelerators

        acc_id = data.get("accelerator")
        acc = accelerators().get(acc_id) if isinstance(acc_id, str) else None
        peaks = getattr(acc, "peak_flop_per_s", None) or {}
        if peaks and "bf16" not in peaks:
            return {**data, "mfu_basis": "fp16" if "fp16" in peaks else sorted(peaks)[0]}
        return data
