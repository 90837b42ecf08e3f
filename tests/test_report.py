"""`truecost report`: one self-contained HTML file (or Markdown + PNGs), escaped, offline."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from truecost.cli import app as cli
from truecost.errors import TruecostError
from truecost.report import write_report

# A <script src> or <link href> to any remote host (http:, https: or protocol-relative).
REMOTE = re.compile(r"<(?:script|link|img|iframe)[^>]+(?:src|href)=[\"']?(?:https?:)?//", re.I)


def run(*args: str) -> None:
    out = CliRunner().invoke(cli, ["report", *args])
    assert out.exit_code == 0, out.output


@pytest.fixture(scope="module")
def v3_html(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("report") / "r.html"
    run("deepseek-v3", "-o", str(path))
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def lab_html(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("report") / "lab.html"
    run("deepseek-lab", "-o", str(path), "--samples", "300", "--seed", "1")
    return path.read_text(encoding="utf-8")


def test_deepseek_v3_report_is_offline_and_has_the_headline(v3_html: str) -> None:
    assert not REMOTE.search(v3_html)
    assert "plotly.js v" in v3_html  # inlined, not fetched
    assert "$5.576M" in v3_html
    assert "<h1>DeepSeek-V3 (official training run, as reported)</h1>" in v3_html  # the scenario's name
    assert "What the final training run cost, rented and owned." in v3_html


def test_report_shows_the_derivation_and_convention(v3_html: str) -> None:
    assert 'id="derivation"' in v3_html
    assert "training_flops" in v3_html and "flops_per_token x training.tokens" in v3_html
    assert "FLOP convention" in v3_html and "megatron" in v3_html
    assert "context extension" in v3_html  # the reported stages


def test_report_has_sourced_assumptions_notes_and_reference_points(v3_html: str) -> None:
    table = v3_html[v3_html.index('<table class="assumptions">') :]
    table = table[: table.index("</table>")]
    assert "<th>source</th>" in table and "<th>date</th>" in table
    assert "Epoch AI" in table and "2026-" in table
    assert "aforementioned costs include only the official training" in v3_html  # the quoted caveat
    assert "DeepSeek reported total" in v3_html  # a reference point


def test_scenario_without_a_lab_says_what_is_missing(v3_html: str) -> None:
    assert "not computed" in v3_html
    assert "no waterfall" in v3_html


def test_deepseek_lab_report_has_the_charts(lab_html: str) -> None:
    charts = set(re.findall(r'data-chart="(\w+)"', lab_html))
    assert {"views", "waterfall", "breakdown", "distributions", "tornado"} <= charts
    assert lab_html.count("Plotly.newPlot(") >= 3
    for view in (
        "headline_cost_usd",
        "final_run_owned_cost_usd",
        "development_cost_usd",
        "lab_total_cost_usd",
    ):
        assert f'id="view-{view}"' in lab_html
    assert "CapEx by pool" in lab_html and "OpEx by kind" in lab_html
    assert "Sobol" in lab_html
    assert not REMOTE.search(lab_html)


def test_text_is_escaped(tmp_path: Path) -> None:
    evil = "<script>alert(1)</script>"
    scenario = {
        "name": evil,
        "description": "<img src=x onerror=alert(2)>",
        "model": "deepseek-v3",
        "training": {"tokens": 14.8e12},
        "cluster": {"accelerator": "h800", "count": 2048, "gpu_hours": 2.788e6},
        "pricing": {"rental_usd_per_gpu_hour": 2.0},
        "notes": ["</script><script>alert(3)</script>"],
    }
    text = write_report(scenario, tmp_path / "e.html").read_text(encoding="utf-8")
    assert "alert(1)" in text and evil not in text
    assert "<img src=x" not in text and "<script>alert(3)" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_markdown_writes_pngs(tmp_path: Path) -> None:
    out = tmp_path / "lab.md"
    run("deepseek-lab", "-o", str(out), "--format", "md", "--samples", "300", "--seed", "1")
    md = out.read_text(encoding="utf-8")
    pngs = sorted(tmp_path.glob("lab-*.png"))
    assert {p.name for p in pngs} >= {"lab-views.png", "lab-waterfall.png", "lab-breakdown.png"}
    for p in pngs:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"]({p.name})" in md
    assert "## Assumptions" in md and "| input | value |" in md
    assert "\\$5.576M" in md  # dollars escaped: Markdown renderers with math read $...$ as LaTeX


def test_write_report_returns_the_path(tmp_path: Path) -> None:
    assert write_report("gpt-3", tmp_path / "g.html") == tmp_path / "g.html"


@pytest.mark.parametrize("where", ["missing-dir/r.html", "."])
def test_unwritable_output_names_output(tmp_path: Path, where: str) -> None:
    with pytest.raises(TruecostError) as err:
        write_report("deepseek-v3", tmp_path / where)
    assert err.value.field == "output"


def test_unknown_format_lists_the_formats(tmp_path: Path) -> None:
    with pytest.raises(TruecostError, match="html, md") as err:
        write_report("deepseek-v3", tmp_path / "r.pdf", fmt="pdf")
    assert err.value.field == "format"


def test_cli_error_is_exit_2_without_traceback(tmp_path: Path) -> None:
    out = CliRunner().invoke(cli, ["report", "deepseek-v3", "-o", str(tmp_path / "no" / "r.html")])
    assert out.exit_code == 2
    assert "output" in out.output and "Traceback" not in out.output


def test_answer_and_reference_points_first_assumptions_last(lab_html: str) -> None:
    order = [
        lab_html.index(f'id="{s}"')
        for s in ("view-headline_cost_usd", "reference-points", "views", "assumptions")
    ]
    assert order == sorted(order)
    assert lab_html.index('id="assumptions"') > lab_html.index('id="results"')
    assert "<h1>DeepSeek lab (V3 run, fleet and staff)</h1>" in lab_html
    assert "-2% vs published" in lab_html  # SemiAnalysis server CapEx, reconciled up front


def test_monte_carlo_cards_histograms_and_waterfall_agree_or_say_why(lab_html: str) -> None:
    import truecost

    est = truecost.estimate("deepseek-lab", samples=300, seed=1)
    p50 = est.results["lab_total_cost_usd"]["p50"]
    card = re.search(r'id="view-lab_total_cost_usd"[^>]*data-value="([^"]+)"', lab_html)
    assert card and float(card.group(1)) == pytest.approx(p50)
    from truecost.fmt import value

    # the histogram's label carries the same p50 as the card
    label = f"lab_total_cost_usd\\u003c/b\\u003e  p50 {value(p50, 'USD')}".replace("$", "\\u0026#36;")
    assert label in lab_html
    assert "the median of a sum is not the sum of the medians" in lab_html


def test_tornado_labels_are_words_with_ranges(lab_html: str) -> None:
    assert "H20 pool: unit price, $6K to $24K" in lab_html
