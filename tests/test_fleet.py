"""Fleet TCO (fleet stage): hand-checked CapEx/OpEx/depreciation/TCO, arrays, properties, bad input."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from typer.testing import CliRunner

import truecost
from truecost.cli import app
from truecost.errors import ScenarioError
from truecost.stages import fleet

runner = CliRunner()


def _pool(**kw: Any) -> dict[str, Any]:
    p: dict[str, Any] = {
        "accelerator": "h800",
        "count": 1000,
        "unit_price_usd": 30000,
        "price_source": "test",
    }
    p.update(kw)
    return p


def _scn(*pools: dict[str, Any], **extra: Any) -> dict[str, Any]:
    s: dict[str, Any] = {"name": "fleet only", "fleet": list(pools)}
    s.update(extra)
    return s


def test_one_pool_by_hand() -> None:
    """1,000 H800 at $30,000 each, every other input default (H800 server overhead 1.324):

    servers     1000 x 30,000 x 1.324          = 39,720,000
    networking  39.72M x 0.19 / 0.81           =  9,317,037.04
    storage     39.72M x 0.03                  =  1,191,600
    CapEx                                      = 50,228,637.04 USD
    power       1000 x 0.098655375 $/h x 8766  =    864,813.02 /yr
    colocation  1000 x 1.274 kW x 184.06 x 12  =  2,813,909.28 /yr
    maintenance 0.03 x CapEx                   =  1,506,859.11 /yr
    operations  0.01 x CapEx                   =    502,286.37 /yr
    OpEx                                       =  5,687,867.78 USD/yr
    capital     0.08 x mean book value over 4 of 5 years: CapEx x (4 - 16/10) / 4 = 0.6 CapEx
                = 0.08 x 30,137,182.22         =  2,410,974.58 /yr
    TCO, 4 y    CapEx + 4 x (OpEx + capital)   = 82,624,006.46 USD (cash, capital 0: 72,980,108.15)
    depreciation (5-y straight line, 4 of 5 years booked) / 4 = CapEx / 5 = 10,045,727.41 USD/yr
    """
    r = truecost.estimate(_scn(_pool()))
    res = r.results
    assert_allclose(res["fleet_capex_usd"], 50_228_637.04, rtol=1e-9)
    assert_allclose(res["fleet_opex_usd_per_year"], 5_687_867.78, rtol=1e-9)
    assert_allclose(res["fleet_tco_usd"], 82_624_006.46, rtol=1e-9)
    assert_allclose(r.details["fleet_summary"]["capital_cost_usd_per_year"], 2_410_974.58, rtol=1e-9)
    assert_allclose(r.details["fleet_summary"]["cash_tco_usd_per_year"], 72_980_108.15 / 4, rtol=1e-9)
    assert_allclose(res["fleet_depreciation_usd_per_year"], 10_045_727.41, rtol=1e-9)
    cash = truecost.estimate(_scn(_pool(), ownership={"cost_of_capital": 0}))
    assert_allclose(cash.results["fleet_tco_usd"], 72_980_108.15, rtol=1e-9)
    cap = r.details["fleet_capex_breakdown_usd"]
    assert_allclose([cap["servers"], cap["networking"], cap["storage"], cap["facility_fit_out"]],
                    [39_720_000, 9_317_037.04, 1_191_600, 0], rtol=1e-9)  # fmt: skip
    op = r.details["fleet_opex_breakdown_usd_per_year"]
    assert_allclose([op["power"], op["facility_rent"], op["maintenance"], op["operations_staff"]],
                    [864_813.02, 2_813_909.28, 1_506_859.11, 502_286.37], rtol=1e-8)  # fmt: skip
    assert r.units["fleet_capex_usd"] == "USD"
    assert r.units["fleet_opex_usd_per_year"] == "USD/yr"
    assert r.details["fleet_summary"]["horizon_years"] == 4
    pool = r.details["fleet_pools"][0]
    assert_allclose(pool["owned_usd_per_gpu_hour"], 2.024040688, rtol=1e-9)


def test_owned_build_adds_facility_capex_by_hand() -> None:
    """Owned build at $10M/MW: 1000 x 1.274 kW = 1.274 MW -> 12.74M fit-out; no rent; the facility
    depreciates over 15 years: 12.74M x 4/15 / 4 = 849,333.33 USD/yr beside the IT hardware's."""
    r = truecost.estimate(_scn(_pool(), ownership={"facility": "owned-build"}))
    cap = r.details["fleet_capex_breakdown_usd"]
    assert_allclose(cap["facility_fit_out"], 12_740_000, rtol=1e-12)
    assert_allclose(r.results["fleet_capex_usd"], 50_228_637.04 + 12_740_000, rtol=1e-9)
    assert r.details["fleet_opex_breakdown_usd_per_year"]["facility_rent"] == 0
    assert_allclose(r.results["fleet_depreciation_usd_per_year"], 10_045_727.41 + 849_333.33, rtol=1e-9)


def test_server_price_and_catalog_price() -> None:
    """A $270,000 8-GPU server is $33,750/GPU with no overhead: servers = 1000 x 33,750; the
    catalog price (DGX H100 / 8) gives the same."""
    a = truecost.estimate(_scn(_pool(accelerator="h100-sxm", unit_price_usd=None, server_price_usd=270000)))
    b = truecost.estimate(_scn({"accelerator": "h100-sxm", "count": 1000}))
    assert_allclose(a.details["fleet_capex_breakdown_usd"]["servers"], 33_750_000)
    assert_allclose(b.results["fleet_capex_usd"], a.results["fleet_capex_usd"])
    names = {x["name"]: x for x in b.assumptions}
    assert "2023-05" in names["fleet[0].unit_price_usd"]["source"]


def test_pool_overrides_apply_to_that_pool_only() -> None:
    """Pool 1 with a 2-year life: its depreciation is CapEx/2 a year for the 2 years booked of 4,
    i.e. CapEx x 2/2 / 4 = CapEx / 4; pool 0 keeps CapEx / 5."""
    r = truecost.estimate(_scn(_pool(), _pool(ownership={"life_years": 2})))
    assert_allclose(r.results["fleet_depreciation_usd_per_year"], 50_228_637.04 * (1 / 5 + 1 / 4), rtol=1e-9)
    fields = {a.get("field") for a in r.assumptions}
    assert "fleet[1].ownership.life_years" in fields and "ownership.life_years" in fields


def test_horizon_from_lab_or_ownership() -> None:
    r = truecost.estimate(_scn(_pool(), ownership={"horizon_years": 6, "cost_of_capital": 0}))
    assert_allclose(r.results["fleet_tco_usd"], 50_228_637.04 + 6 * 5_687_867.78, rtol=1e-9)
    r = truecost.estimate(_scn(_pool(), ownership={"cost_of_capital": 0}, lab={"horizon_years": 2}))
    assert_allclose(r.results["fleet_tco_usd"], 50_228_637.04 + 2 * 5_687_867.78, rtol=1e-9)


def test_catalog_price_years_after_purchase_warns() -> None:
    r = truecost.estimate(_scn({"accelerator": "h800", "count": 10, "acquisition_year": 2022}))
    assert any("2025-02-21" in w and "fleet[0]" in w for w in r.warnings)


def test_epoch_decay_fleet_depreciation_by_hand() -> None:
    """Epoch decay over 4 years: CapEx x (1 - 10^(-0.56)) / 4 = 50,228,637.04 x 0.724581 / 4."""
    r = truecost.estimate(_scn(_pool(ownership={"depreciation": "epoch-decay"})))
    assert_allclose(
        r.results["fleet_depreciation_usd_per_year"], 50_228_637.04 * (1 - 10**-0.56) / 4, rtol=1e-9
    )


# ---- arrays ----------------------------------------------------------------------------------
def test_formulas_broadcast() -> None:
    counts = np.array([1.0, 10.0, 100.0])
    assert_allclose(fleet.pool_capex_usd(counts, 4e4, 9e3, 1.2e3, 0.0), counts * 50_200)
    assert_allclose(fleet.power_usd_per_year(counts, 0.1, 0.5), counts * 438.3)
    assert_allclose(fleet.tco_usd(np.array([1.0, 2.0]), 0.5, np.array([4.0, 2.0])), [3.0, 3.0])
    assert_allclose(fleet.share_of_capex_usd_per_year(counts, 0.03), counts * 0.03)
    assert_allclose(fleet.depreciation_usd_per_year(counts, 4.0), counts / 4)


def test_fleet_monte_carlo() -> None:
    s = _scn(
        _pool(count={"dist": "triangular", "low": 500, "mode": 1000, "high": 1500}),
        _pool(accelerator="h20", unit_price_usd={"ci90": [6000, 24000]}),
    )
    r = truecost.estimate(s, samples=400, seed=0)
    for k in (
        "fleet_capex_usd",
        "fleet_opex_usd_per_year",
        "fleet_tco_usd",
        "fleet_depreciation_usd_per_year",
    ):
        v = r.results[k]
        assert v["p5"] < v["p50"] < v["p95"], k
    assert any(
        "uncertain" in a["source"] for a in r.assumptions if a.get("field") == "fleet[1].unit_price_usd"
    )


# ---- properties ----------------------------------------------------------------------------
@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 100_000), extra=st.integers(0, 100_000))
def test_more_gpus_never_lower_capex(n: float, extra: float) -> None:
    a = truecost.estimate(_scn(_pool(count=n))).results["fleet_capex_usd"]
    b = truecost.estimate(_scn(_pool(count=n + extra))).results["fleet_capex_usd"]
    assert b >= a * (1 - 1e-12)


@settings(max_examples=25, deadline=None)
@given(life=st.floats(0.5, 15), extra=st.floats(0, 10))
def test_longer_life_never_raises_fleet_depreciation(life: float, extra: float) -> None:
    a = truecost.estimate(_scn(_pool(), ownership={"life_years": life})).results[
        "fleet_depreciation_usd_per_year"
    ]
    b = truecost.estimate(_scn(_pool(), ownership={"life_years": life + extra})).results[
        "fleet_depreciation_usd_per_year"
    ]
    assert b <= a * (1 + 1e-12)


@settings(max_examples=25, deadline=None)
@given(k=st.floats(0.05, 20))
def test_scaling_price_scales_capex(k: float) -> None:
    a = truecost.estimate(_scn(_pool())).results["fleet_capex_usd"]
    b = truecost.estimate(_scn(_pool(unit_price_usd=30000 * k))).results["fleet_capex_usd"]
    assert_allclose(b, k * a, rtol=1e-9)


# ---- bad input -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("pool", "field", "expected"),
    [
        (_pool(count=-5), "count", "must lie in"),
        (_pool(accelerator="h9000"), "accelerator", "valid ids: a100-sxm4-40gb"),
        (_pool(unit_price_usd=-1), "unit_price_usd", "must lie in"),
        (_pool(server_price_usd=200000), "fleet", "not both"),
        (_pool(ownership={"life_years": 0}), "life_years", "must lie in"),
        (_pool(ownership={"fleet_utilisation": 1.2}), "fleet_utilisation", "must lie in"),
        (_pool(ownership={"unit_price_usd": 1000}), "fleet", "goes on the pool"),
        (_pool(acquisition_year=1800), "acquisition_year", "greater than or equal to 1990"),
    ],
)
def test_bad_pool_names_field(pool: dict[str, Any], field: str, expected: str) -> None:
    with pytest.raises(ScenarioError) as exc:
        truecost.estimate(_scn(pool))
    msg = str(exc.value)
    assert "fleet" in msg and field in msg and expected in msg, msg


def test_no_price_anywhere_names_field() -> None:
    with pytest.raises(ScenarioError, match=r"fleet\[0\]\.unit_price_usd"):
        truecost.estimate(_scn({"accelerator": "mi325x", "count": 8}))


@pytest.mark.parametrize(
    ("pool_yaml", "field"),
    [
        ("{accelerator: h800, count: -3}", "count"),
        ("{accelerator: h1000, count: 3}", "valid ids"),
        ("{accelerator: h800, count: 3, ownership: {life_years: 0}}", "life_years"),
        ("{accelerator: h800, count: 3, ownership: {fleet_utilisation: 2}}", "fleet_utilisation"),
    ],
)
def test_bad_pool_cli_exit_2(tmp_path: Any, pool_yaml: str, field: str) -> None:
    f = tmp_path / "s.yaml"
    f.write_text(f"fleet:\n  - {pool_yaml}\n")
    res = runner.invoke(app, ["estimate", str(f)])
    assert res.exit_code == 2, res.output
    assert "fleet" in res.output and field in res.output and "Traceback" not in res.output
