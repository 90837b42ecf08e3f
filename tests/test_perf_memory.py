"""Memory per GPU against published per-GPU figures."""

from __future__ import annotations

import numpy as np
import pytest

from truecost.architecture import Architecture
from truecost.catalog import get_accelerator
from truecost.stages.perf import Parallelism, StepSpec, predict_step
from truecost.stages.perf.datasets import gpt2_arch
from truecost.stages.perf.memory import (
    StageParams,
    activation_byte_per_token,
    in_flight_micro_batches,
    model_state_byte,
)
from truecost.stages.perf.params import STACKS

GB = 1e9


def test_zero_paper_figure1_7p5b_model_states():
    """Rajbhandari et al. 2020 (ZeRO) Figure 1: Psi = 7.5B, N_d = 64, K = 12: baseline 120 GB,
    P_os 31.4 GB, P_os+g 16.6 GB, P_os+g+p 1.9 GB per GPU."""
    p = StageParams(dense=np.full(4, 7.5e9), expert=np.zeros(4))
    states = model_state_byte(p, np.array([0, 1, 2, 3]), np.full(4, 64.0), np.full(4, 64.0))
    total = states["weights"] + states["grads"] + states["optimizer"]
    np.testing.assert_allclose(total / GB, [120.0, 31.4, 16.6, 1.9], atol=0.06)


def test_mixed_precision_adam_is_16_bytes_per_param_without_zero():
    """A 7.5B GPT (Narayanan et al. 2021 Table 1 row: h 4096, 36 layers, V 51200) on one GPU,
    ZeRO 0: weights + grads + Adam = 16 bytes/param ~ 120 GB (ZeRO paper sec. 3.1)."""
    arch = gpt2_arch(4096, 32, 36, vocab=51200)
    p = predict_step(
        StepSpec(arch, get_accelerator("a100-sxm4-80gb"), 1, 2048, 8, precision="fp16"),
        Parallelism(
            tp=1,
            pp=1,
            dp=1,
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
    states = p.memory_byte["weights"] + p.memory_byte["grads"] + p.memory_byte["optimizer"]
    assert states == pytest.approx(16 * arch.params_total, rel=1e-3)
    assert states / GB == pytest.approx(120, rel=0.01)
    assert not p.fits


def test_korthikanti_activation_counts():
    """Korthikanti et al. 2022 eqs.: per layer s b h (34 + 5 a s / h) bytes; with tensor
    parallelism s b h (10 + 24/t + 5 a s / (h t)); with sequence parallelism everything / t;
    full recomputation keeps 2 s b h."""
    h, a, s = 12288, 96, 2048
    gpt = Architecture(layers=1, d_model=h, n_heads=a, ffn_dim=4 * h, vocab=128, glu=False)
    old, new = STACKS["megatron-2021"], STACKS["megatron-core"]
    t = np.array([8.0])
    no_sp = activation_byte_per_token(gpt, kind="dense", tp=t, seq_keys=s, stack=old, recompute=np.array([0]))
    assert no_sp[0] == pytest.approx(h * (10 + 24 / 8 + 5 * a * s / (h * 8)))
    full = activation_byte_per_token(gpt, kind="dense", tp=t, seq_keys=s, stack=old, recompute=np.array([2]))
    assert full[0] == pytest.approx(2 * h)
    # Sequence parallel, flash attention, no dropout: 32 h / t (no masks, no s x s matrices).
    sp = activation_byte_per_token(gpt, kind="dense", tp=t, seq_keys=s, stack=new, recompute=np.array([0]))
    assert sp[0] == pytest.approx(32 * h / 8)
    sel = activation_byte_per_token(gpt, kind="dense", tp=t, seq_keys=s, stack=new, recompute=np.array([1]))
    assert sel[0] < sp[0]


def test_fp8_keeps_gemm_inputs_in_one_byte():
    gpt = Architecture(layers=1, d_model=4096, n_heads=32, ffn_dim=16384, vocab=128, glu=False)
    kw = dict(
        kind="dense",
        tp=np.array([1.0]),
        seq_keys=4096,
        stack=STACKS["megatron-core"],
        recompute=np.array([0]),
    )
    bf16 = activation_byte_per_token(gpt, **kw)
    fp8 = activation_byte_per_token(gpt, gemm_input_byte=1.0, **kw)
    assert fp8[0] < bf16[0]


def test_in_flight_micro_batches_by_schedule():
    pp, m = np.array([8.0, 8.0, 8.0, 8.0, 1.0]), np.array([64.0, 64.0, 64.0, 4.0, 64.0])
    sched, v = np.array([0, 1, 2, 0, 0]), np.array([1.0, 4.0, 1.0, 1.0, 1.0])
    np.testing.assert_allclose(in_flight_micro_batches(pp, m, sched, v), [8, 8 + 7 / 4, 9, 4, 1])


def test_zero_stages_shrink_memory_and_recompute_shrinks_activations():
    arch = gpt2_arch(4096, 32, 32, vocab=51200)
    acc = get_accelerator("a100-sxm4-80gb")
    base = dict(tp=1, pp=1, dp=8, cp=1, ep=1, micro_batch=2, schedule="1f1b", virtual_stages=1)
    totals = [
        predict_step(
            StepSpec(arch, acc, 8, 2048, 64, precision="bf16"),
            Parallelism(recompute="full", zero=z, **base),
            allow_oom=True,
        ).memory_byte["total"]
        for z in range(4)
    ]
    assert totals == sorted(totals, reverse=True)
    acts = [
        predict_step(
            StepSpec(arch, acc, 8, 2048, 64, precision="bf16"),
            Parallelism(recompute=r, zero=1, **base),
            allow_oom=True,
        ).memory_byte["activations"]
        for r in ("none", "selective", "full")
    ]
    assert acts == sorted(acts, reverse=True)
