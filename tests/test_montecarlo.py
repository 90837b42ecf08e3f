"""Monte Carlo through the whole chain: reproducibility, one draw per input, point = chain at p50."""

from __future__ import annotations

import json

import numpy as np
import pytest
from numpy.testing import assert_allclose
from typer.testing import CliRunner

import truecost
from truecost.cli import app
from truecost.errors import ScenarioError

runner = CliRunner()


def _uncertain_run(**over: object) -> dict:
    scn = {
        "model": "llama-3.1-70b",
        "training": {"tokens": 15e12},
        "cluster": {"accelerator": "h100-sxm", "count": 4096, "mfu": {"ci90": [0.3, 0.45]}},
        "pricing": {"rental_usd_per_gpu_hour": {"dist": "uniform", "low": 1.5, "high": 3.0}},
    }
    scn.update(over)
    return scn


def test_deepseek_lab_samples_ordered_and_reproducible() -> None:
    """Issue 4 'done when': p5 < p50 < p95 for lab_total_cost_usd; seed 7 twice identical; seed 8 differs."""
    args = ["estimate", "deepseek-lab", "--samples", "200000", "--seed", "7", "--json"]
    a = runner.invoke(app, args)
    assert a.exit_code == 0, a.output
    b = runner.invoke(app, args)
    c = runner.invoke(app, args[:-2] + ["8", "--json"])
    lab = json.loads(a.stdout)["results"]["lab_total_cost_usd"]
    assert lab["p5"] < lab["p50"] < lab["p95"]
    assert a.stdout == b.stdout
    assert json.loads(c.stdout)["results"]["lab_total_cost_usd"] != lab


def test_summary_keys() -> None:
    r = truecost.estimate(_uncertain_run(), samples=20_000, seed=1)
    assert set(r.results["gpu_hours"]) == {"mean", "p5", "p50", "p95"}
    assert r.to_dict()["samples"] == 20_000 and r.to_dict()["seed"] == 1


def test_seed_zero_is_a_seed() -> None:
    a = truecost.estimate(_uncertain_run(), samples=1000, seed=0).results["gpu_hours"]
    b = truecost.estimate(_uncertain_run(), samples=1000, seed=0).results["gpu_hours"]
    assert a == b


def test_one_draw_per_input_a_minus_a_is_zero() -> None:
    """The rental price feeds final_run_cost_usd and headline_cost_usd; MFU feeds gpu_hours and
    energy: one draw each per trial, so the differences / ratios are exact in every trial."""
    r = truecost.estimate(_uncertain_run(), samples=50_000, seed=3)
    d = r.draws
    assert np.all(d["headline_cost_usd"] - d["final_run_cost_usd"] == 0)
    ratio = d["energy_kwh"] / d["gpu_hours"]
    assert_allclose(ratio, ratio[0], rtol=1e-12)
    assert np.std(d["gpu_hours"]) > 0


def test_point_estimate_is_chain_at_medians_and_matches_p50_for_monotone_chain() -> None:
    """gpu_hours is monotone in the single uncertain input (MFU), so its p50 is the chain at p50."""
    scn = _uncertain_run(pricing={"rental_usd_per_gpu_hour": 2.0})
    point = truecost.estimate(scn)
    mfu_median = float(np.sqrt(0.3 * 0.45))  # lognormal median = geometric mean of the 90% CI
    fixed = _uncertain_run(pricing={"rental_usd_per_gpu_hour": 2.0})
    fixed["cluster"] = dict(fixed["cluster"], mfu=mfu_median)
    assert_allclose(point.results["gpu_hours"], truecost.estimate(fixed).results["gpu_hours"], rtol=1e-12)
    mc = truecost.estimate(scn, samples=100_000, seed=5)
    assert_allclose(mc.results["gpu_hours"]["p50"], point.results["gpu_hours"], rtol=0.01)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"ci90": [0.5, 0.3]}, "cluster.mfu"),
        ({"dist": "gamma", "a": 1}, "unknown dist"),
        ({"dist": "normal", "mean": 0.4, "sd": -0.1}, "sd"),
        ({"ci90": [0.5, 1.5]}, "95th percentile"),  # reaches an MFU above 1
    ],
)
def test_bad_distribution_specs(spec: dict, message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        truecost.estimate(_uncertain_run(cluster={"accelerator": "h100-sxm", "count": 64, "mfu": spec}))


def test_bad_distribution_spec_cli_exit_2(tmp_path) -> None:
    f = tmp_path / "s.yaml"
    f.write_text(
        "training: {flops: 1.0e24}\ncluster: {accelerator: h800, count: 8, mfu: {dist: uniform, low: 0.5, high: 0.2}}\n"
    )
    res = runner.invoke(app, ["estimate", str(f), "--samples", "100"])
    assert res.exit_code == 2 and "cluster.mfu" in res.output


def test_distribution_on_layout_field_is_refused() -> None:
    with pytest.raises(ScenarioError, match="training.seq_len"):
        truecost.estimate(_uncertain_run(training={"tokens": 1e12, "seq_len": {"ci90": [2048, 8192]}}))
