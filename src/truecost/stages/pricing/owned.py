"""Owned cost per useful GPU-hour: resolving each input (pool override, `ownership:`, cited
default), the per-accelerator building blocks, and the owned stage."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...catalog import get_accelerator
from ...catalog.factors import factor
from ...catalog.schema import Accelerator
from ...defaults import ELECTRICITY_USD_PER_KWH, PUE, Cited
from ...errors import ScenarioError
from ...scenario.cluster import Cluster
from ...scenario.fleet import FleetPool
from ...scenario.ownership import Ownership
from ...scenario.power import Power
from ..base import Notes, StageResult, quantity
from ..run import RunResult, power_defaults
from .formulas import (
    capital_cost_usd_per_year,
    it_power_kw,
    networking_capex_usd,
    owned_usd_per_gpu_hour,
    per_useful_hour,
    power_usd_per_busy_hour,
    server_cost_per_gpu_usd,
    storage_capex_usd,
    straight_line_mean_book_usd,
    straight_line_usd_per_year,
)
from .methods import (
    DEFAULT_DEPRECIATION,
    DEFAULT_FACILITY,
    DEPRECIATION_METHODS,
    FACILITY_METHODS,
    OWNERSHIP_DEFAULTS,
)


# ---- resolving the inputs of one accelerator type --------------------------------------------
@dataclass
class OwnedInputs:
    """Resolved ownership inputs for one accelerator type (values may be arrays of draws)."""

    accelerator: str
    server_cost_usd: Any  # per accelerator, server included [USD]
    accelerator_price_usd: Any  # the accelerator alone (estimated when a system price is given) [USD]
    gpus_per_node: int
    values: dict[str, Any]  # resolved Ownership fields (numbers) and power inputs
    depreciation: str
    facility: str
    tdp_w: float

    def __getitem__(self, key: str) -> Any:
        return self.values[key]


def _pool_prefix(pool_index: int | None) -> str:
    return "" if pool_index is None else f"fleet[{pool_index}]."


def resolve_owned_inputs(
    notes: Notes,
    accelerator_id: str,
    ownership: Ownership,
    power: Power,
    *,
    run_accelerator: str | None,
    pool: FleetPool | None = None,
    pool_index: int | None = None,
    need_price: bool = True,
) -> OwnedInputs | None:
    """Resolve every input of the owned cost for one accelerator type: the pool's override, else
    the scenario's `ownership:`, else the cited default; each is recorded as an assumption with
    the scenario field that sets it. Returns None (with a warning) when no price is known and
    `need_price` is False; raises ScenarioError when it is True."""
    acc = get_accelerator(accelerator_id)
    base = ownership
    over: Ownership | None = pool.ownership if pool is not None else None
    prefix = _pool_prefix(pool_index)
    tag = "" if accelerator_id == run_accelerator else f" ({accelerator_id})"

    def get(name: str, default: Cited) -> Any:
        if over is not None and getattr(over, name) is not None:
            field = f"{prefix}ownership.{name}"
            return notes.cited(field, getattr(over, name), default, field, over.sources.get(name, ""))
        return notes.cited(
            name, getattr(base, name), default, f"ownership.{name}", base.sources.get(name, "")
        )

    gpn = pool.gpus_per_node if pool is not None and pool.gpus_per_node is not None else acc.gpus_per_node
    costs = _server_cost(notes, acc, pool, prefix, base, over, gpn, tag)
    if costs is None:
        if need_price:
            where = f"{prefix}unit_price_usd" if pool is not None else "ownership.unit_price_usd"
            raise ScenarioError(
                f"no purchase price for {accelerator_id} in the catalog; give one (per accelerator) "
                "or a server_price_usd (per server)",
                field=where,
            )
        notes.warn(
            f"no purchase price for {accelerator_id} in the catalog; set ownership.unit_price_usd to get "
            "owned_usd_per_gpu_hour"
        )
        return None
    server_cost, accelerator_price = costs

    values: dict[str, Any] = {}
    for name, default in OWNERSHIP_DEFAULTS.items():
        if name in (
            "colocation_usd_per_kw_month",
            "build_usd_per_mw",
            "facility_life_years",
            "horizon_years",
        ):
            continue  # facility inputs: only the method in use; horizon: the fleet stage
        values[name] = get(name, default)
    dep = _method(over, base, "depreciation", DEFAULT_DEPRECIATION)
    fac = _method(over, base, "facility", DEFAULT_FACILITY)
    notes.assume(
        f"{prefix}depreciation" if over is not None and over.depreciation is not None else "depreciation",
        dep,
        "",
        DEPRECIATION_METHODS[dep].label,
        f"{prefix}ownership.depreciation"
        if over is not None and over.depreciation is not None
        else "ownership.depreciation",
    )
    notes.assume(
        f"{prefix}facility" if over is not None and over.facility is not None else "facility",
        fac,
        "",
        FACILITY_METHODS[fac].label,
        f"{prefix}ownership.facility"
        if over is not None and over.facility is not None
        else "ownership.facility",
    )
    for name in FACILITY_METHODS[fac].inputs:
        values[name] = get(name, OWNERSHIP_DEFAULTS[name])
    values.update(_power_inputs(notes, acc, power, tag))
    if acc.tdp_w is None:
        raise ScenarioError(
            f"no TDP in the catalog for {accelerator_id}: power and facility cost cannot be computed",
            field=f"{prefix}accelerator" if pool is not None else "cluster.accelerator",
        )
    return OwnedInputs(
        accelerator=accelerator_id,
        server_cost_usd=server_cost,
        accelerator_price_usd=accelerator_price,
        gpus_per_node=int(gpn),
        values=values,
        depreciation=dep,
        facility=fac,
        tdp_w=float(acc.tdp_w),
    )


def _method(over: Ownership | None, base: Ownership, name: str, default: str) -> str:
    if over is not None and getattr(over, name) is not None:
        return str(getattr(over, name))
    v = getattr(base, name)
    return default if v is None else str(v)


def _server_cost(
    notes: Notes,
    acc: Any,
    pool: Any,
    prefix: str,
    base: Ownership,
    over: Ownership | None,
    gpus_per_node: int,
    tag: str,
) -> tuple[Any, Any] | None:
    """(server cost per accelerator, accelerator-only price) from a server price, a unit price x
    overhead, or the catalog; None when no price is known. A server price's accelerator share is
    estimated with the chip overhead default."""
    holder = pool if pool is not None else base
    where = prefix if pool is not None else "ownership."
    src = (getattr(holder, "price_source", "") or "scenario input").strip()
    chip_default = factor(acc.id, "chip_server_overhead")
    assert chip_default is not None  # the table has a catch-all row
    if holder.server_price_usd is not None:
        price = holder.server_price_usd
        notes.assume(f"{where}server_price_usd", price, "USD/server", src, f"{where}server_price_usd")
        gpn_src = (
            "scenario input"
            if pool is not None and pool.gpus_per_node is not None
            else acc.extra.get("gpus_per_node_source", acc.source)
        )
        notes.assume(f"{where}gpus_per_node", gpus_per_node, "1", gpn_src, f"{where}gpus_per_node")
        per_gpu_usd = price / gpus_per_node
        return per_gpu_usd, per_gpu_usd / chip_default.value
    if holder.unit_price_usd is not None:
        price = holder.unit_price_usd
        notes.assume(f"{where}unit_price_usd", price, "USD", src, f"{where}unit_price_usd")
        overhead = _overhead(notes, over, base, prefix, chip_default, tag)
        return server_cost_per_gpu_usd(price, overhead), price
    if acc.unit_price_usd is None:
        return None
    date = f" ({acc.unit_price_date})" if acc.unit_price_date else " (date not recorded)"
    notes.assume(
        f"{where}unit_price_usd" if pool is not None else f"unit_price_usd{tag}",
        acc.unit_price_usd,
        "USD",
        f"catalog price for {acc.id}{date}: {acc.unit_price_source}",
        f"{where}unit_price_usd",
        acc.accessed,
    )
    included = factor(acc.id, "catalog_price_server_overhead")
    overhead_default = chip_default if included is None else included
    overhead = _overhead(notes, over, base, prefix, overhead_default, tag)
    chip_price = acc.unit_price_usd if included is None else acc.unit_price_usd / chip_default.value
    return server_cost_per_gpu_usd(acc.unit_price_usd, overhead), chip_price


def _overhead(
    notes: Notes, over: Ownership | None, base: Ownership, prefix: str, default: Cited, tag: str
) -> Any:
    if over is not None and over.server_overhead is not None:
        f = f"{prefix}ownership.server_overhead"
        return notes.cited(f, over.server_overhead, default, f, over.sources.get("server_overhead", ""))
    return notes.cited(
        f"server_overhead{tag}",
        base.server_overhead,
        default,
        "ownership.server_overhead",
        base.sources.get("server_overhead", ""),
    )


def _power_inputs(notes: Notes, acc: Accelerator, power: Power, tag: str) -> dict[str, Any]:
    """Power inputs under the run stage's names (server_to_chip_power, power_utilisation, pue),
    suffixed with the accelerator id when it is not the run's."""
    p = power
    s2c_default, util_default = power_defaults(acc.id)
    out = {
        "server_to_chip": notes.cited(
            f"server_to_chip_power{tag}" if p.server_to_chip is None else "server_to_chip_power",
            p.server_to_chip,
            s2c_default,
            "power.server_to_chip",
        ),
        "power_utilisation": notes.cited(
            f"power_utilisation{tag}" if p.utilisation is None else "power_utilisation",
            p.utilisation,
            util_default,
            "power.utilisation",
        ),
        "pue": notes.cited("pue", p.pue, PUE, "power.pue"),
        "electricity_usd_per_kwh": notes.cited(
            "electricity_usd_per_kwh",
            p.electricity_usd_per_kwh,
            ELECTRICITY_USD_PER_KWH,
            "power.electricity_usd_per_kwh",
        ),
    }
    if acc.tdp_w is not None:
        notes.assume(
            f"tdp_w{tag}", acc.tdp_w, "W", acc.source, "cluster.accelerator" if not tag else "", acc.accessed
        )
    return out


# ---- per-accelerator cost ------------------------------------------------------------------
@dataclass
class PerGpu:
    """Capital and running cost of one owned accelerator (arrays when inputs are draws)."""

    server_usd: Any
    networking_usd: Any
    storage_usd: Any
    facility_usd: Any
    it_kw: Any
    power_usd_per_busy_hour: Any
    facility_opex_usd_per_year: Any

    @functools.cached_property
    def hardware_usd(self) -> Any:
        """Server + networking + storage (depreciated as IT hardware). [USD]"""
        return self.server_usd + self.networking_usd + self.storage_usd

    @functools.cached_property
    def capex_usd(self) -> Any:
        return self.hardware_usd + self.facility_usd


def per_gpu(inp: OwnedInputs) -> PerGpu:
    """CapEx and running-cost building blocks of one accelerator."""
    v = inp.values
    server = inp.server_cost_usd
    it_kw = it_power_kw(inp.tdp_w, v["server_to_chip"])
    fac = FACILITY_METHODS[inp.facility]
    return PerGpu(
        server_usd=server,
        networking_usd=networking_capex_usd(server, v["networking_share"]),
        storage_usd=storage_capex_usd(server, v["storage_share"]),
        facility_usd=it_kw * fac.capex_usd_per_kw(v),
        it_kw=it_kw,
        power_usd_per_busy_hour=power_usd_per_busy_hour(
            inp.tdp_w, v["server_to_chip"], v["power_utilisation"], v["pue"], v["electricity_usd_per_kwh"]
        ),
        facility_opex_usd_per_year=it_kw * fac.opex_usd_per_kw_year(v),
    )


def owned_cost_terms(inp: OwnedInputs, depreciation: str | None = None) -> dict[str, Any]:
    """Owned cost of one useful accelerator-hour, by term, under a depreciation view. [USD/GPU-h]

    depreciation: a key of DEPRECIATION_METHODS (default: the scenario's choice).
    """
    v = inp.values
    g = per_gpu(inp)
    method = DEPRECIATION_METHODS[depreciation or inp.depreciation]
    life, age, k = v["life_years"], v["hardware_age_years"], v["decay_oom_per_year"]
    fac_life = v.get("facility_life_years", 1.0)
    dep = method.usd_per_year(g.hardware_usd, life, age, k)
    tied = method.capital_tied_usd(g.hardware_usd, life, age, k) + straight_line_mean_book_usd(
        g.facility_usd, fac_life, fac_life
    )
    capex = g.capex_usd
    u = v["fleet_utilisation"]
    return {
        "depreciation": per_useful_hour(dep, u),
        "cost_of_capital": per_useful_hour(capital_cost_usd_per_year(tied, v["cost_of_capital"]), u),
        "maintenance": per_useful_hour(capex * v["maintenance_share_per_year"], u),
        "operations": per_useful_hour(capex * v["operations_share_per_year"], u),
        "facility": per_useful_hour(
            g.facility_opex_usd_per_year + straight_line_usd_per_year(g.facility_usd, fac_life), u
        ),
        "power": g.power_usd_per_busy_hour,
    }


def dominant_terms_sentence(label: str, terms: dict[str, Any], method: str) -> str:
    """One sentence naming the terms that dominate an owned rate (point values)."""
    vals = {k: float(np.median(np.asarray(x, dtype=float))) for k, x in terms.items()}
    total = sum(vals.values())
    ranked = sorted(vals.items(), key=lambda kv: -kv[1])
    parts = ", ".join(f"{k} {v / total:.0%}" for k, v in ranked[:3] if total > 0)
    return f"{label}: ${total:.2f} per useful GPU-hour ({method}); largest terms: {parts}."


# ---- stage ---------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class OwnedResult(StageResult):
    """owned_usd_per_gpu_hour : owned cost of one useful GPU-hour of the run's accelerator. [USD/GPU-h]
    final_run_owned_cost_usd : the run's GPU-hours at that rate. [USD]
    breakdown_usd_per_gpu_hour : the rate by term (depreciation, capital, maintenance...). [USD/GPU-h]
    by_depreciation_usd_per_gpu_hour : the rate under every depreciation view. [USD/GPU-h]
    summary : one sentence naming the dominant terms and the other views.
    priced_from_pool : index of the fleet pool whose price and overrides priced the run, if any.
    """

    owned_usd_per_gpu_hour: Any = quantity(
        "USD/GPU-h",
        "(depreciation + cost of capital + maintenance + operations + facility) "
        "/ (8766 h x fleet_utilisation) + power per busy hour",
    )
    final_run_owned_cost_usd: Any = quantity(
        "USD",
        "owned_usd_per_gpu_hour x gpu_hours (Epoch AI's amortised method: the run's share of "
        "the hardware's cost, plus power and facility)",
    )
    breakdown_usd_per_gpu_hour: Mapping[str, float] | None = None
    by_depreciation_usd_per_gpu_hour: Mapping[str, float] | None = None
    summary: str = ""
    priced_from_pool: int | None = None


def run_pool(fleet: tuple[FleetPool, ...] | None, accelerator_id: str) -> tuple[int | None, FleetPool | None]:
    """The first fleet pool with the run's accelerator: the hardware the run owns, whose price and
    overrides price the run (the chain passes it to the owned stage)."""
    for i, pool in enumerate(fleet or ()):
        if pool.accelerator == accelerator_id:
            return i, pool
    return None, None


def stage(
    ownership: Ownership,
    power: Power,
    cluster: Cluster | None,
    run: RunResult,
    *,
    pool: FleetPool | None = None,
    pool_index: int | None = None,
    point: bool = True,
) -> OwnedResult:
    """Owned cost per useful GPU-hour of the run's accelerator, and of the final run.

    The price comes from `ownership.unit_price_usd` / `server_price_usd`, else from `pool` (the
    fleet pool that runs it, when the scenario owns one), else from the catalog (with its date).
    """
    if cluster is None:
        return OwnedResult()
    notes = Notes(point)
    if ownership.unit_price_usd is not None or ownership.server_price_usd is not None:
        pool, pool_index = None, None
    inp = resolve_owned_inputs(
        notes,
        cluster.accelerator,
        ownership,
        power,
        run_accelerator=cluster.accelerator,
        pool=pool,
        pool_index=pool_index,
        need_price=False,
    )
    if inp is None:
        return OwnedResult(assumptions=notes.assumptions, warnings=notes.warnings)
    terms = owned_cost_terms(inp)
    rate = owned_usd_per_gpu_hour(terms)
    hours = run.gpu_hours
    breakdown = by_view = None
    summary = ""
    if point:
        views = {m: owned_cost_terms(inp, m) for m in DEPRECIATION_METHODS}
        breakdown = {k: float(v) for k, v in terms.items()}
        by_view = {m: float(owned_usd_per_gpu_hour(t)) for m, t in views.items()}
        where = f" (priced from fleet[{pool_index}])" if pool_index is not None else ""
        summary = (
            dominant_terms_sentence(f"Owned {inp.accelerator}{where}", terms, inp.depreciation)
            + " Other view: "
            + "; ".join(f"{m} ${v:.2f}" for m, v in by_view.items() if m != inp.depreciation)
            + "."
        )
    return OwnedResult(
        owned_usd_per_gpu_hour=rate,
        final_run_owned_cost_usd=rate * hours if hours is not None else None,
        breakdown_usd_per_gpu_hour=breakdown,
        by_depreciation_usd_per_gpu_hour=by_view,
        summary=summary,
        priced_from_pool=pool_index,
        formulas={
            "owned_usd_per_gpu_hour": f"({inp.depreciation} depreciation + cost of capital + maintenance + "
            "operations + facility) / (8766 h x fleet_utilisation) + power per busy hour"
        },
        assumptions=notes.assumptions,
        warnings=notes.warnings,
    )
