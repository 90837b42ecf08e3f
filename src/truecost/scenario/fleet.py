"""`fleet:` the pools of accelerators a lab owns."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from .base import AcceleratorId, Frozen, Range, Year
from .cluster import GPUS_PER_NODE
from .ownership import SERVER_PRICE, UNIT_PRICE, Ownership

# A lab's pool: up to ~1e6 accelerators (the largest announced fleets); 1e8 is refused.
POOL_COUNT = Range(1, 1e8, "accelerators", plausible=(1, 2e6), whole=True)


class FleetPool(Frozen):
    """One pool of accelerators a lab owns."""

    name: str = Field(default="", description="label, e.g. 'High-Flyer A100 (2021)'")
    accelerator: AcceleratorId = Field(description="catalog id")
    count: Annotated[float, POOL_COUNT] = Field(description="accelerators in the pool [1]")
    unit_price_usd: Annotated[float, UNIT_PRICE] | None = Field(
        default=None, description="price per accelerator; the server overhead multiplier is applied [USD]"
    )
    server_price_usd: Annotated[float, SERVER_PRICE] | None = Field(
        default=None, description="price per whole server, all in (no overhead applied) [USD]"
    )
    gpus_per_node: Annotated[int, GPUS_PER_NODE] | None = Field(
        default=None, description="default from catalog"
    )
    acquisition_year: Year | None = None
    price_source: str = Field(default="", description="where the price comes from")
    source: str = Field(default="", description="where the count comes from")
    ownership: Ownership = Ownership()

    @model_validator(mode="after")
    def _one_price(self) -> FleetPool:
        if self.unit_price_usd is not None and self.server_price_usd is not None:
            raise ValueError(
                "give unit_price_usd (per accelerator) or server_price_usd (per server), not both"
            )
        if self.ownership.unit_price_usd is not None or self.ownership.server_price_usd is not None:
            raise ValueError(
                "a pool's price goes on the pool (unit_price_usd / server_price_usd), not under ownership"
            )
        return self
