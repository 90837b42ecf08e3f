"""Dates as the scenario and the catalogs write them (YYYY, YYYY-MM or YYYY-MM-DD) and as decimal
years (the unit of ages, price dates and index years). Shared by catalog and scenario."""

from __future__ import annotations

import datetime as dt

from .units import DAYS_PER_YEAR


def decimal_year(date: str) -> float:
    """A YYYY / YYYY-MM / YYYY-MM-DD date as a decimal year (a bare year is its middle; a month
    its middle).

    >>> decimal_year("2024"), decimal_year("2024-10"), decimal_year("2024-01-01")
    (2024.5, 2024.7916666666667, 2024.0)
    """
    parts = [int(x) for x in date.split("-")]
    if len(parts) == 1:
        return parts[0] + 0.5
    if len(parts) == 2:
        return parts[0] + (parts[1] - 0.5) / 12
    d = dt.date(*parts)
    start = dt.date(d.year, 1, 1)
    days = (dt.date(d.year + 1, 1, 1) - start).days
    return d.year + (d - start).days / days


def days_to_years(days: float) -> float:
    """Days as years of 365.25 days. [yr]

    >>> days_to_years(365.25)
    1.0
    """
    return days / DAYS_PER_YEAR
