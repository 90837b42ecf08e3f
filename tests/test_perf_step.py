"""Step-time model: hand-checked values and properties."""

from __future__ import annotations

from dataclasses import asdict, fields, replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from truecost.architecture import Architecture
from truecost.catalog import Accelerator, get_accelerator, get_model
from truecost.scenario.cluster import LAYOUT_KEYS
from truecost.stages.flops import flops_per_token, narayanan_flops_per_iteration
from truecost.stages.perf import (
    InfeasibleLayoutError,
    Layout,
    Network,
    Parallelism,
    PerfParams,
    StepSpec,
    goodput_default,
    predict_step,
)
from truecost.stages.perf.datasets import gpt2_arch

# An idealised accelerator: GEMMs at exactly half of peak, memory and links so fast that only
# the FLOPs count. Makes step times checkable by hand.
IDEAL = PerfParams(
    gemm_efficiency=0.5,
    gemm_saturation_output=0.0,
    memory_efficiency=1.0,
    layer_overhead_s=0.0,
    comm_efficiency=1.0,
    comm_latency_s=0.0,
    step_overhead_s=0.0,
)
TOY_GPU = Accelerator(
    id="toy",
    name="toy",
    vendor="test",
    year=2024,
    peak_flop_per_s={"bf16": 100e12, "fp16": 100e12},
    memory_byte=1e15,
    hbm_bandwidth_byte_per_s=1e30,
    tdp_w=None,
    scale_up_byte_per_s=1e30,
    gpus_per_node=8,
    unit_price_usd=None,
    unit_price_date="",
    unit_price_source="",
    rental_usd_per_gpu_hour=None,
    rental_source="",
    source="test",
    accessed="2026-01-01",
)
# GPT-style, vocabulary a multiple of 128 so Megatron's padding does not change it.
TOY = Architecture(
    layers=4, d_model=1024, n_heads=8, ffn_dim=4096, vocab=32768, glu=False, tied_embeddings=True
)
SINGLE = Parallelism(tp=1, pp=1, dp=1, ep=1, cp=1, micro_batch=4, recompute="none", schedule="1f1b", zero=0)


def test_single_gpu_step_is_flops_over_peak_times_efficiency():
    """1 GPU, no parallelism, unfused attention (computes the full s x s matrix): hardware FLOPs
    = 3 passes x 2 FLOP x multiply-adds incl. the full attention core and logits, i.e. the
    non-causal Megatron count; time = FLOPs / (peak x 0.5)."""
    seq, gb = 2048, 8
    p = predict_step(
        StepSpec(
            TOY,
            TOY_GPU,
            1,
            seq,
            gb,
            precision="bf16",
            flop_convention="megatron-noncausal",
            stack="megatron-2021",
            perf_params=IDEAL,
        ),
        SINGLE,
    )
    # By hand: per token, forward MACs = 4 x (4 h^2 attn + 8 h^2 MLP) + 4 x 2 s h core + h V
    h, L, V = 1024, 4, 32768
    macs = L * (12 * h * h + 2 * seq * h) + h * V
    expected = 6 * macs * seq * gb / (100e12 * 0.5)
    assert_allclose(p.step_time_s, expected, rtol=1e-6)
    assert_allclose(p.mfu, 0.5, rtol=1e-6)  # model FLOPs = hardware FLOPs here
    assert_allclose(p.breakdown_s["compute"], expected, rtol=1e-6)
    assert_allclose(sum(p.breakdown_s.values()), p.step_time_s, rtol=1e-12)


def test_full_recompute_adds_a_forward_pass():
    """Full recomputation runs every layer's forward twice: hardware FLOPs are 4/3 of the model
    FLOPs for the layers (the output head is not recomputed)."""
    seq, gb = 2048, 8
    spec = StepSpec(
        TOY,
        TOY_GPU,
        1,
        seq,
        gb,
        stack="megatron-2021",
        perf_params=IDEAL,
        flop_convention="megatron-noncausal",
    )
    none = predict_step(spec, SINGLE)
    full = predict_step(spec, SINGLE.model_copy(update={"recompute": "full"}))
    h, L = 1024, 4
    layer_macs = L * (12 * h * h + 2 * seq * h)
    extra = 2 * layer_macs * seq * gb / (100e12 * 0.5)
    assert_allclose(full.step_time_s - none.step_time_s, extra, rtol=1e-6)


def test_hardware_flops_match_narayanan_eq3():
    """Narayanan et al. 2021 eq. 3 counts the hardware FLOPs of a GPT step with full
    recomputation: 96 B s l h^2 (1 + s/6h + V/16lh). The model's HFU x peak x time must
    reproduce it."""
    arch = gpt2_arch(2048, 16, 12, vocab=51200)
    seq, gb = 2048, 16
    fixed = SINGLE.model_copy(update={"recompute": "full", "micro_batch": 2})
    p = predict_step(
        StepSpec(arch, TOY_GPU, 1, seq, gb, precision="bf16", stack="megatron-2021", perf_params=IDEAL), fixed
    )
    hw_flop = p.hfu * 100e12 * p.step_time_s * 1
    assert_allclose(hw_flop, narayanan_flops_per_iteration(gb, seq, 12, 2048, 51200), rtol=1e-9)


def test_pipeline_bubble_1f1b():
    """1F1B with p equal stages and m micro-batches: (m + p - 1) stage-times (Narayanan et al.
    2021 sec. 2.2): bubble fraction (p - 1) / m."""
    arch = Architecture(
        layers=8, d_model=1024, n_heads=8, ffn_dim=4096, vocab=128, glu=False, tied_embeddings=True
    )
    seq, gb = 1024, 16
    base = dict(tp=1, dp=1, ep=1, cp=1, micro_batch=1, recompute="none", schedule="1f1b", zero=0)
    one = predict_step(
        StepSpec(arch, TOY_GPU, 1, seq, gb, precision="bf16", stack="megatron-2021", perf_params=IDEAL),
        Parallelism(pp=1, **base),
    )
    four = predict_step(
        StepSpec(arch, TOY_GPU, 4, seq, gb, precision="bf16", stack="megatron-2021", perf_params=IDEAL),
        Parallelism(pp=4, **base),
    )
    m, p = gb, 4
    # The tiny head (vocab 128) sits on the last stage; bound the ratio on both sides.
    assert four.step_time_s == pytest.approx(one.step_time_s / p * (m + p - 1) / m, rel=0.02)
    assert four.breakdown_s["bubble"] == pytest.approx(four.step_time_s * (p - 1) / (m + p - 1), rel=0.02)


def test_interleaving_and_dualpipe_shrink_the_bubble():
    arch = get_model("llama-3.1-405b").arch
    acc = get_accelerator("h100-sxm")
    base = dict(tp=8, pp=16, dp=8, cp=1, ep=1, micro_batch=1, recompute="full", zero=1)
    f1 = predict_step(StepSpec(arch, acc, 1024, 4096, 256), Parallelism(schedule="1f1b", **base))
    il = predict_step(
        StepSpec(arch, acc, 1024, 4096, 256), Parallelism(schedule="interleaved", virtual_stages=4, **base)
    )
    dp = predict_step(StepSpec(arch, acc, 1024, 4096, 256), Parallelism(schedule="dualpipe", **base))
    assert il.breakdown_s["bubble"] == pytest.approx(f1.breakdown_s["bubble"] / 4, rel=1e-9)
    assert dp.breakdown_s["bubble"] < f1.breakdown_s["bubble"]


def test_breakdown_sums_to_step_and_outputs_are_sane():
    p = predict_step(
        StepSpec(get_model("llama-3.1-405b").arch, get_accelerator("h100-sxm"), 16384, 8192, 2048),
        Parallelism(tp=8, pp=16, dp=128),
    )
    assert sum(p.breakdown_s.values()) == pytest.approx(p.step_time_s, rel=1e-12)
    assert 0 < p.mfu < p.hfu < 1
    assert p.fits and (p.layout.tp, p.layout.pp, p.layout.dp) == (8, 16, 128)
    assert p.memory_byte["total"] == pytest.approx(sum(v for k, v in p.memory_byte.items() if k != "total"))
    names = {a["name"] for a in p.assumptions}
    assert {"intra_node_gb_per_s", "inter_node_gbit_per_s", "perf.gemm_efficiency", "software_stack"} <= names
    assert all(a["source"] for a in p.assumptions)
    d = p.to_dict()
    assert d["layout"]["tp"] == 8 and d["step_time_s"] == p.step_time_s
    assert p.tokens_per_s_per_gpu == pytest.approx(2048 * 8192 / (p.step_time_s * 16384))


def test_network_defaults_cited_and_overridable():
    arch, acc = get_model("llama-3.1-405b").arch, get_accelerator("h100-sxm")
    p = predict_step(StepSpec(arch, acc, 2048, 8192, 256), Parallelism(tp=8, pp=16, dp=16))
    by_name = {a["name"]: a for a in p.assumptions}
    assert by_name["intra_node_gb_per_s"]["value"] == pytest.approx(900)  # catalog NVLink figure
    assert by_name["inter_node_gbit_per_s"]["value"] == pytest.approx(3200)  # 8 x 400G NDR
    slow = predict_step(
        StepSpec(
            arch, acc, 2048, 8192, 256, network=Network(intra_node_gb_per_s=100, inter_node_gbit_per_s=400)
        ),
        Parallelism(tp=8, pp=16, dp=16),
    )
    assert slow.step_time_s > p.step_time_s


def test_fp8_is_faster_than_bf16_and_mfu_basis_is_stated():
    arch, acc = get_model("llama-3.1-405b").arch, get_accelerator("h100-sxm")
    lay = Parallelism(tp=8, pp=16, dp=8, cp=1, ep=1, micro_batch=1, recompute="full", schedule="1f1b", zero=1)
    bf16 = predict_step(StepSpec(arch, acc, 1024, 8192, 128, precision="bf16"), lay)
    fp8 = predict_step(StepSpec(arch, acc, 1024, 8192, 128, precision="fp8"), lay)
    assert fp8.step_time_s < bf16.step_time_s
    fp8_basis = predict_step(StepSpec(arch, acc, 1024, 8192, 128, precision="fp8", mfu_basis="fp8"), lay)
    assert fp8_basis.mfu == pytest.approx(fp8.mfu * acc.peak("bf16") / acc.peak("fp8"))


def test_moe_expert_parallel_comm_and_dualpipe_overlap():
    arch, acc = get_model("deepseek-v3").arch, get_accelerator("h800")
    net = Network(intra_node_gb_per_s=400, inter_node_gbit_per_s=3200)
    base = dict(tp=1, pp=16, dp=128, ep=64, cp=1, micro_batch=1, recompute="full", zero=1)
    f1 = predict_step(
        StepSpec(arch, acc, 2048, 4096, 15360, precision="fp8", network=net),
        Parallelism(schedule="1f1b", **base),
    )
    dp = predict_step(
        StepSpec(arch, acc, 2048, 4096, 15360, precision="fp8", network=net),
        Parallelism(schedule="dualpipe", **base),
    )
    assert f1.breakdown_s["ep_comm"] > 0
    assert dp.breakdown_s["ep_comm"] < f1.breakdown_s["ep_comm"]
    # DualPipe keeps two copies of the parameters (DeepSeek-V3 report Table 2).
    assert dp.memory_byte["weights"] == pytest.approx(2 * f1.memory_byte["weights"])


def test_infeasible_layouts_are_named():
    arch, acc = get_model("llama-3.1-405b").arch, get_accelerator("a100-sxm4-80gb")
    with pytest.raises(InfeasibleLayoutError, match=r"tp\*pp\*dp\*cp = 1024 != cluster.count 2048"):
        predict_step(
            StepSpec(arch, acc, 2048, 8192, 1024),
            Parallelism(
                tp=8,
                pp=16,
                dp=8,
                cp=1,
                ep=1,
                micro_batch=1,
                recompute="full",
                schedule="1f1b",
                virtual_stages=1,
                zero=1,
            ),
        )
    with pytest.raises(InfeasibleLayoutError, match=r"needs \d+ GB per GPU > 77 GB usable of 80 GiB HBM"):
        predict_step(
            StepSpec(arch, acc, 64, 2048, 64),
            Parallelism(
                tp=8,
                pp=1,
                dp=8,
                cp=1,
                ep=1,
                micro_batch=1,
                recompute="full",
                schedule="1f1b",
                virtual_stages=1,
                zero=0,
            ),
        )
    with pytest.raises(InfeasibleLayoutError, match="no layout fits in memory"):
        predict_step(StepSpec(arch, acc, 8, 2048, 64))
    oom = predict_step(
        StepSpec(arch, acc, 64, 2048, 64),
        Parallelism(
            tp=8,
            pp=1,
            dp=8,
            cp=1,
            ep=1,
            micro_batch=1,
            recompute="full",
            schedule="1f1b",
            virtual_stages=1,
            zero=0,
        ),
        allow_oom=True,
    )
    assert not oom.fits and "GB per GPU" in oom.warnings[0]


def test_bad_inputs_name_the_argument():
    arch, acc = TOY, TOY_GPU
    with pytest.raises(ValueError, match="precision"):
        predict_step(StepSpec(arch, acc, 1, 1024, 8, precision="int4"))
    with pytest.raises(ValueError, match="flop_convention"):
        predict_step(StepSpec(arch, acc, 1, 1024, 8, flop_convention="palm"))
    with pytest.raises(ValueError, match="global_batch"):
        predict_step(StepSpec(arch, acc, 1, 1024, 0))
    with pytest.raises(ValueError, match="stack"):
        predict_step(StepSpec(arch, acc, 1, 1024, 8, stack="jax"))


def test_goodput_default():
    assert goodput_default() == 0.9


def test_layout_is_complete_and_dumps_like_parallelism():
    """A Layout has every entry of the scenario's Parallelism, in the same order, all set."""
    assert tuple(f.name for f in fields(Layout)) == LAYOUT_KEYS
    full = SINGLE.model_copy(update={"virtual_stages": 1})
    lay = Layout.from_parallelism(full)
    assert asdict(lay) == full.model_dump() and lay.n_gpus == 1
    with pytest.raises(ValueError, match="virtual_stages not set"):
        Layout.from_parallelism(SINGLE)
    # A complete Layout is accepted as is and gives the same prediction as its Parallelism.
    spec = StepSpec(TOY, TOY_GPU, 1, 2048, 8, stack="megatron-2021", perf_params=IDEAL)
    assert predict_step(spec, lay) == predict_step(spec, full)


# ---- properties -----------------------------------------------------------------------------------
LAYOUTS = st.sampled_from(
    [
        Parallelism(
            tp=2,
            pp=2,
            dp=2,
            cp=1,
            ep=1,
            micro_batch=1,
            recompute="none",
            schedule="1f1b",
            virtual_stages=1,
            zero=0,
        ),
        Parallelism(
            tp=1,
            pp=4,
            dp=2,
            cp=1,
            ep=1,
            micro_batch=2,
            recompute="full",
            schedule="interleaved",
            virtual_stages=2,
            zero=1,
        ),
        Parallelism(
            tp=4,
            pp=1,
            dp=2,
            cp=1,
            ep=1,
            micro_batch=1,
            recompute="selective",
            schedule="1f1b",
            virtual_stages=1,
            zero=3,
        ),
        Parallelism(
            tp=1,
            pp=2,
            dp=2,
            cp=2,
            ep=1,
            micro_batch=1,
            recompute="none",
            schedule="dualpipe",
            virtual_stages=1,
            zero=2,
        ),
    ]
)
MODEL = Architecture(layers=8, d_model=2048, n_heads=16, n_kv_heads=4, ffn_dim=5632, vocab=32000)


@settings(max_examples=40, deadline=None)
@given(
    layout=LAYOUTS,
    intra=st.floats(10, 2000),
    inter=st.floats(50, 6400),
    k=st.floats(1.01, 10),
    stack=st.sampled_from(["megatron-core", "megatron-2021"]),
)
def test_more_bandwidth_is_never_slower(layout, intra, inter, k, stack):
    acc = get_accelerator("h100-sxm")

    def step(intra_gb_per_s: float, inter_gbit_per_s: float):
        net = Network(intra_node_gb_per_s=intra_gb_per_s, inter_node_gbit_per_s=inter_gbit_per_s)
        spec = StepSpec(MODEL, acc, 8, 4096, 64, network=net, gpus_per_node=4, stack=stack)
        return predict_step(spec, layout, allow_oom=True)

    slow = step(intra, inter)
    fast_intra = step(intra * k, inter)
    fast_inter = step(intra, inter * k)
    assert fast_intra.step_time_s <= slow.step_time_s * (1 + 1e-12)
    assert fast_inter.step_time_s <= slow.step_time_s * (1 + 1e-12)


@settings(max_examples=40, deadline=None)
@given(
    layout=LAYOUTS,
    k1=st.integers(2, 16),
    k2=st.integers(1, 16),
    stack=st.sampled_from(["megatron-core", "megatron-2021"]),
)
def test_bigger_global_batch_never_lowers_throughput_per_gpu(layout, k1, k2, stack):
    acc = get_accelerator("a100-sxm4-80gb")
    unit = layout.dp * layout.micro_batch * layout.pp  # whole multiples of pp micro-batches
    small, big = unit * k1, unit * (k1 + k2)
    a = predict_step(StepSpec(MODEL, acc, 8, 2048, small, stack=stack), layout, allow_oom=True)
    b = predict_step(StepSpec(MODEL, acc, 8, 2048, big, stack=stack), layout, allow_oom=True)
    assert b.tokens_per_s_per_gpu >= a.tokens_per_s_per_gpu * (1 - 1e-12)


@settings(max_examples=25, deadline=None)
@given(eff=st.floats(0.3, 0.99), factor=st.floats(1.01, 1.5))
def test_higher_gemm_efficiency_is_never_slower(eff, factor):
    acc = get_accelerator("h100-sxm")
    params = replace(IDEAL, gemm_efficiency=eff / factor, memory_efficiency=0.7)
    better = replace(params, gemm_efficiency=eff)
    lay = Parallelism(
        tp=2,
        pp=2,
        dp=2,
        cp=1,
        ep=1,
        micro_batch=2,
        recompute="full",
        schedule="1f1b",
        virtual_stages=1,
        zero=1,
    )
    a = predict_step(StepSpec(MODEL, acc, 8, 2048, 32, perf_params=params), lay)
    b = predict_step(StepSpec(MODEL, acc, 8, 2048, 32, perf_params=better), lay)
    assert b.step_time_s <= a.step_time_s


def test_flop_conventions_change_mfu_not_time():
    arch, acc = get_model("deepseek-v3").arch, get_accelerator("h800")
    lay = Parallelism(
        tp=1, pp=16, dp=128, ep=64, cp=1, micro_batch=1, recompute="full", schedule="dualpipe", zero=1
    )
    net = Network(intra_node_gb_per_s=400, inter_node_gbit_per_s=3200)
    causal = predict_step(
        StepSpec(arch, acc, 2048, 4096, 15360, precision="fp8", network=net, flop_convention="megatron"), lay
    )
    six = predict_step(
        StepSpec(arch, acc, 2048, 4096, 15360, precision="fp8", network=net, flop_convention="6nd"), lay
    )
    assert causal.step_time_s == six.step_time_s
    ratio = flops_per_token(arch, 4096, "megatron") / flops_per_token(arch, 4096, "6nd")
    assert causal.mfu / six.mfu == pytest.approx(ratio)
    assert np.isfinite(causal.hfu)
