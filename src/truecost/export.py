"""An estimate as CSV: one row per result (with its formula) and per assumption (with its source).

>>> import truecost
>>> text = to_csv(truecost.estimate("gpt-3"))
>>> text.splitlines()[0]
'section,name,value,p5,p50,p95,mean,unit,source'
"""

from __future__ import annotations

import csv
import io
from typing import Any

from .result import Estimate

COLUMNS = ("section", "name", "value", "p5", "p50", "p95", "mean", "unit", "source")


def _num(x: Any) -> Any:
    return "" if x is None else x


def to_csv(est: Estimate) -> str:
    """Results then assumptions. `value` is the point estimate; p5..mean are filled with samples."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    for k, v in est.results.items():
        point = est.point.get(k, v if not isinstance(v, dict) else None)
        qs = [v.get(q) for q in ("p5", "p50", "p95", "mean")] if isinstance(v, dict) else [""] * 4
        w.writerow(["result", k, _num(point), *map(_num, qs), est.units.get(k, ""), est.formulas.get(k, "")])
    for a in est.assumptions:
        val = a.get("value")
        w.writerow(
            [
                "assumption",
                a.get("name", ""),
                _num(val),
                "",
                "",
                "",
                "",
                a.get("unit", ""),
                a.get("source", ""),
            ]
        )
    return buf.getvalue()
