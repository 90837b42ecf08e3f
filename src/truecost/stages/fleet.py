"""Fleet TCO (the `fleet` stage): CapEx, depreciation, OpEx over a horizon.

A scenario's `fleet:` is a list of pools, each an accelerator type with a count, a price (per
accelerator, per server, or the catalog's with its date), an acquisition year and optional
overrides of any ownership input. Per accelerator, the building blocks are those of the owned
cost per GPU-hour (`truecost.stages.pricing`); here they are multiplied by the count and summed:

    CapEx  = servers + networking + storage + facility fit-out
    OpEx   = power + facility (colocation rent) + maintenance + operations staff      [per year]
    TCO    = CapEx + horizon x OpEx                                    (SemiAnalysis's framing)

Depreciation and the cost of capital are shown beside the TCO (they spread the CapEx over time;
adding them to a TCO that already counts the CapEx would count it twice).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..scenario.fleet import FleetPool
from ..scenario.ownership import Ownership
from ..scenario.power import Power
from ..units import HOURS_PER_YEAR
from .base import Notes, StageResult, quantity
from .pricing import (
    DEPRECIATION_METHODS,
    HORIZON_YEARS,
    Dates,
    OwnedInputs,
    capital_cost_usd_per_year,
    dominant_terms_sentence,
    owned_cost_terms,
    owned_usd_per_gpu_hour,
    per_gpu,
    resolve_owned_inputs,
    straight_line_mean_book_usd,
    straight_line_over_horizon_usd,
)

PRICE_DATE_GAP_WARN_YEARS = 1.5  # a catalog price this much later than the purchase is a different market


# ---- formulas ------------------------------------------------------------------------------
def pool_capex_usd(
    count: Any, server_usd: Any, networking_usd: Any, storage_usd: Any, facility_usd: Any
) -> Any:
    """CapEx of a pool from per-accelerator parts. [USD]

    count : numeric           accelerators. [1]
    *_usd : numeric           per-accelerator servers, networking, storage, facility fit-out. [USD]

    >>> pool_capex_usd(10, 40_000, 9_000, 1_200, 0)
    502000
    """
    return count * (server_usd + networking_usd + storage_usd + facility_usd)


def power_usd_per_year(count: Any, power_usd_per_busy_hour: Any, fleet_utilisation: Any) -> Any:
    """Electricity of a pool over a year: busy hours only (idle draw neglected). [USD/yr]

    >>> round(power_usd_per_year(1000, 0.1, 0.5))
    438300
    """
    return count * power_usd_per_busy_hour * HOURS_PER_YEAR * fleet_utilisation


def share_of_capex_usd_per_year(capex_usd: Any, share_per_year: Any) -> Any:
    """A yearly cost set as a share of CapEx (maintenance, operations staff). [USD/yr]

    >>> share_of_capex_usd_per_year(1e9, 0.03)
    30000000.0
    """
    return capex_usd * share_per_year


def tco_usd(
    capex_usd: Any, opex_usd_per_year: Any, horizon_years: Any, capital_usd_per_year: Any = 0.0
) -> Any:
    """Total cost of ownership over a horizon: CapEx + horizon x (OpEx + cost of capital). With the
    cost of capital at 0 it is SemiAnalysis's cash 'TCO (4y ownership)' framing. [USD]

    >>> tco_usd(1.6e9, 236e6, 4)
    2544000000.0
    >>> tco_usd(1.6e9, 236e6, 4, 50e6)
    2744000000.0
    """
    return capex_usd + (opex_usd_per_year + capital_usd_per_year) * horizon_years


def depreciation_usd_per_year(over_horizon_usd: Any, horizon_years: Any) -> Any:
    """Depreciation booked over a horizon, per year of the horizon. [USD/yr]

    >>> depreciation_usd_per_year(40_000.0, 4)
    10000.0
    """
    return over_horizon_usd / horizon_years


# ---- stage ---------------------------------------------------------------------------------
def horizon_years(notes: Notes, lab_horizon_years: Any, ownership_horizon_years: Any) -> Any:
    """One horizon for the fleet TCO and the lab total: `lab.horizon_years`, else
    `ownership.horizon_years`, else SemiAnalysis's 4 years."""
    if lab_horizon_years is not None:
        return notes.cited("horizon_years", lab_horizon_years, HORIZON_YEARS, "lab.horizon_years")
    return notes.cited("horizon_years", ownership_horizon_years, HORIZON_YEARS, "ownership.horizon_years")


def _pool_parts(inp: OwnedInputs, count: Any, horizon: Any, full: bool = True) -> dict[str, Any]:
    """A pool's CapEx, OpEx and depreciation parts. `full=False` (Monte Carlo chunks) computes only
    what the results need; the breakdowns come from the point run."""
    v = inp.values
    g = per_gpu(inp)
    method = DEPRECIATION_METHODS[inp.depreciation]
    life, k = v["life_years"], v["decay_oom_per_year"]
    fac_life = v.get("facility_life_years", 1.0)
    capex = pool_capex_usd(count, g.server_usd, g.networking_usd, g.storage_usd, g.facility_usd)
    hardware = count * g.hardware_usd
    facility = count * g.facility_usd
    dep_total = method.over_horizon_usd(hardware, life, horizon, k) + straight_line_over_horizon_usd(
        facility, fac_life, horizon
    )
    needed = {
        "capex": capex,
        "power": power_usd_per_year(count, g.power_usd_per_busy_hour, v["fleet_utilisation"]),
        "facility_rent": count * g.facility_opex_usd_per_year,
        "maintenance": share_of_capex_usd_per_year(capex, v["maintenance_share_per_year"]),
        "operations_staff": share_of_capex_usd_per_year(capex, v["operations_share_per_year"]),
        "depreciation": depreciation_usd_per_year(dep_total, horizon),
        # Financing cost of the capital tied up: the mean value held over the horizon x the rate.
        "capital": capital_cost_usd_per_year(
            method.mean_value_usd(hardware, life, horizon, k)
            + straight_line_mean_book_usd(facility, fac_life, horizon),
            v["cost_of_capital"],
        ),
    }
    if not full:
        return needed
    return needed | {
        "servers": count * g.server_usd,
        "networking": count * g.networking_usd,
        "storage": count * g.storage_usd,
        "facility_fit_out": facility,
        "gpu_spend": count * inp.accelerator_price_usd,
        "it_mw": count * g.it_kw / 1e3,
    }


CAPEX_PARTS = ("servers", "networking", "storage", "facility_fit_out")
OPEX_PARTS = ("power", "facility_rent", "maintenance", "operations_staff")
FLEET_NOTE = (
    "TCO = CapEx + horizon x OpEx + horizon x cost of capital (its own line; set "
    "ownership.cost_of_capital: 0 for SemiAnalysis's cash framing, shown as cash_tco_usd_per_year). "
    "Depreciation spreads the CapEx over time and is shown beside it, not added to it. GPU spend "
    "counts accelerators alone (estimated from system prices with the chip overhead)."
)


@dataclass(frozen=True)
class PoolSummary:
    """One pool at the point values: its CapEx and OpEx parts, depreciation and owned rates."""

    index: int
    name: str
    accelerator: str
    count: float  # [1]
    acquisition_year: float | None
    server_cost_usd_per_gpu: float  # [USD]
    capex_usd: Mapping[str, float]  # by part, with the total under "capex" [USD]
    opex_usd_per_year: Mapping[str, float]  # by part [USD/yr]
    depreciation: str
    depreciation_usd_per_year: float  # [USD/yr]
    owned_usd_per_gpu_hour: float  # [USD/GPU-h]
    owned_usd_per_gpu_hour_by_depreciation: Mapping[str, float]  # [USD/GPU-h]
    summary: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class FleetSummary:
    """Fleet-wide figures at the point values, for comparison with third-party estimates."""

    horizon_years: float  # [yr]
    accelerators: float  # [1]
    it_power_mw: float  # [MW]
    gpu_spend_usd: float  # accelerators alone [USD]
    server_capex_usd: float  # [USD]
    opex_usd_over_horizon: float  # [USD]
    tco_usd_per_year: float  # (CapEx + horizon x (OpEx + cost of capital)) / horizon [USD/yr]
    capital_cost_usd_per_year: float  # [USD/yr]
    cash_tco_usd_per_year: float  # (CapEx + horizon x OpEx) / horizon, SemiAnalysis's framing [USD/yr]
    capital_cost_usd_over_horizon: float  # [USD]

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass(frozen=True, kw_only=True)
class FleetResult(StageResult):
    """CapEx, OpEx per year, depreciation per year and TCO over the horizon of the owned fleet."""

    fleet_capex_usd: Any = quantity("USD", "servers + networking + storage + facility fit-out, all pools")
    fleet_opex_usd_per_year: Any = quantity(
        "USD/yr", "power + facility rent + maintenance + operations staff, all pools"
    )
    fleet_depreciation_usd_per_year: Any = quantity(
        "USD/yr", "depreciation booked over the horizon / horizon (each pool's depreciation view)"
    )
    fleet_tco_usd: Any = quantity(
        "USD", "fleet_capex_usd + horizon_years x (fleet_opex_usd_per_year + cost of capital per year)"
    )
    horizon_years: Any = None  # [yr]
    fleet_capital_usd_per_year: Any = None  # cost of capital of the fleet, a line of the TCO [USD/yr]
    capex_breakdown_usd: Mapping[str, float] | None = None
    opex_breakdown_usd_per_year: Mapping[str, float] | None = None
    pools: tuple[PoolSummary, ...] = ()
    summary: FleetSummary | None = None
    note: str = ""


def stage(
    fleet: tuple[FleetPool, ...] | None,
    ownership: Ownership,
    power: Power,
    *,
    run_accelerator: str | None,
    lab_horizon_years: Any = None,
    start_year: float | None = None,
    point: bool = True,
) -> FleetResult:
    """`lab_horizon_years`: the lab's horizon, when it sets one (one horizon for fleet and lab).
    `start_year`: the run's training start (decimal year); each pool ages from its own
    `acquisition_year` to it, and a catalog-priced pool takes the price in force at its purchase."""
    if not fleet:
        return FleetResult()
    notes = Notes(point)
    horizon = horizon_years(notes, lab_horizon_years, ownership.horizon_years)
    totals: dict[str, Any] = {}
    pools: list[PoolSummary] = []
    for i, pool in enumerate(fleet):
        inp = resolve_owned_inputs(
            notes,
            pool.accelerator,
            ownership,
            power,
            run_accelerator=run_accelerator,
            pool=pool,
            pool_index=i,
            dates=Dates(start_year=start_year),
            for_fleet=True,
        )
        assert inp is not None  # need_price=True raises instead
        notes.assume(
            f"fleet[{i}].count", pool.count, "1", pool.source or "scenario input", f"fleet[{i}].count"
        )
        parts = _pool_parts(inp, pool.count, horizon, full=point)
        for k, x in parts.items():
            totals[k] = totals.get(k, 0.0) + x
        if point:
            pools.append(_pool_summary(notes, i, pool, inp, parts))
    capex = totals["capex"]
    opex = sum(totals[k] for k in OPEX_PARTS)
    summary = None
    if point:
        summary = FleetSummary(
            **_floats(
                {
                    "horizon_years": horizon,
                    "accelerators": sum(p.count for p in fleet),
                    "it_power_mw": totals["it_mw"],
                    "gpu_spend_usd": totals["gpu_spend"],
                    "server_capex_usd": totals["servers"],
                    "opex_usd_over_horizon": opex * horizon,
                    "tco_usd_per_year": tco_usd(capex, opex, horizon, totals["capital"]) / horizon,
                    "capital_cost_usd_per_year": totals["capital"],
                    "cash_tco_usd_per_year": tco_usd(capex, opex, horizon) / horizon,
                    "capital_cost_usd_over_horizon": totals["capital"] * horizon,
                }
            )
        )
    return FleetResult(
        fleet_capex_usd=capex,
        fleet_opex_usd_per_year=opex,
        fleet_depreciation_usd_per_year=totals["depreciation"],
        fleet_tco_usd=tco_usd(capex, opex, horizon, totals["capital"]),
        fleet_capital_usd_per_year=totals["capital"],
        horizon_years=horizon,
        capex_breakdown_usd=_floats({k: totals[k] for k in CAPEX_PARTS}) if point else None,
        opex_breakdown_usd_per_year=_floats({k: totals[k] for k in OPEX_PARTS}) if point else None,
        pools=tuple(pools),
        summary=summary,
        note=FLEET_NOTE if point else "",
        assumptions=notes.assumptions,
        warnings=notes.warnings,
    )


def _floats(d: dict[str, Any]) -> dict[str, float]:
    return {k: float(np.median(np.asarray(v, dtype=float))) for k, v in d.items()}


def _pool_summary(
    notes: Notes, i: int, pool: FleetPool, inp: OwnedInputs, parts: dict[str, Any]
) -> PoolSummary:
    priced_by_catalog = pool.unit_price_usd is None and pool.server_price_usd is None
    if priced_by_catalog and pool.acquisition_year is not None and inp.price_year is not None:
        if abs(inp.price_year - (pool.acquisition_year + 0.5)) >= PRICE_DATE_GAP_WARN_YEARS:
            notes.warn(
                f"fleet[{i}] ({pool.accelerator}) is priced at the catalog price dated {inp.price_date}, "
                f"but was acquired in {pool.acquisition_year:g}; set fleet[{i}].unit_price_usd for that year's price"
            )
    terms = owned_cost_terms(inp)
    rate = float(owned_usd_per_gpu_hour(terms))
    by_view = {
        m: rate if m == inp.depreciation else float(owned_usd_per_gpu_hour(owned_cost_terms(inp, m)))
        for m in DEPRECIATION_METHODS
    }
    label = pool.name or f"{pool.accelerator} x {pool.count:g}"
    return PoolSummary(
        index=i,
        name=label,
        accelerator=pool.accelerator,
        count=float(pool.count),
        acquisition_year=pool.acquisition_year,
        server_cost_usd_per_gpu=float(np.median(inp.server_cost_usd)),
        capex_usd=_floats({k: parts[k] for k in (*CAPEX_PARTS, "capex")}),
        opex_usd_per_year=_floats({k: parts[k] for k in OPEX_PARTS}),
        depreciation=inp.depreciation,
        depreciation_usd_per_year=float(np.median(parts["depreciation"])),
        owned_usd_per_gpu_hour=rate,
        owned_usd_per_gpu_hour_by_depreciation=by_view,
        summary=dominant_terms_sentence(label, terms, inp.depreciation),
    )
