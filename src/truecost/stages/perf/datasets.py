"""Measured step times shipped for calibration and validation, their fixed train/held-out split,
and the model's predictions of them (what `calibrate` fits and `truecost.analysis.perf_validation`
reports).

- vTrain single-node set (Bang et al., MICRO 2024; MIT licence beside the file): 1,440 measured
  Megatron-DeepSpeed iteration times on 2-8 A100s.
- Narayanan et al. 2021 (SC'21) Table 1: achieved TFLOP/s per A100, converted to step time with
  their eq. 3 FLOP count.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache

import numpy as np

from ...architecture import Architecture
from ...catalog import get_accelerator
from ...catalog.data_files import data_text
from ...scenario.cluster import Parallelism
from ...units import FLOP_PER_TFLOP, MS_PER_S
from ..flops import narayanan_flops_per_iteration
from .layout import StepPrediction
from .params import PerfParams
from .spec import StepSpec
from .step import evaluate, make_problem, predict_step

VTRAIN_FILE = ("validation", "vtrain", "ground_truth_single.csv")
MEGATRON_FILE = ("validation", "megatron_throughput.csv")
OTHER_FILE = ("validation", "throughput_other.csv")

# Megatron-LM's GPT-2 BPE vocabulary (50,257 tokens; padded to a multiple of 128 x tp inside the
# model). The vTrain README leaves the vocabulary unstated: this is the stated assumption.
GPT2_VOCAB = 50257
# vTrain's configuration files: 8-GPU A100 nodes, mixed precision, full recomputation, 1F1B.
VTRAIN_ACCELERATOR = "a100-sxm4-80gb"
# Seed and rule of the calibration split: a seeded permutation within each GPU count, first half
# fit, second half held out.
SPLIT_SEED = 20240501


def _read(parts: tuple[str, ...]) -> str:
    return data_text(*parts)


def gpt2_arch(d_model: int, n_heads: int, layers: int, vocab: int = GPT2_VOCAB) -> Architecture:
    """A GPT-2 style decoder (4h GELU MLP, learned positions, tied embeddings)."""
    return Architecture(
        name=f"gpt-h{d_model}-l{layers}",
        arch="dense",
        layers=layers,
        d_model=d_model,
        n_heads=n_heads,
        n_kv_heads=None,
        head_dim=None,
        ffn_dim=4 * d_model,
        glu=False,
        vocab=vocab,
        tied_embeddings=True,
        mtp_depth=0,
        source="GPT-2 style (Radford et al. 2019) as configured in Megatron-LM",
    )


@dataclass(frozen=True)
class VTrainRows:
    """The vTrain set as column arrays (one element per measured configuration)."""

    gpus: np.ndarray
    global_batch: np.ndarray
    micro_batch: np.ndarray
    hidden: np.ndarray
    heads: np.ndarray
    layers: np.ndarray
    seq_len: np.ndarray
    tp: np.ndarray
    dp: np.ndarray
    pp: np.ndarray
    step_time_s: np.ndarray
    is_fit: np.ndarray  # True for the calibration half

    def __len__(self) -> int:
        return len(self.gpus)

    def label(self, i: int) -> str:
        return (
            f"h{self.hidden[i]} L{self.layers[i]} gb{self.global_batch[i]} mb{self.micro_batch[i]} "
            f"tp{self.tp[i]} pp{self.pp[i]} dp{self.dp[i]}"
        )


def split_mask(groups: np.ndarray, seed: int = SPLIT_SEED) -> np.ndarray:
    """Stratified half split: within each group value, a seeded permutation; first half True."""
    rng = np.random.default_rng(seed)
    fit = np.zeros(len(groups), dtype=bool)
    for g in np.unique(groups):
        idx = np.flatnonzero(groups == g)
        chosen = rng.permutation(idx)[: len(idx) // 2]
        fit[chosen] = True
    return fit


@cache
def vtrain_rows() -> VTrainRows:
    rows = list(csv.reader(io.StringIO(_read(VTRAIN_FILE))))
    data = np.array(rows[1:], dtype=float)
    ints = data[:, :10].astype(int)
    gpus = ints[:, 0]
    return VTrainRows(
        gpus=gpus,
        global_batch=ints[:, 1],
        micro_batch=ints[:, 2],
        hidden=ints[:, 3],
        heads=ints[:, 4],
        layers=ints[:, 5],
        seq_len=ints[:, 6],
        tp=ints[:, 7],
        dp=ints[:, 8],
        pp=ints[:, 9],
        step_time_s=data[:, 10] / MS_PER_S,
        is_fit=split_mask(gpus),
    )


@dataclass(frozen=True)
class MegatronRow:
    """One row of Narayanan et al. 2021 Table 1."""

    label: str
    heads: int
    hidden: int
    layers: int
    tp: int
    pp: int
    dp: int
    n_gpus: int
    global_batch: int
    seq_len: int
    vocab: int
    achieved_flop_per_s: float  # per GPU, eq. 3 count


@cache
def megatron_rows() -> tuple[MegatronRow, ...]:
    out = []
    for r in csv.DictReader(io.StringIO(_read(MEGATRON_FILE))):
        if not r["table"].startswith("Table 1"):
            continue  # Table 2 rows lack the layout
        out.append(
            MegatronRow(
                label=f"{r['model_size_b']}B on {r['n_gpus']} GPUs (tp{r['tp']} pp{r['pp']} dp{r['dp']})",
                heads=int(r["attention_heads"]),
                hidden=int(r["hidden_size"]),
                layers=int(r["layers"]),
                tp=int(r["tp"]),
                pp=int(r["pp"]),
                dp=int(r["dp"]),
                n_gpus=int(r["n_gpus"]),
                global_batch=int(r["global_batch_size_seqs"]),
                seq_len=int(r["seq_len"]),
                vocab=int(r["vocab"]),
                achieved_flop_per_s=float(r["achieved_tflops_per_gpu"]) * FLOP_PER_TFLOP,
            )
        )
    return tuple(out)


# ---- the model's predictions of the calibration sets ----------------------------------------------
# vTrain's setup (README beside the data): Megatron-DeepSpeed, mixed precision (FP16), full
# recomputation, 1F1B, no ZeRO, one node.
VTRAIN_STACK = "megatron-2021"
VTRAIN_PRECISION = "fp16"
# Narayanan et al. 2021 Table 1 rows 1, 3, 5, 7, 9 (0-based 0, 2, 4, 6, 8) fit the sustained GEMM
# fraction (params.py); the others are held out.
MEGATRON_FIT_ROWS = frozenset({0, 2, 4, 6, 8})


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


def megatron_step_time_s(r: MegatronRow) -> float:
    """Measured step time of a Table 1 row: eq. 3 FLOPs / (GPUs x achieved FLOP/s). [s]"""
    flops = narayanan_flops_per_iteration(r.global_batch, r.seq_len, r.layers, r.hidden, r.vocab)
    return flops / (r.n_gpus * r.achieved_flop_per_s)


def megatron_predictions(params: PerfParams | None = None) -> list[StepPrediction]:
    """Predicted step of every Narayanan et al. 2021 Table 1 row. Micro-batch size and
    interleaving depth are not published and are chosen by the layout search; the schedule is
    interleaved when pp > 1 (sec. 5.1: "we use the interleaved pipeline schedule with the
    scatter/gather optimization")."""
    acc = get_accelerator("a100-sxm4-80gb")
    out = []
    for r in megatron_rows():
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
            gpt2_arch(r.hidden, r.heads, r.layers, r.vocab),
            acc,
            r.n_gpus,
            r.seq_len,
            r.global_batch,
            "fp16",
            stack="megatron-2021",
            perf_params=params,
        )
        out.append(predict_step(spec, fixed))
    return out
