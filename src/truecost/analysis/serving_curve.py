"""Cost per million output tokens against the latency target: the serving trade-off curve.

A tighter `tpot_ms` allows a smaller batch, so each GPU serves fewer tokens and a million tokens
costs more. The curve re-runs the chain at each target with the rates predicted (measured rates
in the scenario are ignored here, since they hold at one operating point only).

>>> pts = serving_curve("deepseek-serving", [30.0, 60.0])
>>> pts[0]["usd_per_m_output_tokens"] > pts[1]["usd_per_m_output_tokens"]
True
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..chain import inject_all, prepare, run_stages
from ..errors import ScenarioError


def serving_curve(
    source: str | Path | Mapping[str, Any], tpot_ms: Iterable[float | None]
) -> list[dict[str, Any]]:
    """One point per latency target (None = maximum throughput): tpot_ms, batch, output
    tokens/s per GPU, $/M output tokens (rental and owned); an unreachable target gives a point
    with `error` instead."""
    prep = prepare(source)
    if prep.scenario.serving is None:
        raise ScenarioError("the scenario has no serving section", field="serving")
    out: list[dict[str, Any]] = []
    for t in tpot_ms:
        scn = inject_all(
            prep.scenario,
            {
                ("serving", "tpot_ms"): t,
                ("serving", "output_tokens_per_s_per_gpu"): None,
                ("serving", "input_tokens_per_s_per_gpu"): None,
            },
        )
        try:
            sv = run_stages(scn).serving
        except ScenarioError as exc:
            out.append({"tpot_ms": t, "error": str(exc)})
            continue

        def f(x: Any) -> float | None:
            return None if x is None else float(np.median(np.asarray(x, dtype=float)))

        out.append(
            {
                "tpot_ms": t,
                "batch_sequences": f(sv.batch_sequences),
                "step_time_s": f(sv.step_time_s),
                "output_tokens_per_s_per_gpu": f(sv.serving_output_tokens_per_s_per_gpu),
                "usd_per_m_output_tokens": f(sv.serving_usd_per_m_output_tokens),
                "owned_usd_per_m_output_tokens": f(sv.serving_owned_usd_per_m_output_tokens),
            }
        )
    return out
