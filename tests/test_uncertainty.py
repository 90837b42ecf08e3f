"""Distribution specs, draws and summaries (truecost.uncertainty)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from truecost.uncertainty import (
    Choice,
    Distribution,
    DistributionError,
    FieldPath,
    LogNormal,
    Normal,
    Triangular,
    Uniform,
    at_quantile,
    draw,
    find_distributions,
    input_streams,
    is_distribution_spec,
    iter_chunks,
    medians,
    parse_distribution,
    path_str,
    substitute,
    summarize,
    summarize_extended,
)

N = 200_000


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


# --- hand-checked values ---------------------------------------------------------------------


def test_ci90_lognormal_parameters_by_hand() -> None:
    # 90% CI [1, e^2]: mu = 1, sigma = 1 / 1.6448536 (the standard normal 95th percentile).
    d = parse_distribution({"ci90": [1.0, math.e**2]})
    assert isinstance(d, LogNormal)
    assert_allclose(d.mu, 1.0, rtol=1e-14)
    assert_allclose(d.sigma, 1 / 1.6448536269514722, rtol=1e-12)
    assert_allclose(d.median, math.e, rtol=1e-14)


def test_ci90_ppf_exact_at_bounds() -> None:
    d = parse_distribution({"ci90": [1.2, 4]})
    assert d.low_high() == pytest.approx((1.2, 4.0), rel=1e-13)
    assert d.median == pytest.approx(math.sqrt(1.2 * 4.0), rel=1e-13)


def test_ci90_sample_percentiles_match_bounds() -> None:
    x = parse_distribution({"ci90": [0.3, 0.5]}).sample(rng(), N)
    assert x.dtype == np.float64 and x.shape == (N,)
    # The sample 5th percentile's standard error is ~0.15% here; 1% is generous.
    assert_allclose(np.quantile(x, [0.05, 0.95]), [0.3, 0.5], rtol=0.01)


def test_lognormal_p5_p95_form_equals_ci90() -> None:
    a = parse_distribution({"dist": "lognormal", "p5": 2, "p95": 8})
    assert (
        a == parse_distribution({"ci90": [2, 8]}) == parse_distribution({"dist": "lognormal", "ci90": [2, 8]})
    )


def test_uniform_moments() -> None:
    d = parse_distribution({"dist": "uniform", "low": 2, "high": 6})
    x = d.sample(rng(), N)
    assert x.min() >= 2 and x.max() <= 6
    assert_allclose([x.mean(), x.var()], [4.0, 16 / 12], rtol=0.01)
    assert d.low_high() == pytest.approx((2.2, 5.8))


def test_triangular_moments_and_ppf() -> None:
    d = parse_distribution({"dist": "triangular", "low": 0, "mode": 1, "high": 4})
    x = d.sample(rng(), N)
    mean = (0 + 1 + 4) / 3
    var = (0 + 1 + 16 - 0 - 0 - 4) / 18
    assert_allclose([x.mean(), x.var()], [mean, var], rtol=0.01)
    # CDF at the mode is (mode - low) / (high - low) = 0.25.
    assert d.ppf(0.25) == pytest.approx(1.0)
    assert_allclose(d.ppf(np.array([0.1, 0.5, 0.9])), np.quantile(x, [0.1, 0.5, 0.9]), rtol=0.01)


def test_triangular_mode_at_edge() -> None:
    d = parse_distribution({"dist": "triangular", "low": 0, "mode": 0, "high": 1})
    assert d.ppf(0.0) == 0.0 and d.ppf(1.0) == 1.0
    assert d.median == pytest.approx(1 - math.sqrt(0.5))


def test_normal_untruncated_moments() -> None:
    d = parse_distribution({"dist": "normal", "mean": 5, "sd": 2, "truncate": False})
    x = d.sample(rng(), N)
    assert_allclose([x.mean(), x.std()], [5.0, 2.0], rtol=0.01)
    assert d.low_high() == pytest.approx((5 - 2 * 1.6448536269514722, 5 + 2 * 1.6448536269514722))


def test_normal_far_from_zero_is_practically_untruncated() -> None:
    d = parse_distribution({"dist": "normal", "mean": 10, "sd": 1})
    x = d.sample(rng(), N)
    assert_allclose([x.mean(), x.std()], [10.0, 1.0], rtol=0.01)
    assert d.median == pytest.approx(10.0)


def test_normal_truncated_at_zero_by_default() -> None:
    d = parse_distribution({"dist": "normal", "mean": 0.1, "sd": 1})
    assert isinstance(d, Normal)
    assert d.low == 0.0 and d.high == math.inf
    x = d.sample(rng(), N)
    assert x.min() >= 0
    assert d.ppf(0.0) == 0.0
    assert "truncated to [0, inf)" in d.describe()


def test_half_normal_mean() -> None:
    # Normal(0, 1) truncated at 0 is the half-normal: mean sqrt(2/pi).
    x = parse_distribution({"dist": "normal", "mean": 0, "sd": 1}).sample(rng(), N)
    assert x.mean() == pytest.approx(math.sqrt(2 / math.pi), rel=0.01)


def test_normal_min_max() -> None:
    d = parse_distribution({"dist": "normal", "mean": 0.5, "sd": 0.3, "min": 0.2, "max": 1.0})
    x = d.sample(rng(), N)
    assert x.min() >= 0.2 and x.max() <= 1.0
    assert d.ppf(0.0) == pytest.approx(0.2) and d.ppf(1.0) == pytest.approx(1.0)
    assert d.describe() == "normal, mean 0.5, sd 0.3, truncated to [0.2, 1]"


def test_normal_window_above_mean_keeps_precision() -> None:
    d = parse_distribution({"dist": "normal", "mean": -3, "sd": 1})  # keeps the upper 0.13%
    x = d.sample(rng(), 10_000)
    assert x.min() >= 0 and np.all(np.isfinite(x))
    # Exponential-like tail: mean excess over 0 is about sd^2 / (0 - mean) for a far tail.
    assert 0.2 < x.mean() < 0.35


def test_choice_frequencies_and_ppf() -> None:
    d = parse_distribution({"choice": [3, 1, 2], "weights": [1, 2, 1]})
    x = d.sample(rng(), N)
    freqs = [np.mean(x == v) for v in (1, 2, 3)]
    assert_allclose(freqs, [0.5, 0.25, 0.25], atol=0.005)
    # Discrete quantile: smallest value whose CDF reaches q.
    assert d.ppf(0.5) == 1.0 and d.median == 1.0
    assert d.ppf(0.51) == 2.0 and d.ppf(0.75) == 2.0 and d.ppf(0.76) == 3.0
    assert_allclose(d.ppf(np.array([0.1, 0.6, 0.9])), [1, 2, 3])


def test_choice_equal_weights_and_zero_weight_never_drawn() -> None:
    assert parse_distribution({"choice": [1, 2]}).median == 1.0
    x = parse_distribution({"choice": [1, 2, 3], "weights": [1, 0, 1]}).sample(rng(), 10_000)
    assert set(np.unique(x)) == {1.0, 3.0}


def test_describe() -> None:
    assert parse_distribution({"ci90": [1.2, 4]}).describe() == "lognormal, 90% CI 1.2-4"
    assert parse_distribution({"dist": "uniform", "low": -1, "high": 3}).describe() == "uniform -1 to 3"
    assert (
        parse_distribution({"dist": "triangular", "low": 1, "mode": 2, "high": 5}).describe()
        == "triangular 1-5, mode 2"
    )
    assert parse_distribution({"dist": "normal", "mean": 1, "sd": 2, "truncate": False}).describe() == (
        "normal, mean 1, sd 2, not truncated"
    )
    assert parse_distribution({"choice": [1, 2], "weights": [3, 1]}).describe() == (
        "choice of 1, 2 (weights 0.75, 0.25)"
    )


@pytest.mark.parametrize(
    "spec",
    [
        {"ci90": [0.3, 0.5]},
        {"dist": "uniform", "low": 1, "high": 2},
        {"dist": "triangular", "low": 1, "mode": 1.5, "high": 2},
        {"dist": "normal", "mean": 1, "sd": 2},
        {"dist": "normal", "mean": 1, "sd": 2, "truncate": False},
        {"dist": "normal", "mean": 1, "sd": 2, "truncate": False, "max": 3},
        {"dist": "normal", "mean": 1, "sd": 2, "min": 0.5, "max": 3},
        {"choice": [1, 2, 3]},
        {"choice": [1, 2, 3], "weights": [0.2, 0.3, 0.5]},
    ],
)
def test_to_spec_round_trips(spec: dict) -> None:
    d = parse_distribution(spec)
    out = d.to_spec()
    assert parse_distribution(out) == d
    assert parse_distribution(json.loads(json.dumps(out))) == d


def test_numeric_strings_accepted() -> None:
    # PyYAML reads `1e12` (no dot) as a string.
    assert parse_distribution({"ci90": ["1e12", "3e12"]}) == LogNormal(1e12, 3e12)


def test_ppf_scalar_and_vector() -> None:
    d = Uniform(0.0, 10.0)
    assert isinstance(d.ppf(0.3), float)
    assert_allclose(d.ppf(np.array([[0.1, 0.2]])), [[1.0, 2.0]])
    with pytest.raises(ValueError, match="q must lie"):
        d.ppf(1.5)


# --- bad specs -------------------------------------------------------------------------------

BAD_SPECS = [
    ({"ci90": [0.5, 0.3]}, r"cluster\.mfu: ci90 needs \[low, high\] with 0 < low < high, got \[0.5, 0.3\]"),
    ({"ci90": [0, 1]}, r"cluster\.mfu: ci90 needs"),
    ({"ci90": [1, 2, 3]}, r"cluster\.mfu: ci90 needs \[low, high\]"),
    ({"ci90": 3}, r"cluster\.mfu: ci90 must be a list of numbers"),
    ({"ci90": ["a", 2]}, r"cluster\.mfu: ci90\[0\] must be a number, got 'a'"),
    ({"ci90": [None, 2]}, r"cluster\.mfu: ci90\[0\] must be a number, got None"),
    ({"ci90": [True, 2]}, r"cluster\.mfu: ci90\[0\] must be a number"),
    ({"ci90": [1, float("nan")]}, r"cluster\.mfu: ci90\[1\] must be a finite number"),
    ({"ci90": [1, 2], "sd": 1}, r"cluster\.mfu: unknown key\(s\) sd"),
    ({"dist": "lognormal", "p5": 3, "p95": 2}, r"cluster\.mfu: lognormal needs 0 < p5 < p95"),
    ({"dist": "uniform", "low": 2, "high": 1}, r"cluster\.mfu: uniform needs low < high"),
    ({"dist": "uniform", "low": 1, "high": 1}, r"cluster\.mfu: uniform needs low < high"),
    ({"dist": "uniform", "low": 1}, r"cluster\.mfu: dist: uniform needs key\(s\) high"),
    ({"dist": "uniform", "low": 1, "high": 2, "mode": 1}, r"cluster\.mfu: unknown key\(s\) mode"),
    (
        {"dist": "triangular", "low": 1, "mode": 3, "high": 2},
        r"cluster\.mfu: triangular needs low <= mode <= high",
    ),
    ({"dist": "normal", "mean": 1, "sd": -1}, r"cluster\.mfu: normal needs sd > 0, got sd=-1"),
    ({"dist": "normal", "mean": 1, "sd": 0}, r"cluster\.mfu: normal needs sd > 0"),
    ({"dist": "normal", "mean": -100, "sd": 1}, r"cluster\.mfu: normal.*truncate: false"),
    ({"dist": "normal", "mean": 1, "sd": 1, "min": 2, "max": 1}, r"cluster\.mfu: normal needs min < max"),
    ({"dist": "normal", "mean": 1, "sd": 1, "truncate": False, "min": 0}, r"cluster\.mfu: truncate: false"),
    (
        {"dist": "normal", "mean": 1, "sd": 1, "truncate": "no"},
        r"cluster\.mfu: truncate must be true or false",
    ),
    ({"dist": "normal", "mean": "x", "sd": 1}, r"cluster\.mfu: mean must be a number, got 'x'"),
    (
        {"dist": "gamma", "k": 1},
        r"cluster\.mfu: unknown dist 'gamma'; valid: lognormal, normal, triangular, uniform",
    ),
    ({"dist": None}, r"cluster\.mfu: unknown dist None"),
    ({"choice": [1, 2], "weights": [1]}, r"cluster\.mfu: choice has 2 values but 1 weights"),
    ({"choice": [1, 2], "weights": [1, -1]}, r"cluster\.mfu: choice weights must be non-negative"),
    (
        {"choice": [1, 2], "weights": [0, 0]},
        r"cluster\.mfu: choice weights must be non-negative with a positive sum",
    ),
    ({"choice": []}, r"cluster\.mfu: choice needs at least one value"),
    ({"choice": ["bf16", "fp8"]}, r"cluster\.mfu: choice\[0\] must be a number, got 'bf16'"),
    ({"choice": [1, 2], "p": [1, 1]}, r"cluster\.mfu: unknown key\(s\) p"),
]


@pytest.mark.parametrize(("spec", "message"), BAD_SPECS)
def test_bad_spec_names_field(spec: dict, message: str) -> None:
    with pytest.raises(DistributionError, match=message) as info:
        parse_distribution(spec, ("cluster", "mfu"))
    assert info.value.path == ("cluster", "mfu")
    assert isinstance(info.value, ValueError)


def test_bad_spec_inside_scenario_names_list_path() -> None:
    raw = {"fleet": [{"unit_price_usd": 1}, {"unit_price_usd": {"dist": "uniform", "low": 3, "high": 1}}]}
    with pytest.raises(DistributionError, match=r"^fleet\[1\]\.unit_price_usd: uniform needs low < high"):
        find_distributions(raw)


def test_not_a_spec() -> None:
    with pytest.raises(DistributionError, match="x: expected a distribution spec"):
        parse_distribution({"low": 1, "high": 2}, ("x",))
    assert not is_distribution_spec(3.0) and not is_distribution_spec({"low": 1})
    assert is_distribution_spec({"choice": [1]})


# --- scenario trees --------------------------------------------------------------------------

RAW = {
    "name": "demo",
    "training": {"tokens": 14.8e12, "seq_len": 4096},
    "cluster": {"accelerator": "h800", "mfu": {"ci90": [0.3, 0.45]}, "count": 2048},
    "fleet": [
        {"id": "a", "unit_price_usd": {"dist": "uniform", "low": 2e4, "high": 3e4}, "count": 10},
        {"id": "b", "unit_price_usd": 25_000, "dates": [2023, {"choice": [2024, 2025]}]},
    ],
}


def test_path_str() -> None:
    assert path_str(("fleet", 0, "unit_price_usd")) == "fleet[0].unit_price_usd"
    assert path_str(("cluster", "mfu")) == "cluster.mfu"
    assert path_str((0, "x")) == "[0].x"
    assert path_str(()) == ""


def test_find_distributions_paths_in_sorted_order() -> None:
    found = find_distributions(RAW)
    assert list(found) == [("cluster", "mfu"), ("fleet", 0, "unit_price_usd"), ("fleet", 1, "dates", 1)]
    assert found[("cluster", "mfu")] == LogNormal(0.3, 0.45)
    assert found[("fleet", 1, "dates", 1)] == Choice((2024.0, 2025.0))
    assert find_distributions({"a": 1, "b": [1, 2]}) == {}


def test_substitute_round_trip_and_no_mutation() -> None:
    before = json.dumps(RAW)
    dists = find_distributions(RAW)
    point = substitute(RAW, medians(dists))
    assert json.dumps(RAW) == before
    assert point["cluster"]["mfu"] == pytest.approx(math.sqrt(0.3 * 0.45))
    assert point["fleet"][0]["unit_price_usd"] == pytest.approx(25_000)
    assert point["fleet"][1]["dates"] == [2023, 2024.0]
    assert find_distributions(point) == {}
    # Putting the specs back gives the original scenario.
    assert substitute(point, {p: d.to_spec() for p, d in dists.items()}) == substitute(RAW, {})
    lows = substitute(RAW, at_quantile(dists, 0.05))
    assert lows["cluster"]["mfu"] == pytest.approx(0.3)


def test_substitute_unknown_path_raises() -> None:
    with pytest.raises(KeyError, match=r"cluster\.nope"):
        substitute(RAW, {("cluster", "nope"): 1})


# --- draws -----------------------------------------------------------------------------------


def test_same_seed_same_draws_different_seed_different() -> None:
    dists = find_distributions(RAW)
    a = draw(dists, 1000, np.random.default_rng(0))
    b = draw(dists, 1000, np.random.default_rng(0))
    c = draw(dists, 1000, np.random.default_rng(1))
    assert list(a) == list(dists)
    for p in dists:
        assert np.array_equal(a[p], b[p])
        assert a[p].shape == (1000,) and a[p].dtype == np.float64
    assert not np.array_equal(a[("cluster", "mfu")], c[("cluster", "mfu")])


def test_draw_order_does_not_depend_on_mapping_order() -> None:
    dists = find_distributions(RAW)
    reversed_dists = dict(reversed(list(dists.items())))
    a = draw(dists, 100, rng(5))
    b = draw(reversed_dists, 100, rng(5))
    assert all(np.array_equal(a[p], b[p]) for p in dists)


def test_one_input_used_twice_cancels() -> None:
    # The chain looks the input up twice; it was drawn once, so a - a is exactly 0.
    dists: dict[FieldPath, Distribution] = {("cluster", "mfu"): LogNormal(0.3, 0.5)}
    values = draw(dists, 10_000, rng())
    a = values[("cluster", "mfu")]
    b = values[("cluster", "mfu")]
    assert np.all(a - b == 0)


def test_input_streams_are_chunk_invariant_and_stable_under_new_inputs() -> None:
    dists = find_distributions(RAW)
    whole = draw(dists, 1000, input_streams(dists, 7))
    streams = input_streams(dists, 7)
    parts = [draw(dists, stop - start, streams) for start, stop in iter_chunks(1000, 300)]
    for p in dists:
        assert np.array_equal(whole[p], np.concatenate([part[p] for part in parts]))
    more = {**dists, ("training", "tokens"): LogNormal(1e13, 2e13)}
    again = draw(more, 1000, input_streams(more, 7))
    assert all(np.array_equal(whole[p], again[p]) for p in dists)
    other = draw(dists, 1000, input_streams(dists, 8))
    assert not np.array_equal(whole[("cluster", "mfu")], other[("cluster", "mfu")])


def test_seed_zero_is_a_seed() -> None:
    dists: dict[FieldPath, Distribution] = {("x",): Uniform(0.0, 1.0)}
    a = draw(dists, 10, input_streams(dists, 0))[("x",)]
    b = draw(dists, 10, input_streams(dists, 0))[("x",)]
    c = draw(dists, 10, input_streams(dists, None))[("x",)]
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_iter_chunks() -> None:
    assert list(iter_chunks(0)) == []
    assert list(iter_chunks(10, 5)) == [(0, 5), (5, 10)]
    assert list(iter_chunks(600_000)) == [(0, 250_000), (250_000, 500_000), (500_000, 600_000)]
    with pytest.raises(ValueError, match="chunk"):
        list(iter_chunks(10, 0))


# --- summaries -------------------------------------------------------------------------------


def test_summarize_keys_and_values() -> None:
    x = np.arange(1001.0)
    s = summarize(x)
    assert list(s) == ["mean", "p5", "p50", "p95"]
    assert s == {"mean": 500.0, "p5": 50.0, "p50": 500.0, "p95": 950.0}
    assert all(type(v) is float for v in s.values())
    json.dumps(s)


def test_summarize_extended() -> None:
    x = np.arange(1001.0)
    s = summarize_extended(x)
    assert set(s) == {"mean", "sd", "p1", "p5", "p10", "p25", "p50", "p75", "p90", "p95", "p99"}
    assert s["p1"] == 10.0 and s["p25"] == 250.0 and s["p99"] == 990.0
    assert s["sd"] == pytest.approx(np.std(x))
    assert summarize_extended(np.array([3.0]))["sd"] == 0.0


def test_summarize_rejects_nan_and_empty() -> None:
    with pytest.raises(ValueError, match="1 of 3 samples are NaN"):
        summarize(np.array([1.0, np.nan, 2.0]))
    with pytest.raises(ValueError, match="empty"):
        summarize(np.array([]))


# --- properties ------------------------------------------------------------------------------

positive = st.floats(min_value=1e-100, max_value=1e100, allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(low=positive, ratio=st.floats(min_value=1.0 + 1e-9, max_value=1e12))
def test_ci90_ppf_hits_bounds_for_any_interval(low: float, ratio: float) -> None:
    high = low * ratio
    if not high > low or not math.isfinite(high):
        return
    d = parse_distribution({"ci90": [low, high]})
    assert d.ppf(0.05) == pytest.approx(low, rel=1e-9)
    assert d.ppf(0.95) == pytest.approx(high, rel=1e-9)
    assert low < d.median < high


finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@settings(max_examples=100, deadline=None)
@given(a=finite, b=finite, c=finite, q=st.floats(min_value=0.0, max_value=1.0))
def test_ppf_monotone_and_inside_support(a: float, b: float, c: float, q: float) -> None:
    low, mode, high = sorted((a, b, c))
    if not low < high:
        return
    for d in (Uniform(low, high), Triangular(low, mode, high)):
        x = d.ppf(np.array([0.0, q, 1.0]))
        assert low - 1e-9 * abs(low) <= x[1] <= high + 1e-9 * abs(high)
        assert x[0] <= x[1] <= x[2]


@settings(max_examples=100, deadline=None)
@given(
    z=st.floats(min_value=-4.5, max_value=100),
    sd=st.floats(min_value=1e-3, max_value=1e6),
    seed=st.integers(0, 2**32),
)
def test_truncated_normal_never_negative(z: float, sd: float, seed: int) -> None:
    d = Normal(z * sd, sd)  # mean down to 4.5 sd below zero: mass 3.4e-6 left, still valid
    x = d.sample(np.random.default_rng(seed), 2000)
    assert np.all(x >= 0) and np.all(np.isfinite(x))
    assert d.ppf(0.5) >= 0


@settings(max_examples=50, deadline=None)
@given(
    values=st.lists(st.integers(-1000, 1000), min_size=1, max_size=6),
    data=st.data(),
)
def test_choice_ppf_returns_a_value_and_is_monotone(values: list[int], data: st.DataObject) -> None:
    weights = data.draw(st.lists(st.floats(0, 10), min_size=len(values), max_size=len(values)))
    if sum(weights) <= 0:
        return
    d = Choice(tuple(float(v) for v in values), tuple(weights))
    q = np.linspace(0, 1, 101)
    x = d.ppf(q)
    assert set(x) <= set(map(float, values))
    assert np.all(np.diff(x) >= 0)
    s = d.sample(np.random.default_rng(0), 200)
    drawable = {float(v) for v, w in zip(values, weights, strict=True) if w > 0}
    assert set(s) <= drawable
