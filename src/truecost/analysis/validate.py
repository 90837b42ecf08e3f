"""`truecost validate`: predictions against published figures, with the error of each."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..stages.flops import flops_per_token


def _mape(errors: list[float]) -> float:
    return float(np.mean(np.abs(errors))) if errors else float("nan")


def flops_rows() -> list[dict[str, Any]]:
    """Computed training FLOPs vs the FLOPs a catalog run reports.

    Runs whose architecture is in the models catalog are computed from the architecture under
    6ND and Megatron causal (GPT-3 Table D.1 and Llama 3 use 6ND); the others from their published
    parameter count under 6ND (6 x N x D, Kaplan et al. 2020), the only count their size allows.
    """
    from ..catalog import models, runs

    cat = models()
    rows = []
    for run in runs().values():
        if run.reported_flops is None or run.tokens is None:
            continue
        if run.model_id and run.model_id in cat:
            arch = cat[run.model_id].arch
            seq = run.seq_len or 2048
            computed = {conv: flops_per_token(arch, seq, conv) * run.tokens for conv in ("6nd", "megatron")}
            how = "architecture from the models catalog"
        elif run.params_active is not None:
            computed = {"6nd": 6.0 * run.params_active * run.tokens}
            how = f"6 x {run.params_active:.4g} published parameters x {run.tokens:.4g} tokens"
        else:
            continue
        for conv, value in computed.items():
            err = (value - run.reported_flops) / run.reported_flops * 100
            rows.append(
                {
                    "label": f"{run.id} ({conv})",
                    "measured": run.reported_flops,
                    "predicted": value,
                    "error_pct": round(err, 2),
                    "note": f"{how}; reported by {run.source.split(',')[0]}",
                }
            )
    return rows


def validate_all() -> dict[str, Any]:
    """Every validation set: rows of measured vs predicted and the mean absolute % error."""
    sets: dict[str, Any] = {}
    rows = flops_rows()
    sets["training-flops"] = {"rows": rows, "n": len(rows), "mape_pct": _mape([r["error_pct"] for r in rows])}
    from .perf_validation import validation_sets

    for name, vrows in validation_sets().items():
        as_dicts = [r.to_dict() for r in vrows]
        errs = [d["error_pct"] for d in as_dicts]
        held = [d["error_pct"] for d in as_dicts if d.get("held_out")]
        sets[name] = {
            "rows": as_dicts,
            "n": len(as_dicts),
            "mape_pct": _mape(errs),
            "held_out_mape_pct": _mape(held) if held else None,
        }
    return {"sets": sets}
