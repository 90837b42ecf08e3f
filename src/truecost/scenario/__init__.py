"""Scenario input: one pydantic model per section (the schema) and loading (YAML, presets, dicts).

Imports no stage: a stage takes its section's model from here as an argument.
"""

from __future__ import annotations

from .checks import plausibility_warnings
from .loading import (
    PRESET_PACKAGE,
    Scenario,
    load_raw,
    parse_yaml,
    preset_names,
    preset_summaries,
    validate,
)

__all__ = [
    "PRESET_PACKAGE",
    "Scenario",
    "load_raw",
    "parse_yaml",
    "plausibility_warnings",
    "preset_names",
    "preset_summaries",
    "validate",
]
