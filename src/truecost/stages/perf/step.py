"""Step time of a parallel layout: compute, exposed communication, pipeline bubble, optimizer.

`evaluate` takes numpy arrays of candidate layouts (one element per layout) and returns arrays,
so the layout search scores tens of thousands of layouts in one pass. `predict_step` is the
scalar entry point.

Per micro-batch and pipeline stage, each layer costs its forward pass, a backward pass of twice
the weight-GEMM and elementwise work (gradients w.r.t. inputs and weights; flash attention's
backward is 2.5x its forward, Dao 2023), the recomputed forward if any, and the tensor-, expert-
and context-parallel collectives that are not hidden behind compute. The pipeline then runs

    1F1B        (m - 1) t_max + sum_i t_i          (Narayanan et al. 2021; bubble (p-1)/m)
    interleaved m t_max + (sum_i t_i - t_max) / v  (bubble divided by v model chunks)
    DualPipe    m t_max + (p/2 - 1)(F + B/2)       (DeepSeek-V3 report Table 2, W = B/2)

with m micro-batches per step, followed by the data-parallel gradient reduction (partly hidden
behind the last backward pass when the framework overlaps it) and the optimizer update.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from ...architecture import Architecture
from ...catalog.schema import Accelerator
from ...scenario.cluster import RECOMPUTE_MODES, SCHEDULES, Parallelism
from ...units import BYTE_PER_GB, gb_to_byte, gbit_per_s_to_byte_per_s
from ..flops import flops_per_token
from . import comm
from .compute import PassCost
from .layers import Hardware, head_forward, layer_forward, mtp_forward
from .layout import InfeasibleLayoutError, Layout, StepPrediction
from .memory import (
    BYTE_PER_HBM_GB,
    StageParams,
    activation_byte_per_token,
    hbm_capacity_byte,
    in_flight_micro_batches,
    layers_per_stage,
    model_state_byte,
    padded_vocab,
    stage_params,
)
from .params import (
    OPTIMIZER_TRAFFIC_BYTE,
    OVERLAP_COMM_SM_FRACTION,
    PARAM_NAMES,
    PARAM_UNITS,
    USABLE_HBM_FRACTION,
    VOCAB_PAD_MULTIPLE,
    PerfParams,
    SoftwareStack,
    get_stack,
    params_for,
)
from .spec import StepSpec

Array = np.ndarray
BREAKDOWN_KEYS = (
    "compute",
    "tp_comm",
    "ep_comm",
    "cp_comm",
    "pp_comm",
    "dp_comm",
    "bubble",
    "optimizer",
    "overhead",
)
MEMORY_KEYS = ("weights", "grads", "optimizer", "activations", "total")

# Scale-out NIC bandwidth per GPU of a typical node, by accelerator generation (year).
# DGX-1 (V100): 4 x 100 Gbit/s EDR for 8 GPUs; DGX A100: 8 x 200 Gbit/s HDR (ConnectX-6) for 8;
# DGX H100 and later: 8 x 400 Gbit/s NDR (ConnectX-7) for 8 (NVIDIA DGX user guides; DeepSeek
# ISCA'25: H800 nodes have eight 400G IB CX7 NICs).
_NIC_GBIT_PER_S_PER_GPU = (
    (2020, 50.0, "DGX-1: 4 x 100 Gbit/s EDR per 8 V100"),
    (2022, 200.0, "DGX A100: 8 x 200 Gbit/s HDR InfiniBand per 8 GPUs"),
    (10_000, 400.0, "DGX H100: 8 x 400 Gbit/s NDR InfiniBand per 8 GPUs"),
)
# When a catalog row has no scale-up figure: PCIe 5.0 x16, 64 GB/s each way (PCI-SIG).
_PCIE5_X16_GB_PER_S = 128.0


@dataclass(frozen=True)
class Problem:
    """Everything fixed while layouts vary: model, hardware, batch, network, calibration."""

    arch: Architecture
    accelerator: Accelerator
    n_gpus: int
    seq_len: int
    global_batch: int
    precision: str
    gpus_per_node: int
    intra_byte_per_s: float  # one direction of the scale-up link per GPU
    inter_node_byte_per_s: float  # all NICs of a node
    params: PerfParams
    stack: SoftwareStack
    flop_convention: str
    mfu_basis: str
    hardware: Hardware
    assumptions: tuple[dict[str, Any], ...] = field(default_factory=tuple)


def _assumption(name: str, value: Any, unit: str, source: str) -> dict[str, Any]:
    return {"name": name, "value": value, "unit": unit, "source": source}


def make_problem(spec: StepSpec) -> Problem:
    """Resolve defaults (network, node size, calibration) and record each as an assumption."""
    arch, accelerator, network, gpus_per_node = spec.arch, spec.accelerator, spec.network, spec.gpus_per_node
    precision, mfu_basis = spec.precision, spec.mfu_basis
    sw = get_stack(spec.stack)
    pp_ = spec.perf_params or params_for(accelerator)
    gpn = int(gpus_per_node or accelerator.gpus_per_node)
    assumptions: list[dict[str, Any]] = []

    if network.intra_node_gb_per_s is not None:
        intra_gb, intra_src = network.intra_node_gb_per_s, "scenario cluster.network.intra_node_gb_per_s"
    elif accelerator.scale_up_byte_per_s is not None:
        intra_gb = accelerator.scale_up_byte_per_s / BYTE_PER_GB
        intra_src = f"catalog scale-up bandwidth of {accelerator.id} ({accelerator.source})"
    else:
        intra_gb, intra_src = (
            _PCIE5_X16_GB_PER_S,
            "no scale-up figure in the catalog: PCIe 5.0 x16 (PCI-SIG), both directions",
        )
    assumptions.append(
        _assumption("intra_node_gb_per_s", intra_gb, "GB/s per GPU, both directions", intra_src)
    )

    if network.inter_node_gbit_per_s is not None:
        inter_gbit, inter_src = (
            network.inter_node_gbit_per_s,
            "scenario cluster.network.inter_node_gbit_per_s",
        )
    else:
        per_gpu, src = next((g, s) for year, g, s in _NIC_GBIT_PER_S_PER_GPU if accelerator.year < year)
        inter_gbit, inter_src = per_gpu * gpn, f"typical node ({src}), {per_gpu:g} Gbit/s per GPU x {gpn}"
    assumptions.append(_assumption("inter_node_gbit_per_s", inter_gbit, "Gbit/s per node", inter_src))
    assumptions.append(
        _assumption(
            "gpus_per_node", gpn, "GPU", "scenario" if gpus_per_node else f"catalog row {accelerator.id}"
        )
    )
    for pname in PARAM_NAMES:
        value = getattr(pp_, pname)
        if value is not None:
            assumptions.append(
                _assumption(f"perf.{pname}", value, PARAM_UNITS.get(pname, "1"), pp_.source_of(pname))
            )
    assumptions.append(_assumption("software_stack", sw.name, "", sw.source))
    assumptions.append(
        _assumption(
            "usable_hbm_fraction",
            USABLE_HBM_FRACTION,
            "1",
            "CUDA context, NCCL buffers, workspaces and fragmentation take the rest (stated default)",
        )
    )
    assumptions.append(
        _assumption(
            "mfu_basis_peak_flop_per_s",
            accelerator.peak(mfu_basis),
            "FLOP/s",
            f"dense {mfu_basis} peak of {accelerator.id} ({accelerator.source})",
        )
    )

    fp8 = precision == "fp8"
    core_precision = "bf16" if fp8 else precision
    act_byte = 4.0 if precision in ("fp32", "tf32") else 2.0
    hw = Hardware(
        params=pp_,
        stack=sw,
        linear_peak_flop_per_s=accelerator.peak(precision),
        core_peak_flop_per_s=accelerator.peak(core_precision),
        hbm_byte_per_s=accelerator.hbm_bandwidth_byte_per_s,
        act_byte=act_byte,
        linear_elem_byte=1.0 if fp8 else act_byte,
        fp8=fp8,
        linear_precision=precision,
    )
    return Problem(
        arch=arch,
        accelerator=accelerator,
        n_gpus=spec.n_gpus,
        seq_len=spec.seq_len,
        global_batch=spec.global_batch,
        precision=precision,
        gpus_per_node=gpn,
        intra_byte_per_s=gb_to_byte(intra_gb) / 2.0,
        inter_node_byte_per_s=gbit_per_s_to_byte_per_s(inter_gbit),
        params=pp_,
        stack=sw,
        flop_convention=spec.flop_convention,
        mfu_basis=mfu_basis,
        hardware=hw,
        assumptions=tuple(assumptions),
    )


# ---- vectorised evaluation ----------------------------------------------------------------------
def _bw(problem: Problem, size: Array, stride: Array) -> Array:
    return comm.group_bandwidth_byte_per_s(
        size,
        stride,
        gpus_per_node=problem.gpus_per_node,
        intra_byte_per_s=problem.intra_byte_per_s,
        inter_node_byte_per_s=problem.inter_node_byte_per_s,
        params=problem.params,
    )


@dataclass(frozen=True)
class Layouts:
    """Candidate layouts as arrays (one element per layout) and what follows from them directly.

    tp, pp, dp, ep, cp : parallel degrees. [1]   mb : sequences per micro-batch. [sequence]
    v : model chunks per GPU. [1]   recompute, schedule : codes (RECOMPUTE_MODES, SCHEDULES).
    zero : ZeRO stage.   m : micro-batches per pipeline per step. [1]
    tokens : tokens per GPU per micro-batch. [token]   vocab_p : padded vocabulary. [1]
    dualpipe : the DualPipe schedule with a pipeline.   slow : compute slow-down while DualPipe
    overlaps communication (its kernels occupy SMs). [1]
    """

    tp: Array
    pp: Array
    dp: Array
    ep: Array
    cp: Array
    mb: Array
    v: Array
    recompute: Array
    schedule: Array
    zero: Array
    m: Array
    tokens: Array
    vocab_p: Array
    dualpipe: Array
    slow: Array


def layouts_of(problem: Problem, layouts: dict[str, Array]) -> Layouts:
    """`evaluate`'s input arrays as `Layouts`, with the quantities every part needs."""
    f64 = {
        k: np.asarray(layouts[k], dtype=float)
        for k in ("tp", "pp", "dp", "ep", "cp", "micro_batch", "virtual_stages")
    }
    tp, pp, dp, ep, cp, mb = f64["tp"], f64["pp"], f64["dp"], f64["ep"], f64["cp"], f64["micro_batch"]
    sch = np.asarray(layouts["schedule"], dtype=int)
    dualpipe = (sch == SCHEDULES.index("dualpipe")) & (pp > 1)
    return Layouts(
        tp=tp,
        pp=pp,
        dp=dp,
        ep=ep,
        cp=cp,
        mb=mb,
        v=f64["virtual_stages"],
        recompute=np.asarray(layouts["recompute"], dtype=int),
        schedule=sch,
        zero=np.asarray(layouts["zero"], dtype=int),
        m=problem.global_batch / (dp * mb),
        tokens=mb * float(problem.seq_len) / cp,
        vocab_p=padded_vocab(problem.arch.vocab, tp, VOCAB_PAD_MULTIPLE),
        dualpipe=dualpipe,
        slow=np.where(
            dualpipe & ((ep > 1) | (tp > 1) | (cp > 1)), 1.0 / (1.0 - OVERLAP_COMM_SM_FRACTION), 1.0
        ),
    )


# -- per-layer cost ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class PartCost:
    """One part of the model (a layer, or the output head with MTP), one micro-batch, one GPU.

    f : forward pass. [s]   br : backward pass and recomputation. [s]   compute : f + br. [s]
    tp, ep, cp : exposed tensor-, expert- and context-parallel communication. [s]
    flop : hardware FLOPs executed (forward, backward, recomputation). [FLOP]
    """

    f: Array
    br: Array
    compute: Array
    tp: Array
    ep: Array
    cp: Array
    flop: Array


def _passes(
    fwd: PassCost, overhead: float, recompute: Array, slow: Array, core_bwd: float
) -> tuple[Array, Array, Array, Array]:
    """Forward, backward and recompute time [s] and hardware FLOPs [FLOP] of one part.

    The host launches kernels while the GPU runs earlier ones: a pass takes the longer of the
    GPU work and the launch time `overhead` [s] (small layers are host-bound in eager PyTorch).
    The backward pass is twice the weight-GEMM and elementwise work and `core_bwd` [1] times
    the attention core (flash attention 2.5, Dao 2023).
    """
    f = np.maximum(fwd.total_s, overhead)
    b = np.maximum(2 * fwd.linear_s + core_bwd * fwd.core_s + 2 * fwd.elementwise_s, 2 * overhead)
    r = np.where(recompute == 2, f, np.where(recompute == 1, fwd.selective_s, 0.0))
    flop = 3 * fwd.linear_flop + (1 + core_bwd) * fwd.core_flop
    flop = flop + np.where(
        recompute == 2, fwd.linear_flop + fwd.core_flop, np.where(recompute == 1, fwd.selective_flop, 0.0)
    )
    return f * slow, b * slow, r * slow, flop


def part_costs(problem: Problem, lay: Layouts) -> tuple[dict[str, PartCost], PartCost]:
    """Cost of one layer of each kind present ('dense', 'moe') and of the output head with the
    MTP modules, per micro-batch on one GPU (`PartCost`, arrays over layouts). [s], [FLOP]

    A layer costs its forward, backward and recomputed passes and the collectives not hidden
    behind them: tensor parallel 2 all-reduces per pass (Megatron-LM), half hidden under the
    weight-gradient GEMMs in the backward when the stack overlaps them; context parallel K, V
    all-gathers hidden behind the attention core (Llama 3 sec. 3.3.2); the expert all-to-all
    (DeepSeek-V3 sec. 3.2.2). DualPipe hides communication behind the paired micro-batch's
    compute (sec. 3.2.1).
    """
    arch, hw, prm, stack = problem.arch, problem.hardware, problem.params, problem.stack
    tp, ep, cp, mb, rc, slow = lay.tp, lay.ep, lay.cp, lay.mb, lay.recompute, lay.slow
    s = float(problem.seq_len)
    h = arch.d_model
    tokens = lay.tokens
    core_bwd = 2.5 if stack.flash_attention else 2.0

    # Per-layer costs depend only on (tp, cp, ep, micro_batch): compute them once per distinct
    # shape and scatter back (a layout search has a few hundred shapes, ~10^5 layouts).
    shape_key = (
        (tp.astype(np.int64) * 65536 + cp.astype(np.int64)) * 65536 + ep.astype(np.int64)
    ) * 65536 + mb.astype(np.int64)
    _, first, where = np.unique(shape_key, return_index=True, return_inverse=True)
    shapes = np.stack([tp, cp, ep, mb, lay.vocab_p])[:, first]
    where = where.ravel()

    def _on_shapes(fn: Any) -> PassCost:
        cost = fn(shapes)
        return PassCost(*(np.asarray(getattr(cost, f.name))[where] for f in fields(cost)))

    sp = tp if stack.sequence_parallel else 1.0
    act = hw.act_byte

    # Collectives shared by all layers.
    t_tp = comm.all_reduce_time_s(tokens * h * act, tp, _bw(problem, tp, np.ones_like(tp)), prm)
    if arch.mla is not None:
        kv_per_token = arch.n_heads * (arch.qk_head_dim + arch.v_head_dim) / tp * act
    else:
        kv_per_token = 2 * arch.kv_heads * arch.d_head / tp * act
    t_cp = comm.all_gather_time_s(tokens * cp * kv_per_token, cp, _bw(problem, cp, tp), prm)

    layer: dict[str, PartCost] = {}
    for kind, count in (("dense", arch.dense_layers), ("moe", arch.moe_layers)):
        if count == 0:
            continue
        fwd = _on_shapes(
            lambda u, kind=kind: layer_forward(
                arch, kind, hw=hw, mb=u[3], seq_len=s, tp=u[0], cp=u[1], ep=u[2]
            )
        )
        f, b, r, flop = _passes(fwd, prm.layer_overhead_s, rc, slow, core_bwd)
        compute = f + b + r
        tp_fwd = (2 + np.where(rc == 2, 2, 0)) * t_tp
        if stack.overlap_tp_backward:
            tp_bwd = 2 * np.maximum(0.0, t_tp - 0.5 * fwd.linear_s * slow)
        else:
            tp_bwd = 2 * t_tp
        tp_s = tp_fwd + tp_bwd
        # Context parallel: K, V all-gathered forward, again + reduce-scatter backward.
        cp_f = np.maximum(0.0, t_cp - fwd.core_s * slow)
        cp_s = cp_f + np.maximum(0.0, 2 * t_cp - core_bwd * fwd.core_s * slow) + np.where(rc == 2, cp_f, 0.0)
        ep_s = np.zeros_like(tp)
        if kind == "moe" and arch.moe is not None:
            k = arch.moe.top_k
            token_elems = tokens / sp * h  # each tensor-parallel rank dispatches its sequence shard
            a2a: dict[str, Any] = dict(
                dedup=stack.dedup_dispatch,
                gpus_per_node=problem.gpus_per_node,
                intra_byte_per_s=problem.intra_byte_per_s,
                inter_node_byte_per_s=problem.inter_node_byte_per_s,
                params=prm,
            )
            stride = tp * cp
            # DeepSeek-V3 sec. 3.3: dispatch in FP8 when training in FP8, combine in BF16.
            dispatch = comm.expert_dispatch_time_s(
                token_elems * (1.0 if hw.fp8 else act), k, ep, stride, **a2a
            )
            combine = comm.expert_dispatch_time_s(token_elems * act, k, ep, stride, **a2a)
            ep_f = dispatch + combine
            ep_s = ep_f + 2 * combine + np.where(rc == 2, ep_f, 0.0)
        comm_s = tp_s + ep_s + cp_s
        exposed = np.where(lay.dualpipe, np.maximum(0.0, comm_s - compute), comm_s)
        share = np.divide(exposed, comm_s, out=np.zeros_like(comm_s), where=comm_s > 0)
        layer[kind] = PartCost(
            f=f, br=b + r, compute=compute, tp=tp_s * share, ep=ep_s * share, cp=cp_s * share, flop=flop
        )

    no_rc = np.zeros_like(rc)
    head = _on_shapes(lambda u: head_forward(arch, hw=hw, mb=u[3], seq_len=s, tp=u[0], cp=u[1], vocab_p=u[4]))
    hf, hb, _, hflop = _passes(head, 0.0, no_rc, slow, core_bwd)
    mtp = _on_shapes(
        lambda u: mtp_forward(arch, hw=hw, mb=u[3], seq_len=s, tp=u[0], cp=u[1], ep=u[2], vocab_p=u[4])
    )
    mf, mbw, _, mflop = _passes(mtp, prm.layer_overhead_s * arch.mtp_depth, no_rc, slow, core_bwd)
    extra_f, extra_b = hf + mf, hb + mbw
    zeros = np.zeros_like(tp)
    extra = PartCost(
        f=extra_f, br=extra_b, compute=extra_f + extra_b, tp=zeros, ep=zeros, cp=zeros, flop=hflop + mflop
    )
    return layer, extra


# -- pipeline and bubble ----------------------------------------------------------------------------
_STAGE_KEYS = ("compute", "tp", "ep", "cp", "f", "br")


@dataclass(frozen=True)
class PipelineTimes:
    """The pipeline of one step (arrays over layouts).

    stage : the most loaded stage's parts per micro-batch (compute, tp, ep, cp, f, br). [s]
    t_max : that stage's time per micro-batch, compute + exposed communication. [s]
    layers_on_stage : its layers of each kind. [1]
    flop_per_replica : hardware FLOPs of one micro-batch through the whole model. [FLOP]
    bubble_s : pipeline fill and drain. [s]   p2p_s : exposed stage-to-stage sends. [s]
    """

    stage: dict[str, Array]
    t_max: Array
    layers_on_stage: dict[str, Array]
    flop_per_replica: Array
    bubble_s: Array
    p2p_s: Array


def pipeline_times(
    problem: Problem, lay: Layouts, layer: dict[str, PartCost], extra: PartCost
) -> PipelineTimes:
    """Most loaded pipeline stage, bubble and point-to-point time of each layout. [s]

    Uniform split (Megatron-LM 2021): ceil(L / pp) layers (MoE layers first) plus the output
    head and MTP on the last stage. Balanced split (Llama 3 sec. 3.3.2 moves layers off the
    first and last stages; DeepSeek-V3 balances DualPipe's stages): 1 / pp of all the work,
    unless the head and MTP alone take longer. Bubble: 1F1B sum_i t_i - t_max (Narayanan et al.
    2021); interleaved the same / v; DualPipe (p/2 - 1)(F + B/2) (DeepSeek-V3 report Table 2).
    """
    arch, stack = problem.arch, problem.stack
    tp, pp, dp, cp, v = lay.tp, lay.pp, lay.dp, lay.cp, lay.v
    single = pp == 1
    counts_all = {"dense": arch.dense_layers, "moe": arch.moe_layers}
    zeros = np.zeros_like(tp)
    parts_all = {key: zeros.copy() for key in _STAGE_KEYS}
    flop_model_replica = extra.flop.copy()
    for kind, c in layer.items():
        for key in _STAGE_KEYS:
            parts_all[key] = parts_all[key] + counts_all[kind] * getattr(c, key)
        flop_model_replica = flop_model_replica + counts_all[kind] * c.flop
    extra_parts = {"compute": extra.compute, "f": extra.f, "br": extra.br}
    for key, val in extra_parts.items():
        parts_all[key] = parts_all[key] + val
    total_all = parts_all["compute"] + parts_all["tp"] + parts_all["ep"] + parts_all["cp"]
    ls = layers_per_stage(arch, pp)
    n_moe_stage = np.minimum(ls, arch.moe_layers)
    counts_max = {
        "dense": np.where(single, arch.dense_layers, ls - n_moe_stage),
        "moe": np.where(single, arch.moe_layers, n_moe_stage),
    }
    if stack.balanced_stages:
        stretch = np.maximum(1.0, (extra.f + extra.br) * pp / total_all)
        parts_max = {key: parts_all[key] / pp * stretch for key in _STAGE_KEYS}
    else:
        parts_max = {key: extra_parts.get(key, zeros).copy() for key in _STAGE_KEYS}
        for kind, c in layer.items():
            for key in _STAGE_KEYS:
                parts_max[key] = parts_max[key] + counts_max[kind] * getattr(c, key)
    parts_max = {key: np.where(single, parts_all[key], parts_max[key]) for key in _STAGE_KEYS}
    t_max = parts_max["compute"] + parts_max["tp"] + parts_max["ep"] + parts_max["cp"]
    f_stage, b_stage = parts_max["f"], parts_max["br"]

    bubble = np.choose(
        lay.schedule,
        [
            total_all - t_max,
            (total_all - t_max) / v,
            np.maximum(pp / 2 - 1, 0.0) * (f_stage + 0.5 * b_stage),
        ],
    )
    bubble = np.where(single, 0.0, np.maximum(bubble, 0.0))

    # Pipeline point-to-point: activations (split over tp, scatter/gather) to the next stage.
    act = problem.hardware.act_byte
    t_p2p = comm.p2p_time_s(
        lay.tokens * arch.d_model * act / tp,
        _bw(problem, 2 * np.ones_like(pp), tp * cp * dp),
        problem.params,
    )
    overlapped = lay.dualpipe | stack.overlap_p2p
    n_p2p = np.where(overlapped, 2 * (pp - 1) * v, 2 * v * (lay.m + pp - 1))
    pp_s = np.where(single, 0.0, n_p2p * t_p2p)
    return PipelineTimes(
        stage=parts_max,
        t_max=t_max,
        layers_on_stage=counts_max,
        flop_per_replica=flop_model_replica,
        bubble_s=bubble,
        p2p_s=pp_s,
    )


# -- data-parallel reduction ------------------------------------------------------------------------
def data_parallel_time_s(
    problem: Problem, lay: Layouts, params_gpu: StageParams, f_stage: Array, b_stage: Array
) -> Array:
    """Exposed data-parallel gradient reduction (and ZeRO weight gathering) per step. [s]

    Gradients are reduced over dp x cp ranks (dense) and dp x cp / ep (experts): an all-reduce,
    or with ZeRO >= 1 a reduce-scatter and a weight all-gather. With overlap (the stack's, or
    DualPipe) they hide behind the last backward (`b_stage` [s]) and the first forward
    (`f_stage` [s]). ZeRO-3 gathers weights for every forward and backward and reduce-scatters
    every backward, prefetched behind each micro-batch's compute.
    """
    prm, stack = problem.params, problem.stack
    tp, ep, cp, dp, zero, m = lay.tp, lay.ep, lay.cp, lay.dp, lay.zero, lay.m
    act = problem.hardware.act_byte
    dp_d, dp_e = dp * cp, dp * cp / ep
    bw_d, bw_e = _bw(problem, dp_d, tp), _bw(problem, dp_e, tp * ep)
    g = stack.grad_reduce_byte
    ar = comm.all_reduce_time_s(params_gpu.dense * g, dp_d, bw_d, prm) + comm.all_reduce_time_s(
        params_gpu.expert * g, dp_e, bw_e, prm
    )
    rs = comm.reduce_scatter_time_s(params_gpu.dense * g, dp_d, bw_d, prm) + comm.reduce_scatter_time_s(
        params_gpu.expert * g, dp_e, bw_e, prm
    )
    ag = comm.all_gather_time_s(params_gpu.dense * act, dp_d, bw_d, prm) + comm.all_gather_time_s(
        params_gpu.expert * act, dp_e, bw_e, prm
    )
    t_reduce = np.where(zero == 0, ar, rs)
    t_gather = np.where(zero == 0, 0.0, ag)
    overlap = lay.dualpipe | stack.overlap_grad_reduce
    dp_end = np.where(
        overlap,
        np.maximum(0.0, t_reduce - b_stage) + np.maximum(0.0, t_gather - f_stage),
        t_reduce + t_gather,
    )
    dp_z3 = m * np.maximum(0.0, 2 * ag + rs - (f_stage + b_stage))
    # The last micro-batch's reduce-scatter has nothing left to hide behind but its own backward.
    dp_z3 = np.maximum(dp_z3, np.maximum(0.0, rs - b_stage))
    return np.where(zero == 3, dp_z3, dp_end)


# -- optimizer --------------------------------------------------------------------------------------
def optimizer_time_s(
    params_gpu: StageParams,
    zero: Array,
    dense_shards: Array,
    expert_shards: Array,
    *,
    hbm_byte_per_s: float,
    memory_efficiency: float,
) -> Array:
    """A memory-bound Adam pass over the parameters this GPU updates. [s]

    params_gpu : parameters on the GPU. [1]   zero : ZeRO stage (>= 1 shards the update).
    dense_shards, expert_shards : data-parallel ranks sharing dense and expert states. [1]
    hbm_byte_per_s : HBM bandwidth. [byte/s]   memory_efficiency : achieved fraction. [1]
    Traffic: OPTIMIZER_TRAFFIC_BYTE per parameter.

    >>> import numpy as np
    >>> p = StageParams(dense=np.array([1e9]), expert=np.array([0.0]))
    >>> float(optimizer_time_s(p, np.array([0]), np.array([8.0]), np.array([8.0]),
    ...                        hbm_byte_per_s=3.6e12, memory_efficiency=1.0)[0])
    0.01
    """
    upd = np.where(
        zero >= 1,
        params_gpu.dense / dense_shards + params_gpu.expert / expert_shards,
        params_gpu.dense + params_gpu.expert,
    )
    return np.asarray(upd * OPTIMIZER_TRAFFIC_BYTE / (hbm_byte_per_s * memory_efficiency))


# -- memory -----------------------------------------------------------------------------------------
def memory_per_gpu_byte(
    problem: Problem, lay: Layouts, params_gpu: StageParams, layers_on_stage: dict[str, Array]
) -> dict[str, Array]:
    """Memory of the most loaded GPU: weights, grads, optimizer states (ZeRO-sharded), the
    first stage's in-flight activations and the last stage's FP32 logits; and the total. [byte]"""
    arch, stack, hw = problem.arch, problem.stack, problem.hardware
    tp, rc, zero = lay.tp, lay.recompute, lay.zero
    states = model_state_byte(params_gpu, zero, lay.dp * lay.cp, lay.dp * lay.cp / lay.ep)
    act_kw: dict[str, Any] = dict(
        tp=tp,
        seq_keys=float(problem.seq_len),
        stack=stack,
        act_byte=hw.act_byte,
        gemm_input_byte=hw.linear_elem_byte,
    )
    kinds = (("dense", arch.dense_layers), ("moe", arch.moe_layers))
    per_tok = {
        kind: activation_byte_per_token(arch, kind=kind, recompute=rc, **act_kw)
        for kind, count in kinds
        if count
    }
    full_tok = {
        kind: activation_byte_per_token(arch, kind=kind, recompute=np.zeros_like(rc), **act_kw)
        for kind in per_tok
    }
    stored = sum(layers_on_stage[kind] * per_tok[kind] for kind in per_tok)
    working = np.where(rc == 2, np.maximum.reduce(list(full_tok.values())), 0.0)
    inflight = in_flight_micro_batches(lay.pp, lay.m, lay.schedule, lay.v)
    logits = lay.tokens * lay.vocab_p / tp * 8.0  # FP32 logits and their gradient
    activations = lay.tokens * (inflight * stored + working) + logits
    memory = {**states, "activations": activations}
    memory["total"] = states["weights"] + states["grads"] + states["optimizer"] + activations
    return memory


# -- the step ---------------------------------------------------------------------------------------
def evaluate(problem: Problem, layouts: dict[str, Array]) -> dict[str, Array]:
    """Step time, breakdown, memory and utilisation of each layout (arrays, one per layout).

    layouts : arrays `tp, pp, dp, ep, cp, micro_batch, virtual_stages, zero` and integer codes
        `recompute` (index into RECOMPUTE_MODES) and `schedule` (index into SCHEDULES). The
        layouts must be structurally valid (see `layout_errors`).

    step = m t_max + bubble + pipeline sends + data-parallel reduction + optimizer + overhead. [s]
    """
    arch, prm = problem.arch, problem.params
    lay = layouts_of(problem, layouts)
    layer, extra = part_costs(problem, lay)
    pipe = pipeline_times(problem, lay, layer, extra)
    m, stage = lay.m, pipe.stage

    copies = np.where(lay.dualpipe, 2.0, 1.0)  # DualPipe keeps two copies of the parameters
    params_gpu = stage_params(arch, lay.tp, lay.pp, lay.ep, lay.vocab_p, copies)
    dp_s = data_parallel_time_s(problem, lay, params_gpu, stage["f"], stage["br"])
    opt_s = optimizer_time_s(
        params_gpu,
        lay.zero,
        lay.dp * lay.cp,
        lay.dp * lay.cp / lay.ep,
        hbm_byte_per_s=problem.hardware.hbm_byte_per_s,
        memory_efficiency=prm.memory_efficiency,
    )

    step = m * pipe.t_max + pipe.bubble_s + pipe.p2p_s + dp_s + opt_s + prm.step_overhead_s
    breakdown = {
        "compute": m * stage["compute"],
        "tp_comm": m * stage["tp"],
        "ep_comm": m * stage["ep"],
        "cp_comm": m * stage["cp"],
        "pp_comm": pipe.p2p_s,
        "dp_comm": dp_s,
        "bubble": pipe.bubble_s,
        "optimizer": opt_s,
        "overhead": np.full_like(step, prm.step_overhead_s),
    }
    memory = memory_per_gpu_byte(problem, lay, params_gpu, pipe.layers_on_stage)
    usable = USABLE_HBM_FRACTION * hbm_capacity_byte(problem.accelerator)

    s = float(problem.seq_len)
    n = lay.tp * lay.pp * lay.dp * lay.cp
    model_flop = flops_per_token(arch, s, problem.flop_convention) * problem.global_batch * s
    hw_flop = pipe.flop_per_replica * lay.tp * lay.cp * lay.dp * m
    peak = problem.accelerator.peak(problem.mfu_basis)
    return {
        "step_time_s": step,
        "n_gpus": n,
        "mfu": model_flop / (step * n * peak),
        "hfu": hw_flop / (step * n * peak),
        "tokens_per_s_per_gpu": problem.global_batch * s / (step * n),
        "model_flops_per_step": np.full_like(step, model_flop),
        "fits": memory["total"] <= usable,
        **{f"breakdown.{k}": breakdown[k] for k in BREAKDOWN_KEYS},
        **{f"memory.{k}": memory[k] for k in MEMORY_KEYS},
    }


# ---- single layouts -----------------------------------------------------------------------------
def layout_errors(problem: Problem, lay: Layout) -> list[str]:
    """Why a complete layout cannot run (empty when it can). Memory is checked separately."""
    arch = problem.arch
    tp, pp, dp, ep, cp, mb = lay.tp, lay.pp, lay.dp, lay.ep, lay.cp, lay.micro_batch
    v = lay.virtual_stages
    errors = []
    n = tp * pp * dp * cp
    if n != problem.n_gpus:
        errors.append(f"tp*pp*dp*cp = {n} != cluster.count {problem.n_gpus}")
    if problem.global_batch % (dp * mb):
        errors.append(
            f"training.global_batch {problem.global_batch} is not a multiple of dp*micro_batch = {dp * mb}"
        )
    if arch.n_heads % tp:
        errors.append(f"parallelism.tp ({tp}) must divide model.n_heads ({arch.n_heads})")
    if pp * v > arch.layers:
        errors.append(f"pp*virtual_stages = {pp * v} exceeds model.layers ({arch.layers})")
    if problem.seq_len % cp:
        errors.append(f"parallelism.cp ({cp}) must divide training.seq_len ({problem.seq_len})")
    if arch.moe is None and ep != 1:
        errors.append(f"parallelism.ep ({ep}) must be 1 for a dense model")
    if arch.moe is not None:
        if arch.moe.experts % ep:
            errors.append(f"parallelism.ep ({ep}) must divide model.moe.experts ({arch.moe.experts})")
        if (dp * cp) % ep:
            errors.append(f"parallelism.ep ({ep}) must divide dp*cp ({dp * cp})")
    m = problem.global_batch // max(1, dp * mb)
    if lay.schedule == "interleaved" and pp > 1 and m < pp:
        errors.append(f"interleaved schedule needs at least pp ({pp}) micro-batches per step, got {m}")
    if lay.schedule == "dualpipe" and pp > 1 and (m < pp or m % 2):
        errors.append(f"dualpipe needs an even number of micro-batches >= pp ({pp}), got {m}")
    if lay.schedule == "interleaved" and v == 1 and pp > 1:
        errors.append("interleaved schedule needs virtual_stages >= 2")
    return errors


def layout_arrays(layouts: list[Layout]) -> dict[str, Array]:
    """Complete layouts -> the arrays `evaluate` takes."""
    out: dict[str, Array] = {}
    for key in ("tp", "pp", "dp", "ep", "cp", "micro_batch", "virtual_stages", "zero"):
        out[key] = np.array([getattr(p, key) for p in layouts], dtype=float)
    out["recompute"] = np.array([RECOMPUTE_MODES.index(p.recompute) for p in layouts], dtype=int)
    out["schedule"] = np.array([SCHEDULES.index(p.schedule) for p in layouts], dtype=int)
    return out


def layout_at(arrays: dict[str, Array], i: int) -> Layout:
    """The i-th layout of `evaluate`'s input arrays."""
    return Layout(
        tp=int(arrays["tp"][i]),
        pp=int(arrays["pp"][i]),
        dp=int(arrays["dp"][i]),
        ep=int(arrays["ep"][i]),
        cp=int(arrays["cp"][i]),
        micro_batch=int(arrays["micro_batch"][i]),
        recompute=RECOMPUTE_MODES[int(arrays["recompute"][i])],
        schedule=SCHEDULES[int(arrays["schedule"][i])],
        virtual_stages=int(arrays["virtual_stages"][i]),
        zero=int(arrays["zero"][i]),
    )


def prediction_at(problem: Problem, result: dict[str, Array], layout: Layout, i: int) -> StepPrediction:
    """The i-th layout of an `evaluate` result as a StepPrediction."""
    memory = {k: float(result[f"memory.{k}"][i]) for k in MEMORY_KEYS}
    fits = bool(result["fits"][i])
    warnings = []
    assumptions = list(problem.assumptions)
    if layout.schedule == "dualpipe":
        assumptions.append(
            _assumption(
                "overlap_comm_sm_fraction",
                OVERLAP_COMM_SM_FRACTION,
                "1",
                "DeepSeek-V3 report sec. 3.2.2: 20 of 132 SMs run communication during DualPipe",
            )
        )
    if not fits:
        warnings.append(memory_message(problem, memory["total"]))
    return StepPrediction(
        layout=layout,
        n_gpus=int(result["n_gpus"][i]),
        step_time_s=float(result["step_time_s"][i]),
        mfu=float(result["mfu"][i]),
        hfu=float(result["hfu"][i]),
        tokens_per_s_per_gpu=float(result["tokens_per_s_per_gpu"][i]),
        breakdown_s={k: float(result[f"breakdown.{k}"][i]) for k in BREAKDOWN_KEYS},
        memory_byte=memory,
        fits=fits,
        flop_convention=problem.flop_convention,
        mfu_basis=problem.mfu_basis,
        model_flops_per_step=float(result["model_flops_per_step"][i]),
        assumptions=assumptions,
        warnings=warnings,
    )


def memory_message(problem: Problem, total_byte: float) -> str:
    cap = hbm_capacity_byte(problem.accelerator)
    return (
        f"needs {total_byte / BYTE_PER_GB:.0f} GB per GPU > {USABLE_HBM_FRACTION * cap / BYTE_PER_GB:.0f} GB usable "
        f"of {cap / BYTE_PER_HBM_GB:.0f} GiB HBM ({problem.accelerator.id})"
    )


def predict_step(
    spec: StepSpec,
    parallelism: Parallelism | Layout | None = None,
    *,
    allow_oom: bool = False,
) -> StepPrediction:
    """Predict one optimizer step of `spec` with the given parallel layout.

    spec : the model, cluster, batch and MFU convention (`StepSpec`).
    parallelism : the layout; a partial `Parallelism`'s missing entries are chosen by
        `search_layouts` (fastest). None: search everything.
    allow_oom : return a prediction with fits=False instead of raising when memory overflows.

    Raises InfeasibleLayoutError naming the failed constraint.

    >>> from truecost.catalog import get_accelerator, get_model
    >>> spec = StepSpec(get_model("llama-3.1-405b").arch, get_accelerator("h100-sxm"), 16384, 8192, 2048)
    >>> p = predict_step(spec, Parallelism(tp=8, pp=16, dp=128))
    >>> 0.2 < p.mfu < 0.6
    True
    """
    problem = make_problem(spec)
    if isinstance(parallelism, Layout):
        layout = parallelism
    else:
        parallelism = parallelism or Parallelism()
        if not parallelism.is_complete():
            from .search import search_problem

            best = search_problem(problem, fixed=parallelism, objective="time", top=1, include_oom=allow_oom)
            return best[0]
        layout = Layout.from_parallelism(parallelism)
    errors = layout_errors(problem, layout)
    if errors:
        raise InfeasibleLayoutError("; ".join(errors))
    result = evaluate(problem, layout_arrays([layout]))
    pred = prediction_at(problem, result, layout, 0)
    if not pred.fits and not allow_oom:
        raise InfeasibleLayoutError(f"layout {layout} {pred.warnings[0]}")
    return pred
