"""Tornado swings and Sobol' indices (truecost.analysis.indices)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping

import numpy as np
import pytest
from numpy.testing import assert_allclose

from truecost.analysis.indices import sensitivity, sobol, tornado
from truecost.uncertainty import Choice, Distribution, FieldPath, LogNormal, Uniform

X1: FieldPath = ("x1",)
X2: FieldPath = ("x2",)
X3: FieldPath = ("x3",)
UNIT: dict[FieldPath, Distribution] = {X1: Uniform(0.0, 1.0), X2: Uniform(0.0, 1.0)}


def linear(v: Mapping[FieldPath, np.ndarray]) -> np.ndarray:
    return v[X1] + 2 * v[X2]


def test_sobol_linear_analytic() -> None:
    # y = x1 + 2 x2, x ~ U[0,1]: Var = 1/12 + 4/12, so S1 = 0.2, S2 = 0.8, no interactions.
    rows = sobol(linear, UNIT, n=2**12, seed=1)
    assert [r.name for r in rows] == ["x2", "x1"]
    by = {r.path: r for r in rows}
    assert_allclose([by[X1].first_order, by[X2].first_order], [0.2, 0.8], atol=0.02)
    assert_allclose([by[X1].total_order, by[X2].total_order], [0.2, 0.8], atol=0.02)


def test_sobol_ishigami_analytic() -> None:
    # Ishigami a=7, b=0.1, x ~ U[-pi, pi] (Saltelli et al. 2008, "Global Sensitivity Analysis.
    # The Primer", sec. 4.8): S = (0.314, 0.442, 0), ST = (0.558, 0.442, 0.244).
    dists: dict[FieldPath, Distribution] = {p: Uniform(-math.pi, math.pi) for p in (X1, X2, X3)}

    def ishigami(v: Mapping[FieldPath, np.ndarray]) -> np.ndarray:
        return np.sin(v[X1]) + 7 * np.sin(v[X2]) ** 2 + 0.1 * v[X3] ** 4 * np.sin(v[X1])

    rows = {r.path: r for r in sobol(ishigami, dists, n=2**13, seed=0)}
    assert_allclose([rows[p].first_order for p in (X1, X2, X3)], [0.314, 0.442, 0.0], atol=0.03)
    assert_allclose([rows[p].total_order for p in (X1, X2, X3)], [0.558, 0.442, 0.244], atol=0.03)
    for r in rows.values():
        assert 0.0 <= r.first_order <= 1.0 and 0.0 <= r.total_order <= 1.0
        assert r.first_order == min(max(r.first_order_raw, 0.0), 1.0)


def test_sobol_seed_reproducible() -> None:
    assert sobol(linear, UNIT, n=256, seed=0) == sobol(linear, UNIT, n=256, seed=0)
    assert sobol(linear, UNIT, n=256, seed=0) != sobol(linear, UNIT, n=256, seed=1)


def test_sobol_constant_output_is_zero_not_nan() -> None:
    for f in (lambda v: 3.0, lambda v: v[X1] * 0.0 + 5.0):
        rows = sobol(f, UNIT, n=256, seed=0, confidence_level=0.9)
        for r in rows:
            assert (r.first_order, r.total_order, r.first_order_raw, r.total_order_raw) == (0, 0, 0, 0)
            assert r.first_order_ci == (0.0, 0.0)


def test_sobol_single_input() -> None:
    (row,) = sobol(lambda v: v[X1] ** 2, {X1: LogNormal(1.0, 3.0)}, n=256, seed=0)
    assert (row.first_order, row.total_order) == (1.0, 1.0)
    (flat,) = sobol(lambda v: 4.0, {X1: LogNormal(1.0, 3.0)}, n=256, seed=0)
    assert (flat.first_order, flat.total_order) == (0.0, 0.0)


def test_sobol_input_that_does_not_matter() -> None:
    dists: dict[FieldPath, Distribution] = {**UNIT, X3: Choice((1.0, 2.0, 3.0))}
    rows = {r.path: r for r in sobol(linear, dists, n=2**11, seed=3)}
    assert rows[X3].total_order < 0.01 and rows[X3].first_order < 0.01


def test_sobol_bootstrap_ci_brackets_estimate() -> None:
    rows = sobol(linear, UNIT, n=2**9, seed=2, confidence_level=0.95, n_resamples=99)
    for r in rows:
        assert r.total_order_ci is not None and r.first_order_ci is not None
        assert r.total_order_ci[0] <= r.total_order_raw <= r.total_order_ci[1]


def test_sobol_rejects_bad_n_and_empty_inputs() -> None:
    with pytest.raises(ValueError, match="power of 2"):
        sobol(linear, UNIT, n=1000)
    assert sobol(linear, {}, n=256) == []


def test_sobol_non_finite_output_raises() -> None:
    with pytest.raises(ValueError, match="not finite"), np.errstate(invalid="ignore"):
        sobol(lambda v: np.log(v[X1] - 0.5), UNIT, n=256, seed=0)


def test_tornado_by_hand_and_ordering() -> None:
    rows = tornado(linear, UNIT)
    assert [r.name for r in rows] == ["x2", "x1"]
    x2, x1 = rows
    assert x2.base == pytest.approx(1.5) and x1.base == pytest.approx(1.5)
    assert (x2.low_input, x2.high_input) == pytest.approx((0.05, 0.95))
    assert (x2.output_at_low, x2.output_at_high) == pytest.approx((0.6, 2.4))
    assert x2.swing == pytest.approx(1.8) and x1.swing == pytest.approx(0.9)


def test_tornado_decreasing_output_and_custom_quantiles() -> None:
    rows = tornado(lambda v: 10 - 3 * v[X1] + v[X2], UNIT, q_low=0.1, q_high=0.9)
    assert rows[0].path == X1
    assert rows[0].output_at_low > rows[0].output_at_high
    assert rows[0].swing == pytest.approx(3 * 0.8)
    with pytest.raises(ValueError, match="q_low"):
        tornado(linear, UNIT, q_low=0.9, q_high=0.1)


def test_tornado_calls_model_once() -> None:
    calls = []

    def f(v: Mapping[FieldPath, np.ndarray]) -> np.ndarray:
        calls.append(len(v[X1]))
        return linear(v)

    tornado(f, UNIT)
    assert calls == [5]


def test_sensitivity_rows_ranked_by_total_order_json() -> None:
    res = sensitivity(linear, UNIT, output="headline_cost_usd", n=2**10, seed=0)
    d = res.to_dict()
    json.dumps(d)
    assert d["base"] == pytest.approx(1.5) and d["seed"] == 0
    rows = d["inputs"]
    assert [r["input"] for r in rows] == ["x2", "x1"]
    assert set(rows[0]) == {"input", "first_order", "total_order", "swing", "low_input", "high_input"}
    assert rows[0]["swing"] == pytest.approx({"low": 0.6, "high": 2.4})
    assert rows[0]["total_order"] == pytest.approx(0.8, abs=0.03)


def test_sensitivity_without_sobol_ranks_by_swing() -> None:
    rows = sensitivity(linear, UNIT, n=None).rows()
    assert [r["input"] for r in rows] == ["x2", "x1"]
    assert rows[0]["total_order"] is None


def test_base_samples_are_bounded_in_the_library_too() -> None:
    """The Python API refuses what the CLI refuses: a Sobol base sample count over 65,536 or not a
    power of two is a ScenarioError naming `samples`, before any work."""
    from truecost.analysis.sensitivity import sensitivity as scenario_sensitivity
    from truecost.errors import ScenarioError

    for n in (1 << 20, 100, 32, True):
        with pytest.raises(ScenarioError) as exc:
            scenario_sensitivity("deepseek-lab", n=n)  # type: ignore[arg-type]
        assert exc.value.field == "samples"
