"""Cited default values. Every default the chain uses is a `Cited` and lands in the output's
assumptions when used (STYLE.md item 5: no invisible defaults)."""

from __future__ import annotations

from dataclasses import dataclass

EPOCH_COST_MODEL = (
    "Epoch AI, training-cost-trends cost model (github.com/epoch-research/training-cost-trends, "
    "cost_analysis_standalone.py; Cottier et al. 2024, arXiv:2405.21015)"
)


@dataclass(frozen=True)
class Cited:
    """A default value with where it comes from."""

    value: float
    unit: str
    source: str
    accessed: str = "2026-09-28"


# Per-accelerator factors (server-to-chip power, average power, server overheads, lives) are catalog
# rows: truecost.catalog.factors, data/ownership_factors.csv.

PUE = Cited(
    1.25,
    "1",
    EPOCH_COST_MODEL + ": PUE 1.25 for non-hyperscalers (1.1 hyperscalers; Uptime Institute 2025 "
    "survey average 1.54)",
)
ELECTRICITY_USD_PER_KWH = Cited(
    0.0826, "USD/kWh", EPOCH_COST_MODEL + ": average US industrial electricity price 2025 (EIA-based)"
)
MFU_WHEN_UNKNOWN = Cited(
    0.375,
    "1",
    EPOCH_COST_MODEL + ": median MFU of 33 known training runs, used when neither MFU nor a layout is known",
)
