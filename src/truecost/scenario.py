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
from typing import Annotated, Any, Literal

import yaml
from pydantic import Field, ValidationError, model_validator

from .errors import ScenarioError
from .fleet import FleetPool
from .lab import Lab
from .model import Architecture
from .perf import Network, Parallelism
from .pricing import Ownership
from .scenario_base import AcceleratorId, Fraction, Frozen, NonNegFloat, PosFloat

Precision = Literal["bf16", "fp16", "fp8", "tf32", "fp32"]
FlopConvention = Literal["6nd", "megatron", "megatron-noncausal"]


class Stage(Frozen):
    """One reported stage of a run (pre-training, context extension, post-training...)."""

    name: str
    gpu_hours: PosFloat
    tokens: PosFloat | None = None
    source: str = ""


class Training(Frozen):
    tokens: PosFloat | None = Field(None, description="training tokens of the run [1]")
    seq_len: Annotated[int, Field(gt=0)] = Field(
        4096, description="tokens per sequence; default 4096 (DeepSeek-V3 and Llama 3 pre-training)"
    )
    global_batch: Annotated[int, Field(gt=0)] | None = Field(None, description="sequences per optimizer step")
    precision: Precision = "bf16"
    flop_convention: FlopConvention = "megatron"
    flops: PosFloat | None = Field(None, description="known training FLOPs; skips the architecture")
    stages: tuple[Stage, ...] = ()


class Cluster(Frozen):
    accelerator: AcceleratorId
    count: PosFloat | None = Field(None, description="accelerators used by the run")
    gpus_per_node: Annotated[int, Field(gt=0)] | None = None
    mfu: Fraction | None = None
    mfu_basis: Precision = "bf16"
    gpu_hours: PosFloat | None = None
    goodput: Fraction | None = Field(
        None, description="productive share of wall-clock time (checkpoints, restarts, evaluation)"
    )
    parallelism: Parallelism = Parallelism()
    network: Network = Network()


class Power(Frozen):
    """Electrical power of the run (Epoch AI cost model, formulas.md sec. 3). None = cited default."""

    server_to_chip: PosFloat | None = Field(None, description="server power / accelerator TDP")
    utilisation: Fraction | None = Field(None, description="average power as a share of server TDP")
    pue: Annotated[float, Field(ge=1, allow_inf_nan=False)] | None = None
    electricity_usd_per_kwh: NonNegFloat | None = None


class Pricing(Frozen):
    rental_usd_per_gpu_hour: NonNegFloat | None = Field(
        None, description="rental price; default the catalog's price for the accelerator"
    )


class Scenario(Frozen):
    name: str = "scenario"
    description: str = ""
    model: Architecture | None = None
    model_id: str | None = None
    training: Training = Training()
    cluster: Cluster | None = None
    power: Power = Power()
    pricing: Pricing = Pricing()
    ownership: Ownership = Ownership()
    fleet: tuple[FleetPool, ...] | None = None
    lab: Lab | None = None
    notes: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    input_sources: dict[str, str] = Field(
        default_factory=dict, description="scenario field path -> where its value comes from"
    )
    reference_points: tuple[Mapping[str, Any], ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _model_by_id(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and isinstance(data.get("model"), str):
            from .catalog import models

            mid = data["model"]
            cat = models()
            if mid not in cat:
                raise ValueError(f"model: unknown model id {mid!r}; valid ids: {', '.join(sorted(cat))}")
            data = dict(data)
            data["model"] = cat[mid].arch
            data["model_id"] = mid
        return data

    @property
    def arch(self) -> Architecture | None:
        return self.model


# ---- loading ---------------------------------------------------------------------------

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
    return _read_yaml(text, where)


def _read_yaml(text: str, where: str) -> dict[str, Any]:
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScenarioError(f"malformed YAML{at}: {problem}", field=where) from None
    if not isinstance(data, dict):
        raise ScenarioError("expected a YAML mapping (keys such as model, training, cluster)", field=where)
    return data


def load_raw(source: str | Path | Mapping[str, Any]) -> dict[str, Any]:
    """A preset name, a YAML path or a dict -> the raw scenario dict (distributions untouched)."""
    if isinstance(source, Mapping):
        return dict(source)
    text_source = str(source)
    if text_source in preset_names():
        text = resources.files(PRESET_PACKAGE).joinpath(f"{text_source}.yaml").read_text()
        return _read_yaml(text, f"preset {text_source}")
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
    return _read_yaml(text, str(path))


def _describe_error(err: Mapping[str, Any]) -> tuple[str, str]:
    """(dotted field path, what was expected) of one pydantic error."""
    from .uncertainty import path_str

    loc = path_str(tuple(p for p in err.get("loc", ()) if p not in ("function-after", "function-before")))
    msg = str(err.get("msg", "invalid"))
    msg = msg.removeprefix("Value error, ")
    got = err.get("input")
    kind = err.get("type", "")
    if kind == "extra_forbidden":
        return loc, "unknown key (check the spelling; see DESIGN.md for the scenario keys)"
    if kind == "missing":
        return loc, "required field is missing"
    shown = "" if isinstance(got, Mapping | list) else f", got {got!r}"
    return loc, f"{msg}{shown}"


def validate(raw: Mapping[str, Any]) -> Scenario:
    """Raw dict (numbers only) -> frozen Scenario, or ScenarioError naming the first bad field."""
    try:
        return Scenario.model_validate(raw)
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
