"""Dated prices: rental prices by basis (`data/rental_prices.csv`), hardware purchase prices
(`data/hardware_prices.csv`), price indices for constant dollars (`data/price_indices.csv`) and
electricity prices by year (`data/electricity_prices.csv`). Every row has a date, a source and an
access date; the selection rules (which row is "in force" at a date) live here, next to the data.

>>> choice = rental_price("h100-sxm", "market-index", decimal_year("2025-01"))
>>> choice.row.usd_per_gpu_hour, choice.row.date, choice.row.provider
(2.0, '2024-10-01', 'Latent Space (E. Cheah)')
>>> epoch_acquisition_price("a100-sxm4-80gb").kind, epoch_acquisition_price("a100-sxm4-80gb").date
('dgx', '2020-05-14')
>>> round(deflator("cpi-u", 2020, 2023), 4)
1.1773
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from dataclasses import fields as dataclass_fields
from functools import cache
from typing import Any, TypeVar

from ..dates import decimal_year
from .data_files import data_text

RENTAL_FILE = "rental_prices.csv"
HARDWARE_PRICES_FILE = "hardware_prices.csv"
INDICES_FILE = "price_indices.csv"
ELECTRICITY_FILE = "electricity_prices.csv"


class PriceDataError(ValueError):
    """A price table breaks its schema; the message names the file, line and column."""


def _read(file: str) -> list[dict[str, str]]:
    text = data_text(file)
    rows = list(csv.DictReader(io.StringIO(text)))
    for i, r in enumerate(rows, start=2):
        if not (r.get("source") or "").strip() or not (r.get("accessed") or "").strip():
            raise PriceDataError(f"{file} line {i}: every row needs a source and an accessed date")
    return rows


def _num(file: str, i: int, r: dict[str, str], column: str) -> float:
    try:
        v = float(r[column])
    except (KeyError, ValueError):
        raise PriceDataError(
            f"{file} line {i}, column {column!r}: {r.get(column)!r} is not a number"
        ) from None
    if not v > 0:
        raise PriceDataError(f"{file} line {i}, column {column!r}: {v} is not positive")
    return v


_Row = TypeVar("_Row", "RentalPrice", "HardwarePrice")


def _dated_rows(
    file: str, row_type: type[_Row], kind_column: str, kinds: Mapping[str, object], amount_column: str
) -> list[_Row]:
    """The rows of a dated price table: `kind_column` must name one of `kinds`, `date` must parse
    and `amount_column` must be a positive number; every other field is copied as text."""
    out = []
    for i, r in enumerate(_read(file), start=2):
        if r[kind_column] not in kinds:
            raise PriceDataError(
                f"{file} line {i}: unknown {kind_column} {r[kind_column]!r}; valid: {', '.join(kinds)}"
            )
        decimal_year(r["date"])
        fields: dict[str, Any] = {f.name: r[f.name] for f in dataclass_fields(row_type)}
        fields[amount_column] = _num(file, i, r, amount_column)
        out.append(row_type(**fields))
    return out


# ---- rental prices ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Basis:
    """A kind of rental price. `closest` lists the bases to use, in order, when an accelerator has
    no price on this one."""

    label: str
    closest: tuple[str, ...]
    standard: bool = True


_STANDARD_ORDER = (
    "market-index",
    "on-demand-neocloud",
    "1yr-reserved",
    "on-demand-hyperscaler",
    "3yr-reserved",
    "spot",
)

BASES: dict[str, Basis] = {
    "market-index": Basis(
        "a market index or survey of what GPU time trades at (SemiAnalysis 1-yr contract index, "
        "AIMultiple median, RBC data)",
        ("on-demand-neocloud", "1yr-reserved", "on-demand-hyperscaler", "3yr-reserved", "spot"),
    ),
    "on-demand-neocloud": Basis(
        "on-demand list price of a GPU cloud (Lambda, CoreWeave, RunPod...)",
        ("market-index", "on-demand-hyperscaler", "1yr-reserved", "3yr-reserved", "spot"),
    ),
    "on-demand-hyperscaler": Basis(
        "on-demand list price of AWS, Azure, Google Cloud or Oracle",
        ("on-demand-neocloud", "1yr-reserved", "market-index", "3yr-reserved", "spot"),
    ),
    "1yr-reserved": Basis(
        "1-year committed or reserved rate",
        ("market-index", "3yr-reserved", "on-demand-neocloud", "on-demand-hyperscaler", "spot"),
    ),
    "3yr-reserved": Basis(
        "3-year committed or reserved rate",
        ("1yr-reserved", "market-index", "on-demand-neocloud", "on-demand-hyperscaler", "spot"),
    ),
    "spot": Basis(
        "spot or preemptible price",
        ("market-index", "on-demand-neocloud", "1yr-reserved", "3yr-reserved", "on-demand-hyperscaler"),
    ),
    # Bases outside the six standard ones (flagged in the reference): chosen only by name.
    "assumed": Basis("a price a developer assumed to cost its own GPU-hours", _STANDARD_ORDER, False),
    "capacity-block": Basis("AWS EC2 Capacity Block (short prepaid reservation)", _STANDARD_ORDER, False),
    "monthly-lease": Basis("monthly lease of a whole server", _STANDARD_ORDER, False),
    "reserved-term-unstated": Basis("reserved rate with an unstated term", _STANDARD_ORDER, False),
}
DEFAULT_BASIS = "market-index"


@dataclass(frozen=True)
class RentalPrice:
    """One dated rental price per accelerator-hour, as the source published it."""

    accelerator_id: str
    date: str
    usd_per_gpu_hour: float
    basis: str
    provider: str
    region: str
    source: str
    accessed: str
    verification: str
    notes: str

    @property
    def year(self) -> float:
        return decimal_year(self.date)


@cache
def _rental_rows() -> tuple[RentalPrice, ...]:
    out = _dated_rows(RENTAL_FILE, RentalPrice, "basis", BASES, "usd_per_gpu_hour")
    return tuple(sorted(out, key=lambda p: (p.accelerator_id, p.year, p.basis, p.usd_per_gpu_hour)))


def rental_prices(accelerator_id: str | None = None) -> list[RentalPrice]:
    """Every rental price row (of one accelerator), by date."""
    return [p for p in _rental_rows() if accelerator_id is None or p.accelerator_id == accelerator_id]


@dataclass(frozen=True)
class RentalChoice:
    """The rental price in force: the row, the basis asked for, and what the choice had to give up."""

    row: RentalPrice
    asked_basis: str
    before_first: bool  # the date precedes every price of the basis: the earliest is used
    n_same_day: int  # rows of the basis on the row's date (the median is used)

    @property
    def fell_back(self) -> bool:
        return self.row.basis != self.asked_basis


def rental_price(accelerator_id: str, basis: str, year: float | None) -> RentalChoice | None:
    """The price in force at `year` (decimal) on `basis`, else on the closest basis that has one in
    force for the accelerator (`BASES[basis].closest`); None when the accelerator has no price.

    In force = the latest row dated on or before `year` (every row when `year` is None); when
    `year` precedes them all, the earliest row. Several rows on that date (providers): the median
    price (the lower middle one).
    """
    if basis not in BASES:
        raise ValueError(f"unknown basis {basis!r}; valid: {', '.join(BASES)}")
    rows = rental_prices(accelerator_id)
    order = [b for b in (basis, *BASES[basis].closest) if any(p.basis == b for p in rows)]
    if not order:
        return None
    # The first basis (in order of closeness) with a price in force at the date; when no basis has
    # one (the date precedes them all), the closest basis's earliest price.
    in_force = [b for b in order if any(year is None or p.year <= year + 1e-9 for p in rows if p.basis == b)]
    b = in_force[0] if in_force else order[0]
    on_basis = [p for p in rows if p.basis == b]
    before = [p for p in on_basis if year is None or p.year <= year + 1e-9]
    before_first = not before
    pick_date = min(p.year for p in on_basis) if before_first else max(p.year for p in before)
    same = sorted((p for p in on_basis if p.year == pick_date), key=lambda p: p.usd_per_gpu_hour)
    return RentalChoice(
        row=same[(len(same) - 1) // 2], asked_basis=basis, before_first=before_first, n_same_day=len(same)
    )


# ---- hardware purchase prices ---------------------------------------------------------------------
PRICE_KINDS: dict[str, str] = {
    "chip": "a single accelerator (the server overhead is applied)",
    "baseboard": "an HGX/UBB baseboard price per accelerator (no CPUs, memory or chassis)",
    "dgx": "an NVIDIA DGX system price per accelerator (server included)",
    "server": "another whole-system price per accelerator (server included)",
    "equivalent": "an estimated equivalent price of an accelerator sold only as a service (TPUs)",
}
INCLUDES_SERVER = {"dgx": True, "server": True, "chip": False, "baseboard": False, "equivalent": False}


@dataclass(frozen=True)
class HardwarePrice:
    """One dated purchase price per accelerator."""

    accelerator_id: str
    date: str
    usd_per_accelerator: float
    kind: str
    item: str
    source: str
    accessed: str
    verification: str
    notes: str

    @property
    def year(self) -> float:
        return decimal_year(self.date)

    @property
    def includes_server(self) -> bool:
        return INCLUDES_SERVER[self.kind]


@cache
def _hardware_rows() -> tuple[HardwarePrice, ...]:
    out = _dated_rows(HARDWARE_PRICES_FILE, HardwarePrice, "kind", PRICE_KINDS, "usd_per_accelerator")
    # On one date, a whole-system price sorts after a chip price: it is the one in force (it
    # needs no overhead estimate).
    return tuple(sorted(out, key=lambda p: (p.accelerator_id, p.year, p.includes_server)))


def hardware_prices(accelerator_id: str | None = None) -> list[HardwarePrice]:
    """Every purchase price row (of one accelerator), by date."""
    return [p for p in _hardware_rows() if accelerator_id is None or p.accelerator_id == accelerator_id]


def hardware_price_in_force(accelerator_id: str, year: float) -> tuple[HardwarePrice, bool] | None:
    """The latest purchase price of the accelerator dated on or before `year`; when `year` precedes
    them all, the earliest (second value True). None when it has no price row. On one date a
    whole-system price wins over a chip price."""
    rows = hardware_prices(accelerator_id)
    if not rows:
        return None
    before = [p for p in rows if p.year <= year + 1e-9]
    if before:
        return before[-1], False
    first = [p for p in rows if p.year == rows[0].year]
    return first[-1], True


def epoch_acquisition_price(accelerator_id: str) -> HardwarePrice | None:
    """Epoch AI's "earliest known price" (`find_gpu_acquisition_price`, server_lifetimes.md sec. 1):
    over every accelerator of the same price family (all memory and form-factor variants), the
    earliest DGX system price, else the earliest price of any kind."""
    from .loaders import accelerators

    accs = accelerators()
    family = accs[accelerator_id].price_family or accelerator_id
    rows = sorted(
        (p for p in _hardware_rows() if (accs[p.accelerator_id].price_family or p.accelerator_id) == family),
        key=lambda p: p.year,
    )
    if not rows:
        return None
    dgx = [p for p in rows if p.kind == "dgx"]
    return dgx[0] if dgx else rows[0]


# ---- price indices (constant dollars) ----------------------------------------------------------------
INDICES: dict[str, str] = {
    "cpi-u": "US CPI-U, all items, annual average (BLS CUUR0000SA0)",
    "ppi-data-processing": "US producer price index for data processing, hosting and related services, annual "
    "mean (BLS/FRED PCU518210518210; Epoch AI's deflator)",
}


@dataclass(frozen=True)
class IndexValue:
    index: str
    year: int
    value: float
    source: str
    accessed: str
    verification: str
    notes: str


@cache
def _index_rows() -> tuple[IndexValue, ...]:
    out = []
    for i, r in enumerate(_read(INDICES_FILE), start=2):
        if r["index"] not in INDICES:
            raise PriceDataError(
                f"{INDICES_FILE} line {i}: unknown index {r['index']!r}; valid: {', '.join(INDICES)}"
            )
        out.append(
            IndexValue(
                r["index"],
                int(r["year"]),
                _num(INDICES_FILE, i, r, "value"),
                r["source"],
                r["accessed"],
                r["verification"],
                r["notes"],
            )
        )
    return tuple(out)


def index_years(index: str) -> tuple[int, int]:
    """First and last year of an index."""
    years = [v.year for v in _index_rows() if v.index == index]
    return min(years), max(years)


def index_value(index: str, year: int) -> IndexValue:
    """The annual value of an index; a year outside the table raises ValueError naming the range."""
    if index not in INDICES:
        raise ValueError(f"unknown price index {index!r}; valid: {', '.join(INDICES)}")
    for v in _index_rows():
        if v.index == index and v.year == year:
            return v
    lo, hi = index_years(index)
    raise ValueError(f"{index} has annual values for {lo}-{hi} only, not {year}")


def deflator(index: str, from_year: int, to_year: int) -> float:
    """Multiply an amount in `from_year` dollars by this to get `to_year` dollars. [1]"""
    return index_value(index, to_year).value / index_value(index, from_year).value


# ---- electricity by year ----------------------------------------------------------------------------
@dataclass(frozen=True)
class ElectricityPrice:
    year: int
    usd_per_kwh: float
    region: str
    source: str
    accessed: str


@cache
def _electricity_rows() -> tuple[ElectricityPrice, ...]:
    return tuple(
        ElectricityPrice(
            int(r["year"]),
            _num(ELECTRICITY_FILE, i, r, "usd_per_kwh"),
            r["region"],
            r["source"],
            r["accessed"],
        )
        for i, r in enumerate(_read(ELECTRICITY_FILE), start=2)
    )


def electricity_price(year: int) -> tuple[ElectricityPrice, bool]:
    """The price of `year`, else of the nearest year in the table (second value True)."""
    rows = _electricity_rows()
    exact = [r for r in rows if r.year == year]
    if exact:
        return exact[0], False
    return min(rows, key=lambda r: abs(r.year - year)), True


# ---- `truecost catalog prices` ----------------------------------------------------------------------
def price_rows() -> list[dict[str, Any]]:
    """Rental price rows, JSON-ready (`truecost catalog prices`)."""
    return [asdict(p) for p in _rental_rows()]


def hardware_price_rows() -> list[dict[str, Any]]:
    """Purchase price rows, JSON-ready (`truecost catalog hardware-prices`)."""
    return [asdict(p) | {"includes_server": p.includes_server} for p in _hardware_rows()]
