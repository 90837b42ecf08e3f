"""`pricing:` the rental price of the run: a given price, or the catalog's price on a basis at a date."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator

from .base import DateText, Frozen, Range

# The registry of bases with their labels and fallbacks is truecost.catalog.prices.BASES.
# Market rates run $0.5-12/GPU-hour (H100 on-demand list ~$12, market ~$2-3); $10,000 is refused.
RENTAL = Range(0, 10_000, "USD per GPU-hour", plausible=(0.05, 100))


class Pricing(Frozen):
    rental_usd_per_gpu_hour: Annotated[float, RENTAL] | None = Field(
        None, description="rental price; default the catalog's price on `basis` in force at `date`"
    )
    basis: str | None = Field(
        None,
        description="market-index | on-demand-hyperscaler | on-demand-neocloud | 1yr-reserved | 3yr-reserved | "
        "spot; default market-index for every chip (the closest available basis, with a warning, when a "
        "chip has none)",
    )
    date: DateText | None = Field(
        None, description="the date whose price is in force; default training.start_date, else the latest"
    )

    @field_validator("basis")
    @classmethod
    def _known_basis(cls, v: str | None) -> str | None:
        from ..catalog.prices import BASES

        if v is not None and v not in BASES:
            raise ValueError(f"unknown price basis {v!r}; valid: {', '.join(BASES)}")
        return v
