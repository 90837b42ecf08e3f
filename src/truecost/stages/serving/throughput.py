"""Sustained tokens per second per GPU of one replica layout, from the pieces in `memory` and
`timing`.

Batch: the sequences HBM holds after the weights, each holding its mean KV length (a paged KV
cache allocates blocks as tokens arrive, so at steady state a sequence holds the mean context),
capped by the engine's batch limit per attention rank, and cut to the largest batch whose
decode step meets `tpot_ms` when a target is given.

Shared replica (continuous batching): a request costs its prefill plus `output` decode steps
shared with the batch, so output/s = output / (prefill time + output x step / batch).
Disaggregated: the decode replica's rate is batch / step; the prefill replica's input rate
(cache hits counted, as DeepSeek reports it) is 1 / ((1 - hit) x time per computed token).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ...architecture import Architecture
from ...catalog import Accelerator
from ...errors import ScenarioError
from ...scenario.serving import Replica
from ...units import GIGA, MS_PER_S
from ..perf.params import COMM_EFFICIENCY
from .memory import (
    kv_bytes_per_token,
    kv_capacity_bytes_per_gpu,
    max_sequences,
    usable_bytes_per_gpu,
    weight_bytes_per_gpu,
)
from .params import SCALE_OUT_FALLBACK, SCALE_UP_DIRECTIONS, SCALE_UP_FALLBACK, ServingParams
from .timing import Hardware, decode_step_time, prefill_time_per_token

# Halvings of log(batch) in _batch_for_tpot: after 40, hi / lo = b_max ** 2**-40, within 2e-11
# of 1 for any batch bound up to 1e8 (a numerical choice, not a physical one; 60 cost a third
# more time on Monte Carlo draws for no visible digit).
BISECTION_STEPS = 40


@dataclass(frozen=True)
class Workload:
    """One request shape. Numbers may be arrays of draws. [token], [1], [s]"""

    input_tokens: Any
    output_tokens: Any
    context_tokens: Any
    cache_hit_rate: Any = 0.0
    tpot_s: Any = None
    precision: str = "fp8"
    kv_precision: str = "fp8"


def default_kv_precision(precision: str) -> str:
    """KV cache at the matmul precision, FP8 under FP4 weights (NVFP4 recipes keep an FP8 KV cache)."""
    return "fp8" if precision == "fp4" else precision


def attention_precision(acc: Accelerator, kv_precision: str) -> str:
    """The attention core runs at the KV precision when the accelerator has a peak for it (FP8
    attention kernels), else at 16-bit."""
    return kv_precision if kv_precision in acc.peak_flop_per_s else "bf16"


def hardware(acc: Accelerator, precision: str, kv_precision: str, params: ServingParams) -> Hardware:
    """The accelerator's sustained rates the serving model uses (fallbacks for missing links).

    Attention at `attention_precision`. Links: one direction of the scale-up link and the NIC, at
    the perf stage's cited collective efficiency (NCCL bus bandwidth / link bandwidth).
    """
    attn = attention_precision(acc, kv_precision)
    return Hardware(
        peak_flop_per_s=acc.peak(precision) * params.compute(precision, acc.id),
        attention_flop_per_s=acc.peak(attn) * params.compute(attn, acc.id),
        hbm_byte_per_s=acc.hbm_bandwidth_byte_per_s,
        scale_up_byte_per_s=(acc.scale_up_byte_per_s or SCALE_UP_FALLBACK.value)
        / SCALE_UP_DIRECTIONS
        * COMM_EFFICIENCY,
        scale_out_byte_per_s=(acc.scale_out_byte_per_s or SCALE_OUT_FALLBACK.value) * COMM_EFFICIENCY,
        gpus_per_node=acc.gpus_per_node,
    )


@dataclass(frozen=True)
class Rates:
    """Predicted rates of one layout. [token/s per GPU], [1], [s], [byte]"""

    output_tokens_per_s_per_gpu: Any
    input_tokens_per_s_per_gpu: Any
    batch: Any  # sequences decoding at once in the (decode) replica
    max_batch_memory: Any  # sequences HBM allows
    step_time_s: Any
    decode_time_share: Any  # share of a shared replica's time spent decoding (1 when disaggregated)
    kv_bytes_per_token: float
    weight_bytes_per_gpu: float
    kv_capacity_bytes_per_gpu: float


def check_fits(
    arch: Architecture, acc: Accelerator, replica: Replica, precision: str, params: ServingParams, field: str
) -> float:
    """KV capacity per GPU; raises ScenarioError naming `field` when the weights do not fit."""
    cap = kv_capacity_bytes_per_gpu(arch, replica, precision, acc.memory_byte, params.memory_usable)
    if cap <= 0:
        need = weight_bytes_per_gpu(arch, replica, precision)
        have = usable_bytes_per_gpu(acc.memory_byte, params.memory_usable)
        raise ScenarioError(
            f"the {precision} weights need {need / GIGA:.1f} GB per GPU with tp={replica.tp}, ep={replica.ep}, "
            f"but {acc.id} has {have / GIGA:.1f} GB usable ({params.memory_usable:.0%} of "
            f"{acc.memory_byte / GIGA:.0f} GB): short by {(need - have) / GIGA:.1f} GB per GPU, before any KV "
            "cache; use more GPUs per replica, more tp/ep, or a lower precision",
            field=field,
        )
    return cap


def _batch_for_tpot(
    arch: Architecture, replica: Replica, w: Workload, hw: Hardware, params: ServingParams, b_max: Any
) -> Any:
    """Largest batch <= b_max whose decode step meets w.tpot_s (bisection in log batch)."""
    lo = np.ones_like(np.asarray(b_max, dtype=float))
    hi = np.asarray(b_max, dtype=float) * np.ones_like(lo)

    def step(b: Any) -> Any:
        return decode_step_time(arch, replica, b, w.context_tokens, w.precision, w.kv_precision, hw, params)

    ok_hi = step(hi) <= w.tpot_s
    for _ in range(BISECTION_STEPS):
        mid = np.sqrt(lo * hi)
        good = step(mid) <= w.tpot_s
        lo = np.where(good, mid, lo)
        hi = np.where(good, hi, mid)
    return np.where(ok_hi, b_max, lo)


def rates(
    arch: Architecture,
    acc: Accelerator,
    replica: Replica,
    w: Workload,
    params: ServingParams,
    *,
    prefill_replica: Replica | None = None,
    field: str = "serving.replica",
) -> Rates:
    """Sustained rates per GPU of a layout (shared, or disaggregated when `prefill_replica`)."""
    hw = hardware(acc, w.precision, w.kv_precision, params)
    cap = check_fits(arch, acc, replica, w.precision, params, field)
    kv_tok = kv_bytes_per_token(arch, w.kv_precision)
    # Paged KV (vLLM's PagedAttention, TensorRT-LLM's paged cache) holds the tokens a sequence
    # has so far: at steady state the mean context per sequence.
    reserved = np.asarray(w.context_tokens, dtype=float)
    b_mem = max_sequences(cap, kv_tok, reserved, arch, replica)
    if np.any(np.asarray(b_mem) < 1):
        raise ScenarioError(
            f"{acc.id} with tp={replica.tp}, ep={replica.ep} has {cap / GIGA:.2f} GB per GPU left for the KV "
            f"cache, less than one sequence of {float(np.max(reserved)):.0f} tokens needs "
            f"({float(np.max(reserved)) * kv_tok / GIGA:.2f} GB)",
            field=field,
        )
    # The engine's scheduler caps the batch per attention rank, whatever the memory allows.
    batch = np.minimum(b_mem, params.max_sequences_per_rank * replica.attention_dp)
    if w.tpot_s is not None:
        t1 = decode_step_time(arch, replica, 1.0, w.context_tokens, w.precision, w.kv_precision, hw, params)
        if np.any(np.asarray(t1) > w.tpot_s):
            raise ScenarioError(
                f"no batch can meet {float(np.min(w.tpot_s)) * MS_PER_S:.3g} ms per output token: one sequence "
                f"alone takes {float(np.max(t1)) * MS_PER_S:.3g} ms per decode step on this layout "
                f"({acc.id}, tp={replica.tp}, ep={replica.ep})",
                field="serving.tpot_ms",
            )
        batch = _batch_for_tpot(arch, replica, w, hw, params, batch)
    step = decode_step_time(arch, replica, batch, w.context_tokens, w.precision, w.kv_precision, hw, params)
    decode_rate_replica = batch / step  # output tokens per second
    p_rep = prefill_replica if prefill_replica is not None else replica
    if prefill_replica is not None:
        check_fits(arch, acc, prefill_replica, w.precision, params, "serving.prefill_replica")
    t_tok = prefill_time_per_token(arch, p_rep, w.input_tokens, w.cache_hit_rate, w.precision, hw, params)
    computed = np.asarray(w.input_tokens, dtype=float) * (1.0 - np.asarray(w.cache_hit_rate, dtype=float))
    if prefill_replica is not None:
        out_gpu = decode_rate_replica / replica.gpus
        in_gpu = 1.0 / ((1.0 - np.asarray(w.cache_hit_rate, dtype=float)) * t_tok * prefill_replica.gpus)
        share = np.ones_like(np.asarray(out_gpu, dtype=float))
    else:
        t_prefill = computed * t_tok
        t_decode = np.asarray(w.output_tokens, dtype=float) / decode_rate_replica
        per_request = t_prefill + t_decode
        out_gpu = np.asarray(w.output_tokens, dtype=float) / per_request / replica.gpus
        in_gpu = np.asarray(w.input_tokens, dtype=float) / per_request / replica.gpus
        share = t_decode / per_request
    return Rates(
        output_tokens_per_s_per_gpu=out_gpu,
        input_tokens_per_s_per_gpu=in_gpu,
        batch=batch,
        max_batch_memory=b_mem,
        step_time_s=step,
        decode_time_share=share,
        kv_bytes_per_token=kv_tok,
        weight_bytes_per_gpu=weight_bytes_per_gpu(arch, replica, w.precision),
        kv_capacity_bytes_per_gpu=cap,
    )
