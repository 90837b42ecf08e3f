"""Replica layout search when `serving.replica` is absent.

Candidates: tensor parallelism within a node (1, 2, 4, ... up to the GPUs per node); for MoE
also expert parallelism over 1, 2, 4, ... nodes with attention data parallelism (DeepSeek's
decode layout). The search keeps the layouts whose weights fit and whose step can meet
`tpot_ms`, and picks the highest output tokens per second per GPU; it runs once, at the point
values, and the chosen layout is then evaluated on every draw.
"""

from __future__ import annotations

from ...architecture import Architecture
from ...catalog import Accelerator
from ...errors import ScenarioError
from ...scenario.serving import Replica
from .params import ServingParams
from .throughput import Workload, rates

# Search bound, not a physical limit: DeepSeek's largest published serving unit is 18 nodes
# (decode EP144; serving_anchors.md), so 32 nodes per replica covers every published layout.
MAX_EP_NODES = 32


def _powers_of_two(limit: int) -> list[int]:
    out, n = [], 1
    while n <= limit:
        out.append(n)
        n *= 2
    return out


def candidates(arch: Architecture, acc: Accelerator, max_gpus: int | None) -> list[Replica]:
    """Layouts to try, smallest first."""
    gpn = acc.gpus_per_node
    cap = max_gpus if max_gpus is not None else gpn * MAX_EP_NODES
    out = [
        Replica(gpus=tp, tp=tp, ep=tp if arch.moe is not None else 1) for tp in _powers_of_two(min(gpn, cap))
    ]
    if arch.moe is not None:
        for nodes in _powers_of_two(MAX_EP_NODES):
            g = nodes * gpn
            if g > cap:
                break
            for tp in _powers_of_two(gpn):
                if g // tp >= 1 and (g, tp) != (tp, tp):
                    out.append(Replica(gpus=g, tp=tp, ep=g, dp=g // tp))
    return out


def search(
    arch: Architecture,
    acc: Accelerator,
    w: Workload,
    params: ServingParams,
    max_gpus: int | None = None,
) -> Replica:
    """The candidate layout with the highest output tokens/s per GPU (point values)."""
    best: tuple[float, Replica] | None = None
    reasons: list[str] = []
    for rep in candidates(arch, acc, max_gpus):
        try:
            r = rates(arch, acc, rep, w, params)
        except ScenarioError as exc:
            reasons.append(f"gpus={rep.gpus} tp={rep.tp} ep={rep.ep}: {exc}")
            continue
        score = float(r.output_tokens_per_s_per_gpu)
        if best is None or score > best[0] * (1 + 1e-9):
            best = (score, rep)
    if best is None:
        last = reasons[-1] if reasons else "no candidate layout"
        raise ScenarioError(
            f"no replica layout of {acc.id} serves this model (tried {len(reasons)} layouts up to "
            f"{max_gpus or acc.gpus_per_node * MAX_EP_NODES} GPUs; the largest: {last}); give serving.replica",
            field="serving.replica",
        )
    return best[1]
