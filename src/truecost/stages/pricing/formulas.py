"""Pure, vectorised formulas of rental and owned cost (scalars or arrays of Monte Carlo draws)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...units import HOURS_PER_YEAR, KILO, MONTHS_PER_YEAR, W_PER_KW
from .defaults import LN10


# ---- formulas ------------------------------------------------------------------------------
def rental_cost_usd(gpu_hours: Any, price_usd_per_gpu_hour: Any) -> Any:
    """Cost of renting the run's GPU time. [USD]

    >>> rental_cost_usd(2.788e6, 2.0)
    5576000.0
    """
    return gpu_hours * price_usd_per_gpu_hour


def server_cost_per_gpu_usd(unit_price_usd: Any, server_overhead: Any) -> Any:
    """Server cost per accelerator: the accelerator plus its share of chassis, CPUs, memory, NICs
    and NVSwitch (Epoch AI's server overhead multiplier). [USD]

    unit_price_usd : numeric   price of one accelerator. [USD]
    server_overhead : numeric  server cost / accelerator price, >= 1. [1]

    >>> round(server_cost_per_gpu_usd(33_800, 1.324), 2)
    44751.2
    """
    return unit_price_usd * server_overhead


def networking_capex_usd(server_capex_usd: Any, networking_share: Any) -> Any:
    """Cluster interconnect (switches, optics, cables) when it is `networking_share` of the total
    of servers + interconnect (Epoch AI: share 0.19, i.e. servers x 0.19 / 0.81). [USD]

    >>> round(networking_capex_usd(81_000, 0.19))
    19000
    """
    return server_capex_usd * networking_share / (1.0 - networking_share)


def storage_capex_usd(server_capex_usd: Any, storage_share: Any) -> Any:
    """Cluster storage as a share of server cost. [USD]

    >>> storage_capex_usd(100_000, 0.03)
    3000.0
    """
    return server_capex_usd * storage_share


def it_power_kw(tdp_w: Any, server_to_chip: Any) -> Any:
    """Provisioned IT power per accelerator: TDP x server-to-chip power factor (what a
    colocation contract or a data-centre build is sized on). [kW]

    >>> round(it_power_kw(700, 1.82), 3)
    1.274
    """
    return tdp_w / W_PER_KW * server_to_chip


def power_usd_per_busy_hour(
    tdp_w: Any, server_to_chip: Any, utilisation: Any, pue: Any, electricity_usd_per_kwh: Any
) -> Any:
    """Electricity of one accelerator-hour of work: TDP x server-to-chip x average utilisation x
    PUE x price (Epoch AI energy method, formulas.md sec. 3). [USD/GPU-h]

    >>> round(power_usd_per_busy_hour(700, 1.82, 0.75, 1.25, 0.0826), 5)
    0.09866
    """
    return tdp_w / W_PER_KW * server_to_chip * utilisation * pue * electricity_usd_per_kwh


def straight_line_usd_per_year(capex_usd: Any, life_years: Any) -> Any:
    """Accounting straight-line depreciation. [USD/yr]

    >>> straight_line_usd_per_year(50_000, 5)
    10000.0
    """
    return capex_usd / life_years


def epoch_decay_value_usd(capex_usd: Any, age_years: Any, decay_oom_per_year: Any) -> Any:
    """Value of hardware `age_years` after purchase when value falls `decay_oom_per_year` orders of
    magnitude a year (Epoch AI: purchase price x 10^(-0.14 x years)). [USD]

    >>> round(epoch_decay_value_usd(10_000, 1, 0.14), 2)
    7244.36
    """
    return capex_usd * 10.0 ** (-decay_oom_per_year * age_years)


def epoch_decay_usd_per_year(capex_usd: Any, age_years: Any, decay_oom_per_year: Any) -> Any:
    """Rate at which hardware loses value at age `age_years` (Epoch AI: value x 0.14 x ln 10 a
    year, i.e. value x 0.14 ln10 / 8766 per hour). [USD/yr]

    >>> round(epoch_decay_usd_per_year(10_000, 0, 0.14), 2)
    3223.62
    """
    return epoch_decay_value_usd(capex_usd, age_years, decay_oom_per_year) * decay_oom_per_year * LN10


def straight_line_over_horizon_usd(capex_usd: Any, life_years: Any, horizon_years: Any) -> Any:
    """Straight-line depreciation booked during the first `horizon_years` (none after the life). [USD]

    >>> float(straight_line_over_horizon_usd(50_000, 5, 4)), float(straight_line_over_horizon_usd(50_000, 5, 8))
    (40000.0, 50000.0)
    """
    return capex_usd * np.minimum(horizon_years, life_years) / life_years


def epoch_decay_over_horizon_usd(capex_usd: Any, decay_oom_per_year: Any, horizon_years: Any) -> Any:
    """Value lost in the first `horizon_years` under Epoch's decay: capex x (1 - 10^(-k H)). [USD]

    >>> round(epoch_decay_over_horizon_usd(10_000, 0.14, 1), 2)
    2755.64
    """
    return capex_usd * (1.0 - 10.0 ** (-decay_oom_per_year * horizon_years))


def straight_line_mean_book_usd(capex_usd: Any, life_years: Any, horizon_years: Any) -> Any:
    """Mean book value over the first `horizon_years` under straight-line depreciation
    (integral of capex (1 - t/L) over t in [0, min(H, L)], divided by H). [USD]

    >>> float(straight_line_mean_book_usd(50_000, 5, 5)), float(straight_line_mean_book_usd(50_000, 5, 10))
    (25000.0, 12500.0)
    """
    m = np.minimum(horizon_years, life_years)
    return capex_usd * (m - m * m / (2.0 * life_years)) / horizon_years


def epoch_decay_mean_value_usd(capex_usd: Any, decay_oom_per_year: Any, horizon_years: Any) -> Any:
    """Mean value over the first `horizon_years` under Epoch's decay:
    capex (1 - 10^(-k H)) / (k ln10 H). [USD]

    >>> round(float(epoch_decay_mean_value_usd(10_000, 0.14, 1)), 1)
    8548.3
    """
    k = decay_oom_per_year * LN10
    return capex_usd * (1.0 - np.exp(-k * horizon_years)) / (k * horizon_years)


def capital_cost_usd_per_year(capital_tied_usd: Any, cost_of_capital: Any) -> Any:
    """Financing cost of the capital tied up in hardware. [USD/yr]

    >>> capital_cost_usd_per_year(25_000, 0.08)
    2000.0
    """
    return capital_tied_usd * cost_of_capital


def colocation_usd_per_year(it_kw: Any, usd_per_kw_month: Any) -> Any:
    """Wholesale colocation rent on provisioned IT power (CBRE quotes $/kW-month). [USD/yr]

    >>> round(colocation_usd_per_year(1.274, 184.06), 2)
    2813.91
    """
    return it_kw * usd_per_kw_month * MONTHS_PER_YEAR


def owned_build_capex_usd(it_kw: Any, build_usd_per_mw: Any) -> Any:
    """Fit-out of an owned data centre sized on provisioned IT power. [USD]

    >>> owned_build_capex_usd(1.0, 10e6)
    10000.0
    """
    return it_kw / KILO * build_usd_per_mw


def per_useful_hour(usd_per_year: Any, fleet_utilisation: Any) -> Any:
    """A yearly fixed cost spread over the useful hours of a year: an owned GPU idle half the
    time costs twice per useful hour. [USD/GPU-h]

    >>> per_useful_hour(8766.0, 0.5)
    2.0
    """
    return usd_per_year / (HOURS_PER_YEAR * fleet_utilisation)


def owned_usd_per_gpu_hour(terms_usd_per_gpu_hour: dict[str, Any]) -> Any:
    """Owned cost of one useful accelerator-hour: the sum of its terms. [USD/GPU-h]

    >>> owned_usd_per_gpu_hour({"depreciation": 1.0, "power": 0.1})
    1.1
    """
    return sum(terms_usd_per_gpu_hour.values())
