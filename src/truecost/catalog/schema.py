"""Typed catalog rows. Values are converted to SI once, when a row is loaded."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


class UnknownIdError(ValueError):
    """An id that is not in a catalog; the message lists the valid ids."""


@dataclass(frozen=True)
class Accelerator:
    """One accelerator model, as its datasheet and price sources publish it (converted to SI)."""

    id: str
    name: str
    vendor: str
    year: int
    peak_flop_per_s: Mapping[str, float]  # dense (not sparse) peaks; keys among bf16, fp16, fp8, fp4
    memory_byte: float
    hbm_bandwidth_byte_per_s: float
    tdp_w: float | None
    scale_up_byte_per_s: (
        float | None
    )  # per-accelerator NVLink-class bandwidth, one direction sum as published
    gpus_per_node: int
    unit_price_usd: float | None
    unit_price_date: str
    unit_price_source: str
    rental_usd_per_gpu_hour: float | None
    rental_source: str
    source: str
    accessed: str
    notes: str = ""
    verification: str = ""
    scale_out_byte_per_s: float | None = (
        None  # per-accelerator NIC bandwidth (InfiniBand/RoCE) to other nodes
    )
    release_date: str = ""  # public release (announcement) date, YYYY-MM-DD
    release_date_source: str = ""
    price_family: str = ""  # accelerators sharing one purchase-price history (Epoch AI's family alias)
    extra: Mapping[str, str] = field(default_factory=dict)

    def peak(self, precision: str) -> float:
        """Dense peak at a precision. [FLOP/s]"""
        try:
            return self.peak_flop_per_s[precision]
        except KeyError:
            raise ValueError(
                f"accelerator {self.id!r} has no published dense {precision} peak; "
                f"available: {', '.join(sorted(self.peak_flop_per_s))}"
            ) from None
