"""Scenario files -> validated, frozen inputs.

A scenario is YAML (or a dict of the same shape, see DESIGN.md). Any numeric leaf may be a
distribution (`truecost.uncertainty`); validation runs on the medians and again on the 5th and
95th percentiles so that a range reaching an impossible value is caught up front.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ..errors import ScenarioError, path_str
from .limits import check_tree, scan_yaml
from .root import Scenario

PRESET_PACKAGE = "truecost.presets"


def preset_names() -> list[str]:
    """Built-in scenario names (files in truecost/presets)."""
    files = resources.files(PRESET_PACKAGE).iterdir()
    return sorted(f.name[: -len(".yaml")] for f in files if f.name.endswith(".yaml"))


class _Loader(yaml.SafeLoader):
    """YAML 1.1 reads 14.8e12 (no sign in the exponent) as a string; scenarios write numbers that
    way, so floats in scientific notation are resolved as floats here."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |\.[0-9_]+(?:[eE][-+]?[0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        re.X,
    ),
    list("-+0123456789."),
)


def parse_yaml(text: str, where: str = "scenario") -> dict[str, Any]:
    """YAML text -> raw scenario dict, or ScenarioError naming where and what."""
    try:
        scan_yaml(text, _Loader, where)  # size, depth, aliases, keys: before any node is built
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScenarioError(f"malformed YAML{at}: {problem}", field=where) from None
    if not isinstance(data, dict):
        raise ScenarioError("expected a YAML mapping (keys such as model, training, cluster)", field=where)
    check_tree(data, where)
    return data


def load_raw(source: str | Path | Mapping[str, Any]) -> dict[str, Any]:
    """A preset name, a YAML path or a dict -> the raw scenario dict (distributions untouched)."""
    if isinstance(source, Mapping):
        check_tree(source)
        return dict(source)
    text_source = str(source)
    if text_source in preset_names():
        text = resources.files(PRESET_PACKAGE).joinpath(f"{text_source}.yaml").read_text()
        return parse_yaml(text, f"preset {text_source}")
    path = Path(text_source)
    if not path.exists():
        raise ScenarioError(
            f"no preset or file named {text_source!r}; presets: {', '.join(preset_names())}",
            field="scenario",
        )
    if path.is_dir():
        raise ScenarioError(f"{text_source!r} is a directory, expected a YAML file", field="scenario")
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"cannot read {text_source!r}: {exc}", field="scenario") from None
    return parse_yaml(text, str(path))


def _describe_error(err: Mapping[str, Any]) -> tuple[str, str]:
    """(dotted field path, what was expected) of one pydantic error."""
    loc = path_str(tuple(p for p in err.get("loc", ()) if p not in ("function-after", "function-before")))
    msg = str(err.get("msg", "invalid"))
    msg = msg.removeprefix("Value error, ")
    got = err.get("input")
    kind = err.get("type", "")
    if kind == "extra_forbidden":
        return loc, "unknown key (check the spelling; the scenario file section of the README lists the keys)"
    if kind == "missing":
        return loc, "required field is missing"
    shown = "" if isinstance(got, Mapping | list) else f", got {got!r}"
    return loc, f"{msg}{shown}"


def validate(raw: Mapping[str, Any]) -> Scenario:
    """Raw dict (numbers only) -> frozen Scenario, or ScenarioError naming the first bad field."""
    try:
        scn = Scenario.model_validate(raw)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        loc, message = _describe_error(first)
        raise ScenarioError(message + more, field=loc or None) from None
    except ScenarioError:
        raise
    except ValueError as exc:  # raised inside a validator outside pydantic's wrapping
        raise ScenarioError(str(exc)) from None
    from .checks import check

    check(scn)
    return scn


def preset_summaries() -> list[dict[str, str]]:
    """id, name and description of each built-in scenario."""
    out = []
    for pid in preset_names():
        raw = load_raw(pid)
        out.append(
            {
                "id": pid,
                "name": str(raw.get("name", pid)),
                "description": " ".join(str(raw.get("description", "")).split()),
            }
        )
    return out
