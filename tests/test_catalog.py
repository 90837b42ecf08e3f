"""Catalog tests: schema (every row sourced, ids unique), hand-checked unit conversions, and
published model sizes reproduced from the architectures."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import re

import pytest

from truecost import catalog
from truecost.catalog import (
    Accelerator,
    CatalogError,
    UnknownIdError,
    accelerators,
    catalog_rows,
    get_accelerator,
    get_model,
    get_run,
    loaders,
    models,
    parse_accelerator_table,
    parse_models,
    parse_runs,
    runs,
)
from truecost.catalog.data_files import data_text
from truecost.catalog.loaders import ID_PATTERN

KINDS = ("hardware", "models", "runs")
EXPECTED_ACCELERATORS = [
    "v100", "a100-sxm4-40gb", "a100-sxm4-80gb", "h100-sxm", "h100-pcie", "h800", "h20", "h200", "b200",
    "gb200", "mi250x", "mi300x", "mi325x", "tpu-v3", "tpu-v4", "tpu-v5e", "tpu-v5p", "gaudi2", "gaudi3",
]  # fmt: skip
REQUIRED_MODELS = [
    "deepseek-v3", "deepseek-v2", "llama-3.1-8b", "llama-3.1-70b", "llama-3.1-405b", "llama-2-7b",
    "llama-2-13b", "llama-2-70b", "gpt-3-175b", "mixtral-8x7b", "qwen2.5-72b", "llama-65b", "llama-7b",
    "deepseek-llm-67b",
]  # fmt: skip
DEEPSEEK_CAVEAT = (
    "Note that the aforementioned costs include only the official training of DeepSeek-V3, excluding the "
    "costs associated with prior research and ablation experiments on architectures, algorithms, or data."
)


def _data_text(name: str) -> str:
    return data_text(name)


def _csv_with(text: str, row_id: str, column: str, value: str) -> str:
    """The CSV text with one cell replaced."""
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows, "empty csv"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        if row["id"] == row_id:
            row[column] = value
        writer.writerow(row)
    return out.getvalue()


# ---- schema tier --------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_every_row_has_source_and_iso_accessed(kind):
    rows = catalog_rows(kind)
    assert rows
    for row in rows:
        assert isinstance(row["source"], str) and row["source"].strip(), row["id"]
        assert isinstance(row["accessed"], str) and row["accessed"].strip(), row["id"]
        assert dt.date.fromisoformat(row["accessed"]).isoformat() == row["accessed"], row["id"]


@pytest.mark.parametrize("kind", KINDS)
def test_ids_unique_and_slug_shaped(kind):
    ids = [row["id"] for row in catalog_rows(kind)]
    assert len(ids) == len(set(ids))
    for row_id in ids:
        assert ID_PATTERN.match(row_id), row_id


@pytest.mark.parametrize("kind", KINDS)
def test_every_row_has_a_verification_grade(kind):
    """Grades as in shared/reference/README.md: P primary, S secondary, E estimate, D derived."""
    for row in catalog_rows(kind):
        assert row["verification"] and row["verification"][0] in "PSED", row["id"]


@pytest.mark.parametrize("kind", KINDS)
def test_rows_are_json_ready(kind):
    rows = catalog_rows(kind)
    assert json.loads(json.dumps(rows, allow_nan=False)) == rows


@pytest.mark.parametrize("kind", KINDS)
def test_numbers_are_positive(kind):
    for row in catalog_rows(kind):
        for key, value in row.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                assert math.isfinite(value) and value >= 0, (row["id"], key, value)
                if key not in ("shared_experts", "first_dense_layers", "mtp_depth"):
                    assert value > 0, (row["id"], key, value)


def test_accelerator_ids_exactly_the_reference_rows():
    """All 18 rows of shared/reference/hardware.csv, in the same order, plus TPU v3 (server_lifetimes.md sec. 3)."""
    assert [row["id"] for row in catalog_rows("hardware")] == EXPECTED_ACCELERATORS
    assert list(accelerators()) == EXPECTED_ACCELERATORS


def test_required_models_present():
    assert set(REQUIRED_MODELS) <= set(models())


def test_dense_fp8_at_least_bf16():
    for row in catalog_rows("hardware"):
        if row["dense_bf16_tflops"] is not None and row["dense_fp8_tflops"] is not None:
            assert row["dense_fp8_tflops"] >= row["dense_bf16_tflops"], row["id"]


def test_fp16_peak_equals_bf16_where_both_published():
    for acc in accelerators().values():
        if "bf16" in acc.peak_flop_per_s and "fp16" in acc.peak_flop_per_s:
            assert acc.peak("fp16") == acc.peak("bf16"), acc.id


def test_unit_price_dates_are_iso_when_present():
    for row in catalog_rows("hardware"):
        date = row["unit_price_date"]
        if date is not None:
            dt.date.fromisoformat((date + "-01-01")[:10])  # YYYY, YYYY-MM or YYYY-MM-DD
            assert len(date) in (4, 7, 10), row["id"]


def test_row_without_source_fails():
    text = _data_text("accelerators.csv")
    with pytest.raises(CatalogError, match=r"h100-sxm.*source"):
        parse_accelerator_table(_csv_with(text, "h100-sxm", "source", ""))
    with pytest.raises(CatalogError, match=r"h100-sxm.*accessed"):
        parse_accelerator_table(_csv_with(text, "h100-sxm", "accessed", ""))
    with pytest.raises(CatalogError, match=r"deepseek-v3.*source"):
        parse_runs(_csv_with(_data_text("runs.csv"), "deepseek-v3", "source", " "))
    with pytest.raises(CatalogError, match=r"tiny.*source"):
        parse_models(
            "tiny: {layers: 2, d_model: 64, n_heads: 4, ffn_dim: 256, vocab: 100, accessed: '2026-09-28'}"
        )


def test_bad_cells_fail_naming_row_and_column():
    text = _data_text("accelerators.csv")
    with pytest.raises(CatalogError, match=r"'h200', column 'tdp_w'.*positive"):
        parse_accelerator_table(_csv_with(text, "h200", "tdp_w", "-700"))
    with pytest.raises(CatalogError, match=r"'h200', column 'memory_gb'.*not a number"):
        parse_accelerator_table(_csv_with(text, "h200", "memory_gb", "141 GB"))
    with pytest.raises(CatalogError, match=r"'h200', column 'accessed'.*ISO"):
        parse_accelerator_table(_csv_with(text, "h200", "accessed", "28/09/2026"))
    with pytest.raises(CatalogError, match=r"'h200', column 'dense_fp8_tflops'.*below"):
        parse_accelerator_table(_csv_with(text, "h200", "dense_fp8_tflops", "500"))
    with pytest.raises(CatalogError, match=r"id 'H200'"):
        parse_accelerator_table(_csv_with(text, "h200", "id", "H200"))


def test_duplicate_ids_fail():
    text = _data_text("accelerators.csv")
    with pytest.raises(CatalogError, match="duplicate id 'h100-sxm'"):
        parse_accelerator_table(_csv_with(text, "h200", "id", "h100-sxm"))
    with pytest.raises(CatalogError, match="duplicate id 'deepseek-v3'"):
        parse_runs(_csv_with(_data_text("runs.csv"), "deepseek-v3-pretrain", "id", "deepseek-v3"))
    entry = (
        "{layers: 2, d_model: 64, n_heads: 4, ffn_dim: 256, vocab: 100, source: x, accessed: '2026-09-28'}"
    )
    with pytest.raises(CatalogError, match="duplicate key 'tiny'"):
        parse_models(f"tiny: {entry}\ntiny: {entry}\n")


def test_model_entry_with_unknown_field_fails():
    with pytest.raises(CatalogError, match="tiny"):
        parse_models(
            "tiny: {layers: 2, d_model: 64, n_heads: 4, ffn_dim: 256, vocab: 100, n_layers: 3,"
            " source: x, accessed: '2026-09-28'}"
        )


# ---- references between catalogs ---------------------------------------------------------------
def test_run_references_resolve():
    model_ids, accelerator_ids = set(models()), set(accelerators())
    referenced = 0
    for run in runs().values():
        if run.model_id is not None:
            assert run.model_id in model_ids, run.id
            referenced += 1
        if run.accelerator_id is not None:
            assert run.accelerator_id in accelerator_ids, run.id
    assert referenced >= 10


def test_bad_run_reference_fails():
    text = _csv_with(_data_text("runs.csv"), "gopher-280b", "accelerator_id", "tpu-v2")
    with pytest.raises(CatalogError, match=r"gopher-280b.*accelerator_id.*'tpu-v2'"):
        parse_runs(text, accelerator_ids=accelerators(), model_ids=models())


def test_every_reference_run_is_present():
    """One row per row of shared/reference/training_runs.csv (25 runs), TPU v3 runs unmapped."""
    assert len(runs()) == 25
    assert get_run("gopher-280b").accelerator_id is None  # TPU v3 is not in the catalog
    assert get_run("lamda-137b").accelerator_id is None


# ---- hand-checked conversions -------------------------------------------------------------------
def test_h100_sxm_in_si():
    """H100 whitepaper v1.04 Table 1: 989.4 TFLOPS dense BF16 -> 989.4e12 FLOP/s; 80 GB, 3.35 TB/s,
    700 W, NVLink 900 GB/s."""
    h100 = get_accelerator("h100-sxm")
    assert isinstance(h100, Accelerator)
    assert h100.peak("bf16") == pytest.approx(989.4e12, rel=1e-12)
    assert h100.peak("fp8") == pytest.approx(1978.9e12, rel=1e-12)
    assert h100.memory_byte == pytest.approx(80e9)
    assert h100.hbm_bandwidth_byte_per_s == pytest.approx(3.35e12)
    assert h100.scale_up_byte_per_s == pytest.approx(900e9)
    assert h100.tdp_w == 700
    assert h100.gpus_per_node == 8


def test_v100_has_fp16_only():
    """V100 datasheet: 125 TFLOPS FP16 Tensor Core; no BF16 or FP8."""
    v100 = get_accelerator("v100")
    assert v100.peak_flop_per_s == {"fp16": pytest.approx(125e12)}
    with pytest.raises(ValueError, match="no published dense bf16 peak"):
        v100.peak("bf16")


def test_ranges_stored_as_midpoints():
    """hardware.csv publishes ranges: B200 rental 2.80-3.20, GB200 unit price ~28,000-42,000."""
    assert get_accelerator("b200").rental_usd_per_gpu_hour == pytest.approx(3.0)
    assert get_accelerator("gb200").unit_price_usd == pytest.approx(35_000)
    assert "DERIVED" in get_accelerator("gb200").notes
    llama = get_run("llama-3.1-405b")
    assert (llama.reported_mfu_low, llama.reported_mfu, llama.reported_mfu_high) == pytest.approx(
        (0.38, 0.405, 0.43)
    )


def test_mfu_ranges_ordered():
    for run in runs().values():
        if run.reported_mfu_low is not None:
            assert run.reported_mfu is not None and run.reported_mfu_high is not None
            assert run.reported_mfu_low <= run.reported_mfu <= run.reported_mfu_high, run.id


# ---- unknown ids --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("getter", "noun", "valid"),
    [
        (get_accelerator, "accelerator", "h100-sxm"),
        (get_model, "model", "deepseek-v3"),
        (get_run, "run", "gpt-3-175b"),
    ],
)
def test_unknown_id_lists_valid_ids(getter, noun, valid):
    with pytest.raises(UnknownIdError, match=rf"unknown {noun} 'nope'; valid ids: .*\b{valid}\b"):
        getter("nope")


def test_unknown_catalog_kind_lists_kinds():
    with pytest.raises(
        UnknownIdError,
        match="valid kinds: embodied, grid, hardware, hardware-prices, models, prices, runs, stacks",
    ):
        catalog_rows("gpus")


# ---- caching -------------------------------------------------------------------------------------
def test_loaded_once_and_copies_handed_out():
    first = accelerators()
    first.pop("h100-sxm")
    misses = loaders._accelerators.cache_info().misses
    again = accelerators()
    assert "h100-sxm" in again
    assert loaders._accelerators.cache_info().misses == misses
    rows = catalog_rows("models")
    rows[0]["moe"]["experts"] = 1
    assert catalog_rows("models")[0]["moe"]["experts"] == 256


def test_public_api_exported():
    for name in ("accelerators", "get_accelerator", "models", "get_model", "runs", "get_run", "catalog_rows"):
        assert callable(getattr(catalog, name))


# ---- published figures --------------------------------------------------------------------------
# (model id, total tolerance, active tolerance); published sizes are stored in models.yaml with
# their source. A tolerance says how closely the shapes reproduce the developer's rounded figure.
PUBLISHED_SIZES = [
    ("deepseek-v3", 0.01, 0.02),  # 671B / 37B: DeepSeek-V3 Technical Report, arXiv:2412.19437
    ("deepseek-v2", 0.01, 0.02),  # 236B / 21B: DeepSeek-V2 paper, arXiv:2405.04434
    ("deepseek-llm-67b", 0.01, 0.01),  # 67B: arXiv:2401.02954 Table 2
    ("llama-3.1-8b", 0.001, 0.001),  # 8.03B: HF model card
    ("llama-3.1-70b", 0.001, 0.001),  # 70.6B: HF model card
    ("llama-3.1-405b", 0.001, 0.001),  # 405,853,388,800: shared/reference/training_runs.csv
    ("llama-2-7b", 0.001, 0.001),  # 6.74B: HF model card
    ("llama-2-13b", 0.005, 0.005),  # 13.0B: Llama 2 paper Table 1
    ("llama-2-70b", 0.005, 0.005),  # 69B: HF model card (68.98B)
    ("llama-7b", 0.01, 0.01),  # 6.7B: LLaMA paper Table 2
    ("llama-13b", 0.01, 0.01),  # 13.0B: LLaMA paper Table 2
    ("llama-33b", 0.01, 0.01),  # 32.5B: LLaMA paper Table 2
    ("llama-65b", 0.01, 0.01),  # 65.2B: LLaMA paper Table 2
    ("gpt-3-175b", 0.02, 0.02),  # 175B (N = 174.6B): GPT-3 paper Tables 2.1 and D.1
    ("mixtral-8x7b", 0.001, 0.002),  # 46.7B / 12.9B: Mixtral paper, arXiv:2401.04088
    ("qwen2.5-72b", 0.001, 0.001),  # 72.7B: Qwen2.5 model card
    ("qwen3-235b-a22b", 0.01, 0.01),  # 235B / 22B: Qwen3 report, arXiv:2505.09388
    ("kimi-k2", 0.03, 0.03),  # 1T / 32B: Kimi K2 report, arXiv:2507.20534 (rounded)
]


@pytest.mark.parametrize(("model_id", "tol_total", "tol_active"), PUBLISHED_SIZES)
def test_params_match_published_size(model_id, tol_total, tol_active):
    """Computed parameter counts reproduce the developer's stated size (source in models.yaml)."""
    entry = get_model(model_id)
    assert entry.published_params_total is not None and entry.published_params_active is not None
    assert entry.arch.params_total == pytest.approx(entry.published_params_total, rel=tol_total)
    assert entry.arch.params_active == pytest.approx(entry.published_params_active, rel=tol_active)


def test_every_model_has_a_published_size_check():
    checked = {model_id for model_id, _, _ in PUBLISHED_SIZES}
    assert checked == set(models())


def test_deepseek_v3_671b_37b():
    """DeepSeek-V3 Technical Report (arXiv:2412.19437): 671B total, 37B activated, MTP excluded."""
    arch = get_model("deepseek-v3").arch
    assert arch.params_total == pytest.approx(671e9, rel=0.01)
    assert arch.params_active == pytest.approx(37e9, rel=0.02)
    assert arch.mtp_depth == 1


def test_llama_31_405b_exact_size():
    """Llama 3 Herd of Models (arXiv:2407.21783) Table 3 shapes -> 405.85B within 0.1%."""
    assert get_model("llama-3.1-405b").arch.params_total == pytest.approx(405.85e9, rel=0.001)


def test_mixtral_total_and_active():
    """Mixtral of Experts (arXiv:2401.04088): 46.7B total, 12.9B active per token."""
    arch = get_model("mixtral-8x7b").arch
    assert arch.params_total == pytest.approx(46.7e9, rel=0.002)
    assert arch.params_active == pytest.approx(12.9e9, rel=0.002)


def test_gpt3_175b():
    """GPT-3 (arXiv:2005.14165) Table 2.1 / D.1: 175B (N = 174.6B), plain GELU MLP, tied embeddings."""
    arch = get_model("gpt-3-175b").arch
    assert not arch.glu and arch.tied_embeddings
    assert arch.params_total == pytest.approx(175e9, rel=0.02)


def test_deepseek_v3_runs_match_table_1():
    """DeepSeek-V3 Technical Report Table 1: 2,788K H800 GPU-hours, $5.576M at $2/GPU-h; the
    pre-training stage 2,664K GPU-hours, $5.328M; the paper's caveat is quoted on both rows."""
    full, pre = get_run("deepseek-v3"), get_run("deepseek-v3-pretrain")
    for run, hours, cost in ((full, 2.788e6, 5.576e6), (pre, 2.664e6, 5.328e6)):
        assert run.gpu_hours == pytest.approx(hours)
        assert run.reported_cost_usd == pytest.approx(cost)
        assert run.rental_usd_per_gpu_hour is not None
        assert run.gpu_hours * run.rental_usd_per_gpu_hour == pytest.approx(cost)
        assert DEEPSEEK_CAVEAT in run.caveat
        assert (run.model_id, run.accelerator_id, run.n_accelerators) == ("deepseek-v3", "h800", 2048)
    assert (full.stage, pre.stage) == ("full", "pre-training")
    assert pre.reported_mfu == pytest.approx(0.3894)
    assert pre.mfu_basis == "bf16"


def test_ownership_factor_rows_are_sourced_and_resolve() -> None:
    """ownership_factors.csv: every row sourced and dated; every accelerator gets each power and
    overhead factor (its own row or a pattern row), so no per-accelerator number lives in code."""
    from truecost.catalog.factors import factor, factor_rows

    rows = factor_rows()
    assert rows
    for r in rows:
        assert str(r["source"]).strip() and re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(r["accessed"]))
        assert float(r["value"]) > 0  # type: ignore[arg-type]
    for acc_id in catalog.accelerators():
        for name in ("server_to_chip_power", "power_utilisation", "chip_server_overhead"):
            assert factor(acc_id, name) is not None, (acc_id, name)
    assert factor("h100-sxm", "server_to_chip_power").value == pytest.approx(10.2 / 8 / 0.7, rel=0.01)  # type: ignore[union-attr]
    assert factor("tpu-v5e", "server_to_chip_power").value == 1.47  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="unknown factor"):
        factor("h100-sxm", "nonsense")
