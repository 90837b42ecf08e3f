"""Economics that match the references (issue 10): rental prices by basis and date, constant
dollars, lives by generation, hardware ages, and Epoch AI's amortised method in one setting."""

from __future__ import annotations

import csv
import math
from importlib import resources
from typing import Any

import pytest
from numpy.testing import assert_allclose
from typer.testing import CliRunner

import truecost
from truecost.analysis.validate import epoch_rows, epoch_scenario, epoch_summary
from truecost.catalog.prices import (
    BASES,
    deflator,
    epoch_acquisition_price,
    hardware_price_in_force,
)
from truecost.cli import app
from truecost.dates import decimal_year
from truecost.errors import ScenarioError

runner = CliRunner()

H100_RUN: dict[str, Any] = {
    "name": "h100 run",
    "training": {"flops": 1e24},
    "cluster": {"accelerator": "h100-sxm", "count": 1024, "gpu_hours": 1e6},
}


def _run(**sections: Any) -> dict[str, Any]:
    out = {k: dict(v) if isinstance(v, dict) else v for k, v in H100_RUN.items()}
    for k, v in sections.items():
        out[k] = {**out.get(k, {}), **v} if isinstance(v, dict) else v
    return out


def _named(r: Any) -> dict[str, dict[str, Any]]:
    return {a["name"]: a for a in r.assumptions}


# ---- rental prices: basis and date ----------------------------------------------------------
def test_default_h100_price_is_dated_market_index_in_band() -> None:
    """No price, no date: the latest market-index row, SemiAnalysis's 1-yr H100 contract price of
    2026-06-26 ($2.65), inside the $1.5-3.5 band; the assumption names basis, provider and date."""
    r = truecost.estimate(_run())
    a = _named(r)
    assert a["rental_usd_per_gpu_hour"]["value"] == 2.65
    assert 1.5 <= r.results["final_run_cost_usd"] / 1e6 <= 3.5
    src = a["rental_usd_per_gpu_hour"]["source"]
    assert "market-index" in src and "SemiAnalysis" in src and "2026-06-26" in src
    assert a["price_basis"]["value"] == "market-index"
    assert not any("basis" in w for w in r.warnings)


def test_start_date_picks_the_price_in_force() -> None:
    """Training started 2025-01: the market-index row in force is Latent Space's $2.00 of 2024-10-01."""
    r = truecost.estimate(_run(training={"start_date": "2025-01"}))
    assert _named(r)["rental_usd_per_gpu_hour"]["value"] == 2.0
    assert _named(r)["price_date"]["value"] == "2025-01"


def test_pricing_date_overrides_start_date() -> None:
    r = truecost.estimate(_run(training={"start_date": "2025-01"}, pricing={"date": "2026-04"}))
    assert _named(r)["rental_usd_per_gpu_hour"]["value"] == 2.35  # SemiAnalysis, 2026-03-01


def test_asked_basis_is_used() -> None:
    """On-demand hyperscaler in force in March 2025: AWS $12.29, GCP $11.06, Oracle $10.00 on 2025-03-17;
    the median, $11.06, is used."""
    r = truecost.estimate(_run(pricing={"basis": "on-demand-hyperscaler", "date": "2025-04"}))
    a = _named(r)["rental_usd_per_gpu_hour"]
    assert a["value"] == 11.06 and "median of 3" in a["source"]
    r2 = truecost.estimate(_run(pricing={"basis": "on-demand-hyperscaler", "date": "2025-07"}))
    assert _named(r2)["rental_usd_per_gpu_hour"]["value"] == 6.88  # AWS after its June 2025 cut


def test_closest_basis_warns() -> None:
    """V100 has no market-index price: the closest basis in force is used, with a warning."""
    r = truecost.estimate(
        {
            "training": {"flops": 1e22, "start_date": "2019-10"},
            "cluster": {"accelerator": "v100", "count": 8, "gpu_hours": 1000, "mfu_basis": "fp16"},
        }
    )
    assert any("no market-index rental price for v100" in w and "1yr-reserved" in w for w in r.warnings)
    assert _named(r)["rental_usd_per_gpu_hour"]["value"] == 1.95  # Azure 1-yr, 2019-08-06


def test_date_before_the_data_warns_and_uses_the_earliest() -> None:
    """No H100 price of any basis is in force in 2021: the asked basis's earliest row is used."""
    r = truecost.estimate(_run(pricing={"date": "2021-01"}))
    assert _named(r)["rental_usd_per_gpu_hour"]["value"] == 2.0  # Latent Space 2024-10-01, first market-index
    assert any("before the first market-index price" in w for w in r.warnings)


def test_no_rental_price_says_so() -> None:
    r = truecost.estimate(
        {"training": {"flops": 1e22}, "cluster": {"accelerator": "h20", "count": 8, "gpu_hours": 1000}}
    )
    assert "final_run_cost_usd" not in r.results
    assert any("no rental price for h20" in w and "no rental price found" in w for w in r.warnings)


def test_unknown_basis_lists_valid_ones() -> None:
    with pytest.raises(ScenarioError) as e:
        truecost.estimate(_run(pricing={"basis": "cheap"}))
    assert e.value.field == "pricing.basis"
    for b in ("market-index", "on-demand-hyperscaler", "3yr-reserved", "spot"):
        assert b in str(e.value)


def test_bad_price_date_names_field() -> None:
    with pytest.raises(ScenarioError) as e:
        truecost.estimate(_run(pricing={"date": "2024-13"}))
    assert e.value.field == "pricing.date"


def test_every_catalog_basis_is_registered_and_sourced() -> None:
    rows = truecost.catalog.catalog_rows("prices")
    assert len(rows) == 250  # 255 reference rows less 5 for L40S, which is not in the catalog
    assert {r["basis"] for r in rows} <= set(BASES)
    assert all(r["source"] and r["accessed"] for r in rows)


def test_catalog_prices_cli() -> None:
    res = runner.invoke(app, ["catalog", "prices", "--json"])
    assert res.exit_code == 0 and '"market-index"' in res.output
    res = runner.invoke(app, ["catalog", "hardware-prices"])
    assert res.exit_code == 0 and "dgx" in res.output


# ---- hardware prices by date and age ---------------------------------------------------------
def test_hardware_price_in_force_by_date() -> None:
    row, early = hardware_price_in_force("h100-sxm", decimal_year("2024-05"))
    assert (row.date, row.usd_per_accelerator, early) == ("2024-02", 33_810, False)
    row, early = hardware_price_in_force("h100-sxm", 2022.0)
    assert row.date == "2023-05" and early


def test_epoch_earliest_price_rule() -> None:
    """Epoch's rule: the family's earliest DGX price (A100: the 2020 DGX A100, shared by the 40 and
    80 GB parts), else its earliest price (V100: Microway's 2018 chip price)."""
    assert epoch_acquisition_price("a100-sxm4-80gb").date == "2020-05-14"
    assert epoch_acquisition_price("v100").kind == "chip"
    assert epoch_acquisition_price("h800").kind == "dgx"  # DGX H800 $44,750 over the $33,800 chip
    assert epoch_acquisition_price("tpu-v3").kind == "equivalent"


def test_pools_age_from_their_own_acquisition() -> None:
    """value-decay: a pool bought in 2021 (mid-year 2021.5) is 3.0 years old at a 2024-07-01 start; one
    bought in 2024, 0.0 years."""
    scn = _run(
        training={"start_date": "2024-07-01"},
        ownership={"method": "value-decay"},
        fleet=[
            {
                "accelerator": "a100-sxm4-80gb",
                "count": 100,
                "acquisition_year": 2021,
                "unit_price_usd": 15000,
            },
            {"accelerator": "h100-sxm", "count": 100, "acquisition_year": 2024, "unit_price_usd": 25000},
        ],
    )
    r = truecost.estimate(scn)
    a = _named(r)
    age0 = a["fleet[0].hardware_age_years"]["value"]
    assert_allclose(age0, decimal_year("2024-07-01") - 2021.5, atol=1e-4)
    assert a["fleet[1].hardware_age_years"]["value"] == 0.0


def test_catalog_priced_pool_takes_the_price_of_its_year() -> None:
    scn = _run(fleet=[{"accelerator": "h100-sxm", "count": 8, "acquisition_year": 2024}])
    a = _named(truecost.estimate(scn))
    assert a["fleet[0].unit_price_usd"]["value"] == 33_810  # HGX listing 2024-02, in force mid-2024


def test_value_decay_charges_the_decayed_value() -> None:
    """A $10,000 chip (x 1.4 H100 overhead) bought 2 years before the run: depreciation per hour is
    14,000 / 0.81 + 420 storage = 17,703.704 x 10^(-0.28) x 0.14 ln10 / 8766."""
    scn = _run(
        training={"start_date": "2025-07"},
        ownership={"method": "value-decay", "unit_price_usd": 10000},
        fleet=[{"accelerator": "h100-sxm", "count": 8, "acquisition_year": 2023, "unit_price_usd": 10000}],
    )
    r = truecost.estimate(scn)
    terms = r.details["owned_cost_breakdown_usd_per_gpu_hour"]
    hw = 14_000 / 0.81 + 420
    age = decimal_year("2025-07") - 2023.5  # the run is priced from ownership: the pool is not used
    assert r.stages.owned.priced_from_pool is None
    assert_allclose(_named(r)["hardware_age_years"]["value"], 0.0)  # no acquisition date for a given price
    assert_allclose(terms["depreciation"], hw * 0.14 * math.log(10) / 8766, rtol=1e-9)
    scn2 = dict(scn, ownership={"method": "value-decay"})
    r2 = truecost.estimate(scn2)  # priced from the pool: aged from its acquisition
    assert_allclose(
        r2.details["owned_cost_breakdown_usd_per_gpu_hour"]["depreciation"],
        hw * 10 ** (-0.14 * age) * 0.14 * math.log(10) / 8766,
        rtol=1e-4,
    )


# ---- lives by generation ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("accelerator", "life"),
    [
        ("v100", 3.0),
        ("tpu-v3", 3.0),
        ("a100-sxm4-40gb", 4.0),
        ("tpu-v4", 4.0),
        ("h100-sxm", 5.0),
        ("b200", 5.0),
    ],
)
def test_straight_line_life_by_generation(accelerator: str, life: float) -> None:
    """Hyperscaler accounting lives in force when the generation was deployed (server_lifetimes.md
    sec. 2): 3 years before 2020, 4 for 2020-21 hardware, 5 (range 5-6) from 2022."""
    basis = "fp16" if accelerator == "v100" else "bf16"
    r = truecost.estimate(
        {
            "training": {"flops": 1e22},
            "cluster": {"accelerator": accelerator, "count": 8, "gpu_hours": 1000, "mfu_basis": basis},
        }
    )
    a = _named(r)["life_years"]
    assert a["value"] == life and "server_lifetimes.md" in a["source"]


# ---- constant dollars ------------------------------------------------------------------------
def test_cpi_dollar_year_by_hand() -> None:
    """A 2020 run in 2023 dollars: x CPI-U 304.702 / 258.811 = 1.177311 on every USD result."""
    nominal = truecost.estimate(_run(training={"start_date": "2020-06"}))
    real = truecost.estimate(_run(training={"start_date": "2020-06"}, money={"dollar_year": 2023}))
    f = 304.702 / 258.811
    assert_allclose(deflator("cpi-u", 2020, 2023), f)
    for k in ("final_run_cost_usd", "owned_usd_per_gpu_hour", "final_run_owned_cost_usd"):
        assert_allclose(real.results[k], nominal.results[k] * f, rtol=1e-12)
    assert real.results["gpu_hours"] == nominal.results["gpu_hours"]
    a = _named(real)
    assert a["price_index"]["value"] == "cpi-u" and a["dollar_year"]["value"] == 2023
    assert real.details["dollars"] == {"dollar_year": 2023, "index": "cpi-u", "from_year": 2020, "factor": f}


def test_epoch_method_uses_epochs_deflator() -> None:
    r = truecost.estimate(
        _run(training={"start_date": "2022-01"}, ownership={"method": "epoch"}, money={"dollar_year": 2023})
    )
    assert _named(r)["price_index"]["value"] == "ppi-data-processing"
    # Epoch deflates from the publication date: start + training time + a cited lag, its own line.
    lag = _named(r)["epoch_publication_lag_days"]
    assert lag["unit"] == "d" and lag["value"] > 0 and lag["source"]


def test_dollar_year_outside_the_index_names_field() -> None:
    with pytest.raises(ScenarioError) as e:
        truecost.estimate(_run(money={"dollar_year": 2010}))
    assert e.value.field == "money.dollar_year" and "2015-2025" in str(e.value)


def test_nominal_by_default() -> None:
    r = truecost.estimate(_run(training={"start_date": "2020-06"}))
    assert "dollars" not in r.details and "dollar_year" not in _named(r)


# ---- ownership.method ------------------------------------------------------------------------
def test_unknown_method_lists_valid_ones() -> None:
    with pytest.raises(ScenarioError) as e:
        truecost.estimate(_run(ownership={"method": "epoch-decay"}))
    assert e.value.field == "ownership.method"
    assert "straight-line, value-decay, epoch" in str(e.value)


def test_method_and_v1_key_must_agree() -> None:
    with pytest.raises(ScenarioError) as e:
        truecost.estimate(_run(ownership={"method": "epoch", "depreciation": "straight-line"}))
    assert "ownership" in (e.value.field or "")


def test_epoch_method_is_nothing_else() -> None:
    """Under `epoch` the rate has servers, interconnect and energy only, and no other owned-cost
    input is listed in the assumptions."""
    r = truecost.estimate(_run(training={"start_date": "2024-01"}, ownership={"method": "epoch"}))
    assert set(r.details["owned_cost_breakdown_usd_per_gpu_hour"]) == {
        "depreciation",
        "interconnect",
        "power",
    }
    names = _named(r)
    for extra in ("cost_of_capital", "maintenance_share_per_year", "storage_share", "facility", "life_years"):
        assert extra not in names


def test_epoch_gpt3_by_hand() -> None:
    """GPT-3 with Epoch's inputs (economics.md sec. 3): 10,000 V100, 3.552M chip-hours, start
    2019-10-01, publication 2020-05-28, PUE 1.25 (OpenAI is not a hyperscaler).

    price      Microway V100 $11,458 (2018-05-08; no DGX V100 row) x 1.69 = 19,364.02
    age        2019-10-01 - 2018-05-08 = 1.400 yr -> value 19,364.02 x 10^-0.196 = 12,330.92
    hardware   12,330.92 x 0.14 ln10 / 8766 / 0.81            = 0.559826 $/chip-h
    energy     0.300 kW x 1.67 x 0.75 x 1.25 x $0.0667 (2020, nearest to 2019) = 0.031328
    nominal    0.591154 x 3.552e6                              = 2,099,778
    2023 USD   x PPI 118.126 / 114.050 (2020)                  = 2,174,822  (Epoch: 2,056,969; 1.057x)
    """
    rows = _epoch_table()
    gpt3 = next(r for r in rows if r["model"].startswith("GPT-3"))
    r = truecost.estimate(epoch_scenario(gpt3))
    assert_allclose(r.results["final_run_owned_cost_usd"], 2_174_822, rtol=2e-6)


def _epoch_table() -> list[dict[str, str]]:
    text = (
        resources.files("truecost.catalog")
        .joinpath("data", "validation", "epoch_amortised_costs.csv")
        .read_text()
    )
    return list(csv.DictReader(text.splitlines()))


@pytest.fixture(scope="module")
def epoch_results() -> list[dict[str, Any]]:
    return epoch_rows()


def test_epoch_parity_economics_md_sec3_amortised_costs(epoch_results: list[dict[str, Any]]) -> None:
    """Epoch AI's published amortised hardware + energy costs, 2023 USD (economics.md sec. 3, Epoch
    database snapshot 2025-08-07), reproduced with `ownership.method: epoch`, `money.dollar_year:
    2023` and Epoch's own inputs. Measured: every run within +-10% (0.914x Gopher to 1.085x
    DeepSeek-V3), median 0.993x. Bars: each within +-10%, median within +-3%."""
    assert len(epoch_results) == 9
    for r in epoch_results:
        assert 0.90 <= r["ratio"] <= 1.10, (r["label"], r["ratio"])
    s = epoch_summary(epoch_results)
    assert 0.97 <= s["median_ratio"] <= 1.03
    assert s["within_10pct"] == 9


def test_validate_prints_the_epoch_comparison() -> None:
    res = runner.invoke(app, ["validate"])
    assert res.exit_code == 0
    assert "epoch-amortised-cost" in res.output and "median ratio" in res.output


# ---- catalog schema of the new tables ------------------------------------------------------
@pytest.mark.parametrize(
    "file", ["rental_prices.csv", "hardware_prices.csv", "price_indices.csv", "electricity_prices.csv"]
)
def test_price_tables_every_row_sourced_and_dated(file: str) -> None:
    rows = list(
        csv.DictReader(resources.files("truecost.catalog").joinpath("data", file).read_text().splitlines())
    )
    assert rows
    ids = set(truecost.catalog.accelerators())
    for r in rows:
        assert r["source"].strip() and r["accessed"].strip(), r
        if "accelerator_id" in r:
            assert r["accelerator_id"] in ids, r["accelerator_id"]
        if "date" in r:
            decimal_year(r["date"])


def test_epoch_table_every_row_sourced() -> None:
    for r in _epoch_table():
        assert r["source"] and r["accessed"] and float(r["epoch_cost_usd_2023"]) > 0
        assert r["accelerator_id"] in truecost.catalog.accelerators()


def test_hardware_prices_cover_every_priced_accelerator() -> None:
    """Every accelerator with a catalog unit price has at least one dated purchase-price row."""
    for acc in truecost.catalog.accelerators().values():
        if acc.unit_price_usd is not None:
            assert hardware_price_in_force(acc.id, 2100.0) is not None, acc.id


def test_per_accelerator_numbers_are_not_code_dicts() -> None:
    """Power factors moved to catalog rows: truecost.defaults holds no per-accelerator dict."""
    import truecost.defaults as d

    assert not any(isinstance(v, dict) for k, v in vars(d).items() if k.isupper())


def test_tpu_v4_energy_on_palms_measured_system_power() -> None:
    """PaLM App. B measured 378.5 W average system power per TPU v4 chip: 1,000 chip-hours at PUE
    1.08 draw 1,000 x 0.3785 x 1.08 = 408.78 kWh (Epoch's 170 W x 1.47 x 0.43 would give 116.1)."""
    r = truecost.estimate(
        {"training": {"flops": 1e21}, "power": {"pue": 1.08},
         "cluster": {"accelerator": "tpu-v4", "count": 8, "gpu_hours": 1000}}
    )  # fmt: skip
    assert_allclose(r.results["energy_kwh"], 1000 * 0.3785 * 1.08, rtol=1e-6)


def test_tpu_v3_can_be_costed() -> None:
    """Gopher's hardware (TPU v3) is in the catalog: it has a rental row, a purchase price and a life."""
    r = truecost.estimate(
        {"training": {"flops": 6.31e23, "start_date": "2021-09"},
         "cluster": {"accelerator": "tpu-v3", "count": 4096, "gpu_hours": 3_768_320}}
    )  # fmt: skip
    assert r.results["final_run_cost_usd"] > 0 and r.results["final_run_owned_cost_usd"] > 0


@pytest.mark.parametrize("preset", ["meta-llama3-lab", "gpt-3"])
def test_owned_electricity_is_the_runs_energy_when_power_is_given(preset: str) -> None:
    """With power.gpu_watts (Meta's 700 W with PUE folded in; Patterson's 330 W x PUE 1.1), the owned
    power term prices the same energy the run reports: power per GPU-hour x GPU-hours = energy x
    electricity price (it priced TDP x server share x utilisation x PUE before)."""
    e = truecost.estimate(preset)
    price = next(a["value"] for a in e.assumptions if a["name"] == "electricity_usd_per_kwh")
    power = e.stages.owned.breakdown_usd_per_gpu_hour["power"] * e.stages.run.gpu_hours
    assert power == pytest.approx(e.stages.run.energy_kwh * price, rel=1e-12)
    assert any(a["name"] == "owned_power_basis" for a in e.assumptions)
