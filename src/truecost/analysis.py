"""Whole-scenario analyses on top of the chain: sensitivity (tornado + Sobol) and layout planning."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .chain import Path_, inject_all, prepare, run_chain
from .errors import ScenarioError

# The output explained by default: the deepest cost the scenario reaches.
PREFERRED_OUTPUTS = (
    "lab_total_cost_usd",
    "development_cost_usd",
    "final_run_owned_cost_usd",
    "final_run_cost_usd",
    "gpu_hours",
)


def sensitivity(
    source: str | Path | Mapping[str, Any], output: str | None = None, n: int = 4096, seed: int | None = None
) -> dict[str, Any]:
    """Tornado (each input p5 -> p95, others at p50) and Sobol first/total-order indices.

    Returns a JSON-ready dict: output, base, and per input `first_order`, `total_order`, `swing`.
    """
    from .sensitivity import sensitivity as run_sensitivity

    prep = prepare(source)
    if not prep.dists:
        raise ScenarioError(
            "no uncertain inputs: write some numeric inputs as distributions, e.g. {ci90: [low, high]}",
            field="scenario",
        )
    base = run_chain(prep.scenario)
    if output is None:
        output = next((k for k in PREFERRED_OUTPUTS if k in base.results), None)
        if output is None:
            raise ScenarioError("the scenario produces no cost or GPU-hour result to explain", field="output")
    elif output not in base.results:
        raise ScenarioError(
            f"{output!r} is not a result of this scenario; choose one of {', '.join(base.results)}",
            field="output",
        )

    def f(values: Mapping[Path_, np.ndarray]) -> np.ndarray:
        m = len(next(iter(values.values())))
        st = run_chain(inject_all(prep.scenario, values), point=False, cache=base.cache)
        return np.broadcast_to(np.asarray(st.results[output], dtype=float), (m,))

    res = run_sensitivity(f, prep.dists, output=output, n=n, seed=seed)
    out = res.to_dict()
    pools = prep.scenario.fleet or ()
    for row in out["inputs"]:  # name the pool beside its index: fleet[3].count (H20)
        m = re.match(r"fleet\[(\d+)\]", row["input"])
        if m and int(m.group(1)) < len(pools):
            pool = pools[int(m.group(1))]
            row["label"] = f"{row['input']} ({pool.name or pool.accelerator})"
    out["scenario"] = prep.scenario.name
    out["unit"] = base.units.get(output, "")
    return out


def plan(source: str | Path | Mapping[str, Any], objective: str = "time", top: int = 10) -> dict[str, Any]:
    """Fastest (or cheapest) feasible parallel layouts for the scenario's model on its GPU count."""
    from .perf import search_layouts
    from .run import default_global_batch, step_model_args

    if objective not in ("time", "cost"):
        raise ScenarioError(f"expected 'time' or 'cost', got {objective!r}", field="objective")
    scn = prepare(source).scenario
    cl = scn.cluster
    if scn.model is None:
        raise ScenarioError("planning needs an architecture (a model id or mapping)", field="model")
    if cl is None or cl.count is None:
        raise ScenarioError("planning needs cluster.accelerator and cluster.count", field="cluster.count")
    tr = scn.training
    gb = tr.global_batch or default_global_batch(tr.seq_len, float(cl.count))
    try:
        layouts = search_layouts(
            fixed=cl.parallelism,
            objective=objective,  # type: ignore[arg-type]  # checked above
            top=top,
            **step_model_args(scn, gb),
        )
    except ValueError as exc:
        raise ScenarioError(str(exc), field="cluster.parallelism") from None
    return {
        "scenario": scn.name,
        "objective": objective,
        "global_batch": gb,
        "count": int(round(float(cl.count))),
        "accelerator": cl.accelerator,
        "layouts": [p.to_dict() for p in layouts],
    }
