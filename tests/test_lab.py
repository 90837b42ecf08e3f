"""Lab stage: development cost, lab total, ratio, views and waterfall, by hand; arrays;
properties; bad input."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from typer.testing import CliRunner

import truecost
from truecost.cli import app
from truecost.errors import ScenarioError
from truecost.stages import lab

runner = CliRunner()


def _scn(**lab_over: Any) -> dict[str, Any]:
    lab_in: dict[str, Any] = {
        "staff": [
            {"role": "researchers", "count": 10, "compensation_usd_per_year": 200000, "source": "test"}
        ],
        "experiment_multiplier": 2.0,
        "data_usd": 1.0e6,
        "development_years": 1.0,
        "model_staff_share": 0.5,
        "fleet_share": {"training": 0.4, "inference": 0.2, "research": 0.2, "other": 0.2},
        "horizon_years": 4,
    }
    lab_in.update(lab_over)
    return {
        "name": "small lab",
        "cluster": {"accelerator": "h800", "count": 1000, "gpu_hours": 1.0e6},
        "pricing": {"rental_usd_per_gpu_hour": 2.0},
        "fleet": [{"accelerator": "h800", "count": 1000, "unit_price_usd": 30000, "price_source": "test"}],
        "lab": lab_in,
    }


# Hand values (see tests/test_fleet.py::test_one_pool_by_hand for the pool):
OWNED_RATE = 2.024040688  # $/GPU-h of the H800 pool at $30,000, defaults
FLEET_CAPEX = 50_228_637.04
FLEET_OPEX = 5_687_867.78
FLEET_CAPITAL = 2_410_974.58  # 0.08 x mean book value over 4 of 5 years (tests/test_fleet.py)
LAB_TOTAL = 0.8 * (FLEET_CAPEX + 4 * (FLEET_OPEX + FLEET_CAPITAL)) + 4 * 2.65e6 + 1e6  # 77,699,205.17


def test_four_views_by_hand() -> None:
    """1M H800-hours; pool of 1,000 H800 at $30,000; 10 staff at $200k x 1.325 = $2.65M/yr.

    headline      1e6 x $2                                  =  2,000,000
    owned run     1e6 x 2.024040688                         =  2,024,040.69
    experiments   owned x (2 - 1)                           =  2,024,040.69
    staff on it   2.65M x 1 yr x 0.5                        =  1,325,000
    data                                                    =  1,000,000
    development   sum of the four above                     =  6,373,081.38
    lab share     (0.4 + 0.2 + 0.2) / 1.0                   =  0.8
    lab total     0.8 x (50,228,637.04 + 4 x (5,687,867.78 + 2,410,974.58 cost of capital))
                  + 4 x 2.65M + 1M                          = 77,699,205.17
    ratio         77,699,205.17 / 2,000,000                 = 38.84960259
    """
    r = truecost.estimate(_scn())
    res = r.results
    assert_allclose(res["headline_cost_usd"], 2.0e6)
    assert_allclose(res["final_run_owned_cost_usd"], OWNED_RATE * 1e6, rtol=1e-9)
    assert_allclose(res["lab_staff_usd_per_year"], 2.65e6)
    assert_allclose(res["development_cost_usd"], 6_373_081.38, rtol=1e-9)
    assert_allclose(res["lab_total_cost_usd"], LAB_TOTAL, rtol=1e-9)
    assert_allclose(res["lab_total_cost_usd"], 77_699_205.17, rtol=1e-9)
    assert_allclose(res["true_to_headline_ratio"], 38.84960259, rtol=1e-8)
    cash = truecost.estimate(_scn() | {"ownership": {"cost_of_capital": 0}})
    assert_allclose(cash.results["lab_total_cost_usd"], 69_984_086.52, rtol=1e-9)
    assert_allclose(res["true_to_headline_ratio"], res["lab_total_cost_usd"] / res["headline_cost_usd"])
    for k in ("development_cost_usd", "lab_total_cost_usd", "headline_cost_usd", "final_run_owned_cost_usd"):
        assert r.units[k] == "USD"
    assert r.units["true_to_headline_ratio"] == "1"


def test_views_labelled() -> None:
    r = truecost.estimate(_scn())
    views = r.details["views"]
    assert [v["key"] for v in views] == [
        "headline_cost_usd", "final_run_owned_cost_usd", "development_cost_usd", "lab_total_cost_usd",
    ]  # fmt: skip
    for v in views:
        assert v["label"] and v["includes"] and v["excludes"]


def test_waterfall_adds_up_from_headline_to_lab_total() -> None:
    r = truecost.estimate(_scn())
    w = r.details["waterfall"]
    assert w[0]["amount_usd"] == r.results["headline_cost_usd"]
    running = np.cumsum([s["amount_usd"] for s in w])
    assert_allclose([s["total_usd"] for s in w], running)
    assert_allclose(w[-1]["total_usd"], r.results["lab_total_cost_usd"], rtol=1e-12)
    dev_step = next(s for s in w if s["label"] == "Data")
    assert_allclose(dev_step["total_usd"], r.results["development_cost_usd"], rtol=1e-12)
    for s in w:
        assert set(s) == {"label", "amount_usd", "total_usd", "note"}


def test_defaults_cited() -> None:
    """Staff overhead 1.325 (Epoch 1.25-1.4) and multiplier 2.19 (Epoch 1.2x-4x) when not given."""
    r = truecost.estimate(_scn(experiment_multiplier=None))
    a = {x["name"]: x for x in r.assumptions}
    assert a["experiment_multiplier"]["value"] == 2.19 and "Epoch" in a["experiment_multiplier"]["source"]
    assert a["lab.staff[0].overhead"]["value"] == 1.325
    assert a["lab.staff[0].count"]["field"] == "lab.staff[0].count"
    # experiments = owned x 1.19
    w = {s["label"]: s for s in r.details["waterfall"]}
    assert_allclose(w["Experiments and ablations"]["amount_usd"], OWNED_RATE * 1e6 * 1.19, rtol=1e-9)


def test_lab_without_fleet_warns_and_still_gives_development() -> None:
    s = _scn()
    del s["fleet"]
    r = truecost.estimate(s)
    assert "lab_total_cost_usd" not in r.results and "true_to_headline_ratio" not in r.results
    assert "development_cost_usd" in r.results
    assert any("without a fleet" in w for w in r.warnings)


def test_fleet_by_use_and_cross_check() -> None:
    r = truecost.estimate(_scn())
    by_use = r.details["fleet_cost_by_use_usd"]
    total = FLEET_CAPEX + 4 * (FLEET_OPEX + FLEET_CAPITAL)
    assert_allclose([by_use[k] for k in ("training", "inference", "research", "other")],
                    [0.4 * total, 0.2 * total, 0.2 * total, 0.2 * total], rtol=1e-9)  # fmt: skip
    cc = r.details["compute_cross_check"]
    assert_allclose(cc["final_run_and_experiments_usd"], 2 * OWNED_RATE * 1e6, rtol=1e-9)
    # the two development-compute views, named, with why they differ
    assert len(cc["views"]) == 2 and "why_they_differ" in cc
    assert_allclose(
        cc["fleet_share_over_multiplier"],
        cc["training_and_research_share_of_fleet_usd"] / cc["final_run_and_experiments_usd"],
    )


def test_reference_points_compared() -> None:
    s = _scn()
    s["reference_points"] = [
        {
            "name": "a",
            "value": "70.0e6",
            "unit": "USD",
            "source": "x",
            "compare_to": "lab_total_cost_usd",
            "note": "n",
        },
        {"name": "b", "value": 1, "unit": "1", "source": "y", "compare_to": "nonexistent"},
        {"name": "c", "value": 3, "unit": "1", "source": "z"},
    ]
    refs = truecost.estimate(s).details["reference_points"]
    assert refs[0]["value"] == 70.0e6 and refs[0]["note"] == "n"
    assert_allclose(refs[0]["ours_over_reference"], LAB_TOTAL / 70e6, rtol=1e-9)
    assert "not computed" in refs[1]["gap"]
    assert "ours" not in refs[2]


# ---- formulas and arrays ---------------------------------------------------------------------
def test_formulas_by_hand_and_arrays() -> None:
    """staff 100 x 200k x 1.325 = 26.5M; experiments 5M x 1.2 = 6M; share 0.8/1.0."""
    assert_allclose(lab.staff_usd_per_year(100, 200_000, 1.325), 26.5e6)
    n = np.array([10.0, 100.0, 1000.0])
    assert_allclose(lab.staff_usd_per_year(n, 200_000, 1.325), n * 265_000)
    assert_allclose(lab.experiments_cost_usd(np.array([5e6, 1e6]), np.array([2.2, 1.0])), [6e6, 0.0])
    assert_allclose(lab.lab_share_of_fleet(np.array([0.3, 1.0]), 0.3, 0.2, np.array([0.2, 0.0])), [0.8, 1.0])
    assert_allclose(lab.development_cost_usd(n, n, n, n), 4 * n)
    assert_allclose(lab.lab_total_cost_usd(n, n, n, 2.0, 0.5, 1.0), 0.5 * (n + 2 * n) + 2 * n + 1)
    assert_allclose(lab.true_to_headline_ratio(n, 10.0), n / 10)


def test_lab_monte_carlo() -> None:
    s = _scn(
        experiment_multiplier={"ci90": [1.2, 4.0]},
        staff=[{"count": {"ci90": [5, 20]}, "compensation_usd_per_year": {"ci90": [1e5, 4e5]}}],
        fleet_share={"training": 0.5, "other": {"dist": "uniform", "low": 0, "high": 0.3}},
    )
    r = truecost.estimate(s, samples=500, seed=2)
    for k in ("development_cost_usd", "lab_total_cost_usd", "true_to_headline_ratio"):
        v = r.results[k]
        assert v["p5"] < v["p50"] < v["p95"], k


# ---- properties ----------------------------------------------------------------------------
@settings(max_examples=25, deadline=None)
@given(n=st.integers(0, 1000), extra=st.integers(0, 1000))
def test_more_staff_never_lowers_costs(n: float, extra: float) -> None:
    def run(count: float) -> dict[str, float]:
        return truecost.estimate(_scn(staff=[{"count": count, "compensation_usd_per_year": 3e5}])).results

    a, b = run(n), run(n + extra)
    assert b["development_cost_usd"] >= a["development_cost_usd"]
    assert b["lab_total_cost_usd"] >= a["lab_total_cost_usd"]


@settings(max_examples=25, deadline=None)
@given(k=st.floats(0.1, 10))
def test_scaling_pay_scales_staff_cost(k: float) -> None:
    a = truecost.estimate(_scn()).results["lab_staff_usd_per_year"]
    b = truecost.estimate(_scn(staff=[{"count": 10, "compensation_usd_per_year": 200000 * k}])).results[
        "lab_staff_usd_per_year"
    ]
    assert_allclose(b, k * a, rtol=1e-9)


# ---- bad input -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("over", "field", "expected"),
    [
        (
            {"staff": [{"count": -1, "compensation_usd_per_year": 1}]},
            "count",
            "must lie in",
        ),
        ({"model_staff_share": 1.5}, "lab.model_staff_share", "must lie in"),
        ({"experiment_multiplier": 0.5}, "lab.experiment_multiplier", "must lie in"),
        ({"horizon_years": 0}, "lab.horizon_years", "must lie in"),
        ({"fleet_share": {"training": 0}}, "lab.fleet_share", "at least one positive share"),
        ({"fleet_share": {"training": -0.1}}, "lab.fleet_share.training", "must lie in"),
        ({"headcount": 3}, "lab.headcount", "unknown key"),
    ],
)
def test_bad_lab_names_field(over: dict[str, Any], field: str, expected: str) -> None:
    with pytest.raises(ScenarioError) as exc:
        truecost.estimate(
            _scn(**over) if "headcount" not in over else {**_scn(), "lab": {**_scn()["lab"], **over}}
        )
    msg = str(exc.value)
    assert "lab" in msg and field in msg and expected in msg, msg


def test_bad_lab_cli_exit_2(tmp_path: Any) -> None:
    f = tmp_path / "s.yaml"
    f.write_text("lab:\n  staff:\n    - {count: -4, compensation_usd_per_year: 100000}\n")
    res = runner.invoke(app, ["estimate", str(f)])
    assert res.exit_code == 2
    assert "lab.staff" in res.output and "count" in res.output and "Traceback" not in res.output
