"""What every stage returns: a frozen, typed result with a unit on every quantity, plus the
assumptions (each with its source) and warnings the stage recorded.

A stage is `stage(inputs, upstream..., *, point=True) -> <Stage>Result`. It takes its section of
the scenario (from `truecost.scenario`) and the results of earlier stages as arguments, records
what it assumed in a `Notes` of its own, and returns a result; it never reads a later stage's
input and holds no state shared with other stages. `point=False` (Monte Carlo chunks) skips the
explanatory extras, which are computed once at the point values.

>>> from dataclasses import dataclass
>>> @dataclass(frozen=True, kw_only=True)
... class DemoResult(StageResult):
...     cost_usd: float | None = quantity("USD", "price x hours")
>>> r = DemoResult(cost_usd=5.0)
>>> r.quantities(), r.units(), r.formulas_()
({'cost_usd': 5.0}, {'cost_usd': 'USD'}, {'cost_usd': 'price x hours'})
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from ..defaults import Cited


def quantity(unit: str, formula: str = "") -> Any:
    """A result field: its unit and (default) formula live in the field's metadata; None = not
    computed by this scenario."""
    return field(default=None, metadata={"unit": unit, "formula": formula})


@dataclass(frozen=True)
class Assumption:
    """One input the chain used: value, unit, source, and the scenario field that sets it."""

    name: str
    value: Any
    unit: str
    source: str
    field: str = ""  # scenario field that sets it, when a user can override it
    accessed: str = ""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "value": _plain(self.value),
            "unit": self.unit,
            "source": self.source,
        }
        if self.field:
            out["field"] = self.field
        if self.accessed:
            out["accessed"] = self.accessed
        return out


def _plain(v: Any) -> Any:
    if isinstance(v, np.ndarray):
        return float(np.median(v)) if v.size else None
    if isinstance(v, np.generic):
        return v.item()
    return v


class Notes:
    """The assumptions and warnings of one stage call (each stage makes its own; nothing shared).

    With `point=False` (Monte Carlo chunks) nothing is recorded: the point run lists them once.
    """

    def __init__(self, point: bool = True) -> None:
        self.point = point
        self._assumptions: dict[str, Assumption] = {}
        self._warnings: list[str] = []

    def assume(
        self, name: str, value: Any, unit: str, source: str, field: str = "", accessed: str = ""
    ) -> None:
        if self.point and name not in self._assumptions:
            self._assumptions[name] = Assumption(name, value, unit, source, field, accessed)

    def cited(self, name: str, given: Any, default: Cited, field: str, given_source: str = "") -> Any:
        """The user's value when given (source: the scenario), else the cited default; either way
        recorded as an assumption."""
        if given is not None:
            self.assume(name, given, default.unit, given_source or "scenario input", field)
            return given
        self.assume(name, default.value, default.unit, default.source, field, default.accessed)
        return default.value

    def warn(self, message: str) -> None:
        if self.point and message not in self._warnings:
            self._warnings.append(message)

    @property
    def assumptions(self) -> tuple[Assumption, ...]:
        return tuple(self._assumptions.values())

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(self._warnings)

    def extend(self, other: Notes | StageResult) -> None:
        """Take over what a helper or an inner stage recorded (e.g. the owned-cost inputs of one
        fleet pool, the energy stage inside the run stage)."""
        for a in other.assumptions:
            self.assume(a.name, a.value, a.unit, a.source, a.field, a.accessed)
        for w in other.warnings:
            self.warn(w)


@dataclass(frozen=True, kw_only=True)
class StageResult:
    """Base of every stage's result. Subclasses declare their quantities with `quantity(unit)`.

    formulas : the formula of each quantity where it depends on the path taken (overrides the
        field's default formula).
    assumptions, warnings : what the stage recorded (empty in Monte Carlo chunks).
    """

    formulas: Mapping[str, str] = field(default_factory=dict)
    assumptions: tuple[Assumption, ...] = ()
    warnings: tuple[str, ...] = ()

    @classmethod
    def quantity_fields(cls) -> list[str]:
        return [f.name for f in fields(cls) if "unit" in f.metadata]

    def quantities(self) -> dict[str, Any]:
        """Computed quantities by name (None = not computed: left out)."""
        return {k: v for k in self.quantity_fields() if (v := getattr(self, k)) is not None}

    def units(self) -> dict[str, str]:
        meta = {f.name: f.metadata for f in fields(self)}
        return {k: str(meta[k]["unit"]) for k in self.quantities()}

    def formulas_(self) -> dict[str, str]:
        meta = {f.name: f.metadata for f in fields(self)}
        out = {}
        for k in self.quantities():
            text = self.formulas.get(k) or str(meta[k].get("formula", ""))
            if text:
                out[k] = text
        return out
