"""`lab:` staff, experiments, data, fleet shares and horizon of the lab behind a model."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from pydantic import Field, model_validator

from .base import FRACTION, USD, YEARS, Frozen, Range

HEADCOUNT = Range(0, 1e6, "people", plausible=(0, 1e5), whole=True)
COMPENSATION = Range(0, 1e8, "USD a year", plausible=(1e4, 1e7))
SHARE_WEIGHT = Range(0, 1e6)


class StaffGroup(Frozen):
    """One level of staff: headcount and pay."""

    role: str = ""
    count: Annotated[float, HEADCOUNT] = Field(description="headcount [1]")
    compensation_usd_per_year: Annotated[float, COMPENSATION] = Field(
        description="salary + bonus + equity per person [USD/yr]"
    )
    overhead: Annotated[float, Range(1, 10, plausible=(1, 3))] | None = Field(
        default=None,
        description="fully loaded / compensation (benefits, taxes, office); 1 if already fully loaded",
    )
    source: str = ""


class FleetShare(Frozen):
    """How the fleet's time is split; normalised to sum to 1. `other` is outside the lab
    (e.g. High-Flyer's trading models on DeepSeek's fleet)."""

    training: Annotated[float, SHARE_WEIGHT] = 0.0
    inference: Annotated[float, SHARE_WEIGHT] = 0.0
    research: Annotated[float, SHARE_WEIGHT] = 0.0
    other: Annotated[float, SHARE_WEIGHT] = 0.0
    source: str = ""

    @model_validator(mode="after")
    def _some_share(self) -> FleetShare:
        if self.training + self.inference + self.research + self.other <= 0:
            raise ValueError("give at least one positive share (training, inference, research, other)")
        return self


class Lab(Frozen):
    """Staff, experiments, data and fleet shares of a lab."""

    staff: tuple[StaffGroup, ...] = ()
    experiment_multiplier: Annotated[float, Range(1, 1000, plausible=(1, 50))] | None = Field(
        default=None, description="(experiments + final run) compute / final run compute [1]"
    )
    data_usd: Annotated[float, USD] | None = Field(
        default=None, description="data acquisition and labelling for the model [USD]"
    )
    fleet_share: FleetShare | None = None
    horizon_years: Annotated[float, YEARS] | None = Field(
        default=None, description="years of fleet and staff in the lab total [yr]"
    )
    development_years: Annotated[float, YEARS] | None = Field(
        default=None, description="staff time that went into the model [yr]"
    )
    model_staff_share: Annotated[float, FRACTION] | None = Field(
        default=None, description="share of staff time on the model [1]"
    )
    sources: Mapping[str, str] = Field(
        default_factory=dict, description="source of each given lab input, keyed by field name"
    )
