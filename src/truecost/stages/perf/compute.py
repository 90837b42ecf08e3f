"""Compute time of matrix multiplications and memory-bound kernels.

A GEMM of shape (m x k) @ (k x n) takes the larger of its compute time at an achievable
fraction of peak and its memory time at an achievable fraction of HBM bandwidth (roofline,
Williams et al. 2009):

    W   = count x m x n                      output elements of the (batched) GEMM
    eff = gemm_efficiency x W / (W + W0)
    t   = max(2 m n k count / (peak x eff), bytes / (hbm_bandwidth x memory_efficiency))

W0 (`gemm_saturation_output`) is the output size at which a GEMM reaches half its large-matrix
efficiency: the GPU needs enough output tiles in flight to fill every SM (tile and wave
quantisation, launch latency; Little's law), so small GEMMs run far below peak. A small reduction
dimension k is caught by the memory term. Everything broadcasts over numpy arrays of layouts.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from .params import PerfParams

Array = np.ndarray


def gemm_efficiency(
    m: Array | float, n: Array | float, count: Array | float, *, large: float, saturation_output: float
) -> Array:
    """Achieved fraction of peak for `count` compute-bound GEMMs with (m x n) outputs. [1]

    large : fraction a large GEMM reaches. saturation_output : W0. [element]
    """
    w = np.asarray(count * m * n, dtype=float)
    return np.asarray(large * w / (w + saturation_output))


def gemm_time_s(
    m: Array | float,
    n: Array | float,
    k: Array | float,
    *,
    count: Array | float,
    peak_flop_per_s: float,
    hbm_byte_per_s: float,
    params: PerfParams,
    saturation_output: float | None = None,
    efficiency: float | None = None,
    elem_byte: float = 2.0,
    io_byte: Array | float | None = None,
) -> Array:
    """Time of `count` GEMMs of shape (m, n, k). [s]

    m, n, k : GEMM dimensions. [element]
    count : how many such GEMMs (batched heads, local experts). [1]
    peak_flop_per_s : dense peak at the GEMM's precision. [FLOP/s]
    hbm_byte_per_s : HBM bandwidth. [byte/s]
    elem_byte : bytes per matrix element. [byte]
    saturation_output : W0 for this precision (default `params.gemm_saturation_output`). [element]
    efficiency : large-GEMM fraction of peak for this precision (default `params.gemm_efficiency`). [1]
    io_byte : HBM traffic if not the three matrices once each (fused kernels). [byte]

    >>> from truecost.stages.perf.params import PerfParams
    >>> p = PerfParams(0.5, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0)
    >>> float(gemm_time_s(1000, 1000, 1000, count=1, peak_flop_per_s=1e12, hbm_byte_per_s=1e15, params=p))
    0.004
    """
    flops = 2.0 * m * n * k * count
    w0 = params.gemm_saturation_output if saturation_output is None else saturation_output
    large = params.gemm_efficiency if efficiency is None else efficiency
    t_compute = flops / (peak_flop_per_s * gemm_efficiency(m, n, count, large=large, saturation_output=w0))
    traffic = count * elem_byte * (m * k + k * n + m * n) if io_byte is None else io_byte
    t_memory = traffic / (hbm_byte_per_s * params.memory_efficiency)
    return np.maximum(t_compute, t_memory)


def memory_bound_time_s(traffic_byte: Array | float, hbm_byte_per_s: float, params: PerfParams) -> Array:
    """Time of memory-bound kernels moving `traffic_byte` through HBM. [s]"""
    return np.asarray(traffic_byte / (hbm_byte_per_s * params.memory_efficiency))


@dataclass(frozen=True)
class PassCost:
    """Forward-pass cost of one layer for one micro-batch on one GPU (arrays over layouts).

    linear_s : weight GEMMs. [s]
    core_s : attention core (QK^T, softmax x V and, unfused, the softmax/dropout kernels). [s]
    elementwise_s : norms, activations, residuals, dropout, permutations, FP8 casts. [s]
    linear_flop, core_flop : hardware FLOPs executed in the forward pass. [FLOP]
    selective_s : the part selective recomputation re-runs (attention core, norms, activation
        functions, MLA up-projections). [s]
    selective_flop : its FLOPs. [FLOP]
    """

    linear_s: Array
    core_s: Array
    elementwise_s: Array
    linear_flop: Array
    core_flop: Array
    selective_s: Array
    selective_flop: Array

    @property
    def total_s(self) -> Array:
        return self.linear_s + self.core_s + self.elementwise_s

    def __add__(self, other: PassCost) -> PassCost:
        return PassCost(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def scaled(self, factor: Array | float) -> PassCost:
        return PassCost(*(getattr(self, f.name) * factor for f in fields(self)))
