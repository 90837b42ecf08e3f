"""The CLI reads well anywhere: the answer first, 80 columns in a pipe without cutting anything,
warnings and the drawn seed on stderr, --version, compare and CSV (issue 14)."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

import truecost
from truecost.cli import app

runner = CliRunner()
NARROW = {"COLUMNS": "80"}


def run(*args: str, env: dict[str, str] | None = None) -> tuple[str, str]:
    res = runner.invoke(app, list(args), env=env or NARROW)
    assert res.exit_code == 0, res.output
    return res.stdout, res.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("estimate", "deepseek-lab"),
        ("estimate", "deepseek-lab", "--assumptions"),
        ("estimate", "deepseek-lab", "--samples", "2000", "--seed", "1"),
        ("estimate", "gpt-3", "--samples", "500", "--seed", "1"),
        ("sensitivity", "deepseek-lab", "--samples", "128", "--seed", "1"),
        ("plan", "deepseek-v3", "--top", "4"),
        ("compare", "deepseek-v3", "llama-3.1-405b", "gpt-3"),
        ("validate",),
    ],
)
def test_80_columns_cut_nothing(args: tuple[str, ...]) -> None:
    out, _ = run(*args)
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "…" not in out  # rich's ellipsis: a value or name cut short
    # No empty column: every header cell of a table has text (rich draws an empty one as spaces).
    assert not re.search(r"┃\s+┃", out)


def test_estimate_opens_with_the_answer() -> None:
    out, _ = run("estimate", "deepseek-lab")
    first = "\n".join(out.splitlines()[:15])
    assert "Headline" in first and "$5.576M" in first
    assert "Lab total" in first and "$2.957B" in first
    # reference points come before the results and the assumptions
    assert out.index("Reference points") < out.index("Results") < out.index("Assumptions")
    assert "SemiAnalysis total server CapEx" in out and "$1.567B" in out
    # compact assumptions by default, with the way to all of them
    assert "the 10 of 69 that move lab_total_cost_usd" in out
    assert "--assumptions" in out
    full, _ = run("estimate", "deepseek-lab", "--assumptions")
    assert "Assumptions (all 69)" in full and len(full.splitlines()) > len(out.splitlines())


def test_warnings_go_to_stderr(tmp_path: Path) -> None:
    f = tmp_path / "hot.yaml"
    f.write_text(
        "model: llama-3.1-8b\ntraining: {tokens: 1.0e12}\ncluster: {accelerator: h100-sxm, count: 64, mfu: 0.9}\n"
    )
    out, err = run("estimate", str(f))
    assert "Warnings" in err and "Warnings" not in out


def test_seed_is_drawn_and_printed_when_none_is_given() -> None:
    out, err = run("estimate", "gpt-3", "--samples", "200", "--json")
    m = re.search(r"--seed (\d+)", err)
    assert m
    seed = int(m.group(1))
    first = json.loads(out)
    assert first["seed"] == seed
    again, _ = run("estimate", "gpt-3", "--samples", "200", "--json", "--seed", str(seed))
    assert json.loads(again) == first


def test_version() -> None:
    out, _ = run("--version")
    assert out.strip() == f"truecost {truecost.__version__}"


def test_compare_json() -> None:
    out, _ = run("compare", "deepseek-v3", "llama-3.1-405b", "--json")
    doc = json.loads(out)
    assert [s["scenario"] for s in doc["scenarios"]] == [
        truecost.estimate("deepseek-v3").scenario,
        truecost.estimate("llama-3.1-405b").scenario,
    ]
    assert doc["scenarios"][0] == truecost.estimate("deepseek-v3").to_dict()


def test_compare_api_ratios() -> None:
    cmp = truecost.compare(["deepseek-v3", "llama-3.1-405b"])
    ratio = cmp.ratio(1, "gpu_hours")
    assert ratio == pytest.approx(cmp.value(1, "gpu_hours") / 2.788e6)
    assert cmp.to_dict()["scenarios"][1]["scenario"] == cmp.estimates[1].scenario


def test_compare_needs_two() -> None:
    res = runner.invoke(app, ["compare", "gpt-3"])
    assert res.exit_code == 2


def test_csv_has_results_and_sourced_assumptions() -> None:
    out, _ = run("estimate", "deepseek-v3", "--csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    results = {r["name"]: r for r in rows if r["section"] == "result"}
    assert float(results["headline_cost_usd"]["value"]) == pytest.approx(5.576e6)
    assumptions = [r for r in rows if r["section"] == "assumption"]
    assert assumptions and all(r["source"] for r in assumptions)
    sampled, _ = run("estimate", "deepseek-lab", "--csv", "--samples", "300", "--seed", "2")
    lab = next(r for r in csv.DictReader(io.StringIO(sampled)) if r["name"] == "lab_total_cost_usd")
    assert float(lab["p5"]) < float(lab["p50"]) < float(lab["p95"])


def test_compare_writes_an_html_page(tmp_path: Path) -> None:
    out = tmp_path / "cmp.html"
    run("compare", "deepseek-lab", "meta-llama3-lab", "-o", str(out))
    page = out.read_text(encoding="utf-8")
    assert 'data-chart="compare-views"' in page and 'data-chart="compare-waterfall"' in page
    assert "DeepSeek lab (V3 run, fleet and staff) vs" in page


def test_mfu_ignored_for_reported_gpu_hours_is_said(tmp_path: Path) -> None:
    f = tmp_path / "v3.yaml"
    f.write_text(
        "model: deepseek-v3\ntraining: {tokens: 14.8e12}\n"
        "cluster: {accelerator: h800, count: 2048, gpu_hours: 2.788e6, mfu: 0.2}\n"
        "pricing: {rental_usd_per_gpu_hour: 2}\n"
    )
    _, err = run("estimate", str(f))
    assert "cluster.mfu is ignored" in err
