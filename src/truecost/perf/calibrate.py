"""Refit the A100 parameters on the 'fit' half of the vTrain measurements.

Run ``python -m truecost.perf.calibrate`` (or ``python bench/calibrate_perf.py``). It prints the
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

from .datasets import vtrain_rows
from .params import FITTED_A100, PerfParams, calibrated_a100
from .validation import vtrain_predictions

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
    print("FITTED_A100 = {")
    for name in FIT_NAMES:
        print(f'    "{name}": {values[name]:.3g},')
    print("}")


if __name__ == "__main__":
    main()
