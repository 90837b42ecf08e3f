"""Transformer architectures and their parameter counts.

Dense and mixture-of-experts decoders with grouped-query (GQA) or multi-head latent attention
(MLA, DeepSeek-V2/V3), gated (SwiGLU) or plain MLPs, shared + routed experts with leading dense
layers, and multi-token-prediction (MTP) modules. Counts follow the weight shapes of
Megatron-LM / Hugging Face configs; norms and biases are ignored (< 0.01% of parameters).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, model_validator


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MoE(_Frozen):
    """Mixture-of-experts MLP. Shared experts run on every token; `top_k` routed ones are chosen."""

    experts: PositiveInt = Field(description="routed experts per MoE layer")
    top_k: PositiveInt = Field(description="routed experts active per token")
    expert_ffn_dim: PositiveInt = Field(description="hidden width of one expert's MLP")
    shared_experts: int = Field(0, ge=0, description="experts every token goes through")
    first_dense_layers: int = Field(0, ge=0, description="leading layers with a dense MLP of ffn_dim")

    @model_validator(mode="after")
    def _k_le_experts(self) -> MoE:
        if self.top_k > self.experts:
            raise ValueError(f"moe.top_k ({self.top_k}) must be <= moe.experts ({self.experts})")
        return self


class MLA(_Frozen):
    """Multi-head latent attention (DeepSeek-V2 sec. 2.1): low-rank Q and joint KV compression."""

    q_lora_rank: int = Field(ge=0, description="0 means Q is projected directly from d_model")
    kv_lora_rank: PositiveInt
    qk_nope_head_dim: PositiveInt
    qk_rope_head_dim: PositiveInt
    v_head_dim: PositiveInt


class Architecture(_Frozen):
    """A decoder-only transformer.

    >>> a = Architecture(arch="dense", layers=2, d_model=64, n_heads=4, ffn_dim=256, vocab=100)
    >>> a.params_total  # 2 x (4 h^2 attention + 3 h F SwiGLU) + 2 V h
    143872
    """

    name: str = ""
    arch: Literal["dense", "moe"] = "dense"
    layers: PositiveInt
    d_model: PositiveInt
    n_heads: PositiveInt
    n_kv_heads: PositiveInt | None = Field(default=None, description="GQA groups; default n_heads")
    head_dim: PositiveInt | None = Field(default=None, description="default d_model / n_heads")
    ffn_dim: PositiveInt = Field(description="dense-layer MLP width")
    glu: bool = Field(True, description="gated MLP (SwiGLU): 3 matrices instead of 2")
    vocab: PositiveInt
    tied_embeddings: bool = False
    moe: MoE | None = None
    mla: MLA | None = None
    mtp_depth: int = Field(0, ge=0, description="multi-token-prediction modules (DeepSeek-V3: 1)")
    source: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> Architecture:
        if self.arch == "moe" and self.moe is None:
            raise ValueError("model.moe is required when model.arch is 'moe'")
        if self.arch == "dense" and self.moe is not None:
            raise ValueError("model.moe given but model.arch is 'dense'; set arch: moe")
        if self.n_kv_heads is not None and self.n_heads % self.n_kv_heads:
            raise ValueError(
                f"model.n_kv_heads ({self.n_kv_heads}) must divide model.n_heads ({self.n_heads})"
            )
        if self.moe is not None and self.moe.first_dense_layers > self.layers:
            raise ValueError("model.moe.first_dense_layers must be <= model.layers")
        return self

    # ---- shapes -------------------------------------------------------------------------
    @property
    def kv_heads(self) -> int:
        return self.n_kv_heads or self.n_heads

    @property
    def d_head(self) -> int:
        return self.head_dim or self.d_model // self.n_heads

    @property
    def qk_head_dim(self) -> int:
        """Width of one head's query/key (MLA: nope + rope parts)."""
        if self.mla is not None:
            return self.mla.qk_nope_head_dim + self.mla.qk_rope_head_dim
        return self.d_head

    @property
    def v_head_dim(self) -> int:
        return self.mla.v_head_dim if self.mla is not None else self.d_head

    @property
    def dense_layers(self) -> int:
        return self.layers if self.moe is None else self.moe.first_dense_layers

    @property
    def moe_layers(self) -> int:
        return self.layers - self.dense_layers

    # ---- parameter counts (weights of the matmuls) --------------------------------------
    @property
    def attn_params(self) -> int:
        """Attention projection weights of one layer."""
        h, nh = self.d_model, self.n_heads
        if self.mla is not None:
            m = self.mla
            d_qk = m.qk_nope_head_dim + m.qk_rope_head_dim
            q = h * nh * d_qk if m.q_lora_rank == 0 else h * m.q_lora_rank + m.q_lora_rank * nh * d_qk
            kv = h * (m.kv_lora_rank + m.qk_rope_head_dim) + m.kv_lora_rank * nh * (
                m.qk_nope_head_dim + m.v_head_dim
            )
            o = nh * m.v_head_dim * h
            return q + kv + o
        dh = self.d_head
        return h * nh * dh + 2 * h * self.kv_heads * dh + nh * dh * h

    def _mlp_params(self, width: int) -> int:
        return (3 if self.glu else 2) * self.d_model * width

    @property
    def dense_mlp_params(self) -> int:
        return self._mlp_params(self.ffn_dim)

    @property
    def expert_params(self) -> int:
        """One expert's MLP weights."""
        return 0 if self.moe is None else self._mlp_params(self.moe.expert_ffn_dim)

    @property
    def router_params(self) -> int:
        return 0 if self.moe is None else self.d_model * self.moe.experts

    @property
    def moe_layer_mlp_params(self) -> int:
        if self.moe is None:
            return 0
        return (self.moe.experts + self.moe.shared_experts) * self.expert_params + self.router_params

    @property
    def moe_layer_mlp_active_params(self) -> int:
        if self.moe is None:
            return 0
        return (self.moe.top_k + self.moe.shared_experts) * self.expert_params + self.router_params

    @property
    def embedding_params(self) -> int:
        return self.vocab * self.d_model

    @property
    def head_params(self) -> int:
        return 0 if self.tied_embeddings else self.vocab * self.d_model

    def _body_params(self, active: bool) -> int:
        moe_mlp = self.moe_layer_mlp_active_params if active else self.moe_layer_mlp_params
        return (
            self.layers * self.attn_params
            + self.dense_layers * self.dense_mlp_params
            + self.moe_layers * moe_mlp
        )

    @property
    def mtp_module_params(self) -> int:
        """One MTP module (DeepSeek-V3 sec. 2.2): a 2h -> h projection plus one transformer layer
        (an MoE layer when the model has experts); embedding and output head are shared."""
        layer_mlp = self.moe_layer_mlp_params if self.moe is not None else self.dense_mlp_params
        return 2 * self.d_model * self.d_model + self.attn_params + layer_mlp

    @property
    def params_total(self) -> int:
        """All weights of the main model (MTP modules excluded, as DeepSeek counts 671B). [1]"""
        return self._body_params(active=False) + self.embedding_params + self.head_params

    @property
    def params_active(self) -> int:
        """Weights touched per token (embedding and head included). [1]"""
        return self._body_params(active=True) + self.embedding_params + self.head_params

    @property
    def params_non_embedding_active(self) -> int:
        return self._body_params(active=True)
