"""The rental price of the run and what renting its GPU-hours costs (DeepSeek's headline)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ...catalog import get_accelerator
from ...catalog.prices import BASES, DEFAULT_BASIS, rental_price
from ...dates import decimal_year
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
    """Rental cost of the run's GPU-hours: at `pricing.rental_usd_per_gpu_hour`, else at the catalog
    price on `pricing.basis` (default market-index, else the closest basis the chip has, with a
    warning) in force at `pricing.date` (default training.start_date, else the latest price)."""
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
    else:
        price = _catalog_price(notes, acc.id, pricing, training)
        if price is None:
            notes.warn(
                f"no rental price for {acc.id} in the catalog ({acc.rental_source or 'no source found'}); set "
                "pricing.rental_usd_per_gpu_hour to get final_run_cost_usd"
            )
            return RentalResult(assumptions=notes.assumptions, warnings=notes.warnings)
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


def _catalog_price(notes: Notes, accelerator_id: str, pricing: Pricing, training: Training) -> float | None:
    """The catalog's dated price on the asked basis, recorded with its basis, provider and date."""
    basis = pricing.basis or DEFAULT_BASIS
    notes.assume(
        "price_basis",
        basis,
        "",
        "scenario input"
        if pricing.basis
        else f"default basis, the same for every chip: {BASES[basis].label}",
        "pricing.basis",
    )
    if pricing.date is not None:
        when, when_src = pricing.date, "pricing.date"
    elif training.start_date is not None:
        when, when_src = training.start_date, "training.start_date"
    else:
        when, when_src = None, ""
    notes.assume(
        "price_date",
        when or "latest",
        "",
        f"from {when_src}" if when else "no pricing.date or training.start_date: the latest price",
        "pricing.date",
    )
    choice = rental_price(accelerator_id, basis, decimal_year(when) if when else None)
    if choice is None:
        return None
    row = choice.row
    notes.assume(
        "rental_usd_per_gpu_hour",
        row.usd_per_gpu_hour,
        "USD/GPU-h",
        f"catalog price for {accelerator_id}: {row.basis}, {row.provider} ({row.region}), {row.date}"
        + (f", median of {choice.n_same_day} prices that day" if choice.n_same_day > 1 else "")
        + f": {row.source}",
        "pricing.rental_usd_per_gpu_hour",
        row.accessed,
    )
    if choice.fell_back:
        notes.warn(
            f"no {basis} rental price for {accelerator_id} in the catalog; used the closest basis that has "
            f"one, {row.basis} ({row.provider}, {row.date}, ${row.usd_per_gpu_hour:.2f}/GPU-h); set "
            "pricing.basis or pricing.rental_usd_per_gpu_hour to choose"
        )
    if choice.before_first:
        notes.warn(
            f"{when_src} {when} is before the first {row.basis} price for {accelerator_id} ({row.date}); "
            "used that earliest price"
        )
    return row.usd_per_gpu_hour
