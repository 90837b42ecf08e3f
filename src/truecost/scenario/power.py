"""`power:` electrical power of the run."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from .base import FRACTION, Frozen, Range

# Server power / chip TDP: DGX H100 10.2 kW / 8 x 700 W = 1.82; below 1 the server would draw
# less than its chips. PUE: 1.0 is the ideal; hyperscalers report 1.1, old enterprise rooms 2-3.
SERVER_TO_CHIP = Range(0, 10, plausible=(1, 3), lo_open=True)
PUE = Range(1, 5, plausible=(1, 2.5))
ELECTRICITY = Range(0, 10, "USD/kWh", plausible=(0.01, 1))

# The most power-hungry accelerator in the catalog draws 1,200 W (GB200 per GPU); a DGX server is
# ~10 kW. 5 kW per device leaves room for a device figure with its server share and PUE folded in
# while catching a whole server's power given per GPU.
MAX_GPU_WATTS = 5000.0


class Power(Frozen):
    """Electrical power of the run (Epoch AI cost model, formulas.md sec. 3). None = cited default.

    gpu_watts : measured or assumed average power per accelerator, instead of the catalog TDP
        (the publication's own figure: Llama 3.1 "700 W TDP, PUE folded in"; PaLM "378.5 W
        measured system power per chip"). With it, `server_to_chip` and `utilisation` default to 1
        (the figure is already the device's average draw as the publication counts it); give
        them to scale a chip-only or peak figure. `pue` applies as always. See
        truecost.stages.energy. [W]
    gpu_watts_include_pue : the figure has the data-centre overhead folded in (Meta's model
        cards: "peak power capacity per GPU device ... adjusted for power usage efficiency"), so
        energy does not multiply by `pue` again; `pue` still sizes the facility for the costs.
    """

    gpu_watts: Annotated[float, Field(gt=0, le=MAX_GPU_WATTS, allow_inf_nan=False)] | None = Field(
        None, description="average power per accelerator, overrides the catalog TDP [W]"
    )
    gpu_watts_include_pue: bool = Field(
        False, description="power.gpu_watts has the PUE folded in: energy does not apply pue again"
    )
    server_to_chip: Annotated[float, SERVER_TO_CHIP] | None = Field(
        None, description="server power / accelerator TDP"
    )
    utilisation: Annotated[float, FRACTION] | None = Field(
        None, description="average power as a share of server TDP"
    )
    pue: Annotated[float, PUE] | None = None
    electricity_usd_per_kwh: Annotated[float, ELECTRICITY] | None = None

    @model_validator(mode="after")
    def _pue_flag_needs_watts(self) -> Power:
        if self.gpu_watts_include_pue and self.gpu_watts is None:
            raise ValueError(
                "gpu_watts_include_pue needs power.gpu_watts (the figure with the PUE folded in)"
            )
        return self
