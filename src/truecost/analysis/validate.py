"""`truecost validate`: predictions against published figures, with the error of each."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..catalog.data_files import data_text
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


def realized_rows() -> dict[str, Any]:
    """Leave-one-out on the published runs: each run's GPU-hours predicted by the realized layer
    fitted on the other runs, with its 90% interval; summary: median error and coverage."""
    from .calibrate_realized import loo, summary

    rows = loo()
    out = [
        {
            "label": r.case.label,
            "measured": r.case.reported_gpu_hours,
            "predicted": r.predicted_gpu_hours,
            "unit": "GPU-h",
            "error_pct": round(r.error_pct, 2),
            "p5": r.p5_gpu_hours,
            "p95": r.p95_gpu_hours,
            "covered": r.covered,
            "held_out": True,
            "note": f"LOO 90% [{r.p5_gpu_hours:.3g}, {r.p95_gpu_hours:.3g}] {'covers' if r.covered else 'MISSES'}; "
            f"{'throughput' if r.case.throughput_basis else 'wall-clock'} hours, goodput {r.case.goodput:.3f}; "
            f"{r.case.layout}",
        }
        for r in rows
    ]
    s = summary(rows)
    return {
        "rows": out,
        "n": len(out),
        "mape_pct": s["mean_abs_error_pct"],
        "held_out_mape_pct": s["mean_abs_error_pct"],
        "median_abs_error_pct": s["median_abs_error_pct"],
        "max_abs_error_pct": s["max_abs_error_pct"],
        "coverage_90": s["coverage_90"],
    }


EPOCH_FILE = "epoch_amortised_costs.csv"


def _basis(accelerator_id: str) -> str:
    from ..catalog import get_accelerator

    peaks = get_accelerator(accelerator_id).peak_flop_per_s
    return "bf16" if "bf16" in peaks else "fp16"


def epoch_scenario(row: dict[str, str], dollar_year: int = 2023) -> dict[str, Any]:
    """The scenario that costs one of Epoch AI's runs with `ownership.method: epoch`: Epoch's
    accelerator, chip count, chip-hours, training start and PUE rule; costs in `dollar_year`
    dollars of Epoch's deflator, counted from the publication date. Nothing is fitted."""
    return {
        "name": f"{row['model']} (Epoch AI inputs)",
        "training": {"start_date": row["training_start"]},
        "cluster": {
            "accelerator": row["accelerator_id"],
            "count": int(row["chips"]),
            "gpu_hours": float(row["chip_hours"]),
            "mfu_basis": _basis(row["accelerator_id"]),
        },
        "power": {"pue": float(row["pue"])},
        "ownership": {"method": "epoch"},
        "money": {"dollar_year": dollar_year, "costs_date": row["publication_date"]},
    }


def epoch_rows() -> list[dict[str, Any]]:
    """truecost's `ownership.method: epoch` against Epoch AI's published amortised hardware + energy
    costs (2023 USD; economics.md sec. 3, database snapshot 2025-08-07)."""
    import csv
    import io

    from ..chain import estimate

    text = data_text("validation", EPOCH_FILE)
    rows = []
    for r in csv.DictReader(io.StringIO(text)):
        est = estimate(epoch_scenario(r))
        ours = float(est.results["final_run_owned_cost_usd"])
        theirs = float(r["epoch_cost_usd_2023"])
        rows.append(
            {
                "label": r["model"],
                "measured": theirs,
                "predicted": ours,
                "ratio": ours / theirs,
                "error_pct": round((ours - theirs) / theirs * 100, 2),
                "note": f"{r['chips']} x {r['epoch_hardware']} ({r['accelerator_id']}), {float(r['chip_hours']):.4g} "
                f"chip-h, start {r['training_start']}, PUE {r['pue']}"
                + (f"; {r['notes']}" if r["notes"] else ""),
            }
        )
    return rows


def epoch_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Median ratio (ours / Epoch's), its range and the count within +-10%."""
    ratios = np.array([r["ratio"] for r in rows])
    return {
        "median_ratio": float(np.median(ratios)),
        "min_ratio": float(ratios.min()),
        "max_ratio": float(ratios.max()),
        "within_10pct": int(np.sum(np.abs(ratios - 1) <= 0.10)),
    }


def validate_all() -> dict[str, Any]:
    """Every validation set: rows of measured vs predicted and the mean absolute % error."""
    sets: dict[str, Any] = {}
    rows = flops_rows()
    sets["training-flops"] = {"rows": rows, "n": len(rows), "mape_pct": _mape([r["error_pct"] for r in rows])}
    erows = epoch_rows()
    sets["epoch-amortised-cost"] = {
        "rows": erows,
        "n": len(erows),
        "mape_pct": _mape([r["error_pct"] for r in erows]),
        **epoch_summary(erows),
    }
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
    sets["published-runs-loo"] = realized_rows()
    from .serving_validation import check_rows, day6_rows, serving_rows

    for name, rows_, note in (
        (
            "serving-throughput",
            serving_rows(),
            "TensorRT-LLM maximum-load runs; every row predicted by a fit on the others",
        ),
        (
            "serving-checks",
            check_rows(),
            "TensorRT-LLM server runs never used in the fit (BF16 on H100, no calibration row has it)",
        ),
        (
            "serving-day6",
            day6_rows(),
            "DeepSeek's reported daily averages vs the model's capacity for its layouts; nothing fitted. Decode "
            "is held to 47.6 ms per token and reads close; prefill capacity reads 2.6x the daily average "
            "(prefill nodes sized for peak time-to-first-token would idle part of the day)",
        ),
    ):
        sets[name] = {
            "rows": rows_,
            "n": len(rows_),
            "mape_pct": _mape([r["error_pct"] for r in rows_]),
            "note": note,
        }
    # Every calibration row is predicted by a fit on the others.
    sets["serving-throughput"]["held_out_mape_pct"] = sets["serving-throughput"]["mape_pct"]
    from .emissions import emissions_rows

    erows = emissions_rows()
    sets["training-emissions"] = {
        "rows": erows,
        "n": len(erows),
        "mape_pct": _mape([r["error_pct"] for r in erows]),
        "note": "each publication's own accelerator-hours, power per device, PUE and grid intensity "
        "(truecost's grid table where the publication states none); nothing fitted",
    }
    return {"sets": sets}
