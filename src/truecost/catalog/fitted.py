"""Fitted parameters of the realized-efficiency layer (`data/realized_efficiency.csv`), written by
`python -m truecost.analysis.calibrate_realized --write` and read by the perf stage. Each row
names the data it was fitted on; a test refits them and compares.

>>> 0.5 < realized_parameter("realized_efficiency").value <= 1.0
True
"""

from __future__ import annotations

import csv
import io
from functools import cache
from importlib import resources

from ..defaults import Cited

REALIZED_FILE = "realized_efficiency.csv"
REALIZED_COLUMNS = ("parameter", "value", "unit", "source", "accessed", "notes")


def realized_path() -> str:
    return str(resources.files("truecost.catalog").joinpath("data", REALIZED_FILE))


@cache
def _rows() -> dict[str, Cited]:
    text = resources.files("truecost.catalog").joinpath("data", REALIZED_FILE).read_text()
    out: dict[str, Cited] = {}
    for i, r in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        if not r["source"].strip() or not r["accessed"].strip():
            raise ValueError(f"{REALIZED_FILE} line {i}: every row needs a source and an accessed date")
        out[r["parameter"]] = Cited(float(r["value"]), r["unit"], r["source"], r["accessed"])
    return out


def realized_parameter(name: str) -> Cited:
    """One fitted parameter; an unknown name raises ValueError listing the valid ones."""
    rows = _rows()
    if name not in rows:
        raise ValueError(f"unknown realized-efficiency parameter {name!r}; valid: {', '.join(rows)}")
    return rows[name]


def realized_parameters() -> dict[str, Cited]:
    return dict(_rows())
