"""Monte Carlo speed and memory of `truecost estimate deepseek-lab --samples N` (issue #4 item 4).

Prints figures; it is not a test. Three ways of computing the same thing, each timed as a whole
process (python start-up and imports included, wall clock, best of --repeats, runs interleaved),
with the peak RSS of that process (GNU time's %M; see `run_process`):

1. truecost   ``truecost estimate deepseek-lab --samples N --seed 1 --json`` (the CLI).
2. floor      the same deepseek-lab chain hand-written in plain vectorised numpy below (same
              distributions, same per-input random streams as truecost, same formulas with the
              scalar constants folded, same summaries: mean, sd, p1 p5 p10 p25 p50 p75 p90 p95
              p99 of every output that varies). Run as ``python bench_montecarlo.py --floor-only N``.
3. squigglepy the same model written with squigglepy distribution arithmetic as a user would
              write it, sampled with ``sq.sample(output, n=N)`` for each output. squigglepy
              re-samples a distribution every time it appears in an expression tree (STYLE.md
              item 7), so inputs reused by the chain (networking share, PUE, electricity price,
              the owned rate, the staff cost...) are drawn several times per trial and the trials
              of one output are not the trials of another: the numbers differ from truecost's and
              the tree does more work than 18 draws per trial. The printout counts it.

The floor is checked against truecost in-process (every summary of every varying output, same N
and seed: the draws are identical, so the agreement is to rounding) and against the CLI's
``--json`` medians (goal: within 1%). Peak RSS is also measured at N/4, N/2, N and 2N: it should
grow by about 8 bytes per kept output per trial, not with the working chunk.

    python bench/bench_montecarlo.py            # N = 200k and 2M, best of 5 (about 1-2 minutes)
    python bench/bench_montecarlo.py --quick    # N = 50k and 500k, best of 2 (about 30 s)
    python bench/bench_montecarlo.py --n 1000000 --squiggle-n 100000 --repeats 3
    python bench/bench_montecarlo.py --profile  # truecost's phases at --n, then a cProfile

Goals (issue #4): truecost <= 1.5x the floor's wall time at N = 2M; truecost >= 10x squigglepy's
samples per second.

Only the standard library and numpy are imported at module level, so that ``--floor-only``
measures python + numpy start-up and nothing else.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
PRESET = "deepseek-lab"
SEED = 1

# ---------------------------------------------------------------------------------------------
# The deepseek-lab chain by hand: constants (checked against truecost in `check_constants`)
# ---------------------------------------------------------------------------------------------
HOURS_PER_YEAR = 8766.0  # truecost.units.HOURS_PER_YEAR
GPU_HOURS = 2.664e6 + 119.0e3 + 5.0e3  # training.stages (2.788M H800-hours)
RENTAL = 2.0  # pricing.rental_usd_per_gpu_hour
HEADLINE = GPU_HOURS * RENTAL  # 5.576M
UTIL = 0.75  # power utilisation, GPUs (Epoch AI)
STORAGE = 0.03  # storage share of server cost
LIFE = 5.0  # straight-line life, years
COST_OF_CAPITAL = 0.08
MAINTENANCE = 0.03  # of CapEx a year
OPERATIONS = 0.01  # of CapEx a year
COLO_USD_PER_KW_YEAR = 184.06 * 12.0  # CBRE $/kW-month x 12
HORIZON = 4.0  # lab.horizon_years
STAFF_OVERHEAD = 1.325
TOP_PAY = 1.3e6
LAB_SHARE_NUM = 0.3 + 0.35 + 0.25  # training + inference + research; `other` is uncertain
# (tdp kW, server-to-chip) per pool: A100-40GB, H800, H100, H20; H800 is also the run's GPU.
POOLS_KW = ((0.400, 2.03), (0.700, 1.82), (0.700, 1.82), (0.400, 1.82))
GPUS_PER_SERVER = 8.0
FIXED_COUNT = 10000.0  # pools 0-2; pool 3 (H20) count is uncertain

# Uncertain inputs: truecost path -> (numpy method, parameters), exactly as the preset gives them.
INPUTS: dict[tuple, tuple[str, tuple[float, ...]]] = {
    ("fleet", 0, "server_price_usd"): ("ci90", (75000.0, 300000.0)),
    ("fleet", 1, "ownership", "server_overhead"): ("ci90", (1.2, 1.46)),
    ("fleet", 1, "unit_price_usd"): ("ci90", (16900.0, 67600.0)),
    ("fleet", 2, "server_price_usd"): ("ci90", (135000.0, 540000.0)),
    ("fleet", 3, "count"): ("triangular", (20000.0, 30000.0, 40000.0)),
    ("fleet", 3, "ownership", "server_overhead"): ("ci90", (1.3, 2.1)),
    ("fleet", 3, "unit_price_usd"): ("ci90", (6000.0, 24000.0)),
    ("lab", "data_usd"): ("ci90", (1.0e6, 2.0e7)),
    ("lab", "development_years"): ("uniform", (0.5, 1.5)),
    ("lab", "experiment_multiplier"): ("ci90", (1.2, 4.0)),
    ("lab", "fleet_share", "other"): ("uniform", (0.0, 0.3)),
    ("lab", "model_staff_share"): ("uniform", (0.3, 0.8)),
    ("lab", "staff", 0, "count"): ("ci90", (5.0, 40.0)),
    ("lab", "staff", 1, "compensation_usd_per_year"): ("ci90", (100000.0, 400000.0)),
    ("lab", "staff", 1, "count"): ("ci90", (100.0, 300.0)),
    ("ownership", "networking_share"): ("ci90", (0.065, 0.24)),
    ("power", "electricity_usd_per_kwh"): ("ci90", (0.05, 0.12)),
    ("power", "pue"): ("uniform", (1.1, 1.54)),
}
Z95 = 1.6448536269514722  # standard normal 95th percentile

OUTPUTS = (
    "energy_kwh",
    "owned_usd_per_gpu_hour",
    "final_run_owned_cost_usd",
    "fleet_capex_usd",
    "fleet_opex_usd_per_year",
    "fleet_depreciation_usd_per_year",
    "fleet_tco_usd",
    "lab_staff_usd_per_year",
    "development_cost_usd",
    "lab_total_cost_usd",
    "true_to_headline_ratio",
)
QUANTILES = {"p1": 0.01, "p5": 0.05, "p10": 0.10, "p25": 0.25, "p50": 0.5, "p75": 0.75, "p90": 0.90,
             "p95": 0.95, "p99": 0.99}  # fmt: skip


def streams(seed: int) -> dict[tuple, np.random.Generator]:
    """One generator per input keyed by seed and path, as truecost.uncertainty.input_streams does
    (so the floor's draws are truecost's draws, chunk for chunk)."""
    entropy = np.random.SeedSequence(seed).entropy
    out = {}
    for path in INPUTS:
        key = int.from_bytes(hashlib.blake2b(repr(path).encode(), digest_size=16).digest(), "little")
        out[path] = np.random.default_rng(np.random.SeedSequence(entropy, spawn_key=(key,)))
    return out


def draw_inputs(gens: dict[tuple, np.random.Generator], n: int) -> dict[tuple, np.ndarray]:
    x = {}
    for path, (kind, p) in INPUTS.items():
        g = gens[path]
        if kind == "ci90":  # lognormal whose 5th and 95th percentiles are p
            # In place, with numpy's vectorised exp: faster than Generator.lognormal (scalar exp).
            lo, hi = np.log(p[0]), np.log(p[1])
            z = g.standard_normal(n)
            z *= (hi - lo) / (2.0 * Z95)
            z += 0.5 * (lo + hi)
            x[path] = np.exp(z, out=z)
        elif kind == "uniform":
            x[path] = g.uniform(p[0], p[1], n)
        else:
            x[path] = g.triangular(p[0], p[1], p[2], n)
    return x


# Folded scalar constants of the chain.
_ENERGY_PER_PUE = GPU_HOURS * POOLS_KW[1][0] * POOLS_KW[1][1] * UTIL  # kWh per unit of PUE
# Owned $/GPU-h of the run's H800 = hardware x (1/L + cost of capital x 1/2 + maint + ops) / 8766
#   + colocation of its IT kW / 8766 + busy power (PUE x electricity) per hour.
_OWNED_HW = (1.0 / LIFE + 0.5 * COST_OF_CAPITAL + MAINTENANCE + OPERATIONS) / HOURS_PER_YEAR
_OWNED_FIXED = POOLS_KW[1][0] * POOLS_KW[1][1] * COLO_USD_PER_KW_YEAR / HOURS_PER_YEAR
_OWNED_POWER = POOLS_KW[1][0] * POOLS_KW[1][1] * UTIL
_KW_FIXED = FIXED_COUNT * sum(kw * s2c for kw, s2c in POOLS_KW[:3])  # IT kW of pools 0-2
_KW_PER_H20 = POOLS_KW[3][0] * POOLS_KW[3][1]
_DEP_PER_YEAR = min(HORIZON, LIFE) / LIFE / HORIZON  # straight-line booked over the horizon / yr


def floor_chain(x: dict[tuple, np.ndarray]) -> dict[str, np.ndarray]:
    """The deepseek-lab chain on one chunk of draws (formulas of run/pricing/fleet/lab.py)."""
    ns = x[("ownership", "networking_share")]
    pue = x[("power", "pue")]
    pe = pue * x[("power", "electricity_usd_per_kwh")]  # PUE x $/kWh
    # hardware per server dollar: server + networking share/(1 - share) + storage
    m = 1.0 / (1.0 - ns)
    m += STORAGE
    h800_server = x[("fleet", 1, "unit_price_usd")] * x[("fleet", 1, "ownership", "server_overhead")]
    owned = h800_server * m
    owned *= _OWNED_HW
    owned += _OWNED_FIXED
    owned += _OWNED_POWER * pe
    c3 = x[("fleet", 3, "count")]
    servers = x[("fleet", 0, "server_price_usd")] + x[("fleet", 2, "server_price_usd")]
    servers *= FIXED_COUNT / GPUS_PER_SERVER
    servers += FIXED_COUNT * h800_server
    servers += c3 * x[("fleet", 3, "unit_price_usd")] * x[("fleet", 3, "ownership", "server_overhead")]
    capex = servers * m
    it_kw = _KW_PER_H20 * c3
    it_kw += _KW_FIXED
    # OpEx: busy power + colocation rent on IT kW + maintenance + operations
    opex = pe * (UTIL * HOURS_PER_YEAR)
    opex += COLO_USD_PER_KW_YEAR
    opex *= it_kw
    opex += (MAINTENANCE + OPERATIONS) * capex
    tco = HORIZON * opex
    tco += capex
    staff = x[("lab", "staff", 0, "count")] * TOP_PAY
    staff += x[("lab", "staff", 1, "count")] * x[("lab", "staff", 1, "compensation_usd_per_year")]
    staff *= STAFF_OVERHEAD
    data = x[("lab", "data_usd")]
    run_owned = owned * GPU_HOURS
    dev = run_owned * x[("lab", "experiment_multiplier")]
    dev += staff * x[("lab", "development_years")] * x[("lab", "model_staff_share")]
    dev += data
    total = LAB_SHARE_NUM / (LAB_SHARE_NUM + x[("lab", "fleet_share", "other")])
    total *= tco
    total += HORIZON * staff
    total += data
    return {
        "energy_kwh": _ENERGY_PER_PUE * pue,
        "owned_usd_per_gpu_hour": owned,
        "final_run_owned_cost_usd": run_owned,
        "fleet_capex_usd": capex,
        "fleet_opex_usd_per_year": opex,
        "fleet_depreciation_usd_per_year": _DEP_PER_YEAR * capex,
        "fleet_tco_usd": tco,
        "lab_staff_usd_per_year": staff,
        "development_cost_usd": dev,
        "lab_total_cost_usd": total,
        "true_to_headline_ratio": total * (1.0 / HEADLINE),
    }


def summarize(a: np.ndarray) -> dict[str, float]:
    """mean, sd (ddof=0) and the nine percentiles truecost's summarize_extended gives."""
    q = np.quantile(a, list(QUANTILES.values()))
    out = {"mean": float(a.mean()), "sd": float(a.std())}
    out.update((k, float(v)) for k, v in zip(QUANTILES, q, strict=True))
    return out


def floor(
    n: int, seed: int = SEED, chunk: int = 250_000
) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    """Draw, run the chain in chunks into preallocated outputs, summarise. Returns (summaries,
    seconds by phase)."""
    t = {"draws": 0.0, "chain": 0.0}
    gens = streams(seed)
    outs = {k: np.empty(n) for k in OUTPUTS}
    chunk = chunk or n
    for lo in range(0, n, chunk):
        hi = min(lo + chunk, n)
        t0 = time.perf_counter()
        x = draw_inputs(gens, hi - lo)
        t1 = time.perf_counter()
        for k, v in floor_chain(x).items():
            outs[k][lo:hi] = v
        t["chain"] += time.perf_counter() - t1
        t["draws"] += t1 - t0
    t0 = time.perf_counter()
    summaries = {k: summarize(v) for k, v in outs.items()}
    t["summaries"] = time.perf_counter() - t0
    return summaries, t


# ---------------------------------------------------------------------------------------------
# The same model in squigglepy, written as a user would (distribution arithmetic)
# ---------------------------------------------------------------------------------------------
def squiggle_model() -> dict:
    import squigglepy as sq

    H = HOURS_PER_YEAR
    pue = sq.uniform(1.1, 1.54)
    elec = sq.lognorm(0.05, 0.12)  # lognorm(lo, hi) is a 90% CI lognormal, like {ci90: [lo, hi]}
    ns = sq.lognorm(0.065, 0.24)

    def pool(count, server, tdp_kw, s2c):
        networking = server * ns / (1 - ns)
        storage = server * STORAGE
        hardware = server + networking + storage
        it_kw = tdp_kw * s2c
        power_h = it_kw * UTIL * pue * elec
        capex = count * hardware
        opex = (
            count * power_h * H
            + count * it_kw * COLO_USD_PER_KW_YEAR
            + capex * MAINTENANCE
            + capex * OPERATIONS
        )
        dep = capex * min(HORIZON, LIFE) / LIFE / HORIZON
        return {
            "hardware": hardware,
            "power_h": power_h,
            "it_kw": it_kw,
            "capex": capex,
            "opex": opex,
            "dep": dep,
        }

    a100 = pool(FIXED_COUNT, sq.lognorm(75000, 300000) / 8, *POOLS_KW[0])
    h800 = pool(FIXED_COUNT, sq.lognorm(16900, 67600) * sq.lognorm(1.2, 1.46), *POOLS_KW[1])
    h100 = pool(FIXED_COUNT, sq.lognorm(135000, 540000) / 8, *POOLS_KW[2])
    h20 = pool(
        sq.triangular(20000, 30000, 40000), sq.lognorm(6000, 24000) * sq.lognorm(1.3, 2.1), *POOLS_KW[3]
    )
    pools = (a100, h800, h100, h20)

    hw = h800["hardware"]
    owned = (
        hw / LIFE / H
        + hw * 0.5 * COST_OF_CAPITAL / H
        + hw * MAINTENANCE / H
        + hw * OPERATIONS / H
        + h800["it_kw"] * COLO_USD_PER_KW_YEAR / H
        + h800["power_h"]
    )
    run_owned = owned * GPU_HOURS
    capex = pools[0]["capex"] + pools[1]["capex"] + pools[2]["capex"] + pools[3]["capex"]
    opex = pools[0]["opex"] + pools[1]["opex"] + pools[2]["opex"] + pools[3]["opex"]
    dep = pools[0]["dep"] + pools[1]["dep"] + pools[2]["dep"] + pools[3]["dep"]
    tco = capex + opex * HORIZON
    staff = (
        sq.lognorm(5, 40) * TOP_PAY * STAFF_OVERHEAD
        + sq.lognorm(100, 300) * sq.lognorm(1e5, 4e5) * STAFF_OVERHEAD
    )
    mult = sq.lognorm(1.2, 4.0)
    data = sq.lognorm(1e6, 2e7)
    dev = run_owned + run_owned * (mult - 1) + staff * sq.uniform(0.5, 1.5) * sq.uniform(0.3, 0.8) + data
    lab_share = LAB_SHARE_NUM / (LAB_SHARE_NUM + sq.uniform(0.0, 0.3))
    total = lab_share * (capex + HORIZON * opex) + HORIZON * staff + data
    return {
        "energy_kwh": GPU_HOURS * POOLS_KW[1][0] * POOLS_KW[1][1] * UTIL * pue,
        "owned_usd_per_gpu_hour": owned,
        "final_run_owned_cost_usd": run_owned,
        "fleet_capex_usd": capex,
        "fleet_opex_usd_per_year": opex,
        "fleet_depreciation_usd_per_year": dep,
        "fleet_tco_usd": tco,
        "lab_staff_usd_per_year": staff,
        "development_cost_usd": dev,
        "lab_total_cost_usd": total,
        "true_to_headline_ratio": total / HEADLINE,
    }


def tree_leaves(dist) -> tuple[int, int]:
    """(random draws, constant leaves) that one `sq.sample` of this tree makes per trial."""
    from squigglepy.distributions import ComplexDistribution

    if isinstance(dist, ComplexDistribution):
        a = tree_leaves(dist.left)
        b = tree_leaves(dist.right) if dist.right is not None else (0, 0)
        return a[0] + b[0], a[1] + b[1]
    if isinstance(dist, int | float):
        return 0, 1
    return 1, 0


def squiggle(n: int, seed: int = SEED) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    t0 = time.perf_counter()
    import squigglepy as sq

    t = {"import": time.perf_counter() - t0}
    sq.set_seed(seed)
    model = squiggle_model()
    t0 = time.perf_counter()
    samples = {k: sq.sample(d, n=n, verbose=False) for k, d in model.items()}
    t["sample"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    summaries = {k: summarize(np.asarray(v, dtype=float)) for k, v in samples.items()}
    t["summaries"] = time.perf_counter() - t0
    return summaries, t


# ---------------------------------------------------------------------------------------------
# Checks against truecost (in-process; imports truecost)
# ---------------------------------------------------------------------------------------------
def check_constants() -> list[str]:
    """The floor's hard-coded constants and input specs against truecost's code and the preset."""
    from truecost import units
    from truecost.catalog import get_accelerator
    from truecost.catalog.factors import factor
    from truecost.chain import prepare
    from truecost.stages import lab, pricing
    from truecost.uncertainty import LogNormal, Triangular, Uniform

    problems = []

    def same(name, ours, theirs):
        if not np.isclose(ours, theirs, rtol=1e-12, atol=0):
            problems.append(f"{name}: bench {ours!r} vs truecost {theirs!r}")

    prep = prepare(PRESET)
    scn = prep.scenario
    same("HOURS_PER_YEAR", HOURS_PER_YEAR, units.HOURS_PER_YEAR)
    same("GPU_HOURS", GPU_HOURS, sum(s.gpu_hours for s in scn.training.stages))
    same("RENTAL", RENTAL, scn.pricing.rental_usd_per_gpu_hour)
    same("UTIL", UTIL, factor(scn.cluster.accelerator, "power_utilisation").value)
    same("STORAGE", STORAGE, pricing.STORAGE_SHARE.value)
    same("LIFE", LIFE, pricing.LIFE_YEARS.value)
    same("COST_OF_CAPITAL", COST_OF_CAPITAL, pricing.COST_OF_CAPITAL.value)
    same("MAINTENANCE", MAINTENANCE, pricing.MAINTENANCE_SHARE_PER_YEAR.value)
    same("OPERATIONS", OPERATIONS, pricing.OPERATIONS_SHARE_PER_YEAR.value)
    same("COLO", COLO_USD_PER_KW_YEAR, pricing.COLOCATION_USD_PER_KW_MONTH.value * units.MONTHS_PER_YEAR)
    same("HORIZON", HORIZON, scn.lab.horizon_years)
    same("STAFF_OVERHEAD", STAFF_OVERHEAD, lab.STAFF_OVERHEAD.value)
    same("TOP_PAY", TOP_PAY, scn.lab.staff[0].compensation_usd_per_year)
    fs = scn.lab.fleet_share
    same("LAB_SHARE_NUM", LAB_SHARE_NUM, fs.training + fs.inference + fs.research)
    if scn.cluster.accelerator != scn.fleet[1].accelerator:
        problems.append("the run's accelerator is not fleet[1]'s")
    for i, (pool, (kw, s2c)) in enumerate(zip(scn.fleet, POOLS_KW, strict=True)):
        acc = get_accelerator(pool.accelerator)
        same(f"fleet[{i}] tdp", kw, acc.tdp_w / units.W_PER_KW)
        same(
            f"fleet[{i}] s2c",
            s2c,
            factor(acc.id, "server_to_chip_power").value,
        )
        if i < 3:
            same(f"fleet[{i}] count", FIXED_COUNT, pool.count)
        if pool.server_price_usd is not None:
            same(f"fleet[{i}] gpus/server", GPUS_PER_SERVER, pool.gpus_per_node or acc.gpus_per_node)
    if set(prep.dists) != set(INPUTS):
        problems.append(f"uncertain inputs differ: {sorted(map(str, set(prep.dists) ^ set(INPUTS)))}")
    for path, d in prep.dists.items():
        kind, p = INPUTS.get(path, ("?", ()))
        ok = (
            (kind == "ci90" and isinstance(d, LogNormal) and (d.p5, d.p95) == p)
            or (kind == "uniform" and isinstance(d, Uniform) and (d.low, d.high) == p)
            or (kind == "triangular" and isinstance(d, Triangular) and (d.low, d.mode, d.high) == p)
        )
        if not ok:
            problems.append(f"{path}: bench {kind} {p} vs truecost {d.describe()}")
    return problems


def check_floor(n: int, seed: int = SEED) -> tuple[float, list[str], list[str]]:
    """Floor vs truecost.estimate in-process at the same n and seed: the largest relative
    difference over every summary of every varying output, and which outputs vary."""
    from truecost.chain import estimate

    est = estimate(PRESET, samples=n, seed=seed)
    varying = [k for k, s in est.percentiles.items() if s["p1"] != s["p99"]]
    ours, _ = floor(n, seed)
    worst, notes = 0.0, []
    if sorted(varying) != sorted(OUTPUTS):
        notes.append(f"varying outputs differ: truecost {sorted(varying)}")
    for k in OUTPUTS:
        for stat, v in ours[k].items():
            ref = est.percentiles[k][stat]
            worst = max(worst, abs(v - ref) / abs(ref))
    return worst, varying, notes


# ---------------------------------------------------------------------------------------------
# Whole-process timing
# ---------------------------------------------------------------------------------------------
def truecost_cmd(n: int | None) -> list[str]:
    exe = shutil.which("truecost", path=str(Path(sys.executable).parent)) or "truecost"
    cmd = [exe, "estimate", PRESET, "--json"]
    return cmd + (["--samples", str(n), "--seed", str(SEED)] if n else [])


def self_cmd(mode: str, n: int, *extra: str) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), mode, str(n), *extra]


TIME = shutil.which("time", path="/usr/bin:/bin")


def run_process(cmd: list[str]) -> tuple[float, float, str]:
    """(wall s, peak RSS MB, stdout) of one child process.

    The peak RSS comes from GNU time (%M) when /usr/bin/time exists: Linux counts the RSS of the
    image a child had before exec into its ru_maxrss, so measuring a child forked straight from
    this (numpy-sized) process would report at least this process's own RSS. Without GNU time,
    os.wait4's figure is used and is an upper bound of that kind.
    """
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile("r") as tf,
    ):
        full = [TIME, "-q", "-f", "%M", "-o", tf.name, *cmd] if TIME else cmd
        t0 = time.perf_counter()
        p = subprocess.Popen(full, stdout=out, stderr=err, cwd=ROOT)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if p.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} exited {p.returncode}: {err.read().decode()[-2000:]}")
        rss_kb = float(tf.read().split()[-1]) if TIME else float(ru.ru_maxrss)
        return wall, rss_kb / 1024.0, out.read().decode()


def best_of(cmds: list[list[str]], repeats: int) -> list[tuple[float, float, str]]:
    """Run each command `repeats` times, interleaved (a, b, a, b, ...) so that they meet the same
    background load; per command: best wall time, largest peak RSS, last stdout."""
    runs: list[list[tuple[float, float, str]]] = [[] for _ in cmds]
    for _ in range(repeats):
        for i, cmd in enumerate(cmds):
            runs[i].append(run_process(cmd))
    return [(min(r[0] for r in rs), max(r[1] for r in rs), rs[-1][2]) for rs in runs]


# ---------------------------------------------------------------------------------------------
# Where truecost's time goes (child process; wraps truecost.chain internals, so it may need
# updating when they change: the rest of the bench does not depend on them)
# ---------------------------------------------------------------------------------------------
def phases(n: int) -> dict[str, float]:
    t = {}
    t0 = time.perf_counter()
    import truecost.cli  # noqa: F401  (what the CLI process imports before running)
    from truecost import chain

    t["import truecost (numpy already imported)"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    chain.prepare(PRESET)
    t["first prepare: YAML, validation x3, lazy imports"] = time.perf_counter() - t0

    acc: dict[str, float] = {}

    def timed(name, fn):
        def wrapper(*a, **k):
            t1 = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                acc[name] = acc.get(name, 0.0) + time.perf_counter() - t1

        return wrapper

    chain.draw = timed("draws", chain.draw)
    chain.inject_all = timed("inject", chain.inject_all)
    chain.summarize_extended = timed("summaries (summarize_extended)", chain.summarize_extended)
    chain.STAGES = tuple((name, timed(f"stage {name}", fn)) for name, fn in chain.STAGES)
    t0 = time.perf_counter()
    est = chain.estimate(PRESET, samples=n, seed=SEED)
    total = time.perf_counter() - t0
    t.update(acc)
    t["rest of estimate (prepare again, concatenate, checks)"] = total - sum(acc.values())
    t0 = time.perf_counter()
    json.dumps(est.to_dict(), indent=2)
    t["to_dict + json.dumps"] = time.perf_counter() - t0
    return t


def fmt_n(n: float) -> str:
    return f"{n / 1e6:g}M" if n >= 1e6 else f"{n / 1e3:g}k" if n >= 1e3 else f"{n:g}"


def table(rows: list[dict]) -> str:
    head = ("method", "N", "wall s", "samples/s", "peak RSS MB", "ratio")
    lines = [head] + [
        (r["method"], r.get("n_label", fmt_n(r["n"])), f"{r['wall']:.3f}",
         r.get("rate_label", f"{r['n'] / r['wall']:,.0f}"),
         "-" if r.get("rss") is None else f"{r['rss']:.0f}", r.get("ratio", "")) for r in rows
    ]  # fmt: skip
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(head))]
    out = []
    for j, line in enumerate(lines):
        cells = (
            str(c).rjust(w) if 0 < i < 5 else str(c).ljust(w)
            for i, (c, w) in enumerate(zip(line, widths, strict=True))
        )
        out.append("  ".join(cells).rstrip())
        if j == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def profile(n: int) -> None:
    """Phase breakdown of truecost at n (in a child process), then cProfile of the CLI process."""
    w, _, out = run_process(self_cmd("--phases-only", n))
    t = json.loads(out)
    print(
        f"truecost at N={fmt_n(n)}, phases in one process (wall {w:.2f} s including python + numpy start-up):"
    )
    for k, v in t.items():
        print(f"  {k:55s} {v:7.3f} s")
    prof = Path(tempfile.gettempdir()) / "truecost_estimate.prof"
    cmd = [sys.executable, "-m", "cProfile", "-o", str(prof), *truecost_cmd(n)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    import pstats

    print(f"\ncProfile of `{' '.join(truecost_cmd(n)[1:])}` (profiler overhead included), by own time:")
    pstats.Stats(str(prof)).sort_stats("tottime").print_stats(20)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smaller N and fewer repeats (a fast check)")
    ap.add_argument("--n", type=int, default=None, help="main N (default 2,000,000; --quick 500,000)")
    ap.add_argument(
        "--squiggle-n", type=int, default=None, help="squigglepy N (default 200,000; --quick 50,000)"
    )
    ap.add_argument(
        "--repeats", type=int, default=None, help="runs per timing, best kept (default 5; --quick 2)"
    )
    ap.add_argument("--chunk", type=int, default=250_000, help="floor chunk size (0 = all at once)")
    ap.add_argument("--profile", action="store_true", help="where truecost's time goes at --n, then stop")
    ap.add_argument("--floor-only", type=int, metavar="N", help="child mode: run the floor, print JSON")
    ap.add_argument("--squiggle-only", type=int, metavar="N", help="child mode: run squigglepy, print JSON")
    ap.add_argument("--phases-only", type=int, metavar="N", help=argparse.SUPPRESS)
    ap.add_argument("--seed", type=int, default=SEED, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.floor_only:  # child processes, timed by the parent
        summaries, t = floor(args.floor_only, args.seed, args.chunk)
        print(json.dumps({"summaries": summaries, "seconds": t}))
        return
    if args.squiggle_only:
        summaries, t = squiggle(args.squiggle_only, args.seed)
        print(json.dumps({"summaries": summaries, "seconds": t}))
        return
    if args.phases_only:
        print(json.dumps(phases(args.phases_only)))
        return

    quick = args.quick
    n_main = args.n or (500_000 if quick else 2_000_000)
    n_small = max(2, n_main // 10)
    n_sq = args.squiggle_n or (50_000 if quick else 200_000)
    repeats = args.repeats or (2 if quick else 5)
    sq_repeats = min(repeats, 3)
    mem_ns = [n_main // 4, n_main // 2, n_main, n_main * 2]
    if args.profile:
        profile(n_main)
        return

    print(f"truecost Monte Carlo bench: preset {PRESET}, seed {SEED}, {os.cpu_count()} CPUs, "
          f"python {sys.version.split()[0]}, numpy {np.__version__}, load average {os.getloadavg()[0]:.2f}")  # fmt: skip
    print(f"wall = whole process (python start-up and imports included), best of {repeats} (squigglepy {sq_repeats}), "
          f"runs interleaved; peak RSS = {'GNU time %M' if TIME else 'os.wait4 ru_maxrss (upper bound)'} of that process",
          flush=True)  # fmt: skip

    # Whole processes first, while this process is small.
    floor_extra = ("--chunk", str(args.chunk))
    (point,) = best_of([truecost_cmd(None)], repeats)
    tc: dict[int, tuple[float, float, dict]] = {}
    fl: dict[int, tuple[float, float, dict]] = {}
    for n in (n_small, n_main):
        a, b = best_of([truecost_cmd(n), self_cmd("--floor-only", n, *floor_extra)], repeats)
        tc[n] = (a[0], a[1], json.loads(a[2]))
        fl[n] = (b[0], b[1], json.loads(b[2]))
    ((sq_wall, sq_rss, out),) = best_of([self_cmd("--squiggle-only", n_sq)], sq_repeats)
    sq_out = json.loads(out)
    extrapolated = sq_wall * n_main / n_sq
    sq_main = None
    if n_sq < n_main and extrapolated <= 60:
        ((w, r, _),) = best_of([self_cmd("--squiggle-only", n_main)], 1)
        sq_main = (w, r)
    mem = [
        (n, run_process(truecost_cmd(n))[1], run_process(self_cmd("--floor-only", n, *floor_extra))[1])
        for n in mem_ns
    ]

    # 1. Does the floor replicate the chain?
    print()
    problems = check_constants()
    print(
        "floor constants and input specs vs truecost's code and the preset:",
        "OK" if not problems else "MISMATCH",
    )
    for p in problems:
        print("  ", p)
    n_check = min(200_000, n_main)
    worst, varying, notes = check_floor(n_check)
    print(f"floor vs truecost.estimate in-process, N={fmt_n(n_check)}, seed {SEED}: {len(varying)} varying outputs; "
          f"every summary (mean, sd, p1..p99) agrees to {worst:.1e} relative (same per-input streams: same draws)")  # fmt: skip
    for note in notes:
        print("  ", note)
    res = tc[n_main][2]["results"]
    med = max(abs(fl[n_main][2]["summaries"][k]["p50"] / res[k]["p50"] - 1) for k in OUTPUTS)
    print(
        f"floor process p50 vs truecost --json p50 at N={fmt_n(n_main)}: largest relative gap {med:.1e} (goal: within 1%)"
    )

    # 2. The table.
    rows: list[dict] = [{"method": "truecost, point estimate (no --samples)", "n": 1, "n_label": "-",
                         "rate_label": "-", "wall": point[0], "rss": point[1]}]  # fmt: skip
    for n in (n_small, n_main):
        rows.append(
            {
                "method": "truecost estimate --samples N",
                "n": n,
                "wall": tc[n][0],
                "rss": tc[n][1],
                "ratio": "1",
            }
        )
        rows.append({"method": "numpy floor (--floor-only N)", "n": n, "wall": fl[n][0], "rss": fl[n][1],
                     "ratio": f"truecost/floor {tc[n][0] / fl[n][0]:.2f}x wall"})  # fmt: skip
    tc_rate = n_main / tc[n_main][0]
    rows.append({"method": "squigglepy (sq.sample per output)", "n": n_sq, "wall": sq_wall, "rss": sq_rss,
                 "ratio": f"truecost@{fmt_n(n_main)}/sq {tc_rate / (n_sq / sq_wall):.1f}x samples/s"})  # fmt: skip
    if sq_main is not None:
        sq_x = sq_main[0] / tc[n_main][0]
        rows.append({"method": "squigglepy (sq.sample per output)", "n": n_main, "wall": sq_main[0], "rss": sq_main[1],
                     "ratio": f"truecost/sq {sq_x:.1f}x samples/s"})  # fmt: skip
    else:
        sq_x = extrapolated / tc[n_main][0]
        rows.append({"method": f"squigglepy, linear from {fmt_n(n_sq)} (>60 s)", "n": n_main, "wall": extrapolated,
                     "rss": None, "ratio": f"truecost/sq {sq_x:.1f}x samples/s"})  # fmt: skip
    print()
    print(table(rows))
    print()
    ratio = tc[n_main][0] / fl[n_main][0]
    print(
        f"goal truecost <= 1.5x floor wall at N={fmt_n(n_main)}: {ratio:.2f}x -> {'MET' if ratio <= 1.5 else 'NOT MET'}"
    )
    print(f"goal truecost >= 10x squigglepy samples/s at N={fmt_n(n_main)}"
          f"{'' if sq_main else ' (squigglepy extrapolated from ' + fmt_n(n_sq) + ')'}: {sq_x:.1f}x -> "
          f"{'MET' if sq_x >= 10 else 'NOT MET'}")  # fmt: skip
    ft = fl[n_main][2]["seconds"]
    print(f"floor in-process at N={fmt_n(n_main)}: draws {ft['draws']:.3f} s, chain {ft['chain']:.3f} s, "
          f"summaries {ft['summaries']:.3f} s; the rest of its wall is python + numpy start-up")  # fmt: skip
    st = sq_out["seconds"]
    print(f"squigglepy in-process at N={fmt_n(n_sq)}: import {st['import']:.3f} s, sampling {st['sample']:.3f} s, "
          f"summaries {st['summaries']:.3f} s")  # fmt: skip
    print("(`--profile` shows where truecost's own time goes.)")

    # 3. squigglepy's re-sampling of reused inputs.
    model = squiggle_model()
    draws = {k: tree_leaves(d) for k, d in model.items()}
    total_draws = sum(d[0] for d in draws.values())
    total_consts = sum(d[1] for d in draws.values())
    print()
    print("squigglepy re-samples a distribution wherever it appears in an expression tree (STYLE.md item 7).")
    print(f"  Sampling its {len(model)} outputs makes {total_draws} random draws per trial (lab_total_cost_usd alone: "
          f"{draws['lab_total_cost_usd'][0]}) and expands {total_consts} constants")  # fmt: skip
    print(f"  to length-N arrays in Python loops; truecost and the floor make {len(INPUTS)} draws per trial, shared by "
          "every output.")  # fmt: skip
    print(
        "  Each reused input (networking share, PUE, electricity, hardware cost, the owned rate, staff cost) is"
    )
    print(
        "  thus independent of itself across terms and outputs: medians land near truecost's, spreads come out"
    )
    print("  too narrow. Same seed:")
    print(f"  {'output':32s} {'truecost p5 / p50 / p95':>35s}   {'squigglepy p5 / p50 / p95':>35s}")
    for k in ("fleet_capex_usd", "fleet_tco_usd", "development_cost_usd", "lab_total_cost_usd"):
        a, b = res[k], sq_out["summaries"][k]
        print(
            f"  {k:32s} {a['p5']:11.4g} {a['p50']:11.4g} {a['p95']:11.4g}   {b['p5']:11.4g} {b['p50']:11.4g} {b['p95']:11.4g}"
        )

    # 4. Memory against N.
    print()
    print(f"peak RSS against N (MB; one run each; chunks of 250k; {len(OUTPUTS)} outputs vary):")
    print(f"  {'N':>6s} {'truecost':>9s} {'floor':>7s}")
    for n, r, rf in mem:
        print(f"  {fmt_n(n):>6s} {r:9.0f} {rf:7.0f}")
    print(f"  truecost point estimate, no samples: {point[1]:.0f} MB")
    xs = [m[0] for m in mem]
    slope = np.polyfit(xs, [m[1] * 2**20 for m in mem], 1)[0]
    slope_f = np.polyfit(xs, [m[2] * 2**20 for m in mem], 1)[0]
    print(f"  slope (least squares): truecost {slope:.0f} bytes per trial, floor {slope_f:.0f}. The kept outputs are "
          f"{len(OUTPUTS)} x 8 = {len(OUTPUTS) * 8} bytes per trial;")  # fmt: skip
    print(
        "  summarising one output at a time adds its concatenated array and np.quantile's copy (transient)."
    )
    print(
        f"  Working on all N at once would add {len(INPUTS)} inputs x 8 bytes plus the chain's intermediates per trial."
    )


if __name__ == "__main__":
    main()
