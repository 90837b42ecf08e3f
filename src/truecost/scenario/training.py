"""`training:` tokens, sequence, batch, precision, FLOP convention and reported stages."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from .base import DateText, Frozen, PosFloat

Precision = Literal["bf16", "fp16", "fp8", "tf32", "fp32"]
FlopConvention = Literal["6nd", "megatron", "megatron-noncausal"]


class Stage(Frozen):
    """One reported stage of a run (pre-training, context extension, post-training...)."""

    name: str
    gpu_hours: PosFloat
    tokens: PosFloat | None = None
    source: str = ""


class Training(Frozen):
    tokens: PosFloat | None = Field(None, description="training tokens of the run [1]")
    seq_len: Annotated[int, Field(gt=0)] = Field(
        4096, description="tokens per sequence; default 4096 (DeepSeek-V3 and Llama 3 pre-training)"
    )
    global_batch: Annotated[int, Field(gt=0)] | None = Field(None, description="sequences per optimizer step")
    precision: Precision = "bf16"
    flop_convention: FlopConvention = "megatron"
    flops: PosFloat | None = Field(None, description="known training FLOPs; skips the architecture")
    stages: tuple[Stage, ...] = ()
    start_date: DateText | None = Field(
        None,
        description="when the run started, YYYY, YYYY-MM or YYYY-MM-DD: picks prices, stack and hardware age",
    )
