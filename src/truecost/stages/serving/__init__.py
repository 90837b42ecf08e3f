"""The serving stage: throughput from the architecture, the accelerator and the workload, then
$ per million tokens, GPUs for a daily volume, cost, revenue and margin.

Modules: `memory` (weights and KV bytes), `timing` (prefill and decode step time with TP/EP
communication), `throughput` (batch limits and rates of one layout), `layout` (replica search),
`money`, `params` (fitted and cited constants), `calibrate` (the fit and its leave-one-out
errors), `datasets` (the published runs), `stage` (ServingResult and `stage`).
"""

from __future__ import annotations

from .stage import ServingResult, stage

__all__ = ["ServingResult", "stage"]
