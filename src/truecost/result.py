"""Typed results: what `truecost.estimate` returns and `--json` prints."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .stages.base import StageResult
from .stages.carbon import CarbonResult
from .stages.fleet import FleetResult
from .stages.flops import FlopsResult
from .stages.lab import LabResult
from .stages.model import ModelResult
from .stages.money import MoneyResult
from .stages.perf.stage import PerfResult
from .stages.pricing import OwnedResult, RentalResult
from .stages.run import RunResult
from .stages.serving import ServingResult
from .stages.views import ViewsResult

# Order in which results are shown: the chain's order, model to lab.
RESULT_ORDER = (
    "params_total",
    "params_active",
    "flops_per_token",
    "training_flops",
    "step_time_s",
    "mfu",
    "hfu",
    "gpu_hours",
    "wall_clock_days",
    "energy_kwh",
    "grid_g_co2e_per_kwh",
    "carbon_t_co2e",
    "carbon_market_t_co2e",
    "embodied_kg_per_accelerator",
    "embodied_carbon_t_co2e",
    "final_run_cost_usd",
    "owned_usd_per_gpu_hour",
    "final_run_owned_cost_usd",
    "fleet_capex_usd",
    "fleet_opex_usd_per_year",
    "fleet_depreciation_usd_per_year",
    "fleet_tco_usd",
    "fleet_energy_kwh_per_year",
    "fleet_carbon_t_co2e_per_year",
    "fleet_carbon_market_t_co2e_per_year",
    "fleet_embodied_carbon_t_co2e_per_year",
    "lab_staff_usd_per_year",
    "development_cost_usd",
    "lab_total_cost_usd",
    "headline_cost_usd",
    "true_to_headline_ratio",
    "serving_output_tokens_per_s_per_gpu",
    "serving_input_tokens_per_s_per_gpu",
    "serving_gpus",
    "serving_cost_usd_per_day",
    "serving_usd_per_m_output_tokens",
    "serving_usd_per_m_input_tokens",
    "serving_revenue_usd_per_day",
    "serving_cost_profit_margin",
    "serving_owned_cost_usd_per_day",
    "serving_owned_usd_per_m_output_tokens",
    "serving_owned_usd_per_m_input_tokens",
    "serving_owned_cost_profit_margin",
    "serving_break_even_paid_share",
    "serving_carbon_g_co2e_per_m_tokens",
    "serving_embodied_g_co2e_per_m_tokens",
)


def _plain(v: Any) -> Any:
    """numpy scalars/arrays -> JSON-ready Python values."""
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    if isinstance(v, np.ndarray):
        return v.tolist() if v.ndim else v.item()
    if isinstance(v, np.generic):
        return v.item()
    return v


@dataclass(frozen=True)
class StageResults:
    """The result of every stage of one pass of the chain, in chain order."""

    model: ModelResult = field(default_factory=ModelResult)
    flops: FlopsResult = field(default_factory=FlopsResult)
    perf: PerfResult = field(default_factory=PerfResult)
    run: RunResult = field(default_factory=RunResult)
    rental: RentalResult = field(default_factory=RentalResult)
    owned: OwnedResult = field(default_factory=OwnedResult)
    fleet: FleetResult = field(default_factory=FleetResult)
    lab: LabResult = field(default_factory=LabResult)
    views: ViewsResult = field(default_factory=ViewsResult)
    serving: ServingResult = field(default_factory=ServingResult)
    carbon: CarbonResult = field(default_factory=CarbonResult)
    money: MoneyResult = field(default_factory=MoneyResult)

    def __iter__(self) -> Iterator[StageResult]:
        return iter(
            (
                self.model,
                self.flops,
                self.perf,
                self.run,
                self.rental,
                self.owned,
                self.fleet,
                self.lab,
                self.views,
                self.serving,
                self.carbon,
                self.money,
            )
        )

    def _merged(self, part: Callable[[StageResult], dict[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for r in self:
            out.update(part(r))
        return out

    def quantities(self) -> dict[str, Any]:
        """Every computed quantity by result key (a later stage's value wins; none overlap in practice)."""
        return self._merged(StageResult.quantities)

    def units(self) -> dict[str, str]:
        return self._merged(StageResult.units)

    def formulas(self) -> dict[str, str]:
        return self._merged(StageResult.formulas_)

    def details(self) -> dict[str, Any]:
        """The typed extras as the JSON `details` object (its keys are part of the JSON contract)."""
        d: dict[str, Any] = {}
        f, run, perf = self.flops, self.run, self.perf
        if f.convention:
            d["flop_convention"] = f.convention
        if f.by_convention is not None:
            d["flops_per_token_by_convention"] = dict(f.by_convention)
        if f.parts is not None:
            d["flops_per_token_parts"] = dict(f.parts)
        if run.reported_stages:
            d["stages"] = [
                {"name": s.name, "gpu_hours": s.gpu_hours, "tokens": s.tokens, "source": s.source}
                for s in run.reported_stages
            ]
        if run.mfu_source:
            d["mfu_source"] = run.mfu_source
        if perf.prediction is not None:
            d["perf"] = perf.prediction.to_dict()
        if run.mfu_basis:
            d["mfu_basis"] = run.mfu_basis
        if self.rental.stage_costs_usd is not None:
            d["stage_costs_usd"] = dict(self.rental.stage_costs_usd)
        o = self.owned
        if o.breakdown_usd_per_gpu_hour is not None:
            d["owned_cost_breakdown_usd_per_gpu_hour"] = dict(o.breakdown_usd_per_gpu_hour)
        if o.by_depreciation_usd_per_gpu_hour is not None:
            d["owned_usd_per_gpu_hour_by_depreciation"] = dict(o.by_depreciation_usd_per_gpu_hour)
        if o.summary:
            d["owned_cost_summary"] = o.summary
        fl = self.fleet
        if fl.capex_breakdown_usd is not None:
            d["fleet_capex_breakdown_usd"] = dict(fl.capex_breakdown_usd)
        if fl.opex_breakdown_usd_per_year is not None:
            d["fleet_opex_breakdown_usd_per_year"] = dict(fl.opex_breakdown_usd_per_year)
        if fl.pools:
            d["fleet_pools"] = [p.to_dict() for p in fl.pools]
        if fl.summary is not None:
            d["fleet_summary"] = fl.summary.to_dict()
        if fl.note:
            d["fleet_note"] = fl.note
        if self.views.views:
            d["views"] = [v.to_dict() for v in self.views.views]
        lab = self.lab
        if lab.waterfall or lab.staff_top_pay_usd_per_year is not None:
            d["waterfall"] = [s.to_dict() for s in lab.waterfall]
        if lab.staff_top_pay_usd_per_year is not None:
            d["lab_staff_top_pay_usd_per_year"] = lab.staff_top_pay_usd_per_year
        if lab.fleet_cost_by_use_usd is not None:
            d["fleet_cost_by_use_usd"] = dict(lab.fleet_cost_by_use_usd)
        if lab.compute_cross_check is not None:
            d["compute_cross_check"] = lab.compute_cross_check.to_dict()
        if self.views.reference_points:
            d["reference_points"] = [r.to_dict() for r in self.views.reference_points]
        if self.serving.replica is not None or self.serving.serving_gpus is not None:
            d["serving"] = self.serving.details()
        if self.views.serving_vs_lab is not None:
            d["serving_vs_lab"] = dict(self.views.serving_vs_lab)
        c = self.carbon
        if c.intensity_basis:
            d["carbon"] = {"intensity_basis": c.intensity_basis}
            if c.grid is not None:
                g = c.grid
                d["carbon"]["grid"] = {
                    "region": g.region,
                    "year": g.year,
                    "dataset": g.dataset,
                    "g_co2e_per_kwh": g.g_co2e_per_kwh,
                    "spread_g_co2e_per_kwh": [g.low, g.high],
                }
        if self.money.dollar_year is not None:
            mo = self.money
            d["dollars"] = {
                "dollar_year": mo.dollar_year,
                "index": mo.index,
                "from_year": mo.from_year,
                "factor": mo.factor,
            }
        return d


@dataclass(frozen=True)
class Estimate:
    """The outcome of one scenario run through the chain.

    results : float per key (point estimate), or {mean, p5, p50, p95} with Monte Carlo samples.
    units, formulas : per result key.
    assumptions : every input the chain used, with value, unit and source.
    stages : the typed result of every stage at the point values (what the report and web read).
    """

    scenario: str
    results: dict[str, Any]
    units: dict[str, str]
    formulas: dict[str, str]
    assumptions: list[dict[str, Any]]
    warnings: list[str]
    stages: StageResults = field(default_factory=StageResults, repr=False)
    samples: int | None = None
    seed: int | None = None
    point: dict[str, float] = field(default_factory=dict)  # point estimate, also with samples
    percentiles: dict[str, dict[str, float]] = field(default_factory=dict)  # extended summaries
    inputs: dict[str, Any] = field(default_factory=dict)  # the raw scenario as given
    draws: dict[str, np.ndarray] = field(default_factory=dict, repr=False)  # thinned samples for charts

    @property
    def details(self) -> dict[str, Any]:
        """The stages' typed extras as plain data (the JSON `details` object)."""
        return self.stages.details()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "scenario": self.scenario,
            "results": _plain(self.results),
            "units": dict(self.units),
            "formulas": dict(self.formulas),
            "assumptions": _plain(self.assumptions),
            "warnings": list(self.warnings),
            "details": _plain(self.details),
        }
        if self.samples is not None:
            out["samples"] = self.samples
            out["seed"] = self.seed
            out["point_estimate"] = _plain(self.point)
        return out

    def value(self, key: str) -> float:
        """A result as one number: the point value, or the median with samples."""
        v = self.results[key]
        return float(v["p50"]) if isinstance(v, dict) else float(v)

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={self.value(k):.4g}" for k in list(self.results)[:6])
        conv = self.stages.flops.convention or "-"
        mfu_from = self.stages.run.mfu_source or "-"
        return f"Estimate({self.scenario!r}: {shown}, ...; flops={conv}, mfu={mfu_from})"


def ordered(results: dict[str, Any]) -> dict[str, Any]:
    known = [k for k in RESULT_ORDER if k in results]
    rest = [k for k in results if k not in RESULT_ORDER]
    return {k: results[k] for k in known + rest}
