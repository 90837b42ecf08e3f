"""Registries of depreciation views and facility methods (dispatch by name, STYLE.md item 4)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ...defaults import Cited
from .defaults import (
    BUILD_USD_PER_MW,
    COLOCATION_USD_PER_KW_MONTH,
    COST_OF_CAPITAL,
    DECAY_OOM_PER_YEAR,
    FACILITY_LIFE_YEARS,
    FLEET_UTILISATION,
    HARDWARE_AGE_YEARS,
    HORIZON_YEARS,
    LIFE_YEARS,
    MAINTENANCE_SHARE_PER_YEAR,
    NETWORKING_SHARE,
    OPERATIONS_SHARE_PER_YEAR,
    STORAGE_SHARE,
)
from .formulas import (
    colocation_usd_per_year,
    epoch_decay_mean_value_usd,
    epoch_decay_over_horizon_usd,
    epoch_decay_usd_per_year,
    epoch_decay_value_usd,
    owned_build_capex_usd,
    straight_line_mean_book_usd,
    straight_line_over_horizon_usd,
    straight_line_usd_per_year,
)


# ---- registries ----------------------------------------------------------------------------
@dataclass(frozen=True)
class DepreciationMethod:
    """One view of how owned hardware loses value.

    usd_per_year(capex, life, age, decay)            depreciation charged in a year of use [USD/yr]
    capital_tied_usd(capex, life, age, decay)         capital a typical hour ties up [USD]
    over_horizon_usd(capex, life, horizon, decay)     value lost in the first `horizon` years [USD]
    mean_value_usd(capex, life, horizon, decay)       mean value held over the horizon [USD]
    """

    label: str
    usd_per_year: Callable[[Any, Any, Any, Any], Any]
    capital_tied_usd: Callable[[Any, Any, Any, Any], Any]
    over_horizon_usd: Callable[[Any, Any, Any, Any], Any]
    mean_value_usd: Callable[[Any, Any, Any, Any], Any]
    terms: str = "full"  # a key of owned.TERM_SETS: which owned-cost terms the method charges


DEPRECIATION_METHODS: dict[str, DepreciationMethod] = {
    "straight-line": DepreciationMethod(
        label="accounting straight-line over the stated life (hyperscalers: 5-6 years); capital "
        "tied up = mean book value over the life (half the price)",
        usd_per_year=lambda c, life, age, k: straight_line_usd_per_year(c, life),
        capital_tied_usd=lambda c, life, age, k: straight_line_mean_book_usd(c, life, life),
        over_horizon_usd=lambda c, life, h, k: straight_line_over_horizon_usd(c, life, h),
        mean_value_usd=lambda c, life, h, k: straight_line_mean_book_usd(c, life, h),
    ),
    "value-decay": DepreciationMethod(
        label="value decay at 0.14 orders of magnitude a year (Epoch AI's rate) from the hardware's "
        "acquisition to the run, charged at 0.14 ln10 of the value a year; plus cost of capital on that "
        "value, maintenance, operations, storage and facility (truecost's full owned cost, not Epoch's method)",
        usd_per_year=lambda c, life, age, k: epoch_decay_usd_per_year(c, age, k),
        capital_tied_usd=lambda c, life, age, k: epoch_decay_value_usd(c, age, k),
        over_horizon_usd=lambda c, life, h, k: epoch_decay_over_horizon_usd(c, k, h),
        mean_value_usd=lambda c, life, h, k: epoch_decay_mean_value_usd(c, k, h),
    ),
    "epoch": DepreciationMethod(
        label="Epoch AI's amortised hardware + energy method (Cottier et al. 2024; training-cost-trends "
        "code at HEAD 263c40a): earliest known price (a DGX price where one exists) x server overhead, "
        "decayed 0.14 OOM/yr to the training start, charged at 0.14 ln10 a year, + interconnect 0.19 of "
        "cluster cost, + energy; nothing else",
        usd_per_year=lambda c, life, age, k: epoch_decay_usd_per_year(c, age, k),
        capital_tied_usd=lambda c, life, age, k: 0.0 * c,
        over_horizon_usd=lambda c, life, h, k: epoch_decay_over_horizon_usd(c, k, h),
        mean_value_usd=lambda c, life, h, k: epoch_decay_mean_value_usd(c, k, h),
        terms="epoch",
    ),
}
OWNERSHIP_METHODS = DEPRECIATION_METHODS  # v2 name: `ownership.method` picks one of these


@dataclass(frozen=True)
class FacilityMethod:
    """Where the hardware lives. `inputs` are the Ownership fields the method reads;
    `capex_usd_per_kw` and `opex_usd_per_kw_year` take their resolved values."""

    label: str
    inputs: tuple[str, ...]
    capex_usd_per_kw: Callable[[dict[str, Any]], Any]
    opex_usd_per_kw_year: Callable[[dict[str, Any]], Any]


FACILITY_METHODS: dict[str, FacilityMethod] = {
    "colocation": FacilityMethod(
        label="wholesale colocation rent per kW of provisioned IT power (CBRE); energy billed on top",
        inputs=("colocation_usd_per_kw_month",),
        capex_usd_per_kw=lambda v: 0.0,
        opex_usd_per_kw_year=lambda v: colocation_usd_per_year(1.0, v["colocation_usd_per_kw_month"]),
    ),
    "owned-build": FacilityMethod(
        label="owned data centre: build cost per MW of IT power, depreciated over the facility life",
        inputs=("build_usd_per_mw", "facility_life_years"),
        capex_usd_per_kw=lambda v: owned_build_capex_usd(1.0, v["build_usd_per_mw"]),
        opex_usd_per_kw_year=lambda v: 0.0,
    ),
}

OWNERSHIP_DEFAULTS: dict[str, Cited] = {
    "networking_share": NETWORKING_SHARE,
    "storage_share": STORAGE_SHARE,
    "life_years": LIFE_YEARS,
    "decay_oom_per_year": DECAY_OOM_PER_YEAR,
    "hardware_age_years": HARDWARE_AGE_YEARS,
    "cost_of_capital": COST_OF_CAPITAL,
    "maintenance_share_per_year": MAINTENANCE_SHARE_PER_YEAR,
    "operations_share_per_year": OPERATIONS_SHARE_PER_YEAR,
    "fleet_utilisation": FLEET_UTILISATION,
    "colocation_usd_per_kw_month": COLOCATION_USD_PER_KW_MONTH,
    "build_usd_per_mw": BUILD_USD_PER_MW,
    "facility_life_years": FACILITY_LIFE_YEARS,
    "horizon_years": HORIZON_YEARS,
}
DEFAULT_DEPRECIATION = "straight-line"
DEFAULT_FACILITY = "colocation"
