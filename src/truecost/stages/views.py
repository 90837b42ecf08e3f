"""The `views` stage: the four answers to "what did it cost?", each with what it includes and
excludes (one text source for the CLI, the report and the web), and third-party reference points
beside this estimate's comparable figure.

1. headline_cost_usd         rented GPU-hours of the final run (DeepSeek's $5.576M)
2. final_run_owned_cost_usd  the same run on owned hardware (the scenario's ownership.method)
3. development_cost_usd      owned final run x experiment multiplier + staff on the model + data
4. lab_total_cost_usd        the lab's share of fleet CapEx + OpEx, plus all staff, over a horizon
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..units import DAYS_PER_YEAR
from .base import StageResult
from .fleet import FleetResult
from .lab import LabResult


@dataclass(frozen=True)
class View:
    """One of the four views: its result key and what it counts."""

    key: str
    label: str
    short_label: str
    includes: str
    excludes: str

    def to_dict(self) -> dict[str, str]:
        return {"key": self.key, "label": self.label, "includes": self.includes, "excludes": self.excludes}


VIEWS: tuple[View, ...] = (
    View(
        "headline_cost_usd",
        "Headline: rented GPU-hours of the final run",
        "Headline",
        "GPU-hours of the official training run (all reported stages) x a rental price",
        "research and ablation runs, staff, data, the fleet's purchase, power and facility, "
        "inference, idle time",
    ),
    View(
        "final_run_owned_cost_usd",
        "Final run on owned hardware (amortised by the scenario's ownership.method)",
        "Owned final run",
        "the run's share of owned hardware per useful GPU-hour: under straight-line or value-decay, "
        "depreciation, cost of capital, maintenance, operations, facility and power; under epoch "
        "(Epoch AI's method), servers and interconnect decayed 0.14 OOM/yr plus energy only",
        "experiments, staff, data, the rest of the fleet's life",
    ),
    View(
        "development_cost_usd",
        "Development cost of the model",
        "Development",
        "owned final run x experiment multiplier (ablations, failed runs), staff time on the "
        "model (fully loaded), data acquisition and labelling",
        "the fleet's capacity beyond the model's compute, inference, other projects, staff "
        "time on other work",
    ),
    View(
        "lab_total_cost_usd",
        "Lab total over the horizon (SemiAnalysis's framing)",
        "Lab total",
        "the lab's share of fleet CapEx in full + OpEx (power, facility, maintenance, "
        "operations) + cost of capital (its own line; 0 with ownership.cost_of_capital: 0) + all "
        "staff over the horizon + data",
        "residual value of the hardware, the share of the fleet used outside "
        "the lab, everything not in the scenario (offices, legal, marketing)",
    ),
)


@dataclass(frozen=True)
class ReferencePoint:
    """A third-party figure from the scenario beside this estimate's comparable figure."""

    name: Any
    value: Any
    unit: Any
    source: Any
    compare_to: str = ""
    ours: float | None = None
    ours_over_reference: float | None = None
    gap: str = ""
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "value": self.value,
            "unit": self.unit,
            "source": self.source,
        }
        if self.compare_to:
            out["compare_to"] = self.compare_to
            out["ours"] = self.ours
            if self.ours_over_reference is not None:
                out["ours_over_reference"] = self.ours_over_reference
            out["gap"] = self.gap
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True, kw_only=True)
class ViewsResult(StageResult):
    """views : the views this scenario computes, in the order the waterfall walks them.
    reference_points : third-party figures beside ours."""

    views: tuple[View, ...] = ()
    reference_points: tuple[ReferencePoint, ...] = ()
    serving_vs_lab: Mapping[str, Any] | None = None


def comparable_figures(results: Mapping[str, Any], fleet: FleetResult, lab: LabResult) -> dict[str, Any]:
    """Every figure a reference point may compare to: the results, the fleet summary, top pay."""
    out: dict[str, Any] = dict(results)
    if fleet.summary is not None:
        out.update(fleet.summary.to_dict())
    if lab.staff_top_pay_usd_per_year is not None:
        out["lab_staff_top_pay_usd_per_year"] = lab.staff_top_pay_usd_per_year
    return out


def reference_point(ref: Mapping[str, Any], comparable: Mapping[str, Any]) -> ReferencePoint:
    value = ref.get("value")
    try:  # YAML 1.1 reads 5.576e6 (no sign in the exponent) as a string
        value = float(ref["value"])
    except (KeyError, TypeError, ValueError):
        pass
    common: dict[str, Any] = dict(
        name=ref.get("name"), value=value, unit=ref.get("unit"), source=ref.get("source")
    )
    note = str(ref.get("note") or "")
    key = ref.get("compare_to")
    if not key:
        return ReferencePoint(**common, note=note)
    ours = comparable.get(key)
    if ours is None:
        return ReferencePoint(
            **common, compare_to=key, gap=f"not computed: {key} is not produced by this scenario", note=note
        )
    ours_f = float(np.median(np.asarray(ours, dtype=float)))
    if isinstance(value, float) and value != 0:
        gap = f"ours {ours_f:.4g} vs {value:.4g} ({ours_f / value - 1:+.0%})"
        return ReferencePoint(
            **common, compare_to=key, ours=ours_f, ours_over_reference=ours_f / value, gap=gap, note=note
        )
    return ReferencePoint(
        **common, compare_to=key, ours=ours_f, gap="reference value is not a non-zero number", note=note
    )


def serving_vs_lab(results: Mapping[str, Any], fleet: FleetResult, lab: LabResult) -> dict[str, Any] | None:
    """The lab's inference share of its fleet beside what serving costs over the same horizon,
    when a lab scenario also has a serving section (point values)."""
    by_use = lab.fleet_cost_by_use_usd
    day_owned = results.get("serving_owned_cost_usd_per_day")
    day_rent = results.get("serving_cost_usd_per_day")
    if not by_use or "inference" not in by_use or fleet.summary is None or day_rent is None:
        return None
    years = fleet.summary.horizon_years
    share = float(by_use["inference"])
    owned = None if day_owned is None else float(np.median(np.asarray(day_owned))) * DAYS_PER_YEAR * years
    rented = float(np.median(np.asarray(day_rent))) * DAYS_PER_YEAR * years
    serving = owned if owned is not None else rented
    return {
        "horizon_years": years,
        "lab_inference_fleet_share_usd": share,
        "serving_owned_cost_usd_over_horizon": owned,
        "serving_rental_cost_usd_over_horizon": rented,
        "serving_over_lab_inference_share": serving / share if share else None,
        "gap": (
            "the lab's figure is its inference share of the whole fleet's CapEx in full plus OpEx "
            "(every GPU it owns, busy or idle, bought at once); the serving figure is the GPUs the "
            "serving section runs, for every day of the horizon, at the owned (else rental) rate per "
            "GPU-hour, which spreads the purchase over the hardware's life and counts only those GPUs"
        ),
    }


def stage(
    results: Mapping[str, Any],
    fleet: FleetResult,
    lab: LabResult,
    reference_points: tuple[Mapping[str, Any], ...],
    *,
    point: bool = True,
) -> ViewsResult:
    """`results`: the quantities of every stage before this one, by result key."""
    if not point:
        return ViewsResult()
    comparable = comparable_figures(results, fleet, lab)
    return ViewsResult(
        views=tuple(v for v in VIEWS if v.key in results),
        reference_points=tuple(reference_point(r, comparable) for r in reference_points),
        serving_vs_lab=serving_vs_lab(results, fleet, lab),
    )
