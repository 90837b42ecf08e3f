"""Bytes a served model holds and reads: weights per GPU, KV cache per token, batch HBM allows.

Weights: attention, dense MLPs, shared experts and the output head are split `tp` ways (and
replicated over attention data-parallel ranks); routed experts are spread over `ep` GPUs (or
split `tp` ways when that is larger). KV cache: GQA stores K and V for every KV head; MLA
(DeepSeek-V2 sec. 2.1.2) stores one compressed latent of kv_lora_rank + qk_rope_head_dim values
per token and layer (576 for DeepSeek-V3), which tensor parallelism cannot split by head.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...architecture import Architecture
from ...scenario.serving import Replica
from .params import BYTES_PER_VALUE


def bytes_per_value(precision: str) -> float:
    """Storage bytes of one value at a precision (NVFP4 includes its block scales). [byte]"""
    try:
        return BYTES_PER_VALUE[precision]
    except KeyError:
        raise ValueError(
            f"precision {precision!r} is unknown; expected one of {', '.join(BYTES_PER_VALUE)}"
        ) from None


def routed_expert_params(arch: Architecture) -> int:
    """Weights of all routed experts (0 for a dense model). [1]"""
    if arch.moe is None:
        return 0
    return arch.moe_layers * arch.moe.experts * arch.expert_params


def kv_values_per_token(arch: Architecture) -> int:
    """KV-cache values stored per token, all layers. [1]

    >>> from truecost.catalog import get_model
    >>> kv_values_per_token(get_model("deepseek-v3").arch) // 61  # MLA: 512 + 64 per layer
    576
    >>> kv_values_per_token(get_model("llama-3.1-8b").arch)  # GQA: 2 x 32 layers x 8 heads x 128
    65536
    """
    if arch.mla is not None:
        return arch.layers * (arch.mla.kv_lora_rank + arch.mla.qk_rope_head_dim)
    return 2 * arch.layers * arch.kv_heads * arch.d_head


def kv_bytes_per_token(arch: Architecture, kv_precision: str) -> float:
    """KV-cache bytes per token, all layers, whole model. [byte]"""
    return kv_values_per_token(arch) * bytes_per_value(kv_precision)


def kv_shards(arch: Architecture, tp: int) -> int:
    """Ways tensor parallelism splits one sequence's KV cache: by KV head for GQA (at most the
    number of KV heads), not at all for MLA's shared latent."""
    return 1 if arch.mla is not None else min(tp, arch.kv_heads)


def weight_bytes_per_gpu(arch: Architecture, replica: Replica, precision: str) -> float:
    """Weights one GPU of a replica holds. [byte]"""
    routed = routed_expert_params(arch)
    other = arch.params_total - routed
    return (other / replica.tp + routed / max(replica.ep, replica.tp)) * bytes_per_value(precision)


def decode_read_params(arch: Architecture) -> tuple[int, int]:
    """(non-routed, routed-expert) weights a decode step reads once: the embedding table is a
    lookup (only the output head is read, or the table itself when tied). [1]"""
    routed = routed_expert_params(arch)
    other = arch.params_total - routed - arch.embedding_params
    if arch.tied_embeddings:
        other += arch.embedding_params
    return other, routed


def experts_touched_fraction(arch: Architecture, tokens: Any) -> Any:
    """Expected share of a layer's routed experts that a batch of `tokens` routes to at least
    once, with uniform routing: 1 - (1 - k/E)^tokens (1 for a dense model). [1]

    >>> from truecost.catalog import get_model
    >>> round(float(experts_touched_fraction(get_model("deepseek-v3").arch, 32)), 3)
    0.638
    """
    if arch.moe is None:
        return np.ones_like(np.asarray(tokens, dtype=float))
    return 1.0 - (1.0 - arch.moe.top_k / arch.moe.experts) ** np.asarray(tokens, dtype=float)


def usable_bytes_per_gpu(memory_byte: float, memory_usable: float) -> float:
    """HBM one GPU can give to weights and KV cache. [byte]"""
    return memory_byte * memory_usable


def kv_capacity_bytes_per_gpu(
    arch: Architecture, replica: Replica, precision: str, memory_byte: float, memory_usable: float
) -> float:
    """HBM left for the KV cache on one GPU (negative = the weights do not fit). [byte]"""
    return usable_bytes_per_gpu(memory_byte, memory_usable) - weight_bytes_per_gpu(arch, replica, precision)


def max_sequences(
    kv_capacity_byte_per_gpu: Any,
    kv_byte_per_token: float,
    reserved_tokens: Any,
    arch: Architecture,
    replica: Replica,
) -> Any:
    """Sequences a replica can hold at once, each reserving `reserved_tokens` of KV. [1]

    Each attention data-parallel rank holds its own sequences; within a rank the KV of a sequence
    is split `kv_shards` ways.
    """
    per_rank = kv_capacity_byte_per_gpu * kv_shards(arch, replica.tp) / (kv_byte_per_token * reserved_tokens)
    return per_rank * replica.attention_dp
