"""Per-accelerator tables of the step-time model: the achievable fraction of peak of a large GEMM.

`data/gemm_efficiency.csv` holds one row per (accelerator, precision) with the achieved and the
peak TFLOPS as the source publishes them, a `source` and an `accessed` date. Adding an
accelerator is adding rows; one without a row keeps the reference (A100) fraction of peak, a
stated assumption of `truecost.stages.perf.params.params_for`.

>>> row = gemm_efficiency("h100-sxm", "bf16")
>>> round(row.fraction, 4), row.achieved_tflops, row.peak_tflops
(0.8009, 792.1, 989.0)
>>> gemm_efficiency("v100", "bf16") is None
True
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from functools import cache

from .data_files import data_text
from .loaders import PRECISIONS, CatalogError

GEMM_EFFICIENCY_FILE = "gemm_efficiency.csv"
_COLUMNS = ("accelerator", "precision", "achieved_tflops", "peak_tflops", "source", "accessed", "notes")


@dataclass(frozen=True)
class GemmEfficiency:
    """Best large-GEMM throughput measured on one accelerator at one precision.

    achieved_tflops : measured maximum achievable matmul throughput. [TFLOP/s]
    peak_tflops : the dense peak it is a fraction of, as the source states it. [TFLOP/s]
    """

    accelerator: str
    precision: str
    achieved_tflops: float
    peak_tflops: float
    source: str
    accessed: str
    notes: str

    @property
    def fraction(self) -> float:
        """achieved / peak. [1]"""
        return self.achieved_tflops / self.peak_tflops


def parse_gemm_efficiency(text: str, where: str = GEMM_EFFICIENCY_FILE) -> tuple[GemmEfficiency, ...]:
    """Check and read a GEMM-efficiency table; raises CatalogError naming the row and column."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in _COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise CatalogError(f"{where}: missing columns {', '.join(missing)}")
    rows: list[GemmEfficiency] = []
    seen: set[tuple[str, str]] = set()
    for i, r in enumerate(reader, start=2):
        at = f"{where} line {i}"
        for col in ("accelerator", "precision", "source", "accessed"):
            if not (r[col] or "").strip():
                raise CatalogError(f"{at}: column {col!r} is empty")
        if r["precision"] not in PRECISIONS:
            raise CatalogError(f"{at}: precision {r['precision']!r} is not one of {', '.join(PRECISIONS)}")
        try:
            dt.date.fromisoformat(r["accessed"])
        except ValueError:
            raise CatalogError(f"{at}: accessed {r['accessed']!r} is not an ISO date") from None
        values = {}
        for col in ("achieved_tflops", "peak_tflops"):
            try:
                values[col] = float(r[col])
            except ValueError:
                raise CatalogError(f"{at}: column {col!r} is not a number: {r[col]!r}") from None
            if not values[col] > 0:
                raise CatalogError(f"{at}: column {col!r} must be positive, got {r[col]}")
        if values["achieved_tflops"] > values["peak_tflops"]:
            raise CatalogError(f"{at}: achieved_tflops exceeds peak_tflops")
        key = (r["accelerator"], r["precision"])
        if key in seen:
            raise CatalogError(f"{at}: duplicate row for {key[0]} {key[1]}")
        seen.add(key)
        rows.append(
            GemmEfficiency(
                accelerator=r["accelerator"],
                precision=r["precision"],
                source=r["source"],
                accessed=r["accessed"],
                notes=r["notes"] or "",
                **values,
            )
        )
    return tuple(rows)


@cache
def gemm_efficiency_table() -> tuple[GemmEfficiency, ...]:
    """Every row of the shipped `data/gemm_efficiency.csv`."""
    text = data_text(GEMM_EFFICIENCY_FILE)
    return parse_gemm_efficiency(text)


def gemm_efficiency(accelerator_id: str, precision: str) -> GemmEfficiency | None:
    """The row for an accelerator and precision, or None when nobody measured it."""
    for row in gemm_efficiency_table():
        if row.accelerator == accelerator_id and row.precision == precision:
            return row
    return None
