"""`ownership:` inputs of the owned cost per GPU-hour (also a fleet pool's overrides)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from pydantic import Field, field_validator, model_validator

from .base import FRACTION, YEARS, Frozen, Range

# An accelerator sells for $5k-$70k (V100 to GB200); a server for up to ~$4M (an NVL72 rack).
UNIT_PRICE = Range(0, 1e7, "USD", plausible=(500, 2e5), lo_open=True)
SERVER_PRICE = Range(0, 1e8, "USD", plausible=(5e3, 5e6), lo_open=True)
SERVER_OVERHEAD = Range(1, 20, plausible=(1, 3))
STORAGE_SHARE = Range(0, 10, plausible=(0, 0.5))
DECAY = Range(0, 10, "orders of magnitude a year", plausible=(0.01, 1), lo_open=True)
AGE = Range(0, 100, "years", plausible=(0, 10))
RATE = Range(0, 1, "per year", plausible=(0, 0.3))
COLOCATION = Range(0, 1e4, "USD/kW-month", plausible=(50, 1000))
BUILD = Range(0, 1e9, "USD/MW", plausible=(1e6, 5e7))

# Names of the registered methods (the registries with their formulas are in truecost.stages.pricing;
# a test checks the two agree).
OWNERSHIP_METHOD_NAMES: tuple[str, ...] = ("straight-line", "value-decay", "epoch")
# `ownership.depreciation` (the v1 key) maps onto `ownership.method`; "epoch-decay" was value decay
# with every other owned-cost term kept, which is what `value-decay` computes.
DEPRECIATION_ALIASES: dict[str, str] = {"straight-line": "straight-line", "epoch-decay": "value-decay"}
DEPRECIATION_METHOD_NAMES: tuple[str, ...] = tuple(DEPRECIATION_ALIASES)
FACILITY_METHOD_NAMES: tuple[str, ...] = ("colocation", "owned-build")


class Ownership(Frozen):
    """Inputs of the owned cost per GPU-hour. None = cited default (listed in assumptions).

    A fleet pool may override any of these under its own `ownership:` (except the prices, which a
    pool gives as `unit_price_usd` / `server_price_usd`).
    """

    unit_price_usd: Annotated[float, UNIT_PRICE] | None = Field(
        default=None, description="price of one accelerator (chip or baseboard share) for the run [USD]"
    )
    server_price_usd: Annotated[float, SERVER_PRICE] | None = Field(
        default=None, description="price of one whole server (all its accelerators) for the run [USD]"
    )
    price_source: str = Field(default="", description="where the price comes from")
    server_overhead: Annotated[float, SERVER_OVERHEAD] | None = Field(
        default=None, description="server cost per accelerator / accelerator price [1]"
    )
    networking_share: Annotated[float, Range(0, 0.99, plausible=(0, 0.5))] | None = Field(
        default=None, description="cluster interconnect as a share of total cluster hardware cost [1]"
    )
    storage_share: Annotated[float, STORAGE_SHARE] | None = Field(
        default=None, description="cluster storage / server cost [1]"
    )
    method: str | None = Field(
        default=None,
        description="straight-line | value-decay | epoch (Epoch AI's amortised hardware + energy method, one "
        "setting); default straight-line",
    )
    depreciation: str | None = Field(
        default=None, description="v1 key, kept: straight-line | epoch-decay (= method value-decay)"
    )
    life_years: Annotated[float, Range(0, 50, "years", plausible=(1, 15), lo_open=True)] | None = Field(
        default=None, description="straight-line depreciation life [yr]"
    )
    decay_oom_per_year: Annotated[float, DECAY] | None = Field(
        default=None, description="value decay, orders of magnitude a year"
    )
    hardware_age_years: Annotated[float, AGE] | None = Field(
        default=None, description="age of the hardware at the run [yr]"
    )
    cost_of_capital: Annotated[float, RATE] | None = Field(
        default=None, description="annual rate on capital tied up [1/yr]"
    )
    maintenance_share_per_year: Annotated[float, RATE] | None = Field(
        default=None, description="maintenance / CapEx a year"
    )
    operations_share_per_year: Annotated[float, RATE] | None = Field(
        default=None, description="operations staff / CapEx a year"
    )
    fleet_utilisation: Annotated[float, FRACTION] | None = Field(
        default=None, description="share of owned hours doing useful work"
    )
    facility: str | None = Field(default=None, description="colocation | owned-build")
    colocation_usd_per_kw_month: Annotated[float, COLOCATION] | None = Field(
        default=None, description="wholesale colocation rate"
    )
    build_usd_per_mw: Annotated[float, BUILD] | None = Field(
        default=None, description="owned data-centre build cost per MW IT"
    )
    facility_life_years: Annotated[float, YEARS] | None = Field(
        default=None, description="life of an owned data centre [yr]"
    )
    horizon_years: Annotated[float, YEARS] | None = Field(default=None, description="fleet TCO horizon [yr]")
    sources: Mapping[str, str] = Field(
        default_factory=dict, description="source of each given input, keyed by field name"
    )

    @field_validator("depreciation")
    @classmethod
    def _known_depreciation(cls, v: str | None) -> str | None:
        if v is not None and v not in DEPRECIATION_METHOD_NAMES:
            raise ValueError(
                f"unknown depreciation method {v!r}; valid: {', '.join(DEPRECIATION_METHOD_NAMES)}"
            )
        return v

    @field_validator("method")
    @classmethod
    def _known_method(cls, v: str | None) -> str | None:
        if v is not None and v not in OWNERSHIP_METHOD_NAMES:
            raise ValueError(f"unknown ownership method {v!r}; valid: {', '.join(OWNERSHIP_METHOD_NAMES)}")
        return v

    @model_validator(mode="after")
    def _method_and_depreciation_agree(self) -> Ownership:
        if self.method is not None and self.depreciation is not None:
            if DEPRECIATION_ALIASES[self.depreciation] != self.method:
                raise ValueError(
                    f"ownership.depreciation {self.depreciation!r} (= method "
                    f"{DEPRECIATION_ALIASES[self.depreciation]!r}) contradicts ownership.method {self.method!r}; "
                    "give method alone"
                )
        return self

    @property
    def resolved_method(self) -> str | None:
        """`method`, else the method the v1 `depreciation` key names; None = the default."""
        if self.method is not None:
            return self.method
        return None if self.depreciation is None else DEPRECIATION_ALIASES[self.depreciation]

    @field_validator("facility")
    @classmethod
    def _known_facility(cls, v: str | None) -> str | None:
        if v is not None and v not in FACILITY_METHOD_NAMES:
            raise ValueError(f"unknown facility method {v!r}; valid: {', '.join(FACILITY_METHOD_NAMES)}")
        return v
