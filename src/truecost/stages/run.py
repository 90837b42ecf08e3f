"""The `run` stage: GPU-hours, MFU, wall-clock and energy of the training run.

GPU-hours come from one of three places, in this order: the step-time model's prediction (perf
stage) with a goodput; the reported GPU-hours (`cluster.gpu_hours` or `training.stages`), which
imply an MFU; or an MFU (given, or Epoch AI's median) applied to the training FLOPs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import defaults
from ..catalog import get_accelerator
from ..catalog.factors import factor
from ..catalog.schema import Accelerator
from ..errors import ScenarioError
from ..scenario.cluster import Cluster
from ..scenario.power import Power
from ..scenario.training import Stage, Training
from ..units import HOURS_PER_DAY, SECONDS_PER_HOUR
from . import energy
from .base import Notes, StageResult, quantity
from .flops import FlopsResult
from .perf.realized import GOODPUT_SOURCE, goodput_at_scale
from .perf.stage import PerfResult

MFU_IMPLAUSIBLY_HIGH = 0.75  # above any published LLM training MFU (formulas.md; PaLM 46%, LaMDA 56%)


# ---- formulas ------------------------------------------------------------------------------
def gpu_hours(training_flops: Any, peak_flop_per_s: Any, mfu: Any, goodput: Any = 1.0) -> Any:
    """GPU time for a run. [h]

    training_flops : numeric   model FLOPs of the run. [FLOP]
    peak_flop_per_s : numeric  dense peak of one accelerator at the MFU basis. [FLOP/s]
    mfu : numeric              model FLOPs utilisation while training, 0 < mfu <= 1. [1]
    goodput : numeric          productive share of the run's GPU time, 0 < goodput <= 1. [1]

    >>> round(gpu_hours(3.6e24, 1e15, 0.5))
    2000000
    """
    return training_flops / (peak_flop_per_s * mfu * goodput) / SECONDS_PER_HOUR


def gpu_hours_from_step_time(
    tokens: Any, global_batch: Any, seq_len: Any, step_time_s: Any, count: Any, goodput: Any = 1.0
) -> Any:
    """GPU time of a run from its step time: tokens / (global_batch x seq_len) steps, each
    `step_time_s` on `count` accelerators, over the productive share of the time. [h]

    >>> gpu_hours_from_step_time(4096 * 1000, 1000, 4096, 3.6, 1000)
    1.0
    """
    return tokens / (global_batch * seq_len) * step_time_s * count / SECONDS_PER_HOUR / goodput


def implied_mfu(training_flops: Any, gpu_hours_: Any, peak_flop_per_s: Any) -> Any:
    """MFU implied by a reported GPU-hour figure (includes non-productive time). [1]"""
    return training_flops / (gpu_hours_ * SECONDS_PER_HOUR * peak_flop_per_s)


def wall_clock_days(gpu_hours_: Any, count: Any) -> Any:
    """Calendar days with `count` accelerators busy. [d]

    >>> wall_clock_days(2_664_000, 2048)
    54.19921875
    """
    return gpu_hours_ / count / HOURS_PER_DAY


# The energy formula (TDP x server-to-chip x utilisation x PUE x hours, Epoch AI) lives in
# `truecost.stages.energy` with the measured and given power bases; re-exported here.
energy_kwh = energy.energy_kwh


MFU_IMPLAUSIBLY_HIGH = 0.75  # above any published LLM training MFU (formulas.md; PaLM 46%, LaMDA 56%)


def power_defaults(accelerator_id: str) -> tuple[defaults.Cited, defaults.Cited]:
    """(server-to-chip power, average power utilisation) defaults of an accelerator: catalog rows
    (`ownership_factors.csv`: Epoch AI's per-chip figures, TPU values for TPUs, H100 otherwise)."""
    s2c = factor(accelerator_id, "server_to_chip_power")
    util = factor(accelerator_id, "power_utilisation")
    assert s2c is not None and util is not None  # the table has catch-all rows
    return s2c, util


@dataclass(frozen=True, kw_only=True)
class RunResult(StageResult):
    """gpu_hours : accelerator-hours of the run. [h]
    mfu : implied (reported GPU-hours) or given / default MFU; None when the perf stage predicted it. [1]
    wall_clock_days : calendar days with `cluster.count` accelerators busy. [d]
    energy_kwh : facility energy of the run. [kWh]
    mfu_source : where the MFU comes from (predicted, implied, given, default).
    mfu_basis : the precision of the dense peak MFU is measured against, with the peak.
    reported_stages : the run's reported stages (pre-training, context extension...), when given.
    """

    gpu_hours: Any = quantity("h")
    mfu: Any = quantity("1")
    wall_clock_days: Any = quantity("d", "gpu_hours / cluster.count / 24")
    energy_kwh: Any = quantity("kWh", "gpu_hours x TDP x server_to_chip_power x power_utilisation x PUE")
    mfu_source: str = ""
    mfu_basis: str = ""
    reported_stages: tuple[Stage, ...] = ()


def _peak(acc: Accelerator, cluster: Cluster) -> float:
    try:
        return acc.peak(cluster.mfu_basis)
    except ValueError as exc:
        raise ScenarioError(str(exc), field="cluster.mfu_basis") from None


def stage(
    training: Training,
    cluster: Cluster | None,
    power: Power,
    flops: FlopsResult,
    perf: PerfResult,
    *,
    point: bool = True,
) -> RunResult:
    if cluster is None:
        return RunResult()
    notes = Notes(point)
    acc = get_accelerator(cluster.accelerator)
    total_flops = flops.training_flops
    reported = training.stages
    basis = f"dense {cluster.mfu_basis} peak of {acc.id}"
    formulas: dict[str, str] = {}
    mfu: Any = None

    if perf.prediction is not None:
        if cluster.goodput is not None:
            goodput = notes.cited("goodput", cluster.goodput, defaults.Cited(0, "1", ""), "cluster.goodput")
        else:
            goodput = goodput_at_scale(cluster.count)
            notes.assume(
                "goodput", round(float(np.median(goodput)), 4), "1", GOODPUT_SOURCE, "cluster.goodput"
            )
        assert perf.global_batch is not None
        hours = gpu_hours_from_step_time(
            training.tokens, perf.global_batch, training.seq_len, perf.step_time_s, cluster.count, goodput
        )
        formulas["gpu_hours"] = (
            "training.tokens / (global_batch x seq_len) x step_time_s x count / 3600 / goodput"
        )
        source = "predicted by the step-time model"
    elif cluster.gpu_hours is not None or reported:
        if cluster.gpu_hours is not None:
            hours = cluster.gpu_hours
            formulas["gpu_hours"] = "given (cluster.gpu_hours)"
        else:
            hours = sum(s.gpu_hours for s in reported)
            formulas["gpu_hours"] = " + ".join(s.name for s in reported) + " (training.stages)"
        source = "implied by the reported GPU-hours"
        if total_flops is not None:
            with_tokens = [s.gpu_hours for s in reported if s.tokens is not None]
            hours_for_flops = sum(with_tokens) if with_tokens else hours
            which = "stages with tokens" if with_tokens else "all GPU-hours"
            mfu = implied_mfu(total_flops, hours_for_flops, _peak(acc, cluster))
            formulas["mfu"] = (
                f"implied: training_flops / (GPU-hours of {which} x 3600 x {basis}); includes non-productive time"
            )
    else:
        if total_flops is None or (cluster.count is None and cluster.mfu is None):
            return RunResult()
        source = "given" if cluster.mfu is not None else "default (Epoch AI median)"
        mfu = notes.cited("mfu", cluster.mfu, defaults.MFU_WHEN_UNKNOWN, "cluster.mfu")
        formulas["mfu"] = f"model FLOPs / (GPU-seconds x {basis})"
        goodput = 1.0 if cluster.goodput is None else cluster.goodput
        notes.assume(
            "goodput",
            goodput,
            "1",
            "scenario input"
            if cluster.goodput is not None
            else "MFU given: taken as the whole run's utilisation; set cluster.goodput to add non-productive time",
            "cluster.goodput",
        )
        if point and np.any(np.asarray(mfu) > MFU_IMPLAUSIBLY_HIGH):
            notes.warn(
                f"cluster.mfu = {float(np.median(mfu)):.2f} is above 0.75, higher than any published run"
            )
        hours = gpu_hours(total_flops, _peak(acc, cluster), mfu, goodput)
        formulas["gpu_hours"] = f"training_flops / ({basis} x mfu x goodput) / 3600"

    days = wall_clock_days(hours, cluster.count) if cluster.count is not None else None
    energy = _energy(notes, acc, power, hours, formulas)
    return RunResult(
        gpu_hours=hours,
        mfu=mfu,
        wall_clock_days=days,
        energy_kwh=energy,
        mfu_source=source,
        mfu_basis=f"{cluster.mfu_basis} ({acc.peak(cluster.mfu_basis) / 1e12:g} TFLOP/s dense)",
        reported_stages=tuple(reported) if cluster.gpu_hours is not None or reported else (),
        formulas=formulas,
        assumptions=notes.assumptions,
        warnings=notes.warnings,
    )


def _energy(notes: Notes, acc: Accelerator, power: Power, hours: Any, formulas: dict[str, str]) -> Any:
    """Energy on the power basis the scenario and catalog allow (`truecost.stages.energy`): the
    given `power.gpu_watts`, a measured system power (TPU v4), else TDP x server x utilisation."""
    s2c_default, util_default = power_defaults(acc.id)
    e = energy.stage(
        power,
        gpu_hours=hours,
        accelerator=acc,
        server_to_chip_default=s2c_default,
        utilisation_default=util_default,
        pue_default=defaults.PUE,
        point=notes.point,
    )
    notes.extend(e)
    if e.basis != "tdp" and "energy_kwh" in e.formulas:
        formulas["energy_kwh"] = e.formulas["energy_kwh"]
    return e.energy_kwh
