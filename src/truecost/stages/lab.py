"""Lab-level cost and the four views of what a model cost (the `lab` stage).

1. headline_cost_usd         rented GPU-hours of the final run (DeepSeek's $5.576M; pricing stage)
2. final_run_owned_cost_usd  the same run on owned hardware (Epoch AI's amortised method; pricing)
3. development_cost_usd      owned final run x experiment multiplier + staff on the model + data
                             (Epoch AI's development-cost method, formulas.md sec. 4)
4. lab_total_cost_usd        the lab's share of fleet CapEx + OpEx, plus all staff, over a horizon,
                             plus data (SemiAnalysis's framing)

and `true_to_headline_ratio` = lab total / headline, with a waterfall from one to the other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..defaults import Cited
from ..scenario.lab import Lab
from ..scenario.ownership import Ownership
from .base import Notes, StageResult, quantity
from .fleet import FleetResult, horizon_years
from .pricing import OwnedResult, RentalResult

EPOCH_PAPER = (
    "Epoch AI, Cottier et al. 2024, 'The rising costs of training frontier AI models', arXiv:2405.21015"
)

STAFF_OVERHEAD = Cited(
    1.325,
    "1",
    EPOCH_PAPER + ": staff cost = salary x overhead (1.25-1.4) x FTE share x duration; midpoint 1.325 "
    "(formulas.md sec. 4)",
)
EXPERIMENT_MULTIPLIER = Cited(
    2.19,
    "1",
    EPOCH_PAPER + ": compute of experiments and ablations + final run, over the final run: lognormal "
    "90% CI 1.2x-4x, median sqrt(1.2 x 4) = 2.19",
)
DATA_USD = Cited(0.0, "USD", "ASSUMED 0: no data-acquisition or labelling figure given; set lab.data_usd")
DEVELOPMENT_YEARS = Cited(
    1.0, "yr", "ASSUMED: one year of staff time goes into the model; set lab.development_years"
)
MODEL_STAFF_SHARE = Cited(
    1.0, "1", "ASSUMED: all listed staff work on the model during its development; set lab.model_staff_share"
)
FLEET_SHARE_ALL_LAB = Cited(
    1.0,
    "1",
    "ASSUMED: the whole fleet serves the lab (no lab.fleet_share given; SemiAnalysis counts the whole fleet)",
)


# ---- formulas ------------------------------------------------------------------------------
def staff_usd_per_year(count: Any, compensation_usd_per_year: Any, overhead: Any) -> Any:
    """Fully loaded cost of a staff group. [USD/yr]

    >>> staff_usd_per_year(100, 200_000, 1.325)
    26500000.0
    """
    return count * compensation_usd_per_year * overhead


def experiments_cost_usd(final_run_cost_usd: Any, experiment_multiplier: Any) -> Any:
    """Compute of experiments and ablations beyond the final run (Epoch AI: total compute is 1.2x-4x
    the final run's, so experiments add multiplier - 1). [USD]

    >>> round(experiments_cost_usd(5e6, 2.2))
    6000000
    """
    return final_run_cost_usd * (experiment_multiplier - 1.0)


def development_cost_usd(final_run_cost_usd: Any, experiments_usd: Any, staff_usd: Any, data_usd: Any) -> Any:
    """Cost of developing the model: final run + experiments + staff on it + data. [USD]

    >>> development_cost_usd(5e6, 6e6, 20e6, 1e6)
    32000000.0
    """
    return final_run_cost_usd + experiments_usd + staff_usd + data_usd


def lab_share_of_fleet(training: Any, inference: Any, research: Any, other: Any) -> Any:
    """Share of the fleet the lab uses (training + inference + research over all uses). [1]

    >>> lab_share_of_fleet(0.3, 0.3, 0.2, 0.2)
    0.8
    """
    lab = training + inference + research
    return lab / (lab + other)


def lab_total_cost_usd(
    fleet_capex_usd: Any,
    fleet_opex_usd_per_year: Any,
    staff_usd_per_year_: Any,
    horizon_years: Any,
    lab_share: Any = 1.0,
    data_usd: Any = 0.0,
    fleet_capital_usd_per_year: Any = 0.0,
) -> Any:
    """What the lab spends over a horizon: its share of fleet CapEx, OpEx and cost of capital, all
    staff, data (SemiAnalysis's framing, CapEx counted in full and no residual value, plus the cost
    of capital as its own line). [USD]

    >>> lab_total_cost_usd(1.6e9, 236e6, 80e6, 4, 0.9)
    2609600000.0
    >>> lab_total_cost_usd(1.6e9, 236e6, 80e6, 4, 0.9, 0.0, 50e6)
    2789600000.0
    """
    return (
        lab_share * (fleet_capex_usd + horizon_years * (fleet_opex_usd_per_year + fleet_capital_usd_per_year))
        + horizon_years * staff_usd_per_year_
        + data_usd
    )


def true_to_headline_ratio(lab_total_usd: Any, headline_usd: Any) -> Any:
    """How many times the headline the lab's total spend is. [1]

    >>> true_to_headline_ratio(2.8e9, 5.576e6) > 500
    True
    """
    return lab_total_usd / headline_usd


# ---- stage ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class WaterfallStep:
    """One step from the headline to the lab total. [USD]"""

    label: str
    amount_usd: float
    total_usd: float
    note: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ComputeCrossCheck:
    """Two views of the model's development compute: the experiment multiplier's (Epoch AI) and
    the training + research share of the fleet's yearly cost over the development time. [USD]"""

    final_run_and_experiments_usd: float
    training_and_research_share_of_fleet_usd: float
    note: str = (
        "Compute cost implied by the experiment multiplier, beside the training + research "
        "share of the fleet's yearly cost (CapEx / horizon + OpEx + cost of capital) over "
        "lab.development_years. A large gap means either the multiplier or the shares are off, or "
        "the fleet ran other models."
    )

    @property
    def ratio(self) -> float:
        """Fleet-share view / multiplier view. [1]"""
        a = self.final_run_and_experiments_usd
        return self.training_and_research_share_of_fleet_usd / a if a else float("nan")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {
            "views": {
                "development compute, Epoch AI's experiment multiplier (final run x multiplier)": (
                    self.final_run_and_experiments_usd
                ),
                "development compute, training + research share of the fleet over the development time": (
                    self.training_and_research_share_of_fleet_usd
                ),
            },
            "fleet_share_over_multiplier": self.ratio,
            "why_they_differ": (
                f"The fleet-share view is {self.ratio:.3g}x the multiplier view. The multiplier counts only "
                "the experiments behind this one model's final run (Epoch AI: 1.2x-4x of it); the fleet "
                "share charges the model with every training and research GPU the lab owned during its "
                "development, including other models' runs, idle and reserved capacity, and hardware "
                "bought ahead of need. The first is a floor on the model's compute, the second a ceiling."
            ),
        }


@dataclass(frozen=True, kw_only=True)
class LabResult(StageResult):
    """Development cost, lab total and its ratio to the headline, with the waterfall between them."""

    lab_staff_usd_per_year: Any = quantity("USD/yr", "sum of lab.staff: count x compensation x overhead")
    development_cost_usd: Any = quantity(
        "USD",
        "final_run_owned_cost_usd x experiment_multiplier + staff x development_years x "
        "model_staff_share + data_usd",
    )
    lab_total_cost_usd: Any = quantity(
        "USD",
        "lab share x (fleet_capex_usd + horizon x (fleet_opex_usd_per_year + cost of capital)) + horizon x "
        "staff + data_usd",
    )
    true_to_headline_ratio: Any = quantity("1", "lab_total_cost_usd / headline_cost_usd")
    waterfall: tuple[WaterfallStep, ...] = ()
    staff_top_pay_usd_per_year: float | None = None  # fully loaded [USD/yr]
    fleet_cost_by_use_usd: Mapping[str, float] | None = None
    compute_cross_check: ComputeCrossCheck | None = None


def _cited(notes: Notes, lab: Lab, name: str, default: Cited) -> Any:
    return notes.cited(name, getattr(lab, name), default, f"lab.{name}", lab.sources.get(name, ""))


def _staff(notes: Notes, lab: Lab) -> tuple[Any, Any]:
    """(total fully loaded staff cost a year, top fully loaded pay of a person)."""
    total: Any = 0.0
    top: Any = 0.0
    for i, g in enumerate(lab.staff):
        f = f"lab.staff[{i}]"
        src = g.source or "scenario input"
        notes.assume(f"{f}.count", g.count, "1", src + (f" ({g.role})" if g.role else ""), f"{f}.count")
        notes.assume(
            f"{f}.compensation_usd_per_year",
            g.compensation_usd_per_year,
            "USD/yr",
            src,
            f"{f}.compensation_usd_per_year",
        )
        overhead = notes.cited(f"{f}.overhead", g.overhead, STAFF_OVERHEAD, f"{f}.overhead")
        total = total + staff_usd_per_year(g.count, g.compensation_usd_per_year, overhead)
        top = np.maximum(top, g.compensation_usd_per_year * overhead)
    return total, top


def stage(
    lab: Lab | None,
    ownership: Ownership,
    rental: RentalResult,
    owned: OwnedResult,
    fleet: FleetResult,
    *,
    point: bool = True,
) -> LabResult:
    """Development cost, lab total, the ratio to the headline and the waterfall."""
    if lab is None:
        return LabResult()
    notes = Notes(point)
    staff_year, top_pay = _staff(notes, lab)
    multiplier = _cited(notes, lab, "experiment_multiplier", EXPERIMENT_MULTIPLIER)
    data = _cited(notes, lab, "data_usd", DATA_USD)
    horizon = horizon_years(notes, lab.horizon_years, ownership.horizon_years)
    own = owned.final_run_owned_cost_usd
    headline = rental.headline_cost_usd
    capex = fleet.fleet_capex_usd
    opex = fleet.fleet_opex_usd_per_year
    capital = fleet.fleet_capital_usd_per_year if fleet.fleet_capital_usd_per_year is not None else 0.0

    parts: dict[str, Any] = {}
    years: Any = None
    development = total = ratio = None
    if own is not None:
        years = _cited(notes, lab, "development_years", DEVELOPMENT_YEARS)
        share = _cited(notes, lab, "model_staff_share", MODEL_STAFF_SHARE)
        parts["experiments"] = experiments_cost_usd(own, multiplier)
        parts["staff_on_model"] = staff_year * years * share
        development = development_cost_usd(own, parts["experiments"], parts["staff_on_model"], data)
    else:
        notes.warn(
            "no owned cost of a final run (cluster: with gpu_hours or FLOPs): development_cost_usd not computed"
        )
    lab_share = _lab_share(notes, lab)
    if capex is not None and opex is not None:
        total = lab_total_cost_usd(capex, opex, staff_year, horizon, lab_share, data, capital)
        parts["lab_fleet"] = lab_share * (capex + horizon * (opex + capital))
        if headline is not None:
            ratio = true_to_headline_ratio(total, headline)
    else:
        notes.warn("lab: given without a fleet: lab_total_cost_usd needs fleet: pools")

    waterfall: tuple[WaterfallStep, ...] = ()
    by_use = cross = None
    if point:
        waterfall = _waterfall(headline, own, parts, staff_year, data, horizon, multiplier)
        if capex is not None and opex is not None:
            by_use, cross = _fleet_by_use(lab, own, capex, opex + capital, horizon, years, multiplier)
    return LabResult(
        lab_staff_usd_per_year=staff_year if lab.staff else None,
        development_cost_usd=development,
        lab_total_cost_usd=total,
        true_to_headline_ratio=ratio,
        waterfall=waterfall,
        staff_top_pay_usd_per_year=float(top_pay) if point else None,
        fleet_cost_by_use_usd=by_use,
        compute_cross_check=cross,
        assumptions=notes.assumptions,
        warnings=notes.warnings,
    )


def _lab_share(notes: Notes, lab: Lab) -> Any:
    fs = lab.fleet_share
    if fs is None:
        notes.assume("lab.fleet_share", 1.0, "1", FLEET_SHARE_ALL_LAB.source, "lab.fleet_share")
        return 1.0
    src = fs.source or lab.sources.get("fleet_share", "") or "scenario input"
    for k in ("training", "inference", "research", "other"):
        notes.assume(f"lab.fleet_share.{k}", getattr(fs, k), "1", src, f"lab.fleet_share.{k}")
    return lab_share_of_fleet(fs.training, fs.inference, fs.research, fs.other)


def _fleet_by_use(
    lab: Lab, owned: Any, capex: Any, opex: Any, horizon: Any, years: Any, multiplier: Any
) -> tuple[dict[str, float], ComputeCrossCheck | None]:
    fs = lab.fleet_share
    fleet_cost = capex + horizon * opex
    if fs is None:
        return {"lab (all uses)": float(fleet_cost)}, None
    shares = {k: getattr(fs, k) for k in ("training", "inference", "research", "other")}
    tot = sum(shares.values())
    by_use = {k: float(fleet_cost * s / tot) for k, s in shares.items()}
    if owned is None or years is None:
        return by_use, None
    # Cross-check: the compute Epoch's multiplier implies vs what the training + research share of
    # the fleet costs over the model's development time.
    per_year = (capex / horizon + opex) * (shares["training"] + shares["research"]) / tot
    return by_use, ComputeCrossCheck(float(owned * multiplier), float(per_year * years))


def _waterfall(
    headline: Any,
    owned: Any,
    parts: dict[str, Any],
    staff_year: Any,
    data: Any,
    horizon: Any,
    multiplier: Any,
) -> tuple[WaterfallStep, ...]:
    steps: list[WaterfallStep] = []
    total = 0.0

    def step(label: str, amount: Any, note: str) -> None:
        nonlocal total
        a = float(amount)
        total += a
        steps.append(WaterfallStep(label, a, total, note))

    if headline is not None:
        step("Headline (rented final run)", headline, "GPU-hours of the final run x rental price")
    if owned is not None:
        if headline is not None:
            step(
                "Owned instead of rented",
                owned - headline,
                "final run at the owned cost per GPU-hour instead of the rental price (can be negative)",
            )
        else:
            step("Final run on owned hardware", owned, "GPU-hours x owned cost per GPU-hour")
        step(
            "Experiments and ablations",
            parts["experiments"],
            f"final run x (experiment multiplier {float(multiplier):.3g} - 1), Epoch AI 1.2x-4x",
        )
        step(
            "Staff on the model",
            parts["staff_on_model"],
            "staff cost x development years x share on the model",
        )
        step("Data", data, "data acquisition and labelling")
    if "lab_fleet" in parts:
        used = (owned + parts["experiments"]) if owned is not None else 0.0
        step(
            f"Rest of the fleet over {float(horizon):g} years",
            parts["lab_fleet"] - used,
            "lab share of fleet CapEx + OpEx + cost of capital over the horizon, less the compute counted above: "
            "inference, other research, idle capacity",
        )
        on_model = parts.get("staff_on_model", 0.0)
        step(
            f"Rest of the staff over {float(horizon):g} years",
            staff_year * horizon - on_model,
            "all staff over the horizon, less the time counted on the model",
        )
        if owned is None:
            step("Data", data, "data acquisition and labelling")
    return tuple(steps)
