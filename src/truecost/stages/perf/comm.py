"""Collective communication times (alpha-beta model, ring algorithms; Thakur et al. 2005).

A group of `size` ranks whose members are `stride` ranks apart (Megatron-Core orders ranks
tp -> cp -> ep/dp -> pp) stays inside one node when size x stride <= gpus_per_node and then
runs on the scale-up link; otherwise the node's NICs are shared by the min(stride,
gpus_per_node) groups crossing them at the same time. All functions broadcast over arrays.
"""

from __future__ import annotations

import numpy as np

from .params import PerfParams

Array = np.ndarray


def group_bandwidth_byte_per_s(
    size: Array | float,
    stride: Array | float,
    *,
    gpus_per_node: int,
    intra_byte_per_s: float,
    inter_node_byte_per_s: float,
    params: PerfParams,
) -> Array:
    """Achievable per-rank bandwidth of a collective group. [byte/s]

    intra_byte_per_s : one direction of the scale-up link per GPU. [byte/s]
    inter_node_byte_per_s : all NICs of one node together. [byte/s]
    """
    size = np.asarray(size, dtype=float)
    stride = np.asarray(stride, dtype=float)
    intra = intra_byte_per_s * params.comm_efficiency
    sharing = np.minimum(stride, gpus_per_node)
    inter = np.minimum(intra, inter_node_byte_per_s * params.comm_efficiency / sharing)
    return np.where(size * stride <= gpus_per_node, intra, inter)


def all_reduce_time_s(
    nbytes: Array | float, size: Array | float, bw: Array | float, params: PerfParams
) -> Array:
    """Ring all-reduce of a `nbytes` buffer over `size` ranks. [s]

    >>> from truecost.stages.perf.params import PerfParams
    >>> p = PerfParams(1, 0, 1, 0, 1, 0.0, 0)
    >>> float(all_reduce_time_s(8e9, 8, 100e9, p))  # 2 (n-1)/n x 8 GB / 100 GB/s
    0.14
    """
    size = np.asarray(size, dtype=float)
    t = 2 * (size - 1) / size * nbytes / bw + 2 * (size - 1) * params.comm_latency_s
    return np.where(size > 1, t, 0.0)


def reduce_scatter_time_s(
    nbytes: Array | float, size: Array | float, bw: Array | float, params: PerfParams
) -> Array:
    """Ring reduce-scatter (or all-gather) of a `nbytes` full buffer over `size` ranks. [s]"""
    size = np.asarray(size, dtype=float)
    t = (size - 1) / size * nbytes / bw + (size - 1) * params.comm_latency_s
    return np.where(size > 1, t, 0.0)


all_gather_time_s = reduce_scatter_time_s


def remote_node_copies(top_k: int, nodes: Array | float, *, dedup: bool) -> Array:
    """Copies of one token's hidden state that leave its node in an expert all-to-all over
    `nodes` nodes, experts picked uniformly. Without dedup every pick on another node is a copy:
    top_k (N - 1) / N. With dedup (DeepEP; DeepSeek-V3 report sec. 3.2.2) a token crosses the
    network once per destination node: the expected number of distinct remote nodes among top_k
    picks, (N - 1)(1 - (1 - 1/N)^top_k). [1]

    >>> float(remote_node_copies(8, 4.0, dedup=False)), round(float(remote_node_copies(8, 4.0, dedup=True)), 3)
    (6.0, 2.7)
    """
    nodes = np.asarray(nodes, dtype=float)
    if dedup:
        return np.asarray((nodes - 1) * (1 - (1 - 1 / nodes) ** top_k))
    return np.asarray(top_k * (nodes - 1) / nodes)


def expert_dispatch_time_s(
    token_byte: Array | float,
    top_k: int,
    size: Array | float,
    stride: Array | float,
    *,
    dedup: bool,
    gpus_per_node: int,
    intra_byte_per_s: float,
    inter_node_byte_per_s: float,
    params: PerfParams,
) -> Array:
    """Expert-parallel all-to-all: every rank sends `top_k` copies of `token_byte` (all its
    tokens' hidden states) to the ranks holding the chosen experts, spread evenly. [s]

    Copies to ranks of the same node use the scale-up link; the rest use the rank's share of
    the node's NICs (every GPU of the node sends at once). With `dedup` a token crosses the
    network once per destination node and is forwarded inside it (DeepEP; DeepSeek-V3 report
    sec. 3.2.2): the expected number of distinct remote nodes among top_k uniform picks over
    N nodes is (N - 1)(1 - (1 - 1/N)^top_k).
    """
    size = np.asarray(size, dtype=float)
    stride = np.asarray(stride, dtype=float)
    per_node = np.clip(np.floor(gpus_per_node / stride), 1.0, size)  # group members on one node
    nodes = size / per_node
    remote_copies = remote_node_copies(top_k, nodes, dedup=dedup)
    # Inside nodes every copy moves over the scale-up link (with dedup, forwarded there).
    local_copies = top_k * (size - 1) / size - (0.0 if dedup else remote_copies)
    t_local = token_byte * local_copies / (intra_byte_per_s * params.comm_efficiency)
    t_remote = token_byte * remote_copies / (inter_node_byte_per_s * params.comm_efficiency / gpus_per_node)
    t = np.maximum(t_local, t_remote) + 2 * params.comm_latency_s
    return np.where(size > 1, t, 0.0)


def p2p_time_s(nbytes: Array | float, bw: Array | float, params: PerfParams) -> Array:
    """One point-to-point send of `nbytes`. [s]"""
    return np.asarray(nbytes / bw + params.comm_latency_s)
