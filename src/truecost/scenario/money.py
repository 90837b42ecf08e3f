"""`money:` the dollars every cost is expressed in."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from .base import FIRST_YEAR, LAST_YEAR, DateText, Frozen


class Money(Frozen):
    dollar_year: Annotated[int, Field(ge=FIRST_YEAR, le=LAST_YEAR)] | None = Field(
        None,
        description="express every cost in constant dollars of this year (CPI-U; Epoch's PPI deflator under "
        "ownership.method: epoch); default nominal",
    )
    costs_date: DateText | None = Field(
        None,
        description="the date whose dollars the nominal costs are in; default training.start_date (under "
        "ownership.method: epoch, Epoch's publication date = start + training time + 60 days)",
    )
