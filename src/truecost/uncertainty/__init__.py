"""Uncertain scenario inputs: distribution specs, Monte Carlo draws and summaries.

Any numeric leaf of a scenario may be a distribution spec instead of a number (DESIGN.md,
"Uncertainty"):

- ``{ci90: [low, high]}``: lognormal whose 5th and 95th percentiles are ``low`` and ``high``.
- ``{dist: lognormal, p5: a, p95: b}``: the same family, spelled out.
- ``{dist: uniform, low: a, high: b}``
- ``{dist: triangular, low: a, mode: m, high: b}``
- ``{dist: normal, mean: m, sd: s}``: truncated to ``[0, inf)`` unless told otherwise (optional
  ``min`` / ``max``; ``truncate: false`` lifts the default lower bound of 0), because the
  quantities priced here (hours, prices, efficiencies) cannot be negative.
- ``{choice: [a, b, c], weights: [wa, wb, wc]}``: discrete; weights optional.

Each input is drawn once per trial, into one array that every use of that input shares, so
``a - a == 0`` holds trial by trial (squigglepy re-samples a reused input; STYLE.md item 7).

>>> d = parse_distribution({"ci90": [1.2, 4]}, ("cluster", "mfu"))
>>> d.describe()
'lognormal, 90% CI 1.2-4'
>>> [round(v, 12) for v in d.low_high()]
[1.2, 4.0]
>>> values = draw({("a",): d}, 5, np.random.default_rng(0))
>>> bool(np.all(values[("a",)] - values[("a",)] == 0))
True
"""

from __future__ import annotations

import hashlib
import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any, ClassVar, overload

import numpy as np

from ..errors import path_str


class _Special:
    """scipy.special's ndtr/ndtri, imported on first array use (scipy costs ~0.25 s to import,
    a third of a CLI run); plain floats go through the standard library's NormalDist."""

    _std = NormalDist()

    def ndtri(self, q: Any) -> Any:
        if np.ndim(q) == 0:
            qf = float(q)
            if 0.0 < qf < 1.0:
                return self._std.inv_cdf(qf)
            return -math.inf if qf == 0.0 else (math.inf if qf == 1.0 else math.nan)
        from scipy import special as sp

        return sp.ndtri(q)

    def ndtr(self, x: Any) -> Any:
        if np.ndim(x) == 0:
            return 0.5 * math.erfc(-float(x) / math.sqrt(2.0))  # as scipy's ndtr computes it
        from scipy import special as sp

        return sp.ndtr(x)


special = _Special()

__all__ = [
    "path_str",
    "DIST_KEYS",
    "DISTRIBUTIONS",
    "Choice",
    "Distribution",
    "DistributionError",
    "FieldPath",
    "LogNormal",
    "Normal",
    "Triangular",
    "Uniform",
    "at_quantile",
    "BYTES_PER_OUTPUT_TRIAL",
    "available_memory_bytes",
    "max_samples",
    "draw",
    "find_distributions",
    "input_streams",
    "is_distribution_spec",
    "iter_chunks",
    "medians",
    "parse_distribution",
    "path_str",
    "sorted_paths",
    "substitute",
    "summarize",
    "summarize_extended",
]

FieldPath = tuple[str | int, ...]
"""Where a leaf sits in a scenario: mapping keys and list indices, e.g. ``("fleet", 0, "unit_price_usd")``."""

DIST_KEYS = frozenset({"ci90", "dist", "choice"})
"""A mapping with any of these keys is a distribution spec, not a nested scenario section."""

DEFAULT_CHUNK = 250_000

# Standard normal 95th percentile: a lognormal's 90% interval is exp(mu +- Z95 * sigma).
Z95 = 1.6448536269514722  # scipy.special.ndtri(0.95)


class DistributionError(ValueError):
    """A distribution spec that cannot be parsed; the message names the field path."""

    def __init__(self, message: str, path: FieldPath | None = None):
        super().__init__(message)
        self.path = path


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def _span(low: float, high: float) -> str:
    # "1.2-4" reads well; with a negative bound a hyphen would be ambiguous.
    return f"{_fmt(low)}-{_fmt(high)}" if low >= 0 else f"{_fmt(low)} to {_fmt(high)}"


# --------------------------------------------------------------------------------------------
# Distributions
# --------------------------------------------------------------------------------------------


class Distribution(ABC):
    """One uncertain scalar input. Subclasses are frozen dataclasses.

    ``sample`` draws float64 arrays from a ``numpy.random.Generator``; ``ppf`` is the inverse
    CDF (vectorised; ``ppf(0)`` / ``ppf(1)`` are the support bounds and may be infinite);
    ``to_spec`` gives back a spec that ``parse_distribution`` turns into an equal object.
    """

    kind: ClassVar[str]

    @abstractmethod
    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` independent draws, float64, shape ``(n,)``."""

    @abstractmethod
    def _ppf(self, q: np.ndarray) -> np.ndarray: ...

    @abstractmethod
    def describe(self) -> str:
        """One line for reports, e.g. ``'lognormal, 90% CI 1.2-4'``."""

    @abstractmethod
    def to_spec(self) -> dict[str, Any]:
        """The scenario spec of this distribution (plain floats, JSON/YAML safe)."""

    @overload
    def ppf(self, q: float) -> float: ...

    @overload
    def ppf(self, q: np.ndarray) -> np.ndarray: ...

    def ppf(self, q: float | np.ndarray) -> float | np.ndarray:
        """Inverse CDF at ``q`` in [0, 1]: a float for a scalar, an array for an array."""
        qa = np.asarray(q, dtype=np.float64)
        if np.any((qa < 0) | (qa > 1)) or np.any(np.isnan(qa)):
            raise ValueError(f"q must lie in [0, 1], got {q!r}")
        out = np.asarray(self._ppf(qa), dtype=np.float64)
        return float(out) if out.ndim == 0 else out

    @property
    def median(self) -> float:
        """``ppf(0.5)``; the point-estimate value of this input."""
        return self.ppf(0.5)

    def low_high(self, q: float = 0.05) -> tuple[float, float]:
        """``(ppf(q), ppf(1 - q))``: by default the 5th and 95th percentiles."""
        if not 0 < q < 0.5:
            raise ValueError(f"q must lie in (0, 0.5), got {q!r}")
        return self.ppf(q), self.ppf(1.0 - q)


@dataclass(frozen=True)
class LogNormal(Distribution):
    """Lognormal given by its 5th and 95th percentiles (``{ci90: [p5, p95]}``). [input unit]"""

    p5: float
    p95: float
    kind: ClassVar[str] = "lognormal"

    def __post_init__(self) -> None:
        if not (math.isfinite(self.p5) and math.isfinite(self.p95) and 0 < self.p5 < self.p95):
            raise DistributionError(f"ci90 needs 0 < low < high, got [{self.p5:.6g}, {self.p95:.6g}]")

    @property
    def mu(self) -> float:
        """Mean of the log. [ln(input unit)]"""
        return 0.5 * (math.log(self.p5) + math.log(self.p95))

    @property
    def sigma(self) -> float:
        """Standard deviation of the log. [1]"""
        return (math.log(self.p95) - math.log(self.p5)) / (2.0 * Z95)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        z = rng.standard_normal(n)
        z *= self.sigma
        z += self.mu
        return np.exp(z, out=z)

    def _ppf(self, q: np.ndarray) -> np.ndarray:
        # Written around the midpoint so ppf(0.05) and ppf(0.95) land on p5 and p95 to rounding.
        return np.exp(self.mu + 0.5 * (math.log(self.p95) - math.log(self.p5)) * (special.ndtri(q) / Z95))

    def describe(self) -> str:
        return f"lognormal, 90% CI {_span(self.p5, self.p95)}"

    def to_spec(self) -> dict[str, Any]:
        return {"ci90": [self.p5, self.p95]}


@dataclass(frozen=True)
class Uniform(Distribution):
    """Uniform on ``[low, high]``. [input unit]"""

    low: float
    high: float
    kind: ClassVar[str] = "uniform"

    def __post_init__(self) -> None:
        if not self.low < self.high:
            raise DistributionError(f"uniform needs low < high, got low={self.low:.6g}, high={self.high:.6g}")

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.uniform(self.low, self.high, n)

    def _ppf(self, q: np.ndarray) -> np.ndarray:
        return np.clip(self.low + q * (self.high - self.low), self.low, self.high)

    def describe(self) -> str:
        return f"uniform {_span(self.low, self.high)}"

    def to_spec(self) -> dict[str, Any]:
        return {"dist": "uniform", "low": self.low, "high": self.high}


@dataclass(frozen=True)
class Triangular(Distribution):
    """Triangular on ``[low, high]`` peaking at ``mode``. [input unit]"""

    low: float
    mode: float
    high: float
    kind: ClassVar[str] = "triangular"

    def __post_init__(self) -> None:
        if not (self.low <= self.mode <= self.high and self.low < self.high):
            raise DistributionError(
                "triangular needs low <= mode <= high and low < high, "
                f"got low={self.low:.6g}, mode={self.mode:.6g}, high={self.high:.6g}"
            )

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.triangular(self.low, self.mode, self.high, n)

    def _ppf(self, q: np.ndarray) -> np.ndarray:
        width = self.high - self.low
        c = (self.mode - self.low) / width
        left = self.low + np.sqrt(q * width * (self.mode - self.low))
        right = self.high - np.sqrt((1.0 - q) * width * (self.high - self.mode))
        # Clipped: rounding in the square roots can step just outside the support.
        return np.clip(np.where(q < c, left, right), self.low, self.high)

    def describe(self) -> str:
        return f"triangular {_span(self.low, self.high)}, mode {_fmt(self.mode)}"

    def to_spec(self) -> dict[str, Any]:
        return {"dist": "triangular", "low": self.low, "mode": self.mode, "high": self.high}


# A truncation window holding less probability than this is almost surely a typo (mean far
# outside [min, max]) and would make inverse-CDF sampling numerically meaningless.
MIN_TRUNCATED_MASS = 1e-6


@dataclass(frozen=True)
class Normal(Distribution):
    """Normal(mean, sd) truncated to ``[low, high]``; by default ``[0, inf)``. [input unit]

    ``mean`` and ``sd`` are the parameters before truncation; with the default bound the
    truncation only bites when ``mean`` is within a few ``sd`` of zero. ``low=-inf`` (spec
    ``truncate: false``) allows negative values.
    """

    mean: float
    sd: float
    low: float = 0.0
    high: float = math.inf
    kind: ClassVar[str] = "normal"

    def __post_init__(self) -> None:
        if not (math.isfinite(self.mean) and math.isfinite(self.sd)):
            raise DistributionError(f"normal needs a finite mean and sd, got mean={self.mean}, sd={self.sd}")
        if not self.sd > 0:
            raise DistributionError(f"normal needs sd > 0, got sd={self.sd:.6g}")
        if math.isnan(self.low) or math.isnan(self.high) or not self.low < self.high:
            raise DistributionError(f"normal needs min < max, got min={self.low:.6g}, max={self.high:.6g}")
        if self.mass < MIN_TRUNCATED_MASS:
            raise DistributionError(
                f"normal(mean={self.mean:.6g}, sd={self.sd:.6g}) has probability {self.mass:.2g} inside "
                f"[{self.low:.6g}, {self.high:.6g}]; the truncation leaves almost nothing "
                "(use truncate: false to allow negative values)"
            )

    @property
    def truncated(self) -> bool:
        return self.low > -math.inf or self.high < math.inf

    @property
    def _ab(self) -> tuple[float, float]:
        return (self.low - self.mean) / self.sd, (self.high - self.mean) / self.sd

    @property
    def mass(self) -> float:
        """Probability of the untruncated normal inside ``[low, high]``. [1]"""
        a, b = self._ab
        if a > 0:
            return float(special.ndtr(-a) - special.ndtr(-b))
        return float(special.ndtr(b) - special.ndtr(a))

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        if not self.truncated:
            z = rng.standard_normal(n)
            z *= self.sd
            z += self.mean
            return z
        return self._ppf(rng.random(n))

    def _ppf(self, q: np.ndarray) -> np.ndarray:
        a, b = self._ab
        if a > 0:
            # Window entirely above the mean: work in upper-tail probabilities to keep precision.
            sa, sb = special.ndtr(-a), special.ndtr(-b)
            z = -special.ndtri(sa - q * (sa - sb))
        else:
            fa, fb = special.ndtr(a), special.ndtr(b)
            z = special.ndtri(fa + q * (fb - fa))
        x = np.clip(self.mean + self.sd * z, self.low, self.high)
        # The support's ends exactly (rounding in ndtr/ndtri would leave ~1e-17 off them).
        return np.where(q <= 0.0, self.low, np.where(q >= 1.0, self.high, x))

    def describe(self) -> str:
        base = f"normal, mean {_fmt(self.mean)}, sd {_fmt(self.sd)}"
        if not self.truncated:
            return base + ", not truncated"
        return (
            base
            + f", truncated to [{_fmt(self.low)}, {_fmt(self.high)}{']' if self.high < math.inf else ')'}"
        )

    def to_spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = {"dist": "normal", "mean": self.mean, "sd": self.sd}
        if self.low == -math.inf:
            spec["truncate"] = False
        elif self.low != 0.0:
            spec["min"] = self.low
        if self.high < math.inf:
            spec["max"] = self.high
        return spec


@dataclass(frozen=True)
class Choice(Distribution):
    """One of ``values`` with probabilities ``weights`` (normalised; equal when ``None``)."""

    values: tuple[float, ...]
    weights: tuple[float, ...] | None = None
    kind: ClassVar[str] = "choice"

    def __post_init__(self) -> None:
        if len(self.values) == 0:
            raise DistributionError("choice needs at least one value")
        if not all(math.isfinite(v) for v in self.values):
            raise DistributionError(f"choice values must be finite, got {list(self.values)}")
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise DistributionError(
                    f"choice has {len(self.values)} values but {len(self.weights)} weights; "
                    "weights need one per value"
                )
            if not all(math.isfinite(w) and w >= 0 for w in self.weights) or sum(self.weights) <= 0:
                raise DistributionError(
                    f"choice weights must be non-negative with a positive sum, got {list(self.weights)}"
                )

    @property
    def probabilities(self) -> np.ndarray:
        """Normalised weights, aligned with ``values``. [1]"""
        w = np.ones(len(self.values)) if self.weights is None else np.asarray(self.weights, dtype=np.float64)
        return w / w.sum()

    def _sorted_cdf(self) -> tuple[np.ndarray, np.ndarray]:
        values = np.asarray(self.values, dtype=np.float64)
        order = np.argsort(values, kind="stable")
        cdf = np.cumsum(self.probabilities[order])
        cdf[-1] = 1.0  # no rounding gap at the top
        return values[order], cdf

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        values, cdf = self._sorted_cdf()
        return values[np.searchsorted(cdf, rng.random(n), side="right")]

    def _ppf(self, q: np.ndarray) -> np.ndarray:
        # Discrete quantile: the smallest value whose CDF reaches q (rounding slack 1e-12).
        values, cdf = self._sorted_cdf()
        idx = np.searchsorted(cdf, q - 1e-12, side="left")
        return values[np.minimum(idx, len(values) - 1)]

    def describe(self) -> str:
        vals = ", ".join(_fmt(v) for v in self.values)
        if self.weights is None:
            return f"choice of {vals} (equal weights)"
        return f"choice of {vals} (weights {', '.join(_fmt(p) for p in self.probabilities)})"

    def to_spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = {"choice": list(self.values)}
        if self.weights is not None:
            spec["weights"] = list(self.weights)
        return spec


# --------------------------------------------------------------------------------------------
# Parsing specs
# --------------------------------------------------------------------------------------------


def is_distribution_spec(obj: Any) -> bool:
    """Whether a scenario leaf is a distribution spec (a mapping with ci90, dist or choice)."""
    return isinstance(obj, Mapping) and any(k in obj for k in DIST_KEYS)


def _where(path: FieldPath) -> str:
    return path_str(path) or "value"


def _number(value: Any, what: str, path: FieldPath, *, allow_inf: bool = False) -> float:
    # Strings are accepted when they read as a number: PyYAML (YAML 1.1) loads `1e12` without a
    # dot as the string "1e12", a trap for anyone writing {ci90: [1e12, 3e12]}.
    if isinstance(value, bool) or value is None:
        raise DistributionError(f"{_where(path)}: {what} must be a number, got {value!r}", path)
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise DistributionError(f"{_where(path)}: {what} must be a number, got {value!r}", path) from None
    if math.isnan(x) or (math.isinf(x) and not allow_inf):
        raise DistributionError(f"{_where(path)}: {what} must be a finite number, got {value!r}", path)
    return x


def _numbers(value: Any, what: str, path: FieldPath) -> list[float]:
    if isinstance(value, str | bytes | Mapping) or not hasattr(value, "__iter__"):
        raise DistributionError(f"{_where(path)}: {what} must be a list of numbers, got {value!r}", path)
    return [_number(v, f"{what}[{i}]", path) for i, v in enumerate(value)]


PROVENANCE_KEYS = frozenset({"source", "note"})


def _check_keys(
    spec: Mapping[str, Any], path: FieldPath, form: str, required: set[str], optional: set[str]
) -> None:
    # `source` and `note` carry an uncertain input's provenance (STYLE.md items 5-6); the chain
    # shows them with the distribution in the assumptions.
    keys = set(spec) - PROVENANCE_KEYS
    unknown = keys - required - optional
    if unknown:
        expected = ", ".join(sorted(required)) + (
            f" (optional: {', '.join(sorted(optional))})" if optional else ""
        )
        raise DistributionError(
            f"{_where(path)}: unknown key(s) {', '.join(sorted(map(str, unknown)))} for {form}; expected {expected}",
            path,
        )
    missing = required - keys
    if missing:
        raise DistributionError(f"{_where(path)}: {form} needs key(s) {', '.join(sorted(missing))}", path)


def _parse_ci90(spec: Mapping[str, Any], path: FieldPath) -> LogNormal:
    _check_keys(spec, path, "a ci90 (lognormal) spec", {"ci90"}, {"dist"})
    bounds = _numbers(spec["ci90"], "ci90", path)
    if len(bounds) != 2 or not 0 < bounds[0] < bounds[1]:
        got = "[" + ", ".join(f"{b:.6g}" for b in bounds) + "]"
        raise DistributionError(
            f"{_where(path)}: ci90 needs [low, high] with 0 < low < high, got {got}", path
        )
    return LogNormal(bounds[0], bounds[1])


def _parse_lognormal(spec: Mapping[str, Any], path: FieldPath) -> LogNormal:
    if "ci90" in spec:
        return _parse_ci90(spec, path)
    _check_keys(spec, path, "dist: lognormal", {"dist", "p5", "p95"}, set())
    p5, p95 = _number(spec["p5"], "p5", path), _number(spec["p95"], "p95", path)
    if not 0 < p5 < p95:
        raise DistributionError(
            f"{_where(path)}: lognormal needs 0 < p5 < p95, got p5={p5:.6g}, p95={p95:.6g}", path
        )
    return LogNormal(p5, p95)


def _parse_uniform(spec: Mapping[str, Any], path: FieldPath) -> Uniform:
    _check_keys(spec, path, "dist: uniform", {"dist", "low", "high"}, set())
    return Uniform(_number(spec["low"], "low", path), _number(spec["high"], "high", path))


def _parse_triangular(spec: Mapping[str, Any], path: FieldPath) -> Triangular:
    _check_keys(spec, path, "dist: triangular", {"dist", "low", "mode", "high"}, set())
    return Triangular(*(_number(spec[k], k, path) for k in ("low", "mode", "high")))


def _parse_normal(spec: Mapping[str, Any], path: FieldPath) -> Normal:
    _check_keys(spec, path, "dist: normal", {"dist", "mean", "sd"}, {"min", "max", "truncate"})
    truncate = spec.get("truncate", True)
    if not isinstance(truncate, bool):
        raise DistributionError(f"{_where(path)}: truncate must be true or false, got {truncate!r}", path)
    if not truncate and "min" in spec:
        raise DistributionError(
            f"{_where(path)}: truncate: false removes the lower bound, so min cannot be given too", path
        )
    low = (
        _number(spec["min"], "min", path, allow_inf=True)
        if "min" in spec
        else (0.0 if truncate else -math.inf)
    )
    high = _number(spec["max"], "max", path, allow_inf=True) if "max" in spec else math.inf
    return Normal(_number(spec["mean"], "mean", path), _number(spec["sd"], "sd", path), low, high)


def _parse_choice(spec: Mapping[str, Any], path: FieldPath) -> Choice:
    _check_keys(spec, path, "a choice spec", {"choice"}, {"weights"})
    values = tuple(_numbers(spec["choice"], "choice", path))
    weights = spec.get("weights")
    return Choice(values, None if weights is None else tuple(_numbers(weights, "weights", path)))


DISTRIBUTIONS: dict[str, Callable[[Mapping[str, Any], FieldPath], Distribution]] = {
    "lognormal": _parse_lognormal,
    "uniform": _parse_uniform,
    "triangular": _parse_triangular,
    "normal": _parse_normal,
}
"""Parsers for ``{dist: NAME, ...}`` specs, by name. ``ci90`` and ``choice`` specs are keyed by
their own key instead."""


def parse_distribution(spec: Any, path: FieldPath = ()) -> Distribution:
    """Parse one distribution spec; ``path`` names the field in error messages.

    Raises ``DistributionError`` (a ``ValueError``) naming the field and what was expected.

    >>> parse_distribution({"dist": "normal", "mean": 5, "sd": 1}).describe()
    'normal, mean 5, sd 1, truncated to [0, inf)'
    >>> parse_distribution({"ci90": [0.5, 0.3]}, ("cluster", "mfu"))
    Traceback (most recent call last):
    ...
    truecost.uncertainty.DistributionError: cluster.mfu: ci90 needs [low, high] with 0 < low < high, got [0.5, 0.3]
    """
    if not is_distribution_spec(spec):
        raise DistributionError(
            f"{_where(path)}: expected a distribution spec (a mapping with one of "
            f"{', '.join(sorted(DIST_KEYS))}), got {spec!r}",
            path,
        )
    try:
        if "choice" in spec:
            return _parse_choice(spec, path)
        if "ci90" in spec and spec.get("dist", "lognormal") == "lognormal":
            return _parse_ci90(spec, path)
        name = spec.get("dist")
        parser = DISTRIBUTIONS.get(name) if isinstance(name, str) else None
        if parser is None:
            raise DistributionError(
                f"{_where(path)}: unknown dist {name!r}; valid: {', '.join(sorted(DISTRIBUTIONS))} "
                "(or {ci90: [low, high]}, {choice: [...]})",
                path,
            )
        return parser(spec, path)
    except DistributionError as exc:
        if exc.path is not None:
            raise
        # Raised by a constructor, which does not know where it sits.
        raise DistributionError(f"{_where(path)}: {exc}", path) from None


# --------------------------------------------------------------------------------------------
# Scenario trees
# --------------------------------------------------------------------------------------------


def _path_key(path: FieldPath) -> tuple[tuple[int, int, str], ...]:
    # Mixed int/str keys cannot be compared directly; rank ints before strings.
    return tuple((0, p, "") if isinstance(p, int) else (1, 0, str(p)) for p in path)


def sorted_paths(paths: Any) -> list[FieldPath]:
    """Paths in the order draws are made: element by element, list indices before keys."""
    return sorted(paths, key=_path_key)


def find_distributions(raw: Any) -> dict[FieldPath, Distribution]:
    """Every distribution-spec leaf of a nested dict/list scenario, by path, in sorted path order.

    >>> found = find_distributions({"cluster": {"mfu": {"ci90": [0.3, 0.5]}, "count": 2048},
    ...                             "fleet": [{"unit_price_usd": {"dist": "uniform", "low": 2e4, "high": 3e4}}]})
    >>> {path_str(p): d.describe() for p, d in found.items()}
    {'cluster.mfu': 'lognormal, 90% CI 0.3-0.5', 'fleet[0].unit_price_usd': 'uniform 2e+04-3e+04'}
    """
    found: dict[FieldPath, Distribution] = {}

    def walk(node: Any, path: FieldPath) -> None:
        if is_distribution_spec(node):
            found[path] = parse_distribution(node, path)
        elif isinstance(node, Mapping):
            for key, child in node.items():
                walk(child, (*path, key))
        elif isinstance(node, list | tuple):
            for i, child in enumerate(node):
                walk(child, (*path, i))

    walk(raw, ())
    return {p: found[p] for p in sorted_paths(found)}


def substitute(raw: Any, values: Mapping[FieldPath, Any]) -> Any:
    """A copy of ``raw`` with the leaf at each path of ``values`` replaced by its value.

    Mappings come back as plain dicts, lists/tuples as lists; ``raw`` is not modified. A path
    that is not in ``raw`` raises ``KeyError``. Typical use: ``substitute(raw, medians(dists))``.

    >>> substitute({"a": [1, {"b": {"ci90": [1, 4]}}]}, {("a", 1, "b"): 2.0})
    {'a': [1, {'b': 2.0}]}
    """
    from ..scenario.base import Drawn

    used: set[FieldPath] = set()

    def rebuild(node: Any, path: FieldPath) -> Any:
        if path in values:
            used.add(path)
            v = values[path]
            # Marked as drawn: a whole-number input (a count) may take a distribution's quantile.
            if isinstance(v, float | int | np.floating | np.integer) and not isinstance(v, bool | np.bool_):
                return Drawn(v)
            return v
        if isinstance(node, Mapping):
            return {k: rebuild(v, (*path, k)) for k, v in node.items()}
        if isinstance(node, list | tuple):
            return [rebuild(v, (*path, i)) for i, v in enumerate(node)]
        return node

    out = rebuild(raw, ())
    missing = set(values) - used
    if missing:
        raise KeyError(
            f"no such field(s) in the scenario: {', '.join(path_str(p) for p in sorted_paths(missing))}"
        )
    return out


def medians(dists: Mapping[FieldPath, Distribution]) -> dict[FieldPath, float]:
    """The median of each input: the values of the point estimate."""
    return {p: d.median for p, d in dists.items()}


def at_quantile(dists: Mapping[FieldPath, Distribution], q: float) -> dict[FieldPath, float]:
    """Each input at its own quantile ``q`` (e.g. 0.05 and 0.95 to validate the bounds)."""
    return {p: d.ppf(q) for p, d in dists.items()}


# --------------------------------------------------------------------------------------------
# Monte Carlo
# --------------------------------------------------------------------------------------------


# Memory a sample run keeps per trial and output: every output's sample (8 bytes) is kept whole
# for exact percentiles, and while the summaries run on all cores the joined array and
# np.quantile's partition copy are alive too. Measured (deepseek-lab, 20 outputs): ~133 bytes
# per trial above a ~140 MB base, 6.7 per output; 12 leaves a margin.
BYTES_PER_OUTPUT_TRIAL = 12
MEMORY_SHARE = 0.5  # of the memory available when the run starts


def available_memory_bytes() -> int:
    """Memory the OS can give this process now (Linux MemAvailable; else physical memory)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        import os

        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 4 << 30


def max_samples(outputs: int = 32) -> int:
    """The largest Monte Carlo sample count this machine can hold now for `outputs` results
    (see BYTES_PER_OUTPUT_TRIAL)."""
    per_trial = max(1, outputs) * BYTES_PER_OUTPUT_TRIAL
    return max(1000, int(available_memory_bytes() * MEMORY_SHARE // per_trial))


def iter_chunks(n: int, chunk: int = DEFAULT_CHUNK) -> Iterator[tuple[int, int]]:
    """``(start, stop)`` index ranges covering ``range(n)`` in pieces of at most ``chunk``.

    Drawing and running the chain one chunk at a time bounds the working memory at about
    ``chunk x (inputs + chain intermediates) x 8 bytes`` (250k x 50 arrays = 100 MB), whatever
    ``n`` is; only the outputs, ``n x outputs x 8 bytes``, are kept whole (2M x 20 = 320 MB),
    because exact percentiles need every sample.

    >>> list(iter_chunks(5, 2))
    [(0, 2), (2, 4), (4, 5)]
    """
    if chunk <= 0:
        raise ValueError(f"chunk must be positive, got {chunk}")
    if n < 0:
        raise ValueError(f"n must be non-negative, got {n}")
    for start in range(0, n, chunk):
        yield start, min(start + chunk, n)


def input_streams(
    dists: Mapping[FieldPath, Distribution], seed: int | None
) -> dict[FieldPath, np.random.Generator]:
    """One independent random stream per input, derived from ``seed`` and the input's path.

    Passed to ``draw`` instead of a single generator, this makes each input's draws depend on
    nothing but the seed and its own path: the same for any chunk size, and unchanged when
    another input becomes uncertain (common random numbers when comparing scenarios).
    """
    entropy = np.random.SeedSequence(seed).entropy
    streams = {}
    for path in sorted_paths(dists):
        key = int.from_bytes(hashlib.blake2b(repr(path).encode(), digest_size=16).digest(), "little")
        streams[path] = np.random.default_rng(np.random.SeedSequence(entropy, spawn_key=(key,)))
    return streams


def draw(
    dists: Mapping[FieldPath, Distribution],
    n: int,
    rng: np.random.Generator | Mapping[FieldPath, np.random.Generator],
) -> dict[FieldPath, np.ndarray]:
    """``n`` trials: one float64 array per input, drawn once, in sorted path order.

    Every use of an input in the chain must look up this one array, so ``a - a == 0`` holds
    in every trial. ``rng`` is either one ``numpy.random.Generator`` (build it with
    ``np.random.default_rng(seed)``; the same seed gives identical arrays) or the per-input
    streams of ``input_streams``.
    """
    if n < 0:
        raise ValueError(f"n must be non-negative, got {n}")
    out = {}
    for path in sorted_paths(dists):
        gen = rng if isinstance(rng, np.random.Generator) else rng[path]
        out[path] = dists[path].sample(gen, n)
    return out


SUMMARY_QUANTILES = {"p5": 0.05, "p50": 0.5, "p95": 0.95}
EXTENDED_QUANTILES = {
    "p1": 0.01, "p5": 0.05, "p10": 0.10, "p25": 0.25, "p50": 0.5,
    "p75": 0.75, "p90": 0.90, "p95": 0.95, "p99": 0.99,
}  # fmt: skip


def _checked(x: Any) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64).ravel()
    if a.size == 0:
        raise ValueError("cannot summarise an empty sample")
    # NaN would silently become NaN percentiles (or, dropped, a biased sample): refuse both.
    nans = int(np.count_nonzero(np.isnan(a)))
    if nans:
        raise ValueError(f"{nans} of {a.size} samples are NaN")
    return a


def _quantiles(a: np.ndarray, qs: Mapping[str, float]) -> dict[str, float]:
    # One call: numpy partitions once around every needed index (no full sort).
    vals = np.quantile(a, list(qs.values()))
    return {k: float(v) for k, v in zip(qs, vals, strict=True)}


def summarize(x: Any) -> dict[str, float]:
    """``{"mean", "p5", "p50", "p95"}`` of a sample (plain floats). NaN in ``x`` raises ValueError.

    >>> summarize(np.arange(101.0))
    {'mean': 50.0, 'p5': 5.0, 'p50': 50.0, 'p95': 95.0}
    """
    a = _checked(x)
    return {"mean": float(a.mean()), **_quantiles(a, SUMMARY_QUANTILES)}


def summarize_extended(x: Any) -> dict[str, float]:
    """``summarize`` plus ``sd`` (of the draws, ddof=0) and p1, p10, p25, p75, p90, p99."""
    a = _checked(x)
    q = _quantiles(a, EXTENDED_QUANTILES)
    out = {"mean": float(a.mean()), "p5": q["p5"], "p50": q["p50"], "p95": q["p95"], "sd": float(a.std())}
    out.update((k, v) for k, v in q.items() if k not in out)
    return out
