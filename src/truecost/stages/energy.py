"""Energy of a run, of a fleet per year and of serving, on three power bases.

Average electrical power per accelerator, before the data-centre overhead (PUE), is taken from:

- ``given``: `power.gpu_watts`, the publication's or user's own figure per device. It is taken
  as the device's whole average draw as the publication counts it, so `server_to_chip` and
  `utilisation` default to 1; a given value still multiplies (to scale a chip-only or peak
  figure). PUE applies as always; a figure with the PUE folded in needs `pue: 1`, or
  `gpu_watts_include_pue: true` (energy then skips the PUE, which still sizes the facility
  for the owned costs).
  Conventions, written down (each reproduces its publication, see
  `catalog/data/validation/emissions.csv`):

  =========================  =========  =====  ===============================================
  publication                gpu_watts  pue    what the figure is
  =========================  =========  =====  ===============================================
  Llama 3.1 / 3 / 2 cards    700 / 400  1 [*]  TDP "adjusted for power usage efficiency"
  LLaMA (Touvron 2023)       400        1.1    A100 TDP, PUE applied separately
  GPT-3 (Patterson 2021)     330        1.1    measured average system power per V100
  PaLM (Chowdhery 2022)      378.5      1.08   measured system power per TPU v4 chip
  BLOOM dynamic (Luccioni)   400        1      A100 TDP; idle and PUE counted separately
  =========================  =========  =====  ===============================================

  [*] or any `pue` with `gpu_watts_include_pue: true`.

- ``measured``: a catalog row of measured average system power per device during training
  (`catalog/data/measured_power.csv`; TPU v4: PaLM's 378.5 W; TPU v3: Meena/LaMDA's 289 W).
  Server share and utilisation are
  in the measurement, so they default to 1 as for ``given``.
- ``tdp``: Epoch AI's method (formulas.md sec. 3), TDP x server-to-chip power x average
  utilisation, with their cited per-accelerator defaults.

Energy = accelerator-hours x average power per accelerator x PUE.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..catalog import Accelerator
from ..catalog.carbon_tables import measured_power
from ..defaults import PUE, Cited
from ..scenario.power import Power
from ..units import HOURS_PER_DAY, HOURS_PER_YEAR, MEGA, W_PER_KW
from .base import Notes, StageResult, quantity

# How the average power per accelerator is found, best first.
POWER_BASES: dict[str, str] = {
    "given": "power.gpu_watts (the scenario's average power per accelerator)",
    "measured": "measured average system power per device during training (catalog)",
    "tdp": "catalog TDP x server-to-chip power x average utilisation (Epoch AI)",
}
GIVEN_WATTS_FACTOR = Cited(
    1.0,
    "1",
    "power.gpu_watts given: taken as the device's whole average draw (server share and utilisation "
    "included); set it to scale a chip-only or peak figure",
)


def _measured_factor(source: str) -> Cited:
    return Cited(
        1.0,
        "1",
        "measured system power per device includes the server share and the average utilisation: " + source,
    )


# ---- formulas --------------------------------------------------------------------------------------
def device_power_w(watts: Any, server_to_chip: Any = 1.0, utilisation: Any = 1.0) -> Any:
    """Average power per accelerator with its server share, before PUE. [W]

    watts : TDP, or a measured / assumed average per device. [W]
    server_to_chip : server power / accelerator power (1 when `watts` includes the server). [1]
    utilisation : average power as a share of the figure (1 when `watts` is an average). [1]

    >>> round(device_power_w(700, 1.82, 0.75), 1)
    955.5
    """
    return watts * server_to_chip * utilisation


def energy_kwh(gpu_hours: Any, watts: Any, server_to_chip: Any, utilisation: Any, pue: Any) -> Any:
    """Facility energy of a run (Epoch AI method, formulas.md sec. 3). [kWh]

    gpu_hours x watts x server_to_chip x utilisation x PUE, with `watts` a TDP or a measured
    average (`truecost.stages.run` re-exports it).

    >>> round(energy_kwh(1000, 700, 1.82, 0.75, 1.25))
    1194
    """
    return gpu_hours * watts / W_PER_KW * server_to_chip * utilisation * pue


def energy_kwh_measured(gpu_hours: Any, gpu_watts: Any, pue: Any) -> Any:
    """Facility energy from a measured (or a publication's) average power per device. [kWh]

    gpu_hours : accelerator-hours of the run. [h]
    gpu_watts : average power per device, server share included, PUE excluded. [W]
    pue : data-centre power / IT power (1 when the PUE is folded into `gpu_watts`). [1]

    GPT-3 (Patterson et al. 2021, Table 4: 10,000 V100 x 14.8 d, 330 W, PUE 1.1, 1,287 MWh):

    >>> round(energy_kwh_measured(10_000 * 14.8 * 24, 330, 1.1) / 1000)
    1289
    """
    return gpu_hours * gpu_watts / W_PER_KW * pue


def fleet_energy_kwh_per_year(count: Any, device_power_w_: Any, pue: Any, fleet_utilisation: Any) -> Any:
    """Facility energy of a pool of accelerators in a year. [kWh/yr]

    Busy hours only (count x 8766 h x fleet_utilisation), as the fleet's power cost counts them:
    idle draw is left out.

    >>> round(fleet_energy_kwh_per_year(1000, 955.5, 1.25, 1.0) / 1e6, 2)
    10.47
    """
    return count * HOURS_PER_YEAR * fleet_utilisation * device_power_w_ / W_PER_KW * pue


def serving_energy_kwh_per_day(gpus: Any, device_power_w_: Any, pue: Any) -> Any:
    """Facility energy of the accelerators serving a model for a day, busy all day. [kWh/d]

    >>> round(serving_energy_kwh_per_day(8, 955.5, 1.25), 1)
    229.3
    """
    return gpus * HOURS_PER_DAY * device_power_w_ / W_PER_KW * pue


def energy_kwh_per_m_tokens(energy_kwh_per_day: Any, tokens_per_day: Any) -> Any:
    """Energy per million tokens served. [kWh/M tokens]

    >>> energy_kwh_per_m_tokens(229.3, 100e6)
    2.293
    """
    return energy_kwh_per_day / (tokens_per_day / MEGA)


def gpu_hours_per_m_tokens(gpus: Any, tokens_per_day: Any) -> Any:
    """Accelerator-hours per million tokens served (embodied carbon of serving uses it). [h/M tokens]

    >>> gpu_hours_per_m_tokens(8, 96e6)
    2.0
    """
    return gpus * HOURS_PER_DAY / (tokens_per_day / MEGA)


# ---- stage ------------------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class EnergyResult(StageResult):
    """energy_kwh : facility energy of the run. [kWh]
    device_power_w : average power per accelerator with its server share, before PUE. [W]
    pue : the PUE applied. [1]
    basis : how the power was found, a key of POWER_BASES ("" when it could not be).
    """

    energy_kwh: Any = quantity("kWh", "gpu_hours x device_power_w x PUE / 1000")
    device_power_w: Any = quantity("W", "average power per accelerator, before PUE")
    pue: Any = None
    basis: str = ""


def device_power(
    power: Power,
    accelerator: Accelerator,
    notes: Notes,
    *,
    server_to_chip_default: Cited,
    utilisation_default: Cited,
) -> tuple[Any, Any, Any, str, str]:
    """(power figure [W], server_to_chip, utilisation, basis, formula), recording what was used;
    None for the figure when the catalog has neither a measured power nor a TDP for the accelerator.
    The average power per accelerator before PUE is their product (`device_power_w`)."""
    given = power.gpu_watts
    m = measured_power(accelerator.id)
    if given is not None:
        notes.assume(
            "gpu_watts", given, "W", "scenario input (average power per accelerator)", "power.gpu_watts"
        )
        watts, basis, factor_s2c, factor_util = given, "given", GIVEN_WATTS_FACTOR, GIVEN_WATTS_FACTOR
        what = "power.gpu_watts"
    elif m is not None:
        notes.assume(
            "measured_power_w", m.watts, "W", f"{m.basis}: {m.source}", "power.gpu_watts", m.accessed
        )
        factor = _measured_factor(m.source)
        watts, basis, factor_s2c, factor_util = m.watts, "measured", factor, factor
        what = f"measured {m.basis} ({m.watts:g} W)"
    elif accelerator.tdp_w is not None:
        watts, basis = accelerator.tdp_w, "tdp"
        factor_s2c, factor_util = server_to_chip_default, utilisation_default
        what = "TDP"
    else:
        notes.warn(
            f"no TDP or measured power in the catalog for {accelerator.id}: energy not computed; "
            "set power.gpu_watts"
        )
        return None, None, None, "", ""
    # Owned costs price power on the TDP basis under the plain names; other bases name their own.
    tag = "" if basis == "tdp" else "energy_"
    s2c = notes.cited(f"{tag}server_to_chip_power", power.server_to_chip, factor_s2c, "power.server_to_chip")
    util = notes.cited(f"{tag}power_utilisation", power.utilisation, factor_util, "power.utilisation")
    return watts, s2c, util, basis, f"{what} x server_to_chip_power x power_utilisation"


def stage(
    power: Power,
    *,
    gpu_hours: Any,
    accelerator: Accelerator,
    server_to_chip_default: Cited,
    utilisation_default: Cited,
    pue_default: Cited = PUE,
    point: bool = True,
) -> EnergyResult:
    """Energy of a run of `gpu_hours` on `accelerator`.

    The per-accelerator defaults (server-to-chip power, utilisation) come from the caller, which
    reads them from the catalog; they are used on the ``tdp`` basis only.
    """
    notes = Notes(point)
    watts, s2c, util, basis, how = device_power(
        power,
        accelerator,
        notes,
        server_to_chip_default=server_to_chip_default,
        utilisation_default=utilisation_default,
    )
    if watts is None:
        return EnergyResult(warnings=notes.warnings, assumptions=notes.assumptions)
    pue = notes.cited("pue", power.pue, pue_default, "power.pue")
    if basis == "tdp":
        notes.assume(
            "tdp_w", accelerator.tdp_w, "W", accelerator.source, "cluster.accelerator", accelerator.accessed
        )
    formula = f"gpu_hours x device_power_w x PUE ({POWER_BASES[basis]})"
    if power.gpu_watts_include_pue:
        notes.assume(
            "gpu_watts_include_pue",
            True,
            "",
            "scenario input: the PUE is folded into power.gpu_watts, so energy does not apply it again",
            "power.gpu_watts_include_pue",
        )
        pue = 1.0
        formula = "gpu_hours x device_power_w (power.gpu_watts, PUE folded in)"
    return EnergyResult(
        energy_kwh=None if gpu_hours is None else energy_kwh(gpu_hours, watts, s2c, util, pue),
        device_power_w=device_power_w(watts, s2c, util),
        pue=pue,
        basis=basis,
        formulas={"energy_kwh": formula, "device_power_w": how},
        assumptions=notes.assumptions,
        warnings=notes.warnings,
    )
