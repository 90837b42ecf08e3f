"""Refit the A100 parameters on the 'fit' half of the vTrain measurements.

Run ``python -m truecost.stages.perf.calibrate`` (or ``python bench/calibrate_perf.py``). It prints the
fitted values, the error on the fit and held-out halves, and the `FITTED_A100` table to paste
into `truecost/perf/params.py`. Only the parameters in `FIT_NAMES` move; the cited ones
(large-GEMM efficiency, NCCL bus-bandwidth efficiency) stay fixed, because the vTrain data
cannot tell them apart (`profile` shows the flat error).

Residuals are log(predicted / measured) step times, so every row weighs the same whatever its
length; scipy's trust-region least squares with box bounds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np
from scipy.optimize import least_squares

from .datasets import (
    MEGATRON_FIT_ROWS,
    megatron_predictions,
    megatron_rows,
    megatron_step_time_s,
    vtrain_predictions,
    vtrain_rows,
)
from .params import (
    FITTED_A100,
    SUSTAINED_MAMF_FRACTION,
    PerfParams,
    calibrated_a100,
    reference_gemm_efficiency,
)

FIT_NAMES = (
    "gemm_saturation_output",
    "memory_efficiency",
    "layer_overhead_s",
    "comm_latency_s",
    "step_overhead_s",
)
# Box bounds: physical ranges, wide enough never to bind at the optimum.
BOUNDS = {
    "gemm_saturation_output": (0.0, 1e9),
    "memory_efficiency": (0.3, 1.0),
    "layer_overhead_s": (0.0, 1e-2),
    "comm_latency_s": (0.0, 1e-3),
    "step_overhead_s": (0.0, 1.0),
}
START = {
    "gemm_saturation_output": 1e6,
    "memory_efficiency": 0.8,
    "layer_overhead_s": 1e-4,
    "comm_latency_s": 1e-5,
    "step_overhead_s": 1e-2,
}


def _errors(pred: np.ndarray) -> tuple[float, float]:
    rows = vtrain_rows()
    e = np.abs(pred / rows.step_time_s - 1)
    return float(e[rows.is_fit].mean()), float(e[~rows.is_fit].mean())


def fit(fixed: Mapping[str, float] | None = None) -> tuple[dict[str, float], float, float]:
    """Least-squares fit of FIT_NAMES; returns (values, fit MAPE, held-out MAPE) as fractions.

    fixed : override cited parameters (e.g. {'gemm_efficiency': 0.8}) for a profile.
    """
    rows = vtrain_rows()
    mask = rows.is_fit
    scale = np.array([START[n] for n in FIT_NAMES])
    lo = np.array([BOUNDS[n][0] for n in FIT_NAMES]) / scale
    hi = np.array([BOUNDS[n][1] for n in FIT_NAMES]) / scale

    def params(z: np.ndarray) -> PerfParams:
        base = calibrated_a100(dict(zip(FIT_NAMES, map(float, z * scale), strict=True)))
        return replace(base, **dict(fixed or {}))  # type: ignore[arg-type]

    def residuals(z: np.ndarray) -> np.ndarray:
        pred = vtrain_predictions(params(z))
        return np.log(pred[mask] / rows.step_time_s[mask])

    sol = least_squares(residuals, np.ones(len(FIT_NAMES)), bounds=(lo, hi), x_scale="jac")
    values = dict(zip(FIT_NAMES, map(float, sol.x * scale), strict=True))
    err_fit, err_held = _errors(vtrain_predictions(params(sol.x)))
    return values, err_fit, err_held


def profile(name: str, values: list[float]) -> list[tuple[float, float, float]]:
    """Refit with a cited parameter pinned at each value: (value, fit MAPE, held-out MAPE)."""
    return [(v, *fit({name: v})[1:]) for v in values]


def fit_sustained_fraction(
    grid: list[float],
) -> list[tuple[float, dict[str, float], float, float, float, float]]:
    """For each sustained fraction of the cited MAMF, refit the vTrain parameters, then score
    Narayanan et al. 2021 Table 1: (fraction, vTrain values, vTrain held-out MAPE, Table 1 fit-row
    mean |log error|, fit-row MAPE, held-out-row MAPE). The shipped fraction is the grid point
    with the smallest fit-row log error."""
    out = []
    for f in grid:
        eff = reference_gemm_efficiency().fraction * f
        values, _, err_held = fit({"gemm_efficiency": eff})
        params = replace(calibrated_a100(values), gemm_efficiency=eff)
        measured = np.array([megatron_step_time_s(r) for r in megatron_rows()])
        predicted = np.array([p.step_time_s for p in megatron_predictions(params)])
        in_fit = np.array([i in MEGATRON_FIT_ROWS for i in range(len(measured))])
        ratio = predicted / measured
        log_err = float(np.mean(np.abs(np.log(ratio[in_fit]))))
        m_fit, m_held = (float(np.mean(np.abs(ratio[sel] - 1) * 100)) for sel in (in_fit, ~in_fit))
        out.append((f, values, err_held, log_err, m_fit, m_held))
    return out


def main() -> None:
    values, err_fit, err_held = fit()
    shipped_fit, shipped_held = _errors(vtrain_predictions())
    print("vTrain A100 calibration (fit half: seeded permutation within each GPU count)")
    for name in FIT_NAMES:
        print(f"  {name:24s} {values[name]:.4g}   (shipped {FITTED_A100[name]:.4g})")
    print(f"  MAPE fit {100 * err_fit:.2f}%  held-out {100 * err_held:.2f}%")
    print(f"  shipped table: MAPE fit {100 * shipped_fit:.2f}%  held-out {100 * shipped_held:.2f}%")
    print("Profiles of the cited parameters (refit of the others at each pinned value):")
    for name, grid in (
        ("gemm_efficiency", [0.7, 0.8, 0.859, 0.95, 1.0]),
        ("comm_efficiency", [0.6, 0.78, 1.0]),
    ):
        for v, ef, eh in profile(name, grid):
            print(f"  {name}={v:<6g} MAPE fit {100 * ef:.2f}%  held-out {100 * eh:.2f}%")
    print(
        f"Sustained fraction of the cited MAMF (shipped {SUSTAINED_MAMF_FRACTION}), Table 1 rows 1,3,5,7,9 fit:"
    )
    scores = fit_sustained_fraction([round(0.70 + 0.02 * i, 2) for i in range(16)])
    for f, _, held, log_err, m_fit, m_held in scores:
        print(
            f"  {f:.2f}: vTrain held-out {100 * held:.2f}%, Table 1 fit rows |log err| {log_err:.4f} "
            f"(MAPE {m_fit:.2f}%), held-out rows MAPE {m_held:.2f}%"
        )
    best = min(scores, key=lambda t: t[3])
    print(f"SUSTAINED_MAMF_FRACTION = {best[0]}")
    values = best[1]
    print("FITTED_A100 = {  # refit at that fraction")
    for name in FIT_NAMES:
        print(f'    "{name}": {values[name]:.3g},')
    print("}")


if __name__ == "__main__":
    main()
