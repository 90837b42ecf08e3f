"""Fit the realized-efficiency layer on published runs, with leave-one-out errors and coverage.

    python -m truecost.analysis.calibrate_realized          # print the fit and LOO table
    python -m truecost.analysis.calibrate_realized --write  # also write catalog/data/realized_efficiency.csv

Data: the runs of `catalog/data/validation/realized_runs.csv` (published GPU-hours from
training_runs.csv, with the GPU count, batch, precision, start date and whether the hours are a
throughput figure or wall-clock, each with its source). Per run the perf stage's ideal step (the
physics at the practitioner's layout of the era's stack) gives ideal GPU-hours; wall-clock hours
also divide by `goodput_at_scale`. The one fitted parameter is the realized efficiency eta:

    reported GPU-h = ideal GPU-h / (eta x goodput)    =>    log eta = mean_i log(ideal_i / (goodput_i reported_i))

Its interval: eta x exp(+-t(0.95, n-1) x s), s the root mean square of the leave-one-out log
residuals (each run predicted by the eta of the others). Coverage is itself leave-one-out: run i's
interval comes from the other runs only (their eta and their own LOO residuals).

The interval for a *given* layout (factor 1, the physics) comes the same way from the physics'
out-of-sample step-time residuals: the published steady-state steps (DeepSeek-V3, Llama 3 Table 4)
and the held-out rows of Narayanan et al. Table 1. Megatron Table 1 and vTrain fit the physics,
never this layer.
"""

from __future__ import annotations

import csv
import io
import math
import sys
from dataclasses import dataclass
from functools import cache

import numpy as np
from scipy import stats

from ..catalog import get_model, get_run
from ..catalog.data_files import data_text
from ..catalog.fitted import realized_path
from ..scenario.cluster import Cluster
from ..scenario.training import Training
from ..stages.perf.calibrate import write as write_fitted
from ..stages.perf.realized import goodput_at_scale
from ..stages.perf.stage import ideal_step

RUNS_FILE = "realized_runs.csv"
ACCESSED = "2026-12-01"
FIT_ON = "the {n} published runs of catalog/data/validation/realized_runs.csv ({ids})"


@dataclass(frozen=True)
class RunCase:
    run_id: str
    label: str
    count: int
    global_batch: int
    precision: str
    start_date: str
    throughput_basis: bool
    reported_gpu_hours: float
    ideal_gpu_hours: float
    goodput: float
    layout: str

    @property
    def log_eta(self) -> float:
        """The efficiency that would make this run exact: log(ideal / (goodput x reported))."""
        return math.log(self.ideal_gpu_hours / (self.goodput * self.reported_gpu_hours))


def _rows() -> list[dict[str, str]]:
    text = data_text("validation", RUNS_FILE)
    return list(csv.DictReader(io.StringIO(text)))


@cache
def run_cases() -> tuple[RunCase, ...]:
    """Ideal GPU-hours of every calibration run, through the perf stage's own ideal step."""
    out = []
    for r in _rows():
        run = get_run(r["run_id"])
        assert run.model_id and run.accelerator_id and run.tokens and run.gpu_hours and run.seq_len
        arch = get_model(run.model_id).arch
        training = Training(
            tokens=run.tokens,
            seq_len=run.seq_len,
            global_batch=int(r["global_batch"]),
            precision=r["precision"],  # type: ignore[arg-type]
            start_date=r["start_date"],
        )
        count = int(r["count"])
        cluster = Cluster(accelerator=run.accelerator_id, count=count)
        ideal = ideal_step(training, cluster, arch, count)
        hours = run.tokens * ideal.gpu_s_per_token / 3600.0
        throughput = r["hours_basis"] == "throughput"
        lay = ideal.prediction.layout
        out.append(
            RunCase(
                run_id=run.id,
                label=f"{run.model} ({count} {run.accelerator_id})",
                count=count,
                global_batch=int(r["global_batch"]),
                precision=r["precision"],
                start_date=r["start_date"],
                throughput_basis=throughput,
                reported_gpu_hours=run.gpu_hours,
                ideal_gpu_hours=hours,
                goodput=1.0 if throughput else float(goodput_at_scale(count)),
                layout=f"tp{lay.tp} pp{lay.pp} dp{lay.dp} ep{lay.ep} mb{lay.micro_batch} {lay.recompute} "
                f"{lay.schedule} zero{lay.zero}; ideal MFU {ideal.prediction.mfu:.3f}",
            )
        )
    return tuple(out)


def t90(n_residuals: int) -> float:
    """Two-sided 90% Student-t multiplier for `n_residuals` leave-one-out residuals (df n - 1)."""
    return float(stats.t.ppf(0.95, max(1, n_residuals - 1)))


def fit(y: np.ndarray) -> tuple[float, float]:
    """(log eta, LOO residual rms) of log efficiencies y. The LOO residual of i is y_i minus the
    mean of the others."""
    n = len(y)
    loo = np.array([y[i] - np.delete(y, i).mean() for i in range(n)])
    return float(y.mean()), float(np.sqrt(np.mean(loo**2)))


@dataclass(frozen=True)
class LooRow:
    case: RunCase
    predicted_gpu_hours: float
    error_pct: float
    p5_gpu_hours: float
    p95_gpu_hours: float
    covered: bool


def loo(cases: tuple[RunCase, ...] | None = None) -> list[LooRow]:
    """Each run predicted from the others: eta and its interval fitted without it."""
    cases = run_cases() if cases is None else cases
    y = np.array([c.log_eta for c in cases])
    out = []
    for i, c in enumerate(cases):
        rest = np.delete(y, i)
        mu, s = fit(rest)
        k = t90(len(rest)) * s
        base = c.ideal_gpu_hours / c.goodput
        pred = base / math.exp(mu)
        lo, hi = base / math.exp(mu + k), base / math.exp(mu - k)
        out.append(
            LooRow(c, pred, (pred / c.reported_gpu_hours - 1) * 100, lo, hi, lo <= c.reported_gpu_hours <= hi)
        )
    return out


# MT-NLG 530B (Smith et al. 2022, arXiv:2201.11990, sec. 3.3 and Fig. 3): 105 layers, hidden 20480,
# 128 heads, sequence 2,048, batch 1,920; 8-way tensor and 35-way pipeline parallelism inside and
# across DGX A100 nodes, data parallelism for the rest (8, 10, 12 at 280, 350, 420 nodes); BF16.
# Measured step times: the throughput_other.csv rows (their Fig. 3 / PaLM Table 3).
MTNLG_ARCH = {"layers": 105, "d_model": 20480, "n_heads": 128, "vocab": 51200}
MTNLG_LAYOUT = {"tp": 8, "pp": 35}


def mtnlg_steps() -> list[tuple[str, float, float]]:
    """(label, measured, predicted step seconds) of the MT-NLG production throughput rows, through
    the perf stage's path with the megatron-2021 stack (a production run of that era)."""
    from ..stages.perf.datasets import gpt2_arch

    text = data_text("validation", "throughput_other.csv")
    out = []
    arch = gpt2_arch(MTNLG_ARCH["d_model"], MTNLG_ARCH["n_heads"], MTNLG_ARCH["layers"], MTNLG_ARCH["vocab"])
    for r in csv.DictReader(io.StringIO(text)):
        if not r["run"].startswith("MT-NLG"):
            continue
        n = int(r["n_gpus"])
        training = Training(tokens=270e9, seq_len=2048, global_batch=1920, precision="bf16")
        par = {**MTNLG_LAYOUT, "dp": n // (MTNLG_LAYOUT["tp"] * MTNLG_LAYOUT["pp"])}
        cluster = Cluster(
            accelerator="a100-sxm4-80gb",
            count=n,
            stack="megatron-2021",
            parallelism=par,  # type: ignore[arg-type]
        )
        ideal = ideal_step(training, cluster, arch, n)
        out.append((r["run"], float(r["step_time_s"]), ideal.prediction.step_time_s))
    return out


def given_layout_residuals() -> np.ndarray:
    """log(ideal / measured step time) of the physics at measured layouts, out of sample: the
    held-out rows of Megatron Table 1 (benchmarks) and the production steps of DeepSeek-V3,
    Llama 3 and MT-NLG."""
    from .perf_validation import megatron_set, throughput_set

    rows = [(r.predicted, r.measured) for r in megatron_set() if r.in_fit is False]
    rows += [(r.predicted, r.measured) for r in throughput_set()]
    rows += [(pred, meas) for _, meas, pred in mtnlg_steps()]
    return np.array([math.log(p / m) for p, m in rows])  # step ratio = 1 / eta


def summary(rows: list[LooRow]) -> dict[str, float]:
    errs = np.array([abs(r.error_pct) for r in rows])
    return {
        "n": float(len(rows)),
        "median_abs_error_pct": float(np.median(errs)),
        "mean_abs_error_pct": float(np.mean(errs)),
        "max_abs_error_pct": float(np.max(errs)),
        "coverage_90": float(np.mean([r.covered for r in rows])),
    }


def fitted_parameters() -> list[dict[str, object]]:
    """The rows of realized_efficiency.csv, refitted from the data."""
    cases = run_cases()
    y = np.array([c.log_eta for c in cases])
    mu, s = fit(y)
    k = t90(len(y)) * s
    rows = loo(cases)
    summ = summary(rows)
    on = FIT_ON.format(n=len(cases), ids=", ".join(c.run_id for c in cases))
    g = -given_layout_residuals()  # log eta of the physics at measured layouts
    kg = t90(len(g)) * float(np.sqrt(np.mean(g**2)))
    g_on = (
        f"the physics' out-of-sample log step-time residuals at measured layouts ({len(g)}: held-out rows of "
        "Narayanan et al. 2021 Table 1, DeepSeek-V3 ISCA'25 Table 4, Llama 3 Table 4, MT-NLG 530B at 280-420 "
        "nodes), rms x t(0.95, n-1)"
    )
    src = f"fitted by truecost.analysis.calibrate_realized on {on}"
    return [
        {
            "parameter": "realized_efficiency",
            "value": round(math.exp(mu), 4),
            "unit": "1",
            "source": src,
            "notes": "realized / ideal steady-state throughput at the practitioner's layout; log-mean over runs",
        },
        {
            "parameter": "realized_efficiency_p5",
            "value": round(math.exp(mu - k), 4),
            "unit": "1",
            "source": f"leave-one-out log residual rms x t(0.95, n-1), {src}",
            "notes": "",
        },
        {
            "parameter": "realized_efficiency_p95",
            "value": round(math.exp(mu + k), 4),
            "unit": "1",
            "source": f"leave-one-out log residual rms x t(0.95, n-1), {src}",
            "notes": "",
        },
        {
            "parameter": "given_layout_p5",
            "value": round(math.exp(-kg), 4),
            "unit": "1",
            "source": g_on,
            "notes": "",
        },
        {
            "parameter": "given_layout_p95",
            "value": round(math.exp(kg), 4),
            "unit": "1",
            "source": g_on,
            "notes": "",
        },
        {
            "parameter": "loo_median_abs_gpu_hours_error_pct",
            "value": round(summ["median_abs_error_pct"], 2),
            "unit": "%",
            "source": f"leave-one-out over {on}",
            "notes": "reported, not used by the model",
        },
        {
            "parameter": "loo_coverage_90",
            "value": round(summ["coverage_90"], 4),
            "unit": "1",
            "source": f"leave-one-out over {on}",
            "notes": "share of runs inside their LOO 90% interval",
        },
    ]


def write(rows: list[dict[str, object]], path: str | None = None) -> str:
    """Write `rows` to realized_efficiency.csv (default path), dated ACCESSED (perf's writer)."""
    return write_fitted(rows, path or realized_path(), ACCESSED)


def main(argv: list[str]) -> int:
    rows = loo()
    for r in rows:
        c = r.case
        print(
            f"{c.run_id:22s} reported {c.reported_gpu_hours:10.4g}  LOO {r.predicted_gpu_hours:10.4g} "
            f"({r.error_pct:+6.1f}%)  90% [{r.p5_gpu_hours:.3g}, {r.p95_gpu_hours:.3g}] {'in' if r.covered else 'OUT'}"
            f"  eta_i {math.exp(c.log_eta):.3f}  {c.layout}"
        )
    print(summary(rows))
    for label, meas, pred in mtnlg_steps():
        print(f"{label}: measured {meas} s, physics {pred:.1f} s ({(pred / meas - 1) * 100:+.1f}%)")
    params = fitted_parameters()
    for p in params:
        print(f"{p['parameter']:40s} {p['value']}")
    if "--write" in argv:
        print("wrote", write(params))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
