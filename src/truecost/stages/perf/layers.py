"""Forward-pass cost of each part of a transformer, per micro-batch on one GPU.

Shapes follow Megatron-LM's tensor-parallel split (Shoeybi et al. 2019): column-parallel QKV
and MLP-up matrices, row-parallel output and MLP-down; experts split over expert-parallel
ranks with balanced routing (each rank processes top_k x its own tokens). FLOP counts match
`truecost.stages.flops.macs_per_token` (the model FLOPs) plus what the kernels really execute (full
attention matrices when the kernel is unfused, routers, recomputation).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ...architecture import Architecture
from .compute import Array, PassCost, gemm_time_s, memory_bound_time_s
from .params import PerfParams, SoftwareStack

# FP8 GEMM inputs are quantised on the fly: read 16-bit, write 8-bit (DeepSeek-V3 report sec.
# 3.3, fine-grained quantisation), per input element of every weight GEMM.
FP8_CAST_BYTE_PER_ELEMENT = 3.0
# Cross-entropy over the vocabulary in FP32 (Megatron vocab-parallel cross entropy): read the
# logits, write the softmax, read it for the loss; 4 bytes each. [byte per logit]
CROSS_ENTROPY_BYTE_PER_LOGIT = 12.0


@dataclass(frozen=True)
class Hardware:
    """What the layer costs need to know about the accelerator and framework."""

    params: PerfParams
    stack: SoftwareStack
    linear_peak_flop_per_s: float  # weight GEMMs, at the training precision
    core_peak_flop_per_s: float  # attention core and output head (16-bit even in FP8 training)
    hbm_byte_per_s: float
    act_byte: float = 2.0  # activations
    linear_elem_byte: float = 2.0  # weight-GEMM operands (1 in FP8)
    fp8: bool = False
    linear_precision: str = "bf16"

    @property
    def linear_efficiency(self) -> float:
        return self.params.gemm_efficiency_at(self.linear_precision)

    @property
    def linear_saturation_output(self) -> float:
        """GEMM saturation size at the weight-GEMM precision: scaled with its peak. [element]"""
        return self.params.gemm_saturation_output * self.linear_peak_flop_per_s / self.core_peak_flop_per_s


def _zeros_like(x: Array) -> Array:
    return np.zeros(np.shape(x))


class _Acc:
    """Accumulates the GEMMs and kernels of one forward pass."""

    def __init__(self, hw: Hardware, tokens: Array):
        self.hw = hw
        self.tokens = tokens
        z = _zeros_like(tokens)
        self.linear_s, self.core_s, self.elementwise_s = z.copy(), z.copy(), z.copy()
        self.linear_flop, self.core_flop = z.copy(), z.copy()
        self.selective_s, self.selective_flop = z.copy(), z.copy()

    def linear(
        self,
        n: Array | float,
        k: Array | float,
        *,
        m: Array | None = None,
        count: Array | float = 1.0,
        selective: bool = False,
    ) -> None:
        """A weight GEMM (m x k) @ (k x n); m defaults to the micro-batch tokens.
        `selective`: re-run by selective recomputation."""
        hw = self.hw
        m_ = self.tokens if m is None else m
        t = gemm_time_s(
            m_,
            n,
            k,
            count=count,
            peak_flop_per_s=hw.linear_peak_flop_per_s,
            hbm_byte_per_s=hw.hbm_byte_per_s,
            params=hw.params,
            saturation_output=hw.linear_saturation_output,
            efficiency=hw.linear_efficiency,
            elem_byte=hw.linear_elem_byte,
        )
        flop = 2.0 * m_ * n * k * count
        self.linear_s = self.linear_s + t
        self.linear_flop = self.linear_flop + flop
        if selective:
            self.selective_s = self.selective_s + t
            self.selective_flop = self.selective_flop + flop
        if hw.fp8:
            self.bytes(FP8_CAST_BYTE_PER_ELEMENT * m_ * k * count, selective=selective)

    def head(self, n: Array | float, k: Array | float) -> None:
        """A 16-bit GEMM over the micro-batch tokens (output head, router)."""
        hw = self.hw
        self.linear_s = self.linear_s + gemm_time_s(
            self.tokens,
            n,
            k,
            count=1.0,
            peak_flop_per_s=hw.core_peak_flop_per_s,
            hbm_byte_per_s=hw.hbm_byte_per_s,
            params=hw.params,
            elem_byte=hw.act_byte,
        )
        self.linear_flop = self.linear_flop + 2.0 * self.tokens * n * k

    def bytes(self, traffic_byte: Array | float, *, selective: bool = False) -> None:
        t = memory_bound_time_s(traffic_byte, self.hw.hbm_byte_per_s, self.hw.params)
        self.elementwise_s = self.elementwise_s + t
        if selective:
            self.selective_s = self.selective_s + t

    def elements(self, per_token: Array | float, *, selective: bool = False) -> None:
        """Memory-bound kernels touching `per_token` activation elements per token."""
        self.bytes(per_token * self.hw.act_byte * self.tokens, selective=selective)

    def core(self, t: Array, flop: Array) -> None:
        """Attention core; always part of selective recomputation."""
        self.core_s = self.core_s + t
        self.core_flop = self.core_flop + flop
        self.selective_s = self.selective_s + t
        self.selective_flop = self.selective_flop + flop

    def result(self) -> PassCost:
        return PassCost(
            self.linear_s,
            self.core_s,
            self.elementwise_s,
            self.linear_flop,
            self.core_flop,
            self.selective_s,
            self.selective_flop,
        )


def _attention(acc: _Acc, arch: Architecture, mb: Array, seq_len: float, tp: Array, cp: Array) -> None:
    hw = acc.hw
    h, nh = arch.d_model, arch.n_heads
    if arch.mla is not None:
        m = arch.mla
        # Up-projections from the latents are re-run by selective recomputation (DeepSeek-V3
        # sec. 3.2.3 recomputes them; Megatron-Core's mla_up_proj recompute module).
        if m.q_lora_rank:
            acc.linear(m.q_lora_rank, h)
            acc.linear(nh * arch.qk_head_dim / tp, m.q_lora_rank, selective=True)
        else:
            acc.linear(nh * arch.qk_head_dim / tp, h)
        acc.linear(m.kv_lora_rank + m.qk_rope_head_dim, h)
        acc.linear(nh * (m.qk_nope_head_dim + m.v_head_dim) / tp, m.kv_lora_rank, selective=True)
    else:
        acc.linear((nh + 2 * arch.kv_heads) * arch.d_head / tp, h)
    acc.linear(h, nh * arch.v_head_dim / tp)

    # Attention core: per GPU mb x nh / tp heads, s / cp queries against s keys.
    dqk, dv = arch.qk_head_dim, arch.v_head_dim
    sq = seq_len / cp
    heads = mb * nh / tp
    common: dict[str, Any] = dict(
        peak_flop_per_s=hw.core_peak_flop_per_s, hbm_byte_per_s=hw.hbm_byte_per_s, params=hw.params
    )
    if hw.stack.flash_attention:
        # Causal blocks above the diagonal are skipped; Q, K, V and O cross HBM once.
        keys = 0.5 * seq_len
        io = heads * hw.act_byte * (sq * dqk + seq_len * dqk + seq_len * dv + sq * dv)
        t = gemm_time_s(sq, keys, dqk, count=heads, io_byte=io, **common)
        t = t + gemm_time_s(sq, dv, keys, count=heads, io_byte=0.0, **common)
    else:
        # Unfused: the full s x s score matrix is computed, written, soft-maxed and dropped out.
        keys = float(seq_len)
        t = gemm_time_s(sq, keys, dqk, count=heads, elem_byte=hw.act_byte, **common)
        t = t + gemm_time_s(sq, dv, keys, count=heads, elem_byte=hw.act_byte, **common)
        passes = 2.0 + (2.5 if hw.stack.dropout else 0.0)  # softmax r/w; dropout r/w + 1-byte mask
        t = t + memory_bound_time_s(passes * hw.act_byte * heads * sq * keys, hw.hbm_byte_per_s, hw.params)
    acc.core(t, 2.0 * heads * sq * keys * (dqk + dv))


def _mlp(acc: _Acc, arch: Architecture, kind: str, tp: Array, ep: Array) -> None:
    h = arch.d_model
    up = 2 if arch.glu else 1
    act = 3.0 if arch.glu else 2.0  # SwiGLU reads 2 and writes 1 tensor of width f; GELU 1 and 1
    if kind == "moe" and arch.moe is not None:
        mo = arch.moe
        f = mo.expert_ffn_dim
        local = mo.experts / ep
        m_e = acc.tokens * mo.top_k / local  # tokens per local expert, balanced routing
        acc.linear(up * f / tp, h, m=m_e, count=local)
        acc.linear(h, f / tp, m=m_e, count=local)
        acc.elements(mo.top_k * act * f / tp, selective=True)  # activation function
        acc.elements(4.0 * mo.top_k * h)  # permute + unpermute
        if mo.shared_experts:
            acc.linear(up * mo.shared_experts * f / tp, h)
            acc.linear(h, mo.shared_experts * f / tp)
            acc.elements(act * mo.shared_experts * f / tp, selective=True)
        acc.head(mo.experts, h)  # router, 16-bit (DeepSeek-V3 keeps gating in higher precision)
    else:
        f = arch.ffn_dim
        acc.linear(up * f / tp, h)
        acc.linear(h, f / tp)
        acc.elements(act * f / tp, selective=True)


def _hidden(acc: _Acc, arch: Architecture, tp: Array) -> None:
    """Two norms (read + write; re-run by selective recomputation) and two residual adds (2
    reads + 1 write); dropout adds a 1-byte mask to each residual add. Split over tp with
    sequence parallelism."""
    stack = acc.hw.stack
    sp = tp if stack.sequence_parallel else 1.0
    acc.elements(4.0 * arch.d_model / sp, selective=True)
    acc.elements((6.0 + (1.0 if stack.dropout else 0.0)) * arch.d_model / sp)


def layer_forward(
    arch: Architecture, kind: str, *, hw: Hardware, mb: Array, seq_len: float, tp: Array, cp: Array, ep: Array
) -> PassCost:
    """One transformer layer ('dense' or 'moe' MLP), forward, one micro-batch, one GPU."""
    tokens = mb * seq_len / cp
    acc = _Acc(hw, tokens)
    _attention(acc, arch, mb, seq_len, tp, cp)
    _mlp(acc, arch, kind, tp, ep)
    _hidden(acc, arch, tp)
    return acc.result()


def head_forward(
    arch: Architecture, *, hw: Hardware, mb: Array, seq_len: float, tp: Array, cp: Array, vocab_p: Array
) -> PassCost:
    """Final norm, output head and cross-entropy, forward, one micro-batch, one GPU."""
    tokens = mb * seq_len / cp
    acc = _Acc(hw, tokens)
    acc.head(vocab_p / tp, arch.d_model)
    acc.bytes(CROSS_ENTROPY_BYTE_PER_LOGIT * tokens * vocab_p / tp)
    acc.elements(2.0 * arch.d_model)
    return acc.result()


def mtp_forward(
    arch: Architecture,
    *,
    hw: Hardware,
    mb: Array,
    seq_len: float,
    tp: Array,
    cp: Array,
    ep: Array,
    vocab_p: Array,
) -> PassCost:
    """Multi-token-prediction modules (DeepSeek-V3 sec. 2.2): per module two norms, a 2h -> h
    projection, one transformer layer and its own output head."""
    tokens = mb * seq_len / cp
    if arch.mtp_depth == 0:
        z = _zeros_like(tokens)
        return PassCost(z, z, z, z, z, z, z)
    acc = _Acc(hw, tokens)
    acc.elements(4.0 * arch.d_model)
    acc.linear(arch.d_model, 2 * arch.d_model / tp)
    kind = "moe" if arch.moe is not None else "dense"
    one = acc.result() + layer_forward(arch, kind, hw=hw, mb=mb, seq_len=seq_len, tp=tp, cp=cp, ep=ep)
    one = one + head_forward(arch, hw=hw, mb=mb, seq_len=seq_len, tp=tp, cp=cp, vocab_p=vocab_p)
    return one.scaled(float(arch.mtp_depth))
