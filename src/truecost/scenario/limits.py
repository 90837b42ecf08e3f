"""Bounded input: what a scenario document may hold before any of it is validated or run.

Every scenario, from a YAML file, a web request or a Python dict, passes through here first, so
that no input can make the reader itself blow up (alias "billion laughs", deep nesting that
exhausts the recursion limit, integers of hundreds of digits, NaN smuggled in as a number):

- YAML text is checked event by event (PyYAML's event parser is iterative) before a node tree
  is built: size, nesting depth, aliases and the node count with every alias expanded, duplicate
  and non-text mapping keys. Only then is the document composed (PyYAML's composer recurses).
- The parsed tree (or a dict given directly) is walked iteratively: depth, node count, keys
  are text, numbers are finite and of bounded size.

Each failure is a `ScenarioError` naming the field (dotted path) at fault.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from ..errors import ScenarioError, path_str

MAX_YAML_BYTES = 1 << 20  # 1 MiB: a scenario is a few KB; a richly sourced lab file, tens
MAX_DEPTH = 32  # a scenario nests 5 deep (lab.staff[0].count.ci90[0]); 32 leaves room
MAX_NODES = 100_000  # values once aliases are expanded: far above any real scenario
MAX_ALIASES = 1_000
MAX_STRING_CHARS = 100_000  # one note or description
MAX_INT_DIGITS = 40  # 1e40 is beyond every bound of every input
MAX_FLOAT_ABS = 1e300  # beyond every bound too; keeps arithmetic on it finite

# Where an infinite value means something: the bounds of a truncated normal distribution.
_INFINITE_OK = frozenset({"min", "max"})


@dataclass
class _Frame:
    kind: str  # "map" or "seq"
    path: tuple[str | int, ...]
    anchor: str | None
    size: int = 1
    index: int = 0
    expect_key: bool = True
    key: str | int | None = None
    keys: set[str] = field(default_factory=set)


def _err(message: str, path: tuple[str | int, ...], where: str, mark: Any = None) -> ScenarioError:
    at = f" (line {mark.line + 1}, column {mark.column + 1} of {where})" if mark is not None else ""
    return ScenarioError(message + at, field=path_str(path) or where)


def scan_yaml(text: str, loader: type[yaml.SafeLoader], where: str = "scenario") -> None:
    """Refuse a YAML text over the limits before composing it (no node tree is built here).

    >>> scan_yaml("a: &x [1, 2]\\nb: *x\\n", yaml.SafeLoader)
    >>> scan_yaml("a: 1\\na: 2\\n", yaml.SafeLoader)
    Traceback (most recent call last):
    ...
    truecost.errors.ScenarioError: a: duplicate key; each key may appear once in a mapping (line 2, column 1 of scenario)
    """
    size = len(text.encode("utf-8", errors="replace")) if len(text) * 4 > MAX_YAML_BYTES else len(text)
    if size > MAX_YAML_BYTES:
        raise ScenarioError(
            f"the YAML text is {size:,} bytes; at most {MAX_YAML_BYTES:,} are read", field=where
        )
    reader = loader(text)
    anchors: dict[str, int] = {}
    stack: list[_Frame] = []
    total = 0
    aliases = 0
    try:
        while reader.check_event():
            ev = reader.get_event()
            if isinstance(ev, yaml.StreamStartEvent | yaml.StreamEndEvent | yaml.DocumentStartEvent):
                continue
            if isinstance(ev, yaml.DocumentEndEvent):
                continue
            if isinstance(ev, yaml.MappingEndEvent | yaml.SequenceEndEvent):
                done = stack.pop()
                if done.anchor is not None:
                    anchors[done.anchor] = done.size
                if stack:
                    _child_done(stack[-1], done.size)
                continue
            parent = stack[-1] if stack else None
            path: tuple[str | int, ...] = ()
            if parent is not None:
                if parent.kind == "map" and parent.expect_key:
                    _key(reader, parent, ev, where)
                    total += 1
                    continue
                path = (*parent.path, parent.key if parent.kind == "map" else parent.index)  # type: ignore[arg-type]
            if isinstance(ev, yaml.AliasEvent):
                aliases += 1
                if aliases > MAX_ALIASES:
                    raise _err(f"more than {MAX_ALIASES:,} YAML aliases", path, where, ev.start_mark)
                n = anchors.get(str(ev.anchor), 1)
            elif isinstance(ev, yaml.ScalarEvent):
                if len(ev.value) > MAX_STRING_CHARS:
                    raise _err(
                        f"a value of {len(ev.value):,} characters; at most {MAX_STRING_CHARS:,}",
                        path,
                        where,
                        ev.start_mark,
                    )
                n = 1
                if ev.anchor is not None:
                    anchors[ev.anchor] = 1
            elif isinstance(ev, yaml.MappingStartEvent | yaml.SequenceStartEvent):
                if len(stack) >= MAX_DEPTH:  # the field where the nesting starts, not 32 levels of it
                    raise _err(f"nested more than {MAX_DEPTH} levels deep", path[:2], where, ev.start_mark)
                kind = "map" if isinstance(ev, yaml.MappingStartEvent) else "seq"
                stack.append(_Frame(kind, path, ev.anchor))
                total += 1
                if total > MAX_NODES:
                    raise _err(_too_many(), path, where, ev.start_mark)
                continue
            else:  # pragma: no cover - PyYAML has no other event kinds
                continue
            total += n
            if total > MAX_NODES:
                raise _err(_too_many(), path, where, ev.start_mark)
            if parent is not None:
                _child_done(parent, n)
    finally:
        reader.dispose()


def _too_many() -> str:
    return f"the document has more than {MAX_NODES:,} values once YAML aliases are expanded"


def _child_done(parent: _Frame, n: int) -> None:
    parent.size += n
    if parent.kind == "map":
        parent.expect_key = True
    else:
        parent.index += 1


def _key(reader: yaml.SafeLoader, frame: _Frame, ev: Any, where: str) -> None:
    here = frame.path
    if not isinstance(ev, yaml.ScalarEvent):
        raise _err("mapping keys must be plain text", here, where, ev.start_mark)
    tag = ev.tag if ev.tag not in (None, "!") else reader.resolve(yaml.ScalarNode, ev.value, ev.implicit)
    if tag == "tag:yaml.org,2002:merge":
        frame.key = "<<"
    elif tag != "tag:yaml.org,2002:str":
        kind = tag.rsplit(":", 1)[-1]
        raise _err(
            f"mapping keys must be text, got the {kind} {ev.value!r} (quote it)", here, where, ev.start_mark
        )
    else:
        if ev.value in frame.keys:
            raise _err(
                "duplicate key; each key may appear once in a mapping",
                (*here, ev.value),
                where,
                ev.start_mark,
            )
        frame.keys.add(ev.value)
        frame.key = ev.value
    frame.expect_key = False


def check_tree(obj: Any, where: str = "scenario") -> None:
    """Refuse a parsed scenario (or a dict given directly) over the limits, naming the field.

    >>> check_tree({"training": {"tokens": float("nan")}})
    Traceback (most recent call last):
    ...
    truecost.errors.ScenarioError: training.tokens: must be a finite number, got nan
    """
    budget = MAX_NODES
    stack: list[tuple[Any, tuple[str | int, ...], Any]] = [(obj, (), None)]
    while stack:
        x, path, parent = stack.pop()
        budget -= 1
        if budget < 0:
            raise ScenarioError(f"the scenario has more than {MAX_NODES:,} values", field=where)
        if len(path) > MAX_DEPTH:
            raise ScenarioError(f"nested more than {MAX_DEPTH} levels deep", field=path_str(path[:2]))
        if isinstance(x, Mapping):
            for k, v in x.items():
                if not isinstance(k, str):
                    raise ScenarioError(
                        f"mapping keys must be text, got {type(k).__name__} {_short(k)}",
                        field=path_str(path) or where,
                    )
                stack.append((v, (*path, k), x))
        elif isinstance(x, list | tuple):
            stack.extend((v, (*path, i), x) for i, v in enumerate(x))
        elif isinstance(x, bool) or x is None:
            continue
        elif isinstance(x, int):
            # Count digits without str(): CPython refuses str() of ints over 4,300 digits.
            if x.bit_length() > MAX_INT_DIGITS * 3.33:
                raise ScenarioError(
                    f"an integer of about {int(x.bit_length() / 3.32) + 1:,} digits is out of range "
                    f"(at most {MAX_INT_DIGITS} digits)",
                    field=path_str(path) or where,
                )
        elif isinstance(x, float):
            if math.isnan(x) or (
                math.isinf(x) and not (path and path[-1] in _INFINITE_OK and isinstance(parent, Mapping))
            ):
                raise ScenarioError(f"must be a finite number, got {x!r}", field=path_str(path) or where)
            if math.isfinite(x) and abs(x) > MAX_FLOAT_ABS:
                raise ScenarioError(
                    f"{x:g} is out of range (at most {MAX_FLOAT_ABS:g} in size)",
                    field=path_str(path) or where,
                )
        elif isinstance(x, str):
            if len(x) > MAX_STRING_CHARS:
                raise ScenarioError(
                    f"a text of {len(x):,} characters; at most {MAX_STRING_CHARS:,}",
                    field=path_str(path) or where,
                )


def _short(x: Any) -> str:
    if isinstance(x, int) and x.bit_length() > 200:
        return "(a very large integer)"
    r = repr(x)
    return r if len(r) <= 40 else r[:37] + "..."
