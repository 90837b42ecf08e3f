"""`power:` electrical power of the run."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from .base import Fraction, Frozen, NonNegFloat, PosFloat


class Power(Frozen):
    """Electrical power of the run (Epoch AI cost model, formulas.md sec. 3). None = cited default."""

    server_to_chip: PosFloat | None = Field(None, description="server power / accelerator TDP")
    utilisation: Fraction | None = Field(None, description="average power as a share of server TDP")
    pue: Annotated[float, Field(ge=1, allow_inf_nan=False)] | None = None
    electricity_usd_per_kwh: NonNegFloat | None = None
