"""FLOP accounting against the check values of ../shared/reference/formulas.md sec. 1 (table
"Check values", recomputed independently, per token, fwd+bwd, s = 4096), with the architecture
given inline (not by catalog id)."""

from __future__ import annotations

import pytest
from numpy.testing import assert_allclose

import truecost
from truecost.architecture import Architecture
from truecost.stages.flops import flops_per_token, narayanan_flops_per_iteration

DEEPSEEK_V3 = {
    "arch": "moe",
    "layers": 61,
    "d_model": 7168,
    "n_heads": 128,
    "ffn_dim": 18432,
    "vocab": 129280,
    "moe": {"experts": 256, "shared_experts": 1, "top_k": 8, "expert_ffn_dim": 2048, "first_dense_layers": 3},
    "mla": {
        "q_lora_rank": 1536,
        "kv_lora_rank": 512,
        "qk_nope_head_dim": 128,
        "qk_rope_head_dim": 64,
        "v_head_dim": 128,
    },
    "mtp_depth": 1,
}
LLAMA_405B = {
    "layers": 126,
    "d_model": 16384,
    "n_heads": 128,
    "n_kv_heads": 8,
    "ffn_dim": 53248,
    "vocab": 128256,
}


def _fpt(model: dict, convention: str, seq_len: int = 4096) -> float:
    """flops_per_token through the whole chain with an inline scenario dict."""
    r = truecost.estimate({"model": model, "training": {"seq_len": seq_len, "flop_convention": convention}})
    return r.results["flops_per_token"]


@pytest.mark.parametrize(
    ("mtp", "convention", "gflop"),
    [
        (0, "megatron", 249.8),  # Megatron causal
        (1, "megatron", 260.0),  # Megatron causal + 1 MTP
        (1, "megatron-noncausal", 291.2),  # non-causal + 1 MTP
        (0, "6nd", 222.0),  # 6N with DeepSeek's 37B active
    ],
)
def test_deepseek_v3_check_values_formulas_md(mtp: int, convention: str, gflop: float) -> None:
    model = dict(DEEPSEEK_V3, mtp_depth=mtp)
    assert_allclose(_fpt(model, convention) / 1e9, gflop, rtol=0.02)


@pytest.mark.parametrize(
    ("convention", "gflop"), [("6nd", 2435), ("megatron", 2473), ("megatron-noncausal", 2524)]
)
def test_llama_405b_check_values_formulas_md(convention: str, gflop: float) -> None:
    assert_allclose(_fpt(LLAMA_405B, convention) / 1e9, gflop, rtol=0.02)


def test_llama_405b_6nd_over_15_6t_tokens_matches_meta_3_8e25() -> None:
    """Llama 3 paper sec. 3.3: 3.8e25 FLOPs for 405B on 15.6T tokens."""
    r = truecost.estimate({"model": LLAMA_405B, "training": {"tokens": 15.6e12, "flop_convention": "6nd"}})
    assert_allclose(r.results["training_flops"], 3.8e25, rtol=0.02)


def test_deepseek_v3_training_flops_3_85e24() -> None:
    """formulas.md: DeepSeek-V3 over 14.8T tokens with MTP, causal: 3.85e24 FLOP."""
    r = truecost.estimate({"model": DEEPSEEK_V3, "training": {"tokens": 14.8e12}})
    assert_allclose(r.results["training_flops"], 3.85e24, rtol=0.02)


def test_parameter_counts_by_hand() -> None:
    # 2 layers, h 64, 4 heads (MHA): attention 4 h^2 = 16384; plain MLP 2 h F = 32768; per layer
    # 49152; x2 = 98304; embedding + head 2 x 100 x 64 = 12800 -> 111104.
    a = Architecture(layers=2, d_model=64, n_heads=4, ffn_dim=256, vocab=100, glu=False)
    assert a.params_total == 111104
    assert a.params_active == a.params_total
    # causal Megatron per token: 6 x (98304 + 0.5 x 2 layers x (4x16 + 4x16) x 128 + 6400)
    expected = 6 * (98304 + 0.5 * 2 * 128 * 128 + 6400)
    assert flops_per_token(a, 128, "megatron") == pytest.approx(expected)


def test_narayanan_eq3_by_hand() -> None:
    # 96 B s l h^2 (1 + s/(6h) + V/(16 l h)) with B=1, s=6, l=1, h=1, V=16 -> 96*6*(1+1+1) = 1728
    assert narayanan_flops_per_iteration(1, 6, 1, 1, 16) == pytest.approx(1728)


def test_output_names_the_convention() -> None:
    r = truecost.estimate({"model": LLAMA_405B, "training": {"tokens": 1e12, "flop_convention": "6nd"}})
    assert r.details["flop_convention"] == "6nd"
    assert "6nd" in r.formulas["training_flops"]


def test_validate_lists_computed_vs_reported_flops() -> None:
    """`truecost validate`: Llama 3 paper 3.8e25 and GPT-3 Table D.1 3.14e23 reproduced under 6ND."""
    from truecost.analysis.validate import flops_rows

    rows = {r["label"]: r for r in flops_rows()}
    assert abs(rows["llama-3.1-405b (6nd)"]["error_pct"]) < 0.5
    assert abs(rows["gpt-3-175b (6nd)"]["error_pct"]) < 0.5
    assert all(r["measured"] > 0 and r["predicted"] > 0 for r in rows.values())


def test_validate_cli_json() -> None:
    import json

    from typer.testing import CliRunner

    from truecost.cli import app

    res = CliRunner().invoke(app, ["validate", "--json"])
    assert res.exit_code == 0, res.output
    sets = json.loads(res.stdout)["sets"]
    assert {"training-flops", "vtrain-single-node", "megatron-table1"} <= set(sets)
    assert sets["vtrain-single-node"]["mape_pct"] < 10 and sets["megatron-table1"]["mape_pct"] < 10
