"""Scenarios side by side: every result of each, with its ratio to the first scenario's."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..chain import estimate
from ..errors import ScenarioError
from ..result import RESULT_ORDER, Estimate


@dataclass(frozen=True)
class Comparison:
    """Estimates of several scenarios, in the order given. The first is the base of the ratios."""

    estimates: tuple[Estimate, ...]

    def keys(self) -> list[str]:
        """Result keys of any scenario, in chain order."""
        seen = {k for e in self.estimates for k in e.results}
        return [k for k in RESULT_ORDER if k in seen] + sorted(seen - set(RESULT_ORDER))

    def value(self, i: int, key: str) -> float | None:
        e = self.estimates[i]
        return e.value(key) if key in e.results else None

    def ratio(self, i: int, key: str) -> float | None:
        """Scenario i's value over the first scenario's (None when either lacks it or the base is 0)."""
        a, b = self.value(i, key), self.value(0, key)
        return None if a is None or not b else a / b

    def to_dict(self) -> dict[str, Any]:
        """`truecost compare --json`: {"scenarios": [<estimate JSON>, ...]}."""
        return {"scenarios": [e.to_dict() for e in self.estimates]}


def compare(
    sources: Sequence[str | Path | dict[str, Any]],
    samples: int | None = None,
    seed: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Comparison:
    """Run each scenario through the chain (same samples and seed for each)."""
    if len(sources) < 2:
        raise ScenarioError("compare needs at least two scenarios", field="scenarios")
    return Comparison(tuple(estimate(s, samples=samples, seed=seed, progress=progress) for s in sources))
