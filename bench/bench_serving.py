"""Serving-model timing (issue 11): the replica layout search, one prediction, a vectorised
prediction over Monte Carlo draws, and the whole `deepseek-serving` estimate with samples.
Prints figures; not a test.

    python bench/bench_serving.py [--draws 1000000]
"""

from __future__ import annotations

import argparse

import numpy as np
from bench_plan import _timed  # the script's folder is on sys.path when run as a script

import truecost
from truecost.catalog import get_accelerator, get_model
from truecost.scenario.serving import Replica
from truecost.stages.serving.layout import candidates, search
from truecost.stages.serving.params import fitted
from truecost.stages.serving.throughput import Workload, rates


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=1_000_000, help="Monte Carlo draws for the vectorised case")
    args = ap.parse_args()
    p = fitted()
    print("Layout search (serving.replica absent), median of 5:")
    for model_id, acc_id, gpus, precision in (
        ("llama-3.1-70b", "h100-sxm", 8, "fp8"),
        ("llama-3.1-405b", "h200", 8, "fp8"),
        ("mixtral-8x7b", "h100-sxm", 8, "fp8"),
        ("deepseek-v3", "h800", None, "fp8"),
    ):
        arch, acc = get_model(model_id).arch, get_accelerator(acc_id)
        w = Workload(1000.0, 1000.0, 1500.0, precision=precision, kv_precision="fp8")
        n = len(candidates(arch, acc, gpus))
        t, rep = _timed(lambda arch=arch, acc=acc, w=w, gpus=gpus: search(arch, acc, w, p, gpus))
        print(
            f"  {model_id:16s} {acc_id:9s} up to {gpus or 'any':>3} GPUs: {n:3d} layouts in {t * 1e3:7.2f} ms -> {rep}"
        )

    arch, acc = get_model("deepseek-v3").arch, get_accelerator("h800")
    decode, prefill = Replica(gpus=144, ep=144, dp=144), Replica(gpus=32, ep=32, dp=32)
    w1 = Workload(3619.0, 1000.0, 4989.0, 0.563, 0.0476, "fp8", "bf16")
    t, _ = _timed(lambda: rates(arch, acc, decode, w1, p, prefill_replica=prefill))
    print(f"One Day-6 prediction (EP144 decode at 47.6 ms, EP32 prefill): {t * 1e3:.2f} ms")

    rng = np.random.default_rng(1)
    n = args.draws
    wn = Workload(
        rng.uniform(3000, 4000, n),
        rng.uniform(800, 1200, n),
        rng.uniform(4500, 5500, n),
        rng.uniform(0.5, 0.6, n),
        0.0476,
        "fp8",
        "bf16",
    )
    t, r = _timed(lambda: rates(arch, acc, decode, wn, p, prefill_replica=prefill), repeats=3)
    print(
        f"Vectorised over {n:,} draws (4 inputs vary, tpot bisection included): {t:.2f} s "
        f"({n / t / 1e6:.2f} M draws/s); median decode {np.median(r.output_tokens_per_s_per_gpu) * 8:,.0f} tokens/s/node"
    )

    t, est = _timed(lambda: truecost.estimate("deepseek-serving"))
    print(f"truecost.estimate('deepseek-serving') point estimate: {t * 1e3:.1f} ms")
    scn = {
        "model": "llama-3.1-70b",
        "pricing": {"rental_usd_per_gpu_hour": {"ci90": [1.5, 3.0]}},
        "serving": {
            "accelerator": "h200",
            "input_tokens": {"ci90": [500, 2000]},
            "output_tokens": 1000,
            "daily_output_tokens": 1e11,
            "price_usd_per_m_tokens": {"input": 0.5, "output": 1.5},
        },
    }
    for samples in (10_000, 200_000):
        t, est = _timed(lambda samples=samples: truecost.estimate(scn, samples=samples, seed=1), repeats=3)
        print(
            f"Predicted-rate serving scenario (searched layout, 3 uncertain inputs), {samples:,} samples: {t:.2f} s; "
            f"p50 $/M output {est.results['serving_usd_per_m_output_tokens']['p50']:.3f}"
        )


if __name__ == "__main__":
    main()
