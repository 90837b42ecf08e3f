"""Sweep throughput (issue 15 item 5): points per second, serial vs Dask, and overhead per point.

Prints figures; it is not a test. Two workloads on deepseek-v3:

1. a grid of --points (default 10,000) GPU counts, point estimates only;
2. --sampled-points (default 1,000) GPU counts x --trials (default 10,000) Monte Carlo trials each,
   with the rental price uncertain ({ci90: [1.5, 3.0]}).

Each runs as:

- bare chain   a Python loop over ``truecost.estimate(dict)`` on prepared dicts (the floor);
- serial sweep ``truecost.sweep(..., scheduler="sync")``: the sweep machinery in one thread,
               so (serial sweep / bare chain) is the overhead per point;
- threads      ``scheduler="threads"`` (Dask's local thread pool, 2 threads here);
- processes    ``scheduler="processes"`` (Dask's local process pool; the default for large sweeps);
- cluster 1w / cluster 2w  a ``distributed.LocalCluster`` with 1 and 2 single-threaded worker
               processes (startup excluded; what ``--scheduler`` runs on): 2w / 1w is the speed-up.

    python bench/bench_sweep.py            # the issue's sizes (about 4 minutes on 2 cores)
    python bench/bench_sweep.py --quick    # 1/10 of them
"""

from __future__ import annotations

import argparse
import copy
import os
import time
from collections.abc import Callable
from typing import Any

import truecost
from truecost.scenario import load_raw


def uncertain() -> dict[str, Any]:
    raw = copy.deepcopy(load_raw("deepseek-v3"))
    raw["pricing"]["rental_usd_per_gpu_hour"] = {"ci90": [1.5, 3.0]}
    return raw


def timed(fn: Callable[[], Any]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process): on a shared machine the CPU time of the
    in-process engines is the figure that does not move with other people's load."""
    t, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - t, time.process_time() - c


def bare(raw: dict[str, Any], counts: list[int], samples: int | None) -> None:
    for i, c in enumerate(counts):
        scn = copy.deepcopy(raw)
        scn["cluster"]["count"] = c
        truecost.estimate(scn, samples=samples, seed=None if samples is None else i)


def workload(name: str, raw: dict[str, Any], n: int, samples: int | None, clusters: dict[str, Any]) -> None:
    counts = list(range(1000, 1000 + n))
    grid = {"cluster.count": counts}
    kw: dict[str, Any] = dict(samples=samples, seed=None if samples is None else 1)
    print(
        f"\n{name}: {n:,} points" + (f" x {samples:,} trials" if samples else "") + f", {os.cpu_count()} CPUs"
    )
    print(f"{'engine':<14}{'wall s':>9}{'points/s':>11}{'ms/point':>10}{'vs bare':>9}{'cpu ms/point':>14}")
    rows: dict[str, tuple[float, float]] = {}
    # the two in-process engines interleaved, best of 3: other load on the machine hits both alike
    for _ in range(3):
        for label, run in (
            ("bare chain", lambda: bare(raw, counts, samples)),
            ("serial sweep", lambda: truecost.sweep(raw, grid, scheduler="sync", **kw)),
        ):
            t = timed(run)
            rows[label] = (min(rows[label][0], t[0]), min(rows[label][1], t[1])) if label in rows else t
    for sched in ("threads", "processes"):
        rows[sched] = timed(lambda s=sched: truecost.sweep(raw, grid, scheduler=s, **kw))  # type: ignore[misc]
    for label, client in clusters.items():
        rows[label] = timed(lambda c=client: truecost.sweep(raw, grid, scheduler=c, **kw))  # type: ignore[misc]
    base, base_cpu = rows["bare chain"]
    for label, (s, c) in rows.items():
        cpu = f"{c / n * 1e3:>14.3f}" if label in ("bare chain", "serial sweep") else f"{'-':>14}"
        print(f"{label:<14}{s:>9.2f}{n / s:>11,.0f}{s / n * 1e3:>10.3f}{s / base:>9.2f}{cpu}")
    c = rows["serial sweep"][1]
    print(
        f"sweep machinery: {(c - base_cpu) / n * 1e3:+.3f} CPU ms/point, {c / base_cpu:.2f}x the bare chain's CPU"
    )
    if "cluster 1w" in rows and "cluster 2w" in rows:
        print(f"speed-up 1 -> 2 workers (wall): {rows['cluster 1w'][0] / rows['cluster 2w'][0]:.2f}x")
    print(f"load average after the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--points", type=int, default=10_000, help="grid points without samples")
    ap.add_argument("--sampled-points", type=int, default=1_000, help="grid points with samples")
    ap.add_argument("--trials", type=int, default=10_000, help="Monte Carlo trials per sampled point")
    ap.add_argument("--quick", action="store_true", help="a tenth of each size")
    ap.add_argument("--no-cluster", action="store_true", help="skip the LocalCluster runs")
    a = ap.parse_args()
    if a.quick:
        a.points, a.sampled_points = a.points // 10, a.sampled_points // 10
    from distributed import Client, LocalCluster

    truecost.sweep("deepseek-v3", {"cluster.count": [1024]})  # imports
    clusters: dict[str, Any] = {}
    opened = []
    if not a.no_cluster:
        for w in (1, 2):
            lc = LocalCluster(n_workers=w, threads_per_worker=1, processes=True, dashboard_address=":0")
            client = Client(lc)
            client.run(lambda: truecost.estimate("deepseek-v3"))  # warm the workers' imports
            clusters[f"cluster {w}w"] = client
            opened += [client, lc]
    try:
        workload("grid", load_raw("deepseek-v3"), a.points, None, clusters)
        workload("sampled", uncertain(), a.sampled_points, a.trials, clusters)
    finally:
        for x in opened:
            x.close()


if __name__ == "__main__":
    main()
