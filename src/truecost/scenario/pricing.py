"""`pricing:` the rental price of the run."""

from __future__ import annotations

from pydantic import Field

from .base import Frozen, NonNegFloat


class Pricing(Frozen):
    rental_usd_per_gpu_hour: NonNegFloat | None = Field(
        None, description="rental price; default the catalog's price for the accelerator"
    )
