"""`power:` electrical power of the run."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from .base import FRACTION, Frozen, Range

# Server power / chip TDP: DGX H100 10.2 kW / 8 x 700 W = 1.82; below 1 the server would draw
# less than its chips. PUE: 1.0 is the ideal; hyperscalers report 1.1, old enterprise rooms 2-3.
SERVER_TO_CHIP = Range(0, 10, plausible=(1, 3), lo_open=True)
PUE = Range(1, 5, plausible=(1, 2.5))
ELECTRICITY = Range(0, 10, "USD/kWh", plausible=(0.01, 1))


class Power(Frozen):
    """Electrical power of the run (Epoch AI cost model, formulas.md sec. 3). None = cited default."""

    server_to_chip: Annotated[float, SERVER_TO_CHIP] | None = Field(
        None, description="server power / accelerator TDP"
    )
    utilisation: Annotated[float, FRACTION] | None = Field(
        None, description="average power as a share of server TDP"
    )
    pue: Annotated[float, PUE] | None = None
    electricity_usd_per_kwh: Annotated[float, ELECTRICITY] | None = None
