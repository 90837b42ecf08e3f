"""Fitted parameters written by calibration commands and read by the model, one CSV per layer:

- `data/realized_efficiency.csv`: the realized-efficiency layer, written by
  `python -m truecost.analysis.calibrate_realized --write`;
- `data/perf_calibration.csv`: the step-time physics' fitted A100 constants and their held-out
  errors, written by `python -m truecost.stages.perf.calibrate --write`.

Each row names the data it was fitted on (`source`) and the fit date (`accessed`); a test refits
them and compares.

>>> 0.5 < realized_parameter("realized_efficiency").value <= 1.0
True
>>> perf_parameter("sustained_mamf_fraction").value
0.8
"""

from __future__ import annotations

import csv
import io
from functools import cache

from ..defaults import Cited
from .data_files import data_path, data_text

REALIZED_FILE = "realized_efficiency.csv"
PERF_FILE = "perf_calibration.csv"
REALIZED_COLUMNS = ("parameter", "value", "unit", "source", "accessed", "notes")
FITTED_COLUMNS = REALIZED_COLUMNS


def _path(file: str) -> str:
    return data_path(file)


def realized_path() -> str:
    return _path(REALIZED_FILE)


def perf_path() -> str:
    return _path(PERF_FILE)


@cache
def _rows(file: str) -> dict[str, Cited]:
    text = data_text(file)
    out: dict[str, Cited] = {}
    for i, r in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        if not r["source"].strip() or not r["accessed"].strip():
            raise ValueError(f"{file} line {i}: every row needs a source and an accessed date")
        out[r["parameter"]] = Cited(float(r["value"]), r["unit"], r["source"], r["accessed"])
    return out


def _get(file: str, what: str, name: str) -> Cited:
    rows = _rows(file)
    if name not in rows:
        raise ValueError(f"unknown {what} parameter {name!r}; valid: {', '.join(rows)}")
    return rows[name]


def realized_parameter(name: str) -> Cited:
    """One fitted parameter; an unknown name raises ValueError listing the valid ones."""
    return _get(REALIZED_FILE, "realized-efficiency", name)


def realized_parameters() -> dict[str, Cited]:
    return dict(_rows(REALIZED_FILE))


def perf_parameter(name: str) -> Cited:
    """One fitted step-time parameter (or held-out error); an unknown name raises ValueError."""
    return _get(PERF_FILE, "perf calibration", name)


def perf_parameters() -> dict[str, Cited]:
    return dict(_rows(PERF_FILE))
