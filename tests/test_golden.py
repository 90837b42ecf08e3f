"""Every preset's --json output is identical to its golden file (tests/golden/). An intended change
regenerates them with `python tests/golden/make_golden.py` and says so in the commit message."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

HERE = Path(__file__).parent / "golden"
_spec = importlib.util.spec_from_file_location("make_golden", HERE / "make_golden.py")
assert _spec is not None and _spec.loader is not None
make_golden = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_golden)


@pytest.mark.parametrize(("preset", "samples", "seed"), make_golden.CASES)
def test_json_output_matches_golden(preset: str, samples: int | None, seed: int | None) -> None:
    want = json.loads((HERE / make_golden.golden_name(preset, samples, seed)).read_text())
    got = make_golden.golden_output(preset, samples, seed)
    assert got == want
