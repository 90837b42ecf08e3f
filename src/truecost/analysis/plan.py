"""Layout planning: the fastest parallel layouts of a scenario's model on its GPU count."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..chain import prepare
from ..errors import ScenarioError


def plan(source: str | Path | Mapping[str, Any], objective: str = "time", top: int = 10) -> dict[str, Any]:
    """Fastest (or cheapest) feasible parallel layouts for the scenario's model on its GPU count."""
    from ..stages.perf import search_layouts
    from ..stages.perf.stage import default_global_batch, step_spec

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
            step_spec(tr, cl, scn.model, gb),
            fixed=cl.parallelism,
            objective=objective,  # type: ignore[arg-type]  # checked above
            top=top,
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
