"""Memory per GPU: weights, gradients, optimizer states and activations.

Model states follow Rajbhandari et al. 2020 (ZeRO, sec. 3.1): mixed-precision Adam keeps
2 + 2 + 12 = 16 bytes per parameter; ZeRO stage 1 shards the 12 optimizer bytes over the data
parallel ranks, stage 2 also the gradients, stage 3 also the weights. Activations follow
Korthikanti et al. 2022 ("Reducing Activation Recomputation in Large Transformer Models",
sec. 4): per layer and token, 34 h + 5 a s bytes for a GPT layer without parallelism (10 h + 24
h / t with tensor parallelism, all / t with sequence parallelism), generalised here to GQA,
MLA, gated MLPs and experts by listing the tensors each layer keeps for its backward pass.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...architecture import Architecture
from ...catalog.schema import Accelerator
from .params import GRAD_BYTE, OPTIMIZER_BYTE, WEIGHT_BYTE, SoftwareStack

Array = np.ndarray


# HBM is sold in binary units: an "80 GB" A100 or H100 has 80 GiB (nvidia-smi: 81,920 MiB on A100
# 80GB), 7% more than 80e9 bytes. The catalog keeps the vendor's figure; capacity counts it as GiB.
BYTE_PER_HBM_GB = 2.0**30


def hbm_capacity_byte(accelerator: Accelerator) -> float:
    """Physical HBM of one accelerator, the catalog's GB read as GiB. [byte]"""
    return accelerator.memory_byte / 1e9 * BYTE_PER_HBM_GB


def padded_vocab(vocab: int, tp: Array, multiple: int) -> Array:
    """Vocabulary rounded up to a multiple of `multiple` x tp (Megatron-LM). [1]"""
    step = multiple * np.asarray(tp, dtype=float)
    return np.ceil(vocab / step) * step


@dataclass(frozen=True)
class StageParams:
    """Parameters held by one GPU of the most loaded pipeline stage (arrays over layouts). [1]

    dense : replicated over the data x context parallel ranks (attention, dense and shared
        MLPs, routers, embeddings). expert : routed experts, replicated over dp x cp / ep ranks.
    """

    dense: Array
    expert: Array


def layers_per_stage(arch: Architecture, pp: Array) -> Array:
    """Transformer layers on the most loaded pipeline stage. [1]"""
    return np.ceil(arch.layers / np.asarray(pp, dtype=float))


def stage_params(
    arch: Architecture, tp: Array, pp: Array, ep: Array, vocab_p: Array, copies: Array
) -> StageParams:
    """Parameters per GPU on the most loaded stage (`copies` = 2 for DualPipe). [1]"""
    tp = np.asarray(tp, dtype=float)
    ls = layers_per_stage(arch, pp)
    attn = arch.attn_params / tp
    dense_layer = attn + arch.dense_mlp_params / tp
    moe = arch.moe
    if moe is not None:
        moe_layer_dense = attn + moe.shared_experts * arch.expert_params / tp + arch.router_params
        moe_layer_expert = moe.experts / ep * arch.expert_params / tp
        n_moe = np.minimum(ls, arch.moe_layers)
        n_dense = ls - n_moe
    else:
        moe_layer_dense = moe_layer_expert = np.zeros_like(ls)
        n_moe = np.zeros_like(ls)
        n_dense = ls
    embed = vocab_p * arch.d_model / tp
    head = 0.0 if arch.tied_embeddings else embed
    mtp_dense = arch.mtp_depth * (
        2 * arch.d_model**2 + attn + (moe_layer_dense if moe is not None else arch.dense_mlp_params / tp)
    )
    mtp_expert = arch.mtp_depth * moe_layer_expert
    single = np.asarray(pp) == 1
    # One stage holds everything, or the first (embedding) / last (head, MTP) stage is the larger.
    extra_dense = np.where(single, embed + head + mtp_dense, np.maximum(embed, head + mtp_dense))
    dense = copies * (n_dense * dense_layer + n_moe * moe_layer_dense + extra_dense)
    expert = copies * (n_moe * moe_layer_expert + mtp_expert)
    return StageParams(dense=np.asarray(dense, dtype=float), expert=np.asarray(expert, dtype=float))


def model_state_byte(
    params: StageParams, zero: Array, dense_shards: Array, expert_shards: Array
) -> dict[str, Array]:
    """Weights, gradients and optimizer states per GPU under ZeRO stage `zero`. [byte]

    >>> import numpy as np
    >>> p = StageParams(dense=np.array([7.5e9]), expert=np.array([0.0]))
    >>> s = model_state_byte(p, np.array([0]), np.array([1.0]), np.array([1.0]))
    >>> float(sum(s.values())[0]) / 1e9   # ZeRO paper sec. 3.1: 7.5B params -> 120 GB
    120.0
    """
    zero = np.asarray(zero)

    def sharded(stage: int) -> Array:
        d = np.where(zero >= stage, params.dense / dense_shards, params.dense)
        e = np.where(zero >= stage, params.expert / expert_shards, params.expert)
        return d + e

    return {
        "weights": WEIGHT_BYTE * sharded(3),
        "grads": GRAD_BYTE * sharded(2),
        "optimizer": OPTIMIZER_BYTE * sharded(1),
    }


def activation_byte_per_token(
    arch: Architecture,
    *,
    kind: str,
    tp: Array,
    seq_keys: float,
    stack: SoftwareStack,
    recompute: Array,
    act_byte: float = 2.0,
    gemm_input_byte: float | None = None,
) -> Array:
    """Bytes one layer keeps per token of a micro-batch for its backward pass. [byte]

    kind : 'dense' or 'moe' layer. recompute : 0 none, 1 selective, 2 full.
    act_byte : bytes per stored activation; gemm_input_byte : bytes per stored weight-GEMM
        input (1 in FP8 training, which keeps the FP8 copy it multiplied; default act_byte).

    Kept tensors (Korthikanti et al. 2022 sec. 4.1, generalised): the two norm inputs; the
    inputs of the QKV and MLP-up GEMMs (norm outputs); Q, K, V; the attention output (the
    out-projection input); the unfused kernel's softmax output, dropout mask and output
    (5 a s bytes); the activation function's input and output (the MLP-down input); dropout
    masks; for MoE the dispatched copies of each token. Selective recomputation drops what it
    re-runs (norm outputs, activation outputs, the score matrices, MLA's up-projected Q, K, V);
    full recomputation keeps only the layer input.

    >>> import numpy as np
    >>> from truecost.stages.perf.params import STACKS
    >>> gpt = Architecture(layers=1, d_model=1024, n_heads=16, ffn_dim=4096, vocab=100, glu=False)
    >>> b = activation_byte_per_token(gpt, kind="dense", tp=np.array([1.0]), seq_keys=2048,
    ...     stack=STACKS["megatron-2021"], recompute=np.array([0]))
    >>> float(b[0]) == 34 * 1024 + 5 * 16 * 2048   # Korthikanti et al. 2022: 34 s b h + 5 a s^2 b
    True
    """
    tp = np.asarray(tp, dtype=float)
    rc = np.asarray(recompute)
    a = act_byte
    g = act_byte if gemm_input_byte is None else gemm_input_byte
    h, nh = arch.d_model, arch.n_heads
    sp = tp if stack.sequence_parallel else 1.0
    keep = (2 * h * a + (2 * h if stack.dropout else 0.0)) / sp  # norm inputs; 1-byte dropout masks
    drop = 2 * h * g / sp  # QKV and MLP-up inputs (norm outputs)
    if arch.mla is not None:
        m = arch.mla
        keep = keep + (m.q_lora_rank + m.kv_lora_rank + m.qk_rope_head_dim) * g  # latents
        drop = drop + nh * (2 * arch.qk_head_dim + arch.v_head_dim) * a / tp  # up-projected Q, K, V
    else:
        keep = keep + (nh + 2 * arch.kv_heads) * arch.d_head * a / tp  # Q, K, V
    keep = keep + nh * arch.v_head_dim * g / tp  # attention output
    if not stack.flash_attention:
        # softmax output (2 B), dropout mask (1 B), dropout output (2 B) per score
        drop = drop + (5.0 if stack.dropout else 2.0) * (a / 2.0) * nh / tp * seq_keys
    up = 2 if arch.glu else 1
    if kind == "moe" and arch.moe is not None:
        mo = arch.moe
        f = mo.expert_ffn_dim
        keep = keep + mo.top_k * h * g + (mo.top_k + mo.shared_experts) * up * f * a / tp
        drop = drop + (mo.top_k + mo.shared_experts) * f * g / tp
    else:
        f = arch.ffn_dim
        keep = keep + up * f * a / tp
        drop = drop + f * g / tp
    layer_input = h * a / sp
    return np.where(rc == 2, layer_input, np.where(rc == 1, keep, keep + drop))


def in_flight_micro_batches(pp: Array, m: Array, schedule: Array, v: Array) -> Array:
    """Micro-batches whose activations the first pipeline stage holds at once. [1]

    1F1B: pp (Narayanan et al. 2021); interleaved: pp + (pp - 1) / v (Korthikanti et al. 2022
    sec. 4.2.3); DualPipe: pp + 1 (DeepSeek-V3 report Table 2). Never more than m.
    """
    pp = np.asarray(pp, dtype=float)
    by_schedule = np.choose(np.asarray(schedule), [pp, pp + (pp - 1) / v, pp + 1])
    return np.where(pp == 1, 1.0, np.minimum(m, by_schedule))
