"""The mutable accumulator the chain passes from stage to stage.

Stage *formulas* are pure functions in their modules; a stage's glue reads the scenario and what
earlier stages put here, calls its formulas, and records results (with unit and formula),
assumptions (with source) and warnings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .defaults import Cited


@dataclass
class Assumption:
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


@dataclass
class ChainState:
    scenario: Any  # truecost.scenario.Scenario (Any: avoids an import cycle)
    point: bool = True  # False while running Monte Carlo chunks: no warnings, no details
    results: dict[str, Any] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    formulas: dict[str, str] = field(default_factory=dict)
    assumptions: list[Assumption] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    cache: dict[str, Any] = field(default_factory=dict)  # point-run values reused by MC chunks

    def put(self, key: str, value: Any, unit: str, formula: str = "") -> None:
        self.results[key] = value
        self.units[key] = unit
        if formula:
            self.formulas[key] = formula

    def get(self, key: str, default: Any = None) -> Any:
        return self.results.get(key, default)

    def assume(
        self, name: str, value: Any, unit: str, source: str, field: str = "", accessed: str = ""
    ) -> None:
        if not self.point:
            return
        for a in self.assumptions:
            if a.name == name:
                return
        if source == "scenario input" and field:
            cited = getattr(self.scenario, "input_sources", {}).get(field)
            source = f"scenario input; {cited}" if cited else source
        self.assumptions.append(Assumption(name, value, unit, source, field, accessed))

    def cited(self, name: str, given: Any, default: Cited, field: str, given_source: str = "") -> Any:
        """The user's value when given (source: the scenario), else the cited default; either way
        recorded as an assumption."""
        if given is not None:
            self.assume(name, given, default.unit, given_source or "scenario input", field)
            return given
        self.assume(name, default.value, default.unit, default.source, field, default.accessed)
        return default.value

    def warn(self, message: str) -> None:
        if self.point and message not in self.warnings:
            self.warnings.append(message)

    def detail(self, key: str, value: Any) -> None:
        if self.point:
            self.details[key] = value
