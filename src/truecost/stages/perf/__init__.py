"""Step-time model: step time and MFU from the model, the cluster and the parallel layout.

>>> from truecost.catalog import get_accelerator, get_model
>>> spec = StepSpec(get_model("llama-3.1-405b").arch, get_accelerator("h100-sxm"), 16384, 8192, 2048)
>>> p = predict_step(spec, Parallelism(tp=8, pp=16, dp=128))
>>> 0.2 < p.mfu < 0.6
True
"""

from __future__ import annotations

from ...scenario.cluster import RECOMPUTE_MODES, SCHEDULES, Network, Parallelism
from .layout import InfeasibleLayoutError, Layout, StepPrediction
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
from .spec import StepSpec
from .step import predict_step

__all__ = [
    "GOODPUT_DEFAULT",
    "GOODPUT_SOURCE",
    "RECOMPUTE_MODES",
    "SCHEDULES",
    "STACKS",
    "InfeasibleLayoutError",
    "Layout",
    "Network",
    "Parallelism",
    "PerfParams",
    "SoftwareStack",
    "StepPrediction",
    "StepSpec",
    "goodput_assumption",
    "goodput_default",
    "params_for",
    "predict_step",
    "search_layouts",
]
