"""Constant dollars (the `money` stage): one factor that turns every cost of the run into dollars of
`money.dollar_year`.

Costs are nominal dollars of the run's date (training.start_date). With `money.dollar_year` the
chain multiplies every USD quantity by

    factor = index(dollar_year) / index(year of the costs)

with the annual CPI-U (BLS), or, under `ownership.method: epoch`, with Epoch AI's own deflator (the
producer price index for data processing and hosting), counted from the date Epoch deflates from:
the publication, which Epoch takes as training start + training time + 60 days.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from ..catalog.prices import INDICES, deflator, index_value, index_years
from ..dates import days_to_years, decimal_year
from ..errors import ScenarioError
from ..scenario.money import Money
from ..scenario.training import Training
from .base import Notes, StageResult
from .pricing.defaults import EPOCH_PUBLICATION_LAG_DAYS

# Which index deflates under which ownership method (others: CPI-U).
INDEX_BY_METHOD: dict[str, str] = {"epoch": "ppi-data-processing"}
DEFAULT_INDEX = "cpi-u"


def constant_dollar_factor(index_from: float, index_to: float) -> float:
    """Multiply a nominal amount by this to express it in the target year's dollars. [1]

    >>> round(constant_dollar_factor(258.811, 304.702), 4)
    1.1773
    """
    return index_to / index_from


@dataclass(frozen=True, kw_only=True)
class MoneyResult(StageResult):
    """dollar_year : the year of the constant dollars (None = nominal).
    index : the price index used.
    from_year : the year the nominal costs are taken to be in.
    factor : what every USD quantity was multiplied by. [1]
    """

    dollar_year: int | None = None
    index: str = ""
    from_year: int | None = None
    factor: float = 1.0


def stage(
    money: Money,
    training: Training,
    method: str,
    wall_clock_days: Any,
    *,
    point: bool = True,
) -> MoneyResult:
    """The constant-dollar factor of the scenario (1.0 and nothing recorded when nominal)."""
    if money.dollar_year is None:
        return MoneyResult()
    notes = Notes(point)
    index = INDEX_BY_METHOD.get(method, DEFAULT_INDEX)
    lo, hi = index_years(index)
    if not lo <= money.dollar_year <= hi:
        raise ScenarioError(
            f"{money.dollar_year} is outside the {index} index ({lo}-{hi}); give a year in that range",
            field="money.dollar_year",
        )
    if money.costs_date is not None:
        year, how = (
            decimal_year(money.costs_date),
            f"costs are in dollars of money.costs_date {money.costs_date}",
        )
    elif training.start_date is None:
        year, how = float(hi), f"no training.start_date: costs taken as {hi} dollars (the index's last year)"
        notes.warn(how)
    elif index == INDEX_BY_METHOD.get("epoch"):
        days = 0.0 if wall_clock_days is None else float(_median(wall_clock_days))
        lag = EPOCH_PUBLICATION_LAG_DAYS.value
        notes.assume(
            "epoch_publication_lag_days",
            lag,
            "d",
            EPOCH_PUBLICATION_LAG_DAYS.source,
            accessed=EPOCH_PUBLICATION_LAG_DAYS.accessed,
        )
        year = decimal_year(training.start_date) + days_to_years(days + lag)
        how = (
            f"Epoch AI deflates from the publication date, training start {training.start_date} + training "
            f"time {days:.0f} d + {lag:g} d = {year:.2f} ({EPOCH_PUBLICATION_LAG_DAYS.source})"
        )
    else:
        year, how = (
            decimal_year(training.start_date),
            f"costs are in dollars of training.start_date {training.start_date}",
        )
    from_year = int(year)
    if not lo <= from_year <= hi:
        clamped = min(max(from_year, lo), hi)
        notes.warn(
            f"the {index} index covers {lo}-{hi}; costs of {from_year} are deflated as if of {clamped}"
        )
        from_year = clamped
    factor = deflator(index, from_year, money.dollar_year)
    src_from, src_to = index_value(index, from_year), index_value(index, money.dollar_year)
    notes.assume("dollar_year", money.dollar_year, "yr", "scenario input", "money.dollar_year")
    notes.assume(
        "price_index",
        index,
        "",
        f"{INDICES[index]}: {from_year} = {src_from.value:g}, {money.dollar_year} = {src_to.value:g}; {src_to.source}",
        "ownership.method" if index != DEFAULT_INDEX else "",
        src_to.accessed,
    )
    notes.assume(
        "dollars_from_year",
        from_year,
        "yr",
        how,
        "money.costs_date" if money.costs_date else "training.start_date",
    )
    notes.assume(
        "constant_dollar_factor",
        round(factor, 6),
        "1",
        f"{index}({money.dollar_year}) / {index}({from_year}): every USD result is multiplied by it",
        "money.dollar_year",
    )
    return MoneyResult(
        dollar_year=money.dollar_year,
        index=index,
        from_year=from_year,
        factor=factor,
        assumptions=notes.assumptions,
        warnings=notes.warnings,
    )


def _median(x: Any) -> float:
    return float(np.median(np.asarray(x, dtype=float)))


R = TypeVar("R", bound=StageResult)


def in_constant_dollars(result: R, factor: float) -> R:
    """A copy of a stage result with every USD quantity (and every USD-valued mapping of numbers)
    multiplied by `factor`."""
    if factor == 1.0:
        return result
    changes: dict[str, Any] = {}
    for f in dataclasses.fields(result):
        v = getattr(result, f.name)
        if v is None:
            continue
        unit = str(f.metadata.get("unit", ""))
        if unit.startswith("USD"):
            changes[f.name] = v * factor
        elif (
            "usd" in f.name and isinstance(v, Mapping) and all(isinstance(x, int | float) for x in v.values())
        ):
            changes[f.name] = {k: x * factor for k, x in v.items()}
    return dataclasses.replace(result, **changes) if changes else result
