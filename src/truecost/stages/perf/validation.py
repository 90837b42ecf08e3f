"""Predictions against measured step times and published GPU-hours, with errors.

Sets (`validation_sets()`):

- ``vtrain-single-node``: 1,440 measured iteration times on 2-8 A100s (Bang et al., MICRO
  2024). Half of them (seeded, stratified by GPU count) were used to fit the calibrated
  parameters; each row says whether it was (`in_fit`).
- ``megatron-table1``: Narayanan et al. 2021 (SC'21) Table 1, achieved TFLOP/s per A100 turned
  into a step time with their eq. 3 FLOP count. Micro-batch size and interleaving depth are not
  published and are chosen by the layout search; the schedule is interleaved when pp > 1 (sec.
  5.1: "we use the interleaved pipeline schedule with the scatter/gather optimization").
- ``published-throughput``: DeepSeek-V3 step time (ISCA'25 Table 4) and Llama 3 405B per-GPU
  throughput (Llama 3 paper Table 4) as step times.
- ``published-gpu-hours``: catalog runs whose GPU-hours can be rebuilt from a step time.

None of the last three sets was used to fit anything.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ...catalog import get_accelerator, get_model, get_run
from ...scenario.cluster import Network, Parallelism
from ...units import FLOP_PER_TFLOP, SECONDS_PER_HOUR
from ..flops import flops_per_token, narayanan_flops_per_iteration
from .datasets import VTRAIN_ACCELERATOR, gpt2_arch, megatron_rows, vtrain_rows
from .layout import StepPrediction
from .params import GOODPUT_DEFAULT, PerfParams
from .spec import StepSpec
from .step import evaluate, make_problem, predict_step

# vTrain's setup (README beside the data): Megatron-DeepSpeed, mixed precision (FP16), full
# recomputation, 1F1B, no ZeRO, one node.
VTRAIN_STACK = "megatron-2021"
VTRAIN_PRECISION = "fp16"


@dataclass(frozen=True)
class ValidationRow:
    """One prediction against one measurement.

    label : what was measured. measured, predicted : the values, in `unit`.
    abs_pct_error : |predicted / measured - 1| x 100. [%]
    in_fit : True if the row was used to fit parameters, False if held out, None if the set is
        not a calibration set. note : layout chosen, assumptions.

    `to_dict` adds `error_pct` (signed, (predicted - measured) / measured x 100) and `held_out`
    (in_fit is False), the keys `truecost validate` reports.
    """

    label: str
    measured: float
    predicted: float
    unit: str
    abs_pct_error: float
    in_fit: bool | None = None
    note: str = ""

    @property
    def error_pct(self) -> float:
        """Signed error, (predicted - measured) / measured x 100. [%]"""
        return (self.predicted / self.measured - 1) * 100

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "error_pct": self.error_pct, "held_out": self.in_fit is False}


def _row(
    label: str, measured: float, predicted: float, unit: str, in_fit: bool | None = None, note: str = ""
) -> ValidationRow:
    return ValidationRow(label, measured, predicted, unit, abs(predicted / measured - 1) * 100, in_fit, note)


def mape(rows: list[ValidationRow], in_fit: bool | None = None) -> float:
    """Mean absolute percentage error of rows (optionally only fit / held-out rows). [%]"""
    sel = [r for r in rows if in_fit is None or r.in_fit is in_fit]
    return float(np.mean([r.abs_pct_error for r in sel])) if sel else float("nan")


# ---- vTrain -----------------------------------------------------------------------------------
def vtrain_predictions(params: PerfParams | None = None) -> np.ndarray:
    """Predicted step time of every vTrain row, one vectorised pass per model shape. [s]"""
    rows = vtrain_rows()
    acc = get_accelerator(VTRAIN_ACCELERATOR)
    keys = np.stack([rows.hidden, rows.heads, rows.layers, rows.seq_len, rows.global_batch], axis=1)
    shapes, inverse = np.unique(keys, axis=0, return_inverse=True)
    out = np.empty(len(rows))
    for g, (h, a, layers, s, gb) in enumerate(shapes):
        idx = np.flatnonzero(inverse.ravel() == g)
        problem = make_problem(
            StepSpec(
                gpt2_arch(int(h), int(a), int(layers)),
                acc,
                int(rows.gpus[idx].max()),
                int(s),
                int(gb),
                precision=VTRAIN_PRECISION,
                stack=VTRAIN_STACK,
                perf_params=params,
            )
        )
        n = len(idx)
        layouts = {
            "tp": rows.tp[idx],
            "pp": rows.pp[idx],
            "dp": rows.dp[idx],
            "ep": np.ones(n),
            "cp": np.ones(n),
            "micro_batch": rows.micro_batch[idx],
            "virtual_stages": np.ones(n),
            "zero": np.zeros(n, dtype=int),
            "recompute": np.full(n, 2),
            "schedule": np.zeros(n, dtype=int),
        }
        out[idx] = evaluate(problem, layouts)["step_time_s"]
    return out


def vtrain_set(params: PerfParams | None = None) -> list[ValidationRow]:
    rows = vtrain_rows()
    pred = vtrain_predictions(params)
    return [
        _row(rows.label(i), float(rows.step_time_s[i]), float(pred[i]), "s", bool(rows.is_fit[i]))
        for i in range(len(rows))
    ]


# ---- Narayanan et al. 2021 Table 1 ------------------------------------------------------------
# Rows 1, 3, 5, 7, 9 (0-based 0, 2, 4, 6, 8) fit the sustained GEMM fraction (params.py); the
# others are held out.
MEGATRON_FIT_ROWS = frozenset({0, 2, 4, 6, 8})


def megatron_set(params: PerfParams | None = None) -> list[ValidationRow]:
    acc = get_accelerator("a100-sxm4-80gb")
    out = []
    for i, r in enumerate(megatron_rows()):
        arch = gpt2_arch(r.hidden, r.heads, r.layers, r.vocab)
        flops = narayanan_flops_per_iteration(r.global_batch, r.seq_len, r.layers, r.hidden, r.vocab)
        measured = flops / (r.n_gpus * r.achieved_flop_per_s)
        fixed = Parallelism(
            tp=r.tp,
            pp=r.pp,
            dp=r.dp,
            cp=1,
            ep=1,
            recompute="full",
            zero=0,
            schedule="interleaved" if r.pp > 1 else "1f1b",
        )
        spec = StepSpec(
            arch,
            acc,
            r.n_gpus,
            r.seq_len,
            r.global_batch,
            "fp16",
            stack="megatron-2021",
            perf_params=params,
        )
        pred = predict_step(spec, fixed)
        lay = pred.layout
        out.append(
            _row(
                r.label,
                measured,
                pred.step_time_s,
                "s",
                in_fit=i in MEGATRON_FIT_ROWS,
                note=f"searched micro_batch={lay.micro_batch}, virtual_stages={lay.virtual_stages}",
            )
        )
    return out


# ---- published runs ---------------------------------------------------------------------------
# DeepSeek-V3 report sec. 3.1-3.2 and ISCA'25 'Insights into DeepSeek-V3' (Table 4, MPFT network):
# 2048 H800, 16-way DualPipe, 64-way EP, ZeRO-1 DP, no TP; 8 x 400G IB per node, NVLink 400 GB/s.
DEEPSEEK_V3_LAYOUT = Parallelism(tp=1, pp=16, ep=64, dp=128, cp=1, zero=1, schedule="dualpipe")
DEEPSEEK_V3_NETWORK = Network(intra_node_gb_per_s=400, inter_node_gbit_per_s=3200)
DEEPSEEK_V3_STEP_S = 19.926  # ISCA'25 Table 4, MPFT
# Llama 3 paper Table 4 (BF16, 'PaLM' MFU: non-causal attention FLOPs, 989 TFLOPS peak).
LLAMA3_TABLE4 = (
    (8192, Parallelism(tp=8, cp=1, pp=16, dp=64), 8192, 2048, 430.0),
    (16384, Parallelism(tp=8, cp=1, pp=16, dp=128), 8192, 2048, 400.0),
    (16384, Parallelism(tp=8, cp=16, pp=16, dp=8), 131072, 128, 380.0),
)


def _deepseek(params: PerfParams | None) -> Any:
    spec = StepSpec(
        get_model("deepseek-v3").arch,
        get_accelerator("h800"),
        2048,
        4096,
        15360,
        "fp8",
        DEEPSEEK_V3_NETWORK,
        perf_params=params,
    )
    return predict_step(spec, DEEPSEEK_V3_LAYOUT)


def _llama405(params: PerfParams | None, n: int, fixed: Parallelism, seq: int, gb: int) -> Any:
    spec = StepSpec(
        get_model("llama-3.1-405b").arch,
        get_accelerator("h100-sxm"),
        n,
        seq,
        gb,
        "bf16",
        flop_convention="megatron-noncausal",
        perf_params=params,
    )
    return predict_step(spec, fixed)


def _layout_note(p: Any) -> str:
    lay = p.layout
    v = f"/v{lay.virtual_stages}" if lay.schedule == "interleaved" else ""
    return f"searched mb {lay.micro_batch}, {lay.recompute} recompute, {lay.schedule}{v}, zero {lay.zero}; MFU {p.mfu:.3f}"


def throughput_set(params: PerfParams | None = None) -> list[ValidationRow]:
    out = []
    ds = _deepseek(params)
    out.append(
        _row(
            "DeepSeek-V3 step, 2048 H800 (ISCA'25 Table 4, MPFT)",
            DEEPSEEK_V3_STEP_S,
            ds.step_time_s,
            "s",
            note=_layout_note(ds),
        )
    )
    arch = get_model("llama-3.1-405b").arch
    for n, fixed, seq, gb, tflops in LLAMA3_TABLE4:
        p = _llama405(params, n, fixed, seq, gb)
        measured = flops_per_token(arch, seq, "megatron-noncausal") * gb * seq / (n * tflops * FLOP_PER_TFLOP)
        out.append(
            _row(
                f"Llama 3 405B step, {n} H100, tp{fixed.tp} cp{fixed.cp} pp{fixed.pp} dp{fixed.dp}, seq {seq} "
                f"(Table 4: {tflops:g} TFLOP/s/GPU)",
                measured,
                p.step_time_s,
                "s",
                note=_layout_note(p),
            )
        )
    return out


def _run_gpu_hours(
    tokens: float, global_batch: int, seq_len: int, pred: StepPrediction, goodput: float
) -> float:
    """GPU-hours of `tokens` at a predicted step: steps x step time x GPUs / goodput, as the run
    stage computes them (`truecost.stages.run.perf_stage`). [h]"""
    steps = tokens / (global_batch * seq_len)
    return steps * pred.step_time_s * pred.n_gpus / SECONDS_PER_HOUR / goodput


def gpu_hours_set(params: PerfParams | None = None) -> list[ValidationRow]:
    out = []
    run = get_run("deepseek-v3-pretrain")
    ds = _deepseek(params)
    # The reported 2.664M = 180K GPU-h per trillion tokens x 14.8T: a throughput figure, so no
    # goodput loss is applied (goodput 1); batch-size warm-up is ignored.
    pred = _run_gpu_hours(run.tokens or 0.0, 15360, 4096, ds, 1.0)
    out.append(
        _row(
            "DeepSeek-V3 pre-training, 14.8T tokens, 2048 H800",
            run.gpu_hours or 0.0,
            pred,
            "GPU-h",
            note="goodput 1: the reported hours are 180K GPU-h/T tokens x 14.8T, a throughput figure; "
            + _layout_note(ds),
        )
    )
    run = get_run("llama-3.1-405b")
    n, fixed, seq, gb, _ = LLAMA3_TABLE4[1]
    p = _llama405(params, n, fixed, seq, gb)
    pred = _run_gpu_hours(run.tokens or 0.0, gb, seq, p, GOODPUT_DEFAULT)
    out.append(
        _row(
            "Llama 3.1 405B, 15.6T tokens, 16,384 H100 (model card)",
            run.gpu_hours or 0.0,
            pred,
            "GPU-h",
            note=f"goodput {GOODPUT_DEFAULT} (Llama 3 paper sec. 3.3.4); all tokens at the 16K-GPU, seq-8192 layout; "
            + _layout_note(p),
        )
    )
    return out


def validation_sets(params: PerfParams | None = None) -> dict[str, list[ValidationRow]]:
    """Set name -> rows (label, measured, predicted, abs % error), for `truecost validate`."""
    return {
        "vtrain-single-node": vtrain_set(params),
        "megatron-table1": megatron_set(params),
        "published-throughput": throughput_set(params),
        "published-gpu-hours": gpu_hours_set(params),
    }


def summary(sets: dict[str, list[ValidationRow]] | None = None) -> dict[str, dict[str, float]]:
    """MAPE per set (and, for the calibration set, fit and held-out halves). [%]"""
    sets = validation_sets() if sets is None else sets
    out: dict[str, dict[str, float]] = {}
    for name, rows in sets.items():
        entry = {"n": float(len(rows)), "mape_pct": mape(rows)}
        if any(r.in_fit is not None for r in rows):
            entry["mape_fit_pct"] = mape(rows, in_fit=True)
            entry["mape_heldout_pct"] = mape(rows, in_fit=False)
        out[name] = entry
    return out
