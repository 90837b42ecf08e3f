"""Fit the serving model's efficiencies on the published throughputs and report leave-one-out errors.

    python -m truecost.stages.serving.calibrate          # print the fit and the LOO table
    python -m truecost.stages.serving.calibrate --write  # also write catalog/data/serving_calibration.yaml

Fitted: `hbm_efficiency` (sustained fraction of HBM bandwidth in decode), `gemm_share` (the
share of the accelerator's measured best GEMM throughput, catalog `gemm_efficiency.csv`, that a
whole forward pass sustains, one value for 16-bit and FP8: the measured GEMM fractions already
carry the difference between precisions and accelerators) and `fp4` (share of the FP4 dense
peak: no FP4 GEMM measurement is in the catalog). Every other constant is cited in `params.py`.
Residuals are log(predicted / measured) output tokens
per second per GPU, so every row weighs the same; scipy's bounded least squares. Leave-one-out:
each row is predicted by a fit on the other rows; `log_sd` of those residuals sets the interval
a prediction carries.
"""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml
from scipy.optimize import least_squares

from ...catalog import get_accelerator, get_model
from ...scenario.serving import Replica
from .datasets import SERVING_FILE, ServingRow, serving_rows
from .params import Z90, ServingParams, fitted
from .throughput import Workload, rates

FIT_NAMES = ("hbm_efficiency", "gemm_share", "fp4")
# hbm_efficiency is capped at 0.95: no measured kernel streams HBM faster (a physical ceiling, not
# a tuned value); compute shares between 5% and 100%.
BOUNDS = {"hbm_efficiency": (0.2, 0.95), "gemm_share": (0.05, 1.0), "fp4": (0.05, 1.0)}
START = {"hbm_efficiency": 0.8, "gemm_share": 0.5, "fp4": 0.5}
OUTPUT = Path(__file__).resolve().parents[2] / "catalog" / "data" / "serving_calibration.yaml"


def predict(row: ServingRow, params: ServingParams) -> float:
    """Predicted output tokens/s per GPU of one published run (one replica, tp = gpus)."""
    w = Workload(
        input_tokens=row.input_tokens,
        output_tokens=row.output_tokens,
        context_tokens=row.input_tokens + row.output_tokens / 2,
        precision=row.precision,
        kv_precision=row.kv_precision,
    )
    r = rates(
        get_model(row.model_id).arch,
        get_accelerator(row.accelerator_id),
        Replica(gpus=row.gpus, tp=row.gpus),
        w,
        params,
    )
    return float(r.output_tokens_per_s_per_gpu)


def _params(z: np.ndarray) -> ServingParams:
    v = dict(zip(FIT_NAMES, map(float, z), strict=True))
    share = v["gemm_share"]
    return fitted().with_(
        hbm_efficiency=v["hbm_efficiency"], compute_efficiency={"16bit": share, "fp8": share, "fp4": v["fp4"]}
    )


def fit(rows: Sequence[ServingRow]) -> ServingParams:
    """Least-squares fit of FIT_NAMES on `rows` (log residuals)."""
    lo = np.array([BOUNDS[n][0] for n in FIT_NAMES])
    hi = np.array([BOUNDS[n][1] for n in FIT_NAMES])

    def residuals(z: np.ndarray) -> np.ndarray:
        p = _params(z)
        return np.array([np.log(predict(r, p) / r.per_gpu) for r in rows])

    sol = least_squares(residuals, np.array([START[n] for n in FIT_NAMES]), bounds=(lo, hi))
    return _params(sol.x)


@dataclass(frozen=True)
class LooRow:
    id: str
    measured: float
    predicted: float  # by the fit without this row
    hbm_efficiency: float
    compute_efficiency: dict[str, float]

    @property
    def error(self) -> float:
        return self.predicted / self.measured - 1.0


def leave_one_out(rows: Sequence[ServingRow] | None = None) -> list[LooRow]:
    rows = list(rows if rows is not None else serving_rows())
    out = []
    for i, row in enumerate(rows):
        p = fit(rows[:i] + rows[i + 1 :])
        out.append(LooRow(row.id, row.per_gpu, predict(row, p), p.hbm_efficiency, dict(p.compute_efficiency)))
    return out


def leave_accelerator_out(rows: Sequence[ServingRow] | None = None) -> list[LooRow]:
    """Each row predicted by a fit without any row of its accelerator: the error to expect on
    hardware the fit has not seen (harsher than leave-one-out)."""
    rows = list(rows if rows is not None else serving_rows())
    out = []
    for acc in dict.fromkeys(r.accelerator_id for r in rows):
        p = fit([r for r in rows if r.accelerator_id != acc])
        for row in (r for r in rows if r.accelerator_id == acc):
            out.append(
                LooRow(row.id, row.per_gpu, predict(row, p), p.hbm_efficiency, dict(p.compute_efficiency))
            )
    return out


def summary(loo: Sequence[LooRow]) -> dict[str, float]:
    e = np.abs([r.error for r in loo])
    logs = np.log([r.predicted / r.measured for r in loo])
    return {
        "mean_abs_error": float(e.mean()),
        "median_abs_error": float(np.median(e)),
        "max_abs_error": float(e.max()),
        "log_sd": float(np.sqrt(np.mean(logs**2))),  # RMS of LOO log residuals (bias included)
    }


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="write catalog/data/serving_calibration.yaml")
    args = ap.parse_args(argv)
    rows = list(serving_rows())
    p = fit(rows)
    loo = leave_one_out(rows)
    s = summary(loo)
    print(f"Serving calibration on {len(rows)} rows of {'/'.join(SERVING_FILE)}")
    print(f"  hbm_efficiency     {p.hbm_efficiency:.4f}")
    for k, v in p.compute_efficiency.items():
        print(f"  compute_efficiency[{k}] {v:.4f}")
    in_sample = np.abs([predict(r, p) / r.per_gpu - 1 for r in rows])
    print(f"  in-sample mean |error| {100 * in_sample.mean():.1f}%")
    print("Leave-one-out (each row predicted by a fit on the others):")
    print(f"  {'row':48s} {'measured':>9s} {'LOO pred':>9s} {'error':>7s}  fit (hbm, 16bit, fp8, fp4)")
    for r in loo:
        print(
            f"  {r.id:48s} {r.measured:9.0f} {r.predicted:9.0f} {100 * r.error:+6.1f}%  "
            f"({r.hbm_efficiency:.3f}, " + ", ".join(f"{v:.3f}" for v in r.compute_efficiency.values()) + ")"
        )
    print(
        f"  LOO |error|: mean {100 * s['mean_abs_error']:.1f}%, median {100 * s['median_abs_error']:.1f}%, "
        f"max {100 * s['max_abs_error']:.1f}%; RMS log residual {s['log_sd']:.3f} "
        f"(90% interval x/÷ {np.exp(Z90 * s['log_sd']):.2f})"
    )
    lao = leave_accelerator_out(rows)
    sa = summary(lao)
    print("Leave-one-accelerator-out (each accelerator's rows predicted by a fit on the others):")
    for r in lao:
        print(f"  {r.id:48s} {r.measured:9.0f} {r.predicted:9.0f} {100 * r.error:+6.1f}%")
    print(
        f"  |error|: mean {100 * sa['mean_abs_error']:.1f}%, median {100 * sa['median_abs_error']:.1f}%, "
        f"max {100 * sa['max_abs_error']:.1f}%"
    )
    if args.write:
        doc = {
            "source": (
                "fitted by python -m truecost.stages.serving.calibrate on catalog/data/validation/"
                "serving_throughput.csv (TensorRT-LLM perf-overview max-load offline throughputs, "
                "shared/reference/serving_throughput_public.csv rows and same-row notes)"
            ),
            "accessed": dt.date.today().isoformat(),
            "data": [r.id for r in rows],
            "fitted": {
                "hbm_efficiency": round(p.hbm_efficiency, 4),
                "compute_efficiency": {k: round(v, 4) for k, v in p.compute_efficiency.items()},
                "step_overhead_s": 0.0,
            },
            "leave_one_out": {
                **{k: round(v, 4) for k, v in s.items()},
                "rows": {r.id: round(r.error, 4) for r in loo},
            },
            "leave_one_accelerator_out": {
                **{k: round(v, 4) for k, v in sa.items()},
                "rows": {r.id: round(r.error, 4) for r in lao},
            },
        }
        header = "# Written by python -m truecost.stages.serving.calibrate --write; do not edit by hand.\n"
        OUTPUT.write_text(header + yaml.safe_dump(doc, sort_keys=False, width=100), encoding="utf-8")
        print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
