"""Sweeps: one scenario run at every point of a grid (or a Latin hypercube), on Dask.

A sweep loads the scenario once, sets each point's values into a copy of the raw dict by field
path (``cluster.count``, ``fleet[0].unit_price_usd``) and runs ``truecost.chain.estimate`` on it.
Points are grouped into partitions; one Dask task runs a partition, so scheduling costs one task
per ~second of chain work rather than one per point. Each point is seeded from (seed, point
index) with ``numpy.random.SeedSequence``: a sweep gives the same numbers however it is split.

Results stream to a sidecar directory (``FILE.parts/``, one Parquet part per partition) as
partitions finish; the final file is their concatenation. ``resume=True`` skips the parts already
there, so an interrupted sweep does not recompute finished partitions.

>>> df = sweep("deepseek-v3", {"cluster.count": [1024, 2048]})
>>> df["cluster.count"].tolist(), df["wall_clock_days"].round(1).tolist()
([1024, 2048], [113.4, 56.7])
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import multiprocessing
import os
import re
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..catalog.schema import UnknownIdError
from ..errors import ScenarioError, TruecostError, path_str
from ..files import write_atomically

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "MAX_POINTS",
    "MAX_TRIALS",
    "latin_hypercube",
    "parse_path",
    "parse_range",
    "parse_set",
    "partition_size",
    "point_seed",
    "read_points",
    "set_path",
    "sweep",
]

FieldPath = tuple[str | int, ...]
Progress = Callable[[int, int], None]

# Bounds on one request: a million points, and 10^10 chain evaluations (points x trials; the
# issue's largest case, 10,000 points x 100,000 trials, is 10^9).
MAX_POINTS = 1_000_000
MAX_TRIALS = 10**10

# Cost model for sizing partitions, measured on deepseek-v3 on a 2-core VM: a point estimate
# takes ~1.5 ms (validation and the stages in Python), a trial ~2.5 us (vectorised numpy).
POINT_COST_S = 1.5e-3
TRIAL_COST_S = 2.5e-6
# One partition is about a second of work: Dask's per-task cost (~1 ms distributed, pickling
# the scenario) is then ~0.1%, and a resumed sweep loses at most a second per worker.
PARTITION_TARGET_S = 1.0
# ...but at least this many partitions, so two to a few dozen workers all get work.
MIN_PARTITIONS = 32
# Below this much estimated work the sweep runs in this process: starting worker processes
# (each imports numpy, pydantic and truecost, ~0.8 s) would cost more than it saves.
LOCAL_INLINE_S = 2.0

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PART = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]")


def parse_path(text: str) -> FieldPath:
    """A scenario field path -> its keys and list indices.

    >>> parse_path("fleet[0].unit_price_usd")
    ('fleet', 0, 'unit_price_usd')
    >>> parse_path("cluster.count")
    ('cluster', 'count')
    """
    text = text.strip()
    m = _NAME.match(text)
    if m is None:
        raise ScenarioError("expected a field path such as cluster.count or fleet[0].count", field=text)
    out: list[str | int] = [m.group(0)]
    pos = m.end()
    while pos < len(text):
        m = _PART.match(text, pos)
        if m is None:
            raise ScenarioError(
                f"cannot read the field path at {text[pos:]!r} (use a.b and a[0].b)", field=text
            )
        out.append(m.group(1) if m.group(1) is not None else int(m.group(2)))
        pos = m.end()
    return tuple(out)


def set_path(raw: dict[str, Any], path: FieldPath, value: Any) -> None:
    """Set one leaf of a raw scenario dict in place, creating missing sections (validation then
    rejects keys the schema does not know)."""
    node: Any = raw
    for i, key in enumerate(path[:-1]):
        where = path_str(path[: i + 1])
        nxt = path[i + 1]
        if isinstance(key, int):
            if not isinstance(node, list) or key >= len(node):
                size = len(node) if isinstance(node, list) else 0
                raise ScenarioError(f"no item {key} here (the list has {size})", field=path_str(path))
            child = node[key]
        else:
            if not isinstance(node, dict):
                raise ScenarioError(f"{where} is not a section", field=path_str(path))
            child = node.get(key)
            if child is None:
                if isinstance(nxt, int):
                    raise ScenarioError(f"{where} is not a list in this scenario", field=path_str(path))
                child = node[key] = {}
        if not isinstance(child, dict | list):
            raise ScenarioError(
                f"{where} is a value ({child!r}), not a section with fields", field=path_str(path)
            )
        node = child
    last = path[-1]
    if isinstance(last, int):
        if not isinstance(node, list) or last >= len(node):
            raise ScenarioError("no such list item in this scenario", field=path_str(path))
        node[last] = value
    else:
        if not isinstance(node, dict):
            raise ScenarioError("not a section with fields", field=path_str(path))
        node[last] = value


def _split_top(text: str) -> list[str]:
    """Split on commas outside brackets and braces, so `{ci90: [0.3, 0.5]}` stays one value."""
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return [p.strip() for p in parts]


def parse_scalar(text: str, where: str) -> Any:
    """A value as YAML reads it (numbers like 14.8e12 included)."""
    from ..scenario import parse_yaml

    if not text:
        raise ScenarioError("empty value", field=where)
    return parse_yaml(f"v: {text}", where=where)["v"]


def parse_set(spec: str) -> tuple[str, list[Any]]:
    """``PATH=V1,V2,...`` -> (path, values), each value a YAML scalar.

    >>> parse_set("pricing.rental_usd_per_gpu_hour=1.5,2,2.5")
    ('pricing.rental_usd_per_gpu_hour', [1.5, 2, 2.5])
    """
    path, sep, values = spec.partition("=")
    if not sep:
        raise ScenarioError("expected PATH=V1,V2,... (for example cluster.count=1024,2048)", field=spec)
    parse_path(path)
    path = path.strip()
    return path, [parse_scalar(v, path) for v in _split_top(values)]


def parse_range(spec: str) -> tuple[str, tuple[float, float]]:
    """``PATH=LOW:HIGH`` -> (path, (low, high)) for a Latin hypercube.

    >>> parse_range("cluster.mfu=0.3:0.5")
    ('cluster.mfu', (0.3, 0.5))
    """
    path, sep, rng = spec.partition("=")
    low, sep2, high = rng.partition(":")
    if not sep or not sep2:
        raise ScenarioError("expected PATH=LOW:HIGH (for example cluster.mfu=0.3:0.5)", field=spec)
    parse_path(path)
    path = path.strip()
    lo, hi = parse_scalar(low.strip(), path), parse_scalar(high.strip(), path)
    for v in (lo, hi):
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise ScenarioError(f"a range needs numbers, got {v!r}", field=path)
    if not lo < hi:
        raise ScenarioError(f"expected LOW < HIGH, got {lo} and {hi}", field=path)
    return path, (lo, hi)


def latin_hypercube(
    ranges: Mapping[str, tuple[float, float]], n: int, seed: int | None = None
) -> pd.DataFrame:
    """``n`` points spread over the ranges by a Latin hypercube (scipy.stats.qmc), one column per
    path. A range with integer ends gives integers (a GPU count).

    >>> latin_hypercube({"cluster.count": (1024, 2048)}, 4, seed=1)["cluster.count"].between(1024, 2048).all()
    np.True_
    """
    import pandas as pd
    from scipy.stats import qmc

    if not ranges:
        raise ScenarioError("give at least one PATH=LOW:HIGH range", field="lhs")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ScenarioError(f"expected a positive number of points, got {n!r}", field="lhs")
    if n > MAX_POINTS:
        raise ScenarioError(f"{n:,} points is more than the limit of {MAX_POINTS:,}", field="lhs")
    unit = qmc.LatinHypercube(d=len(ranges), seed=np.random.default_rng(seed)).random(n)
    cols: dict[str, Any] = {}
    for j, (path, (lo, hi)) in enumerate(ranges.items()):
        x = lo + unit[:, j] * (hi - lo)
        both_int = all(isinstance(v, int) and not isinstance(v, bool) for v in (lo, hi))
        cols[path] = np.rint(x).astype(np.int64) if both_int else x
    return pd.DataFrame(cols)


def read_points(source: str | Path) -> pd.DataFrame:
    """Explicit points from a CSV file: a header of field paths, then one point per row, each cell
    read as a YAML scalar (`2024-07` stays text, `3.8e25` is a number). For inputs that move
    together (a year, its hardware and its FLOP count), which a product of --set values cannot pair.
    """
    import csv

    import pandas as pd

    path = Path(source)
    try:
        with path.open(newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"cannot read the points file {str(path)!r}: {exc}", field="points") from None
    rows = [r for r in rows if any(c.strip() for c in r) and not r[0].lstrip().startswith("#")]
    if len(rows) < 2:
        raise ScenarioError(
            f"{str(path)!r} needs a header of field paths and one row per point", field="points"
        )
    header = [h.strip() for h in rows[0]]
    for h in header:
        parse_path(h)
    if len(rows) - 1 > MAX_POINTS:
        raise ScenarioError(
            f"{len(rows) - 1:,} points is more than the limit of {MAX_POINTS:,}", field="points"
        )
    cols: dict[str, list[Any]] = {h: [] for h in header}
    for n, r in enumerate(rows[1:], start=2):
        if len(r) != len(header):
            raise ScenarioError(f"line {n} has {len(r)} cells, the header {len(header)}", field="points")
        for h, cell in zip(header, r, strict=True):
            cols[h].append(parse_scalar(cell.strip(), h))
    return pd.DataFrame(cols)


def point_seed(seed: int, index: int) -> int:
    """The seed of point ``index`` of a sweep seeded with ``seed``: independent of partitioning.

    >>> point_seed(1, 0) == point_seed(1, 0) != point_seed(1, 1)
    True
    """
    state = np.random.SeedSequence(seed, spawn_key=(index,)).generate_state(4, np.uint32)
    return int.from_bytes(state.tobytes(), "little")


def partition_size(n_points: int, samples: int | None) -> int:
    """Points per partition: about PARTITION_TARGET_S of work, and at least MIN_PARTITIONS parts.

    >>> partition_size(6, None), partition_size(10_000, None), partition_size(1_000, 10_000)
    (1, 313, 32)
    """
    per_point = POINT_COST_S + (samples or 0) * TRIAL_COST_S
    by_cost = max(1, int(PARTITION_TARGET_S / per_point))
    return max(1, min(by_cost, math.ceil(n_points / MIN_PARTITIONS)))


# ---------------------------------------------------------------------------------------------
# The points
# ---------------------------------------------------------------------------------------------


class _Points:
    """The sweep's points as columns: ``paths`` and one tuple of values per point."""

    def __init__(self, grid: Any):
        import pandas as pd

        if isinstance(grid, pd.DataFrame):
            self.product = False
            self.names = [str(c) for c in grid.columns]
            self.columns = [list(grid[c].tolist()) for c in grid.columns]
            self.n = len(grid)
        elif isinstance(grid, Mapping):
            self.product = True
            self.names = [str(k) for k in grid]
            self.columns = []
            for k, v in grid.items():
                if isinstance(v, str | bytes) or not isinstance(v, Sequence | np.ndarray):
                    raise ScenarioError("expected a list of values", field=str(k))
                values = list(v)
                if not values:
                    raise ScenarioError("no values given", field=str(k))
                self.columns.append(values)
            self.n = math.prod(len(c) for c in self.columns)
        else:
            raise ScenarioError(
                "expected a mapping {path: [values]} or a pandas DataFrame of points", field="grid"
            )
        if not self.names:
            raise ScenarioError("nothing to sweep: give at least one PATH=V1,V2,...", field="grid")
        if len(set(self.names)) != len(self.names):
            raise ScenarioError("a field path is given twice", field="grid")
        self.paths = [parse_path(p) for p in self.names]
        # A column mixing numbers and text (2024 and 2025-06) is written as text throughout.
        self.as_text = [len({_kind(_cell(v)) for v in c}) > 1 for c in self.columns]
        if self.n > MAX_POINTS:
            raise ScenarioError(f"{self.n:,} points is more than the limit of {MAX_POINTS:,}", field="grid")
        if self.n == 0:
            raise ScenarioError("the grid has no points", field="grid")

    def rows(self, lo: int, hi: int) -> list[tuple[Any, ...]]:
        if not self.product:
            return list(zip(*(c[lo:hi] for c in self.columns), strict=True))
        # point i of the product, by mixed-radix digits (the last path varies fastest): O(1) per
        # point, so a partition near the end of a million-point grid is as cheap as the first
        out = []
        for i in range(lo, hi):
            digits = []
            for col in reversed(self.columns):
                i, k = divmod(i, len(col))
                digits.append(col[k])
            out.append(tuple(reversed(digits)))
        return out

    def column_values(self, j: int, lo: int, hi: int) -> list[Any]:
        cells = [_cell(r[j]) for r in self.rows(lo, hi)]
        return [str(c) for c in cells] if self.as_text[j] else cells

    def checks(self) -> Iterator[tuple[int, Any]]:
        """(column, value) pairs worth validating. Schema limits on numbers are bounds, so a
        numeric column checks its least and greatest value and its first non-integer (for an
        integer field); anything else checks each distinct value. Checking all 10,000 values of
        a grid would cost ~40% of the sweep itself."""
        for j, col in enumerate(self.columns):
            nums = [v for v in col if _kind(v) == "number"]
            if nums:
                yield j, min(nums)
                yield j, max(nums)
                frac = next((v for v in nums if isinstance(v, float) and not float(v).is_integer()), None)
                if frac is not None:
                    yield j, frac
            yield from ((j, v) for v in _distinct([v for v in col if _kind(v) != "number"]))

    def fingerprint(self) -> str:
        h = hashlib.blake2b(digest_size=16)
        h.update(repr((self.product, self.names)).encode())
        for c in self.columns:
            h.update(repr(c).encode())
        return h.hexdigest()


def _distinct(values: list[Any]) -> list[Any]:
    seen: dict[str, Any] = {}
    for v in values:
        seen.setdefault(repr(v), v)
    return list(seen.values())


def _kind(v: Any) -> str:
    return "number" if isinstance(v, int | float) and not isinstance(v, bool) else type(v).__name__


def _cell(v: Any) -> Any:
    """An input value as a table cell: numbers and strings as they are, anything else as text."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, bool | int | float | str):
        return v
    return json.dumps(v, default=str) if isinstance(v, dict | list) else str(v)


# ---------------------------------------------------------------------------------------------
# One partition (runs on a worker)
# ---------------------------------------------------------------------------------------------


def _flatten(results: Mapping[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    for k, v in results.items():
        if isinstance(v, Mapping):
            for q in ("mean", "p5", "p50", "p95"):
                out[f"{k}_{q}"] = float(v[q])
        else:
            out[k] = float(v)
    return out


def run_point(
    raw: Mapping[str, Any],
    paths: Sequence[FieldPath],
    values: Sequence[Any],
    samples: int | None,
    seed: int | None,
) -> dict[str, Any]:
    """One point: its results flattened to columns, then its warnings and error (if any)."""
    from ..chain import estimate

    scn = dict(raw)  # copy only the sections a path touches: the chain does not mutate its input
    for section in {p[0] for p in paths}:
        if section in scn:
            scn[section] = copy.deepcopy(scn[section])
    for p, v in zip(paths, values, strict=True):
        set_path(scn, p, copy.deepcopy(v))
    try:
        est = estimate(scn, samples=samples, seed=seed)
    except (TruecostError, UnknownIdError) as exc:  # this combination of values is not valid
        return {"warnings": "", "error": str(exc)}
    return _flatten(est.results) | {"warnings": "; ".join(est.warnings), "error": ""}


def run_partition(
    raw: Mapping[str, Any],
    paths: Sequence[FieldPath],
    rows: Sequence[Sequence[Any]],
    start: int,
    samples: int | None,
    seed: int | None,
) -> list[dict[str, Any]]:
    """The points ``start, start + 1, ...`` of a sweep (one Dask task)."""
    out = []
    for i, values in enumerate(rows):
        s = point_seed(seed, start + i) if samples is not None and seed is not None else None
        out.append(run_point(raw, paths, values, samples, s))
    return out


# ---------------------------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------------------------


def _validate(raw: dict[str, Any], pts: _Points) -> None:
    """Fail before any work on a path or value the chain cannot take, naming it.

    The first point runs through the whole chain; every other value to check is set into it and
    validated against the schema only (`prepare`, ~0.2 ms, a seventh of a point estimate), so a
    10,000-value grid costs ~2 s of checks, not a second sweep.
    """
    from ..chain import estimate, prepare

    first = pts.rows(0, 1)[0]
    base = copy.deepcopy(raw)
    for p, v in zip(pts.paths, first, strict=True):
        set_path(base, p, copy.deepcopy(v))

    def check(run: Callable[[Any], Any], scn: dict[str, Any], j: int, v: Any) -> None:
        try:
            run(scn)
        except (TruecostError, UnknownIdError) as exc:
            field = getattr(exc, "field", None)
            inner = str(exc).removeprefix(f"{field}: ") if field else str(exc)
            at = f" (at {field})" if field and field != pts.names[j] else ""
            raise ScenarioError(f"value {v!r}{at}: {inner}", field=pts.names[j]) from None

    for j, v in pts.checks():
        scn = copy.deepcopy(base)
        set_path(scn, pts.paths[j], copy.deepcopy(v))
        check(prepare, scn, j, v)
    try:
        estimate(base)
    except (TruecostError, UnknownIdError) as exc:
        shown = ", ".join(f"{n}={v!r}" for n, v in zip(pts.names, first, strict=True))
        raise ScenarioError(
            f"the first point ({shown}) fails: {exc}", field=getattr(exc, "field", None) or pts.names[0]
        ) from None


def _sidecar(output: Path) -> Path:
    return output.with_name(output.name + ".parts")


def _manifest(
    raw: dict[str, Any], pts: _Points, samples: int | None, seed: int | None, size: int
) -> dict[str, Any]:
    scen = hashlib.blake2b(json.dumps(raw, sort_keys=True, default=str).encode(), digest_size=16)
    return {
        "scenario": scen.hexdigest(),
        "points": pts.fingerprint(),
        "n_points": pts.n,
        "samples": samples,
        "seed": seed,
        "partition_size": size,
    }


def _part_path(parts: Path, i: int) -> Path:
    return parts / f"part-{i:06d}.parquet"


class _Writer:
    """Turns a finished partition into a table and writes it as one Parquet part."""

    def __init__(self, pts: _Points, size: int, parts: Path | None):
        self.pts, self.size, self.parts = pts, size, parts
        self.tables: dict[int, pd.DataFrame] = {}

    def add(self, i: int, rows: list[dict[str, Any]]) -> None:
        import pandas as pd

        lo = i * self.size
        hi = lo + len(rows)
        inputs = {name: self.pts.column_values(j, lo, hi) for j, name in enumerate(self.pts.names)}
        table = pd.concat(
            [
                pd.DataFrame(inputs),
                pd.DataFrame.from_records(rows).drop(columns=list(inputs), errors="ignore"),
            ],
            axis=1,
        )
        table.index = pd.RangeIndex(lo, hi)
        if self.parts is not None:
            tmp = _part_path(self.parts, i).with_suffix(".tmp")
            table.to_parquet(tmp)
            os.replace(tmp, _part_path(self.parts, i))  # a part is either whole or absent
        self.tables[i] = table


def _tail_columns(df: pd.DataFrame) -> pd.DataFrame:
    """Inputs, then results, then warnings (and errors, when a point failed)."""
    tail = ["warnings"] + (["error"] if (df["error"].fillna("") != "").any() else [])
    df["warnings"] = df["warnings"].fillna("")
    return df[[c for c in df.columns if c not in ("warnings", "error")] + tail]


def sweep(
    scenario: Any,
    grid: Any,
    samples: int | None = None,
    seed: int | None = None,
    scheduler: Any = None,
    *,
    output: str | Path | None = None,
    resume: bool = False,
    partition: int | None = None,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Run ``scenario`` at every point of ``grid``; one row per point.

    scenario : preset name, YAML path or dict.
    grid : {path: [values]} (their product), or a pandas DataFrame of explicit points (one
        column per path; `latin_hypercube` makes one).
    samples, seed : Monte Carlo trials per point; point i is seeded from (seed, i).
    scheduler : None runs locally (see `local_scheduler`: Dask's process pool when a core is
        idle and the sweep is large, else this process); "sync" | "threads" | "processes" pick a local Dask scheduler; any other string
        is a Dask distributed scheduler address (tcp://host:8786); a distributed.Client is used as is.
    output : a .csv or .parquet file to write; parts go to ``output.parts/`` as partitions finish.
    resume : skip the partitions already in ``output.parts/`` (same scenario, grid, samples, seed).
    partition : points per Dask task; default `partition_size`.
    progress : called with (points done, points in all) as partitions finish.

    Columns: the varied paths, every result (``_mean``, ``_p5``, ``_p50``, ``_p95`` with samples),
    then ``warnings`` (and ``error`` for points whose combination of values is invalid).
    """
    import pandas as pd

    from ..scenario import load_raw

    if samples is not None and (isinstance(samples, bool) or not isinstance(samples, int) or samples < 2):
        raise ScenarioError(f"expected an integer >= 2, got {samples!r}", field="samples")
    raw = copy.deepcopy(load_raw(scenario))
    pts = _Points(grid)
    if samples is not None and pts.n * samples > MAX_TRIALS:
        raise ScenarioError(
            f"{pts.n:,} points x {samples:,} trials is more than the limit of {MAX_TRIALS:.0e} evaluations",
            field="samples",
        )
    if partition is not None and (
        isinstance(partition, bool) or not isinstance(partition, int) or partition < 1
    ):
        raise ScenarioError(f"expected a positive integer, got {partition!r}", field="partition")
    out_path = Path(output) if output is not None else None
    if out_path is not None and out_path.suffix.lower() not in (".csv", ".parquet"):
        raise ScenarioError(f"expected a .csv or .parquet file, got {str(out_path)!r}", field="output")
    _validate(raw, pts)

    size = partition or partition_size(pts.n, samples)
    parts_dir = _sidecar(out_path) if out_path is not None else None
    done: set[int] = set()
    if parts_dir is not None:
        seed, done = _prepare_parts(parts_dir, raw, pts, samples, seed, size, resume)
    if samples is not None and seed is None:  # one root seed, so points still differ and parts agree
        seed = int(np.random.SeedSequence().entropy)  # type: ignore[arg-type]
    if parts_dir is not None:
        (parts_dir / "manifest.json").write_text(json.dumps(_manifest(raw, pts, samples, seed, size)))

    n_parts = math.ceil(pts.n / size)
    writer = _Writer(pts, size, parts_dir)
    for i in sorted(done):
        writer.tables[i] = pd.read_parquet(_part_path(parts_dir, i))  # type: ignore[arg-type]
    finished = sum(len(t) for t in writer.tables.values())
    todo = [i for i in range(n_parts) if i not in done]
    tasks = [(i, pts.rows(i * size, min(pts.n, (i + 1) * size))) for i in todo]

    def finish(i: int, rows: list[dict[str, Any]]) -> None:
        nonlocal finished
        writer.add(i, rows)
        finished += len(rows)
        if progress is not None:
            progress(finished, pts.n)

    est_s = len(todo) * size * (POINT_COST_S + (samples or 0) * TRIAL_COST_S)
    try:
        if progress is not None:
            progress(finished, pts.n)
        _execute(raw, pts.paths, tasks, size, samples, seed, scheduler, est_s, finish)
    except BaseException:
        # keep finished parts for --resume; a sweep that finished none leaves nothing behind
        if parts_dir is not None and not any(parts_dir.glob("part-*.parquet")):
            shutil.rmtree(parts_dir, ignore_errors=True)
        raise

    df = pd.concat([writer.tables[i] for i in range(n_parts)], axis=0, sort=False)
    df = _tail_columns(df.reset_index(drop=True))
    df.attrs["seed"] = seed
    df.attrs["samples"] = samples
    if out_path is not None:
        _write_table(df, out_path)
        shutil.rmtree(parts_dir)  # type: ignore[arg-type]
    return df


def _write_table(df: pd.DataFrame, path: Path) -> None:
    """Write the table all or nothing (`truecost.files.write_atomically`): on a failure the old
    `path`, if any, is left as it was; the parts stay for --resume."""

    def write(tmp: Path) -> None:
        if path.suffix.lower() == ".csv":
            df.to_csv(tmp, index=False)
        else:
            df.to_parquet(tmp, index=False)

    write_atomically(path, write)


def _prepare_parts(
    parts: Path,
    raw: dict[str, Any],
    pts: _Points,
    samples: int | None,
    seed: int | None,
    size: int,
    resume: bool,
) -> tuple[int | None, set[int]]:
    """Check or create the sidecar directory; the finished partitions when resuming."""
    manifest_file = parts / "manifest.json"
    if not parts.exists():
        parts.mkdir(parents=True)
        return seed, set()
    if not resume:
        raise ScenarioError(
            f"{parts} holds the parts of an unfinished sweep: pass --resume to continue it, or delete it",
            field="resume",
        )
    try:
        old = json.loads(manifest_file.read_text())
    except (OSError, ValueError):
        raise ScenarioError(
            f"{manifest_file} is missing or unreadable; delete {parts}", field="resume"
        ) from None
    if seed is None:
        seed = old.get("seed")
    want = _manifest(raw, pts, samples, seed, old.get("partition_size", size))
    if want != old:
        diff = [k for k in want if want[k] != old.get(k)]
        raise ScenarioError(
            f"{parts} comes from a different sweep ({', '.join(diff)} differ); delete it to start again",
            field="resume",
        )
    if size != old["partition_size"]:
        raise ScenarioError("the parts were written with another partition size", field="partition")
    done = {int(p.stem.split("-")[1]) for p in parts.glob("part-*.parquet")}
    return seed, done


def local_scheduler(est_s: float) -> str:
    """The local Dask scheduler for a sweep of about ``est_s`` seconds of chain work.

    Measured with bench/bench_sweep.py and interleaved A/B runs on the 2-core VM (shared, load
    8-14): threads run no faster than this process alone (the chain is Python: pydantic and the
    stages hold the GIL); worker processes only pay off with idle cores (with none idle, 3,000
    points took 6.8 s on the process pool vs 4.3 s in-process, and a 2-worker LocalCluster ran
    1.3-1.4x a 1-worker one). So: processes when a core is idle and the work outweighs starting
    them, else this process. ``--scheduler`` (a Dask cluster) is the way to scale further.
    """
    cpus = os.cpu_count() or 1
    idle = cpus - os.getloadavg()[0] if hasattr(os, "getloadavg") else cpus
    return "processes" if est_s >= LOCAL_INLINE_S and cpus > 1 and idle >= 1 else "sync"


def _execute(
    raw: dict[str, Any],
    paths: list[FieldPath],
    tasks: list[tuple[int, list[tuple[Any, ...]]]],
    size: int,
    samples: int | None,
    seed: int | None,
    scheduler: Any,
    est_s: float,
    finish: Callable[[int, list[dict[str, Any]]], None],
) -> None:
    if not tasks:
        return
    if scheduler is None:
        scheduler = local_scheduler(est_s)
    if isinstance(scheduler, str) and scheduler in ("sync", "threads", "processes"):
        _execute_local(raw, paths, tasks, size, samples, seed, scheduler, finish)
    else:
        _execute_distributed(raw, paths, tasks, size, samples, seed, scheduler, finish)


def _execute_local(
    raw: dict[str, Any],
    paths: list[FieldPath],
    tasks: list[tuple[int, list[tuple[Any, ...]]]],
    size: int,
    samples: int | None,
    seed: int | None,
    scheduler: str,
    finish: Callable[[int, list[dict[str, Any]]], None],
) -> None:
    import dask
    from dask.callbacks import Callback

    keys = {}
    parts = []
    for i, rows in tasks:
        name = f"truecost-sweep-part-{i}"
        keys[name] = i
        parts.append(
            dask.delayed(run_partition, pure=False)(
                raw, paths, rows, i * size, samples, seed, dask_key_name=name
            )
        )

    def posttask(key: Any, result: Any, dsk: Any, state: Any, worker_id: Any) -> None:
        if key in keys:  # the local schedulers call this in this thread, as each task finishes
            finish(keys[key], result)

    # Fork where the platform has it: a worker then starts in ~10 ms with truecost already
    # imported (spawn re-imports it, ~1 s per worker, and re-runs a script lacking a main guard).
    # The workers run only the pure chain, so no lock held by another thread matters to them.
    context = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    with Callback(posttask=posttask), dask.config.set({"multiprocessing.context": context}):
        dask.compute(*parts, scheduler=scheduler)


def _execute_distributed(
    raw: dict[str, Any],
    paths: list[FieldPath],
    tasks: list[tuple[int, list[tuple[Any, ...]]]],
    size: int,
    samples: int | None,
    seed: int | None,
    scheduler: Any,
    finish: Callable[[int, list[dict[str, Any]]], None],
) -> None:
    from distributed import Client, as_completed

    own = not isinstance(scheduler, Client)
    if own:
        try:
            client = Client(str(scheduler), timeout="10s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise ScenarioError(
                f"cannot reach the Dask scheduler {scheduler!r}: {exc}", field="scheduler"
            ) from None
    else:
        client = scheduler
    try:
        [raw_f] = client.scatter([raw], broadcast=True)
        futures = {
            client.submit(run_partition, raw_f, paths, rows, i * size, samples, seed, pure=False): i
            for i, rows in tasks
        }
        try:
            # A worker that dies mid-task is replaced and its partition rerun by the scheduler
            # (distributed.scheduler.allowed-failures, default 3).
            for fut in as_completed(futures):
                finish(futures[fut], fut.result())
        finally:
            client.cancel(list(futures))
    finally:
        if own:
            client.close()
