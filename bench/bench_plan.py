"""Layout-search timing (issue #5: every valid layout of a 405B dense model on 16,384 GPUs in
under 2 s). Prints figures; not a test.

    python bench/bench_plan.py
"""

from __future__ import annotations

import statistics
import time

from truecost.catalog import get_accelerator, get_model
from truecost.stages.perf import Network, Parallelism, StepSpec, predict_step, search_layouts
from truecost.stages.perf.search import _gpu_count_options, candidate_arrays
from truecost.stages.perf.step import make_problem

REPEATS = 5


def _timed(fn, repeats: int = REPEATS) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def _case(
    title: str,
    arch_id: str,
    acc_id: str,
    n: int,
    seq: int,
    gb: int,
    precision: str = "bf16",
    network: Network | None = None,
    objective: str = "time",
) -> None:
    arch, acc = get_model(arch_id).arch, get_accelerator(acc_id)
    spec = StepSpec(arch, acc, n, seq, gb, precision=precision, network=network or Network())
    problem = make_problem(spec)
    n_layouts = len(candidate_arrays(problem, Parallelism(), _gpu_count_options(problem, objective))["tp"])
    t, res = _timed(
        lambda: search_layouts(
            StepSpec(arch, acc, n, seq, gb, precision=precision, network=network or Network()),
            objective=objective,
            top=5,
        )
    )
    print(f"\n{title}: {n_layouts:,} layouts scored, median {t * 1e3:.0f} ms over {REPEATS} runs")
    for r in res:  # type: ignore[union-attr]
        lay = r.layout
        print(
            f"  tp{lay.tp} cp{lay.cp} pp{lay.pp} dp{lay.dp} ep{lay.ep} mb{lay.micro_batch} {lay.recompute:9s} "
            f"{lay.schedule}{'/v' + str(lay.virtual_stages) if lay.schedule == 'interleaved' else ''} zero{lay.zero}"
            f"  on {r.n_gpus} GPUs: step {r.step_time_s:.2f} s, MFU {r.mfu:.3f}, "
            f"{r.memory_byte['total'] / 1e9:.0f} GB/GPU"
        )


def main() -> None:
    _case(
        "Llama 3.1 405B, 16,384 H100, seq 8192, batch 2048 (all entries free)",
        "llama-3.1-405b",
        "h100-sxm",
        16384,
        8192,
        2048,
    )
    _case(
        "Same, objective 'cost' (may leave part of the cluster idle)",
        "llama-3.1-405b",
        "h100-sxm",
        16384,
        8192,
        2048,
        objective="cost",
    )
    _case(
        "DeepSeek-V3, 2048 H800, FP8, seq 4096, batch 15360 (all entries free)",
        "deepseek-v3",
        "h800",
        2048,
        4096,
        15360,
        "fp8",
        Network(intra_node_gb_per_s=400, inter_node_gbit_per_s=3200),
    )
    arch, acc = get_model("llama-3.1-405b").arch, get_accelerator("h100-sxm")
    full = Parallelism(
        tp=8,
        pp=16,
        dp=128,
        cp=1,
        ep=1,
        micro_batch=1,
        recompute="selective",
        schedule="interleaved",
        virtual_stages=4,
        zero=1,
    )
    t, _ = _timed(lambda: predict_step(StepSpec(arch, acc, 16384, 8192, 2048), full), repeats=50)
    print(f"\npredict_step, one complete layout: median {t * 1e3:.2f} ms")


if __name__ == "__main__":
    main()
