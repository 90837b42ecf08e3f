"""The serving stage called directly: hand-checked values, DeepSeek Day 6 (deepseek-ai/open-infra-index,
2025-03-01; shared/reference/serving_anchors.md), the calibration on the TensorRT-LLM
perf-overview tables, and bad input."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.testing import assert_allclose

from truecost.catalog import get_accelerator, get_model, serving_calibration
from truecost.errors import ScenarioError
from truecost.scenario import load_raw, validate
from truecost.scenario.serving import Replica, Serving
from truecost.stages.serving import ServingResult, stage
from truecost.stages.serving.calibrate import Z90, fit, leave_one_out, summary
from truecost.stages.serving.datasets import serving_rows
from truecost.stages.serving.layout import search
from truecost.stages.serving.memory import kv_bytes_per_token, weight_bytes_per_gpu
from truecost.stages.serving.params import fitted
from truecost.stages.serving.throughput import Workload, hardware, rates
from truecost.stages.serving.timing import decode_step_time

DS = get_model("deepseek-v3").arch
L8 = get_model("llama-3.1-8b").arch
L70 = get_model("llama-3.1-70b").arch
L405 = get_model("llama-3.1-405b").arch
H800 = get_accelerator("h800")
H100 = get_accelerator("h100-sxm")


def _day6(**over: Any) -> Serving:
    raw = load_raw("deepseek-serving")["serving"]
    return Serving(**{**raw, **over})


@pytest.fixture(scope="module")
def day6() -> ServingResult:
    return stage(_day6(), DS, H800, rental_usd_per_gpu_hour=2.0, owned_usd_per_gpu_hour=1.2)


# ---- hand-checked values ------------------------------------------------------------------------
def test_kv_bytes_per_token() -> None:
    # MLA: (kv_lora 512 + rope 64) x 61 layers x 2 bytes (BF16).
    assert kv_bytes_per_token(DS, "bf16") == 576 * 61 * 2 == 70_272
    # GQA: K and V x 32 layers x 8 KV heads x 128 x 1 byte (FP8).
    assert kv_bytes_per_token(L8, "fp8") == 2 * 32 * 8 * 128 == 65_536
    assert kv_bytes_per_token(L70, "bf16") == 2 * 80 * 8 * 128 * 2


def test_weight_bytes_per_gpu() -> None:
    assert weight_bytes_per_gpu(L70, Replica(gpus=4, tp=4), "fp8") == pytest.approx(L70.params_total / 4)
    # NVFP4: 4.5 bits per weight with its block scales.
    assert weight_bytes_per_gpu(L70, Replica(gpus=1), "fp4") == pytest.approx(L70.params_total * 4.5 / 8)
    # DeepSeek decode unit: non-routed weights on every GPU, routed experts spread over 144.
    routed = 58 * 256 * 3 * 7168 * 2048
    want = DS.params_total - routed + routed / 144
    assert weight_bytes_per_gpu(DS, Replica(gpus=144, ep=144), "fp8") == pytest.approx(want)


def test_decode_step_hand_checked() -> None:
    """One Llama 3.1 8B sequence on one H100 with unit efficiencies: HBM time + compute time + 0.
    A unit compute share sustains the catalog's measured best FP8 GEMM (DeepGEMM: 1350 of 1979
    TFLOPS), not the datasheet peak."""
    p = fitted().with_(hbm_efficiency=1.0, compute_efficiency={"16bit": 1.0, "fp8": 1.0, "fp4": 1.0})
    hw = hardware(H100, "fp8", "fp8", p)
    t = decode_step_time(L8, Replica(gpus=1), 1.0, 1000.0, "fp8", "fp8", hw, p)
    read = L8.params_total - L8.embedding_params  # the embedding table is a lookup
    kv = 1000 * 65_536
    matmul = 2 * (32 * L8.attn_params + 32 * L8.dense_mlp_params + 4096 * 128_256)
    core = 2 * 32 * (32 * 128 + 32 * 128) * 1000
    want = (read + kv) / 3.35e12 + (matmul + core) / (1978.9e12 * 1350 / 1979)
    assert_allclose(float(t), want, rtol=1e-12)


def test_vectorised_matches_scalar() -> None:
    p = fitted()
    w_arr = Workload(
        np.array([500.0, 1000.0]), 1000.0, np.array([1000.0, 1500.0]), precision="fp8", kv_precision="fp8"
    )
    arr = rates(L70, H100, Replica(gpus=4, tp=4), w_arr, p)
    for i, (inp, ctx) in enumerate([(500.0, 1000.0), (1000.0, 1500.0)]):
        one = rates(
            L70,
            H100,
            Replica(gpus=4, tp=4),
            Workload(inp, 1000.0, ctx, precision="fp8", kv_precision="fp8"),
            p,
        )
        assert_allclose(arr.output_tokens_per_s_per_gpu[i], one.output_tokens_per_s_per_gpu, rtol=1e-9)


def test_more_bandwidth_never_slower() -> None:
    p = fitted()
    w = Workload(1000.0, 1000.0, 1500.0, precision="fp8", kv_precision="fp8")
    slow = rates(L70, H100, Replica(gpus=4, tp=4), w, p.with_(hbm_efficiency=0.6))
    fast = rates(L70, H100, Replica(gpus=4, tp=4), w, p.with_(hbm_efficiency=0.9))
    assert float(fast.output_tokens_per_s_per_gpu) > float(slow.output_tokens_per_s_per_gpu)


def test_cache_hits_raise_the_input_rate() -> None:
    p = fitted()
    pre = Replica(gpus=32, ep=32)
    miss = rates(
        DS,
        H800,
        Replica(gpus=144, ep=144),
        Workload(3619, 1000, 4989, 0.0, None, "fp8", "bf16"),
        p,
        prefill_replica=pre,
    )
    hit = rates(
        DS,
        H800,
        Replica(gpus=144, ep=144),
        Workload(3619, 1000, 4989, 0.5, None, "fp8", "bf16"),
        p,
        prefill_replica=pre,
    )
    assert float(hit.input_tokens_per_s_per_gpu) > 1.5 * float(miss.input_tokens_per_s_per_gpu)


def test_tpot_target_cuts_the_batch() -> None:
    s_free = _day6(tpot_ms=None, output_tokens_per_s_per_gpu=None, input_tokens_per_s_per_gpu=None)
    s_tight = _day6(tpot_ms=30.0, output_tokens_per_s_per_gpu=None, input_tokens_per_s_per_gpu=None)
    free = stage(s_free, DS, H800, rental_usd_per_gpu_hour=2.0)
    tight = stage(s_tight, DS, H800, rental_usd_per_gpu_hour=2.0)
    assert float(tight.batch_sequences) < float(free.batch_sequences)
    assert float(tight.step_time_s) == pytest.approx(0.030, rel=1e-6)
    assert float(tight.serving_usd_per_m_output_tokens) > float(free.serving_usd_per_m_output_tokens)


def test_price_scales_cost_linearly() -> None:
    s = Serving(
        accelerator="h100-sxm",
        gpus=8,
        replica={"gpus": 4, "tp": 4},
        input_tokens=1000,
        output_tokens=1000,
        daily_output_tokens=1e9,
    )
    a = stage(s, L70, H100, rental_usd_per_gpu_hour=2.0)
    b = stage(s, L70, H100, rental_usd_per_gpu_hour=6.0)
    assert_allclose(b.serving_usd_per_m_output_tokens, 3 * a.serving_usd_per_m_output_tokens)
    assert_allclose(b.serving_cost_usd_per_day, 3 * a.serving_cost_usd_per_day)


def test_gpus_sized_from_daily_volume() -> None:
    s = Serving(
        accelerator="h100-sxm",
        replica={"gpus": 4, "tp": 4},
        input_tokens=1000,
        output_tokens=1000,
        daily_output_tokens=1e10,
    )
    r = stage(s, L70, H100, rental_usd_per_gpu_hour=2.0)
    need = 1e10 / (r.serving_output_tokens_per_s_per_gpu * 86_400)
    assert_allclose(r.gpus_unrounded, need)
    assert r.serving_gpus == 4 * np.ceil(need / 4)  # whole 4-GPU replicas
    assert r.serving_gpus - need < 4
    assert_allclose(r.serving_cost_usd_per_day, r.serving_gpus * 24 * 2.0)
    # At half load the same volume needs twice the GPUs, and each token costs twice as much.
    half = stage(s.model_copy(update={"utilisation": 0.5}), L70, H100, rental_usd_per_gpu_hour=2.0)
    assert_allclose(half.gpus_unrounded, 2 * need)
    assert_allclose(half.serving_usd_per_m_output_tokens, 2 * r.serving_usd_per_m_output_tokens)
    assert any("50% of the sustained rate" in w for w in half.warnings)


def test_fleet_volume_scales_with_utilisation() -> None:
    s = Serving(
        accelerator="h100-sxm", gpus=64, replica={"gpus": 4, "tp": 4}, input_tokens=1000, output_tokens=1000
    )
    full = stage(s, L70, H100, rental_usd_per_gpu_hour=2.0)
    part = stage(s.model_copy(update={"utilisation": 0.6}), L70, H100, rental_usd_per_gpu_hour=2.0)
    assert_allclose(part.daily_output_tokens, 0.6 * full.daily_output_tokens)
    assert part.serving_cost_usd_per_day == full.serving_cost_usd_per_day


def test_layout_search_picks_a_fitting_layout() -> None:
    w = Workload(1000.0, 1000.0, 1500.0, precision="fp8", kv_precision="fp8")
    rep = search(L405, H100, w, fitted(), max_gpus=8)
    assert rep.gpus == 8 and rep.tp == 8  # 405 GB of FP8 weights need the whole node
    rep = search(L8, H100, w, fitted(), max_gpus=8)
    assert rep.gpus == 1


# ---- DeepSeek Day 6 -----------------------------------------------------------------------------
def test_day6_arithmetic(day6: ServingResult) -> None:
    """Day 6: 226.75 nodes x 8 x 24 h x $2 = $87,072; $562,027 revenue at R1 prices; 545% margin."""
    assert day6.serving_cost_usd_per_day == pytest.approx(87_072.0, rel=1e-12)
    assert day6.serving_revenue_usd_per_day == pytest.approx(562_027.0, rel=0.005)
    assert day6.serving_cost_profit_margin == pytest.approx(5.45, abs=0.01)
    assert day6.serving_gpus == 1814


def test_day6_cost_per_million_tokens(day6: ServingResult) -> None:
    """serving_anchors.md: about $0.30 per M output tokens and $0.06 per M input tokens at $16/node-h."""
    assert day6.serving_usd_per_m_output_tokens == pytest.approx(16 / (14_800 * 3600) * 1e6, rel=1e-9)
    assert day6.serving_usd_per_m_input_tokens == pytest.approx(16 / (73_700 * 3600) * 1e6, rel=1e-9)
    assert day6.serving_owned_usd_per_m_output_tokens == pytest.approx(
        0.6 * day6.serving_usd_per_m_output_tokens
    )


def test_day6_predicted_decode_rate_within_30_percent(day6: ServingResult) -> None:
    """Predicted for EP144 decode, FP8, 4,989 KV tokens, 47.6 ms per token: vs 14.8k tokens/s per
    node. Achieved: 16.3k, +10%; nothing was fitted to it.

    Left between them: expert load imbalance across the 144 GPUs, MTP speculative decoding,
    scheduler overheads and load below capacity in part of the day (the figure is a daily average).
    """
    pred = float(day6.predicted_output_tokens_per_s_per_node)
    assert pred == pytest.approx(14_800, rel=0.15)
    assert 60 < float(day6.batch_sequences) / 144 < 120  # Day 6 implies about 88 streams per GPU


def test_day6_predicted_prefill_rate_gap_is_known(day6: ServingResult) -> None:
    """Predicted prefill for EP32 vs 73.7k input tokens/s per node (cache hits counted): the model
    reads about 2.6x higher. With the all-to-all counted as DeepSeek describes it (each token
    crosses InfiniBand once per destination node, then NVLink: V3 report sec. 3.4.1) the EP32
    prefill unit is compute-bound, at the sustained compute share fitted on the dense benchmark
    runs. The prediction is a capacity; DeepSeek's figure is a daily average of prefill nodes
    sized for peak load. Also left out: expert and attention load imbalance across the 32 ranks,
    communication kernels taking SMs from compute, the KV transfer to decode nodes and loading
    cache hits from disk. This test pins the gap so a change to it is seen."""
    ratio = float(day6.predicted_input_tokens_per_s_per_node) / 73_700
    assert 2.4 < ratio < 2.8


def test_prefill_all_to_all_crosses_the_network_once_per_node() -> None:
    """EP32 over 4 nodes: 8 expert copies per token, 6 of them to other nodes without dedup,
    3 x (1 - 0.75^8) = 2.70 distinct remote nodes with it."""
    from truecost.stages.serving.throughput import hardware
    from truecost.stages.serving.timing import ep_copy_bytes, ep_time_per_token

    hw = hardware(H800, "fp8", "bf16", fitted())
    rep = Replica(gpus=32, ep=32)
    c = ep_copy_bytes(DS, "fp8")
    assert c == 58 * 7168 * (1 + 2)  # fp8 dispatch + bf16 combine, every MoE layer
    assert ep_time_per_token(DS, rep, "fp8", hw) == pytest.approx(c * 6 / hw.scale_out_byte_per_s)
    dedup = ep_time_per_token(DS, rep, "fp8", hw, dedup=True)
    remote = c * 3 * (1 - 0.75**8) / hw.scale_out_byte_per_s
    local = c * 8 * 31 / 32 / hw.scale_up_byte_per_s
    assert dedup == pytest.approx(max(remote, local))


# ---- calibration --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def loo() -> list[Any]:
    return leave_one_out()


def test_shipped_calibration_is_the_refit() -> None:
    cal = serving_calibration()
    p = fit(list(serving_rows()))
    assert p.hbm_efficiency == pytest.approx(cal["fitted"]["hbm_efficiency"], abs=2e-3)
    for k, v in p.compute_efficiency.items():
        assert v == pytest.approx(cal["fitted"]["compute_efficiency"][k], abs=2e-3)
    assert cal["data"] == [r.id for r in serving_rows()]


def test_leave_one_out_errors(loo: list[Any]) -> None:
    """Each TensorRT-LLM perf-overview row predicted by a fit on the others."""
    s = summary(loo)  # achieved: mean 8.7%, median 4.8%, max 19.5%
    assert s["mean_abs_error"] < 0.095
    assert s["median_abs_error"] < 0.06
    assert s["max_abs_error"] < 0.21
    assert s["log_sd"] == pytest.approx(serving_calibration()["leave_one_out"]["log_sd"], abs=2e-3)


def test_leave_one_accelerator_out() -> None:
    """Each accelerator's rows predicted by a fit on the other accelerators' rows."""
    from truecost.stages.serving.calibrate import leave_accelerator_out

    s = summary(leave_accelerator_out())  # achieved: mean 9.2%, max 22.6%
    assert s["mean_abs_error"] < 0.10
    assert s["max_abs_error"] < 0.24
    shipped = serving_calibration()["leave_one_accelerator_out"]
    assert s["mean_abs_error"] == pytest.approx(shipped["mean_abs_error"], abs=2e-3)


def test_interval_covers_most_measured_rows(loo: list[Any]) -> None:
    """The 90% interval (x/÷ exp(1.645 x LOO log RMS)) holds most of the measured figures."""
    factor = np.exp(Z90 * summary(loo)["log_sd"])
    inside = [1 / factor <= r.predicted / r.measured <= factor for r in loo]
    assert sum(inside) >= 0.8 * len(loo)


# ---- bad input ----------------------------------------------------------------------------------
def test_replica_that_does_not_fit_names_field_and_shortfall() -> None:
    s = Serving(
        accelerator="h100-sxm",
        precision="bf16",
        gpus=8,
        replica={"gpus": 1},
        input_tokens=100,
        output_tokens=100,
    )
    with pytest.raises(ScenarioError, match=r"short by \d+\.\d GB per GPU") as exc:
        stage(s, L405, H100, rental_usd_per_gpu_hour=2.0)
    assert exc.value.field == "serving.replica"


def test_tpot_no_batch_can_meet() -> None:
    s = Serving(
        accelerator="h100-sxm",
        gpus=8,
        replica={"gpus": 8, "tp": 8},
        input_tokens=100,
        output_tokens=100,
        tpot_ms=1.0,
    )
    with pytest.raises(ScenarioError, match="no batch can meet 1 ms") as exc:
        stage(s, L405, H100, rental_usd_per_gpu_hour=2.0)
    assert exc.value.field == "serving.tpot_ms"


def test_replica_larger_than_fleet() -> None:
    raw = {
        "serving": {"gpus": 64, "replica": {"gpus": 144, "ep": 144}, "input_tokens": 1, "output_tokens": 1}
    }
    with pytest.raises(ScenarioError, match="larger than serving.gpus \\(64\\), by 80 GPUs") as exc:
        validate(raw)
    assert exc.value.field == "serving.replica"


def test_bad_layout_and_precision() -> None:
    with pytest.raises(ScenarioError, match="tp x dp must equal gpus"):
        validate(
            {"serving": {"gpus": 8, "replica": {"gpus": 8, "tp": 3}, "input_tokens": 1, "output_tokens": 1}}
        )
    s = Serving(accelerator="h100-sxm", precision="fp4", gpus=8, input_tokens=1, output_tokens=1)
    with pytest.raises(ScenarioError, match="no published dense fp4 peak") as exc:
        stage(s, L8, H100, rental_usd_per_gpu_hour=2.0)
    assert exc.value.field == "serving.precision"


def test_needs_fleet_or_volume() -> None:
    with pytest.raises(ScenarioError, match="daily volume"):
        validate({"serving": {"input_tokens": 1, "output_tokens": 1}})


def test_fp4_peaks_sourced() -> None:
    for acc_id, tflops in (("b200", 9000), ("gb200", 10000)):
        acc = get_accelerator(acc_id)
        assert acc.peak("fp4") == pytest.approx(tflops * 1e12)
        assert "FP4" in acc.extra["serving_source"]


# ---- end to end ---------------------------------------------------------------------------------
def test_estimate_deepseek_serving_json() -> None:
    """`truecost estimate deepseek-serving --json` gives the Day-6 figures."""
    import json
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "truecost.cli", "estimate", "deepseek-serving", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    res = json.loads(out.stdout)["results"]
    assert res["serving_cost_usd_per_day"] == pytest.approx(87_072.0)
    assert res["serving_revenue_usd_per_day"] == pytest.approx(562_027.0, rel=0.005)
    assert res["serving_cost_profit_margin"] == pytest.approx(5.45, abs=0.01)
    assert res["serving_usd_per_m_output_tokens"] == pytest.approx(0.30, abs=0.001)
    assert res["serving_owned_usd_per_m_output_tokens"] > 0


def test_estimate_serving_monte_carlo_and_sizing() -> None:
    """A serving-only scenario: the fleet is sized from the daily volume, distributions flow through."""
    import truecost

    scn = {
        "model": "llama-3.1-70b",
        "pricing": {"rental_usd_per_gpu_hour": {"ci90": [1.5, 3.0]}},
        "serving": {
            "accelerator": "h200",
            "precision": "fp8",
            "replica": {"gpus": 4, "tp": 4},
            "input_tokens": 1000,
            "output_tokens": 1000,
            "daily_output_tokens": 1e11,
            "price_usd_per_m_tokens": {"input": 0.5, "output": 1.5},
        },
    }
    r = truecost.estimate(scn, samples=2000, seed=1)
    cost = r.results["serving_cost_usd_per_day"]
    assert cost["p5"] < cost["p50"] < cost["p95"]
    gpus = r.value("serving_gpus")
    need = 1e11 / (r.value("serving_output_tokens_per_s_per_gpu") * 86_400)
    assert gpus == 4 * np.ceil(need / 4)  # whole 4-GPU replicas
    assert r.details["serving"]["replica"] == {"gpus": 4, "tp": 4, "ep": 1, "dp": 1}


def test_validate_has_serving_set() -> None:
    from truecost.analysis.validate import validate_all

    sets = validate_all()["sets"]
    s = sets["serving-throughput"]
    assert s["n"] == 13
    assert s["held_out_mape_pct"] == pytest.approx(8.7, abs=0.1)  # leave-one-out, every row
    checks = {r["label"]: r["error_pct"] for r in sets["serving-checks"]["rows"]}
    # Never fitted (BF16 on H100): output +4.4%, decode step vs the measured ITL -5.7%.
    assert checks["trtllm014-server-llama3.1-70b-h100tp4-bf16-infqps"] == pytest.approx(4.4, abs=1.0)
    assert checks["trtllm014-server-llama3.1-70b-h100tp4-bf16-infqps-itl"] == pytest.approx(-5.7, abs=1.0)
    d = {r["label"]: r for r in sets["serving-day6"]["rows"]}
    assert d["deepseek-day6-decode-per-node"]["error_pct"] == pytest.approx(10.2, abs=0.5)
    assert 140 < d["deepseek-day6-prefill-per-node"]["error_pct"] < 180


def test_lab_with_serving_shows_inference_share_beside_serving_cost() -> None:
    """A lab scenario with a serving section: the lab's inference fleet share and the serving cost
    over the same horizon side by side, with the gap explained."""
    import truecost

    raw = load_raw("deepseek-lab")
    raw["serving"] = load_raw("deepseek-serving")["serving"]
    r = truecost.estimate(raw)
    side = r.details["serving_vs_lab"]
    years = side["horizon_years"]
    assert side["serving_rental_cost_usd_over_horizon"] == pytest.approx(87_072 * 365.25 * years)
    assert side["lab_inference_fleet_share_usd"] > 0
    assert "CapEx" in side["gap"]


def test_reference_points_compare_predicted_rates() -> None:
    import truecost

    refs = {p["name"]: p for p in truecost.estimate("deepseek-serving").details["reference_points"]}
    decode = refs["Day 6 decode throughput per node"]
    assert decode["compare_to"] == "predicted_output_tokens_per_s_per_node"
    assert decode["ours_over_reference"] == pytest.approx(1.0, abs=0.3)


def test_monte_carlo_carries_the_calibrated_throughput_interval() -> None:
    """With samples, a predicted rate spreads by the LOO 90% interval; measured rates do not."""
    import truecost

    raw = load_raw("deepseek-serving")
    raw["serving"].pop("output_tokens_per_s_per_gpu")
    raw["serving"].pop("input_tokens_per_s_per_gpu")
    r = truecost.estimate(raw, samples=4000, seed=3)
    rate = r.results["serving_output_tokens_per_s_per_gpu"]
    factor = np.exp(Z90 * fitted().log_sd)
    assert rate["p95"] / rate["p50"] == pytest.approx(factor, rel=0.05)
    assert rate["p50"] / rate["p5"] == pytest.approx(factor, rel=0.05)
    fixed = truecost.estimate("deepseek-serving", samples=1000, seed=3).results["serving_cost_usd_per_day"]
    assert fixed["p5"] == fixed["p95"] == pytest.approx(87_072.0)


def test_serving_curve_cost_falls_as_the_target_loosens() -> None:
    from truecost.analysis.serving_curve import serving_curve

    pts = serving_curve("deepseek-serving", [5.0, 25.0, 47.6, 80.0, None])
    assert "error" in pts[0] and "tpot_ms" in pts[0]["error"]
    costs = [p["usd_per_m_output_tokens"] for p in pts[1:]]
    assert costs == sorted(costs, reverse=True)


def test_report_has_serving_cards_and_cost_curve(tmp_path: Any) -> None:
    """The HTML and Markdown reports show $/M tokens and margin cards and the cost-vs-latency table."""
    from pathlib import Path

    import truecost
    from truecost.report import markdown
    from truecost.report.content import gather
    from truecost.report.html import body

    data = gather(truecost.estimate("deepseek-serving"))
    assert [v.key for v in data.serving][:2] == [
        "serving_usd_per_m_output_tokens",
        "serving_owned_usd_per_m_output_tokens",
    ]
    costs = [p["usd_per_m_output_tokens"] for p in data.serving_curve if "error" not in p]
    assert costs == sorted(costs, reverse=True)
    html = str(body(data))
    assert 'id="serving"' in html and 'data-key="serving_cost_profit_margin"' in html
    assert "Output tokens cost" in data.answer
    md, pngs = markdown.document(data, Path(tmp_path) / "r.md")
    assert "## Serving: cost per million tokens" in md
    assert any(p.name == "r-serving.png" for p in pngs)
    from truecost.report.charts import charts, plotly_figure

    curve = next(c for c in charts(data) if c.key == "serving")
    fig = plotly_figure(curve)
    assert [t["name"] for t in fig["data"]] == ["rented GPUs", "owned GPUs"]
    plain = gather(truecost.estimate("deepseek-v3"))
    assert plain.serving == () and 'id="serving"' not in str(body(plain))


def test_web_view_has_the_serving_fragment() -> None:
    """The calculator page's /api/view gives the serving cards for a serving scenario, none otherwise."""
    from fastapi.testclient import TestClient

    from truecost.web import create_app

    with TestClient(create_app()) as c:
        r = c.post("/api/view", json={"scenario": "deepseek-serving"}).json()
        assert 'data-key="serving_usd_per_m_output_tokens"' in r["html"]["serving"]
        assert r["html"]["serving"].count("<tr>") > 5  # layout rows and the cost curve
        assert "serving" in r["figures"]
        plain = c.post("/api/view", json={"scenario": "deepseek-v3"}).json()
        assert plain["html"]["serving"] == ""
    page = (Path(__file__).resolve().parents[1] / "src/truecost/web/templates/index.html").read_text()
    assert 'id="sec-serving"' in page


def test_serving_feeds_the_carbon_stage() -> None:
    """With a carbon section, serving gets gCO2e per million output tokens: the whole serving fleet's
    GPU-hours per million output tokens x power x PUE x grid intensity (1,814 GPUs x 24 h / 168,000)."""
    import truecost

    raw = load_raw("deepseek-serving")
    raw["carbon"] = {"grid_g_co2e_per_kwh": 500.0}
    r = truecost.estimate(raw)
    hours = 1814 * 24 / 168_000  # GPU-hours per million output tokens
    g = r.results["serving_carbon_g_co2e_per_m_tokens"]
    # H800 700 W x server 1.82 x utilisation 0.75 x PUE 1.25 (the cited defaults), at 500 g/kWh
    assert g == pytest.approx(hours * 0.7 * 1.82 * 0.75 * 1.25 * 500, rel=1e-6)
    assert r.results["serving_embodied_g_co2e_per_m_tokens"] > 0


def test_monte_carlo_reuses_the_point_runs_searched_replica(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without serving.replica the layout is searched once, at the point values; every Monte Carlo
    trial uses that layout (chunks used to search again, each at its own draws)."""
    import copy
    import importlib

    import truecost
    from truecost.scenario import load_raw

    serving_stage = importlib.import_module("truecost.stages.serving.stage")

    calls = []
    real = serving_stage.search

    def counted(*a: Any, **k: Any) -> Any:
        calls.append(1)
        return real(*a, **k)

    monkeypatch.setattr(serving_stage, "search", counted)
    raw = copy.deepcopy(load_raw("deepseek-serving"))
    raw["serving"].pop("replica", None)
    raw["serving"].pop("output_tokens_per_s_per_gpu", None)
    raw["serving"]["cache_hit_rate"] = {"dist": "uniform", "low": 0.5, "high": 0.6}
    est = truecost.estimate(raw, samples=2000, seed=1)
    assert len(calls) == 1
    assert est.stages.serving.layout_searched


# ---- who pays: paid share and other price lists ----------------------------------------------
def test_day6_margin_at_v3_prices_and_break_even(day6: ServingResult) -> None:
    """Day 6's own reasons why real revenue is lower, computed: at V3 standard-hour prices (0.07 /
    0.27 / 1.10 $/M) the day's tokens earn 342.3B x 0.07 + 265.7B x 0.27 + 168B x 1.10 = $280.5K,
    a 222% margin over $87,072; revenue covers the cost once 87,072 / 561,975 = 15.5% of the
    traffic pays R1 prices, or 31.0% at V3 prices."""
    assert float(day6.serving_break_even_paid_share) == pytest.approx(87_072 / 561_975, rel=1e-3)
    v3 = day6.margins_by_price["V3 standard hours"]
    assert v3["revenue_usd_per_day"] == pytest.approx(
        608e9 * 0.563 * 0.07 / 1e6 + 608e9 * 0.437 * 0.27 / 1e6 + 168e9 * 1.1 / 1e6
    )
    assert v3["cost_profit_margin"] == pytest.approx(2.221, abs=1e-3)
    assert v3["break_even_paid_share"] == pytest.approx(0.310, abs=1e-3)
    # The fixture's owned rate is $1.2 per GPU-hour.
    assert v3["owned_cost_profit_margin"] == pytest.approx(v3["revenue_usd_per_day"] / (1814 * 24 * 1.2) - 1)


def test_paid_share_scales_revenue_not_cost(day6: ServingResult) -> None:
    part = stage(_day6(paid_share=0.25), DS, H800, rental_usd_per_gpu_hour=2.0, owned_usd_per_gpu_hour=1.2)
    assert float(part.serving_revenue_usd_per_day) == pytest.approx(
        0.25 * float(day6.serving_revenue_usd_per_day)
    )
    assert part.serving_cost_usd_per_day == day6.serving_cost_usd_per_day
    assert part.serving_break_even_paid_share == pytest.approx(day6.serving_break_even_paid_share)
    # Below the break-even share the margin is negative.
    assert (
        float(part.serving_cost_profit_margin)
        > 0
        > float(
            stage(_day6(paid_share=0.1), DS, H800, rental_usd_per_gpu_hour=2.0).serving_cost_profit_margin
        )
    )


def test_free_prices_warn_instead_of_an_infinite_break_even() -> None:
    free = {"input": 0.0, "output": 0.0, "input_cache_hit": 0.0}
    r = stage(
        _day6(price_usd_per_m_tokens=free, price_scenarios={"free": free}),
        DS,
        H800,
        rental_usd_per_gpu_hour=2.0,
    )
    assert r.serving_break_even_paid_share is None
    assert "break_even_paid_share" not in r.margins_by_price["free"]
    assert any("no paid share breaks even" in w for w in r.warnings)


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"paid_share": 1.5}, "serving.paid_share"),
        ({"price_scenarios": {"<b>x</b>": {"input": 1, "output": 2}}}, "serving.price_scenarios"),
        (
            {"price_scenarios": {f"p{i}": {"input": 1, "output": 2} for i in range(21)}},
            "serving.price_scenarios",
        ),
    ],
)
def test_bad_money_inputs_name_their_field(over: dict[str, Any], field: str) -> None:
    import truecost
    from truecost.errors import ScenarioError

    raw = load_raw("deepseek-serving")
    raw["serving"] = {**raw["serving"], **over}
    with pytest.raises(ScenarioError) as e:
        truecost.estimate(raw)
    assert field in str(e.value)


def test_disaggregated_fleet_without_a_prefill_rate_names_the_field() -> None:
    """No model and only a decode rate: a prefill pool cannot be sized (was an internal error)."""
    import truecost
    from truecost.errors import ScenarioError

    scn = {
        "pricing": {"rental_usd_per_gpu_hour": 2.0},
        "serving": {
            "accelerator": "h800",
            "prefill_replica": {"gpus": 32, "ep": 32, "dp": 32},
            "input_tokens": 3000,
            "output_tokens": 1000,
            "output_tokens_per_s_per_gpu": 1850,
            "daily_output_tokens": 1e11,
        },
    }
    with pytest.raises(ScenarioError) as e:
        truecost.estimate(scn)
    assert e.value.field == "serving.input_tokens_per_s_per_gpu"
    scn["serving"]["input_tokens_per_s_per_gpu"] = 9212.5
    r = truecost.estimate(scn)
    daily_in = 1e11 * 3000 / 1000
    # Decode pool in whole GPUs (no decode replica given), prefill pool in whole 32-GPU units.
    want = np.ceil(1e11 / (1850 * 86_400)) + 32 * np.ceil(daily_in / (9212.5 * 86_400) / 32)
    assert r.value("serving_gpus") == want
