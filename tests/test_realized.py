"""The realized-efficiency layer (issue 9): stacks, goodput at scale, the practitioner's layout,
leave-one-out accuracy on published runs, calibrated intervals in the chain, uncertain GPU counts."""

from __future__ import annotations

import csv
import io
from functools import cache
from importlib import resources

import numpy as np
import pytest

import truecost
from truecost.analysis.calibrate_realized import fitted_parameters, loo, summary
from truecost.catalog.fitted import realized_parameter, realized_parameters
from truecost.catalog.stacks import default_stack, stack_names, stack_rows
from truecost.errors import ScenarioError
from truecost.stages.perf.datasets import megatron_rows, megatron_step_time_s
from truecost.stages.perf.params import STACKS
from truecost.stages.perf.realized import goodput_at_scale

PREDICTED = {
    "name": "predicted 405B",
    "model": "llama-3.1-405b",
    "training": {"tokens": 15.6e12, "seq_len": 8192, "global_batch": 2048, "precision": "bf16"},
    "cluster": {"accelerator": "h100-sxm", "count": 16384},
    "pricing": {"rental_usd_per_gpu_hour": 2.35},
}


def _assumption(est, name):
    return next(a for a in est.to_dict()["assumptions"] if a["name"] == name)


# ---- stacks ---------------------------------------------------------------------------------------
def test_every_stack_row_is_sourced_and_has_physics():
    rows = stack_rows()
    assert {r["name"] for r in rows} == set(STACKS)  # every registered stack has its feature flags
    for r in rows:
        assert r["source"] and r["accessed"]


def test_unknown_stack_lists_the_valid_ones():
    bad = {**PREDICTED, "cluster": {**PREDICTED["cluster"], "stack": "pytorch-1999"}}
    with pytest.raises(ScenarioError) as exc:
        truecost.estimate(bad)
    assert exc.value.field.startswith("cluster.stack")
    for name in stack_names():
        assert name in str(exc.value)


def test_default_stack_from_start_date_and_accelerator():
    assert default_stack("a100-sxm4-80gb", 2021.5).name == "megatron-2021"
    assert default_stack("a100-sxm4-80gb", 2023.0).name == "megatron-core"
    assert default_stack("v100", 2024.0).name == "megatron-2021"  # megatron-core lists no V100
    assert default_stack("h100-sxm", None).name == "megatron-core"
    old = {**PREDICTED, "training": {**PREDICTED["training"], "start_date": "2021-06"}}
    old["cluster"] = {"accelerator": "a100-sxm4-80gb", "count": 2048}
    old["model"] = "llama-65b"
    old["training"]["seq_len"] = 2048
    a = _assumption(truecost.estimate(old), "software_stack")
    assert a["value"] == "megatron-2021" and "start_date" in a["source"]


# ---- goodput ------------------------------------------------------------------------------------
def test_goodput_at_scale_from_llama3_statistics():
    assert goodput_at_scale(16384) == pytest.approx(0.90)
    g = goodput_at_scale(np.array([8, 2048, 16384, 100_000]))
    assert np.all(np.diff(g) < 0) and g[0] > 0.999


# ---- Megatron Table 1 through the public scenario interface ---------------------------------------
def _megatron_scenario(r):
    return {
        "name": r.label,
        "model": {
            "arch": "dense",
            "layers": r.layers,
            "d_model": r.hidden,
            "n_heads": r.heads,
            "ffn_dim": 4 * r.hidden,
            "glu": False,
            "vocab": r.vocab,
            "tied_embeddings": True,
        },
        "training": {
            "tokens": 300e9,
            "seq_len": r.seq_len,
            "global_batch": r.global_batch,
            "precision": "fp16",
        },
        "cluster": {
            "accelerator": "a100-sxm4-80gb",
            "count": r.n_gpus,
            "stack": "megatron-2021",
            "parallelism": {
                "tp": r.tp,
                "pp": r.pp,
                "dp": r.dp,
                "recompute": "full",
                "schedule": "interleaved",
            },
        },
    }


def test_megatron_table1_through_the_scenario_interface():
    """Narayanan et al. 2021 Table 1: mean absolute step-time error 2.1% (bar 2.5%; issue bar 5%),
    worst 5.7% (bar 6.5%); a given layout is the physics (realized efficiency 1)."""
    errs = []
    for r in megatron_rows():
        est = truecost.estimate(_megatron_scenario(r))
        errs.append(abs(est.results["step_time_s"] / megatron_step_time_s(r) - 1))
        assert _assumption(est, "realized_efficiency")["value"] == 1.0
    assert np.mean(errs) < 0.025
    assert max(errs) < 0.065


# ---- leave-one-out on the published runs ---------------------------------------------------------
@cache
def _loo():
    return loo()


def test_loo_on_published_runs():
    """Each run predicted by the realized layer fitted without it: median |error| 7.5% (bar 8.5%;
    issue aim 10%), mean 9.1% (bar 10%), worst 17.9% (bar 20%), 90% interval covers 8 of 8 runs
    (bar 7 of 8; issue aim 80-100%)."""
    s = summary(_loo())
    assert s["n"] == 8
    assert s["median_abs_error_pct"] < 8.5
    assert s["mean_abs_error_pct"] < 10.0
    assert s["max_abs_error_pct"] < 20.0
    assert s["coverage_90"] >= 0.85


def test_validate_reports_loo_summary():
    from truecost.analysis.validate import realized_rows

    block = realized_rows()
    assert block["n"] == 8 and 0 < block["median_abs_error_pct"] < 8.5
    assert block["coverage_90"] >= 0.85
    for row in block["rows"]:
        assert row["p5"] < row["predicted"] < row["p95"]


def test_fitted_file_matches_its_rows():
    rows = realized_parameters()
    assert 0.7 < rows["realized_efficiency"].value < 0.95
    assert rows["realized_efficiency_p5"].value < rows["realized_efficiency"].value
    assert rows["realized_efficiency"].value < rows["realized_efficiency_p95"].value
    assert rows["given_layout_p5"].value < 1 < rows["given_layout_p95"].value
    text = resources.files("truecost.catalog").joinpath("data", "realized_efficiency.csv").read_text()
    for r in csv.DictReader(io.StringIO(text)):
        assert r["source"] and r["accessed"]


@pytest.mark.slow
def test_refit_reproduces_the_shipped_parameters():
    for row in fitted_parameters():
        assert realized_parameter(str(row["parameter"])).value == pytest.approx(float(row["value"]), rel=1e-3)


# ---- the chain ------------------------------------------------------------------------------------
def test_predicted_point_is_the_median_and_the_interval_is_listed():
    est = truecost.estimate(PREDICTED)
    eta = realized_parameter("realized_efficiency").value
    ideal = _assumption(est, "ideal_mfu")["value"]
    assert est.results["mfu"] == pytest.approx(ideal * eta)
    lo, hi = _assumption(est, "mfu_90pct_interval")["value"]
    assert lo < est.results["mfu"] < hi
    assert 0.3 < est.results["mfu"] < 0.45  # Llama 3 Table 4: 0.38-0.43 on H100
    assert _assumption(est, "goodput")["value"] == pytest.approx(0.90)


def test_samples_give_intervals_on_every_predicted_result():
    est = truecost.estimate(PREDICTED, samples=4000, seed=2)
    eta = realized_parameter
    for key in ("mfu", "gpu_hours", "wall_clock_days", "final_run_cost_usd", "step_time_s"):
        r = est.results[key]
        assert r["p5"] < r["p50"] < r["p95"], key
    mfu = est.results["mfu"]
    ratio = mfu["p95"] / mfu["p5"]
    want = eta("realized_efficiency_p95").value / eta("realized_efficiency_p5").value
    assert ratio == pytest.approx(want, rel=0.05)
    point = truecost.estimate(PREDICTED).results["gpu_hours"]
    assert est.results["gpu_hours"]["p50"] == pytest.approx(point, rel=0.02)


def test_given_realized_efficiency_removes_the_distribution():
    scn = {**PREDICTED, "cluster": {**PREDICTED["cluster"], "realized_efficiency": 0.8}}
    est = truecost.estimate(scn, samples=200, seed=1)
    assert est.results["gpu_hours"]["p5"] == est.results["gpu_hours"]["p95"]


def test_uncertain_count_predicts_per_drawn_count():
    """Issue 9 item 6: a uniform 2,048-8,192 count. Every draw's GPU-hours lie between the point
    estimates at the ends; wall-clock varies with the count."""
    base = {**PREDICTED, "cluster": {**PREDICTED["cluster"], "realized_efficiency": 0.8}}
    ends = {}
    for n in (2048, 8192):
        ends[n] = truecost.estimate({**base, "cluster": {**base["cluster"], "count": n}}).results
    scn = {**base, "cluster": {**base["cluster"], "count": {"dist": "uniform", "low": 2048, "high": 8192}}}
    est = truecost.estimate(scn, samples=3000, seed=4)
    lo, hi = sorted([ends[2048]["gpu_hours"], ends[8192]["gpu_hours"]])
    gh = est.results["gpu_hours"]
    assert lo * 0.995 <= gh["p5"] and gh["p95"] <= hi * 1.005
    days = est.results["wall_clock_days"]
    assert days["p5"] < 0.5 * days["p95"]
    assert days["p95"] <= ends[2048]["wall_clock_days"] * 1.01
    assert days["p5"] >= ends[8192]["wall_clock_days"] * 0.99


def test_sensitivity_sees_the_realized_efficiency():
    from truecost.analysis.sensitivity import sensitivity

    out = sensitivity(PREDICTED, output="gpu_hours", n=64, seed=1)
    assert [r["input"] for r in out["inputs"]] == ["cluster.realized_efficiency"]


def test_sensitivity_predicts_per_drawn_count():
    from truecost.analysis.sensitivity import sensitivity

    scn = {
        **PREDICTED,
        "cluster": {**PREDICTED["cluster"], "count": {"dist": "uniform", "low": 4096, "high": 16384}},
    }
    out = sensitivity(scn, output="wall_clock_days", n=64, seed=3)
    rows = {r["input"]: r for r in out["inputs"]}
    assert set(rows) == {"cluster.count", "cluster.realized_efficiency"}
    count = rows["cluster.count"]
    assert count["swing"]["low"] > 2 * count["swing"]["high"]  # 4x the GPUs: far fewer days
    assert count["total_order"] > rows["cluster.realized_efficiency"]["total_order"]


# ---- memory feasibility never rejects a configuration that ran (issue 9 item 5) ------------------
def test_every_measured_layout_fits_in_memory():
    from truecost.catalog import get_accelerator
    from truecost.stages.perf import Parallelism, predict_step
    from truecost.stages.perf.datasets import gpt2_arch, megatron_predictions, vtrain_rows
    from truecost.stages.perf.spec import StepSpec
    from truecost.stages.perf.step import evaluate, make_problem

    assert all(p.fits for p in megatron_predictions())
    rows = vtrain_rows()
    acc = get_accelerator("a100-sxm4-80gb")
    keys = np.stack([rows.hidden, rows.heads, rows.layers, rows.seq_len, rows.global_batch], axis=1)
    shapes, inverse = np.unique(keys, axis=0, return_inverse=True)
    for g, (h, a, layers, s, gb) in enumerate(shapes):
        idx = np.flatnonzero(inverse.ravel() == g)
        arch = gpt2_arch(int(h), int(a), int(layers))
        spec = StepSpec(arch, acc, int(rows.gpus[idx].max()), int(s), int(gb), "fp16", stack="megatron-2021")
        n = len(idx)
        lay = {
            "tp": rows.tp[idx], "pp": rows.pp[idx], "dp": rows.dp[idx], "ep": np.ones(n), "cp": np.ones(n),
            "micro_batch": rows.micro_batch[idx], "virtual_stages": np.ones(n), "zero": np.zeros(n, dtype=int),
            "recompute": np.full(n, 2), "schedule": np.zeros(n, dtype=int),
        }  # fmt: skip
        assert evaluate(make_problem(spec), lay)["fits"].all()
    # vTrain's multi-node 3.6B case named in issue 9: tp 1, pp 1, dp 64, micro-batch 8 on 80 GB A100s
    spec = StepSpec(gpt2_arch(3072, 32, 30), acc, 64, 2048, 512, "fp16", stack="megatron-2021")
    full = Parallelism(tp=1, pp=1, dp=64, ep=1, cp=1, micro_batch=8, recompute="full", schedule="1f1b",
                       virtual_stages=1, zero=0)  # fmt: skip
    assert predict_step(spec, full).fits
