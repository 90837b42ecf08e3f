"""`money:` the dollars every cost is expressed in."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from .base import DateText, Frozen


class Money(Frozen):
    dollar_year: Annotated[int, Field(ge=1990, le=2100)] | None = Field(
        None,
        description="express every cost in constant dollars of this year (CPI-U; Epoch's PPI deflator under "
        "ownership.method: epoch); default nominal",
    )
    costs_date: DateText | None = Field(
        None,
        description="the date whose dollars the nominal costs are in; default training.start_date (under "
        "ownership.method: epoch, Epoch's publication date = start + training time + 60 days)",
    )
