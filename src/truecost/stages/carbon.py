"""Operational and embodied emissions of a run, of a fleet per year and of serving.

- Operational, location-based: energy x the grid's average intensity (GHG Protocol Scope 2
  location-based method). The intensity is given (`carbon.grid_g_co2e_per_kwh`) or looked up by
  `carbon.grid_region` and year in `catalog/data/grid_carbon_intensity.csv`.
- Operational, market-based (when the scenario states renewable purchases or a market intensity):
  the covered share counts at zero, the rest at the market intensity if given, else at the
  location-based one (a stand-in for the residual mix, which the catalog does not hold).
- Embodied: manufacturing CO2e of each accelerator with its server share
  (`catalog/data/embodied_carbon.csv`), amortised over its life like CapEx: a run is charged
  embodied x run hours / (life hours x lifetime utilisation) (BLOOM, Luccioni et al. 2022; OLMo,
  Morrison et al. 2025); a fleet embodied / life a year; serving the same per million tokens.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..catalog import get_accelerator
from ..catalog.carbon_tables import SPREAD_YEARS, GridIntensity, embodied_per_accelerator, grid_intensity
from ..catalog.factors import factor
from ..dates import decimal_year
from ..defaults import EPOCH_COST_MODEL, Cited
from ..scenario.carbon import Carbon
from ..scenario.fleet import FleetPool
from ..scenario.ownership import Ownership
from ..scenario.power import Power
from ..scenario.training import Training
from ..units import G_PER_T, HOURS_PER_YEAR, KG_PER_T
from . import energy
from .base import Notes, StageResult, quantity
from .pricing.defaults import FLEET_UTILISATION, LIFE_YEARS
from .run import power_defaults


def default_life(accelerator_id: str | None) -> Cited:
    """The CapEx life the pricing stage gives an accelerator (its generation's row in
    `ownership_factors.csv`, else the cited 5 years): embodied carbon is amortised like CapEx."""
    by_gen = factor(accelerator_id, "life_years") if accelerator_id is not None else None
    return by_gen if by_gen is not None else LIFE_YEARS


LIFETIME_UTILISATION = Cited(
    1.0,
    "1",
    EPOCH_COST_MODEL + ": as for CapEx, hardware is charged for the hours of the run only (full "
    "utilisation); BLOOM (Luccioni et al. 2022) assumed 85%, OLMo (Morrison et al. 2025) 100%",
)
INTENSITY_BASES: dict[str, str] = {
    "given": "carbon.grid_g_co2e_per_kwh",
    "region": "the grid-intensity table, by carbon.grid_region and year",
}


# ---- formulas --------------------------------------------------------------------------------------
def operational_t_co2e(energy_kwh: Any, g_co2e_per_kwh: Any) -> Any:
    """Location-based operational emissions. [t CO2e]

    energy_kwh : facility energy. [kWh]
    g_co2e_per_kwh : grid intensity. [gCO2e/kWh]

    Llama 3.1 405B (model card: 30.84M H100-hours at 700 W, PUE folded in) at 414 g/kWh:

    >>> round(operational_t_co2e(30.84e6 * 0.7, 414))
    8937
    """
    return energy_kwh * g_co2e_per_kwh / G_PER_T


def market_t_co2e(
    energy_kwh: Any, g_co2e_per_kwh: Any, renewable_share: Any = 0.0, market_g_co2e_per_kwh: Any = None
) -> Any:
    """Market-based operational emissions. [t CO2e]

    The share covered by renewable purchases counts at zero; the rest at `market_g_co2e_per_kwh`
    when given, else at the location-based intensity.

    >>> market_t_co2e(1e6, 400, renewable_share=0.75)
    100.0
    >>> market_t_co2e(1e6, 400, market_g_co2e_per_kwh=0)
    0.0
    """
    g = g_co2e_per_kwh if market_g_co2e_per_kwh is None else market_g_co2e_per_kwh
    return energy_kwh * (1.0 - renewable_share) * g / G_PER_T


def embodied_share_t_co2e(
    embodied_kg_per_accelerator: Any, gpu_hours: Any, life_years: Any, lifetime_utilisation: Any
) -> Any:
    """A run's share of its accelerators' embodied emissions, amortised like CapEx. [t CO2e]

    embodied x run accelerator-hours / (life x 8766 h x lifetime utilisation).

    OLMo (Morrison et al. 2025): 3,700 kg per 8xH100 server, 4 years, 1.65M GPU-hours, 22 t:

    >>> round(embodied_share_t_co2e(3700 / 8, 1.65e6, 4, 1.0), 1)
    21.8
    """
    return (
        embodied_kg_per_accelerator
        * gpu_hours
        / (life_years * HOURS_PER_YEAR * lifetime_utilisation)
        / KG_PER_T
    )


def embodied_t_co2e_per_year(count: Any, embodied_kg_per_accelerator: Any, life_years: Any) -> Any:
    """Embodied emissions of a pool of accelerators, straight-line over its life. [t CO2e/yr]

    >>> embodied_t_co2e_per_year(1000, 462.5, 5)
    92.5
    """
    return count * embodied_kg_per_accelerator / life_years / KG_PER_T


def per_m_tokens_g_co2e(energy_kwh_per_m_tokens: Any, g_co2e_per_kwh: Any) -> Any:
    """Operational emissions per million tokens served. [gCO2e/M tokens]

    >>> per_m_tokens_g_co2e(2.0, 400)
    800.0
    """
    return energy_kwh_per_m_tokens * g_co2e_per_kwh


def embodied_g_co2e_per_m_tokens(
    embodied_kg_per_accelerator: Any, gpu_hours_per_m_tokens: Any, life_years: Any, lifetime_utilisation: Any
) -> Any:
    """Embodied emissions per million tokens served. [gCO2e/M tokens]

    >>> round(embodied_g_co2e_per_m_tokens(462.5, 2.0, 5, 1.0), 2)
    21.1
    """
    return (
        embodied_share_t_co2e(
            embodied_kg_per_accelerator, gpu_hours_per_m_tokens, life_years, lifetime_utilisation
        )
        * G_PER_T
    )


# ---- stage ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PoolUse:
    """What the carbon stage needs of one fleet pool (the chain builds it from the fleet stage).

    count : accelerators. [1]
    energy_kwh_per_year : facility energy of the pool in a year (`energy.fleet_energy_kwh_per_year`). [kWh/yr]
    life_years : the pool's CapEx life (None = the carbon section's, else the default). [yr]
    """

    accelerator: str
    count: Any
    gpus_per_node: int | None = None
    energy_kwh_per_year: Any = None
    life_years: Any = None
    name: str = ""


@dataclass(frozen=True, kw_only=True)
class CarbonResult(StageResult):
    """grid_g_co2e_per_kwh : location-based intensity used. [gCO2e/kWh]
    carbon_t_co2e : operational emissions of the run, location-based. [t CO2e]
    carbon_market_t_co2e : the same, market-based (when the scenario states purchases). [t CO2e]
    embodied_kg_per_accelerator : embodied CO2e of one run accelerator with its server share. [kg CO2e]
    embodied_carbon_t_co2e : the run's amortised share of it. [t CO2e]
    fleet_* : the fleet's operational and embodied emissions a year. [t CO2e/yr]
    serving_* : per million tokens served. [gCO2e/M tokens]
    intensity_basis : a key of INTENSITY_BASES; grid : the table row used (region basis).
    """

    grid_g_co2e_per_kwh: Any = quantity("gCO2e/kWh", "location-based grid intensity")
    carbon_t_co2e: Any = quantity("tCO2e", "energy_kwh x grid_g_co2e_per_kwh / 1e6")
    carbon_market_t_co2e: Any = quantity(
        "tCO2e", "energy_kwh x (1 - renewable_share) x (market or location intensity) / 1e6"
    )
    embodied_kg_per_accelerator: Any = quantity(
        "kgCO2e", "catalog embodied CO2e per accelerator + server share"
    )
    embodied_carbon_t_co2e: Any = quantity(
        "tCO2e",
        "embodied_kg_per_accelerator x gpu_hours / (life_years x 8766 h x lifetime_utilisation) / 1000",
    )
    fleet_energy_kwh_per_year: Any = quantity(
        "kWh/yr", "sum over pools of count x 8766 h x fleet_utilisation x device power x PUE / 1000"
    )
    fleet_carbon_t_co2e_per_year: Any = quantity(
        "tCO2e/yr", "fleet energy a year x grid_g_co2e_per_kwh / 1e6"
    )
    fleet_carbon_market_t_co2e_per_year: Any = quantity(
        "tCO2e/yr", "fleet energy a year x (1 - renewable_share) x intensity / 1e6"
    )
    fleet_embodied_carbon_t_co2e_per_year: Any = quantity(
        "tCO2e/yr", "sum over pools of count x embodied kg / life_years / 1000"
    )
    serving_carbon_g_co2e_per_m_tokens: Any = quantity(
        "gCO2e/M tokens", "serving energy per M tokens x grid_g_co2e_per_kwh"
    )
    serving_embodied_g_co2e_per_m_tokens: Any = quantity(
        "gCO2e/M tokens", "embodied kg x GPU-hours per M tokens / (life hours x utilisation) x 1000"
    )
    intensity_basis: str = ""
    grid: GridIntensity | None = None


def intensity(
    carbon: Carbon, start_year: float | None, notes: Notes
) -> tuple[Any, str, GridIntensity | None]:
    """(location-based intensity [gCO2e/kWh], basis, table row or None), recorded in `notes`."""
    given = carbon.grid_g_co2e_per_kwh
    src = carbon.sources.get("grid_g_co2e_per_kwh", "scenario input")
    if carbon.grid_region is None:
        notes.assume("grid_g_co2e_per_kwh", given, "gCO2e/kWh", src, "carbon.grid_g_co2e_per_kwh")
        return given, "given", None
    year = carbon.year if carbon.year is not None else start_year
    g = grid_intensity(carbon.grid_region, year)
    if given is not None:
        notes.assume(
            "grid_g_co2e_per_kwh",
            given,
            "gCO2e/kWh",
            f"{src}; overrides the table's {g.g_co2e_per_kwh:g} g/kWh for {g.region} {g.year}",
            "carbon.grid_g_co2e_per_kwh",
        )
        return given, "given", g
    why = (
        "carbon.year"
        if carbon.year is not None
        else ("the run's start year" if start_year is not None else "")
    )
    note = g.year_note or (f"year {g.year} from {why}" if why else "")
    notes.assume(
        "grid_g_co2e_per_kwh",
        g.g_co2e_per_kwh,
        "gCO2e/kWh",
        f"{g.describe()}{'; ' + note if note else ''}: {g.source}",
        "carbon.grid_g_co2e_per_kwh",
        g.accessed,
    )
    if g.year_note and year is not None:
        notes.warn(f"carbon.grid_region: {g.year_note}")
    return g.g_co2e_per_kwh, "region", g


def _embodied_kg(
    carbon: Carbon,
    accelerator_id: str,
    gpus_per_node: int | None,
    notes: Notes,
    label: str = "embodied_kg_per_accelerator",
) -> Any:
    if carbon.embodied_kg_per_accelerator is not None:
        notes.assume(
            label,
            carbon.embodied_kg_per_accelerator,
            "kgCO2e",
            carbon.sources.get("embodied_kg_per_accelerator", "scenario input"),
            "carbon.embodied_kg_per_accelerator",
        )
        return carbon.embodied_kg_per_accelerator
    d = embodied_per_accelerator(
        accelerator_id, gpus_per_node or get_accelerator(accelerator_id).gpus_per_node
    )
    notes.assume(
        label, d.kg_co2e, "kgCO2e", f"{d.how}: {d.source}", "carbon.embodied_kg_per_accelerator", d.accessed
    )
    if d.fallback:
        notes.warn(f"{d.how.split(':')[0]}: a generic GPU card plus host server figure is used")
    return d.kg_co2e


def stage(
    carbon: Carbon,
    *,
    energy_kwh: Any = None,
    gpu_hours: Any = None,
    accelerator: str | None = None,
    gpus_per_node: int | None = None,
    start_year: float | None = None,
    life_years: Any = None,
    life_years_field: str = "ownership.life_years",
    life_years_default: Cited = LIFE_YEARS,
    utilisation: Any = None,
    utilisation_default: Cited = LIFETIME_UTILISATION,
    fleet: Sequence[PoolUse] = (),
    serving_accelerator: str | None = None,
    serving_gpus_per_node: int | None = None,
    serving_energy_kwh_per_m_tokens: Any = None,
    serving_gpu_hours_per_m_tokens: Any = None,
    point: bool = True,
) -> CarbonResult:
    """Emissions of the run, the fleet and serving, from upstream energy and hours.

    energy_kwh, gpu_hours : the run's facility energy [kWh] and accelerator-hours [h].
    accelerator, gpus_per_node : the run's accelerator id and servers, for its embodied figure.
    start_year : the run's start year (picks the grid year when carbon.year is not given).
    life_years, utilisation : the CapEx life and fleet utilisation the scenario gives under
        ownership (None = not given); carbon.life_years / lifetime_utilisation take precedence,
        the cited defaults come last: `life_years_default` is the CapEx life the pricing stage
        gives the accelerator (its generation's, `ownership_factors.csv`), so embodied carbon is
        amortised like CapEx.
    fleet : the fleet's pools; serving_* : per million tokens served.
    """
    notes = Notes(point)
    if not carbon.given:
        return CarbonResult()
    g, basis, row = intensity(carbon, start_year, notes)
    out: dict[str, Any] = {"grid_g_co2e_per_kwh": g}
    formulas: dict[str, str] = {}
    share = 0.0 if carbon.renewable_share is None else carbon.renewable_share
    if carbon.market_based:
        notes.assume(
            "renewable_share",
            share,
            "1",
            carbon.sources.get(
                "renewable_share", "scenario input" if carbon.renewable_share is not None else "none stated"
            ),
            "carbon.renewable_share",
        )
        if carbon.market_g_co2e_per_kwh is not None:
            notes.assume(
                "market_g_co2e_per_kwh",
                carbon.market_g_co2e_per_kwh,
                "gCO2e/kWh",
                carbon.sources.get("market_g_co2e_per_kwh", "scenario input"),
                "carbon.market_g_co2e_per_kwh",
            )
        else:
            notes.assume(
                "market_g_co2e_per_kwh",
                g,
                "gCO2e/kWh",
                "the location-based intensity stands in for the residual mix of the energy not covered",
                "carbon.market_g_co2e_per_kwh",
            )

    def market(e: Any) -> Any:
        return market_t_co2e(e, g, share, carbon.market_g_co2e_per_kwh)

    if energy_kwh is not None:
        out["carbon_t_co2e"] = operational_t_co2e(energy_kwh, g)
        if carbon.market_based:
            out["carbon_market_t_co2e"] = market(energy_kwh)

    life = util = None
    if carbon.embodied and (gpu_hours is not None or fleet or serving_gpu_hours_per_m_tokens is not None):
        life = _cited_chain(
            notes,
            "embodied_life_years",
            carbon.life_years,
            "carbon.life_years",
            life_years,
            life_years_field,
            life_years_default,
            carbon.sources.get("life_years"),
        )
        util = _cited_chain(
            notes,
            "embodied_lifetime_utilisation",
            carbon.lifetime_utilisation,
            "carbon.lifetime_utilisation",
            utilisation,
            "ownership.fleet_utilisation",
            utilisation_default,
            carbon.sources.get("lifetime_utilisation"),
        )
    if carbon.embodied and gpu_hours is not None and accelerator is not None:
        kg = _embodied_kg(carbon, accelerator, gpus_per_node, notes)
        out["embodied_kg_per_accelerator"] = kg
        out["embodied_carbon_t_co2e"] = embodied_share_t_co2e(kg, gpu_hours, life, util)

    if fleet:
        energies = [p.energy_kwh_per_year for p in fleet]
        missing = [p.accelerator for p in fleet if p.energy_kwh_per_year is None]
        if missing:
            notes.warn(
                f"no TDP or measured power for {', '.join(sorted(set(missing)))}: the fleet's energy and "
                "operational emissions a year are not computed"
            )
        else:
            total = sum(energies)
            out["fleet_energy_kwh_per_year"] = total
            out["fleet_carbon_t_co2e_per_year"] = operational_t_co2e(total, g)
            if carbon.market_based:
                out["fleet_carbon_market_t_co2e_per_year"] = market(total)
        if carbon.embodied:
            per_year: Any = 0.0
            for i, p in enumerate(fleet):
                kg_p = _embodied_kg(
                    carbon, p.accelerator, p.gpus_per_node, notes, f"fleet[{i}].embodied_kg_per_accelerator"
                )
                pool_life = life if p.life_years is None or carbon.life_years is not None else p.life_years
                per_year = per_year + embodied_t_co2e_per_year(p.count, kg_p, pool_life)
            out["fleet_embodied_carbon_t_co2e_per_year"] = per_year

    if serving_energy_kwh_per_m_tokens is not None:
        out["serving_carbon_g_co2e_per_m_tokens"] = per_m_tokens_g_co2e(serving_energy_kwh_per_m_tokens, g)
    if carbon.embodied and serving_gpu_hours_per_m_tokens is not None and serving_accelerator is not None:
        kg_s = _embodied_kg(
            carbon,
            serving_accelerator,
            serving_gpus_per_node,
            notes,
            "serving_embodied_kg_per_accelerator",
        )
        out["serving_embodied_g_co2e_per_m_tokens"] = embodied_g_co2e_per_m_tokens(
            kg_s, serving_gpu_hours_per_m_tokens, life, util
        )

    if point and basis == "region" and row is not None and np.ndim(g) == 0:
        formulas["grid_g_co2e_per_kwh"] = (
            f"table: {row.describe()} (spread {row.low:g}-{row.high:g} within {SPREAD_YEARS} year)"
        )
    return CarbonResult(
        **out,
        intensity_basis=basis,
        grid=row,
        formulas=formulas,
        assumptions=notes.assumptions,
        warnings=notes.warnings,
    )


def _cited_chain(
    notes: Notes,
    name: str,
    own: Any,
    own_field: str,
    upstream: Any,
    upstream_field: str,
    default: Cited,
    own_source: str | None,
) -> Any:
    """The carbon section's value, else the one given upstream (ownership), else the cited default."""
    if own is not None:
        notes.assume(name, own, default.unit, own_source or "scenario input", own_field)
        return own
    if upstream is not None:
        notes.assume(
            name, upstream, default.unit, f"as {upstream_field} (the CapEx amortisation)", upstream_field
        )
        return upstream
    notes.assume(name, default.value, default.unit, default.source, own_field, default.accessed)
    return default.value


# ---- glue: what the chain passes ------------------------------------------------------------------
def start_year(training: Training) -> int | None:
    """Calendar year the run starts (training.start_date), which picks the grid year."""
    return None if training.start_date is None else int(decimal_year(training.start_date))


def fleet_uses(
    fleet: Sequence[FleetPool] | None, ownership: Ownership, power: Power, run_accelerator: str | None
) -> tuple[PoolUse, ...]:
    """Each fleet pool's count, servers, life and facility energy a year (busy hours at the pool's
    fleet utilisation, on the power basis of `truecost.stages.energy`). `power.gpu_watts` is the
    run accelerator's figure: pools of other accelerators use their catalog basis."""
    out = []
    for pool in fleet or ():
        acc = get_accelerator(pool.accelerator)
        p = power
        if pool.accelerator != run_accelerator and power.gpu_watts is not None:
            p = power.model_copy(update={"gpu_watts": None, "gpu_watts_include_pue": False})
        s2c_default, util_default = power_defaults(acc.id)
        e = energy.stage(
            p,
            gpu_hours=None,
            accelerator=acc,
            server_to_chip_default=s2c_default,
            utilisation_default=util_default,
            point=False,
        )
        use = pool.ownership.fleet_utilisation
        if use is None:
            use = (
                ownership.fleet_utilisation
                if ownership.fleet_utilisation is not None
                else FLEET_UTILISATION.value
            )
        kwh = None
        if e.device_power_w is not None:
            kwh = energy.fleet_energy_kwh_per_year(pool.count, e.device_power_w, e.pue, use)
        life = pool.ownership.life_years if pool.ownership.life_years is not None else ownership.life_years
        out.append(
            PoolUse(
                accelerator=pool.accelerator,
                count=pool.count,
                gpus_per_node=pool.gpus_per_node or acc.gpus_per_node,
                energy_kwh_per_year=kwh,
                life_years=life,
                name=pool.name,
            )
        )
    return tuple(out)


def default_uncertainty(
    carbon: Carbon, start_year_: int | None
) -> dict[tuple[str | int, ...], dict[str, Any]]:
    """The grid intensity's default distribution spec, by scenario path: a region's intensity is
    uncertain within the table's spread (every dataset within SPREAD_YEARS of the year used),
    unless the scenario gives the intensity itself."""
    if carbon.grid_region is None or carbon.grid_g_co2e_per_kwh is not None:
        return {}
    year = carbon.year if carbon.year is not None else start_year_
    g = grid_intensity(carbon.grid_region, year)
    if g.high <= g.low:
        return {}
    return {("carbon", "grid_g_co2e_per_kwh"): g.spread_spec()}
