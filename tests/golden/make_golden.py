"""Regenerate the golden --json files of every preset: `python tests/golden/make_golden.py`.

Run only when an output change is intended, and name the change in the commit message."""

from __future__ import annotations

import json
from pathlib import Path

import truecost
from truecost.scenario import preset_names

HERE = Path(__file__).parent
SCENARIOS = HERE / "scenarios"
CASES = (
    [(p, None, None) for p in preset_names()]
    + [(str(f.relative_to(HERE)), None, None) for f in sorted(SCENARIOS.glob("*.yaml"))]
    + [("deepseek-lab", 20_000, 3), ("scenarios/flops-only.yaml", 20_000, 5)]
)


def golden_name(preset: str, samples: int | None, seed: int | None) -> str:
    stem = Path(preset).name.removesuffix(".yaml")
    return f"{stem}.json" if samples is None else f"{stem}.samples{samples}.seed{seed}.json"


def golden_output(preset: str, samples: int | None, seed: int | None) -> dict:
    source = str(HERE / preset) if preset.endswith(".yaml") else preset
    return json.loads(json.dumps(truecost.estimate(source, samples=samples, seed=seed).to_dict()))


if __name__ == "__main__":
    for preset, samples, seed in CASES:
        out = golden_output(preset, samples, seed)
        (HERE / golden_name(preset, samples, seed)).write_text(
            json.dumps(out, indent=1, sort_keys=False) + "\n"
        )
        print("wrote", golden_name(preset, samples, seed))
