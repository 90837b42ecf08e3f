"""The calculator and the report at phone, laptop and desktop widths; a shared link restores an
edited scenario (issue 14). Debian's chromium through Playwright, offline."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from truecost.report import write_report

from .conftest import ARTIFACTS

pytestmark = pytest.mark.browser

WIDTHS = (390, 1024, 1440)
H800_COUNT = 'fieldset.pool[data-pool-accelerator="h800"] input[data-key="count"]'
# Elements reaching past the viewport's right edge, outside boxes that scroll by themselves.
OVERFLOW_JS = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1
               && !e.closest('.table-scroll') && !e.closest('.chart') && e.getClientRects().length)
  .slice(0, 5).map(e => e.tagName + '.' + e.className)"""


def runs(page: Any) -> int:
    return int(page.locator("#results").get_attribute("data-runs"))


def wait_for_run(page: Any, after: int) -> None:
    page.wait_for_function(f"Number(document.querySelector('#results').dataset.runs) > {after}")


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    yield ctx
    ctx.close()


def no_sideways_scroll(page: Any) -> None:
    sw, cw = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert sw <= cw, f"page scrolls sideways: scrollWidth {sw} > {cw}"
    assert page.evaluate(OVERFLOW_JS) == []


@pytest.mark.parametrize("width", WIDTHS)
def test_calculator_fits_the_width(context: Any, live_server: str, width: int) -> None:
    page = context.new_page()
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(live_server + "/?preset=deepseek-lab")
    wait_for_run(page, 0)
    no_sideways_scroll(page)
    # deepseek-lab shows its reference points and what drives the answer
    assert page.locator("#sec-references").is_visible()
    assert "SemiAnalysis total server CapEx" in page.locator("#references-table").inner_text()
    assert page.locator("#sec-sensitivity").is_visible()
    assert page.locator("#chart-tornado .main-svg").count() > 0
    assert page.locator("#ranked-table table").count() == 1
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"calculator-{width}.png"), full_page=False)
    # the first screen shows the answer (on phones the form follows the results)
    box = page.locator("#view-lab_total_cost_usd").bounding_box()
    assert box is not None and box["y"] + box["height"] <= 900


def test_distributions_are_fields_and_labels_are_words(context: Any, live_server: str) -> None:
    page = context.new_page()
    page.goto(live_server + "/?preset=deepseek-lab")
    wait_for_run(page, 0)
    fleet = page.locator("#fleet-fields")
    assert "{" not in " ".join(fleet.locator("input").evaluate_all("els => els.map(e => e.value)"))
    assert fleet.locator("select.kind").evaluate_all("els => els.filter(e => e.value === 'ci90').length") > 0
    labels = fleet.locator("label").all_inner_texts()
    assert "Unit price (USD)" in labels and "unit_price_usd" not in " ".join(labels)
    assert fleet.locator("label", has_text="Count").first.get_attribute("title")  # tooltip from the schema


def test_mfu_ignored_with_reported_gpu_hours_says_so(context: Any, live_server: str) -> None:
    page = context.new_page()
    page.goto(live_server + "/?preset=deepseek-v3")
    wait_for_run(page, 0)
    note = page.locator("#mfu-note")
    assert note.is_hidden()
    page.fill("#f-mfu", "0.2")
    note.wait_for(state="visible")
    assert "Ignored" in note.inner_text()


def test_a_shared_link_restores_the_edited_scenario(context: Any, live_server: str) -> None:
    page = context.new_page()
    page.goto(live_server + "/?preset=deepseek-lab")
    wait_for_run(page, 0)
    page.wait_for_selector(H800_COUNT)
    page.fill(H800_COUNT, "20000")
    n = runs(page)
    page.click("#compute")
    wait_for_run(page, n)
    page.wait_for_function("location.hash.startsWith('#s=')")
    total = page.locator("#view-lab_total_cost_usd").get_attribute("data-value")
    link = page.url
    assert "#s=" in link and len(link) < 8000

    other = context.new_page()  # a fresh page: nothing but the URL carries the scenario
    other.goto(link)
    wait_for_run(other, 0)
    other.wait_for_selector(H800_COUNT)
    assert float(other.locator(H800_COUNT).input_value()) == 20_000
    assert other.locator("#view-lab_total_cost_usd").get_attribute("data-value") == total

    other.reload()  # and a reload keeps it
    wait_for_run(other, 0)
    other.wait_for_selector(H800_COUNT)
    assert float(other.locator(H800_COUNT).input_value()) == 20_000


def test_samples_without_a_seed_get_one_in_the_link(context: Any, live_server: str) -> None:
    page = context.new_page()
    page.goto(live_server + "/?preset=gpt-3")
    wait_for_run(page, 0)
    page.fill("#f-samples", "500")
    n = runs(page)
    page.click("#compute")
    wait_for_run(page, n)
    seed = page.locator("#f-seed").input_value()
    assert seed.isdigit()
    assert f"seed {seed}" in page.locator("#scenario-name").inner_text().lower()


def test_csv_download(context: Any, live_server: str) -> None:
    page = context.new_page()
    page.goto(live_server + "/?preset=deepseek-v3")
    wait_for_run(page, 0)
    with page.expect_download() as dl:
        page.click("#dl-csv")
    text = Path(dl.value.path()).read_text(encoding="utf-8")
    assert text.startswith("section,name,value,p5,p50,p95,mean,unit,source")
    assert "result,headline_cost_usd,5576000" in text and "\nassumption," in text


@pytest.mark.parametrize("width", WIDTHS)
def test_report_fits_the_width_and_is_not_too_tall(
    context: Any, tmp_path_factory: pytest.TempPathFactory, width: int
) -> None:
    path = tmp_path_factory.getbasetemp() / "lab-report.html"
    if not path.exists():
        write_report("deepseek-lab", path)
    page = context.new_page()
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(path.as_uri())
    page.wait_for_selector("#chart-views .main-svg")
    no_sideways_scroll(page)
    height = page.evaluate("document.documentElement.scrollHeight")
    if width == 1440:
        assert height < 15_500, (
            height
        )  # was 18,553 px (3-character "set by" column); 15,002 with carbon and dated-price assumptions
        field_col = page.locator("table.assumptions th").first.bounding_box()["width"]
        assert field_col > 150
    if width == 390:
        page.screenshot(path=str(ARTIFACTS / "report-390.png"), full_page=False)


def test_compare_in_the_page(context: Any, live_server: str) -> None:
    page = context.new_page()
    page.set_viewport_size({"width": 390, "height": 900})
    page.goto(live_server + "/?preset=deepseek-lab")
    wait_for_run(page, 0)
    page.select_option("#compare-with", "meta-llama3-lab")
    page.click("#compare")
    page.wait_for_selector("#compare-table table")
    assert "Meta Llama 3.1" in page.locator("#compare-table").inner_text()
    page.wait_for_selector("#chart-compare-waterfall .main-svg")
    no_sideways_scroll(page)


def test_carbon_section_and_grid_region(context: Any, live_server: str) -> None:
    """deepseek-v3 (China's grid) shows its energy and carbon section; choosing France in the
    region select and recomputing lowers the operational emissions about tenfold."""
    page = context.new_page()
    page.set_viewport_size({"width": 390, "height": 900})
    with page.expect_response("**/api/view") as first:
        page.goto(live_server + "/?preset=deepseek-v3")
    wait_for_run(page, 0)
    china = first.value.json()["estimate"]["results"]["carbon_t_co2e"]
    section = page.locator("#sec-carbon")
    assert section.is_visible()
    assert "China grid" in section.inner_text() and "carbon_t_co2e" in section.inner_text()
    assert "embodied_carbon_t_co2e" in section.inner_text()
    region = page.locator("#f-grid-region")
    assert region.input_value() == "China"
    assert region.get_attribute("title")  # tooltip from the schema
    no_sideways_scroll(page)

    page.select_option("#f-grid-region", "France")
    n = runs(page)
    with page.expect_response("**/api/view") as second:
        page.click("#compute")
    wait_for_run(page, n)
    france = second.value.json()["estimate"]["results"]["carbon_t_co2e"]
    assert 8 < china / france < 25, (china, france)  # 513 vs 33 gCO2e/kWh (2024)
    assert "France grid" in section.inner_text()
    no_sideways_scroll(page)

    page.select_option("#f-grid-region", "")  # no grid: no emissions, no section
    n = runs(page)
    page.click("#compute")
    wait_for_run(page, n)
    assert section.is_hidden()
