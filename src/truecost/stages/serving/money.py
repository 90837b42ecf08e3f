"""Serving money: $ per million tokens, GPUs for a daily volume, cost, revenue and margin.

Pure numpy expressions: scalars or arrays of Monte Carlo draws in, the same shape out.

>>> round(usd_per_m_tokens(2.0, 1850.0), 4)  # DeepSeek Day 6 decode: $2/GPU-h at 14.8k/8 tokens/s
0.3003
>>> cost_usd_per_day(1814, 2.0)  # 226.75 nodes x 8 H800 at $2/h
87072.0
>>> round(cost_profit_margin(562_027.0, 87_072.0), 3)
5.455
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...units import HOURS_PER_DAY, MEGA, SECONDS_PER_DAY, SECONDS_PER_HOUR


def usd_per_m_tokens(usd_per_gpu_hour: Any, tokens_per_s_per_gpu: Any, time_share: Any = 1.0) -> Any:
    """Cost of a million tokens. [USD/Mtoken]

    usd_per_gpu_hour : numeric      price of one GPU-hour. [USD/h]
    tokens_per_s_per_gpu : numeric  sustained rate per GPU. [token/s]
    time_share : numeric            share of the GPU's time these tokens take (a shared replica
                                    splits its time between prefill and decode). [1]
    """
    return usd_per_gpu_hour * time_share / (tokens_per_s_per_gpu * SECONDS_PER_HOUR) * MEGA


def gpus_for_volume(daily_tokens: Any, tokens_per_s_per_gpu: Any) -> Any:
    """GPUs that serve `daily_tokens` a day at a sustained rate (fractional; no idle slack). [1]"""
    return daily_tokens / (tokens_per_s_per_gpu * SECONDS_PER_DAY)


def whole_units(gpus: Any, unit: int) -> Any:
    """GPUs rounded up to whole replicas of `unit` GPUs (a fleet deploys whole instances). [1]

    >>> float(whole_units(1813.2, 144)), float(whole_units(144.0, 144))
    (1872.0, 144.0)
    """
    # The relative tolerance keeps an exact multiple, computed in floating point, from rounding up.
    return np.ceil(np.asarray(gpus, dtype=float) / unit * (1 - 1e-12)) * unit


def volume_for_gpus(gpus: Any, tokens_per_s_per_gpu: Any) -> Any:
    """Tokens a day that `gpus` serve at a sustained rate. [token]"""
    return gpus * tokens_per_s_per_gpu * SECONDS_PER_DAY


def cost_usd_per_day(gpus: Any, usd_per_gpu_hour: Any) -> Any:
    """Fleet cost of a day. [USD]"""
    return gpus * HOURS_PER_DAY * usd_per_gpu_hour


def revenue_usd_per_day(
    daily_input_tokens: Any,
    daily_output_tokens: Any,
    cache_hit_rate: Any,
    price_input: Any,
    price_output: Any,
    price_input_cache_hit: Any = None,
) -> Any:
    """Revenue of a day at list prices per million tokens; cache hits at their own price (the
    miss price when none is given). [USD]

    >>> round(revenue_usd_per_day(608e9, 168e9, 0.563, 0.55, 2.19, 0.14))  # Day 6, R1 prices
    561975
    """
    hit_price = price_input if price_input_cache_hit is None else price_input_cache_hit
    hits = daily_input_tokens * cache_hit_rate
    misses = daily_input_tokens - hits
    return (hits * hit_price + misses * price_input + daily_output_tokens * price_output) / MEGA


def break_even_paid_share(cost_usd: Any, full_revenue_usd: Any) -> Any:
    """Share of the traffic that must pay list prices for revenue to cover the cost (above 1: even
    billing every token loses money). [1]

    >>> round(break_even_paid_share(87_072.0, 562_027.0), 3)  # Day 6 at R1 prices
    0.155
    """
    return cost_usd / full_revenue_usd


def cost_profit_margin(revenue_usd: Any, cost_usd: Any) -> Any:
    """Revenue / cost - 1 (DeepSeek's "cost profit margin": 545% on Day 6). [1]"""
    return revenue_usd / cost_usd - 1.0
