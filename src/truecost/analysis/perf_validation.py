"""Step-time model predictions against measured step times and published GPU-hours, with errors.

Sets (`validation_sets()`):

- ``vtrain-single-node``: 1,440 measured iteration times on 2-8 A100s (Bang et al., MICRO
  2024). Half of them (seeded, stratified by GPU count) were used to fit the calibrated
  parameters; each row says whether it was (`in_fit`).
- ``megatron-table1``: Narayanan et al. 2021 (SC'21) Table 1, achieved TFLOP/s per A100 turned
  into a step time with their eq. 3 FLOP count (`truecost.stages.perf.datasets`).
- ``published-throughput``: the rows of `catalog/data/validation/throughput_other.csv` with a
  `validation_label` (DeepSeek-V3's step time, ISCA'25 Table 4; Llama 3 405B per-GPU throughput,
  Llama 3 paper Table 4) as step times, with the setup given in the same rows.
- ``published-gpu-hours``: catalog runs (`catalog_run` of those rows) whose GPU-hours can be
  rebuilt from a step time.

None of the last three sets was used to fit anything.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass
from functools import cache
from typing import Any

import numpy as np

from ..catalog import get_accelerator, get_model, get_run
from ..catalog.data_files import data_text
from ..scenario.cluster import Network, Parallelism
from ..stages.flops import flops_per_token
from ..stages.perf import GOODPUT_DEFAULT, PerfParams, StepPrediction, StepSpec, predict_step
from ..stages.perf.datasets import (
    MEGATRON_FIT_ROWS,
    OTHER_FILE,
    megatron_predictions,
    megatron_rows,
    megatron_step_time_s,
    vtrain_predictions,
    vtrain_rows,
)
from ..units import FLOP_PER_TFLOP, SECONDS_PER_HOUR


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


# ---- calibration sets -----------------------------------------------------------------------------
def vtrain_set(params: PerfParams | None = None) -> list[ValidationRow]:
    rows = vtrain_rows()
    pred = vtrain_predictions(params)
    return [
        _row(rows.label(i), float(rows.step_time_s[i]), float(pred[i]), "s", bool(rows.is_fit[i]))
        for i in range(len(rows))
    ]


def megatron_set(params: PerfParams | None = None) -> list[ValidationRow]:
    out = []
    for i, (r, pred) in enumerate(zip(megatron_rows(), megatron_predictions(params), strict=True)):
        lay = pred.layout
        out.append(
            _row(
                r.label,
                megatron_step_time_s(r),
                pred.step_time_s,
                "s",
                in_fit=i in MEGATRON_FIT_ROWS,
                note=f"searched micro_batch={lay.micro_batch}, virtual_stages={lay.virtual_stages}",
            )
        )
    return out


# ---- published runs -------------------------------------------------------------------------------
@dataclass(frozen=True)
class PublishedStep:
    """A published step time or per-GPU throughput with the setup to predict it (one row of
    throughput_other.csv with a `validation_label`).

    measured_step_time_s : the published step time, or model FLOPs per step / (GPUs x the
        published TFLOP/s per GPU) in the row's FLOP convention. [s]
    fixed : the published layout entries (the rest are searched).
    catalog_run : id of the catalog run whose GPU-hours this step rebuilds ('' if none).
    goodput : productive share assumed for those GPU-hours (None: the cited default). [1]
    """

    label: str
    spec: StepSpec
    fixed: Parallelism
    measured_step_time_s: float
    catalog_run: str
    goodput: float | None
    source: str


def _int_or(text: str, default: int | None) -> int | None:
    return int(text) if text.strip() else default


@cache
def published_steps() -> tuple[PublishedStep, ...]:
    """The published steps of `catalog/data/validation/throughput_other.csv`."""
    text = data_text(*OTHER_FILE)
    out = []
    for r in csv.DictReader(io.StringIO(text)):
        if not r["validation_label"]:
            continue
        arch = get_model(r["model_id"]).arch
        n, seq, gb = int(r["n_gpus"]), int(r["seq_len"]), int(r["global_batch"])
        tp, pp = int(r["tp"]), int(r["pp"])
        cp = _int_or(r["cp"], 1)  # not stated: no context parallelism
        assert cp is not None
        network = Network(
            intra_node_gb_per_s=float(r["intra_node_gb_per_s"]) if r["intra_node_gb_per_s"] else None,
            inter_node_gbit_per_s=float(r["inter_node_gbit_per_s"]) if r["inter_node_gbit_per_s"] else None,
        )
        spec = StepSpec(
            arch,
            get_accelerator(r["accelerator_id"]),
            n,
            seq,
            gb,
            r["precision"],
            network,
            flop_convention=r["flop_convention"],
        )
        fixed = Parallelism(
            tp=tp,
            pp=pp,
            cp=cp,
            dp=_int_or(r["dp"], n // (tp * pp * cp)),  # not stated: the GPUs left over
            ep=_int_or(r["ep"], None),
            zero=_int_or(r["zero"], None),
            schedule=r["schedule"] or None,  # type: ignore[arg-type]  # checked by pydantic
        )
        if r["step_time_s"]:
            measured = float(r["step_time_s"])
        else:
            flop = flops_per_token(arch, seq, r["flop_convention"]) * gb * seq
            measured = flop / (n * float(r["achieved_tflops_per_gpu"]) * FLOP_PER_TFLOP)
        out.append(
            PublishedStep(
                label=r["validation_label"],
                spec=spec,
                fixed=fixed,
                measured_step_time_s=measured,
                catalog_run=r["catalog_run"],
                goodput=float(r["goodput"]) if r["goodput"] else None,
                source=f"{r['source']}; setup: {r['validation_setup_source']}",
            )
        )
    return tuple(out)


def _predict(step: PublishedStep, params: PerfParams | None) -> StepPrediction:
    """The published layout, its unpublished entries filled as a scenario fills them: the fastest
    conventional choice of the stack's era (`stages.perf.realized.practitioner_prediction`)."""
    from ..catalog.stacks import stack
    from ..stages.perf.realized import practitioner_prediction
    from ..stages.perf.step import make_problem

    spec = step.spec if params is None else StepSpec(**{**vars(step.spec), "perf_params": params})
    if step.fixed.is_complete():
        return predict_step(spec, step.fixed)
    return practitioner_prediction(make_problem(spec), step.fixed, stack(spec.stack))[0]


def _layout_note(p: StepPrediction) -> str:
    lay = p.layout
    v = f"/v{lay.virtual_stages}" if lay.schedule == "interleaved" else ""
    return f"searched mb {lay.micro_batch}, {lay.recompute} recompute, {lay.schedule}{v}, zero {lay.zero}; MFU {p.mfu:.3f}"


def throughput_set(params: PerfParams | None = None) -> list[ValidationRow]:
    out = []
    for step in published_steps():
        p = _predict(step, params)
        out.append(_row(step.label, step.measured_step_time_s, p.step_time_s, "s", note=_layout_note(p)))
    return out


def _run_gpu_hours(tokens: float, spec: StepSpec, pred: StepPrediction, goodput: float) -> float:
    """GPU-hours of `tokens` at a predicted step: steps x step time x GPUs / goodput, as the run
    stage computes them (`truecost.stages.run.perf_stage`). [h]"""
    steps = tokens / (spec.global_batch * spec.seq_len)
    return steps * pred.step_time_s * pred.n_gpus / SECONDS_PER_HOUR / goodput


def gpu_hours_set(params: PerfParams | None = None) -> list[ValidationRow]:
    out = []
    for step in published_steps():
        if not step.catalog_run:
            continue
        run = get_run(step.catalog_run)
        p = _predict(step, params)
        goodput = GOODPUT_DEFAULT if step.goodput is None else step.goodput
        pred = _run_gpu_hours(run.tokens or 0.0, step.spec, p, goodput)
        why = (
            "the cited default (Llama 3 paper sec. 3.3.4)"
            if step.goodput is None
            else "as the setup source says"
        )
        out.append(
            _row(
                f"{run.model}, {(run.tokens or 0.0) / 1e12:.3g}T tokens, {step.spec.n_gpus:,} "
                f"{step.spec.accelerator.id}",
                run.gpu_hours or 0.0,
                pred,
                "GPU-h",
                note=f"goodput {goodput:g}, {why}; all tokens at the published step's layout; "
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
