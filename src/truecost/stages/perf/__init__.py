"""Step-time model: MFU and GPU-hours from the cluster and the parallel layout.

>>> from truecost.catalog import get_accelerator, get_model
>>> p = predict_step(get_model("llama-3.1-405b").arch, get_accelerator("h100-sxm"), 16384, 8192, 2048,
...                  parallelism=Parallelism(tp=8, pp=16, dp=128))
>>> 0.2 < p.mfu < 0.6
True
"""

from __future__ import annotations

from ...scenario.cluster import RECOMPUTE_MODES, SCHEDULES, Network, Parallelism
from .layout import InfeasibleLayoutError, StepPrediction, gpu_hours
from .params import (
    GOODPUT_DEFAULT,
    GOODPUT_SOURCE,
    STACKS,
    PerfParams,
    SoftwareStack,
    goodput_assumption,
    goodput_default,
    params_for,
)
from .search import search_layouts
from .step import predict_step
from .validation import ValidationRow, validation_sets

__all__ = [
    "GOODPUT_DEFAULT",
    "GOODPUT_SOURCE",
    "RECOMPUTE_MODES",
    "SCHEDULES",
    "STACKS",
    "InfeasibleLayoutError",
    "Network",
    "Parallelism",
    "PerfParams",
    "SoftwareStack",
    "StepPrediction",
    "ValidationRow",
    "goodput_assumption",
    "goodput_default",
    "gpu_hours",
    "params_for",
    "predict_step",
    "search_layouts",
    "validation_sets",
]
