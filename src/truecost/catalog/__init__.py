"""Shipped catalogs: accelerators, model architectures and published training runs.

Each catalog is a tidy table in `data/` with values as the source publishes them and a `source`
and `accessed` on every row; the loaders check the schema and convert units to SI once.

>>> get_accelerator("h100-sxm").peak("bf16")
989400000000000.0
>>> get_model("deepseek-v3").arch.moe.experts
256
>>> get_run("deepseek-v3").gpu_hours
2788000.0
"""

from __future__ import annotations

from .entries import ModelEntry, TrainingRun
from .loaders import (
    CATALOG_KINDS,
    CatalogError,
    accelerators,
    catalog_rows,
    get_accelerator,
    get_model,
    get_run,
    models,
    parse_accelerator_table,
    parse_accelerators,
    parse_models,
    parse_runs,
    runs,
    serving_calibration,
)
from .schema import Accelerator, UnknownIdError

__all__ = [
    "CATALOG_KINDS",
    "Accelerator",
    "CatalogError",
    "ModelEntry",
    "TrainingRun",
    "UnknownIdError",
    "accelerators",
    "catalog_rows",
    "get_accelerator",
    "get_model",
    "get_run",
    "models",
    "parse_accelerator_table",
    "parse_accelerators",
    "parse_models",
    "parse_runs",
    "runs",
    "serving_calibration",
]
