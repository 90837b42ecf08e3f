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

from typing import Any

import numpy as np

from ..scenario.fleet import FleetPool
from ..state import ChainState
from ..units import HOURS_PER_YEAR
from .pricing import (
    DEPRECIATION_METHODS,
    HORIZON_YEARS,
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


def tco_usd(capex_usd: Any, opex_usd_per_year: Any, horizon_years: Any) -> Any:
    """Total cost of ownership over a horizon: CapEx + horizon x OpEx (SemiAnalysis's 'TCO (4y
    ownership)' framing). [USD]

    >>> tco_usd(1.6e9, 236e6, 4)
    2544000000.0
    """
    return capex_usd + opex_usd_per_year * horizon_years


def depreciation_usd_per_year(over_horizon_usd: Any, horizon_years: Any) -> Any:
    """Depreciation booked over a horizon, per year of the horizon. [USD/yr]

    >>> depreciation_usd_per_year(40_000.0, 4)
    10000.0
    """
    return over_horizon_usd / horizon_years


# ---- stage glue ----------------------------------------------------------------------------
def fleet_horizon_years(state: ChainState) -> Any:
    """One horizon for the fleet TCO and the lab total: `lab.horizon_years`, else
    `ownership.horizon_years`, else SemiAnalysis's 4 years."""
    scn = state.scenario
    if scn.lab is not None and scn.lab.horizon_years is not None:
        return state.cited("horizon_years", scn.lab.horizon_years, HORIZON_YEARS, "lab.horizon_years")
    return state.cited("horizon_years", scn.ownership.horizon_years, HORIZON_YEARS, "ownership.horizon_years")


def _pool_parts(inp: OwnedInputs, count: Any, horizon: Any, full: bool = True) -> dict[str, Any]:
    """A pool's CapEx, OpEx and depreciation parts. `full=False` (Monte Carlo chunks) computes only
    what the results need; the breakdowns for details come from the point run."""
    v = inp.values
    g = per_gpu(inp)
    method = DEPRECIATION_METHODS[inp.depreciation]
    life, k = v["life_years"], v["decay_oom_per_year"]
    fac_life = v.get("facility_life_years", 1.0)
    capex = count * g.capex_usd
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
    }
    if not full:
        return needed
    return needed | {
        "servers": count * g.server_usd,
        "networking": count * g.networking_usd,
        "storage": count * g.storage_usd,
        "facility_fit_out": facility,
        "capital": capital_cost_usd_per_year(
            method.mean_value_usd(hardware, life, horizon, k)
            + straight_line_mean_book_usd(facility, fac_life, horizon),
            v["cost_of_capital"],
        ),
        "gpu_spend": count * inp.accelerator_price_usd,
        "it_mw": count * g.it_kw / 1e3,
    }


_CAPEX_PARTS = ("servers", "networking", "storage", "facility_fit_out")
_OPEX_PARTS = ("power", "facility_rent", "maintenance", "operations_staff")


def fleet_stage(state: ChainState) -> None:
    """CapEx, OpEx per year, depreciation per year and TCO over the horizon of the fleet."""
    scn = state.scenario
    if not scn.fleet:
        return
    horizon = fleet_horizon_years(state)
    totals: dict[str, Any] = {}
    pools_out: list[dict[str, Any]] = []
    for i, pool in enumerate(scn.fleet):
        inp = resolve_owned_inputs(state, pool.accelerator, pool, i, need_price=True)
        assert inp is not None  # need_price=True raises instead
        state.assume(
            f"fleet[{i}].count", pool.count, "1", pool.source or "scenario input", f"fleet[{i}].count"
        )
        parts = _pool_parts(inp, pool.count, horizon, full=state.point)
        for k, x in parts.items():
            totals[k] = totals.get(k, 0.0) + x
        if state.point:
            pools_out.append(_pool_detail(state, i, pool, inp, parts))
    capex = totals["capex"]
    opex = sum(totals[k] for k in _OPEX_PARTS)
    state.put("fleet_capex_usd", capex, "USD", "servers + networking + storage + facility fit-out, all pools")
    state.put(
        "fleet_opex_usd_per_year",
        opex,
        "USD/yr",
        "power + facility rent + maintenance + operations staff, all pools",
    )
    state.put(
        "fleet_depreciation_usd_per_year",
        totals["depreciation"],
        "USD/yr",
        "depreciation booked over the horizon / horizon (each pool's depreciation view)",
    )
    state.put(
        "fleet_tco_usd",
        tco_usd(capex, opex, horizon),
        "USD",
        "fleet_capex_usd + horizon_years x fleet_opex_usd_per_year",
    )
    if state.point:
        f = _floats
        state.detail("fleet_capex_breakdown_usd", f({k: totals[k] for k in _CAPEX_PARTS}))
        state.detail("fleet_opex_breakdown_usd_per_year", f({k: totals[k] for k in _OPEX_PARTS}))
        state.detail("fleet_pools", pools_out)
        state.detail(
            "fleet_summary",
            f(
                {
                    "horizon_years": horizon,
                    "accelerators": sum(p.count for p in scn.fleet),
                    "it_power_mw": totals["it_mw"],
                    "gpu_spend_usd": totals["gpu_spend"],
                    "server_capex_usd": totals["servers"],
                    "opex_usd_over_horizon": opex * horizon,
                    "tco_usd_per_year": tco_usd(capex, opex, horizon) / horizon,
                    "capital_cost_usd_per_year": totals["capital"],
                }
            ),
        )
        state.detail(
            "fleet_note",
            "TCO = CapEx + horizon x OpEx (cash view, SemiAnalysis's framing). Depreciation and the cost "
            "of capital spread the CapEx over time and are shown beside it, not added to it. GPU spend "
            "counts accelerators alone (estimated from system prices with the chip overhead).",
        )


def _floats(d: dict[str, Any]) -> dict[str, float]:
    return {k: float(np.median(np.asarray(v, dtype=float))) for k, v in d.items()}


def _pool_detail(
    state: ChainState, i: int, pool: FleetPool, inp: OwnedInputs, parts: dict[str, Any]
) -> dict[str, Any]:
    from ..catalog import get_accelerator

    acc = get_accelerator(pool.accelerator)
    priced_by_catalog = pool.unit_price_usd is None and pool.server_price_usd is None
    if priced_by_catalog and pool.acquisition_year is not None and acc.unit_price_date:
        price_year = float(acc.unit_price_date[:4])
        if abs(price_year - pool.acquisition_year) >= PRICE_DATE_GAP_WARN_YEARS:
            state.warn(
                f"fleet[{i}] ({pool.accelerator}) is priced at the catalog price dated {acc.unit_price_date}, "
                f"but was acquired in {pool.acquisition_year:g}; set fleet[{i}].unit_price_usd for that year's price"
            )
    terms = owned_cost_terms(inp)
    by_view = {m: float(owned_usd_per_gpu_hour(owned_cost_terms(inp, m))) for m in DEPRECIATION_METHODS}
    label = pool.name or f"{pool.accelerator} x {pool.count:g}"
    return {
        "index": i,
        "name": label,
        "accelerator": pool.accelerator,
        "count": float(pool.count),
        "acquisition_year": pool.acquisition_year,
        "server_cost_usd_per_gpu": float(np.median(inp.server_cost_usd)),
        "capex_usd": _floats({k: parts[k] for k in (*_CAPEX_PARTS, "capex")}),
        "opex_usd_per_year": _floats({k: parts[k] for k in _OPEX_PARTS}),
        "depreciation": inp.depreciation,
        "depreciation_usd_per_year": float(np.median(parts["depreciation"])),
        "owned_usd_per_gpu_hour": float(owned_usd_per_gpu_hour(terms)),
        "owned_usd_per_gpu_hour_by_depreciation": by_view,
        "summary": dominant_terms_sentence(label, terms, inp.depreciation),
    }
