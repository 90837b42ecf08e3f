"""`truecost validate`: predictions against published figures, with the error of each."""

from __future__ import annotations

from typing import Any

import numpy as np

from .flops import flops_per_token


def _mape(errors: list[float]) -> float:
    return float(np.mean(np.abs(errors))) if errors else float("nan")


def flops_rows() -> list[dict[str, Any]]:
    """Computed training FLOPs vs the FLOPs a catalog run reports, for runs whose architecture is
    in the models catalog. The convention is 6ND where the developer used 6ND (GPT-3 Table D.1,
    Llama 3), else Megatron causal."""
    from .catalog import models, runs

    cat = models()
    rows = []
    for run in runs().values():
        if run.reported_flops is None or not run.model_id or run.model_id not in cat or run.tokens is None:
            continue
        arch = cat[run.model_id].arch
        seq = run.seq_len or 2048
        for conv in ("6nd", "megatron"):
            computed = flops_per_token(arch, seq, conv) * run.tokens
            err = (computed - run.reported_flops) / run.reported_flops * 100
            rows.append(
                {
                    "label": f"{run.id} ({conv})",
                    "measured": run.reported_flops,
                    "predicted": computed,
                    "error_pct": round(err, 2),
                    "note": f"reported by {run.source.split(',')[0]}",
                }
            )
    return rows


def validate_all() -> dict[str, Any]:
    """Every validation set: rows of measured vs predicted and the mean absolute % error."""
    sets: dict[str, Any] = {}
    rows = flops_rows()
    sets["training-flops"] = {"rows": rows, "n": len(rows), "mape_pct": _mape([r["error_pct"] for r in rows])}
    from .perf import validation_sets

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
