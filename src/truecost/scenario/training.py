"""`training:` tokens, sequence, batch, precision, FLOP convention and reported stages."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from .base import DateText, Frozen, Range

# Bounds. The largest published runs: 36e12 tokens (Qwen3), 3.8e25 FLOPs (Llama 3.1 405B),
# sequences of 131,072 tokens in long-context stages, 15,360 sequences per step (DeepSeek-V3).
# Upper bounds also keep the layout search bounded: it enumerates divisors of seq_len and of
# the batch (a square-root loop each).
TOKENS = Range(0, 1e16, "tokens", plausible=(1e8, 1e15), lo_open=True)
SEQ_LEN = Range(1, 2**27, "tokens", plausible=(128, 2**21), whole=True)
GLOBAL_BATCH = Range(1, 2**27, "sequences", plausible=(1, 2**20), whole=True)
FLOPS = Range(0, 1e32, "FLOP", plausible=(1e15, 1e29), lo_open=True)
GPU_HOURS = Range(0, 1e12, "GPU-hours", plausible=(1, 1e10), lo_open=True)

Precision = Literal["bf16", "fp16", "fp8", "tf32", "fp32"]
FlopConvention = Literal["6nd", "megatron", "megatron-noncausal"]


class Stage(Frozen):
    """One reported stage of a run (pre-training, context extension, post-training...)."""

    name: str
    gpu_hours: Annotated[float, GPU_HOURS]
    tokens: Annotated[float, TOKENS] | None = None
    source: str = ""


class Training(Frozen):
    tokens: Annotated[float, TOKENS] | None = Field(None, description="training tokens of the run [1]")
    seq_len: Annotated[int, SEQ_LEN] = Field(
        4096, description="tokens per sequence; default 4096 (DeepSeek-V3 and Llama 3 pre-training)"
    )
    global_batch: Annotated[int, GLOBAL_BATCH] | None = Field(
        None, description="sequences per optimizer step"
    )
    precision: Precision = "bf16"
    flop_convention: FlopConvention = "megatron"
    flops: Annotated[float, FLOPS] | None = Field(
        None, description="known training FLOPs; skips the architecture"
    )
    stages: tuple[Stage, ...] = ()
    start_date: DateText | None = Field(
        None,
        description="when the run started, YYYY, YYYY-MM or YYYY-MM-DD: picks prices, stack and hardware age",
    )
