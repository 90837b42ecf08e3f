"""Which uncertain input drives an output: one-at-a-time tornado swings and Sobol' indices.

Both methods take a vectorised model ``f(values) -> output``: ``values`` maps each input path
to an array of trial values (inputs left out are held at their medians by the caller's
wrapper) and ``f`` returns one output value per trial. Nothing here knows the truecost chain.

- ``tornado``: each input alone at its 5th and 95th percentile, the others at their medians
  (a local, one-at-a-time view; blind to interactions).
- ``sobol``: variance-based global indices (Saltelli et al. 2010, via
  ``scipy.stats.sobol_indices``): first order = share of output variance explained by the
  input alone; total order = share that involves it at all, interactions included.

>>> from truecost.uncertainty import Uniform
>>> dists = {("x1",): Uniform(0.0, 1.0), ("x2",): Uniform(0.0, 1.0)}
>>> f = lambda v: v[("x1",)] + 2 * v[("x2",)]
>>> [(r.name, round(r.swing, 2)) for r in tornado(f, dists)]
[('x2', 1.8), ('x1', 0.9)]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from ..uncertainty import Distribution, FieldPath, path_str, sorted_paths

__all__ = [
    "SensitivityResult",
    "SobolRow",
    "TornadoRow",
    "Model",
    "sensitivity",
    "sobol",
    "tornado",
]

Model = Callable[[Mapping[FieldPath, np.ndarray]], Any]
"""``f(values) -> output``: one output value per trial, vectorised over the trial axis."""

# Outputs whose spread is below this fraction of their magnitude are treated as constant:
# their "variance" is rounding noise, and indices computed from it would be meaningless.
CONSTANT_RTOL = 1e-12

# Sobol points are in [0, 1); a point at exactly 0 would send an unbounded input to -inf.
_Q_EPS = 1e-12


def _evaluate(f: Model, values: Mapping[FieldPath, np.ndarray], m: int) -> np.ndarray:
    out = np.asarray(f(values), dtype=np.float64)
    if out.ndim > 1:
        out = out.reshape(-1)
    # A model that ignores every input may hand back a scalar; and always copy, since scipy
    # works in place and f may return one of its input arrays.
    return np.array(np.broadcast_to(out, (m,)), dtype=np.float64)


@dataclass(frozen=True)
class TornadoRow:
    """One input's one-at-a-time swing. Output values are in the output's unit."""

    path: FieldPath
    name: str
    low_input: float  # the input at ppf(q_low) [input unit]
    high_input: float  # the input at ppf(q_high) [input unit]
    output_at_low: float  # f with this input at low_input, others at medians [output unit]
    output_at_high: float
    swing: float  # |output_at_high - output_at_low| [output unit]
    base: float  # f with every input at its median [output unit]


def tornado(
    f: Model,
    dists: Mapping[FieldPath, Distribution],
    q_low: float = 0.05,
    q_high: float = 0.95,
) -> list[TornadoRow]:
    """One-at-a-time swings, largest ``swing`` first (ties keep sorted path order).

    ``f`` is called once, on ``1 + 2 x inputs`` trials: all medians, then each input at its
    ``q_low`` and ``q_high`` quantiles with the others at their medians.
    """
    if not 0 < q_low < q_high < 1:
        raise ValueError(f"need 0 < q_low < q_high < 1, got q_low={q_low}, q_high={q_high}")
    paths = sorted_paths(dists)
    m = 1 + 2 * len(paths)
    values = {p: np.full(m, dists[p].median) for p in paths}
    lows_highs = []
    for i, p in enumerate(paths):
        lo, hi = dists[p].ppf(q_low), dists[p].ppf(q_high)
        values[p][1 + 2 * i] = lo
        values[p][2 + 2 * i] = hi
        lows_highs.append((lo, hi))
    y = _evaluate(f, values, m)
    base = float(y[0])
    rows = [
        TornadoRow(
            path=p,
            name=path_str(p),
            low_input=lo,
            high_input=hi,
            output_at_low=float(y[1 + 2 * i]),
            output_at_high=float(y[2 + 2 * i]),
            swing=float(abs(y[2 + 2 * i] - y[1 + 2 * i])),
            base=base,
        )
        for i, (p, (lo, hi)) in enumerate(zip(paths, lows_highs, strict=True))
    ]
    return sorted(rows, key=lambda r: -r.swing if np.isfinite(r.swing) else 0.0)


@dataclass(frozen=True)
class SobolRow:
    """One input's Sobol' indices, as shares of output variance. [1]

    ``first_order`` / ``total_order`` are clipped into [0, 1] (small negative or >1 values are
    sampling error); the ``*_raw`` fields keep the estimator's own numbers. The ``*_ci`` fields
    are bootstrap confidence intervals of the raw estimates, when requested.
    """

    path: FieldPath
    name: str
    first_order: float
    total_order: float
    first_order_raw: float
    total_order_raw: float
    first_order_ci: tuple[float, float] | None = None
    total_order_ci: tuple[float, float] | None = None


class _PPF:
    """Adapter giving scipy a ``ppf`` that never sees exactly 0 or 1."""

    def __init__(self, dist: Distribution):
        self.dist = dist

    def ppf(self, q: np.ndarray) -> np.ndarray:
        return np.asarray(self.dist.ppf(np.clip(q, _Q_EPS, 1.0 - _Q_EPS)))


def sobol(
    f: Model,
    dists: Mapping[FieldPath, Distribution],
    n: int = 2**12,
    seed: int | None = None,
    *,
    confidence_level: float | None = None,
    n_resamples: int = 199,
) -> list[SobolRow]:
    """First- and total-order Sobol' indices, ranked by total order (largest first).

    ``f`` is evaluated at ``n x (inputs + 2)`` points (Saltelli 2010 design on a scrambled
    Sobol' sequence; ``n`` must be a power of 2). ``seed`` makes the result reproducible.
    An output that does not vary gets indices of 0 for every input (no NaN). With
    ``confidence_level`` (e.g. 0.95) each row also carries a BCa bootstrap interval from
    ``n_resamples`` resamples; this costs a jackknife over ``n`` points, so it is opt-in.
    """
    if n <= 0 or n & (n - 1):
        raise ValueError(f"n must be a power of 2, got {n}")
    paths = sorted_paths(dists)
    if not paths:
        return []

    spreads: list[tuple[float, float]] = []  # (min, max) of each batch of outputs

    def func(x: np.ndarray) -> np.ndarray:
        y = _evaluate(f, {p: x[i] for i, p in enumerate(paths)}, x.shape[1])
        if not np.all(np.isfinite(y)):
            bad = int(np.count_nonzero(~np.isfinite(y)))
            raise ValueError(f"model output is not finite in {bad} of {y.size} Sobol' points")
        spreads.append((float(y.min()), float(y.max())))
        return y[np.newaxis, :]

    d = len(paths)
    rng = np.random.default_rng(seed)
    if d == 1:
        # With one uncertain input, Var(E[Y|X]) = Var(Y) by definition: both indices are
        # exactly 1 (or 0 for a constant output). scipy's estimator cannot take d == 1 anyway.
        q = stats.qmc.Sobol(d=1, rng=rng).random(n)[:, 0]
        func(_PPF(dists[paths[0]]).ppf(q)[np.newaxis, :])
        res = None
    else:
        res = stats.sobol_indices(func=func, n=n, dists=[_PPF(dists[p]) for p in paths], rng=rng)
    lo = min(s[0] for s in spreads)
    hi = max(s[1] for s in spreads)
    constant = hi - lo <= CONSTANT_RTOL * max(abs(lo), abs(hi))

    if constant or res is None:
        first = total = np.full(d, 0.0 if constant else 1.0)
    else:
        first = np.asarray(res.first_order, dtype=np.float64).reshape(d)
        total = np.asarray(res.total_order, dtype=np.float64).reshape(d)

    first_ci: list[tuple[float, float] | None] = [None] * d
    total_ci: list[tuple[float, float] | None] = [None] * d
    if confidence_level is not None:
        if constant or res is None:
            first_ci = [(float(v), float(v)) for v in first]
            total_ci = [(float(v), float(v)) for v in total]
        else:
            boot = res.bootstrap(confidence_level=confidence_level, n_resamples=n_resamples)
            f_lo, f_hi = (np.atleast_1d(a).reshape(d) for a in boot.first_order.confidence_interval)
            t_lo, t_hi = (np.atleast_1d(a).reshape(d) for a in boot.total_order.confidence_interval)
            first_ci = [(float(a), float(b)) for a, b in zip(f_lo, f_hi, strict=True)]
            total_ci = [(float(a), float(b)) for a, b in zip(t_lo, t_hi, strict=True)]

    rows = [
        SobolRow(
            path=p,
            name=path_str(p),
            first_order=float(np.clip(first[i], 0.0, 1.0)),
            total_order=float(np.clip(total[i], 0.0, 1.0)),
            first_order_raw=float(first[i]),
            total_order_raw=float(total[i]),
            first_order_ci=first_ci[i],
            total_order_ci=total_ci[i],
        )
        for i, p in enumerate(paths)
    ]
    return sorted(rows, key=lambda r: -r.total_order)


@dataclass(frozen=True)
class SensitivityResult:
    """Tornado and Sobol' results for one output, joined by input."""

    output: str
    tornado: list[TornadoRow]
    sobol: list[SobolRow] = field(default_factory=list)
    sobol_n: int | None = None
    seed: int | None = None

    def rows(self) -> list[dict[str, Any]]:
        """JSON rows, one per input, ranked by total order (by swing when there is no Sobol')."""
        by_path = {r.path: r for r in self.sobol}
        order = [r.path for r in self.sobol] if self.sobol else [r.path for r in self.tornado]
        swings = {r.path: r for r in self.tornado}
        out = []
        for path in order:
            s = by_path.get(path)
            t = swings.get(path)
            out.append(
                {
                    "input": path_str(path),
                    "first_order": None if s is None else s.first_order,
                    "total_order": None if s is None else s.total_order,
                    "swing": None if t is None else {"low": t.output_at_low, "high": t.output_at_high},
                    "low_input": None if t is None else t.low_input,
                    "high_input": None if t is None else t.high_input,
                }
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        """``{"output", "base", "sobol_n", "seed", "inputs": rows()}``, JSON-ready."""
        return {
            "output": self.output,
            "base": self.tornado[0].base if self.tornado else None,
            "sobol_n": self.sobol_n,
            "seed": self.seed,
            "inputs": self.rows(),
        }


def sensitivity(
    f: Model,
    dists: Mapping[FieldPath, Distribution],
    *,
    output: str = "output",
    n: int | None = 2**12,
    seed: int | None = None,
    q_low: float = 0.05,
    q_high: float = 0.95,
) -> SensitivityResult:
    """Tornado and (unless ``n is None``) Sobol' for one output, in one result."""
    rows = tornado(f, dists, q_low, q_high)
    sob = [] if n is None else sobol(f, dists, n, seed)
    return SensitivityResult(output=output, tornado=rows, sobol=sob, sobol_n=n, seed=seed)
