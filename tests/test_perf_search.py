"""Layout search and the layout schema."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from truecost.catalog import get_accelerator, get_model
from truecost.stages.perf import (
    InfeasibleLayoutError,
    Network,
    Parallelism,
    StepSpec,
    predict_step,
    search_layouts,
)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"tp": 0}, "tp"),
        ({"pp": -2}, "pp"),
        ({"micro_batch": 1.5}, "micro_batch"),
        ({"zero": 4}, "zero"),
        ({"recompute": "some"}, "recompute"),
        ({"schedule": "gpipe"}, "schedule"),
        ({"bogus": 1}, "bogus"),
    ],
)
def test_parallelism_errors_name_the_field(kwargs, field):
    with pytest.raises(ValidationError, match=field):
        Parallelism(**kwargs)


def test_parallelism_cross_field_checks():
    with pytest.raises(ValidationError, match="virtual_stages"):
        Parallelism(schedule="1f1b", virtual_stages=4)
    with pytest.raises(ValidationError, match="even"):
        Parallelism(schedule="dualpipe", pp=3)
    with pytest.raises(ValidationError, match="intra_node_gb_per_s"):
        Network(intra_node_gb_per_s=0)
    assert Parallelism(tp=8).missing()[0] == "pp"
    with pytest.raises(ValidationError):
        Parallelism(tp=8).tp = 4  # frozen


def test_search_ranks_feasible_layouts_fastest_first():
    arch, acc = get_model("llama-3.1-405b").arch, get_accelerator("h100-sxm")
    res = search_layouts(StepSpec(arch, acc, 16384, 8192, 2048), top=10)
    assert len(res) == 10
    times = [r.step_time_s for r in res]
    assert times == sorted(times)
    for r in res:
        lay = r.layout
        assert r.fits
        assert lay.tp * lay.pp * lay.dp * lay.cp == 16384
        assert 2048 % (lay.dp * lay.micro_batch) == 0
    # Fixed entries are respected, and predict_step returns the search's best.
    fixed = Parallelism(tp=8, pp=16, dp=128)
    best = search_layouts(StepSpec(arch, acc, 16384, 8192, 2048), fixed=fixed, top=3)
    assert all((r.layout.tp, r.layout.pp, r.layout.dp) == (8, 16, 128) for r in best)
    one = predict_step(StepSpec(arch, acc, 16384, 8192, 2048), fixed)
    assert one.layout == best[0].layout and one.step_time_s == best[0].step_time_s


def test_cost_objective_never_costs_more_gpu_hours():
    arch, acc = get_model("llama-65b").arch, get_accelerator("a100-sxm4-80gb")
    fast = search_layouts(StepSpec(arch, acc, 2048, 2048, 1024), objective="time", top=1)[0]
    cheap = search_layouts(StepSpec(arch, acc, 2048, 2048, 1024), objective="cost", top=1)[0]
    assert cheap.step_time_s * cheap.n_gpus <= fast.step_time_s * fast.n_gpus * (1 + 1e-12)
    assert cheap.n_gpus <= 2048


def test_moe_search_uses_expert_parallelism():
    arch, acc = get_model("deepseek-v3").arch, get_accelerator("h800")
    net = Network(intra_node_gb_per_s=400, inter_node_gbit_per_s=3200)
    res = search_layouts(
        StepSpec(arch, acc, 2048, 4096, 15360, precision="fp8", network=net),
        fixed=Parallelism(tp=1, pp=16),
        top=3,
    )
    assert all(r.layout.ep > 1 and r.fits for r in res)
    assert all(256 % r.layout.ep == 0 and (r.layout.dp * r.layout.cp) % r.layout.ep == 0 for r in res)


def test_search_explains_impossible_constraints():
    arch, acc = get_model("llama-3.1-405b").arch, get_accelerator("h100-sxm")
    with pytest.raises(InfeasibleLayoutError, match="cluster.count"):
        search_layouts(StepSpec(arch, acc, 1000, 8192, 2048), fixed=Parallelism(tp=8, pp=16, dp=8))
    with pytest.raises(InfeasibleLayoutError, match="global_batch"):
        search_layouts(StepSpec(arch, acc, 1024, 8192, 100), fixed=Parallelism(tp=8, pp=16, dp=8))
    with pytest.raises(ValueError, match="objective"):
        search_layouts(StepSpec(arch, acc, 1024, 8192, 128), objective="speed")  # type: ignore[arg-type]
