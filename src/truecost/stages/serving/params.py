"""Constants of the serving model: the two fitted efficiencies and the cited fixed values.

The fitted values live in `catalog/data/serving_calibration.yaml`, written by
``python -m truecost.stages.serving.calibrate --write`` with the data they were fitted on named
beside them; this module only reads them (through the catalog) and never edits them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from ...catalog import serving_calibration
from ...catalog.perf_tables import GemmEfficiency, gemm_efficiency
from ...defaults import Cited

ASSUMED = "ASSUMED (no figure in the reference material; a round value to replace when known)"
TRTLLM_DOCS = "NVIDIA TensorRT-LLM docs, perf-overview.md (kv_cache_free_gpu_mem_fraction 0.95 in most runs)"

# Bytes per stored value. NVFP4 packs 16 four-bit values with one FP8 (E4M3) scale: 4.5 bits
# (NVIDIA, "Introducing NVFP4 for Efficient and Accurate Low-Precision Inference", 2025).
BYTES_PER_VALUE: dict[str, float] = {"fp32": 4.0, "bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "fp4": 4.5 / 8}
# Catalog scale-up figures are both directions added (NVLink 4: 900 GB/s = 450 each way), as the
# perf stage reads them; a collective moves data one way at a time.
SCALE_UP_DIRECTIONS = 2.0
# A normal's 95th percentile (scipy.special.ndtri(0.95)): a lognormal's 90% interval is
# exp(mu +- Z90 x sigma).
Z90 = 1.6448536269514722
# The activation precision of the MoE combine and of TP all-reduces (DeepSeek Day 6: "the MoE
# combine uses BF16"); the dispatch goes at the matmul precision when that is fp8 (fp4 -> fp8).
ACTIVATION_BYTES = 2.0

MEMORY_USABLE = Cited(
    0.90,
    "1",
    ASSUMED + ": share of HBM available to weights + KV cache after the CUDA context, activations and "
    "allocator slack; TensorRT-LLM's benchmark runs give the KV cache 95% of the memory left after "
    "weights and activations (" + TRTLLM_DOCS + ")",
)
MAX_SEQUENCES_PER_RANK = Cited(
    2048,
    "1",
    "TensorRT-LLM build default max_batch_size = 2048 sequences per engine (trtllm-build / "
    "BuildConfig default); a serving engine schedules at most this many sequences per attention rank",
)
COLLECTIVE_LATENCY_S = Cited(
    10e-6,
    "s",
    ASSUMED + ": fixed latency of one small all-reduce / all-to-all inside a node (NCCL small-message "
    "latency is of order 10 us on NVLink)",
)
SCALE_UP_FALLBACK = Cited(
    896e9,
    "byte/s",
    ASSUMED + ": scale-up bandwidth per GPU, both directions, when the catalog has none (AMD MI300X: 7 "
    "Infinity Fabric links x 64 GB/s each way)",
)
SCALE_OUT_FALLBACK = Cited(
    50e9,
    "byte/s",
    ASSUMED + ": one 400 Gb/s NIC per GPU when the catalog has no scale-out figure (the DGX H100/H200/B200 "
    "layout)",
)


@dataclass(frozen=True)
class ServingParams:
    """The serving model's constants.

    hbm_efficiency : sustained fraction of the HBM bandwidth while decoding (weights + KV reads). [1]
    compute_efficiency : sustained share of the accelerator's measured best GEMM throughput
        (catalog `gemm_efficiency.csv`, "MAMF") reached by the whole forward pass, prefill and
        decode, keyed "16bit" (bf16, fp16), "fp8"; the "fp4" entry is a share of the FP4 dense
        peak itself (no FP4 GEMM measurement is in the catalog). Scaling by the measured GEMM
        fraction carries the fit to accelerators whose kernels reach less (or more) of their
        datasheet peak; an accelerator without a row takes the reference one's. [1]
    step_overhead_s : fixed time per decode step (scheduler, kernel launches). [s]
    log_sd : standard deviation of log(predicted / measured) throughput, leave-one-out. [1]
    """

    hbm_efficiency: float
    compute_efficiency: Mapping[str, float]
    step_overhead_s: float
    log_sd: float
    source: str
    memory_usable: float = MEMORY_USABLE.value
    max_sequences_per_rank: float = MAX_SEQUENCES_PER_RANK.value
    collective_latency_s: float = COLLECTIVE_LATENCY_S.value

    def with_(self, **kw: Any) -> ServingParams:
        return replace(self, **kw)

    def compute(self, precision: str, accelerator_id: str) -> float:
        """Sustained fraction of the dense peak at a precision on an accelerator. [1]"""
        cls = PRECISION_CLASS[precision]
        if cls == "fp4":
            return self.compute_efficiency[cls]
        return self.compute_efficiency[cls] * gemm_fraction(accelerator_id, precision)


# Precision -> key of ServingParams.compute_efficiency.
PRECISION_CLASS = {"bf16": "16bit", "fp16": "16bit", "fp8": "fp8", "fp4": "fp4"}
# The accelerators whose measured GEMM fractions stand in where an accelerator has no row, by
# precision (catalog gemm_efficiency.csv: A100 SXM BF16 267.9 of 312 TFLOPS, the perf stage's
# reference; H100 SXM FP8 1350 of 1979, DeepGEMM).
REFERENCE_GEMM_ACCELERATOR = {"bf16": "a100-sxm4-80gb", "fp8": "h100-sxm"}


def _gemm_row(accelerator_id: str, precision: str) -> tuple[GemmEfficiency, str]:
    """The catalog GEMM row that stands for (accelerator, precision), and a note when it is a
    stand-in: FP8 without a row takes the accelerator's BF16 fraction (as the perf stage does);
    an accelerator without any row takes the reference accelerator's at that precision."""
    key = "bf16" if precision in ("bf16", "fp16") else precision
    ref = REFERENCE_GEMM_ACCELERATOR[key]
    for acc, prec in ((accelerator_id, key), (accelerator_id, "bf16"), (ref, key)):
        row = gemm_efficiency(acc, prec)
        if row is not None:
            note = (
                ""
                if (acc, prec) == (accelerator_id, key)
                else f" (no {accelerator_id} {key} row: {acc} {prec})"
            )
            return row, note
    raise LookupError(f"catalog gemm_efficiency.csv has no {key} row for {ref}")


def gemm_fraction(accelerator_id: str, precision: str) -> float:
    """Measured best-GEMM throughput / dense peak at a 16-bit or FP8 precision (catalog
    `gemm_efficiency.csv`, with `_gemm_row`'s stand-ins). [1]

    >>> round(gemm_fraction("h100-sxm", "fp8"), 3), round(gemm_fraction("a100-sxm4-80gb", "fp16"), 3)
    (0.682, 0.859)
    """
    return _gemm_row(accelerator_id, precision)[0].fraction


def gemm_fraction_source(accelerator_id: str, precision: str) -> str:
    """Where `gemm_fraction` takes its value from. [text]"""
    row, note = _gemm_row(accelerator_id, precision)
    return f"{row.achieved_tflops:g} of {row.peak_tflops:g} TFLOPS{note}; {row.source}"


def fitted() -> ServingParams:
    """The shipped calibration (catalog/data/serving_calibration.yaml)."""
    cal = serving_calibration()
    fit = cal["fitted"]
    return ServingParams(
        hbm_efficiency=float(fit["hbm_efficiency"]),
        compute_efficiency={k: float(v) for k, v in fit["compute_efficiency"].items()},
        step_overhead_s=float(fit.get("step_overhead_s", 0.0)),
        log_sd=float(cal["leave_one_out"]["log_sd"]),
        source=str(cal["source"]),
    )
