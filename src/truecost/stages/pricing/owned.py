"""Owned cost per useful GPU-hour: resolving each input (pool override, `ownership:`, cited
default), the per-accelerator building blocks, and the owned stage."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...catalog import get_accelerator
from ...catalog.factors import epoch_factor, factor
from ...catalog.prices import electricity_price, epoch_acquisition_price, hardware_price_in_force
from ...catalog.schema import Accelerator
from ...dates import days_to_years, decimal_year
from ...defaults import ELECTRICITY_USD_PER_KWH, PUE, Cited
from ...errors import ScenarioError
from ...scenario.cluster import Cluster
from ...scenario.fleet import FleetPool
from ...scenario.ownership import Ownership
from ...scenario.power import Power
from ..base import Notes, StageResult, quantity
from ..run import RunResult, power_defaults
from .defaults import EPOCH_RELEASE_DELAY_DAYS
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
    FACILITY_METHODS,
    OWNERSHIP_DEFAULTS,
    OWNERSHIP_METHODS,
    DepreciationMethod,
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
    depreciation: str  # the ownership method (a key of OWNERSHIP_METHODS)
    facility: str
    tdp_w: float
    # power.gpu_watts when given (not under Epoch's method): the device's whole average draw, so
    # electricity is this x PUE (x 1 when the figure folds the PUE in) x price, as the energy is.
    average_power_w: Any = None  # [W]
    power_pue: Any = None  # PUE applied to average_power_w [1]
    price_year: float | None = None  # date of the catalog price used (decimal year); None = given
    price_date: str = ""  # the same date as the catalog writes it

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    @property
    def method(self) -> str:
        return self.depreciation


@dataclass(frozen=True)
class Dates:
    """The dates the owned cost depends on (decimal years; None = not known)."""

    start_year: float | None = None  # training start (training.start_date)
    acquisition_year: float | None = None  # a fleet pool's purchase (mid-year of acquisition_year)


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
    dates: Dates = Dates(),
    method: str | None = None,
    for_fleet: bool = False,
) -> OwnedInputs | None:
    """Resolve every input of the owned cost for one accelerator type: the pool's override, else
    the scenario's `ownership:`, else the cited default; each is recorded as an assumption with
    the scenario field that sets it. Returns None (with a warning) when no price is known and
    `need_price` is False; raises ScenarioError when it is True.

    `method` overrides the scenario's ownership method (the other views). Under `epoch` only the
    inputs of Epoch AI's method are recorded, unless `for_fleet` (the fleet TCO needs them all).
    """
    acc = get_accelerator(accelerator_id)
    base = ownership
    over: Ownership | None = pool.ownership if pool is not None else None
    prefix = _pool_prefix(pool_index)
    tag = "" if accelerator_id == run_accelerator else f" ({accelerator_id})"
    dep = method or _method(over, base)
    epoch = OWNERSHIP_METHODS[dep].terms == "epoch"
    if pool is not None and pool.acquisition_year is not None:
        dates = Dates(dates.start_year, pool.acquisition_year + 0.5)  # bought during that year

    def get(name: str, default: Cited, rec: Notes | None = None) -> Any:
        rec = notes if rec is None else rec
        if over is not None and getattr(over, name) is not None:
            field = f"{prefix}ownership.{name}"
            return rec.cited(field, getattr(over, name), default, field, over.sources.get(name, ""))
        return rec.cited(name, getattr(base, name), default, f"ownership.{name}", base.sources.get(name, ""))

    gpn = pool.gpus_per_node if pool is not None and pool.gpus_per_node is not None else acc.gpus_per_node
    if epoch:
        costs = _epoch_server_cost(notes, acc, pool, prefix, base, over, gpn, tag, dates)
    else:
        costs = _server_cost(notes, acc, pool, prefix, base, over, gpn, tag, dates)
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
    server_cost, accelerator_price, price_year, acquired, price_date = costs

    values: dict[str, Any] = {}
    quiet = Notes(point=False)  # inputs the epoch method does not use: resolved, not listed
    epoch_inputs = ("networking_share", "decay_oom_per_year", "hardware_age_years")
    for name, default in OWNERSHIP_DEFAULTS.items():
        if name in (
            "colocation_usd_per_kw_month",
            "build_usd_per_mw",
            "facility_life_years",
            "horizon_years",
        ):
            continue  # facility inputs: only the method in use; horizon: the fleet stage
        rec = quiet if epoch and not for_fleet and name not in epoch_inputs else notes
        if name == "life_years" and getattr(base, name) is None and (over is None or over.life_years is None):
            # a life by generation: each pool's own, recorded under its own name
            by_gen = factor(acc.id, "life_years") or default
            values[name] = rec.cited(f"{prefix}life_years", None, by_gen, "ownership.life_years")
            continue
        if name == "hardware_age_years":
            given = (
                over is not None and over.hardware_age_years is not None
            ) or base.hardware_age_years is not None
            derived = None if given else _derived_age(dates, acquired, accelerator_id, epoch)
            if derived is None:
                values[name] = get(name, default, rec)
            else:
                rec.assume(
                    f"{prefix}hardware_age_years",
                    derived.value,
                    "yr",
                    derived.source,
                    "ownership.hardware_age_years",
                )
                values[name] = derived.value
            continue
        values[name] = get(name, default, rec)
    fac = _facility(over, base)
    _record_choice(notes, prefix, over is not None and over.resolved_method is not None, "method", dep)
    frec = quiet if epoch and not for_fleet else notes
    _record_choice(frec, prefix, over is not None and over.facility is not None, "facility", fac)
    for name in FACILITY_METHODS[fac].inputs:
        values[name] = get(name, OWNERSHIP_DEFAULTS[name], frec)
    values.update(_power_inputs(notes, acc, power, tag, epoch=epoch, start_year=dates.start_year))
    tdp = _chip_power_w(notes, acc, tag, epoch)
    if tdp is None:
        raise ScenarioError(
            f"no TDP in the catalog for {accelerator_id}: power and facility cost cannot be computed",
            field=f"{prefix}accelerator" if pool is not None else "cluster.accelerator",
        )
    avg_w = power_pue = None
    if power.gpu_watts is not None and not epoch:
        # The energy stage's basis (power.gpu_watts): electricity on the same average power.
        avg_w = power.gpu_watts
        power_pue = 1.0 if power.gpu_watts_include_pue else values["pue"]
        notes.assume(
            f"owned_power_basis{tag}",
            "power.gpu_watts",
            "",
            "electricity priced on the average power the energy uses: power.gpu_watts x "
            + ("1 (PUE folded in)" if power.gpu_watts_include_pue else "PUE")
            + " x electricity price, instead of TDP x server share x utilisation x PUE",
            "power.gpu_watts",
        )
    return OwnedInputs(
        accelerator=accelerator_id,
        server_cost_usd=server_cost,
        accelerator_price_usd=accelerator_price,
        gpus_per_node=int(gpn),
        values=values,
        depreciation=dep,
        facility=fac,
        tdp_w=float(tdp),
        average_power_w=avg_w,
        power_pue=power_pue,
        price_year=price_year,
        price_date=price_date,
    )


def _record_choice(notes: Notes, prefix: str, own: bool, field: str, value: str) -> None:
    """Record the ownership method or facility in use (under the pool's prefix when the pool
    chose it)."""
    name = "ownership_method" if field == "method" else field
    label = OWNERSHIP_METHODS[value].label if field == "method" else FACILITY_METHODS[value].label
    where = prefix if own else ""
    notes.assume(f"{where}{name}", value, "", label, f"{where}ownership.{field}")


def _method(over: Ownership | None, base: Ownership) -> str:
    if over is not None and over.resolved_method is not None:
        return over.resolved_method
    return base.resolved_method or DEFAULT_DEPRECIATION


def _facility(over: Ownership | None, base: Ownership) -> str:
    if over is not None and over.facility is not None:
        return over.facility
    return base.facility or DEFAULT_FACILITY


def _derived_age(dates: Dates, acquired: float | None, accelerator_id: str, epoch: bool) -> Cited | None:
    """Age of the hardware at the training start when not given: start - acquisition (a pool's
    acquisition year, else the date of the catalog price); None when either date is unknown (the
    cited default, new hardware, applies). Under Epoch's method a GPU is never older than zero
    (training cannot start before the purchase); a TPU may be (Epoch dates TPUs at their release)."""
    if dates.start_year is None or acquired is None:
        return None
    age = dates.start_year - acquired
    is_tpu = accelerator_id.startswith("tpu")
    if not (epoch and is_tpu):
        age = max(age, 0.0)
    return Cited(
        round(age, 4),
        "yr",
        f"derived: training start {dates.start_year:.3f} - acquisition {acquired:.3f} (decimal years)"
        + ("; a GPU bought after the start is taken as new (Epoch AI)" if age == 0.0 and not is_tpu else ""),
        "",
    )


def _price_holder(pool: Any, base: Ownership, prefix: str) -> tuple[Any, str, str]:
    """(what carries the given price: the pool, else the ownership section; its field prefix; the
    price's source)."""
    holder = pool if pool is not None else base
    where = prefix if pool is not None else "ownership."
    return holder, where, (getattr(holder, "price_source", "") or "scenario input").strip()


def _server_cost(
    notes: Notes,
    acc: Any,
    pool: Any,
    prefix: str,
    base: Ownership,
    over: Ownership | None,
    gpus_per_node: int,
    tag: str,
    dates: Dates = Dates(),
) -> tuple[Any, Any, float | None, float | None, str] | None:
    """(server cost per accelerator, accelerator-only price, price date (decimal), acquisition date,
    price date as written)
    from a server price, a unit price x overhead, or the catalog; None when no price is known. A
    server price's accelerator share is estimated with the chip overhead default. The catalog
    price is the one in force at the acquisition (a pool's year, else the training start); with
    neither date, the catalog's reference price (accelerators.csv, with its date)."""
    holder, where, src = _price_holder(pool, base, prefix)
    chip_default = factor(acc.id, "chip_server_overhead")
    assert chip_default is not None  # the table has a catch-all row
    acquired = dates.acquisition_year
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
        return per_gpu_usd, per_gpu_usd / chip_default.value, None, acquired, ""
    if holder.unit_price_usd is not None:
        price = holder.unit_price_usd
        notes.assume(f"{where}unit_price_usd", price, "USD", src, f"{where}unit_price_usd")
        overhead = _overhead(notes, over, base, prefix, chip_default, tag)
        return server_cost_per_gpu_usd(price, overhead), price, None, acquired, ""
    name = f"{where}unit_price_usd" if pool is not None else f"unit_price_usd{tag}"
    when = acquired if acquired is not None else dates.start_year
    if when is not None and (found := hardware_price_in_force(acc.id, when)) is not None:
        row, before_first = found
        if before_first:
            notes.warn(
                f"no purchase price of {acc.id} dated on or before {when:.1f}; the earliest ({row.date}) is used"
            )
        notes.assume(
            name,
            row.usd_per_accelerator,
            "USD",
            f"catalog price in force at {when:.1f} for {acc.id}: {row.item}, {row.date} ({row.kind}): {row.source}",
            f"{where}unit_price_usd",
            row.accessed,
        )
        default = (
            Cited(1.0, "1", f"the catalog price is a {row.kind} price: server included")
            if (row.includes_server)
            else chip_default
        )
        overhead = _overhead(notes, over, base, prefix, default, tag)
        chip = row.usd_per_accelerator / (chip_default.value if row.includes_server else 1.0)
        acq: float | None = acquired if acquired is not None else row.year
        return server_cost_per_gpu_usd(row.usd_per_accelerator, overhead), chip, row.year, acq, row.date
    if acc.unit_price_usd is None:
        return None
    date = f" ({acc.unit_price_date})" if acc.unit_price_date else " (date not recorded)"
    notes.assume(
        name,
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
    price_year = decimal_year(acc.unit_price_date) if acc.unit_price_date else None
    acq2 = acquired if acquired is not None else price_year
    return (
        server_cost_per_gpu_usd(acc.unit_price_usd, overhead),
        chip_price,
        price_year,
        acq2,
        acc.unit_price_date,
    )


def _epoch_server_cost(
    notes: Notes,
    acc: Any,
    pool: Any,
    prefix: str,
    base: Ownership,
    over: Ownership | None,
    gpus_per_node: int,
    tag: str,
    dates: Dates,
) -> tuple[Any, Any, float | None, float | None, str] | None:
    """Epoch AI's acquisition price (server_lifetimes.md sec. 1): a given price as given; else the
    earliest known price of the accelerator's family (the earliest DGX price where one exists), x
    Epoch's server overhead when it is a chip or TPU-equivalent price, acquired at the price date
    but never before release + 90 days (TPUs: at release)."""
    holder, where, src = _price_holder(pool, base, prefix)
    ep_overhead = epoch_factor(acc.id, "server_overhead")
    assert ep_overhead is not None  # catch-all row
    if holder.server_price_usd is not None:
        return _server_cost(notes, acc, pool, prefix, base, over, gpus_per_node, tag, dates)
    if holder.unit_price_usd is not None:
        price = holder.unit_price_usd
        notes.assume(f"{where}unit_price_usd", price, "USD", src, f"{where}unit_price_usd")
        overhead = _overhead(notes, over, base, prefix, ep_overhead, tag)
        return server_cost_per_gpu_usd(price, overhead), price, None, dates.acquisition_year, ""
    row = epoch_acquisition_price(acc.id)
    if row is None:
        return None
    notes.assume(
        f"unit_price_usd{tag}",
        row.usd_per_accelerator,
        "USD",
        f"Epoch AI's earliest-known-price rule for the {acc.price_family} family: {row.item}, {row.date} "
        f"({row.kind}): {row.source}",
        f"{where}unit_price_usd",
        row.accessed,
    )
    applies = row.kind in ("chip", "equivalent")
    default = (
        ep_overhead
        if applies
        else Cited(
            1.0, "1", f"Epoch AI applies the server overhead only to chip prices; this is a {row.kind} price"
        )
    )
    overhead = _overhead(notes, over, base, prefix, default, tag)
    acquired = row.year
    why = f"price date {row.date}"
    if row.kind != "equivalent" and acc.release_date:
        delay = notes.cited("epoch_release_delay_days", None, EPOCH_RELEASE_DELAY_DAYS, "", "")
        earliest = decimal_year(acc.release_date) + days_to_years(delay)
        if earliest > acquired:
            acquired, why = earliest, f"release {acc.release_date} + {delay:g} days"
    if dates.acquisition_year is not None:
        acquired, why = dates.acquisition_year, f"{prefix}acquisition_year"
    notes.assume(
        f"acquisition_year{tag}", round(acquired, 4), "yr", f"Epoch AI acquisition date: {why}", "", ""
    )
    chip = row.usd_per_accelerator if applies else row.usd_per_accelerator / ep_overhead.value
    return server_cost_per_gpu_usd(row.usd_per_accelerator, overhead), chip, row.year, acquired, row.date


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


def _chip_power_w(notes: Notes, acc: Accelerator, tag: str, epoch: bool) -> float | None:
    """The chip power the energy is built on: Epoch's own figure under its method (TPU v3/v4:
    Google's measured mean, which Epoch lists as TDP), else the catalog TDP."""
    own = epoch_factor(acc.id, "chip_power_w") if epoch else None
    if own is not None:
        notes.assume(f"tdp_w{tag}", own.value, "W", own.source, "", own.accessed)
        return own.value
    if acc.tdp_w is not None:
        notes.assume(
            f"tdp_w{tag}", acc.tdp_w, "W", acc.source, "cluster.accelerator" if not tag else "", acc.accessed
        )
    return acc.tdp_w


def _power_inputs(
    notes: Notes,
    acc: Accelerator,
    power: Power,
    tag: str,
    *,
    epoch: bool = False,
    start_year: float | None = None,
) -> dict[str, Any]:
    """Power inputs under the run stage's names (server_to_chip_power, power_utilisation, pue),
    suffixed with the accelerator id when it is not the run's. Under Epoch's method: Epoch's
    per-chip factors and the US industrial electricity price of the training start's year."""
    p = power
    if epoch:
        s2c_default, util_default = (
            epoch_factor(acc.id, "server_to_chip_power"),
            epoch_factor(acc.id, "power_utilisation"),
        )
        assert s2c_default is not None and util_default is not None  # catch-all rows
        elec_default = ELECTRICITY_USD_PER_KWH
        if start_year is not None:
            row, nearest = electricity_price(int(start_year))
            elec_default = Cited(
                row.usd_per_kwh,
                "USD/kWh",
                row.source
                + f": {row.year}"
                + (
                    f" (nearest year in the table to the training start {int(start_year)})" if nearest else ""
                ),
                row.accessed,
            )
    else:
        s2c_default, util_default = power_defaults(acc.id)
        elec_default = ELECTRICITY_USD_PER_KWH
    return {
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
            elec_default,
            "power.electricity_usd_per_kwh",
        ),
    }


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
        )
        if inp.average_power_w is None
        else power_usd_per_busy_hour(
            inp.average_power_w, 1.0, 1.0, inp.power_pue, v["electricity_usd_per_kwh"]
        ),
        facility_opex_usd_per_year=it_kw * fac.opex_usd_per_kw_year(v),
    )


def _full_terms(inp: OwnedInputs, method: DepreciationMethod) -> dict[str, Any]:
    """truecost's full owned cost: depreciation under the method, cost of capital, maintenance,
    operations, facility and power."""
    v = inp.values
    g = per_gpu(inp)
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


def _epoch_terms(inp: OwnedInputs, method: DepreciationMethod) -> dict[str, Any]:
    """Epoch AI's amortised cost of a chip-hour (cost_analysis_standalone.py at HEAD 263c40a):
    servers at their value at the training start x 0.14 ln10 / 8766 h; interconnect = servers x
    0.19 / 0.81; energy = chip power x server-to-chip x average power x PUE x electricity. Nothing
    else: no cost of capital, maintenance, operations, storage or facility, and every hour of the
    run is charged (no fleet utilisation)."""
    v = inp.values
    servers = per_useful_hour(
        method.usd_per_year(inp.server_cost_usd, None, v["hardware_age_years"], v["decay_oom_per_year"]), 1.0
    )
    return {
        "depreciation": servers,
        "interconnect": networking_capex_usd(servers, v["networking_share"]),
        "power": power_usd_per_busy_hour(
            inp.tdp_w, v["server_to_chip"], v["power_utilisation"], v["pue"], v["electricity_usd_per_kwh"]
        ),
    }


TERM_SETS: dict[str, Callable[[OwnedInputs, DepreciationMethod], dict[str, Any]]] = {
    "full": _full_terms,
    "epoch": _epoch_terms,
}


def owned_cost_terms(inp: OwnedInputs, depreciation: str | None = None) -> dict[str, Any]:
    """Owned cost of one useful accelerator-hour, by term, under an ownership method. [USD/GPU-h]

    depreciation: a key of OWNERSHIP_METHODS (default: the scenario's choice). The inputs are the
    ones resolved for the scenario's method; `other_views` re-resolves them for each method.
    """
    method = OWNERSHIP_METHODS[depreciation or inp.depreciation]
    return TERM_SETS[method.terms](inp, method)


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
        "owned_usd_per_gpu_hour x gpu_hours (the run's share of the hardware's cost under "
        "ownership.method, plus power and, except under epoch, facility)",
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
    start_year: float | None = None,
    point: bool = True,
) -> OwnedResult:
    """Owned cost per useful GPU-hour of the run's accelerator, and of the final run.

    The price comes from `ownership.unit_price_usd` / `server_price_usd`, else from `pool` (the
    fleet pool that runs it, when the scenario owns one), else from the catalog (the price in force
    at the acquisition, with its date; under `ownership.method: epoch`, Epoch AI's earliest known
    price). `start_year` is the training start (decimal year): the hardware's age is counted to it.
    """
    if cluster is None:
        return OwnedResult()
    notes = Notes(point)
    if ownership.unit_price_usd is not None or ownership.server_price_usd is not None:
        pool, pool_index = None, None
    args: dict[str, Any] = dict(
        run_accelerator=cluster.accelerator,
        pool=pool,
        pool_index=pool_index,
        need_price=False,
        dates=Dates(start_year=start_year),
    )
    inp = resolve_owned_inputs(notes, cluster.accelerator, ownership, power, **args)
    if inp is None:
        return OwnedResult(assumptions=notes.assumptions, warnings=notes.warnings)
    terms = owned_cost_terms(inp)
    rate = owned_usd_per_gpu_hour(terms)
    hours = run.gpu_hours
    breakdown = by_view = None
    summary = ""
    if point:
        by_view = {}
        for m in OWNERSHIP_METHODS:
            if m == inp.method:
                by_view[m] = float(rate)  # the scenario's own view: already computed
                continue
            other = resolve_owned_inputs(
                Notes(False), cluster.accelerator, ownership, power, method=m, **args
            )
            if other is not None:
                by_view[m] = float(owned_usd_per_gpu_hour(owned_cost_terms(other)))
        breakdown = {k: float(v) for k, v in terms.items()}
        where = f" (priced from fleet[{pool_index}])" if pool_index is not None else ""
        summary = (
            dominant_terms_sentence(f"Owned {inp.accelerator}{where}", terms, inp.method)
            + " Other views: "
            + "; ".join(f"{m} ${v:.2f}" for m, v in by_view.items() if m != inp.method)
            + "."
        )
    formula = (
        "servers x 10^(-0.14 x age) x 0.14 ln10 / 8766 h x (1 + 0.19/0.81) + power per hour (Epoch AI)"
        if OWNERSHIP_METHODS[inp.method].terms == "epoch"
        else f"({inp.method} depreciation + cost of capital + maintenance + operations + facility) "
        "/ (8766 h x fleet_utilisation) + power per busy hour"
    )
    return OwnedResult(
        owned_usd_per_gpu_hour=rate,
        final_run_owned_cost_usd=rate * hours if hours is not None else None,
        breakdown_usd_per_gpu_hour=breakdown,
        by_depreciation_usd_per_gpu_hour=by_view,
        summary=summary,
        priced_from_pool=pool_index,
        formulas={"owned_usd_per_gpu_hour": formula},
        assumptions=notes.assumptions,
        warnings=notes.warnings,
    )
