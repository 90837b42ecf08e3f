"""Calibrated efficiency parameters per accelerator, software stacks, and the goodput default.

A handful of physical parameters per accelerator turn FLOP and byte counts into seconds. They
were fitted once on half of the vTrain A100 measurements (`truecost.perf.calibrate`, fixed
seed); every other accelerator derives its parameters from the A100 ones through datasheet
ratios, because no other GPU was available to measure. The derivation is in `params_for`.
FP8 GEMMs keep the same achievable fraction of the (twice as high) FP8 peak: an assumption, not
a measurement.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..catalog.schema import Accelerator


@dataclass(frozen=True)
class PerfParams:
    """Achievable efficiency of one accelerator.

    gemm_efficiency : fraction of the dense peak a large GEMM reaches. [1]
    gemm_saturation_output : output elements (count x m x n) at which a GEMM reaches half of
        `gemm_efficiency` at the 16-bit peak (tile and wave quantisation). [element]
    memory_efficiency : fraction of HBM bandwidth memory-bound kernels reach. [1]
    layer_overhead_s : fixed time per transformer layer per forward pass (kernel launches and
        host work that do not scale with the matrices); backward counts it twice. [s]
    comm_efficiency : achieved collective bus bandwidth / link bandwidth (NCCL). [1]
    comm_latency_s : latency of one collective step (alpha of the alpha-beta model). [s]
    step_overhead_s : fixed time per optimizer step (grad-norm, loss-scale check, optimizer
        launches, logging). [s]
    source : how the values were obtained.
    """

    gemm_efficiency: float
    gemm_saturation_output: float
    memory_efficiency: float
    layer_overhead_s: float
    comm_efficiency: float
    comm_latency_s: float
    step_overhead_s: float
    source: str

    def __post_init__(self) -> None:
        for name in ("gemm_efficiency", "memory_efficiency", "comm_efficiency"):
            v = getattr(self, name)
            if not 0 < v <= 1:
                raise ValueError(f"{name} must be in (0, 1], got {v}")
        for name in ("gemm_saturation_output", "layer_overhead_s", "comm_latency_s", "step_overhead_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")


# ---- the calibrated table ---------------------------------------------------------------------
# Fitted by `python -m truecost.perf.calibrate` (bench/calibrate_perf.py runs the same) on the
# "fit" half of the vTrain single-node set (Bang et al., MICRO 2024; 720 of 1,440 rows, chosen
# by a seeded permutation stratified by GPU count), least squares on log step time. The other 720
# rows, Narayanan et al. 2021 Table 1, DeepSeek-V3 and Llama 3 were never used in the fit.
CALIBRATION_SOURCE = (
    "fitted on the seeded 'fit' half (720 rows) of the vTrain A100 single-node measurements "
    "(Bang et al., MICRO 2024) by truecost.perf.calibrate; least squares on log step time"
)
A100_FIT = PerfParams(
    gemm_efficiency=0.859,
    gemm_saturation_output=3.27e6,
    memory_efficiency=0.738,
    layer_overhead_s=7.9e-4,
    comm_efficiency=0.78,
    comm_latency_s=7.8e-6,
    step_overhead_s=7.4e-3,
    source=CALIBRATION_SOURCE,
)

# The accelerator the fit was made on and its datasheet figures, for the derivations below.
REFERENCE_ACCELERATOR = "a100-sxm4-80gb"
_REFERENCE_PEAK_FLOP_PER_S = 312e12  # A100 dense BF16 (NVIDIA A100 datasheet)

CALIBRATED: dict[str, PerfParams] = {
    REFERENCE_ACCELERATOR: A100_FIT,
    # Same GA100 die and clocks; only HBM size and bandwidth differ, and those enter the model
    # through the catalog row, not through these parameters.
    "a100-sxm4-40gb": replace(A100_FIT, source=CALIBRATION_SOURCE + " (same GA100 silicon as A100 80GB)"),
}

DERIVED_SOURCE = (
    "derived from the A100 fit through datasheet ratios (no {acc} was available to measure): "
    "GEMM and memory efficiency, per-layer and per-step overheads and communication efficiency "
    "kept; the GEMM saturation size scaled with the dense 16-bit peak ({ratio:.2f} x the A100's "
    "312 TFLOP/s)"
)


def peak_16bit(accelerator: Accelerator) -> float:
    """Dense BF16 (else FP16) peak. [FLOP/s]"""
    return accelerator.peak("bf16" if "bf16" in accelerator.peak_flop_per_s else "fp16")


def params_for(accelerator: Accelerator) -> PerfParams:
    """Efficiency parameters for an accelerator.

    Calibrated rows are used as they are. Any other accelerator keeps the A100 efficiencies
    (fractions of its own datasheet peak and bandwidth, which enter through the catalog row) and
    scales the GEMM saturation size with its 16-bit peak: by Little's law the output work a GPU
    needs in flight to stay busy grows with its throughput. A GEMM at another precision scales it
    again with that precision's peak (see `layers.Hardware`).
    """
    base = CALIBRATED.get(accelerator.id)
    if base is not None:
        return base
    ratio = peak_16bit(accelerator) / _REFERENCE_PEAK_FLOP_PER_S
    return replace(
        A100_FIT,
        gemm_saturation_output=A100_FIT.gemm_saturation_output * ratio,
        source=DERIVED_SOURCE.format(acc=accelerator.id, ratio=ratio),
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
