"""What the step-time model is asked: one model on one cluster at one batch (`StepSpec`).

Everything that stays fixed while the parallel layout varies. `predict_step(spec, parallelism)`
and `search_layouts(spec, ...)` take it; `truecost.stages.run.step_spec` builds it from a scenario.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ...architecture import Architecture
from ...catalog.schema import Accelerator
from ...scenario.cluster import Network
from ..flops import FLOP_CONVENTIONS
from .params import DEFAULT_STACK, PerfParams, get_stack

PRECISIONS = ("bf16", "fp16", "fp8", "tf32", "fp32")


@dataclass(frozen=True)
class StepSpec:
    """A training step to predict, apart from its parallel layout.

    arch : the model (`truecost.architecture.Architecture`).
    accelerator : catalog row (`truecost.catalog.get_accelerator`).
    n_gpus : GPUs in the job. [1]
    seq_len : tokens per sequence. [token]
    global_batch : sequences per optimizer step. [sequence]
    precision : GEMM precision (bf16 | fp16 | fp8 | tf32 | fp32).
    network : interconnect; missing entries from the catalog / a typical node (see assumptions).
    gpus_per_node : GPUs per node (None: the catalog row's). [1]
    flop_convention : how model FLOPs are counted for MFU (`truecost.stages.flops`).
    mfu_basis : the precision whose dense peak MFU is counted against.
    stack : software stack (`params.STACKS`): what the framework overlaps and fuses.
    perf_params : efficiency parameters (None: the calibrated ones for the accelerator).

    Raises ValueError naming the argument that is out of range or unknown.

    >>> from truecost.catalog import get_accelerator, get_model
    >>> StepSpec(get_model("llama-3.1-405b").arch, get_accelerator("h100-sxm"), 16384, 8192, 0)
    Traceback (most recent call last):
    ...
    ValueError: global_batch must be a positive integer, got 0
    """

    arch: Architecture
    accelerator: Accelerator
    n_gpus: int
    seq_len: int
    global_batch: int
    precision: str = "bf16"
    network: Network = field(default_factory=Network)
    gpus_per_node: int | None = None
    flop_convention: str = "megatron"
    mfu_basis: str = "bf16"
    stack: str = DEFAULT_STACK
    perf_params: PerfParams | None = None

    def __post_init__(self) -> None:
        for name in ("n_gpus", "seq_len", "global_batch"):
            value = getattr(self, name)
            if int(value) != value or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
            object.__setattr__(self, name, int(value))
        if self.precision not in PRECISIONS:
            raise ValueError(
                f"precision {self.precision!r} is unknown; expected one of {', '.join(PRECISIONS)}"
            )
        if self.flop_convention not in FLOP_CONVENTIONS:
            raise ValueError(
                f"flop_convention {self.flop_convention!r} is unknown; expected one of "
                f"{', '.join(FLOP_CONVENTIONS)}"
            )
        self.accelerator.peak(self.mfu_basis)  # raises, naming the available precisions
        get_stack(self.stack)  # raises, naming the known stacks
        if self.network is None:
            object.__setattr__(self, "network", Network())
