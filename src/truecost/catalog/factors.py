"""Per-accelerator ownership factors (`data/ownership_factors.csv`): server-to-chip power, average
power utilisation, server overhead over a chip price, and catalog prices that already include the
server. Each row has its value, unit, source and access date; adding an accelerator is adding rows.

A row's `accelerator` is an id, or a pattern (`tpu*`, `*`) that applies to every accelerator
without a more specific row; the first match in file order wins, exact ids before patterns.

>>> factor("h800", "server_to_chip_power").value
1.82
>>> factor("tpu-v4", "power_utilisation").value
0.43
>>> factor("b200", "catalog_price_server_overhead").value
1.0
>>> factor("v100", "catalog_price_server_overhead") is None
True
"""

from __future__ import annotations

import csv
import io
from fnmatch import fnmatchcase
from functools import cache
from importlib import resources

from ..defaults import Cited

FACTORS_FILE = "ownership_factors.csv"
FACTORS = (
    "server_to_chip_power",
    "power_utilisation",
    "chip_server_overhead",
    "catalog_price_server_overhead",
)


@cache
def _rows() -> tuple[tuple[str, str, Cited], ...]:
    text = resources.files("truecost.catalog").joinpath("data", FACTORS_FILE).read_text()
    out = []
    for i, r in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        if r["factor"] not in FACTORS:
            raise ValueError(f"{FACTORS_FILE} line {i}: unknown factor {r['factor']!r}; valid: {FACTORS}")
        if not r["source"].strip() or not r["accessed"].strip():
            raise ValueError(f"{FACTORS_FILE} line {i}: every row needs a source and an accessed date")
        out.append(
            (r["accelerator"], r["factor"], Cited(float(r["value"]), r["unit"], r["source"], r["accessed"]))
        )
    return tuple(out)


def factor(accelerator_id: str, name: str) -> Cited | None:
    """The cited factor for an accelerator: its own row, else the first matching pattern row;
    None when no row applies."""
    if name not in FACTORS:
        raise ValueError(f"unknown factor {name!r}; valid: {', '.join(FACTORS)}")
    rows = [(acc, c) for acc, f, c in _rows() if f == name]
    for acc, c in rows:
        if acc == accelerator_id:
            return c
    for acc, c in rows:
        if any(ch in acc for ch in "*?[") and fnmatchcase(accelerator_id, acc):
            return c
    return None


def factor_rows() -> list[dict[str, object]]:
    """Every row, for `truecost catalog` and the schema test."""
    return [
        {
            "accelerator": acc,
            "factor": f,
            "value": c.value,
            "unit": c.unit,
            "source": c.source,
            "accessed": c.accessed,
        }
        for acc, f, c in _rows()
    ]
