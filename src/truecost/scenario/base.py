"""Shared pydantic building blocks for scenario sections (imported by every section's module)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

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


class Frozen(BaseModel):
    """A frozen scenario section: unknown keys are errors, values may not change after validation."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)
