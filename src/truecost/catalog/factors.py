"""Per-accelerator ownership factors (`data/ownership_factors.csv`): server-to-chip power, average
power utilisation, server overhead over a chip price, catalog prices that already include the
server, straight-line lives by accelerator generation (hyperscaler accounting lives in force when
the generation was deployed, server_lifetimes.md sec. 2), and the `epoch_*` values Epoch AI's method
uses where they differ from the general ones. Each row has its value, unit, source and access date;
adding an accelerator is adding rows.

A row's `accelerator` is an id, or a pattern (`tpu*`, `*`) that applies to every accelerator
without a more specific row; the first match in file order wins, exact ids before patterns.

>>> factor("h800", "server_to_chip_power").value
1.82
>>> factor("tpu-v5p", "power_utilisation").value
0.43
>>> factor("v100", "life_years").value, factor("a100-sxm4-80gb", "life_years").value, factor("h100-sxm", "life_years").value
(3.0, 4.0, 5.0)
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

from ..defaults import Cited
from .data_files import data_text

FACTORS_FILE = "ownership_factors.csv"
FACTORS = (
    "server_to_chip_power",
    "power_utilisation",
    "chip_server_overhead",
    "catalog_price_server_overhead",
    "life_years",
    "epoch_server_overhead",
    "epoch_chip_power_w",
    "epoch_server_to_chip_power",
    "epoch_power_utilisation",
)


@cache
def _rows() -> tuple[tuple[str, str, Cited], ...]:
    text = data_text(FACTORS_FILE)
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


def epoch_factor(accelerator_id: str, name: str) -> Cited | None:
    """Epoch AI's own value of a factor (`epoch_<name>` rows), else the general row: the
    `ownership.method: epoch` setting reads only these.

    >>> epoch_factor("tpu-v4", "power_utilisation").value, factor("tpu-v4", "power_utilisation").value
    (0.43, 1.0)
    """
    own = f"epoch_{name}"
    if own in FACTORS and (c := factor(accelerator_id, own)) is not None:
        return c
    return factor(accelerator_id, name) if name in FACTORS else None


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
