"""`lab:` staff, experiments, data, fleet shares and horizon of the lab behind a model."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from pydantic import Field, model_validator

from .base import Fraction, Frozen, NonNegFloat


class StaffGroup(Frozen):
    """One level of staff: headcount and pay."""

    role: str = ""
    count: NonNegFloat = Field(description="headcount [1]")
    compensation_usd_per_year: NonNegFloat = Field(description="salary + bonus + equity per person [USD/yr]")
    overhead: Annotated[float, Field(ge=1, allow_inf_nan=False)] | None = Field(
        default=None,
        description="fully loaded / compensation (benefits, taxes, office); 1 if already fully loaded",
    )
    source: str = ""


class FleetShare(Frozen):
    """How the fleet's time is split; normalised to sum to 1. `other` is outside the lab
    (e.g. High-Flyer's trading models on DeepSeek's fleet)."""

    training: NonNegFloat = 0.0
    inference: NonNegFloat = 0.0
    research: NonNegFloat = 0.0
    other: NonNegFloat = 0.0
    source: str = ""

    @model_validator(mode="after")
    def _some_share(self) -> FleetShare:
        if self.training + self.inference + self.research + self.other <= 0:
            raise ValueError("give at least one positive share (training, inference, research, other)")
        return self


class Lab(Frozen):
    """Staff, experiments, data and fleet shares of a lab."""

    staff: tuple[StaffGroup, ...] = ()
    experiment_multiplier: Annotated[float, Field(ge=1, allow_inf_nan=False)] | None = Field(
        default=None, description="(experiments + final run) compute / final run compute [1]"
    )
    data_usd: NonNegFloat | None = Field(
        default=None, description="data acquisition and labelling for the model [USD]"
    )
    fleet_share: FleetShare | None = None
    horizon_years: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = Field(
        default=None, description="years of fleet and staff in the lab total [yr]"
    )
    development_years: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = Field(
        default=None, description="staff time that went into the model [yr]"
    )
    model_staff_share: Fraction | None = Field(
        default=None, description="share of staff time on the model [1]"
    )
    sources: Mapping[str, str] = Field(
        default_factory=dict, description="source of each given lab input, keyed by field name"
    )
