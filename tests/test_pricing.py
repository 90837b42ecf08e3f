"""Owned cost per GPU-hour (pricing stage): hand-checked values, both depreciation views,
broadcasting over arrays, properties, and bad input."""

from __future__ import annotations

import math
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
from truecost.stages import pricing

runner = CliRunner()

# Llama 3.1 405B as the issue gives it: no training.tokens, GPU-hours known, default ownership.
LLAMA: dict[str, Any] = {
    "model": "llama-3.1-405b",
    "cluster": {"accelerator": "h100-sxm", "count": 16384, "gpu_hours": 30.84e6},
}


def _with(base: dict[str, Any], **sections: Any) -> dict[str, Any]:
    out = dict(base)
    out.update(sections)
    return out


# ---- end to end, by hand ---------------------------------------------------------------------
def test_h100_default_owned_rate_by_hand() -> None:
    """H100 with every default (catalog DGX H100 price $33,750/GPU, server included):

    server      33,750 x 1.0                        = 33,750
    networking  33,750 x 0.19 / 0.81                =  7,916.667
    storage     33,750 x 0.03                       =  1,012.5
    hardware                                        = 42,679.167 USD
    depreciation   42,679.167 / 5 / 8766            = 0.973743 $/h
    capital        0.08 x 42,679.167 / 2 / 8766     = 0.194749
    maintenance    0.03 x 42,679.167 / 8766         = 0.146061
    operations     0.01 x 42,679.167 / 8766         = 0.048687
    facility       0.7 kW x 1.82 x 184.06 x 12 / 8766 = 0.321003
    power          0.7 x 1.82 x 0.75 x 1.25 x 0.0826 = 0.098655
    total                                           = 1.782899 $/GPU-h, inside the $1-2.5 market band
    final run      1.782899 x 30.84e6               = 54.984592e6 USD
    """
    r = truecost.estimate(LLAMA)
    terms = r.details["owned_cost_breakdown_usd_per_gpu_hour"]
    assert_allclose(
        [
            terms[k]
            for k in ("depreciation", "cost_of_capital", "maintenance", "operations", "facility", "power")
        ],
        [0.973743, 0.194749, 0.146061, 0.048687, 0.321003, 0.098655],
        rtol=2e-5,
    )
    assert_allclose(r.results["owned_usd_per_gpu_hour"], 1.782899, rtol=1e-6)
    assert 1.0 <= r.results["owned_usd_per_gpu_hour"] <= 2.5
    assert_allclose(r.results["final_run_owned_cost_usd"], 54.984592e6, rtol=1e-6)
    assert r.units["owned_usd_per_gpu_hour"] == "USD/GPU-h"
    assert r.units["final_run_owned_cost_usd"] == "USD"
    assert "depreciation" in r.details["owned_cost_summary"]


def test_final_run_owned_is_rate_times_gpu_hours() -> None:
    r = truecost.estimate("deepseek-v3")
    assert_allclose(r.results["final_run_owned_cost_usd"], r.results["owned_usd_per_gpu_hour"] * 2.788e6)
    # the rental headline is untouched
    assert r.results["headline_cost_usd"] == 5.576e6


def test_every_ownership_method_named_by_hand() -> None:
    """value-decay, new hardware: 42,679.167 x 0.14 x ln10 / 8766 = 1.569488 $/h depreciation,
    capital on the full value 0.08 x 42,679.167 / 8766 = 0.389497; with the other terms as above
    (0.146061 + 0.048687 + 0.321003 + 0.098655) the total is 2.573391 $/GPU-h.

    epoch (Epoch AI's method, no start date: age 0): the earliest DGX H100 price $33,750 (server
    included, no overhead) x 0.14 ln10 / 8766 = 1.241159; interconnect x 0.19/0.81 = 0.291137;
    power 0.098655; total 1.630951 $/GPU-h."""
    r = truecost.estimate(LLAMA)
    views = r.details["owned_usd_per_gpu_hour_by_depreciation"]
    assert set(views) == {"straight-line", "value-decay", "epoch"}
    assert_allclose(views["straight-line"], 1.782899, rtol=1e-6)
    assert_allclose(views["value-decay"], 2.573391, rtol=1e-6)
    k = 0.14 * math.log(10)
    servers = 33_750 * k / 8766
    assert_allclose(views["epoch"], servers / 0.81 + 0.7 * 1.82 * 0.75 * 1.25 * 0.0826, rtol=1e-9)
    # the v1 key still works: `depreciation: epoch-decay` is `method: value-decay`
    r2 = truecost.estimate(_with(LLAMA, ownership={"depreciation": "epoch-decay"}))
    assert_allclose(r2.results["owned_usd_per_gpu_hour"], 2.573391, rtol=1e-6)
    names = {a["name"]: a for a in r2.assumptions}
    assert names["ownership_method"]["value"] == "value-decay"
    assert "0.14" in names["decay_oom_per_year"]["source"] or names["decay_oom_per_year"]["value"] == 0.14
    r3 = truecost.estimate(_with(LLAMA, ownership={"method": "value-decay"}))
    assert r3.results["owned_usd_per_gpu_hour"] == r2.results["owned_usd_per_gpu_hour"]


def test_idle_half_the_time_doubles_fixed_costs() -> None:
    """Utilisation 0.5: fixed terms double, power (busy hours only) does not:
    (1.782899 - 0.098655) x 2 + 0.098655 = 3.467143 $/GPU-h."""
    r = truecost.estimate(_with(LLAMA, ownership={"fleet_utilisation": 0.5}))
    assert_allclose(r.results["owned_usd_per_gpu_hour"], 3.467143, rtol=1e-6)


def test_chip_price_gets_server_overhead() -> None:
    """A given H100 chip price of $25,000 gets SemiAnalysis's ~1.4 server overhead: server
    35,000/GPU, so hardware = 35,000 / 0.81 + 1,050 = 44,259.877; depreciation 44,259.877/5/8766."""
    r = truecost.estimate(_with(LLAMA, ownership={"unit_price_usd": 25000, "price_source": "test"}))
    dep = r.details["owned_cost_breakdown_usd_per_gpu_hour"]["depreciation"]
    assert_allclose(dep, 44259.877 / 5 / 8766, rtol=1e-6)
    a = {x["name"]: x for x in r.assumptions}
    assert a["server_overhead"]["value"] == 1.4 and "SemiAnalysis" in a["server_overhead"]["source"]
    assert a["ownership.unit_price_usd"]["source"] == "test"


def test_server_price_divides_by_gpus_per_node() -> None:
    """A $270,000 server of 8 GPUs is the catalog's $33,750/GPU all in: same rate as the default."""
    r = truecost.estimate(_with(LLAMA, ownership={"server_price_usd": 270000}))
    assert_allclose(r.results["owned_usd_per_gpu_hour"], 1.782899, rtol=1e-6)


def test_owned_build_facility_by_hand() -> None:
    """Owned data centre at $10M/MW over 15 years: 1.274 kW x $10,000/kW = 12,740 USD/GPU;
    facility term = 12,740 / 15 / 8766 = 0.096889 $/h; its capital 0.08 x 6,370 / 8766 = 0.058134
    is added to the cost of capital; maintenance and operations grow by 4% x 12,740 / 8766."""
    base = truecost.estimate(LLAMA).details["owned_cost_breakdown_usd_per_gpu_hour"]
    r = truecost.estimate(_with(LLAMA, ownership={"facility": "owned-build"}))
    t = r.details["owned_cost_breakdown_usd_per_gpu_hour"]
    assert_allclose(t["facility"], 12740 / 15 / 8766, rtol=1e-9)
    assert_allclose(t["cost_of_capital"] - base["cost_of_capital"], 0.08 * 6370 / 8766, rtol=1e-9)
    assert_allclose(
        t["maintenance"] + t["operations"] - base["maintenance"] - base["operations"],
        0.04 * 12740 / 8766,
        rtol=1e-9,
    )


def test_power_reuses_run_stage_names() -> None:
    r = truecost.estimate(_with(LLAMA, power={"pue": 1.1, "electricity_usd_per_kwh": 0.1}))
    names = [a["name"] for a in r.assumptions]
    for n in ("server_to_chip_power", "power_utilisation", "pue", "electricity_usd_per_kwh"):
        assert names.count(n) == 1, n
    assert_allclose(
        r.details["owned_cost_breakdown_usd_per_gpu_hour"]["power"], 0.7 * 1.82 * 0.75 * 1.1 * 0.1
    )


def test_defaults_are_cited_with_fields() -> None:
    r = truecost.estimate(LLAMA)
    a = {x["name"]: x for x in r.assumptions}
    for name in (
        "unit_price_usd", "server_overhead", "networking_share", "storage_share", "life_years",
        "decay_oom_per_year", "cost_of_capital", "maintenance_share_per_year", "operations_share_per_year",
        "fleet_utilisation", "colocation_usd_per_kw_month", "electricity_usd_per_kwh",
    ):  # fmt: skip
        assert a[name]["source"], name
        assert a[name]["field"].startswith(("ownership.", "power.")), name
    assert "2023-05" in a["unit_price_usd"]["source"]  # the catalog price's date
    assert "CBRE" in a["colocation_usd_per_kw_month"]["source"]


def test_no_catalog_price_warns() -> None:
    r = truecost.estimate(
        {"model": "llama-3.1-8b", "cluster": {"accelerator": "mi325x", "count": 8, "gpu_hours": 1000}}
    )
    assert "owned_usd_per_gpu_hour" not in r.results
    assert any("no purchase price" in w for w in r.warnings)


# ---- formulas broadcast over arrays ------------------------------------------------------------
ARR = np.array([0.5, 1.0, 2.0])


@pytest.mark.parametrize(
    ("fn", "args"),
    [
        (pricing.server_cost_per_gpu_usd, (33800.0, 1.324)),
        (pricing.networking_capex_usd, (81000.0, 0.19)),
        (pricing.storage_capex_usd, (1e5, 0.03)),
        (pricing.it_power_kw, (700.0, 1.82)),
        (pricing.power_usd_per_busy_hour, (700.0, 1.82, 0.75, 1.25, 0.0826)),
        (pricing.straight_line_usd_per_year, (5e4, 5.0)),
        (pricing.epoch_decay_value_usd, (1e4, 1.0, 0.14)),
        (pricing.epoch_decay_usd_per_year, (1e4, 1.0, 0.14)),
        (pricing.straight_line_over_horizon_usd, (5e4, 5.0, 4.0)),
        (pricing.epoch_decay_over_horizon_usd, (1e4, 0.14, 4.0)),
        (pricing.straight_line_mean_book_usd, (5e4, 5.0, 4.0)),
        (pricing.epoch_decay_mean_value_usd, (1e4, 0.14, 4.0)),
        (pricing.capital_cost_usd_per_year, (2.5e4, 0.08)),
        (pricing.colocation_usd_per_year, (1.274, 184.06)),
        (pricing.owned_build_capex_usd, (1.274, 1e7)),
        (pricing.per_useful_hour, (8766.0, 0.5)),
        (pricing.rental_cost_usd, (2.788e6, 2.0)),
    ],
)
def test_formulas_broadcast(fn: Any, args: tuple[float, ...]) -> None:
    """Each argument in turn replaced by an array of 3 gives the 3 scalar results."""
    for i in range(len(args)):
        arr_args: list[Any] = list(args)
        arr_args[i] = args[i] * ARR
        got = np.asarray(fn(*arr_args))
        want = [fn(*[a * s if j == i else a for j, a in enumerate(args)]) for s in ARR]
        assert got.shape == (3,)
        assert_allclose(got, want)


def test_formula_hand_values() -> None:
    """networking 81,000 x 0.19/0.81 = 19,000; decay value 10,000 x 10^-0.14 = 7,244.36;
    decay over 1 year 10,000 x (1 - 10^-0.14) = 2,755.64; mean value over 1 year
    2,755.64 / (0.14 ln10) = 8,548.29; straight-line mean book over 4 of 5 years
    50,000 x (4 - 16/10) / 4 = 30,000."""
    assert_allclose(pricing.networking_capex_usd(81_000, 0.19), 19_000)
    assert_allclose(pricing.epoch_decay_value_usd(10_000, 1, 0.14), 7244.359601, rtol=1e-9)
    assert_allclose(pricing.epoch_decay_over_horizon_usd(10_000, 0.14, 1), 2755.640399, rtol=1e-9)
    assert_allclose(pricing.epoch_decay_mean_value_usd(10_000, 0.14, 1), 2755.640399 / (0.14 * math.log(10)))
    assert_allclose(pricing.straight_line_mean_book_usd(50_000, 5, 4), 30_000)


def test_owned_rate_monte_carlo_arrays() -> None:
    r = truecost.estimate(
        _with(
            LLAMA,
            ownership={
                "cost_of_capital": {"ci90": [0.04, 0.12]},
                "life_years": {"dist": "uniform", "low": 4, "high": 6},
            },
        ),
        samples=500,
        seed=3,
    )
    s = r.results["owned_usd_per_gpu_hour"]
    assert s["p5"] < s["p50"] < s["p95"]
    assert any("uncertain" in a["source"] for a in r.assumptions if a["name"] == "cost_of_capital")


# ---- properties ----------------------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(
    price=st.floats(1e3, 1e5),
    k=st.floats(0.1, 10),
    overhead=st.floats(1.0, 2.5),
    net=st.floats(0.0, 0.5),
    storage=st.floats(0.0, 0.2),
)
def test_scaling_price_scales_hardware_cost(
    price: float, k: float, overhead: float, net: float, storage: float
) -> None:
    def hardware(p: float) -> float:
        server = pricing.server_cost_per_gpu_usd(p, overhead)
        return float(
            server + pricing.networking_capex_usd(server, net) + pricing.storage_capex_usd(server, storage)
        )

    assert_allclose(hardware(k * price), k * hardware(price), rtol=1e-9)


@settings(max_examples=60, deadline=None)
@given(
    capex=st.floats(1e3, 1e9), life=st.floats(0.5, 20), extra=st.floats(0.0, 10), horizon=st.floats(0.5, 20)
)
def test_longer_life_never_raises_yearly_depreciation(
    capex: float, life: float, extra: float, horizon: float
) -> None:
    assert pricing.straight_line_usd_per_year(capex, life + extra) <= pricing.straight_line_usd_per_year(
        capex, life
    )
    longer = pricing.straight_line_over_horizon_usd(capex, life + extra, horizon)
    assert longer <= pricing.straight_line_over_horizon_usd(capex, life, horizon) * (1 + 1e-12)


@settings(max_examples=30, deadline=None)
@given(k=st.floats(0.2, 5))
def test_owned_rate_rises_with_price(k: float) -> None:
    lo = truecost.estimate(_with(LLAMA, ownership={"unit_price_usd": 20000.0})).results[
        "owned_usd_per_gpu_hour"
    ]
    hi = truecost.estimate(_with(LLAMA, ownership={"unit_price_usd": 20000.0 * (1 + k)})).results[
        "owned_usd_per_gpu_hour"
    ]
    assert hi > lo


# ---- bad input -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("ownership", "field", "expected"),
    [
        ({"life_years": 0}, "ownership.life_years", "must lie in"),
        ({"fleet_utilisation": 1.5}, "ownership.fleet_utilisation", "must lie in"),
        ({"depreciation": "double-declining"}, "ownership.depreciation", "straight-line, epoch-decay"),
        ({"facility": "tent"}, "ownership.facility", "colocation, owned-build"),
        ({"networking_share": 1.0}, "ownership.networking_share", "must lie in"),
        ({"server_overhead": 0.5}, "ownership.server_overhead", "must lie in"),
        ({"cost_of_capital": -0.1}, "ownership.cost_of_capital", "must lie in"),
    ],
)
def test_bad_ownership_names_field(ownership: dict[str, Any], field: str, expected: str) -> None:
    with pytest.raises(ScenarioError, match=field.replace(".", r"\.")) as exc:
        truecost.estimate(_with(LLAMA, ownership=ownership))
    assert expected in str(exc.value)


def test_bad_ownership_cli_exit_2(tmp_path: Any) -> None:
    f = tmp_path / "s.yaml"
    f.write_text(
        "model: llama-3.1-405b\ncluster: {accelerator: h100-sxm, count: 16384, gpu_hours: 30.84e+6}\n"
        "ownership: {life_years: 0}\n"
    )
    res = runner.invoke(app, ["estimate", str(f)])
    assert res.exit_code == 2
    assert "ownership.life_years" in res.output and "Traceback" not in res.output
