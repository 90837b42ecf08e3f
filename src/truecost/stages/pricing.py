"""Rental and owned cost per GPU-hour (the `pricing` stage).

Rental: the price someone charges per accelerator-hour (DeepSeek's $2/h assumption).
Owned: what an hour costs the owner, from purchase price, server overhead, cluster networking
and storage, depreciation (two named views), cost of capital, maintenance, operations,
facility and power, divided by the share of hours the hardware does useful work (Epoch AI's
amortised method, formulas.md sec. 3, and the accounting straight-line view of 10-K filings).

Every formula below is a pure numpy expression: it takes scalars or arrays of Monte Carlo draws
and broadcasts.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..defaults import EPOCH_COST_MODEL, Cited
from ..errors import ScenarioError
from ..scenario.ownership import Ownership
from ..state import ChainState
from ..units import HOURS_PER_YEAR, KILO, MONTHS_PER_YEAR, W_PER_KW

LN10 = float(np.log(10.0))

ECONOMICS_MD = "economics.md (shared reference)"
HYPERSCALER_10K = (
    "hyperscaler 10-K filings (economics.md sec. 4): Microsoft and Alphabet 6 years (2022-23), "
    "Amazon 5 years from 2025, Meta 5 years (Q4 2022)"
)
CBRE_H2_2024 = (
    "CBRE North America Data Center Trends H2 2024: average monthly asking rate, 250-500 kW "
    "requirement, primary markets, $184.06 per kW/month (space and power, not IT hardware)"
)
ASSUMED = "ASSUMED (no figure in the reference material; a round value to replace when known)"


# ---- defaults -------------------------------------------------------------------------------
# Server cost / accelerator price when the price is a single-accelerator (chip or baseboard) price.
# Epoch AI: P100 1.54, V100 1.69, A100 1.66, default 1.64, 90% CI 1.3-2.1.
CHIP_SERVER_OVERHEAD: dict[str, Cited] = {
    "v100": Cited(1.69, "1", EPOCH_COST_MODEL + ": server cost / V100 price"),
    "a100-sxm4-40gb": Cited(1.66, "1", EPOCH_COST_MODEL + ": server cost / A100 price"),
    "a100-sxm4-80gb": Cited(1.66, "1", EPOCH_COST_MODEL + ": server cost / A100 price"),
    "h100-sxm": Cited(
        1.4, "1", EPOCH_COST_MODEL + " notes: SemiAnalysis's 2023 DGX H100 cost breakdown implies about 1.4"
    ),
    # DGX H800 listing $44,750/GPU vs single H800 listing $33,800, both 2025-02-21 (Epoch price
    # dataset, quoted in the catalog's h800 price source): 44,750 / 33,800 = 1.324.
    "h800": Cited(
        1.324,
        "1",
        "Derived: DGX H800 listing $44,750/GPU / single H800 listing $33,800 (abrmicro and "
        "archive.ph/W5Vuf, both 2025-02-21, via Epoch AI hardware price dataset)",
    ),
}
CHIP_SERVER_OVERHEAD_FALLBACK = Cited(
    1.64, "1", EPOCH_COST_MODEL + ": default server cost / accelerator price (90% CI 1.3-2.1)"
)
# Catalog prices that are already a whole system divided by its accelerators.
CATALOG_PRICE_INCLUDES_SERVER: dict[str, str] = {
    "h100-sxm": "the catalog price is a DGX H100 (~$270,000 / 8, SemiAnalysis May 2023): server, "
    "NVSwitch and NICs included",
    "b200": "the catalog price is a DGX B200 listing per GPU: server included",
    "gb200": "the catalog price is a GB200 NVL72 rack price / 72: Grace CPUs, switches and rack included",
}

NETWORKING_SHARE = Cited(
    0.19,
    "1",
    EPOCH_COST_MODEL + ": CLUSTER_INTERCONNECT_COST_FRACTION = 0.19 of total cluster hardware cost "
    "(interconnect multiplier x1.07-1.32, 90% CI)",
)
STORAGE_SHARE = Cited(0.03, "1", ASSUMED + ": cluster storage at 3% of server cost")
LIFE_YEARS = Cited(
    5.0,
    "yr",
    EPOCH_COST_MODEL + ": 5-year life for AI servers of 2023 and later; " + HYPERSCALER_10K,
)
DECAY_OOM_PER_YEAR = Cited(
    0.14,
    "OOM/yr",
    EPOCH_COST_MODEL
    + ": hardware value decays 0.14 orders of magnitude a year as price-performance improves",
)
HARDWARE_AGE_YEARS = Cited(
    0.0, "yr", "ASSUMED: hardware new when the run starts (Epoch AI values hardware at the start of training)"
)
COST_OF_CAPITAL = Cited(
    0.08,
    "1/yr",
    ASSUMED + ": 8%/yr, the order of a large technology company's weighted average cost of capital",
)
MAINTENANCE_SHARE_PER_YEAR = Cited(
    0.03, "1/yr", ASSUMED + ": hardware maintenance, support contracts and spares at 3% of CapEx a year"
)
OPERATIONS_SHARE_PER_YEAR = Cited(
    0.01, "1/yr", ASSUMED + ": datacenter operations staff at 1% of CapEx a year"
)
FLEET_UTILISATION = Cited(
    1.0,
    "1",
    EPOCH_COST_MODEL + ": the amortised method charges hardware only for the hours of the run "
    "(full utilisation); an owned GPU idle half the time costs twice per useful hour",
)
COLOCATION_USD_PER_KW_MONTH = Cited(184.06, "USD/kW-month", CBRE_H2_2024)
BUILD_USD_PER_MW = Cited(
    10.0e6,
    "USD/MW",
    ASSUMED + ": $10M per MW of critical IT load, the order of published data-centre development "
    "cost guides (not verified here)",
)
FACILITY_LIFE_YEARS = Cited(15.0, "yr", ASSUMED + ": 15-year life of the building, power and cooling plant")
HORIZON_YEARS = Cited(
    4.0,
    "yr",
    "SemiAnalysis, 'DeepSeek Debates' (31 Jan 2025): TCO table labelled 'TCO (4y ownership)' "
    "(economics.md sec. 2)",
)


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


DEPRECIATION_METHODS: dict[str, DepreciationMethod] = {
    "straight-line": DepreciationMethod(
        label="accounting straight-line over the stated life (hyperscalers: 5-6 years); capital "
        "tied up = mean book value over the life (half the price)",
        usd_per_year=lambda c, life, age, k: straight_line_usd_per_year(c, life),
        capital_tied_usd=lambda c, life, age, k: straight_line_mean_book_usd(c, life, life),
        over_horizon_usd=lambda c, life, h, k: straight_line_over_horizon_usd(c, life, h),
        mean_value_usd=lambda c, life, h, k: straight_line_mean_book_usd(c, life, h),
    ),
    "epoch-decay": DepreciationMethod(
        label="Epoch AI value decay, 0.14 orders of magnitude a year as price-performance improves; "
        "capital tied up = value at the hardware's age",
        usd_per_year=lambda c, life, age, k: epoch_decay_usd_per_year(c, age, k),
        capital_tied_usd=lambda c, life, age, k: epoch_decay_value_usd(c, age, k),
        over_horizon_usd=lambda c, life, h, k: epoch_decay_over_horizon_usd(c, k, h),
        mean_value_usd=lambda c, life, h, k: epoch_decay_mean_value_usd(c, k, h),
    ),
}


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

_DEFAULTS: dict[str, Cited] = {
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
    state: ChainState,
    accelerator_id: str,
    pool: Any = None,
    pool_index: int | None = None,
    need_price: bool = True,
) -> OwnedInputs | None:
    """Resolve every input of the owned cost for one accelerator type: the pool's override, else
    the scenario's `ownership:`, else the cited default; each is recorded as an assumption with
    the scenario field that sets it. Returns None (with a warning) when no price is known and
    `need_price` is False; raises ScenarioError when it is True."""
    from ..catalog import get_accelerator

    scn = state.scenario
    acc = get_accelerator(accelerator_id)
    base: Ownership = scn.ownership
    over: Ownership | None = pool.ownership if pool is not None else None
    prefix = _pool_prefix(pool_index)
    run_acc = scn.cluster.accelerator if scn.cluster is not None else None
    tag = "" if accelerator_id == run_acc else f" ({accelerator_id})"

    def get(name: str, default: Cited) -> Any:
        if over is not None and getattr(over, name) is not None:
            field = f"{prefix}ownership.{name}"
            return state.cited(field, getattr(over, name), default, field, over.sources.get(name, ""))
        return state.cited(
            name, getattr(base, name), default, f"ownership.{name}", base.sources.get(name, "")
        )

    gpn = pool.gpus_per_node if pool is not None and pool.gpus_per_node is not None else acc.gpus_per_node
    costs = _server_cost(state, acc, pool, prefix, base, over, gpn, tag)
    if costs is None:
        if need_price:
            where = f"{prefix}unit_price_usd" if pool is not None else "ownership.unit_price_usd"
            raise ScenarioError(
                f"no purchase price for {accelerator_id} in the catalog; give one (per accelerator) "
                "or a server_price_usd (per server)",
                field=where,
            )
        state.warn(
            f"no purchase price for {accelerator_id} in the catalog; set ownership.unit_price_usd to get "
            "owned_usd_per_gpu_hour"
        )
        return None
    server_cost, accelerator_price = costs

    values: dict[str, Any] = {}
    for name, default in _DEFAULTS.items():
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
    state.assume(
        f"{prefix}depreciation" if over is not None and over.depreciation is not None else "depreciation",
        dep,
        "",
        DEPRECIATION_METHODS[dep].label,
        f"{prefix}ownership.depreciation"
        if over is not None and over.depreciation is not None
        else "ownership.depreciation",
    )
    state.assume(
        f"{prefix}facility" if over is not None and over.facility is not None else "facility",
        fac,
        "",
        FACILITY_METHODS[fac].label,
        f"{prefix}ownership.facility"
        if over is not None and over.facility is not None
        else "ownership.facility",
    )
    for name in FACILITY_METHODS[fac].inputs:
        values[name] = get(name, _DEFAULTS[name])
    values.update(_power_inputs(state, acc, tag))
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
    state: ChainState,
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
    chip_default = CHIP_SERVER_OVERHEAD.get(acc.id, CHIP_SERVER_OVERHEAD_FALLBACK)
    if holder.server_price_usd is not None:
        price = holder.server_price_usd
        state.assume(f"{where}server_price_usd", price, "USD/server", src, f"{where}server_price_usd")
        gpn_src = (
            "scenario input"
            if pool is not None and pool.gpus_per_node is not None
            else acc.extra.get("gpus_per_node_source", acc.source)
        )
        state.assume(f"{where}gpus_per_node", gpus_per_node, "1", gpn_src, f"{where}gpus_per_node")
        per_gpu_usd = price / gpus_per_node
        return per_gpu_usd, per_gpu_usd / chip_default.value
    if holder.unit_price_usd is not None:
        price = holder.unit_price_usd
        state.assume(f"{where}unit_price_usd", price, "USD", src, f"{where}unit_price_usd")
        overhead = _overhead(state, over, base, prefix, chip_default, tag)
        return server_cost_per_gpu_usd(price, overhead), price
    if acc.unit_price_usd is None:
        return None
    date = f" ({acc.unit_price_date})" if acc.unit_price_date else " (date not recorded)"
    state.assume(
        f"{where}unit_price_usd" if pool is not None else f"unit_price_usd{tag}",
        acc.unit_price_usd,
        "USD",
        f"catalog price for {acc.id}{date}: {acc.unit_price_source}",
        f"{where}unit_price_usd",
        acc.accessed,
    )
    included = CATALOG_PRICE_INCLUDES_SERVER.get(acc.id)
    overhead_default = chip_default if included is None else Cited(1.0, "1", included)
    overhead = _overhead(state, over, base, prefix, overhead_default, tag)
    chip_price = acc.unit_price_usd if included is None else acc.unit_price_usd / chip_default.value
    return server_cost_per_gpu_usd(acc.unit_price_usd, overhead), chip_price


def _overhead(
    state: ChainState, over: Ownership | None, base: Ownership, prefix: str, default: Cited, tag: str
) -> Any:
    if over is not None and over.server_overhead is not None:
        f = f"{prefix}ownership.server_overhead"
        return state.cited(f, over.server_overhead, default, f, over.sources.get("server_overhead", ""))
    return state.cited(
        f"server_overhead{tag}",
        base.server_overhead,
        default,
        "ownership.server_overhead",
        base.sources.get("server_overhead", ""),
    )


def _power_inputs(state: ChainState, acc: Any, tag: str) -> dict[str, Any]:
    """Power inputs under the run stage's names (server_to_chip_power, power_utilisation, pue),
    suffixed with the accelerator id when it is not the run's."""
    from .. import defaults

    p = state.scenario.power
    s2c_default, util_default = defaults.power_defaults(acc.id)
    out = {
        "server_to_chip": state.cited(
            f"server_to_chip_power{tag}" if p.server_to_chip is None else "server_to_chip_power",
            p.server_to_chip,
            s2c_default,
            "power.server_to_chip",
        ),
        "power_utilisation": state.cited(
            f"power_utilisation{tag}" if p.utilisation is None else "power_utilisation",
            p.utilisation,
            util_default,
            "power.utilisation",
        ),
        "pue": state.cited("pue", p.pue, defaults.PUE, "power.pue"),
        "electricity_usd_per_kwh": state.cited(
            "electricity_usd_per_kwh",
            p.electricity_usd_per_kwh,
            defaults.ELECTRICITY_USD_PER_KWH,
            "power.electricity_usd_per_kwh",
        ),
    }
    if acc.tdp_w is not None:
        state.assume(
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


# ---- stage glue ----------------------------------------------------------------------------
def rental_stage(state: ChainState) -> None:
    scn = state.scenario
    hours = state.get("gpu_hours")
    if hours is None or scn.cluster is None:
        return
    from ..catalog import get_accelerator

    acc = get_accelerator(scn.cluster.accelerator)
    price = scn.pricing.rental_usd_per_gpu_hour
    if price is not None:
        state.assume(
            "rental_usd_per_gpu_hour", price, "USD/GPU-h", "scenario input", "pricing.rental_usd_per_gpu_hour"
        )
    elif acc.rental_usd_per_gpu_hour is not None:
        price = acc.rental_usd_per_gpu_hour
        state.assume(
            "rental_usd_per_gpu_hour",
            price,
            "USD/GPU-h",
            f"catalog price for {acc.id}: {acc.rental_source}",
            "pricing.rental_usd_per_gpu_hour",
            acc.accessed,
        )
    else:
        state.warn(
            f"no rental price for {acc.id} in the catalog; set pricing.rental_usd_per_gpu_hour to get "
            "final_run_cost_usd"
        )
        return
    cost = rental_cost_usd(hours, price)
    state.put("final_run_cost_usd", cost, "USD", "gpu_hours x rental_usd_per_gpu_hour")
    state.put(
        "headline_cost_usd",
        cost,
        "USD",
        "rented GPU-hours of the final run (the figure DeepSeek published); excludes research, "
        "ablations, staff, data and the fleet",
    )
    if state.point and scn.training.stages:
        state.detail(
            "stage_costs_usd", {s.name: rental_cost_usd(s.gpu_hours, price) for s in scn.training.stages}
        )


def run_pool(state: ChainState) -> tuple[int | None, Any]:
    """The first fleet pool with the run's accelerator (its price and overrides price the run)."""
    scn = state.scenario
    if scn.cluster is None or not scn.fleet:
        return None, None
    for i, pool in enumerate(scn.fleet):
        if pool.accelerator == scn.cluster.accelerator:
            return i, pool
    return None, None


def owned_stage(state: ChainState) -> None:
    """Owned cost per useful GPU-hour of the run's accelerator, and of the final run.

    The price comes from `ownership.unit_price_usd` / `server_price_usd`, else from the first
    fleet pool with the run's accelerator, else from the catalog (with its date).
    """
    scn = state.scenario
    if scn.cluster is None:
        return
    own = scn.ownership
    own_price = own.unit_price_usd is not None or own.server_price_usd is not None
    idx, pool = (None, None) if own_price else run_pool(state)
    inp = resolve_owned_inputs(state, scn.cluster.accelerator, pool, idx, need_price=False)
    if inp is None:
        return
    terms = owned_cost_terms(inp)
    rate = owned_usd_per_gpu_hour(terms)
    state.put(
        "owned_usd_per_gpu_hour",
        rate,
        "USD/GPU-h",
        f"({inp.depreciation} depreciation + cost of capital + maintenance + operations + facility) "
        "/ (8766 h x fleet_utilisation) + power per busy hour",
    )
    hours = state.get("gpu_hours")
    if hours is not None:
        state.put(
            "final_run_owned_cost_usd",
            rate * hours,
            "USD",
            "owned_usd_per_gpu_hour x gpu_hours (Epoch AI's amortised method: the run's share of "
            "the hardware's cost, plus power and facility)",
        )
    if state.point:
        by_view = {m: owned_cost_terms(inp, m) for m in DEPRECIATION_METHODS}
        state.detail("owned_cost_breakdown_usd_per_gpu_hour", {k: float(v) for k, v in terms.items()})
        state.detail(
            "owned_usd_per_gpu_hour_by_depreciation",
            {m: float(owned_usd_per_gpu_hour(t)) for m, t in by_view.items()},
        )
        where = f" (priced from fleet[{idx}])" if idx is not None else ""
        state.detail(
            "owned_cost_summary",
            dominant_terms_sentence(f"Owned {inp.accelerator}{where}", terms, inp.depreciation)
            + " Other view: "
            + "; ".join(
                f"{m} ${float(owned_usd_per_gpu_hour(t)):.2f}"
                for m, t in by_view.items()
                if m != inp.depreciation
            )
            + ".",
        )
