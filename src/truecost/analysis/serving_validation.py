"""Serving throughput against published figures (`truecost validate`): the calibration rows left
out one at a time (set `serving-throughput`), and DeepSeek's Day-6 per-node rates (set
`serving-day6`)."""

from __future__ import annotations

from typing import Any


def serving_rows() -> list[dict[str, Any]]:
    """Serving throughput: each published TensorRT-LLM maximum-load row predicted by a fit on the
    others (leave-one-out)."""
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
    return rows


def day6_rows() -> list[dict[str, Any]]:
    """DeepSeek's Day-6 per-node rates (daily averages of a production fleet) beside the model's
    sustained capacity for the same layouts (never fitted)."""
    from ..catalog import get_accelerator, get_model
    from ..scenario import load_raw
    from ..scenario.serving import Serving
    from ..stages.serving import stage

    rows = []
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
                "note": f"tokens/s per H800 node (EP144 decode at 47.6 ms, EP32 prefill); not fitted; {day6}; "
                "theirs a daily average, ours a sustained capacity",
            }
        )
    return rows


def check_rows() -> list[dict[str, Any]]:
    """Published serving measurements never used in the fit (`catalog/data/validation/
    serving_checks.csv`): TensorRT-LLM's Triton server runs, BF16 on H100 (a precision and
    accelerator pair no calibration row has)."""
    import csv
    import io

    from ..catalog import get_accelerator, get_model
    from ..catalog.data_files import data_text
    from ..scenario.serving import Serving
    from ..stages.serving import stage

    rows = []
    for r in csv.DictReader(io.StringIO(data_text("validation", "serving_checks.csv"))):
        gpus = int(r["gpus"])
        sv = Serving(
            accelerator=r["accelerator_id"],
            gpus=gpus,
            replica={"gpus": gpus, "tp": gpus},
            precision=r["precision"],
            kv_precision=r["kv_precision"],
            input_tokens=float(r["input_tokens"]),
            output_tokens=float(r["output_tokens"]),
            tpot_ms=float(r["tpot_ms"]) if r["tpot_ms"] else None,
        )
        res = stage(
            sv,
            get_model(r["model_id"]).arch,
            get_accelerator(r["accelerator_id"]),
            rental_usd_per_gpu_hour=1.0,
        )
        if r["metric"] == "step_time_ms":
            pred, unit = float(res.step_time_s) * 1e3, "ms per decode step vs mean inter-token latency"
        else:
            pred, unit = float(res.serving_output_tokens_per_s_per_gpu) * gpus, "output tokens/s per replica"
        measured = float(r["value"])
        rows.append(
            {
                "label": r["id"],
                "measured": measured,
                "predicted": pred,
                "error_pct": round((pred / measured - 1) * 100, 2),
                "held_out": True,
                "note": f"{unit}; {r['model_id']} {gpus}x {r['accelerator_id']} {r['precision']} "
                f"{float(r['input_tokens']):g}/{float(r['output_tokens']):g}; {r['notes']}",
            }
        )
    return rows
