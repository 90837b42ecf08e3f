"""Whole-scenario sensitivity: tornado (each input p5 -> p95) and Sobol indices of one output."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..chain import Path_, inject_all, predicted_dists, prepare, run_stages
from ..errors import ScenarioError

# The output explained by default: the deepest cost the scenario reaches.
PREFERRED_OUTPUTS = (
    "lab_total_cost_usd",
    "development_cost_usd",
    "final_run_owned_cost_usd",
    "final_run_cost_usd",
    "gpu_hours",
)


SENSITIVITY_MAX = 1 << 16  # base samples: the analysis runs n x (inputs + 2) trials at once


def check_base_samples(n: Any, field: str = "samples") -> None:
    """Sobol's base sample count: an integer power of two from 64 to SENSITIVITY_MAX (bounded
    memory); anything else is a ScenarioError naming `field`."""
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 64:
        raise ScenarioError(
            f"expected an integer power of two from 64 to {SENSITIVITY_MAX:,}, got {n!r}", field=field
        )
    if n > SENSITIVITY_MAX:
        raise ScenarioError(
            f"{n:,} base samples are over the limit of {SENSITIVITY_MAX:,} (the analysis runs "
            "samples x (inputs + 2) trials at once; more do not fit in memory)",
            field=field,
        )
    if n & (n - 1):
        below = 1 << (int(n).bit_length() - 1)
        raise ScenarioError(
            f"{n:,} is not a power of two (Sobol' sampling needs one); try {below:,} or {below * 2:,}",
            field=field,
        )


def sensitivity(
    source: str | Path | Mapping[str, Any], output: str | None = None, n: int = 4096, seed: int | None = None
) -> dict[str, Any]:
    """Tornado (each input p5 -> p95, others at p50) and Sobol first/total-order indices.

    Returns a JSON-ready dict: output, base, and per input `first_order`, `total_order`, `swing`.
    """
    from .indices import sensitivity as run_sensitivity

    check_base_samples(n)
    prep = prepare(source)
    base = run_stages(prep.scenario)
    predicted = predicted_dists(base)  # a predicted MFU's realized efficiency is uncertain too
    if not prep.sampled and not predicted:
        raise _no_uncertain_inputs()
    base_results = base.quantities()
    if output is None:
        output = next((k for k in PREFERRED_OUTPUTS if k in base_results), None)
        if output is None:
            raise ScenarioError("the scenario produces no cost or GPU-hour result to explain", field="output")
    elif output not in base_results:
        raise ScenarioError(
            f"{output!r} is not a result of this scenario; choose one of {', '.join(base_results)}",
            field="output",
        )

    def f(values: Mapping[Path_, np.ndarray]) -> np.ndarray:
        m = len(next(iter(values.values())))
        got = run_stages(inject_all(prep.scenario, values), point=False, known=base).quantities()
        return np.broadcast_to(np.asarray(got[output], dtype=float), (m,))

    # The grid intensity's default spread moves emissions only: it joins the inputs for them.
    from ..stages.carbon import CarbonResult

    dists = {**(prep.sampled if output in CarbonResult.quantity_fields() else prep.dists), **predicted}
    if not dists:
        raise _no_uncertain_inputs()
    res = run_sensitivity(f, dists, output=output, n=n, seed=seed)
    out = res.to_dict()
    pools = prep.scenario.fleet or ()
    for row in out["inputs"]:  # name the pool beside its index: fleet[3].count (H20)
        m = re.match(r"fleet\[(\d+)\]", row["input"])
        if m and int(m.group(1)) < len(pools):
            pool = pools[int(m.group(1))]
            row["label"] = f"{row['input']} ({pool.name or pool.accelerator})"
    out["scenario"] = prep.scenario.name
    out["unit"] = base.units().get(output, "")
    return out


def _no_uncertain_inputs() -> ScenarioError:
    return ScenarioError(
        "no uncertain inputs: write some numeric inputs as distributions, e.g. {ci90: [low, high]}",
        field="scenario",
    )
