"""Read the shipped catalogs, check their schema and convert units to SI once.

The files under `data/` are tidy tables with values as their sources publish them (TFLOPS, GB,
TB/s, W, GB/s) and a `source` and `accessed` on every row. The `parse_*` functions check a file's
text and build typed rows; the public accessors load each shipped file once (`functools.cache`)
and hand out copies, so a caller cannot change what the next caller sees.
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import io
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict
from functools import cache
from typing import Any

import yaml
from pydantic import ValidationError

from ..architecture import Architecture
from ..units import BYTE_PER_TB, gb_to_byte, gbit_per_s_to_byte_per_s, tflops_to_flop_per_s
from .carbon_tables import embodied_catalog_rows, grid_catalog_rows
from .data_files import data_text
from .entries import ModelEntry, TrainingRun
from .schema import Accelerator, UnknownIdError
from .stacks import stack_rows

ACCELERATORS_FILE = "accelerators.csv"
MODELS_FILE = "models.yaml"
RUNS_FILE = "runs.csv"
SERVING_CALIBRATION_FILE = "serving_calibration.yaml"

# Lower-case words joined by '-' or '.', e.g. 'h100-sxm', 'llama-3.1-405b', 'qwen2.5-72b'.
ID_PATTERN = re.compile(r"^[a-z0-9]+(?:[.-][a-z0-9]+)*$")
PRECISIONS = ("bf16", "fp16", "fp8", "tf32", "fp32")
RUN_STAGES = ("full", "pre-training", "context-extension", "post-training", "rl-post-training")

# Published column -> key of Accelerator.peak_flop_per_s (dense, not sparse, TFLOPS).
_PEAK_COLUMNS = {
    "bf16": "dense_bf16_tflops",
    "fp16": "dense_fp16_tflops",
    "fp8": "dense_fp8_tflops",
    "fp4": "dense_fp4_tflops",
}

# Column types of the tidy tables; every other column is text. Numbers must be positive.
_ACCELERATOR_TYPES: dict[str, type] = {
    "year": int,
    "dense_bf16_tflops": float,
    "dense_fp16_tflops": float,
    "dense_fp8_tflops": float,
    "dense_fp4_tflops": float,
    "memory_gb": float,
    "hbm_bandwidth_tbs": float,
    "tdp_w": float,
    "scale_up_bw_gbs": float,
    "scale_out_gbit_per_s": float,
    "gpus_per_node": int,
    "unit_price_usd": float,
    "rental_usd_per_gpu_hour": float,
}
_ACCELERATOR_REQUIRED = ("id", "name", "vendor", "year", "memory_gb", "hbm_bandwidth_tbs", "gpus_per_node")
# Columns that become Accelerator fields directly or through a conversion; the rest go to `extra`.
_ACCELERATOR_TEXT = (
    "id",
    "name",
    "vendor",
    "unit_price_date",
    "unit_price_source",
    "rental_source",
    "source",
    "accessed",
    "notes",
    "verification",
    "release_date",
    "release_date_source",
    "price_family",
)

_RUN_TYPES: dict[str, type] = {
    "year": int,
    "params_total": float,
    "params_active": float,
    "tokens": float,
    "seq_len": int,
    "n_accelerators": int,
    "gpu_hours": float,
    "wall_clock_days": float,
    "reported_flops": float,
    "reported_mfu": float,
    "reported_mfu_low": float,
    "reported_mfu_high": float,
    "reported_cost_usd": float,
    "rental_usd_per_gpu_hour": float,
}
_RUN_REQUIRED = ("id", "model", "org", "year", "stage")
# TrainingRun text fields that are "" (not None) when empty.
_RUN_TEXT = (
    "model",
    "org",
    "hardware",
    "stage",
    "precision",
    "caveat",
    "source",
    "accessed",
    "notes",
    "verification",
)

# models.yaml keys that are provenance, not Architecture fields.
_MODEL_META = (
    "source",
    "accessed",
    "verification",
    "notes",
    "published_params_total",
    "published_params_active",
)


class CatalogError(ValueError):
    """A shipped or user-supplied catalog file breaks the schema; the message names file, row and column."""


# ---- cell parsing -------------------------------------------------------------------------------
def _where(file: str, row_id: str, column: str | None = None) -> str:
    return f"{file}: row {row_id!r}" + (f", column {column!r}" if column else "")


def _number(text: str, kind: type, where: str) -> int | float | None:
    """A published number; an empty cell means unknown (None). Must be finite and > 0."""
    text = text.strip()
    if not text:
        return None
    try:
        value: int | float = int(text) if kind is int else float(text)
    except ValueError:
        raise CatalogError(f"{where}: {text!r} is not a {'whole ' if kind is int else ''}number") from None
    if not math.isfinite(value) or value <= 0:
        raise CatalogError(f"{where}: {text!r} must be a positive number")
    return value


def _iso_date(text: str, where: str, *, partial: bool = False) -> str:
    """YYYY-MM-DD; with `partial`, YYYY-MM or YYYY too (a price dated only to the month)."""
    try:
        if partial and re.fullmatch(r"\d{4}(-\d{2})?", text):
            dt.date.fromisoformat((text + "-01-01")[:10])
        else:
            dt.date.fromisoformat(text)
            if len(text) != 10:
                raise ValueError(text)
    except ValueError:
        raise CatalogError(f"{where}: {text!r} is not an ISO date (YYYY-MM-DD)") from None
    return text


def _check_row(row: Mapping[str, str], file: str, required: Iterable[str]) -> str:
    """Id shape, required cells and provenance of one raw row; returns the id."""
    row_id = (row.get("id") or "").strip()
    if not ID_PATTERN.match(row_id):
        raise CatalogError(f"{file}: id {row_id!r} must be lower-case words joined by '-' or '.'")
    for column in required:
        if not (row.get(column) or "").strip():
            raise CatalogError(f"{_where(file, row_id, column)}: required cell is empty")
    for column in ("source", "accessed"):
        if not (row.get(column) or "").strip():
            raise CatalogError(
                f"{_where(file, row_id, column)}: every catalog row needs a {column} (a number with no source "
                "is not allowed)"
            )
    _iso_date(row["accessed"].strip(), _where(file, row_id, "accessed"))
    return row_id


def _read_csv(text: str, file: str, columns: Iterable[str]) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in columns if c not in (reader.fieldnames or [])]
    if missing:
        raise CatalogError(f"{file}: missing columns {', '.join(missing)}")
    rows = []
    for row in reader:
        if None in row:  # more cells than header columns
            raise CatalogError(f"{file}: row {row.get('id')!r} has more cells than the header")
        rows.append({k: (v or "").strip() for k, v in row.items()})
    return rows


def _unique(ids: list[str], file: str) -> None:
    seen: set[str] = set()
    for row_id in ids:
        if row_id in seen:
            raise CatalogError(f"{file}: duplicate id {row_id!r}")
        seen.add(row_id)


def _typed(row: Mapping[str, str], types: Mapping[str, type], file: str, row_id: str) -> dict[str, Any]:
    """A raw row with numbers parsed and empty cells as None: JSON-ready, units as published."""
    out: dict[str, Any] = {}
    for column, text in row.items():
        if column in types:
            out[column] = _number(text, types[column], _where(file, row_id, column))
        else:
            out[column] = text or None
    return out


# ---- accelerators -------------------------------------------------------------------------------
def parse_accelerator_table(text: str, file: str = ACCELERATORS_FILE) -> list[dict[str, Any]]:
    """Check accelerators.csv text; rows typed, units as published (TFLOPS, GB, TB/s, W, GB/s)."""
    raw = _read_csv(text, file, [*_ACCELERATOR_REQUIRED, *_PEAK_COLUMNS.values(), "source", "accessed"])
    rows = []
    for r in raw:
        row_id = _check_row(r, file, _ACCELERATOR_REQUIRED)
        row = _typed(r, _ACCELERATOR_TYPES, file, row_id)
        if all(row[c] is None for c in _PEAK_COLUMNS.values()):
            raise CatalogError(
                f"{_where(file, row_id)}: no dense peak in any of {', '.join(_PEAK_COLUMNS.values())}"
            )
        bf16, fp8 = row["dense_bf16_tflops"], row["dense_fp8_tflops"]
        if bf16 is not None and fp8 is not None and fp8 < bf16:
            raise CatalogError(
                f"{_where(file, row_id, 'dense_fp8_tflops')}: {fp8} is below the BF16 peak {bf16}"
            )
        fp4 = row.get("dense_fp4_tflops")
        if fp4 is not None and fp8 is not None and fp4 < fp8:
            raise CatalogError(
                f"{_where(file, row_id, 'dense_fp4_tflops')}: {fp4} is below the FP8 peak {fp8}"
            )
        if (fp4 is not None or row.get("scale_out_gbit_per_s") is not None) and not row.get("serving_source"):
            raise CatalogError(
                f"{_where(file, row_id, 'serving_source')}: an FP4 peak or scale-out bandwidth needs its source"
            )
        for column in ("unit_price_date", "release_date"):
            if row.get(column):
                _iso_date(row[column], _where(file, row_id, column), partial=True)
        rows.append(row)
    _unique([r["id"] for r in rows], file)
    return rows


def accelerator_from_row(row: Mapping[str, Any]) -> Accelerator:
    """Build an Accelerator from a typed row, converting published units to SI (the one place)."""
    peaks = {
        precision: tflops_to_flop_per_s(row[column])
        for precision, column in _PEAK_COLUMNS.items()
        if row.get(column) is not None
    }
    scale_up = row.get("scale_up_bw_gbs")
    scale_out = row.get("scale_out_gbit_per_s")
    extra = {
        k: str(v)
        for k, v in row.items()
        if v is not None and k not in _ACCELERATOR_TYPES and k not in _ACCELERATOR_TEXT
    }
    return Accelerator(
        id=row["id"],
        name=row["name"],
        vendor=row["vendor"],
        year=row["year"],
        peak_flop_per_s=peaks,
        memory_byte=gb_to_byte(row["memory_gb"]),
        hbm_bandwidth_byte_per_s=row["hbm_bandwidth_tbs"] * BYTE_PER_TB,  # TB/s -> byte/s
        tdp_w=row.get("tdp_w"),
        scale_up_byte_per_s=None if scale_up is None else gb_to_byte(scale_up),  # GB/s -> byte/s
        scale_out_byte_per_s=None if scale_out is None else gbit_per_s_to_byte_per_s(scale_out),
        gpus_per_node=row["gpus_per_node"],
        unit_price_usd=row.get("unit_price_usd"),
        unit_price_date=row.get("unit_price_date") or "",
        unit_price_source=row.get("unit_price_source") or "",
        rental_usd_per_gpu_hour=row.get("rental_usd_per_gpu_hour"),
        rental_source=row.get("rental_source") or "",
        source=row["source"],
        accessed=row["accessed"],
        notes=row.get("notes") or "",
        verification=row.get("verification") or "",
        release_date=row.get("release_date") or "",
        release_date_source=row.get("release_date_source") or "",
        price_family=row.get("price_family") or row["id"],
        extra=extra,
    )


def parse_accelerators(text: str, file: str = ACCELERATORS_FILE) -> dict[str, Accelerator]:
    """Check accelerators.csv text and build Accelerator objects (SI units), keyed by id."""
    return {row["id"]: accelerator_from_row(row) for row in parse_accelerator_table(text, file)}


@cache
def _accelerator_table() -> tuple[dict[str, Any], ...]:
    return tuple(parse_accelerator_table(data_text(ACCELERATORS_FILE)))


@cache
def _accelerators() -> dict[str, Accelerator]:
    return {row["id"]: accelerator_from_row(row) for row in _accelerator_table()}


# ---- models -------------------------------------------------------------------------------------
class _UniqueKeyLoader(yaml.SafeLoader):
    """A YAML loader that rejects a repeated key instead of silently keeping the last one."""


def _construct_unique_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise CatalogError(f"duplicate key {key!r} at line {key_node.start_mark.line + 1}")
        seen.add(key)
    return loader.construct_mapping(node, deep=True)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping)


def _text(value: object) -> str:
    if isinstance(value, dt.date):  # an unquoted YAML date
        return value.isoformat()
    return "" if value is None else str(value).strip()


def _published(value: object, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise CatalogError(f"{where}: {value!r} must be a positive number")
    return float(value)


def parse_models(text: str, file: str = MODELS_FILE) -> dict[str, ModelEntry]:
    """Check models.yaml text (id -> Architecture fields + provenance) and build ModelEntry objects."""
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise CatalogError(f"{file}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise CatalogError(f"{file}: expected a mapping of model id -> entry")
    entries: dict[str, ModelEntry] = {}
    for model_id, body in data.items():
        if not isinstance(body, dict):
            raise CatalogError(f"{file}: entry {model_id!r} must be a mapping")
        meta = {k: body.get(k) for k in _MODEL_META}
        raw = {"id": str(model_id), "source": _text(meta["source"]), "accessed": _text(meta["accessed"])}
        row_id = _check_row(raw, file, ())
        fields = {k: v for k, v in body.items() if k not in _MODEL_META}
        fields.setdefault("name", row_id)
        fields["source"] = raw["source"]
        try:
            arch = Architecture(**fields)
        except ValidationError as exc:
            raise CatalogError(f"{_where(file, row_id)}: {exc}") from None
        entries[row_id] = ModelEntry(
            id=row_id,
            arch=arch,
            source=raw["source"],
            accessed=raw["accessed"],
            verification=_text(meta["verification"]),
            notes=_text(meta["notes"]),
            published_params_total=_published(meta["published_params_total"], _where(file, row_id)),
            published_params_active=_published(meta["published_params_active"], _where(file, row_id)),
        )
    return entries


@cache
def _models() -> dict[str, ModelEntry]:
    return parse_models(data_text(MODELS_FILE))


# ---- runs ---------------------------------------------------------------------------------------
def parse_runs(
    text: str,
    file: str = RUNS_FILE,
    *,
    model_ids: Iterable[str] | None = None,
    accelerator_ids: Iterable[str] | None = None,
) -> dict[str, TrainingRun]:
    """Check runs.csv text and build TrainingRun objects keyed by id.

    With `model_ids` / `accelerator_ids`, every non-empty reference must be one of them.
    """
    raw = _read_csv(
        text, file, [*_RUN_REQUIRED, *_RUN_TYPES, "model_id", "accelerator_id", "source", "accessed"]
    )
    known = {"model_id": model_ids, "accelerator_id": accelerator_ids}
    runs: dict[str, TrainingRun] = {}
    for r in raw:
        row_id = _check_row(r, file, _RUN_REQUIRED)
        row = _typed(r, _RUN_TYPES, file, row_id)
        if row["stage"] not in RUN_STAGES:
            raise CatalogError(
                f"{_where(file, row_id, 'stage')}: {row['stage']!r}; valid: {', '.join(RUN_STAGES)}"
            )
        if row.get("mfu_basis") is not None and row["mfu_basis"] not in PRECISIONS:
            raise CatalogError(
                f"{_where(file, row_id, 'mfu_basis')}: {row['mfu_basis']!r}; valid: {', '.join(PRECISIONS)}"
            )
        for column in ("reported_mfu", "reported_mfu_low", "reported_mfu_high"):
            if row[column] is not None and row[column] > 1:
                raise CatalogError(f"{_where(file, row_id, column)}: an MFU is a fraction <= 1")
        for column, valid in known.items():
            if valid is not None and row.get(column) is not None and row[column] not in set(valid):
                raise CatalogError(f"{_where(file, row_id, column)}: {row[column]!r} is not in the catalog")
        if row_id in runs:
            raise CatalogError(f"{file}: duplicate id {row_id!r}")
        fields: dict[str, Any] = {name: row.get(name) for name in TrainingRun.__dataclass_fields__}
        fields.update({name: row.get(name) or "" for name in _RUN_TEXT})
        runs[row_id] = TrainingRun(**fields)
    return runs


@cache
def _runs() -> dict[str, TrainingRun]:
    return parse_runs(data_text(RUNS_FILE), model_ids=_models(), accelerator_ids=_accelerators())


# ---- serving calibration ------------------------------------------------------------------------
@cache
def _serving_calibration() -> dict[str, Any]:
    data = yaml.safe_load(data_text(SERVING_CALIBRATION_FILE))
    if not isinstance(data, dict) or not {"fitted", "source", "accessed", "leave_one_out"} <= set(data):
        raise CatalogError(
            f"{SERVING_CALIBRATION_FILE}: needs fitted, leave_one_out, source and accessed "
            "(rewrite it with python -m truecost.stages.serving.calibrate --write)"
        )
    return data


def serving_calibration() -> dict[str, Any]:
    """The fitted serving efficiencies with the data they were fitted on and their leave-one-out
    errors (written by ``python -m truecost.stages.serving.calibrate --write``)."""
    return copy.deepcopy(_serving_calibration())


# ---- public accessors ---------------------------------------------------------------------------
def _lookup(kind: str, table: Mapping[str, Any], item_id: str, valid: str = "ids") -> Any:
    try:
        return table[item_id]
    except (KeyError, TypeError):
        raise UnknownIdError(
            f"unknown {kind} {item_id!r}; valid {valid}: {', '.join(sorted(table))}"
        ) from None


def accelerators() -> dict[str, Accelerator]:
    """The accelerator catalog, id -> Accelerator (SI units). Loaded once."""
    return dict(_accelerators())


def get_accelerator(accelerator_id: str) -> Accelerator:
    """One accelerator; an unknown id raises UnknownIdError listing the valid ids."""
    return _lookup("accelerator", _accelerators(), accelerator_id)  # type: ignore[no-any-return]


def models() -> dict[str, ModelEntry]:
    """The model catalog, id -> ModelEntry. Loaded once."""
    return dict(_models())


def get_model(model_id: str) -> ModelEntry:
    """One model; an unknown id raises UnknownIdError listing the valid ids."""
    return _lookup("model", _models(), model_id)  # type: ignore[no-any-return]


def runs() -> dict[str, TrainingRun]:
    """The published training runs, id -> TrainingRun. Loaded once."""
    return dict(_runs())


def get_run(run_id: str) -> TrainingRun:
    """One training run; an unknown id raises UnknownIdError listing the valid ids."""
    return _lookup("run", _runs(), run_id)  # type: ignore[no-any-return]


# ---- JSON-ready rows (`truecost catalog KIND --json`) ----------------------------------------
def _hardware_rows() -> list[dict[str, Any]]:
    # Units as published: the column names carry them (TFLOPS, GB, TB/s, W, GB/s).
    return [dict(row) for row in _accelerator_table()]


def _model_rows() -> list[dict[str, Any]]:
    rows = []
    for entry in _models().values():
        arch = entry.arch.model_dump(mode="json", exclude={"source"})
        rows.append(
            {
                "id": entry.id,
                **arch,
                "params_total": entry.arch.params_total,
                "params_active": entry.arch.params_active,
                "published_params_total": entry.published_params_total,
                "published_params_active": entry.published_params_active,
                "source": entry.source,
                "accessed": entry.accessed,
                "verification": entry.verification,
                "notes": entry.notes,
            }
        )
    return rows


def _run_rows() -> list[dict[str, Any]]:
    return [asdict(run) for run in _runs().values()]


def _rental_price_rows() -> list[dict[str, Any]]:
    from .prices import price_rows  # prices.py reads the accelerator table through this module

    return price_rows()


def _hardware_price_rows() -> list[dict[str, Any]]:
    from .prices import hardware_price_rows

    return hardware_price_rows()


CATALOG_KINDS: dict[str, Callable[[], list[dict[str, Any]]]] = {
    "hardware": _hardware_rows,
    "models": _model_rows,
    "runs": _run_rows,
    "stacks": lambda: stack_rows(),
    "grid": grid_catalog_rows,
    "embodied": embodied_catalog_rows,
    "prices": _rental_price_rows,
    "hardware-prices": _hardware_price_rows,
}


def catalog_rows(kind: str) -> list[dict[str, Any]]:
    """JSON-ready rows of one catalog (`hardware`, `models`, `runs`, `stacks`, `grid`, `embodied`,
    `prices` (dated rental prices by basis) or `hardware-prices` (dated purchase prices)), each with
    its source and accessed date.

    >>> catalog_rows("hardware")[0]["id"]
    'v100'
    """
    rows = _lookup("catalog kind", CATALOG_KINDS, kind, "kinds")()
    return copy.deepcopy(rows)  # type: ignore[no-any-return]
