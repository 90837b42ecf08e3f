"""The whole scenario: one field per section."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field, model_validator

from ..architecture import Architecture
from .base import Frozen
from .carbon import Carbon
from .cluster import Cluster
from .fleet import FleetPool
from .lab import Lab
from .money import Money
from .ownership import Ownership
from .power import Power
from .pricing import Pricing
from .serving import Serving
from .training import Training


class Scenario(Frozen):
    name: str = "scenario"
    description: str = ""
    model: Architecture | None = None
    model_id: str | None = None
    training: Training = Training()
    cluster: Cluster | None = None
    power: Power = Power()
    carbon: Carbon = Carbon()
    pricing: Pricing = Pricing()
    ownership: Ownership = Ownership()
    fleet: tuple[FleetPool, ...] | None = None
    lab: Lab | None = None
    serving: Serving | None = None
    money: Money = Money()
    notes: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    input_sources: dict[str, str] = Field(
        default_factory=dict, description="scenario field path -> where its value comes from"
    )
    reference_points: tuple[Mapping[str, Any], ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _model_by_id(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and isinstance(data.get("model"), str):
            from ..catalog import models

            mid = data["model"]
            cat = models()
            if mid not in cat:
                raise ValueError(f"model: unknown model id {mid!r}; valid ids: {', '.join(sorted(cat))}")
            data = dict(data)
            data["model"] = cat[mid].arch
            data["model_id"] = mid
        return data

    @property
    def arch(self) -> Architecture | None:
        return self.model
