"""Registered software stacks (`data/software_stacks.csv`): the era each stack belongs to, the
accelerators it runs on and the layout its practitioners conventionally chose. What a stack does
to time and memory (flash attention, overlaps...) is physics and lives with the step-time model;
this table says *when* and *where* a stack applies and cites why.

>>> stack("megatron-2021").recompute
'full'
>>> default_stack("a100-sxm4-80gb", 2021.3).name, default_stack("a100-sxm4-80gb", 2023.0).name
('megatron-2021', 'megatron-core')
>>> default_stack("h100-sxm", None).name
'megatron-core'
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import cache

from ..dates import decimal_year
from .data_files import data_text

STACKS_FILE = "software_stacks.csv"
_RECOMPUTE = ("none", "selective", "full")
_SCHEDULES = ("1f1b", "interleaved", "dualpipe")


@dataclass(frozen=True)
class StackEntry:
    """One registered stack.

    name : the id `cluster.stack` takes.
    first_date : when its feature set reached practice (YYYY-MM).
    accelerators : id patterns of the accelerators it runs on.
    recompute, schedules, max_zero : the conventional layout of its era (what a practitioner runs
        when nothing else is known): activation recomputation, pipeline schedules, highest ZeRO stage.
    source, accessed, notes : provenance.
    """

    name: str
    first_date: str
    accelerators: tuple[str, ...]
    recompute: str
    schedules: tuple[str, ...]
    max_zero: int
    source: str
    accessed: str
    notes: str = ""

    @property
    def first_year(self) -> float:
        """first_date as a decimal year (month middle). [yr]"""
        return decimal_year(self.first_date)

    def runs_on(self, accelerator_id: str) -> bool:
        return any(fnmatchcase(accelerator_id, p) for p in self.accelerators)


@cache
def _entries() -> tuple[StackEntry, ...]:
    text = data_text(STACKS_FILE)
    out = []
    for i, r in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        where = f"{STACKS_FILE} line {i}"
        if not r["source"].strip() or not r["accessed"].strip():
            raise ValueError(f"{where}: every row needs a source and an accessed date")
        if r["recompute"] not in _RECOMPUTE:
            raise ValueError(f"{where}: recompute {r['recompute']!r} not in {_RECOMPUTE}")
        schedules = tuple(s.strip() for s in r["schedules"].split(";"))
        if not schedules or any(s not in _SCHEDULES for s in schedules):
            raise ValueError(f"{where}: schedules {r['schedules']!r} must be among {_SCHEDULES}")
        out.append(
            StackEntry(
                name=r["name"],
                first_date=r["first_date"],
                accelerators=tuple(p.strip() for p in r["accelerators"].split(";")),
                recompute=r["recompute"],
                schedules=schedules,
                max_zero=int(r["max_zero"]),
                source=r["source"],
                accessed=r["accessed"],
                notes=r.get("notes", "") or "",
            )
        )
    names = [e.name for e in out]
    if len(set(names)) != len(names):
        raise ValueError(f"{STACKS_FILE}: stack names must be unique")
    return tuple(sorted(out, key=lambda e: e.first_year))


def stack_names() -> tuple[str, ...]:
    return tuple(e.name for e in _entries())


def stack(name: str) -> StackEntry:
    """The registered stack `name`; an unknown name raises ValueError listing the valid ones."""
    for e in _entries():
        if e.name == name:
            return e
    raise ValueError(f"unknown software stack {name!r}; valid: {', '.join(stack_names())}")


def default_stack(accelerator_id: str, start_year: float | None) -> StackEntry:
    """The stack a run most likely used: the newest registered stack that runs on the accelerator
    and had reached practice by `start_year` (decimal year); with no date, the newest one for the
    accelerator (today's practice). An accelerator no stack lists gets the newest stack."""
    entries = _entries()
    fits = [e for e in entries if e.runs_on(accelerator_id)] or list(entries)
    if start_year is not None:
        dated = [e for e in fits if e.first_year <= start_year]
        fits = dated or fits[:1]
    return fits[-1]


def stack_reason(accelerator_id: str, start_year: float | None, chosen: StackEntry) -> str:
    """Why `default_stack` chose `chosen`, for the assumptions."""
    on = "runs on" if chosen.runs_on(accelerator_id) else "no registered stack lists"
    when = (
        f"training.start_date {start_year:.2f} is after its first date {chosen.first_date}"
        if start_year is not None
        else "no training.start_date: today's practice (the newest stack)"
    )
    return f"cluster.stack not given: {chosen.name} ({on} {accelerator_id}; {when}). {chosen.source}"


def stack_rows() -> list[dict[str, object]]:
    """Every row, for `truecost catalog` and the schema test."""
    return [
        {
            "id": e.name,
            "name": e.name,
            "first_date": e.first_date,
            "accelerators": ";".join(e.accelerators),
            "recompute": e.recompute,
            "schedules": ";".join(e.schedules),
            "max_zero": e.max_zero,
            "source": e.source,
            "accessed": e.accessed,
        }
        for e in _entries()
    ]
