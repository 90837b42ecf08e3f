"""Which assumptions matter most for a point estimate: each numeric input moved by +-10%, one at
a time, and the change in the deepest cost the scenario reaches (an elasticity).

Cheap (two passes of the chain per input, ~5 ms each) and needs no distributions, so every
estimate can list the assumptions worth checking first.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..chain import Path_, inject, prepare, run_stages
from .sensitivity import PREFERRED_OUTPUTS

STEP = 0.10  # relative move of each input
_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def field_path(field: str) -> Path_:
    """'fleet[1].ownership.server_overhead' -> ('fleet', 1, 'ownership', 'server_overhead').

    >>> field_path("lab.staff[0].count")
    ('lab', 'staff', 0, 'count')
    """
    return tuple(int(i) if i else name for name, i in _PART.findall(field))


@dataclass(frozen=True)
class Ranked:
    """One assumption with the relative change of `output` when it moves by +-10%."""

    name: str
    value: Any
    unit: str
    source: str
    field: str
    elasticity: float  # (output at +10% - output at -10%) / (0.2 x output) [1]

    def change_text(self) -> str:
        """How much the output moves when this input moves by STEP (10%), e.g. '+3.2%'."""
        return f"{self.elasticity * 10:+.1f}%"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "unit": self.unit,
            "source": self.source,
            "field": self.field,
            "elasticity": self.elasticity,
        }


def default_output(results: Mapping[str, Any]) -> str | None:
    return next((k for k in PREFERRED_OUTPUTS if k in results), None)


def rank_assumptions(
    source: Any, assumptions: Sequence[Mapping[str, Any]], output: str | None = None
) -> tuple[str | None, list[Ranked]]:
    """(output explained, numeric assumptions by |elasticity|, largest first).

    source : the scenario (preset name, YAML path or dict) the assumptions came from.
    Inputs that cannot move (text, layout, or a section the scenario lacks) are left out.
    """
    prep = prepare(source)
    base = run_stages(prep.scenario)
    results = base.quantities()
    output = output or default_output(results)
    if output is None or output not in results:
        return None, []
    y0 = float(np.asarray(results[output], dtype=float))
    if y0 == 0 or not np.isfinite(y0):
        return output, []
    out: list[Ranked] = []
    seen: set[str] = set()
    for a in assumptions:
        field, v = str(a.get("field") or ""), a.get("value")
        if not field or field in seen or isinstance(v, bool) or not isinstance(v, int | float):
            continue
        seen.add(field)
        ys = []
        for k in (1 - STEP, 1 + STEP):
            try:
                scn = inject(prep.scenario, field_path(field), float(v) * k)
                got = run_stages(scn, point=False, known=base).quantities().get(output)
                ys.append(float(np.asarray(got, dtype=float)))
            except Exception:  # an input the chain cannot move alone (a layout, an absent section)
                break
        if len(ys) != 2 or not all(np.isfinite(ys)):
            continue
        e = (ys[1] - ys[0]) / (2 * STEP * y0)
        out.append(Ranked(str(a["name"]), v, str(a.get("unit", "")), str(a.get("source", "")), field, e))
    out.sort(key=lambda r: -abs(r.elasticity))
    return output, out
