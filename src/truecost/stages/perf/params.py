"""Efficiency parameters per accelerator, software stacks, and the goodput default.

A handful of physical parameters per accelerator turn FLOP and byte counts into seconds:

- cited, not fitted: the achievable fraction of peak of a large GEMM, per accelerator and
  precision (measured maximum-achievable-matmul figures), and the collective bus-bandwidth
  efficiency (NCCL). The vTrain data cannot pin them down (its fit is as good anywhere from 0.8
  to 1.0), so they come from measurements made for that purpose;
- fitted (`python -m truecost.stages.perf.calibrate --write`, read from
  `catalog/data/perf_calibration.csv`): the sustained fraction of those GEMM figures reached in
  training steps, on half of Narayanan et al. 2021 Table 1 (multi-node); the GEMM saturation
  size, memory-bound efficiency, the per-layer host overhead, the collective latency and the
  per-step overhead, on the seeded 'fit' half of the vTrain A100 measurements;
- derived: accelerators nobody measured here (no GPU was available) keep the A100 fit and scale
  the saturation size with their 16-bit peak (`params_for`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from ...catalog.fitted import perf_parameter
from ...catalog.perf_tables import GemmEfficiency, gemm_efficiency
from ...catalog.schema import Accelerator

PARAM_NAMES = (
    "gemm_efficiency",
    "fp8_gemm_efficiency",
    "gemm_saturation_output",
    "memory_efficiency",
    "layer_overhead_s",
    "comm_efficiency",
    "comm_latency_s",
    "step_overhead_s",
)
# Fitted on vTrain (`truecost.stages.perf.calibrate`); the other fitted value is the sustained fraction.
FITTED_NAMES = (
    "gemm_saturation_output",
    "memory_efficiency",
    "layer_overhead_s",
    "comm_latency_s",
    "step_overhead_s",
)
PARAM_UNITS = MappingProxyType(
    {
        "gemm_saturation_output": "element",
        "layer_overhead_s": "s",
        "comm_latency_s": "s",
        "step_overhead_s": "s",
    }
)


@dataclass(frozen=True)
class PerfParams:
    """Achievable efficiency of one accelerator.

    gemm_efficiency : fraction of the dense 16-bit peak a large GEMM reaches. [1]
    fp8_gemm_efficiency : the same for FP8 GEMMs against the FP8 peak (None: as 16-bit). [1]
    gemm_saturation_output : output elements (count x m x n) at which a GEMM reaches half of
        its large-matrix efficiency at the 16-bit peak (tile and wave quantisation). [element]
    memory_efficiency : fraction of HBM bandwidth memory-bound kernels reach. [1]
    layer_overhead_s : host time to launch one transformer layer's forward pass; a pass takes
        at least this long (backward: twice), however small the matrices. [s]
    comm_efficiency : achieved collective bus bandwidth / link bandwidth (NCCL). [1]
    comm_latency_s : latency of one collective step (alpha of the alpha-beta model). [s]
    step_overhead_s : fixed time per optimizer step (grad-norm, loss-scale check, optimizer
        launches, logging). [s]
    sources : where each value comes from, by parameter name.
    """

    gemm_efficiency: float
    gemm_saturation_output: float
    memory_efficiency: float
    layer_overhead_s: float
    comm_efficiency: float
    comm_latency_s: float
    step_overhead_s: float
    fp8_gemm_efficiency: float | None = None
    sources: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("gemm_efficiency", "memory_efficiency", "comm_efficiency"):
            v = getattr(self, name)
            if not 0 < v <= 1:
                raise ValueError(f"{name} must be in (0, 1], got {v}")
        if self.fp8_gemm_efficiency is not None and not 0 < self.fp8_gemm_efficiency <= 1:
            raise ValueError(f"fp8_gemm_efficiency must be in (0, 1], got {self.fp8_gemm_efficiency}")
        for name in ("gemm_saturation_output", "layer_overhead_s", "comm_latency_s", "step_overhead_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")

    def gemm_efficiency_at(self, precision: str) -> float:
        """Large-GEMM fraction of the dense peak at `precision`. [1]"""
        if precision == "fp8" and self.fp8_gemm_efficiency is not None:
            return self.fp8_gemm_efficiency
        return self.gemm_efficiency

    def source_of(self, name: str) -> str:
        return self.sources.get(name, "")


# ---- cited efficiencies -----------------------------------------------------------------------
# The large-GEMM fraction of peak per accelerator and precision (maximum achievable matmul
# figures: BF16 from S. Bekman's MAMF table, FP8 from DeepGEMM) is the catalog table
# `truecost/catalog/data/gemm_efficiency.csv` (`truecost.catalog.perf_tables`).
# NCCL all-reduce bus bandwidth on an 8 x A100 NVSwitch node, about 230-240 GB/s of the 300 GB/s
# per direction (nccl-tests all_reduce_perf figures NVIDIA publishes for DGX A100).
COMM_EFFICIENCY = 0.78
COMM_EFFICIENCY_SOURCE = (
    "NCCL all-reduce bus bandwidth ~235 of 300 GB/s per direction on DGX A100 (nccl-tests)"
)

# ---- fitted on multi-node runs ------------------------------------------------------------------
# The cited MAMF figures are the best GEMM over a sweep of shapes, run for seconds on one GPU. The
# GEMMs of a training step run at a fraction of that: model shapes are not the sweep's best, and
# under hours of load on every GPU of a node clocks settle below boost. One fraction for every
# accelerator and precision, fitted by `truecost.stages.perf.calibrate` on the five 'fit' rows of
# Narayanan et al. 2021 Table 1 (rows 1, 3, 5, 7, 9: 1.7B on 32 GPUs to 530B on 2,520), each time
# refitting the vTrain parameters below, and written with them to catalog/data/perf_calibration.csv;
# rows 2, 4, 6, 8, 10 of Table 1, DeepSeek-V3 and Llama 3 are held out. vTrain cannot pin it down (one node, small GEMMs: the saturation size absorbs it).
SUSTAINED_MAMF_FRACTION = perf_parameter("sustained_mamf_fraction").value
SUSTAINED_MAMF_SOURCE = perf_parameter("sustained_mamf_fraction").source

# ---- fitted on vTrain -------------------------------------------------------------------------
# Written by `python -m truecost.stages.perf.calibrate --write` (see bench/calibrate_perf.py) to
# catalog/data/perf_calibration.csv, with the data beside each value, the fit date and the held-out
# errors: least squares on log step time over the seeded 'fit' half of the vTrain single-node set
# (Bang et al., MICRO 2024; 720 of 1,440 rows, stratified by GPU count), A100, with the cited values
# and the sustained fraction above held fixed (refit at each fraction tried). The other 720 rows,
# rows 2, 4, 6, 8, 10 of Narayanan et al. 2021 Table 1, DeepSeek-V3 and Llama 3 were never used in a fit.
FITTED_A100: dict[str, float] = {name: perf_parameter(name).value for name in FITTED_NAMES}
CALIBRATION_SOURCE = perf_parameter(FITTED_NAMES[0]).source

REFERENCE_ACCELERATOR = "a100-sxm4-80gb"
_REFERENCE_PEAK_FLOP_PER_S = 312e12  # A100 dense BF16 (NVIDIA A100 datasheet)


def reference_gemm_efficiency() -> GemmEfficiency:
    """The reference accelerator's (A100) cited BF16 large-GEMM fraction of peak."""
    row = gemm_efficiency(REFERENCE_ACCELERATOR, "bf16")
    if row is None:
        raise LookupError(f"catalog gemm_efficiency.csv has no bf16 row for {REFERENCE_ACCELERATOR}")
    return row


def calibrated_a100(fitted: Mapping[str, float] | None = None) -> PerfParams:
    """The A100 parameters: cited efficiencies plus the fitted values (default: the table)."""
    fitted = dict(FITTED_A100 if fitted is None else fitted)
    sources = {name: CALIBRATION_SOURCE for name in fitted}
    mamf = reference_gemm_efficiency()
    sources["gemm_efficiency"] = f"{mamf.source} x {SUSTAINED_MAMF_FRACTION} ({SUSTAINED_MAMF_SOURCE})"
    sources["comm_efficiency"] = COMM_EFFICIENCY_SOURCE
    return PerfParams(
        gemm_efficiency=mamf.fraction * SUSTAINED_MAMF_FRACTION,
        comm_efficiency=COMM_EFFICIENCY,
        sources=sources,
        **fitted,
    )


A100_FIT = calibrated_a100()


def peak_16bit(accelerator: Accelerator) -> float:
    """Dense BF16 (else FP16) peak. [FLOP/s]"""
    return accelerator.peak("bf16" if "bf16" in accelerator.peak_flop_per_s else "fp16")


def params_for(accelerator: Accelerator, base: PerfParams | None = None) -> PerfParams:
    """Efficiency parameters for an accelerator.

    The fitted values come from the A100 (`base`, default the shipped fit). Another accelerator
    takes its cited GEMM efficiencies where they exist (else the A100's fraction of peak, a
    stated assumption), keeps the fitted memory efficiency, host overheads and latencies, and
    scales the GEMM saturation size with its 16-bit peak: by Little's law the output work a GPU
    needs in flight to stay busy grows with its throughput. FP8 GEMMs scale it again with the
    FP8 / 16-bit peak ratio (`layers.Hardware`).
    """
    base = base or A100_FIT
    ratio = peak_16bit(accelerator) / _REFERENCE_PEAK_FLOP_PER_S
    sources = dict(base.sources)
    derived = f"derived for {accelerator.id} from the A100 fit (no {accelerator.id} was available to measure)"
    if accelerator.id != REFERENCE_ACCELERATOR:
        for name in ("memory_efficiency", "layer_overhead_s", "comm_latency_s", "step_overhead_s"):
            sources[name] = f"{derived}: kept as fitted ({base.source_of(name)})"
        sources["gemm_saturation_output"] = f"{derived}: A100 value x 16-bit peak ratio {ratio:.2f}"
    f = SUSTAINED_MAMF_FRACTION
    mamf = gemm_efficiency(accelerator.id, "bf16")
    if mamf is not None:
        eff, eff_src = mamf.fraction * f, f"{mamf.source} x {f} ({SUSTAINED_MAMF_SOURCE})"
    else:
        eff, eff_src = base.gemm_efficiency, f"{derived}: A100 fraction of peak kept"
    fp8: float | None = None
    fp8_src = "same fraction of the FP8 peak as of the 16-bit peak"
    mamf8 = gemm_efficiency(accelerator.id, "fp8")
    if mamf8 is not None:
        fp8, fp8_src = mamf8.fraction * f, f"{mamf8.source} x {f} ({SUSTAINED_MAMF_SOURCE})"
    sources["gemm_efficiency"] = eff_src
    sources["fp8_gemm_efficiency"] = fp8_src
    return replace(
        base,
        gemm_efficiency=eff,
        fp8_gemm_efficiency=fp8,
        gemm_saturation_output=base.gemm_saturation_output * ratio,
        sources=sources,
    )


# ---- software stacks --------------------------------------------------------------------------
@dataclass(frozen=True)
class SoftwareStack:
    """What the training framework does, where it changes time or memory.

    flash_attention : attention core as one fused kernel that skips fully masked (causal) blocks
        and keeps no s x s matrix in HBM (Dao et al. 2022); otherwise Megatron's unfused
        QK^T -> scale-mask-softmax -> dropout -> x V, computing the full matrix.
    sequence_parallel : norms and dropout split over tensor-parallel ranks (Korthikanti et al.
        2022); otherwise each tensor-parallel rank repeats them.
    dropout : hidden and attention dropout (GPT-2 style, p = 0.1): masks stored and applied.
    overlap_grad_reduce : data-parallel gradient reduction overlaps the last backward pass and
        the parameter all-gather the next forward pass.
    overlap_p2p : pipeline sends/receives overlap compute except in fill and drain.
    overlap_tp_backward : the backward pass's tensor-parallel collectives run while the
        weight-gradient GEMMs compute (Megatron-LM async tensor-parallel all-reduce, 2022+).
    balanced_stages : pipeline stages are balanced including the embedding, output head and
        MTP modules; otherwise layers are split evenly and the head adds to the last stage.
    dedup_dispatch : the expert all-to-all sends a token once per destination node and forwards
        it inside the node (DeepEP; DeepSeek-V3 report sec. 3.2.2).
    grad_reduce_byte : bytes per gradient element on the wire. [byte]
    """

    name: str
    flash_attention: bool
    sequence_parallel: bool
    dropout: bool
    overlap_grad_reduce: bool
    overlap_p2p: bool
    overlap_tp_backward: bool
    balanced_stages: bool
    dedup_dispatch: bool
    grad_reduce_byte: float
    source: str


STACKS: dict[str, SoftwareStack] = {
    "megatron-core": SoftwareStack(
        name="megatron-core",
        flash_attention=True,
        sequence_parallel=True,
        dropout=False,
        overlap_grad_reduce=True,
        overlap_p2p=True,
        overlap_tp_backward=True,
        balanced_stages=True,
        dedup_dispatch=True,
        grad_reduce_byte=4.0,
        source=(
            "Megatron-Core / Transformer Engine defaults for BF16 LLM pre-training (2023+): flash "
            "attention, sequence parallelism, --overlap-grad-reduce/--overlap-param-gather; BF16 "
            "forces FP32 gradient accumulation and reduction (megatron/training/arguments.py); Llama 3 "
            "paper sec. 3.3.2 reduce-scatters gradients in FP32; no dropout in pre-training"
        ),
    ),
    "megatron-2021": SoftwareStack(
        name="megatron-2021",
        flash_attention=False,
        sequence_parallel=False,
        dropout=True,
        overlap_grad_reduce=False,
        overlap_p2p=False,
        overlap_tp_backward=False,
        balanced_stages=False,
        dedup_dispatch=False,
        grad_reduce_byte=2.0,
        source=(
            "Megatron-LM as in Narayanan et al. 2021 and Megatron-DeepSpeed (vTrain): unfused attention "
            "with the fused scale-mask-softmax kernel, no sequence parallelism (added by Korthikanti et "
            "al. 2022), GPT-2 dropout 0.1, FP16 gradients all-reduced after the backward pass, blocking "
            "pipeline sends"
        ),
    ),
}
DEFAULT_STACK = "megatron-core"


def get_stack(name: str) -> SoftwareStack:
    try:
        return STACKS[name]
    except KeyError:
        raise ValueError(f"stack {name!r} is unknown; expected one of {', '.join(STACKS)}") from None


# ---- other cited defaults ---------------------------------------------------------------------
# Non-productive time (checkpointing, restarts after failures, evaluation): Llama 3 paper
# (arXiv:2407.21783 sec. 3.3.4): "During a 54-day snapshot period of pre-training, we experienced
# a total of 466 job interruptions ... achieved higher than 90% effective training time".
GOODPUT_DEFAULT = 0.9
GOODPUT_SOURCE = (
    "Llama Team, 'The Llama 3 Herd of Models', arXiv:2407.21783 sec. 3.3.4: 466 job interruptions "
    "in a 54-day snapshot, >90% effective training time"
)


def goodput_default() -> float:
    """Productive fraction of a training run's wall time (Llama 3 paper sec. 3.3.4). [1]

    GPU-hours = tokens / (global_batch x seq_len) x step_time x n_gpus / 3600 / goodput.

    >>> goodput_default()
    0.9
    """
    return GOODPUT_DEFAULT


def goodput_assumption() -> dict[str, object]:
    """The goodput default as an assumption row (name, value, unit, source)."""
    return {"name": "goodput", "value": GOODPUT_DEFAULT, "unit": "1", "source": GOODPUT_SOURCE}


# Share of HBM a layout may plan for: the CUDA context, NCCL buffers, cuBLAS workspaces and
# allocator fragmentation take the rest (PyTorch memory notes; Korthikanti et al. 2022 leave a
# similar margin). A stated default, not a measurement.
USABLE_HBM_FRACTION = 0.9

# DeepSeek-V3 report sec. 3.2.2: "only 20 SMs [of the H800's 132] are sufficient to fully
# utilize the bandwidths of IB and NVLink" while DualPipe overlaps communication with compute.
OVERLAP_COMM_SM_FRACTION = 20 / 132

# Megatron-LM pads the vocabulary to a multiple of 128 x tp (--make-vocab-size-divisible-by).
VOCAB_PAD_MULTIPLE = 128

# Adam with mixed precision (Rajbhandari et al. 2020, ZeRO sec. 3.1): 2 bytes FP16/BF16 weights,
# 2 bytes gradients, 12 bytes FP32 master weights, momentum and variance per parameter.
WEIGHT_BYTE = 2.0
GRAD_BYTE = 2.0
OPTIMIZER_BYTE = 12.0
# HBM traffic of one fused Adam update per parameter: read master, m, v, FP32 grad (16 B) and
# write master, m, v, 16-bit copy (14 B), plus the gradient-norm read (4 B) and zeroing (2 B).
OPTIMIZER_TRAFFIC_BYTE = 36.0
