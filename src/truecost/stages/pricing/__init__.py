"""Rental and owned cost per GPU-hour (the `pricing` stage: `rental.stage`, `owned.stage`).

Rental: the price someone charges per accelerator-hour (DeepSeek's $2/h assumption).
Owned: what an hour costs the owner, from purchase price, server overhead, cluster networking
and storage, depreciation (two named views), cost of capital, maintenance, operations,
facility and power, divided by the share of hours the hardware does useful work (Epoch AI's
amortised method, formulas.md sec. 3, and the accounting straight-line view of 10-K filings).

Every formula below is a pure numpy expression: it takes scalars or arrays of Monte Carlo draws
and broadcasts.
"""

from __future__ import annotations

from .defaults import *  # noqa: F403
from .formulas import *  # noqa: F403
from .methods import (
    DEFAULT_DEPRECIATION,
    DEFAULT_FACILITY,
    DEPRECIATION_METHODS,
    FACILITY_METHODS,
    OWNERSHIP_DEFAULTS,
    OWNERSHIP_METHODS,
    DepreciationMethod,
    FacilityMethod,
)
from .owned import (
    Dates,
    OwnedInputs,
    OwnedResult,
    PerGpu,
    dominant_terms_sentence,
    owned_cost_terms,
    per_gpu,
    resolve_owned_inputs,
    run_pool,
)
from .rental import RentalResult

__all__ = [
    "DEFAULT_DEPRECIATION",
    "DEFAULT_FACILITY",
    "DEPRECIATION_METHODS",
    "FACILITY_METHODS",
    "OWNERSHIP_DEFAULTS",
    "OWNERSHIP_METHODS",
    "Dates",
    "DepreciationMethod",
    "FacilityMethod",
    "OwnedInputs",
    "OwnedResult",
    "PerGpu",
    "RentalResult",
    "dominant_terms_sentence",
    "owned_cost_terms",
    "per_gpu",
    "resolve_owned_inputs",
    "run_pool",
]
