"""Grid carbon intensity, embodied carbon and measured device power (`data/*.csv`).

- `grid_carbon_intensity.csv`: location-based grid intensity by region and year, as Electricity
  Maps, Ember and US EPA eGRID publish it (gCO2e/kWh), one row per region, year and dataset.
- `embodied_carbon.csv`: manufacturing (cradle-to-gate) CO2e of accelerators, baseboards and
  servers (kg), with how many accelerators a figure covers and what it includes (`boundary`).
- `measured_power.csv`: measured average system power per device during training (W), used
  instead of TDP x server factor x utilisation where a publication measured it (TPU v4).

Values are stored as published; a row without `source` and `accessed` is rejected. The loaders
hand out frozen rows; the lookups explain what they picked (nearest year, dataset) so a stage
can record it as an assumption.

>>> round(grid_intensity("France", 2024).g_co2e_per_kwh), round(grid_intensity("China", 2024).g_co2e_per_kwh)
(33, 513)
>>> grid_intensity("france", 2019).year, grid_intensity("France", 2019).year_note
(2021, 'no France row for 2019: nearest year 2021 used')
>>> embodied_per_accelerator("h100-sxm", 8).kg_co2e
462.5
>>> measured_power("tpu-v4").watts
378.5
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from .data_files import data_text
from .schema import UnknownIdError

GRID_FILE = "grid_carbon_intensity.csv"
EMBODIED_FILE = "embodied_carbon.csv"
MEASURED_POWER_FILE = "measured_power.csv"
ALIASES_FILE = "grid_region_aliases.csv"
EMISSIONS_VALIDATION_FILE = "validation/emissions.csv"

# Which dataset a region-year lookup takes when several publish that year, best first.
# Electricity Maps: consumption-based (imports traced) with lifecycle factors, every year 2021-2025
# and the US balancing areas, so one convention across regions; Ember: generation-based, countries
# only; eGRID: US subregions, combustion only, 2022-2023. The others still set the spread.
DATASET_PREFERENCE: tuple[str, ...] = ("electricity-maps", "ember", "egrid")
# The default uncertainty of a looked-up intensity spans every dataset's value for the region
# within this many years of the year used (methodology and year-to-year spread).
SPREAD_YEARS = 1

# What an embodied figure includes; "accelerator" figures get the host server's share added.
BOUNDARIES: dict[str, str] = {
    "accelerator": "the accelerator (or its baseboard share) without the host server",
    "server": "the whole server's share (host CPUs, memory, storage, chassis included)",
    "host": "a server without its accelerators",
    "die": "the logic die only (no memory, package or board)",
    "run": "a whole training run's embodied share",
    "per-gb": "per GB of memory or storage",
    "unverified": "per device; whether the host share is included was not confirmed",
}
HOST_ROLE = "host"  # `default_for` marker of the host-server row
FALLBACK_ROLE = "*"  # `default_for` marker of the row used for accelerators without their own


class CarbonTableError(ValueError):
    """A carbon table breaks its schema; the message names the file, line and column."""


# ---- rows ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GridRow:
    """One published grid intensity. [gCO2e/kWh]"""

    region: str
    year: int
    g_co2e_per_kwh: float
    scope: str
    dataset: str
    source: str
    accessed: str
    verification: str = ""
    notes: str = ""


@dataclass(frozen=True)
class GridIntensity:
    """A looked-up intensity: the row used and the spread of the region's table values around it.

    g_co2e_per_kwh : the preferred dataset's value at `year`. [gCO2e/kWh]
    low, high : smallest and largest value of any dataset within SPREAD_YEARS of `year`. [gCO2e/kWh]
    year_note : why `year` differs from the year asked for (empty when it does not).
    """

    region: str
    year: int
    g_co2e_per_kwh: float
    low: float
    high: float
    dataset: str
    source: str
    accessed: str
    year_note: str = ""

    def describe(self) -> str:
        return f"{self.region} {self.year}, location-based, {self.dataset}"

    def spread_spec(self) -> dict[str, Any]:
        """The default uncertainty as a distribution spec (triangular low / central / high)."""
        if self.high <= self.low:
            return {"dist": "uniform", "low": self.low, "high": self.low}
        return {"dist": "triangular", "low": self.low, "mode": self.g_co2e_per_kwh, "high": self.high}


@dataclass(frozen=True)
class EmbodiedItem:
    """One published embodied-carbon figure. [kg CO2e per `unit`]"""

    id: str
    item: str
    kg_co2e: float
    unit: str
    accelerators_covered: int | None
    boundary: str
    default_for: tuple[str, ...]
    source: str
    accessed: str
    verification: str = ""
    notes: str = ""


@dataclass(frozen=True)
class EmbodiedDefault:
    """Embodied carbon of one accelerator with its share of the server, and how it was built."""

    accelerator: str
    kg_co2e: float  # [kg CO2e per accelerator]
    how: str
    source: str
    accessed: str
    fallback: bool = False


@dataclass(frozen=True)
class MeasuredPower:
    """Measured average power per device while training, PUE excluded. [W]"""

    accelerator: str
    watts: float
    basis: str
    source: str
    accessed: str
    verification: str = ""
    notes: str = ""


# ---- parsing ------------------------------------------------------------------------------------
def _rows(text: str, file: str, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in columns if c not in (reader.fieldnames or [])]
    if missing:
        raise CarbonTableError(f"{file}: missing columns {', '.join(missing)}")
    out = []
    for line, row in enumerate(reader, start=2):
        if None in row:
            raise CarbonTableError(f"{file} line {line}: more cells than the header")
        clean = {k: (v or "").strip() for k, v in row.items()}
        for c in ("source", "accessed"):
            if not clean[c]:
                raise CarbonTableError(f"{file} line {line}, column {c!r}: every row needs a {c}")
        try:
            dt.date.fromisoformat(clean["accessed"])
        except ValueError:
            raise CarbonTableError(f"{file} line {line}, column 'accessed': not an ISO date") from None
        out.append((line, clean))
    return out


def _positive(text: str, file: str, line: int, column: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise CarbonTableError(f"{file} line {line}, column {column!r}: {text!r} is not a number") from None
    if not math.isfinite(value) or value <= 0:
        raise CarbonTableError(f"{file} line {line}, column {column!r}: {text!r} must be a positive number")
    return value


def parse_grid(text: str, file: str = GRID_FILE) -> tuple[GridRow, ...]:
    """Check grid_carbon_intensity.csv text; one GridRow per line."""
    cols = ("region", "year", "g_co2e_per_kwh", "scope", "dataset", "source", "accessed")
    rows: list[GridRow] = []
    seen: set[tuple[str, int, str]] = set()
    for line, r in _rows(text, file, cols):
        if not r["region"]:
            raise CarbonTableError(f"{file} line {line}, column 'region': empty")
        if r["dataset"] not in DATASET_PREFERENCE:
            raise CarbonTableError(
                f"{file} line {line}, column 'dataset': {r['dataset']!r}; valid: {', '.join(DATASET_PREFERENCE)}"
            )
        if r["scope"] != "location-based":
            raise CarbonTableError(
                f"{file} line {line}, column 'scope': only location-based rows belong here"
            )
        if not re.fullmatch(r"(19|20)\d\d", r["year"]):
            raise CarbonTableError(f"{file} line {line}, column 'year': {r['year']!r} is not a year")
        key = (r["region"], int(r["year"]), r["dataset"])
        if key in seen:
            raise CarbonTableError(f"{file} line {line}: a second {key[2]} row for {key[0]} {key[1]}")
        seen.add(key)
        rows.append(
            GridRow(
                region=r["region"],
                year=int(r["year"]),
                g_co2e_per_kwh=_positive(r["g_co2e_per_kwh"], file, line, "g_co2e_per_kwh"),
                scope=r["scope"],
                dataset=r["dataset"],
                source=r["source"],
                accessed=r["accessed"],
                verification=r.get("verification", ""),
                notes=r.get("notes", ""),
            )
        )
    return tuple(rows)


def parse_embodied(text: str, file: str = EMBODIED_FILE) -> dict[str, EmbodiedItem]:
    """Check embodied_carbon.csv text; EmbodiedItem by id."""
    cols = (
        "id",
        "item",
        "kg_co2e",
        "unit",
        "accelerators_covered",
        "boundary",
        "default_for",
        "source",
        "accessed",
    )
    items: dict[str, EmbodiedItem] = {}
    claimed: dict[str, str] = {}
    for line, r in _rows(text, file, cols):
        if not re.fullmatch(r"[a-z0-9]+(?:[.-][a-z0-9]+)*", r["id"]) or r["id"] in items:
            raise CarbonTableError(f"{file} line {line}, column 'id': {r['id']!r} is malformed or repeated")
        if r["boundary"] not in BOUNDARIES:
            raise CarbonTableError(
                f"{file} line {line}, column 'boundary': {r['boundary']!r}; valid: {', '.join(BOUNDARIES)}"
            )
        covered = r["accelerators_covered"]
        if covered and not covered.isdigit():
            raise CarbonTableError(f"{file} line {line}, column 'accelerators_covered': a whole number")
        roles = tuple(r["default_for"].split())
        for role in roles:
            if role in claimed:
                raise CarbonTableError(
                    f"{file} line {line}, column 'default_for': {role!r} is already the default of {claimed[role]!r}"
                )
            claimed[role] = r["id"]
        if (
            roles
            and roles != (HOST_ROLE,)
            and (not covered or r["boundary"] not in ("accelerator", "server", "unverified"))
        ):
            raise CarbonTableError(
                f"{file} line {line}: a default accelerator row needs accelerators_covered and a per-device boundary"
            )
        items[r["id"]] = EmbodiedItem(
            id=r["id"],
            item=r["item"],
            kg_co2e=_positive(r["kg_co2e"], file, line, "kg_co2e"),
            unit=r["unit"],
            accelerators_covered=int(covered) if covered else None,
            boundary=r["boundary"],
            default_for=roles,
            source=r["source"],
            accessed=r["accessed"],
            verification=r.get("verification", ""),
            notes=r.get("notes", ""),
        )
    for role in (HOST_ROLE, FALLBACK_ROLE):
        if role not in claimed:
            raise CarbonTableError(f"{file}: no row has default_for {role!r}")
    return items


def parse_measured_power(text: str, file: str = MEASURED_POWER_FILE) -> dict[str, MeasuredPower]:
    """Check measured_power.csv text; MeasuredPower by accelerator id."""
    out: dict[str, MeasuredPower] = {}
    for line, r in _rows(text, file, ("accelerator", "watts", "basis", "source", "accessed")):
        if r["accelerator"] in out:
            raise CarbonTableError(f"{file} line {line}: a second row for {r['accelerator']!r}")
        out[r["accelerator"]] = MeasuredPower(
            accelerator=r["accelerator"],
            watts=_positive(r["watts"], file, line, "watts"),
            basis=r["basis"],
            source=r["source"],
            accessed=r["accessed"],
            verification=r.get("verification", ""),
            notes=r.get("notes", ""),
        )
    return out


@cache
def _grid() -> tuple[GridRow, ...]:
    return parse_grid(data_text(GRID_FILE))


@cache
def _embodied() -> dict[str, EmbodiedItem]:
    return parse_embodied(data_text(EMBODIED_FILE))


@cache
def _measured() -> dict[str, MeasuredPower]:
    return parse_measured_power(data_text(MEASURED_POWER_FILE))


# ---- grid intensity -----------------------------------------------------------------------------
def _key(name: str) -> str:
    """Region names match ignoring case, spaces and punctuation ('us-pjm...' = 'US - PJM ...')."""
    return re.sub(r"[^a-z0-9]+", "", name.casefold())


@cache
def _regions() -> dict[str, str]:
    """Normalised spelling -> the table's region: every region's own name, then its aliases
    (ISO 3166 codes, common names, balancing authorities; `data/grid_region_aliases.csv`)."""
    out: dict[str, str] = {}
    for row in _grid():
        out.setdefault(_key(row.region), row.region)
    for line, r in _rows(data_text(ALIASES_FILE), ALIASES_FILE, ("alias", "region", "source", "accessed")):
        if _key(r["region"]) not in out or out[_key(r["region"])] != r["region"]:
            raise CarbonTableError(
                f"{ALIASES_FILE} line {line}: {r['region']!r} is not a region of the grid table"
            )
        if _key(r["alias"]) in out:
            raise CarbonTableError(f"{ALIASES_FILE} line {line}: {r['alias']!r} already names a region")
        out[_key(r["alias"])] = r["region"]
    return out


def grid_regions() -> list[str]:
    """Every region of the grid table, as it is spelled there."""
    return sorted(set(_regions().values()))


def region_name(region: str) -> str:
    """The table's spelling of a region (any case or punctuation, or an alias such as an ISO
    code); an unknown one raises UnknownIdError listing them all.

    >>> region_name("south korea"), region_name("FR"), region_name("us")
    ('South Korea', 'France', 'USA')
    """
    try:
        return _regions()[_key(region)]
    except KeyError:
        raise UnknownIdError(
            f"unknown grid region {region!r}; valid regions: {'; '.join(grid_regions())}"
        ) from None


def grid_rows(region: str) -> list[GridRow]:
    """Every row of one region (any spelling `region_name` accepts)."""
    name = region_name(region)
    return [r for r in _grid() if r.region == name]


def grid_intensity(region: str, year: float | None = None) -> GridIntensity:
    """Location-based intensity of a region's grid for a year.

    The nearest year with data is used (the later one on a tie; the latest when `year` is None),
    and at that year the first dataset of DATASET_PREFERENCE that has it. `low` / `high` span every
    dataset's value within SPREAD_YEARS of that year.
    """
    rows = grid_rows(region)
    name = rows[0].region
    years = sorted({r.year for r in rows})
    if year is None:
        used = years[-1]
        note = f"no year given: latest {name} year in the table, {used}"
    else:
        used = min(years, key=lambda y: (abs(y - year), -y))
        note = "" if used == year else f"no {name} row for {year:g}: nearest year {used} used"
    at_year = sorted((r for r in rows if r.year == used), key=lambda r: DATASET_PREFERENCE.index(r.dataset))
    best = at_year[0]
    near = [r.g_co2e_per_kwh for r in rows if abs(r.year - used) <= SPREAD_YEARS]
    return GridIntensity(
        region=name,
        year=used,
        g_co2e_per_kwh=best.g_co2e_per_kwh,
        low=min(near),
        high=max(near),
        dataset=best.dataset,
        source=best.source,
        accessed=best.accessed,
        year_note=note,
    )


# ---- embodied carbon ----------------------------------------------------------------------------
def embodied_items() -> dict[str, EmbodiedItem]:
    """The embodied-carbon table, id -> EmbodiedItem. Loaded once."""
    return dict(_embodied())


def _role(role: str) -> EmbodiedItem | None:
    return next((i for i in _embodied().values() if role in i.default_for), None)


def embodied_per_accelerator(accelerator_id: str, gpus_per_node: int) -> EmbodiedDefault:
    """Embodied CO2e of one accelerator with its share of the server. [kg CO2e]

    The accelerator's `default_for` row (else the fallback row, flagged) divided by the
    accelerators it covers; a figure without the host server gets the host row / gpus_per_node
    added (BLOOM's method: GPU + server without GPUs).
    """
    if gpus_per_node <= 0:
        raise ValueError(f"gpus_per_node must be positive, got {gpus_per_node}")
    own = _role(accelerator_id)
    fallback = own is None
    item = own or _role(FALLBACK_ROLE)
    assert item is not None and item.accelerators_covered  # parse_embodied checks both
    kg = item.kg_co2e / item.accelerators_covered
    how = f"{item.kg_co2e:g} kg {item.unit} ({item.id})" + (
        f" / {item.accelerators_covered}" if item.accelerators_covered > 1 else ""
    )
    source = item.source
    if item.boundary == "accelerator":
        host = _role(HOST_ROLE)
        assert host is not None
        kg += host.kg_co2e / gpus_per_node
        how += f" + {host.kg_co2e:g} kg host server ({host.id}) / {gpus_per_node} per server"
        source += "; host server: " + host.source
    if fallback:
        how = f"no embodied figure for {accelerator_id} in the catalog: generic " + how
    return EmbodiedDefault(
        accelerator=accelerator_id,
        kg_co2e=kg,
        how=how,
        source=source,
        accessed=item.accessed,
        fallback=fallback,
    )


# ---- measured power ------------------------------------------------------------------------------
def measured_power(accelerator_id: str) -> MeasuredPower | None:
    """Measured average system power per device while training, or None when none is published."""
    return _measured().get(accelerator_id)


def measured_power_rows() -> dict[str, MeasuredPower]:
    return dict(_measured())


# ---- emissions validation rows --------------------------------------------------------------------
_VALIDATION_NUMBERS = (
    "accelerator_hours",
    "watts_per_device",
    "pue",
    "grid_g_co2e_per_kwh",
    "grid_year",
    "embodied_kg_per_device",
    "life_years",
    "lifetime_utilisation",
    "published_value",
)
VALIDATION_QUANTITIES: dict[str, str] = {
    "carbon": "t CO2e",
    "energy": "MWh",
    "embodied": "t CO2e",
}


def emissions_validation_rows() -> list[dict[str, Any]]:
    """Published emissions with each publication's own inputs (`data/validation/emissions.csv`):
    numbers parsed, empty cells None."""
    file = EMISSIONS_VALIDATION_FILE
    cols = ("id", "accelerator_hours", "quantity", "published_value", "published_unit", "source", "accessed")
    out: list[dict[str, Any]] = []
    for line, r in _rows(data_text(file), file, cols):
        row: dict[str, Any] = dict(r)
        for c in _VALIDATION_NUMBERS:
            row[c] = _positive(r[c], file, line, c) if r.get(c) else None
        unit = VALIDATION_QUANTITIES.get(r["quantity"])
        if unit is None or unit != r["published_unit"]:
            raise CarbonTableError(
                f"{file} line {line}: quantity {r['quantity']!r} with unit {r['published_unit']!r}; "
                f"valid: {VALIDATION_QUANTITIES}"
            )
        out.append(row)
    return out


def grid_catalog_rows() -> list[dict[str, Any]]:
    """JSON-ready rows of the grid table (`truecost catalog grid`), each with an id."""
    from dataclasses import asdict

    return [
        {
            "id": f"{re.sub(r'[^a-z0-9]+', '-', r.region.casefold()).strip('-')}-{r.year}-{r.dataset}",
            **asdict(r),
        }
        for r in _grid()
    ]


def embodied_catalog_rows() -> list[dict[str, Any]]:
    """JSON-ready rows of the embodied-carbon table (`truecost catalog embodied`)."""
    from dataclasses import asdict

    return [{**asdict(i), "default_for": " ".join(i.default_for)} for i in _embodied().values()]
