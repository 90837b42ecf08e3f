"""Checks across fields, made once the sections validate: architecture bounds, a partial layout
against the model and the cluster, the size of the layout search; and the plausibility warnings.

`check(scn)` raises `ScenarioError` naming the field; `plausibility_warnings(scn)` returns the
warnings (a list of strings) that the chain adds to the estimate's warnings.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

from ..errors import ScenarioError
from .base import Range
from .root import Scenario

# Architecture bounds (architecture.py is shared with the catalog, so they are checked here).
# The largest published models: 126 layers (Llama 3.1 405B), d_model 18,432 (PaLM), 128 heads,
# vocab 256k (Gemma), 384 routed experts (Kimi K2).
ARCH_RANGES: dict[str, Range] = {
    "layers": Range(1, 10_000, "layers", plausible=(1, 512), whole=True),
    "d_model": Range(1, 1_000_000, plausible=(64, 65_536), whole=True),
    "n_heads": Range(1, 65_536, "heads", plausible=(1, 1024), whole=True),
    "n_kv_heads": Range(1, 65_536, "heads", whole=True),
    "head_dim": Range(1, 65_536, plausible=(16, 1024), whole=True),
    "ffn_dim": Range(1, 10_000_000, plausible=(64, 262_144), whole=True),
    "vocab": Range(1, 100_000_000, "tokens", plausible=(256, 1_048_576), whole=True),
    "mtp_depth": Range(0, 64, whole=True),
    "moe.experts": Range(1, 100_000, "experts", plausible=(1, 4096), whole=True),
    "moe.top_k": Range(1, 100_000, "experts", whole=True),
    "moe.expert_ffn_dim": Range(1, 10_000_000, whole=True),
    "moe.shared_experts": Range(0, 1024, "experts", whole=True),
    "mla.q_lora_rank": Range(0, 1_000_000, whole=True),
    "mla.kv_lora_rank": Range(1, 1_000_000, whole=True),
    "mla.qk_nope_head_dim": Range(1, 65_536, whole=True),
    "mla.qk_rope_head_dim": Range(1, 65_536, whole=True),
    "mla.v_head_dim": Range(1, 65_536, whole=True),
}
PARAMS_RANGE = Range(1, 1e16, "parameters", plausible=(1e6, 1e14))

# The layout search scores every structurally valid layout (times 3 recompute modes x 4 ZeRO
# stages) in one vectorised pass; its size is counted, and bounded, before it runs.
LAYOUT_SEARCH_BUDGET = 100_000  # structural rows: ~40-60 us each here, so at most ~5 s


def _get(obj: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if obj is None:
            return None
        obj = getattr(obj, part, None)
    return obj


def check(scn: Scenario) -> None:
    """Refuse what the sections cannot see alone; raises ScenarioError naming the field."""
    arch = scn.model
    if arch is not None:
        for name, rng in ARCH_RANGES.items():
            v = _get(arch, name)
            if v is not None and not (rng.lo <= v <= rng.hi):
                raise ScenarioError(f"must lie in {rng.describe()}, got {v}", field=f"model.{name}")
        if arch.head_dim is None and arch.d_model < arch.n_heads:
            raise ScenarioError(
                f"model.n_heads ({arch.n_heads}) exceeds model.d_model ({arch.d_model}): each head "
                "would be d_model / n_heads < 1 wide (give model.head_dim, or fewer heads)",
                field="model.n_heads",
            )
        if arch.moe is not None and arch.moe.top_k > arch.moe.experts:
            raise ScenarioError("must be <= model.moe.experts", field="model.moe.top_k")
        params = arch.params_total
        if not PARAMS_RANGE.lo <= params <= PARAMS_RANGE.hi:
            raise ScenarioError(
                f"the architecture has {params:.3g} parameters; at most {PARAMS_RANGE.hi:g} are modelled",
                field="model",
            )
    _check_precision(scn)
    _check_layout(scn)


def _check_precision(scn: Scenario) -> None:
    cl = scn.cluster
    if cl is None or scn.model is None or cl.mfu is not None or cl.gpu_hours is not None:
        return
    if cl.count is None or scn.training.tokens is None or scn.training.stages:
        return
    from ..catalog import accelerators

    peaks = getattr(accelerators().get(cl.accelerator), "peak_flop_per_s", None) or {}
    if peaks and scn.training.precision not in peaks:
        raise ScenarioError(
            f"the step-time model needs the accelerator's dense {scn.training.precision} peak, and "
            f"{cl.accelerator!r} publishes none; available: {', '.join(sorted(peaks))} "
            "(or give cluster.mfu)",
            field="training.precision",
        )


def _divisor_count(n: int) -> int:
    return sum(2 - (d * d == n) for d in range(1, math.isqrt(n) + 1) if n % d == 0)


def _check_layout(scn: Scenario) -> None:
    cl, arch, tr = scn.cluster, scn.model, scn.training
    if cl is None:
        return
    p = cl.parallelism
    field = "cluster.parallelism"
    count = int(cl.count) if cl.count is not None and float(cl.count).is_integer() else None
    given = {k: getattr(p, k) for k in ("tp", "cp", "pp", "dp") if getattr(p, k) is not None}
    if count is not None:
        for k, v in given.items():
            if v > count:
                raise ScenarioError(f"({v}) exceeds cluster.count ({count})", field=f"{field}.{k}")
        product = math.prod(given.values())
        if count % product:
            names = "*".join(given)
            raise ScenarioError(
                f"{names} = {product} does not divide cluster.count ({count})",
                field=f"{field}.{next(iter(given))}" if len(given) == 1 else field,
            )
        if len(given) == 4 and product != count:
            raise ScenarioError(f"tp*cp*pp*dp = {product} != cluster.count ({count})", field=field)
    if p.micro_batch is not None and tr.global_batch is not None and p.micro_batch > tr.global_batch:
        raise ScenarioError(
            f"({p.micro_batch}) exceeds training.global_batch ({tr.global_batch})",
            field=f"{field}.micro_batch",
        )
    if p.cp is not None and tr.seq_len % p.cp:
        raise ScenarioError(f"({p.cp}) must divide training.seq_len ({tr.seq_len})", field=f"{field}.cp")
    if arch is None:
        return
    if p.tp is not None and arch.n_heads % p.tp:
        raise ScenarioError(
            f"({p.tp}) must divide model.n_heads ({arch.n_heads}): tensor parallelism splits the heads",
            field=f"{field}.tp",
        )
    if p.pp is not None and p.pp * (p.virtual_stages or 1) > arch.layers:
        raise ScenarioError(
            f"pp x virtual_stages ({p.pp * (p.virtual_stages or 1)}) exceeds model.layers ({arch.layers})",
            field=f"{field}.pp",
        )
    if p.ep is not None:
        if arch.moe is None and p.ep != 1:
            raise ScenarioError(f"({p.ep}) must be 1 for a dense model", field=f"{field}.ep")
        if arch.moe is not None and arch.moe.experts % p.ep:
            raise ScenarioError(
                f"({p.ep}) must divide model.moe.experts ({arch.moe.experts})", field=f"{field}.ep"
            )
    # The step-time model searches layouts only when the run gives neither GPU-hours nor an MFU
    # (the perf stage's condition): a reported run is never refused for a search it will not do.
    searches = cl.gpu_hours is None and cl.mfu is None and not tr.stages and tr.tokens is not None
    if count is not None and searches and not p.is_complete():
        size = layout_search_size(scn)
        if size > LAYOUT_SEARCH_BUDGET:
            raise ScenarioError(
                f"the layout search would score about {size:.3g} layouts (budget "
                f"{LAYOUT_SEARCH_BUDGET:,}); fix more of the layout (tp, pp, dp, micro_batch) or "
                "give cluster.mfu",
                field=field,
            )


def _divisors(n: int) -> list[int]:
    small = [d for d in range(1, math.isqrt(n) + 1) if n % d == 0]
    return sorted(set(small + [n // d for d in small]))


def layout_search_size(scn: Scenario) -> int:
    """How many structural layouts (tp, cp, pp, dp, ep, micro-batch, schedule) the layout search
    would enumerate for this scenario, each then scored under 3 recompute modes x 4 ZeRO stages.

    Counted the way `truecost.stages.perf.search` enumerates them, without building any: a
    square-root loop per divisor set, so it costs milliseconds where the search could cost
    minutes. Schedules are counted at their most (1f1b, 7 interleaved depths, dualpipe).
    """
    cl, arch, tr = scn.cluster, scn.model, scn.training
    if cl is None or arch is None or cl.count is None:
        return 0
    p = cl.parallelism
    gpn = cl.gpus_per_node or 8
    n = max(1, int(cl.count))
    gb = tr.global_batch or max(1, n // 8)
    seq = tr.seq_len
    tps = [p.tp] if p.tp else [t for t in _divisors(arch.n_heads) if t <= max(gpn, 8)]
    cps = [p.cp] if p.cp else [c for c in _divisors(seq) if c <= 32 and (c == 1 or seq // c >= 512)]
    total = 0
    for tp in tps:
        for cp in cps:
            if n % (tp * cp):
                continue
            rest = n // (tp * cp)
            for pp in [p.pp] if p.pp else [d for d in _divisors(rest) if d <= arch.layers]:
                if rest % pp:
                    continue
                dp = rest // pp
                if (p.dp is not None and dp != p.dp) or gb % dp:
                    continue
                if p.ep or arch.moe is None:
                    eps = 1
                else:
                    eps = _divisor_count(math.gcd(dp * cp, arch.moe.experts))
                per_pipe = gb // dp
                mbs = 1 if p.micro_batch else sum(1 for b in range(1, 65) if per_pipe % b == 0)
                scheds = 1 if (pp == 1 or p.schedule) else 9
                total += eps * mbs * scheds
                if total > 100 * LAYOUT_SEARCH_BUDGET:
                    return total
    return total


def _fields(model: BaseModel, prefix: str) -> Iterator[tuple[str, Any, Range]]:
    """(dotted path, value, range) of every ranged numeric field of a model, recursively."""
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        path = f"{prefix}{name}"
        rng = next((m for m in info.metadata if isinstance(m, Range)), None)
        if rng is None:
            # Optional fields: the Range sits on the non-None member of the union.
            args = getattr(info.annotation, "__args__", ())
            for a in args:
                rng = next((m for m in getattr(a, "__metadata__", ()) if isinstance(m, Range)), None)
                if rng is not None:
                    break
        if rng is not None and isinstance(value, int | float) and not isinstance(value, bool):
            yield path, value, rng
        elif isinstance(value, BaseModel):
            yield from _fields(value, path + ".")
        elif isinstance(value, tuple):
            for i, item in enumerate(value):
                if isinstance(item, BaseModel):
                    yield from _fields(item, f"{path}[{i}].")


def plausibility_warnings(scn: Scenario) -> list[str]:
    """Warnings for inputs that are possible but outside the plausible band of their field.

    >>> from truecost.scenario import validate
    >>> plausibility_warnings(validate({"cluster": {"accelerator": "h100-sxm", "mfu": 0.01}}))
    ['cluster.mfu = 0.01 is outside the plausible range 0.05-0.75; check it (published runs report 0.05-0.75)']
    """
    out: list[str] = []
    for path, value, rng in _fields(scn, ""):
        if rng.plausible is None:
            continue
        lo, hi = rng.plausible
        if not lo <= float(value) <= hi:
            out.append(_warning(path, float(value), rng))
    arch = scn.model
    if arch is not None and scn.model_id is None:
        for name, rng in ARCH_RANGES.items():
            v = _get(arch, name)
            if v is not None and rng.plausible is not None and not rng.plausible[0] <= v <= rng.plausible[1]:
                out.append(_warning(f"model.{name}", float(v), rng))
        if arch.head_dim is None and arch.d_model % arch.n_heads:
            out.append(
                f"model.d_model ({arch.d_model}) is not a multiple of model.n_heads ({arch.n_heads}); "
                f"heads are taken {arch.d_model // arch.n_heads} wide (give model.head_dim to be exact)"
            )
    return out


def _warning(path: str, value: float, rng: Range) -> str:
    from .base import _fmt

    lo, hi = rng.plausible or (rng.lo, rng.hi)
    unit = f" {rng.unit}" if rng.unit else ""
    about = " (published runs report 0.05-0.75)" if path == "cluster.mfu" else ""
    return (
        f"{path} = {_fmt(value)}{unit} is outside the plausible range {_fmt(lo)}-{_fmt(hi)}{unit}; "
        f"check it{about}"
    )
