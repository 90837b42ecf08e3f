"""`pricing:` the rental price of the run."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from .base import Frozen, Range

# Market rates run $0.5-12/GPU-hour (H100 on-demand list ~$12, market ~$2-3); $10,000 is refused.
RENTAL = Range(0, 10_000, "USD per GPU-hour", plausible=(0.05, 100))


class Pricing(Frozen):
    rental_usd_per_gpu_hour: Annotated[float, RENTAL] | None = Field(
        None, description="rental price; default the catalog's price for the accelerator"
    )
