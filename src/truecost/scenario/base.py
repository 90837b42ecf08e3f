"""Shared pydantic building blocks for scenario sections (imported by every section's module).

Every numeric input carries a `Range`: the values that are physically possible (outside them
the scenario is refused, naming the field and the range) and, inside those, a plausible band
(outside it the estimate carries a warning; see `truecost.scenario.plausibility`).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema


class Drawn(float):
    """A value a distribution gave (its median or a percentile), not one the user wrote.

    `truecost.uncertainty.substitute` returns these, so that a whole-number input such as a
    fleet pool's count may be uncertain (`{ci90: [100, 300]}`) while `count: 1.5` is refused.
    """

    __slots__ = ()


PosFloat = Annotated[float, Field(gt=0, allow_inf_nan=False)]
NonNegFloat = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Fraction = Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)]
FIRST_YEAR, LAST_YEAR = 1990, 2100  # the calendar years a scenario may name (dates, grid data, dollars)
Year = Annotated[float, Field(ge=FIRST_YEAR, le=LAST_YEAR, allow_inf_nan=False)]


def _fmt(x: float) -> str:
    if x == 0 or 1e-3 <= abs(x) < 1e7:
        return f"{x:,.6g}" if abs(x) >= 1000 and float(x).is_integer() else f"{x:.6g}"
    return f"{x:.3g}"


@dataclass(frozen=True)
class Range:
    """Annotated metadata of a numeric input: its possible range and its plausible band.

    lo, hi : the possible range; `lo_open` excludes `lo` itself (a quantity that must be > 0).
    plausible : (low, high) band; a value outside it is possible but worth a warning.
    unit : printed after the numbers in messages.
    whole : the value counts things (accelerators, sequences, people): a whole number, never a
        boolean. A distribution's draws are exempt (they are continuous by construction).

    >>> from pydantic import TypeAdapter
    >>> TypeAdapter(Annotated[float, Range(1, 100, whole=True)]).validate_python(1.5)
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for function-before[...]
      Value error, must be a whole number [type=value_error, input_value=1.5, input_type=float]
    ...
    """

    lo: float
    hi: float
    unit: str = ""
    plausible: tuple[float, float] | None = None
    lo_open: bool = False
    whole: bool = False

    def describe(self) -> str:
        left = "(" if self.lo_open else "["
        unit = f" {self.unit}" if self.unit else ""
        return f"{left}{_fmt(self.lo)}, {_fmt(self.hi)}]{unit}"

    def _before(self, v: Any) -> Any:
        if isinstance(v, bool):
            raise ValueError("must be a number, not true/false")
        if self.whole and not isinstance(v, Drawn):
            if isinstance(v, float) and math.isfinite(v) and not v.is_integer():
                raise ValueError("must be a whole number")
            if isinstance(v, str):
                raise ValueError("must be a whole number")
        return v

    def _after(self, v: Any) -> Any:
        if v is None:
            return v
        x = float(v)
        ok = (x > self.lo if self.lo_open else x >= self.lo) and x <= self.hi
        if not ok:
            raise ValueError(f"must lie in {self.describe()}")
        return v

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        inner = core_schema.no_info_after_validator_function(self._after, handler(source))
        return core_schema.no_info_before_validator_function(self._before, inner)

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        js = handler(schema)
        js["exclusiveMinimum" if self.lo_open else "minimum"] = self.lo
        js["maximum"] = self.hi
        if self.whole:
            js["multipleOf"] = 1
        return js


def _known_accelerator(v: str) -> str:
    from ..catalog import accelerators

    ids = accelerators()
    if v not in ids:
        raise ValueError(f"unknown accelerator {v!r}; valid ids: {', '.join(sorted(ids))}")
    return v


AcceleratorId = Annotated[str, AfterValidator(_known_accelerator)]

# Common ranges. Money: at most $10 trillion anywhere (a lab-year of the largest labs is ~1e11).
USD = Range(0, 1e13, "USD")
FRACTION = Range(0, 1, lo_open=True)
SHARE = Range(0, 1)
YEARS = Range(0, 100, "years", lo_open=True)


def _known_stack(v: str) -> str:
    from ..catalog.stacks import stack

    stack(v)  # raises, listing the registered stacks
    return v


StackName = Annotated[str, AfterValidator(_known_stack)]


class Frozen(BaseModel):
    """A frozen scenario section: unknown keys are errors, values may not change after validation."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)


_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


def _as_date(v: Any) -> str:
    """YYYY, YYYY-MM or YYYY-MM-DD (YAML may give an int or a date) -> the same text, checked."""
    if isinstance(v, bool):
        raise ValueError(f"expected a date as YYYY, YYYY-MM or YYYY-MM-DD, got {v!r}")
    if isinstance(v, dt.datetime):
        v = v.date()
    if isinstance(v, dt.date):
        v = v.isoformat()
    if isinstance(v, int):
        v = str(v)
    if not isinstance(v, str) or not (m := _DATE.match(v.strip())):
        raise ValueError(f"expected a date as YYYY, YYYY-MM or YYYY-MM-DD, got {v!r}")
    year, month, day = int(m[1]), int(m[2] or 1), int(m[3] or 1)
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"year {year} is outside {FIRST_YEAR}-{LAST_YEAR}")
    try:
        dt.date(year, month, day)
    except ValueError as exc:
        raise ValueError(f"{v!r} is not a calendar date: {exc}") from None
    return v.strip()


DateText = Annotated[str, BeforeValidator(_as_date)]
