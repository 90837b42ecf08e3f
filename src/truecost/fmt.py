"""Human-readable numbers for tables and reports."""

from __future__ import annotations

import math
from typing import Any

_SUFFIXES = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K"))


def si(x: float, digits: int = 4) -> str:
    """A number with a K/M/B/T suffix.

    >>> si(2.788e6)
    '2.788M'
    """
    if x is None or not math.isfinite(x):
        return str(x)
    ax = abs(x)
    if ax >= 1e15:
        return f"{x:.{digits - 1}e}"
    for scale, suffix in _SUFFIXES:
        if ax >= scale:
            return f"{x / scale:.{digits}g}{suffix}"
    return f"{x:.{digits}g}"


def usd(x: float) -> str:
    """Dollars with a suffix.

    >>> usd(5.576e6)
    '$5.576M'
    """
    return ("-" if x < 0 else "") + "$" + si(abs(x))


def value(x: Any, unit: str) -> str:
    """A result value formatted by its unit."""
    if isinstance(x, str):
        return x
    try:
        xf = float(x)
    except (TypeError, ValueError):
        return str(x)
    if unit.startswith("USD"):
        rest = unit[3:]
        return usd(xf) + (rest.replace("/", " / ") if rest else "")
    if unit == "FLOP":
        return f"{xf:.4g}"
    if unit == "1":
        return si(xf) if abs(xf) >= 1e4 else f"{xf:.4g}"
    return si(xf) + (f" {unit}" if unit and unit != "1" else "")
