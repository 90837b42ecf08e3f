"""FLOPs per token and per run, under named conventions.

Every FLOP figure truecost prints says which convention produced it: an MFU means nothing
without its FLOP count (formulas.md sec. 1).

- ``6nd``: 6 x active parameters per token (Kaplan et al. 2020, "Scaling Laws", sec. 2.1).
- ``megatron``: 3 passes x 2 FLOP x every matmul's multiply-adds, with the causal attention
  core halved (Megatron-LM ``num_floating_point_operations``, since March 2025; FlashAttention
  convention; DeepSeek-V3's causal MFU uses it).
- ``megatron-noncausal``: the same with the full s x s attention core (Megatron-LM before
  March 2025; PaLM appendix B counts attention this way too).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..architecture import Architecture
from ..scenario.training import Training
from ..units import FLOP_PER_MAC, TRAIN_PASSES
from .base import Notes, StageResult, quantity

FLOP_CONVENTIONS = ("6nd", "megatron", "megatron-noncausal")


@dataclass(frozen=True)
class MacsPerToken:
    """Forward multiply-adds per token, by part. [MAC]"""

    projections: float  # attention Q/K/V/O (or MLA low-rank) weights
    mlp: float  # dense + active expert MLPs + router
    attention_core: float  # QK^T and softmax x V, full (non-causal) sequence
    logits: float
    mtp: float  # multi-token-prediction modules (full attention core)
    mtp_attention_core: float

    def total(self, causal: bool) -> float:
        core_share = 0.5 if causal else 1.0
        return (
            self.projections
            + self.mlp
            + self.logits
            + self.mtp
            + core_share * (self.attention_core + self.mtp_attention_core)
        )


def attention_core_macs_per_layer(arch: Architecture, seq_len: float) -> float:
    """QK^T plus softmax x V per token of one layer, full sequence. [MAC]

    Megatron-LM: (n_heads * d_qk + n_heads * d_v) * s.
    """
    return (arch.n_heads * arch.qk_head_dim + arch.n_heads * arch.v_head_dim) * seq_len


def macs_per_token(arch: Architecture, seq_len: float) -> MacsPerToken:
    """Forward multiply-adds per token, split by part. [MAC]"""
    core = attention_core_macs_per_layer(arch, seq_len)
    # Megatron-LM's count leaves out the router's h x experts matmul (0.25% of DeepSeek-V3).
    moe_mlp = arch.moe_layer_mlp_active_params - arch.router_params
    mlp = arch.dense_layers * arch.dense_mlp_params + arch.moe_layers * moe_mlp
    # One MTP module = 2h->h projection + one transformer layer + its own logits (formulas.md).
    mtp_layer_mlp = moe_mlp if arch.moe is not None else arch.dense_mlp_params
    mtp_one = 2 * arch.d_model**2 + arch.attn_params + mtp_layer_mlp + arch.d_model * arch.vocab
    return MacsPerToken(
        projections=arch.layers * arch.attn_params,
        mlp=mlp,
        attention_core=arch.layers * core,
        logits=arch.d_model * arch.vocab,
        mtp=arch.mtp_depth * mtp_one,
        mtp_attention_core=arch.mtp_depth * core,
    )


def _six_nd(arch: Architecture, seq_len: float) -> float:
    return 2.0 * TRAIN_PASSES * arch.params_active


def _megatron(arch: Architecture, seq_len: float) -> float:
    return FLOP_PER_MAC * TRAIN_PASSES * macs_per_token(arch, seq_len).total(causal=True)


def _megatron_noncausal(arch: Architecture, seq_len: float) -> float:
    return FLOP_PER_MAC * TRAIN_PASSES * macs_per_token(arch, seq_len).total(causal=False)


_CONVENTIONS: dict[str, Callable[[Architecture, float], float]] = {
    "6nd": _six_nd,
    "megatron": _megatron,
    "megatron-noncausal": _megatron_noncausal,
}


def flops_per_token(arch: Architecture, seq_len: float, convention: str = "megatron") -> float:
    """Training FLOPs (forward + backward) per token. [FLOP]

    arch : Architecture        the model.
    seq_len : numeric          tokens per sequence. [1]
    convention : str           one of ``FLOP_CONVENTIONS``.

    >>> a = Architecture(layers=2, d_model=64, n_heads=4, ffn_dim=256, vocab=100, glu=False)
    >>> flops_per_token(a, 128, "6nd") == 6 * a.params_active
    True
    """
    try:
        fn = _CONVENTIONS[convention]
    except KeyError:
        raise ValueError(
            f"flop_convention {convention!r} is unknown; expected one of {', '.join(FLOP_CONVENTIONS)}"
        ) from None
    return fn(arch, seq_len)


def training_flops(flops_per_token_: np.ndarray | float, tokens: np.ndarray | float) -> np.ndarray | float:
    """Model FLOPs of a run. [FLOP]

    flops_per_token_ : numeric   FLOPs per token, fwd + bwd. [FLOP]
    tokens : numeric             training tokens. [1]
    """
    return flops_per_token_ * tokens


def narayanan_flops_per_iteration(
    batch: float, seq_len: float, layers: float, d_model: float, vocab: float
) -> float:
    """Hardware FLOPs of one iteration with full recomputation, dense GPT. [FLOP]

    Narayanan et al. 2021 (SC'21) eq. 3: 96 B s l h^2 (1 + s/(6h) + V/(16 l h)).
    Their Table 1 TFLOP/s use this count.
    """
    h = d_model
    return 96.0 * batch * seq_len * layers * h**2 * (1 + seq_len / (6 * h) + vocab / (16 * layers * h))


# ---- stage ---------------------------------------------------------------------------------
TOKENS_IMPLAUSIBLY_FEW = 1e6  # fewer tokens than this is almost surely a unit slip (14.8 vs 14.8e12)


@dataclass(frozen=True, kw_only=True)
class FlopsResult(StageResult):
    """flops_per_token : model FLOPs per token, fwd + bwd, under `convention`. [FLOP]
    training_flops : model FLOPs of the run. [FLOP]
    convention : the FLOP convention, or "given" when the scenario states the run's FLOPs.
    by_convention : FLOPs per token under every convention (point run only). [FLOP]
    parts : FLOPs per token by part (attention projections, MLP, attention core, logits, MTP). [FLOP]
    """

    flops_per_token: Any = quantity("FLOP")
    training_flops: Any = quantity("FLOP")
    convention: str = ""
    by_convention: Mapping[str, float] | None = None
    parts: Mapping[str, float] | None = None


def stage(training: Training, arch: Architecture | None, *, point: bool = True) -> FlopsResult:
    notes = Notes(point)
    conv = training.flop_convention
    if training.flops is not None:
        return FlopsResult(
            training_flops=training.flops,
            convention="given",
            formulas={"training_flops": "given (training.flops)"},
        )
    if arch is None:
        return FlopsResult()
    fpt = flops_per_token(arch, training.seq_len, conv)
    formulas = {"flops_per_token": f"{conv} convention, fwd+bwd, s = {training.seq_len}"}
    by_conv = parts = None
    if point:
        by_conv = {c: flops_per_token(arch, training.seq_len, c) for c in FLOP_CONVENTIONS}
        macs = macs_per_token(arch, training.seq_len)
        parts = {
            "attention_projections": 6 * macs.projections,
            "mlp": 6 * macs.mlp,
            "attention_core_full": 6 * macs.attention_core,
            "logits": 6 * macs.logits,
            "mtp": 6 * (macs.mtp + macs.mtp_attention_core),
        }
    total = None
    tokens = training.tokens
    if tokens is not None:
        if point and tokens < TOKENS_IMPLAUSIBLY_FEW:
            notes.warn(f"training.tokens = {tokens:g} is implausibly small; did you mean {tokens:g}e12?")
        total = training_flops(fpt, tokens)
        formulas["training_flops"] = f"flops_per_token x training.tokens ({conv})"
    return FlopsResult(
        flops_per_token=fpt,
        training_flops=total,
        convention=conv,
        by_convention=by_conv,
        parts=parts,
        formulas=formulas,
        warnings=notes.warnings,
    )
