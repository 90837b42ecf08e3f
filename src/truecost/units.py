"""Named constants and unit conversions.

Formulas never contain a bare 1e12 or 3600: they use the names below. Catalog values are
stored as their sources publish them (TFLOPS, GB, TB/s, W) and converted once, at load.
"""

from __future__ import annotations

SECONDS_PER_HOUR = 3600.0
HOURS_PER_DAY = 24.0
SECONDS_PER_DAY = SECONDS_PER_HOUR * HOURS_PER_DAY
DAYS_PER_YEAR = 365.25
HOURS_PER_YEAR = HOURS_PER_DAY * DAYS_PER_YEAR  # 8766 h, the year Epoch AI's cost model uses
MONTHS_PER_YEAR = 12.0
MS_PER_S = 1e3

TERA = 1e12
GIGA = 1e9
MEGA = 1e6
KILO = 1e3

FLOP_PER_TFLOP = TERA
BYTE_PER_GB = GIGA
BYTE_PER_TB = TERA
BIT_PER_BYTE = 8.0
W_PER_KW = KILO
W_PER_MW = MEGA
KWH_PER_MWH = KILO
G_PER_KG = KILO
KG_PER_T = KILO  # metric tonnes
G_PER_T = MEGA

# A multiply-add is two floating-point operations.
FLOP_PER_MAC = 2.0
# Backward pass costs twice the forward (gradients w.r.t. activations and weights), so
# training is 3 x forward (Kaplan et al. 2020; Narayanan et al. 2021).
TRAIN_PASSES = 3.0


def tflops_to_flop_per_s(tflops: float) -> float:
    """TFLOPS as published -> FLOP/s."""
    return tflops * FLOP_PER_TFLOP


def gb_to_byte(gb: float) -> float:
    """GB (decimal, as vendors publish) -> bytes."""
    return gb * BYTE_PER_GB


def gbit_per_s_to_byte_per_s(gbit_per_s: float) -> float:
    """Gbit/s (network line rate) -> byte/s."""
    return gbit_per_s * GIGA / BIT_PER_BYTE
