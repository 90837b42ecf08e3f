"""Runs the stages in order, once on point values or in chunks of Monte Carlo draws.

model -> flops -> perf -> run -> pricing (rental, owned) -> fleet -> lab -> money -> serving ->
carbon -> views. Each stage takes its section of the scenario and the typed results of the stages before it, and returns its
own frozen result (`truecost.stages`); the formulas are pure, vectorised functions, so the same
chain runs on scalars and on arrays of draws. The chain merges what the stages recorded into an
`Estimate`: results with units and formulas, assumptions with sources, warnings.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from .catalog import get_accelerator
from .dates import decimal_year
from .errors import ScenarioError
from .result import Estimate, StageResults, ordered
from .scenario import Scenario, load_raw, plausibility_warnings, validate
from .scenario.cluster import Cluster
from .scenario.serving import Replica
from .stages import carbon, energy, fleet, flops, lab, model, money, run, views
from .stages import serving as serving_stage
from .stages.base import Assumption
from .stages.perf import stage as perf
from .stages.pricing import OwnedResult, RentalResult, owned, rental
from .stages.run import RunResult
from .uncertainty import (
    BYTES_PER_OUTPUT_TRIAL,
    DEFAULT_CHUNK,
    Distribution,
    LogNormal,
    available_memory_bytes,
    draw,
    find_distributions,
    input_streams,
    iter_chunks,
    max_samples,
    parse_distribution,
    path_str,
    substitute,
    summarize_extended,
)

Path_ = tuple[str | int, ...]

# Inputs that fix the architecture, the parallel layout or the grid year: the chain treats them as known.
_NO_DISTRIBUTIONS: tuple[Path_, ...] = (
    ("model",),
    ("training", "seq_len"),
    ("training", "global_batch"),
    ("cluster", "parallelism"),
    ("cluster", "network"),
    ("cluster", "gpus_per_node"),
    ("serving", "replica"),
    ("serving", "prefill_replica"),
    ("carbon", "year"),
)
CHUNK = DEFAULT_CHUNK  # trials per vectorised pass: bounds working memory
DRAWS_KEPT = 20_000  # thinned samples kept on the result for charts


@dataclass(frozen=True)
class Prepared:
    """A validated scenario at its point values, with the distributions of its uncertain inputs."""

    raw: dict[str, Any]
    scenario: Scenario
    dists: dict[Path_, Distribution]
    # Uncertainty the chain adds by default (the grid intensity of a region within the table's
    # spread); sampled like `dists` but absent from the point run, which takes the table value.
    default_dists: dict[Path_, Distribution] = field(default_factory=dict)

    @property
    def sampled(self) -> dict[Path_, Distribution]:
        """Every uncertain input: the scenario's distributions and the default ones."""
        return {**self.dists, **self.default_dists}


def prepare(source: str | Path | Mapping[str, Any]) -> Prepared:
    """Read and validate a scenario (preset name, YAML path or dict)."""
    raw = load_raw(source)
    try:
        dists = find_distributions(raw)
    except ValueError as exc:
        raise ScenarioError(str(exc)) from None
    for p in dists:
        for banned in _NO_DISTRIBUTIONS:
            if p[: len(banned)] == banned:
                raise ScenarioError(
                    "a distribution is not supported here: this input fixes the architecture, the "
                    "parallel layout or the grid year, which the chain treats as known; give a number",
                    field=path_str(p),
                )
    scn = validate(substitute(raw, {p: d.median for p, d in dists.items()}))
    if dists:  # a range that reaches an impossible value is an error now, not a NaN later
        for q in (0.05, 0.95):
            try:
                validate(substitute(raw, {p: float(d.ppf(q)) for p, d in dists.items()}))
            except ScenarioError as exc:
                raise ScenarioError(
                    f"at the {round(q * 100)}th percentile of its distribution: {exc}"
                ) from None
    defaults = {
        p: parse_distribution(spec, p)
        for p, spec in carbon.default_uncertainty(scn.carbon, carbon.start_year(scn.training)).items()
        if p not in dists
    }
    return Prepared(raw=raw, scenario=scn, dists=dists, default_dists=defaults)


def _leaf(raw: Any, path: Path_) -> Any:
    for p in path:
        raw = raw[p]
    return raw


def inject(obj: Any, path: Path_, value: Any) -> Any:
    """Copy of a frozen scenario with one leaf replaced (no re-validation: arrays allowed)."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(obj, tuple):
        items = list(obj)
        items[int(head)] = inject(items[int(head)], rest, value)
        return tuple(items)
    return obj.model_copy(update={str(head): inject(getattr(obj, str(head)), rest, value)})


def inject_all(scn: Scenario, values: Mapping[Path_, Any]) -> Scenario:
    for p, v in values.items():
        scn = inject(scn, p, v)
    return scn


REALIZED_EFFICIENCY: Path_ = ("cluster", "realized_efficiency")
THROUGHPUT_FACTOR: Path_ = ("serving", "throughput_factor")


def predicted_dists(stages: StageResults) -> dict[Path_, Distribution]:
    """Uncertain inputs a stage's prediction adds: a predicted MFU carries its calibrated realized
    efficiency (lognormal, 90% interval from the leave-one-out residuals) into the trials, and a
    predicted serving rate its throughput factor."""
    out: dict[Path_, Distribution] = {}
    interval = stages.perf.efficiency_interval
    if interval is not None:
        out[REALIZED_EFFICIENCY] = LogNormal(*interval)
    # A predicted serving rate carries its calibrated interval the same way.
    if stages.serving.throughput_interval is not None:
        out[THROUGHPUT_FACTOR] = LogNormal(*stages.serving.throughput_interval)
    return out


def run_stages(scn: Scenario, *, point: bool = True, known: StageResults | None = None) -> StageResults:
    """One pass of the chain. `point=False` (Monte Carlo chunks) skips assumptions, warnings and
    explanatory extras; `known` is the point run: its step prediction and any searched serving
    replica are reused by chunks (one layout for every trial, searched once)."""
    cl = scn.cluster
    m = model.stage(scn.model, scn.model_id, point=point)
    f = flops.stage(scn.training, scn.model, point=point)
    p = perf.stage(scn.training, cl, scn.model, known=known.perf if known is not None else None, point=point)
    r = run.stage(scn.training, cl, scn.power, f, p, point=point)
    rent = rental.stage(scn.pricing, cl, scn.training, r, point=point)
    # The run's hardware: the first fleet pool with its accelerator prices the owned run.
    idx, pool = owned.run_pool(scn.fleet, cl.accelerator) if cl is not None else (None, None)
    start = decimal_year(scn.training.start_date) if scn.training.start_date else None
    own = owned.stage(
        scn.ownership, scn.power, cl, r, pool=pool, pool_index=idx, start_year=start, point=point
    )
    fl = fleet.stage(
        scn.fleet,
        scn.ownership,
        scn.power,
        run_accelerator=cl.accelerator if cl is not None else None,
        lab_horizon_years=scn.lab.horizon_years if scn.lab is not None else None,
        start_year=start,
        point=point,
    )
    lb = lab.stage(scn.lab, scn.ownership, rent, own, fl, point=point)
    method = scn.ownership.resolved_method or owned.DEFAULT_DEPRECIATION
    mon = money.stage(scn.money, scn.training, method, r.wall_clock_days, point=point)
    rent = money.in_constant_dollars(rent, mon.factor)
    own = money.in_constant_dollars(own, mon.factor)
    fl = money.in_constant_dollars(fl, mon.factor)
    lb = money.in_constant_dollars(lb, mon.factor)
    searched = known.serving.replica if known is not None and known.serving.layout_searched else None
    sv = _serving(scn, rent, own, start, mon, point=point, replica=searched)
    s_acc, s_gpn, s_kwh, s_hours = _serving_footprint(scn, sv, point=point)
    c = carbon.stage(
        scn.carbon,
        energy_kwh=r.energy_kwh,
        gpu_hours=r.gpu_hours,
        accelerator=cl.accelerator if cl is not None else None,
        gpus_per_node=cl.gpus_per_node if cl is not None else None,
        start_year=carbon.start_year(scn.training),
        life_years=scn.ownership.life_years,
        life_years_default=carbon.default_life(cl.accelerator if cl is not None else s_acc),
        utilisation=scn.ownership.fleet_utilisation,
        fleet=carbon.fleet_uses(
            scn.fleet, scn.ownership, scn.power, cl.accelerator if cl is not None else None
        )
        if scn.carbon.given
        else (),
        serving_accelerator=s_acc,
        serving_gpus_per_node=s_gpn,
        serving_energy_kwh_per_m_tokens=s_kwh,
        serving_gpu_hours_per_m_tokens=s_hours,
        point=point,
    )
    upstream = StageResults(
        model=m,
        flops=f,
        perf=p,
        run=r,
        rental=rent,
        owned=own,
        fleet=fl,
        lab=lb,
        carbon=c,
        money=mon,
        serving=sv,
    )
    # Reference points may also compare to the serving stage's predicted rates.
    v = views.stage({**upstream.quantities(), **sv.comparable()}, fl, lb, scn.reference_points, point=point)
    return replace(upstream, views=v)


def _serving(
    scn: Scenario,
    rent: RentalResult,
    own: OwnedResult,
    start: float | None,
    mon: money.MoneyResult,
    *,
    point: bool,
    replica: Replica | None = None,
) -> serving_stage.ServingResult:
    """The serving stage, priced by the pricing stage. When the serving accelerator is the run's,
    it takes the run's rental and owned $/GPU-h; otherwise the pricing stage runs once more for the
    serving accelerator (rental: pricing.rental_usd_per_gpu_hour, else the catalog price), in the
    same (constant or nominal) dollars."""
    sv = scn.serving
    if sv is None:
        return serving_stage.ServingResult()
    if replica is not None:  # the point run's searched layout: Monte Carlo chunks do not search again
        sv = sv.model_copy(update={"replica": replica})
    cl = scn.cluster
    acc_id = sv.accelerator or (cl.accelerator if cl is not None else None)
    if acc_id is None:
        raise ScenarioError(
            "give the serving accelerator (or a cluster.accelerator)", field="serving.accelerator"
        )
    if cl is not None and cl.accelerator == acc_id and rent.rental_usd_per_gpu_hour is not None:
        rent_rate = rent.rental_usd_per_gpu_hour
        own_rate = own.owned_usd_per_gpu_hour
        priced: tuple[Assumption, ...] = ()
        warns: tuple[str, ...] = ()
    else:
        pseudo = Cluster(accelerator=acc_id, count=1)
        no_run = RunResult(gpu_hours=1.0)  # one GPU-hour: the stages' rates, not a run's cost
        r2 = rental.stage(scn.pricing, pseudo, scn.training, no_run, point=point)
        idx, pool = owned.run_pool(scn.fleet, acc_id)
        o2 = owned.stage(
            scn.ownership, scn.power, pseudo, no_run, pool=pool, pool_index=idx, start_year=start, point=point
        )
        r2 = money.in_constant_dollars(r2, mon.factor)
        o2 = money.in_constant_dollars(o2, mon.factor)
        rent_rate, own_rate = r2.rental_usd_per_gpu_hour, o2.owned_usd_per_gpu_hour
        priced = (*r2.assumptions, *o2.assumptions)
        warns = (*r2.warnings, *o2.warnings)
    if rent_rate is None:
        raise ScenarioError(
            f"no rental price for {acc_id} in the catalog; give one", field="pricing.rental_usd_per_gpu_hour"
        )
    res = serving_stage.stage(
        sv,
        scn.model,
        get_accelerator(acc_id),
        rental_usd_per_gpu_hour=rent_rate,
        owned_usd_per_gpu_hour=own_rate,
        point=point,
    )
    if priced or warns:
        res = replace(res, assumptions=(*priced, *res.assumptions), warnings=(*warns, *res.warnings))
    return res


def _serving_footprint(
    scn: Scenario, sv: serving_stage.ServingResult, *, point: bool
) -> tuple[str | None, int | None, Any, Any]:
    """(accelerator, GPUs per node, facility kWh and GPU-hours per million output tokens) of the
    serving fleet, for the carbon stage: the whole fleet (prefill pool included) busy all day."""
    if scn.serving is None or sv.serving_gpus is None or sv.daily_output_tokens is None:
        return None, None, None, None
    cl = scn.cluster
    acc_id = scn.serving.accelerator or (cl.accelerator if cl is not None else None)
    if acc_id is None:
        return None, None, None, None
    acc = get_accelerator(acc_id)
    hours = energy.gpu_hours_per_m_tokens(sv.serving_gpus, sv.daily_output_tokens)
    s2c, util = run.power_defaults(acc_id)
    e = energy.stage(
        scn.power,
        gpu_hours=hours,
        accelerator=acc,
        server_to_chip_default=s2c,
        utilisation_default=util,
        point=point,
    )
    return acc_id, acc.gpus_per_node, e.energy_kwh, hours


def merged_notes(stages: StageResults, scn: Scenario) -> tuple[list[Assumption], list[str]]:
    """The assumptions (first stage to record a name wins; a scenario input names its
    `input_sources` entry) and warnings (once each) of every stage, in chain order."""
    seen: dict[str, Assumption] = {}
    warnings: list[str] = []
    for st in stages:
        for a in st.assumptions:
            if a.name in seen:
                continue
            if a.source == "scenario input" and a.field and (cited := scn.input_sources.get(a.field)):
                a = replace(a, source=f"scenario input; {cited}")
            seen[a.name] = a
        warnings.extend(w for w in st.warnings if w not in warnings)
    return list(seen.values()), warnings


def _check_finite(results: Mapping[str, Any], formulas: Mapping[str, str]) -> None:
    for k, v in results.items():
        arr = np.asarray(v, dtype=float)
        if not np.all(np.isfinite(arr)):
            raise ScenarioError(
                f"result {k} is not finite; check the inputs it depends on ({formulas.get(k, '')})"
            )


def estimate(
    source: str | Path | Mapping[str, Any],
    samples: int | None = None,
    seed: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Estimate:
    """Run a scenario through the chain.

    source : preset name, YAML path or dict.
    samples : Monte Carlo trials; None = the point estimate only (each distribution at its median).
    seed : makes sampling exactly reproducible (0 is a seed).
    progress : called with (done, total) after each chunk of draws.
    """
    if samples is not None and (
        isinstance(samples, bool) or not isinstance(samples, int | np.integer) or samples < 2
    ):
        raise ScenarioError(f"expected an integer >= 2, got {samples!r}", field="samples")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0):
        raise ScenarioError(f"expected an integer >= 0, got {seed!r}", field="seed")
    prep = prepare(source)
    stages = run_stages(prep.scenario)
    quantities = stages.quantities()
    formulas = stages.formulas()
    _check_finite(quantities, formulas)
    assumptions, warnings = merged_notes(stages, prep.scenario)
    # Inputs that are possible but implausible (outside their field's plausible band).
    warnings += [w for w in plausibility_warnings(prep.scenario) if w not in warnings]
    for p, d in prep.dists.items():
        name = path_str(p)
        try:
            spec = _leaf(prep.raw, p)
        except (KeyError, IndexError, TypeError):  # a distribution the chain added itself
            spec = None
        why = f" ({spec['source']})" if isinstance(spec, Mapping) and spec.get("source") else ""
        assumptions = [
            replace(a, source=f"{a.source}; uncertain: {d.describe()}{why}") if a.field == name else a
            for a in assumptions
        ]
    for p, d in prep.default_dists.items():
        assumptions = [
            replace(a, source=f"{a.source}; uncertain by default: {d.describe()} (the table's spread)")
            if a.field == path_str(p)
            else a
            for a in assumptions
        ]
    point = {k: float(np.asarray(v)) for k, v in quantities.items()}
    common: dict[str, Any] = dict(
        scenario=prep.scenario.name,
        units=stages.units(),
        formulas=formulas,
        assumptions=[a.to_dict() for a in assumptions],
        warnings=warnings,
        stages=stages,
        point=point,
        inputs=prep.raw,
    )
    if samples is None:
        return Estimate(results=ordered(point), **common)

    # Every output's samples are kept whole (exact percentiles): refuse up front what this machine
    # cannot hold, rather than fail with MemoryError after minutes of work.
    cap = max_samples(len(quantities))
    if samples > cap:
        need = samples * len(quantities) * BYTES_PER_OUTPUT_TRIAL / 1e9
        raise ScenarioError(
            f"{samples:,} samples of {len(quantities)} results would need about {need:,.1f} GB; with "
            f"{available_memory_bytes() / 1e9:,.1f} GB available now this machine holds at most {cap:,}",
            field="samples",
        )
    # One random stream per input (keyed by seed and path): results do not depend on the chunk size.
    sampled = {**prep.sampled, **predicted_dists(stages)}
    streams = input_streams(sampled, seed)
    chunks: dict[str, list[Any]] = {k: [] for k in quantities}  # arrays, or floats where constant
    bounds = list(iter_chunks(int(samples), CHUNK))
    for lo, hi in bounds:
        n = hi - lo
        scn = inject_all(prep.scenario, draw(sampled, n, streams))
        got = run_stages(scn, point=False, known=stages).quantities()
        for k in chunks:
            v = np.asarray(got[k], dtype=float)
            chunks[k].append(float(v) if v.ndim == 0 else np.broadcast_to(v, (n,)))
        if progress is not None:
            progress(hi, int(samples))
    results: dict[str, Any] = {}
    extended: dict[str, dict[str, float]] = {}
    kept: dict[str, np.ndarray] = {}
    step = max(1, int(samples) // DRAWS_KEPT)

    def summarise(k: str) -> dict[str, float]:
        parts = chunks[k]
        if all(isinstance(p, float) for p in parts) and len(set(parts)) == 1:
            c = parts[0]  # no uncertain input reaches this result: nothing to sort
            if not np.isfinite(c):
                raise ScenarioError(f"result {k} is not finite; check the inputs it depends on")
            kept[k] = np.full(len(range(0, int(samples), step)), c)
            return {q: c for q in summarize_extended(np.array([c]))} | {"sd": 0.0}
        x = np.concatenate(
            [
                np.full(len(range(*b)), p) if isinstance(p, float) else p
                for p, b in zip(parts, bounds, strict=True)
            ]
        )
        if not np.all(np.isfinite(x)):
            raise ScenarioError(f"result {k} is not finite in some trials; check the input distributions")
        kept[k] = x[::step].copy()
        return summarize_extended(x)

    # np.partition releases the GIL: summaries of different results run on all cores at once.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        for k, ext in zip(chunks, pool.map(summarise, list(chunks)), strict=True):
            extended[k] = ext
            results[k] = {q: ext[q] for q in ("mean", "p5", "p50", "p95")}
    return Estimate(
        results=ordered(results), samples=int(samples), seed=seed, percentiles=extended, draws=kept, **common
    )
