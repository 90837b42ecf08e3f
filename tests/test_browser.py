"""The web calculator in a real browser (Debian's chromium through Playwright), offline."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import ARTIFACTS

pytestmark = pytest.mark.browser

LAB_TOTAL = "#view-lab_total_cost_usd"
H800_COUNT = 'fieldset.pool[data-pool-accelerator="h800"] input[data-key="count"]'


def runs(page: Any) -> int:
    return int(page.locator("#results").get_attribute("data-runs"))


def wait_for_run(page: Any, after: int) -> None:
    page.wait_for_function(f"Number(document.querySelector('#results').dataset.runs) > {after}")


def test_doubling_the_h800_pool_raises_the_lab_total(page: Any, live_server: str) -> None:
    """deepseek-lab: the H800 pool from 10,000 to 20,000 GPUs adds its CapEx and OpEx to the lab total."""
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on(
        "console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None
    )
    page.on(
        "request",
        lambda r: None if r.url.startswith((live_server, "blob:", "data:")) else problems.append(r.url),
    )

    page.goto(live_server + "/")
    wait_for_run(page, 0)
    before_select = runs(page)
    page.select_option("#preset", "deepseek-lab")
    wait_for_run(page, before_select)
    page.wait_for_selector(H800_COUNT)
    assert "DeepSeek lab" in (page.locator("#scenario-name").text_content() or "")

    card = page.locator(LAB_TOTAL)
    total_before = float(card.get_attribute("data-value"))
    text_before = card.locator(".card-value").inner_text()
    headline_before = page.locator("#view-headline_cost_usd").get_attribute("data-value")
    count = page.locator(H800_COUNT)
    assert float(count.input_value()) == 10_000

    count.fill("20000")
    n = runs(page)
    page.click("#compute")
    wait_for_run(page, n)

    total_after = float(card.get_attribute("data-value"))
    assert total_after > total_before * 1.05  # 10,000 more H800s: hundreds of $M on a ~$2.7B total
    assert card.locator(".card-value").inner_text() != text_before
    assert page.locator("#view-headline_cost_usd").get_attribute("data-value") == headline_before
    assert page.locator("#chart-waterfall .main-svg").count() > 0  # plotly drew the waterfall
    assert page.locator("#form-error").is_hidden()
    page.evaluate("window.scrollTo(0, 0)")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "calculator-deepseek-lab.png"), full_page=False)
    assert problems == []


def test_a_bad_input_names_the_field(page: Any, live_server: str) -> None:
    page.goto(live_server + "/")
    wait_for_run(page, 0)
    page.fill("#f-tokens", "-5")
    page.click("#compute")
    error = page.locator("#form-error")
    error.wait_for(state="visible")
    assert "training.tokens" in error.inner_text()
    assert "invalid" in (page.locator("#f-tokens").get_attribute("class") or "")


def open_preset(page: Any, live_server: str, preset: str) -> list[str]:
    """Load the calculator, choose a preset, wait for its run; the page errors seen, live."""
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.goto(live_server + "/")
    wait_for_run(page, 0)
    n = runs(page)
    page.select_option("#preset", preset)
    wait_for_run(page, n)
    return problems


def test_serving_preset_shows_the_serving_section(page: Any, live_server: str) -> None:
    """deepseek-serving: the serving section appears with its $/M-token cards; deepseek-v3 hides it."""
    problems = open_preset(page, live_server, "deepseek-serving")
    assert page.locator("#sec-serving").is_visible()
    card = page.locator("#view-serving_usd_per_m_output_tokens")
    assert float(card.get_attribute("data-value")) == pytest.approx(0.3003, abs=1e-4)
    assert page.locator("#chart-serving .main-svg").count() > 0  # plotly drew the cost curve
    page.locator("#sec-serving").scroll_into_view_if_needed()
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#sec-serving").screenshot(path=str(ARTIFACTS / "calculator-deepseek-serving.png"))
    n = runs(page)
    page.select_option("#preset", "deepseek-v3")
    wait_for_run(page, n)
    assert page.locator("#sec-serving").is_hidden()
    assert problems == []


def test_serving_fields_edit_the_serving_section(page: Any, live_server: str) -> None:
    """deepseek-serving fills the serving fields; half the load doubles the cost per token, and a
    training preset leaves them blank without adding a serving section."""
    problems = open_preset(page, live_server, "deepseek-serving")
    assert float(page.locator("#f-serving-in").input_value()) == 3619
    assert page.locator("#f-serving-accelerator").input_value() == "h800"
    card = page.locator("#view-serving_usd_per_m_output_tokens")
    before = float(card.get_attribute("data-value"))
    page.fill("#f-serving-util", "0.5")
    n = runs(page)
    page.click("#compute")
    wait_for_run(page, n)
    assert float(card.get_attribute("data-value")) == pytest.approx(2 * before, rel=1e-6)
    assert page.locator("#form-error").is_hidden()
    n = runs(page)
    page.select_option("#preset", "deepseek-v3")
    wait_for_run(page, n)
    assert page.locator("#f-serving-in").input_value() == ""
    assert page.locator("#sec-serving").is_hidden()
    assert problems == []
