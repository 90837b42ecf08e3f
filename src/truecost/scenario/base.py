"""Shared pydantic building blocks for scenario sections (imported by every section's module)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

PosFloat = Annotated[float, Field(gt=0, allow_inf_nan=False)]
NonNegFloat = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Fraction = Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)]
Year = Annotated[float, Field(ge=1990, le=2100, allow_inf_nan=False)]


def _known_accelerator(v: str) -> str:
    from ..catalog import accelerators

    ids = accelerators()
    if v not in ids:
        raise ValueError(f"unknown accelerator {v!r}; valid ids: {', '.join(sorted(ids))}")
    return v


AcceleratorId = Annotated[str, AfterValidator(_known_accelerator)]


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
    if not 1990 <= year <= 2100:
        raise ValueError(f"year {year} is outside 1990-2100")
    try:
        dt.date(year, month, day)
    except ValueError as exc:
        raise ValueError(f"{v!r} is not a calendar date: {exc}") from None
    return v.strip()


DateText = Annotated[str, BeforeValidator(_as_date)]
