"""Bad input: exit code 2, a message naming the field and what was expected, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import truecost
from truecost.cli import app
from truecost.errors import ScenarioError

runner = CliRunner()

BASE = (
    "model: llama-3.1-8b\ntraining: {tokens: 1.0e12}\ncluster: {accelerator: h100-sxm, count: 64, mfu: 0.4}\n"
)


def _run_yaml(tmp_path: Path, text: str) -> tuple[int, str]:
    f = tmp_path / "s.yaml"
    f.write_text(text)
    res = runner.invoke(app, ["estimate", str(f)])
    return res.exit_code, res.output


@pytest.mark.parametrize(
    ("text", "field", "expected"),
    [
        (BASE.replace("1.0e12", "-5"), "training.tokens", "must lie in (0, 1e+16] tokens"),
        (BASE.replace("1.0e12", "0"), "training.tokens", "must lie in (0, 1e+16] tokens"),
        (BASE.replace("h100-sxm", "h1000"), "cluster.accelerator", "valid ids: a100-sxm4-40gb"),
        (BASE.replace("llama-3.1-8b", "llama-9"), "model", "llama-3.1-8b, llama-33b"),
        (BASE.replace("count: 64", "count: lots"), "cluster.count", "number"),
        (BASE.replace("mfu: 0.4", "mfu: 1.5"), "cluster.mfu", "must lie in [0.001, 1]"),
        (BASE.replace("mfu: 0.4", "mfu: 0"), "cluster.mfu", "must lie in [0.001, 1]"),
        (
            BASE + "pricing: {rental_usd_per_gpu_hour: -2}\n",
            "pricing.rental_usd_per_gpu_hour",
            "must lie in [0, 10,000] USD per GPU-hour",
        ),
        (BASE + "colour: blue\n", "colour", "unknown key"),
        ("model: llama-3.1-8b\ntraining: {tokens: [1, 2\n", "s.yaml", "malformed YAML at line"),
        ("- just\n- a list\n", "s.yaml", "expected a YAML mapping"),
    ],
)
def test_bad_input_exit_2_names_field(tmp_path: Path, text: str, field: str, expected: str) -> None:
    code, out = _run_yaml(tmp_path, text)
    assert code == 2, out
    assert field in out and expected in out, out
    assert "Traceback" not in out


def test_missing_file_exit_2() -> None:
    res = runner.invoke(app, ["estimate", "no/such/file.yaml"])
    assert res.exit_code == 2
    assert "no preset or file named" in res.output and "deepseek-v3" in res.output


def test_api_raises_scenario_error_with_field() -> None:
    with pytest.raises(ScenarioError, match=r"training\.tokens"):
        truecost.estimate({"model": "llama-3.1-8b", "training": {"tokens": -1}})


def test_catalog_unknown_kind_exit_2() -> None:
    res = runner.invoke(app, ["catalog", "gpus"])
    assert res.exit_code == 2 and "hardware" in res.output


def test_bad_samples_rejected() -> None:
    with pytest.raises(ScenarioError, match="samples"):
        truecost.estimate("deepseek-v3", samples=1)
