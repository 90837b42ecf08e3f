"""Published-figure checks of the step-time model (the acceptance bars of issue #5)."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from truecost.analysis.perf_validation import mape, summary, validation_sets
from truecost.catalog.fitted import perf_parameter, perf_parameters
from truecost.catalog.perf_tables import gemm_efficiency
from truecost.stages.perf.datasets import vtrain_rows
from truecost.stages.perf.params import A100_FIT, FITTED_A100, SUSTAINED_MAMF_FRACTION


@cache
def _sets():
    return validation_sets()


def test_validation_sets_shape_and_speed():
    sets = _sets()  # its speed (~0.1 s, for `truecost validate`) is measured in bench/, not here
    assert set(sets) == {
        "vtrain-single-node",
        "megatron-table1",
        "published-throughput",
        "published-gpu-hours",
    }
    assert len(sets["vtrain-single-node"]) == 1440
    assert sum(r.in_fit for r in sets["vtrain-single-node"]) == 720
    for rows in sets.values():
        for r in rows:
            assert r.measured > 0 and r.predicted > 0
            assert r.abs_pct_error == pytest.approx(abs(r.predicted / r.measured - 1) * 100)
    s = summary(sets)
    assert s["vtrain-single-node"]["mape_heldout_pct"] == pytest.approx(
        mape(sets["vtrain-single-node"], in_fit=False)
    )


def test_vtrain_split_is_seeded_and_stratified():
    rows = vtrain_rows()
    for g in np.unique(rows.gpus):
        sel = rows.gpus == g
        assert abs(rows.is_fit[sel].sum() - sel.sum() / 2) <= 0.5


def test_vtrain_single_node_mape_under_9pct():
    """Bang et al., MICRO 2024 (vTrain): 1,440 measured A100 iteration times. vTrain's own
    simulator reports 8.4% single-node. Achieved 8.2% held out, 8.3% fit half; bar 9% (issue 9
    item 7: bars at the achieved figure plus a small margin)."""
    rows = _sets()["vtrain-single-node"]
    assert mape(rows, in_fit=False) < 9.0
    assert mape(rows, in_fit=True) < 9.0


def test_megatron_table1_mape_under_2_5pct():
    """Narayanan et al. 2021 (SC'21) Table 1: 1.7B-1T GPT on 32-3072 A100s, achieved TFLOP/s
    per GPU with the eq. 3 count, as step times. Achieved 2.1% (1.8% on the held-out rows);
    bar 2.5%."""
    rows = _sets()["megatron-table1"]
    assert len(rows) == 10
    assert mape(rows) < 2.5
    assert mape(rows, in_fit=False) < 2.3


def test_deepseek_v3_gpu_hours_within_5pct():
    """DeepSeek-V3 report Table 1: 2,664K H800 GPU-hours of pre-training (14.8T tokens);
    ISCA'25 Table 4: 19.926 s per step. Predicted from the layout alone, no MFU given."""
    rows = {r.label: r for r in _sets()["published-gpu-hours"]}
    r = next(v for k, v in rows.items() if k.startswith("DeepSeek-V3"))
    assert r.measured == 2.664e6
    assert r.abs_pct_error < 5.0  # achieved 3.5%
    step = next(v for v in _sets()["published-throughput"] if v.label.startswith("DeepSeek-V3"))
    assert step.measured == 19.926 and step.abs_pct_error < 5.0  # achieved 3.6%


def test_llama31_405b_gpu_hours_within_9pct():
    """Llama 3.1 model card: 30.84M H100 GPU-hours for 405B (15.6T tokens); Llama 3 paper
    Table 4: 400 TFLOP/s per GPU at 16,384 GPUs (tp 8, pp 16, dp 128), goodput 0.9."""
    r = next(v for v in _sets()["published-gpu-hours"] if v.label.startswith("Llama 3.1 405B"))
    assert r.measured == 30.84e6
    assert r.abs_pct_error < 9.0  # achieved 7.5%


def test_calibrated_table_is_consistent():
    assert A100_FIT.gemm_efficiency == pytest.approx(
        gemm_efficiency("a100-sxm4-80gb", "bf16").fraction * SUSTAINED_MAMF_FRACTION
    )
    for name, value in FITTED_A100.items():
        assert getattr(A100_FIT, name) == value
        assert "vTrain" in A100_FIT.source_of(name)


def test_perf_calibration_file_is_what_the_model_uses():
    """catalog/data/perf_calibration.csv (written by `python -m truecost.stages.perf.calibrate
    --write`) loads, names its data and fit date on every row, and is what the model runs on."""
    rows = perf_parameters()
    assert set(FITTED_A100) | {"sustained_mamf_fraction"} <= set(rows)
    assert all(r.source and r.accessed for r in rows.values())
    assert SUSTAINED_MAMF_FRACTION == perf_parameter("sustained_mamf_fraction").value
    for name in FITTED_A100:
        assert getattr(A100_FIT, name) == perf_parameter(name).value
    # the shipped values (unchanged by the move from Python constants to the file)
    assert (SUSTAINED_MAMF_FRACTION, A100_FIT.gemm_saturation_output, A100_FIT.memory_efficiency) == (
        0.8,
        1.86e6,
        0.863,
    )
    assert (A100_FIT.layer_overhead_s, A100_FIT.comm_latency_s, A100_FIT.step_overhead_s) == (
        7.91e-4,
        7.66e-6,
        7.68e-3,
    )
    # the reported held-out errors agree with the validation below
    sets = _sets()
    assert perf_parameter("table1_heldout_mape_pct").value == pytest.approx(
        mape(sets["megatron-table1"], in_fit=False), abs=0.05
    )
    assert perf_parameter("vtrain_heldout_mape_pct").value == pytest.approx(
        mape(sets["vtrain-single-node"], in_fit=False), abs=0.05
    )


@pytest.mark.slow
def test_refit_reproduces_the_shipped_perf_calibration():
    """Refit the sustained fraction and the vTrain values (about a minute) and compare with the file."""
    from truecost.stages.perf.calibrate import fitted_parameters

    for row in fitted_parameters():
        shipped = perf_parameter(str(row["parameter"]))
        # held-out errors within 0.05 points, fitted values within 0.5% (a solver or scipy change
        # may move the last rounded digit)
        want = (
            pytest.approx(shipped.value, abs=0.05)
            if shipped.unit == "%"
            else pytest.approx(shipped.value, rel=5e-3)
        )
        assert float(str(row["value"])) == want, row["parameter"]
