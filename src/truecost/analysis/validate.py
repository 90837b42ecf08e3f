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


def serving_rows() -> list[dict[str, Any]]:
    """Serving throughput: each published TensorRT-LLM row predicted by a fit on the others
    (leave-one-out), then DeepSeek's Day-6 per-node rates predicted for its layouts (never fitted)."""
    from ..catalog import get_accelerator, get_model
    from ..scenario import load_raw
    from ..scenario.serving import Serving
    from ..stages.serving import stage
    from ..stages.serving.calibrate import leave_one_out
    from ..stages.serving.datasets import serving_rows as published

    by_id = {r.id: r for r in published()}
    rows = []
    for r in leave_one_out():
        row = by_id[r.id]
        rows.append(
            {
                "label": r.id,
                "measured": r.measured,
                "predicted": r.predicted,
                "error_pct": round(r.error * 100, 2),
                "held_out": True,
                "note": f"output tokens/s per GPU, {row.model_id} {row.gpus}x {row.accelerator_id} {row.precision} "
                f"{row.input_tokens:g}/{row.output_tokens:g}; leave-one-out; TensorRT-LLM "
                f"{'v0.17' if 'trtllm017' in row.id else 'v1.0'} perf-overview",
            }
        )
    raw = dict(load_raw("deepseek-serving")["serving"])
    raw.pop("output_tokens_per_s_per_gpu")
    raw.pop("input_tokens_per_s_per_gpu")
    ds = stage(
        Serving(**raw), get_model("deepseek-v3").arch, get_accelerator("h800"), rental_usd_per_gpu_hour=2.0
    )
    day6 = "DeepSeek Day 6 (open-infra-index, 2025-03-01)"
    for label, measured, predicted in (
        ("deepseek-day6-decode-per-node", 14_800.0, ds.predicted_output_tokens_per_s_per_node),
        ("deepseek-day6-prefill-per-node", 73_700.0, ds.predicted_input_tokens_per_s_per_node),
    ):
        pred = float(predicted)
        rows.append(
            {
                "label": label,
                "measured": measured,
                "predicted": pred,
                "error_pct": round((pred / measured - 1) * 100, 2),
                "held_out": True,
                "note": f"tokens/s per H800 node (EP144 decode, EP32 prefill); not fitted; {day6}; daily average",
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
    srows = serving_rows()
    sets["serving-throughput"] = {
        "rows": srows,
        "n": len(srows),
        "mape_pct": _mape([r["error_pct"] for r in srows]),
        "held_out_mape_pct": _mape([r["error_pct"] for r in srows if r["label"].startswith("trtllm")]),
    }
    return {"sets": sets}
