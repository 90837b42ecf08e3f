"""`carbon:` grid intensity, renewable purchases and embodied emissions of the hardware."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from .base import Fraction, Frozen, PosFloat, Year

# The most carbon-intensive grids publish about 800-1,100 gCO2e/kWh (coal and lignite, lifecycle);
# 2,000 leaves room for a captive plant while catching kg/kWh vs g/kWh slips (x1000).
MAX_G_CO2E_PER_KWH = 2000.0
Intensity = Annotated[float, Field(ge=0, le=MAX_G_CO2E_PER_KWH, allow_inf_nan=False)]
# The heaviest published per-device figure in the catalog is ~1,100 kg (TPU v5p with host share);
# a whole rack of GB200 is ~70x that: 100 t per accelerator is a unit slip.
MAX_EMBODIED_KG = 100_000.0


def _known_region(v: str) -> str:
    from ..catalog.carbon_tables import region_name

    return region_name(v)  # raises UnknownIdError (a ValueError) listing the valid regions


GridRegion = Annotated[str, AfterValidator(_known_region)]


class Carbon(Frozen):
    """Operational and embodied emissions. Nothing is computed unless a grid is named
    (`grid_region`) or an intensity given (`grid_g_co2e_per_kwh`, which overrides the region's).

    grid_region : a region of the grid-intensity table (`truecost catalog grid` lists them);
        location-based, at `year` (else the run's start year, else the latest in the table).
    grid_g_co2e_per_kwh : the intensity itself. [gCO2e/kWh]
    year : year of the grid data to use. [yr]
    renewable_share : share of the energy covered by renewable purchases (PPAs, certificates),
        counted at zero in the market-based figure; the rest at the location-based intensity.
    market_g_co2e_per_kwh : a supplier-specific or residual-mix intensity for the market-based
        figure (instead of the location-based one for the uncovered share). [gCO2e/kWh]
    embodied : count the manufacturing emissions of the accelerators (and their servers).
    embodied_kg_per_accelerator : instead of the catalog's figure. [kg CO2e]
    life_years, lifetime_utilisation : amortisation of embodied emissions, like CapEx; default
        the ownership life and fleet utilisation. [yr], [1]
    sources : where each given input comes from, keyed by field name.
    """

    grid_region: GridRegion | None = Field(None, description="region of the grid-intensity table")
    grid_g_co2e_per_kwh: Intensity | None = Field(
        None, description="grid intensity, overrides the region's [gCO2e/kWh]"
    )
    year: Year | None = Field(None, description="year of the grid data [yr]")
    renewable_share: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] | None = Field(
        None, description="share of energy covered by renewable purchases (market-based) [1]"
    )
    market_g_co2e_per_kwh: Intensity | None = Field(
        None, description="market-based intensity of the energy not covered [gCO2e/kWh]"
    )
    embodied: bool = Field(True, description="count embodied (manufacturing) emissions")
    embodied_kg_per_accelerator: (
        Annotated[float, Field(gt=0, le=MAX_EMBODIED_KG, allow_inf_nan=False)] | None
    ) = Field(None, description="embodied CO2e of one accelerator with its server share [kg]")
    life_years: PosFloat | None = Field(None, description="life over which embodied CO2e is amortised [yr]")
    lifetime_utilisation: Fraction | None = Field(
        None, description="share of the life the hardware does useful work [1]"
    )
    sources: Mapping[str, str] = Field(
        default_factory=dict, description="source of each given input, keyed by field name"
    )

    @property
    def given(self) -> bool:
        """Whether the scenario asks for emissions (a grid region or an intensity)."""
        return self.grid_region is not None or self.grid_g_co2e_per_kwh is not None

    @property
    def market_based(self) -> bool:
        return self.renewable_share is not None or self.market_g_co2e_per_kwh is not None

    @model_validator(mode="after")
    def _needs_a_grid(self) -> Carbon:
        if self.market_based and not self.given:
            raise ValueError(
                "a market-based input (renewable_share, market_g_co2e_per_kwh) needs grid_region or "
                "grid_g_co2e_per_kwh for the location-based figure"
            )
        return self
