"""`serving:` the fleet that serves a model, its workload and its prices (DESIGN.md, v2).

Only the shape of the input is checked here; whether a replica fits in memory or a `tpot_ms`
can be met depends on the architecture and the accelerator and is checked by the serving stage.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from .base import AcceleratorId, Frozen, Range

# Bounds. DeepSeek's published day (Feb 2025): 1,814 GPUs, 608e9 input and 168e9 output tokens,
# 3,619 / 1,000 tokens per request, 47.6 ms per output token, $0.14-2.19 per million tokens.
SERVING_GPUS = Range(1, 1e8, "accelerators", plausible=(1, 2e6), whole=True)
REPLICA_GPUS = Range(1, 1e5, "accelerators", plausible=(1, 4096), whole=True)
REQUEST_TOKENS = Range(0, 1e8, "tokens", plausible=(1, 2e6), lo_open=True)
DAILY_TOKENS = Range(0, 1e17, "tokens a day", plausible=(1e3, 1e15), lo_open=True)
TPOT_MS = Range(0, 1e6, "ms", plausible=(1, 1000), lo_open=True)
RATE = Range(0, 1e8, "tokens/s", plausible=(1, 1e6), lo_open=True)
FACTOR = Range(0, 100, plausible=(0.1, 10), lo_open=True)
PRICE_PER_M = Range(0, 1e4, "USD per million tokens", plausible=(0, 1000))
# Average load / sustained capacity over the day; below 0.2 a fleet is mostly idle.
UTILISATION = Range(0, 1, plausible=(0.2, 1), lo_open=True)
# Share of the traffic billed at list prices (DeepSeek: web and app use is free).
PAID_SHARE = Range(0, 1)
# Other price lists to compare the margin at (a handful: each is a line of the output).
MAX_PRICE_SCENARIOS = 20
PriceName = Annotated[
    str, Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._()/+%,:-]*$")
]

ServingGpus = Annotated[int, SERVING_GPUS]
ReplicaGpus = Annotated[int, REPLICA_GPUS]
Tokens = Annotated[float, REQUEST_TOKENS]

ServingPrecision = Literal["bf16", "fp16", "fp8", "fp4"]
KvPrecision = Literal["bf16", "fp16", "fp8"]
HitRate = Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)]


class Replica(Frozen):
    """One model instance: `gpus` accelerators; attention split `tp` ways and replicated `dp`
    times (tp x dp = gpus); routed experts spread over `ep` of them (MoE only)."""

    gpus: ReplicaGpus = Field(description="accelerators in one replica")
    tp: ReplicaGpus = Field(1, description="tensor-parallel degree of attention and dense layers")
    ep: ReplicaGpus = Field(1, description="expert-parallel degree (routed experts spread over ep GPUs)")
    dp: ReplicaGpus | None = Field(None, description="attention data-parallel degree; default gpus / tp")

    @model_validator(mode="after")
    def _layout(self) -> Replica:
        dp = self.dp if self.dp is not None else self.gpus // self.tp
        if self.tp * dp != self.gpus:
            raise ValueError(f"tp x dp must equal gpus: {self.tp} x {dp} = {self.tp * dp}, not {self.gpus}")
        if self.ep > self.gpus or self.gpus % self.ep:
            raise ValueError(f"ep ({self.ep}) must divide gpus ({self.gpus})")
        return self

    @property
    def attention_dp(self) -> int:
        return self.dp if self.dp is not None else self.gpus // self.tp


class TokenPrices(Frozen):
    """List prices per million tokens. [USD/Mtoken]"""

    input_cache_hit: Annotated[float, PRICE_PER_M] | None = Field(
        None, description="input served from the prefix cache"
    )
    input: Annotated[float, PRICE_PER_M] = Field(description="input computed (cache miss)")
    output: Annotated[float, PRICE_PER_M] = Field(description="output (completion) tokens")


class Serving(Frozen):
    accelerator: AcceleratorId | None = Field(None, description="default cluster.accelerator")
    precision: ServingPrecision = Field("fp8", description="weights and matmul precision")
    kv_precision: KvPrecision | None = Field(
        None, description="KV-cache and attention-core precision; default the precision (fp8 for fp4)"
    )
    gpus: ServingGpus | None = Field(None, description="GPUs serving; omit to size from the daily volume")
    replica: Replica | None = Field(None, description="decode (or combined) instance; searched when absent")
    prefill_replica: Replica | None = Field(None, description="present = prefill/decode disaggregated")
    input_tokens: Tokens = Field(description="mean prompt length per request [token]")
    output_tokens: Tokens = Field(description="mean completion length [token]")
    context_tokens: Tokens | None = Field(
        None,
        description="mean KV length while decoding, per output token (long completions weigh more, so it "
        "may exceed input + output / 2); default input + output / 2 [token]",
    )
    cache_hit_rate: HitRate = Field(0.0, description="share of input tokens served from the prefix cache")
    tpot_ms: Annotated[float, TPOT_MS] | None = Field(
        None, description="latency target per output token; omit for maximum throughput [ms]"
    )
    output_tokens_per_s_per_gpu: Annotated[float, RATE] | None = Field(
        None, description="measured decode rate; skips the throughput model [token/s]"
    )
    input_tokens_per_s_per_gpu: Annotated[float, RATE] | None = Field(
        None, description="measured prefill rate, cache hits counted; skips the throughput model [token/s]"
    )
    throughput_factor: Annotated[float, FACTOR] = Field(
        1.0,
        description="multiplier on the predicted rates (not on measured ones); in Monte Carlo runs the "
        "chain draws it from the calibration's leave-one-out errors unless it is given",
    )
    utilisation: Annotated[float, UTILISATION] = Field(
        1.0,
        description="average load over the day as a share of the sustained rate: GPUs are sized, a "
        "fleet's volume and the cost per token computed at rate x utilisation (1 = full load around "
        "the clock, as in benchmarks; measured daily averages already include it)",
    )
    daily_input_tokens: Annotated[float, DAILY_TOKENS] | None = Field(
        None, description="input tokens served per day [token]"
    )
    daily_output_tokens: Annotated[float, DAILY_TOKENS] | None = Field(
        None, description="output tokens served per day [token]"
    )
    price_usd_per_m_tokens: TokenPrices | None = Field(None, description="list prices for the revenue")
    paid_share: Annotated[float, PAID_SHARE] = Field(
        1.0,
        description="share of the traffic billed at the list prices (1 = every token, as DeepSeek's "
        "theoretical revenue; free web and app use lowers it); revenue scales with it",
    )
    price_scenarios: Annotated[dict[PriceName, TokenPrices], Field(max_length=MAX_PRICE_SCENARIOS)] | None = (
        Field(
            None,
            description="other price lists to show the revenue and margin at, by name (e.g. a cheaper model's "
            "prices); the margin of each and the paid share at which it breaks even",
        )
    )

    @field_validator("replica", "prefill_replica")
    @classmethod
    def _within_fleet(cls, rep: Replica | None, info: ValidationInfo) -> Replica | None:
        gpus = info.data.get("gpus")
        if rep is not None and gpus is not None and rep.gpus > gpus:
            raise ValueError(
                f"a replica of {rep.gpus} GPUs is larger than serving.gpus ({gpus}), by {rep.gpus - gpus} GPUs"
            )
        return rep

    @model_validator(mode="after")
    def _consistent(self) -> Serving:
        if self.gpus is None and self.daily_output_tokens is None and self.daily_input_tokens is None:
            raise ValueError(
                "give serving.gpus, or a daily volume (daily_output_tokens) to size the fleet from"
            )
        return self

    @property
    def mean_context_tokens(self) -> float:
        """Mean KV length while decoding: given, else input + output / 2. [token]"""
        if self.context_tokens is not None:
            return self.context_tokens
        return self.input_tokens + self.output_tokens / 2

    @property
    def disaggregated(self) -> bool:
        return self.prefill_replica is not None
