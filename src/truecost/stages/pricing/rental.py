"""The rental price of the run and what renting its GPU-hours costs (DeepSeek's headline)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ...catalog import get_accelerator
from ...scenario.cluster import Cluster
from ...scenario.pricing import Pricing
from ...scenario.training import Training
from ..base import Notes, StageResult, quantity
from ..run import RunResult
from .formulas import rental_cost_usd


@dataclass(frozen=True, kw_only=True)
class RentalResult(StageResult):
    """final_run_cost_usd : the run's GPU-hours at the rental price. [USD]
    headline_cost_usd : the same figure, as the headline a developer publishes. [USD]
    rental_usd_per_gpu_hour : the price used. [USD/GPU-h]
    stage_costs_usd : rental cost of each reported stage, when the run gives stages. [USD]
    """

    final_run_cost_usd: Any = quantity("USD", "gpu_hours x rental_usd_per_gpu_hour")
    headline_cost_usd: Any = quantity(
        "USD",
        "rented GPU-hours of the final run (the figure DeepSeek published); excludes research, "
        "ablations, staff, data and the fleet",
    )
    rental_usd_per_gpu_hour: Any = None
    stage_costs_usd: Mapping[str, float] | None = None


def stage(
    pricing: Pricing, cluster: Cluster | None, training: Training, run: RunResult, *, point: bool = True
) -> RentalResult:
    hours = run.gpu_hours
    if hours is None or cluster is None:
        return RentalResult()
    notes = Notes(point)
    acc = get_accelerator(cluster.accelerator)
    price = pricing.rental_usd_per_gpu_hour
    if price is not None:
        notes.assume(
            "rental_usd_per_gpu_hour", price, "USD/GPU-h", "scenario input", "pricing.rental_usd_per_gpu_hour"
        )
    elif acc.rental_usd_per_gpu_hour is not None:
        price = acc.rental_usd_per_gpu_hour
        notes.assume(
            "rental_usd_per_gpu_hour",
            price,
            "USD/GPU-h",
            f"catalog price for {acc.id}: {acc.rental_source}",
            "pricing.rental_usd_per_gpu_hour",
            acc.accessed,
        )
    else:
        notes.warn(
            f"no rental price for {acc.id} in the catalog; set pricing.rental_usd_per_gpu_hour to get "
            "final_run_cost_usd"
        )
        return RentalResult(warnings=notes.warnings)
    cost = rental_cost_usd(hours, price)
    by_stage = None
    if point and training.stages:
        by_stage = {s.name: rental_cost_usd(s.gpu_hours, price) for s in training.stages}
    return RentalResult(
        final_run_cost_usd=cost,
        headline_cost_usd=cost,
        rental_usd_per_gpu_hour=price,
        stage_costs_usd=by_stage,
        assumptions=notes.assumptions,
        warnings=notes.warnings,
    )
