"""Typed results: what `truecost.estimate` returns and `--json` prints."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

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
    "final_run_cost_usd",
    "owned_usd_per_gpu_hour",
    "final_run_owned_cost_usd",
    "fleet_capex_usd",
    "fleet_opex_usd_per_year",
    "fleet_depreciation_usd_per_year",
    "fleet_tco_usd",
    "lab_staff_usd_per_year",
    "development_cost_usd",
    "lab_total_cost_usd",
    "headline_cost_usd",
    "true_to_headline_ratio",
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
class Estimate:
    """The outcome of one scenario run through the chain.

    results : float per key (point estimate), or {mean, p5, p50, p95} with Monte Carlo samples.
    units, formulas : per result key.
    assumptions : every input the chain used, with value, unit and source.
    """

    scenario: str
    results: dict[str, Any]
    units: dict[str, str]
    formulas: dict[str, str]
    assumptions: list[dict[str, Any]]
    warnings: list[str]
    details: dict[str, Any]
    samples: int | None = None
    seed: int | None = None
    point: dict[str, float] = field(default_factory=dict)  # point estimate, also with samples
    percentiles: dict[str, dict[str, float]] = field(default_factory=dict)  # extended summaries
    inputs: dict[str, Any] = field(default_factory=dict)  # the raw scenario as given
    draws: dict[str, np.ndarray] = field(default_factory=dict, repr=False)  # thinned samples for charts

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
        conv = self.details.get("flop_convention", "-")
        mfu_from = self.details.get("mfu_source", "-")
        return f"Estimate({self.scenario!r}: {shown}, ...; flops={conv}, mfu={mfu_from})"


def ordered(results: dict[str, Any]) -> dict[str, Any]:
    known = [k for k in RESULT_ORDER if k in results]
    rest = [k for k in results if k not in RESULT_ORDER]
    return {k: results[k] for k in known + rest}
