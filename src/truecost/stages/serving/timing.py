"""Prefill and decode time of one replica: compute, HBM traffic and communication.

- Prefill is compute-bound: forward matmuls of every computed prompt token plus the causal
  attention core (Megatron-LM's count, `truecost.stages.flops`), at a sustained fraction of the
  dense peak. Prefix-cache hits skip the compute; the computed suffix still attends over them.
- A decode step reads every (touched) weight once for the whole batch and each sequence's KV
  cache, at a sustained fraction of the HBM bandwidth; its matmuls and attention run at the
  same compute fraction as prefill. MoE reads only the experts the batch routes to.
- Tensor parallelism adds two all-reduces per layer (Megatron-LM: after attention and after the
  MLP), ring cost 2 (tp - 1) / tp of the activations over the scale-up link, not overlapped.
  Expert parallelism adds a dispatch and a combine per MoE layer; DeepSeek overlaps them with
  compute (two micro-batches, Day 6), so the step takes the longer of the two.

All functions broadcast: `batch`, token counts and rates may be arrays of Monte Carlo draws.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ...architecture import Architecture
from ...scenario.serving import Replica
from ...units import FLOP_PER_MAC
from ..flops import attention_core_macs_per_layer, macs_per_token
from ..perf.comm import remote_node_copies
from .memory import (
    bytes_per_value,
    decode_read_params,
    experts_touched_fraction,
    kv_bytes_per_token,
    kv_shards,
)
from .params import ACTIVATION_BYTES, ServingParams

# DeepSeek Day 6: decode and prefill split each batch into two micro-batches so that one's
# dispatch/combine runs under the other's compute.
MICRO_BATCHES_WITH_EP = 2
# DeepSeek-V3 report sec. 3.4.1: prefill's MoE all-to-all is the training one (each token crosses
# IB once per destination node, then NVLink); sec. 3.4.2: decode sends point-to-point over IB.
PREFILL_DEDUP = True


@dataclass(frozen=True)
class Hardware:
    """What the serving model needs of an accelerator, SI units."""

    peak_flop_per_s: float  # sustained matmul rate: dense peak x compute efficiency at the precision
    attention_flop_per_s: float  # the same at the KV / attention-core precision
    hbm_byte_per_s: float
    scale_up_byte_per_s: float  # achieved, one direction
    scale_out_byte_per_s: float  # achieved, one direction
    gpus_per_node: int


def matmul_flops_per_token(arch: Architecture) -> float:
    """Forward matmul FLOPs of one token without the attention core and MTP modules. [FLOP]"""
    m = macs_per_token(arch, 0.0)
    return FLOP_PER_MAC * (m.projections + m.mlp + m.logits)


def decode_attention_flops_per_token(arch: Architecture, context: Any) -> Any:
    """Attention-core FLOPs of one decoded token over `context` cached tokens. [FLOP]

    GQA: Megatron-LM's (n_heads d_qk + n_heads d_v) s per layer. MLA decodes in the absorbed form
    (DeepSeek-V2 sec. 2.1.3: W_UK folded into the query, W_UV into the output), so each head
    scores the 576-wide latent and sums the 512-wide one: n_heads (2 kv_lora + rope) s.
    """
    if arch.mla is not None:
        per_s: float = arch.n_heads * (2 * arch.mla.kv_lora_rank + arch.mla.qk_rope_head_dim)
    else:
        per_s = attention_core_macs_per_layer(arch, 1.0)
    return FLOP_PER_MAC * arch.layers * per_s * np.asarray(context, dtype=float)


def prefill_flops_per_token(arch: Architecture, input_tokens: Any, cache_hit_rate: Any) -> tuple[Any, Any]:
    """(matmul, attention-core) forward FLOPs per computed prompt token. [FLOP]

    The computed suffix of a prompt of length I with a cached prefix of share h attends, causally,
    over I (1 + h) / 2 tokens on average; the logits are needed for the last token only.
    """
    m = macs_per_token(arch, 0.0)
    computed = np.asarray(input_tokens, dtype=float) * (1.0 - np.asarray(cache_hit_rate, dtype=float))
    matmul = FLOP_PER_MAC * (m.projections + m.mlp + m.logits / np.maximum(computed, 1.0))
    span = np.asarray(input_tokens, dtype=float) * (1.0 + np.asarray(cache_hit_rate, dtype=float)) / 2.0
    core = FLOP_PER_MAC * arch.layers * attention_core_macs_per_layer(arch, 1.0) * span
    return matmul, core


def ep_copy_bytes(arch: Architecture, precision: str) -> float:
    """Bytes of one copy of a token's hidden state over every MoE layer of a forward pass: the
    dispatch at the matmul precision (fp8 at most 1 byte) plus the BF16 combine back. [byte]"""
    assert arch.moe is not None
    dispatch = max(bytes_per_value(precision), bytes_per_value("fp8"))
    return arch.moe_layers * arch.d_model * (dispatch + ACTIVATION_BYTES)


def ep_time_per_token(
    arch: Architecture, replica: Replica, precision: str, hw: Hardware, *, dedup: bool = False
) -> float:
    """All-to-all time per token and GPU (bandwidth term): the slower of the copies leaving the
    node (one NIC per GPU) and those to other GPUs of the node (scale-up link). [s]

    A token's top_k experts sit on uniformly spread GPUs of the EP group. Without `dedup` each
    copy to another node crosses the network (DeepSeek-V3 report sec. 3.4.2: decode sends
    point-to-point over IB); with it a token crosses once per destination node and is forwarded
    over NVLink (sec. 3.4.1: prefill uses the training all-to-all, sec. 3.2.2).
    """
    if arch.moe is None or replica.ep == 1:
        return 0.0
    k, ep = arch.moe.top_k, replica.ep
    nodes = max(ep / hw.gpus_per_node, 1.0)
    remote = float(remote_node_copies(k, nodes, dedup=dedup))
    local = k * (ep - 1) / ep - (0.0 if dedup else remote)
    c = ep_copy_bytes(arch, precision)
    return max(c * remote / hw.scale_out_byte_per_s, c * local / hw.scale_up_byte_per_s)


def tp_allreduce_time(
    arch: Architecture, replica: Replica, tokens: Any, hw: Hardware, params: ServingParams
) -> Any:
    """Two ring all-reduces per layer of `tokens` hidden states in BF16 over the TP group. [s]"""
    if replica.tp == 1:
        return np.zeros_like(np.asarray(tokens, dtype=float))
    ring = 2.0 * (replica.tp - 1) / replica.tp
    per = np.asarray(tokens, dtype=float) * arch.d_model * ACTIVATION_BYTES * ring / hw.scale_up_byte_per_s
    return 2 * arch.layers * (per + params.collective_latency_s)


def decode_step_time(
    arch: Architecture,
    replica: Replica,
    batch: Any,
    context: Any,
    precision: str,
    kv_precision: str,
    hw: Hardware,
    params: ServingParams,
) -> Any:
    """Time of one decode step of a replica holding `batch` sequences of mean KV length
    `context`. [s]

    HBM:  (micro-batches x (non-routed weights / tp + routed experts on the GPU x share a
          micro-batch touches) + KV of the GPU's sequences) / (hbm_efficiency x bandwidth);
          two micro-batches when an EP all-to-all is overlapped, else one
    compute: the GPU's share of matmul and attention FLOPs / sustained peak, each at its
          precision
    step = max(HBM + compute, EP all-to-all) + TP all-reduces + fixed overhead

    Memory and compute time add (no overlap inside a step). A per-kernel roofline (the longer of
    the two for the weight GEMMs and for attention) fits the dense benchmark runs better
    (leave-one-out 5.6% against 8.7%) but predicts DeepSeek's Day-6 decode node at 1.9x its
    reported rate, where the additive step is within 10% without being fitted to it.
    """
    batch = np.asarray(batch, dtype=float)
    g = replica.gpus
    wbytes = bytes_per_value(precision)
    other, routed = decode_read_params(arch)
    routed_per_gpu = routed / max(replica.ep, replica.tp)
    # Overlapping the EP all-to-all with compute takes two micro-batches (DeepSeek Day 6), and
    # each micro-batch's forward pass reads the weights again.
    mb = MICRO_BATCHES_WITH_EP if (arch.moe is not None and replica.ep > 1) else 1
    touched = experts_touched_fraction(arch, batch / mb)  # the micro-batch's tokens meet the experts
    weight_bytes = mb * (other / replica.tp + routed_per_gpu * touched) * wbytes
    seqs_per_rank = batch / replica.attention_dp
    kv_bytes = seqs_per_rank * context * kv_bytes_per_token(arch, kv_precision) / kv_shards(arch, replica.tp)
    bw = params.hbm_efficiency * hw.hbm_byte_per_s
    flops_mm = batch * matmul_flops_per_token(arch) / g
    flops_attn = batch * decode_attention_flops_per_token(arch, context) / g
    t_hbm = (weight_bytes + kv_bytes) / bw
    t_compute = flops_mm / hw.peak_flop_per_s + flops_attn / hw.attention_flop_per_s
    t_ep = batch / g * ep_time_per_token(arch, replica, precision, hw)
    if arch.moe is not None and replica.ep > 1:
        t_ep = t_ep + 2 * arch.moe_layers * params.collective_latency_s
    t_tp = tp_allreduce_time(arch, replica, seqs_per_rank, hw, params)
    return np.maximum(t_hbm + t_compute, t_ep) + t_tp + params.step_overhead_s


def prefill_time_per_token(
    arch: Architecture,
    replica: Replica,
    input_tokens: Any,
    cache_hit_rate: Any,
    precision: str,
    hw: Hardware,
    params: ServingParams,
) -> Any:
    """Replica time per computed prompt token (compute-bound; EP overlapped; TP all-reduce
    added). [s]"""
    matmul, core = prefill_flops_per_token(arch, input_tokens, cache_hit_rate)
    g = replica.gpus
    t_compute = (matmul / hw.peak_flop_per_s + core / hw.attention_flop_per_s) / g
    t_ep = ep_time_per_token(arch, replica, precision, hw, dedup=PREFILL_DEDUP) / g
    ring = 0.0 if replica.tp == 1 else 2.0 * (replica.tp - 1) / replica.tp
    t_tp = (
        2
        * arch.layers
        * arch.d_model
        * ACTIVATION_BYTES
        * ring
        / hw.scale_up_byte_per_s
        / replica.attention_dp
    )
    return np.maximum(t_compute, t_ep) + t_tp
