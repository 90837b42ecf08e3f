"""Energy and carbon end to end, through `truecost.estimate`: publications' own inputs as scenarios,
France vs China, the presets, the grid's default uncertainty, bad input."""

from __future__ import annotations

from typing import Any

import pytest
from numpy.testing import assert_allclose

import truecost
from truecost.analysis.sensitivity import sensitivity
from truecost.errors import ScenarioError


def _run(
    accelerator: str, hours: float, power: dict[str, Any], carbon: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    return {
        "training": {"flops": 1e24, **extra.pop("training", {})},
        "cluster": {"accelerator": accelerator, "count": 1024, "gpu_hours": hours},
        "power": power,
        "carbon": carbon,
        **extra,
    }


def test_llama_3_1_405b_card_inputs_reproduce_its_emissions() -> None:
    """Llama 3.1 model card: 30.84M H100-hours at 700 W (PUE folded in): 8,930 tCO2e location-based.
    Meta states no intensity; truecost's USA 2024 table value stands in."""
    r = truecost.estimate(
        _run("h100-sxm", 30.84e6, {"gpu_watts": 700, "pue": 1.0}, {"grid_region": "USA", "year": 2024})
    )
    assert_allclose(r.results["energy_kwh"], 30.84e6 * 0.7)
    assert abs(r.results["carbon_t_co2e"] / 8930 - 1) < 0.02
    # the flag form of the same convention gives the same figure, whatever the facility PUE
    r2 = truecost.estimate(
        _run(
            "h100-sxm",
            30.84e6,
            {"gpu_watts": 700, "gpu_watts_include_pue": True, "pue": 1.1},
            {"grid_region": "USA", "year": 2024},
        )
    )
    assert r2.results["carbon_t_co2e"] == r.results["carbon_t_co2e"]


def test_palm_inputs_and_the_measured_tpu_basis() -> None:
    """PaLM appendix B: 8,404,992 TPU v4 chip-hours, 378.5 W, PUE 1.08, 0.079 kg/kWh: 271.43 t."""
    given = truecost.estimate(
        _run("tpu-v4", 8_404_992, {"gpu_watts": 378.5, "pue": 1.08}, {"grid_g_co2e_per_kwh": 79})
    )
    measured = truecost.estimate(_run("tpu-v4", 8_404_992, {"pue": 1.08}, {"grid_g_co2e_per_kwh": 79}))
    for r in (given, measured):
        assert abs(r.results["carbon_t_co2e"] / 271.43 - 1) < 0.01
    assert any(a["name"] == "measured_power_w" and "PaLM" in a["source"] for a in measured.assumptions)


def test_france_and_china_about_ten_times_apart() -> None:
    fr = truecost.estimate(_run("h100-sxm", 1e6, {}, {"grid_region": "France", "year": 2024}))
    cn = truecost.estimate(_run("h100-sxm", 1e6, {}, {"grid_region": "China", "year": 2024}))
    assert fr.results["energy_kwh"] == cn.results["energy_kwh"]
    ratio = cn.results["carbon_t_co2e"] / fr.results["carbon_t_co2e"]
    assert_allclose(ratio, 513 / 33)
    for r, region in ((fr, "France"), (cn, "China")):
        a = next(a for a in r.assumptions if a["name"] == "grid_g_co2e_per_kwh")
        assert f"{region} 2024, location-based" in a["source"] and "Electricity Maps" in a["source"]
        assert r.to_dict()["details"]["carbon"]["grid"]["region"] == region


def test_grid_year_follows_the_start_date() -> None:
    r = truecost.estimate(
        _run("h100-sxm", 1e6, {}, {"grid_region": "France"}, training={"start_date": "2022-06"})
    )
    assert r.results["grid_g_co2e_per_kwh"] == 91.0
    assert r.to_dict()["details"]["carbon"]["grid"]["year"] == 2022


def test_no_carbon_section_no_carbon_keys() -> None:
    r = truecost.estimate({"training": {"flops": 1e24}, "cluster": {"accelerator": "h100-sxm", "count": 64}})
    assert not any("carbon" in k for k in r.results) and "carbon" not in r.to_dict()["details"]


def test_presets_show_their_emissions() -> None:
    meta = truecost.estimate("meta-llama3-lab")
    assert abs(meta.results["carbon_t_co2e"] / 8930 - 1) < 0.02  # Meta's convention, Meta's figure
    assert meta.results["carbon_market_t_co2e"] == 0.0
    default_convention = truecost.estimate("llama-3.1-405b")
    assert 1.4 < default_convention.results["carbon_t_co2e"] / meta.results["carbon_t_co2e"] < 1.8
    ds = truecost.estimate("deepseek-lab")
    assert ds.results["grid_g_co2e_per_kwh"] == 513.0  # China 2024
    assert (
        ds.results["fleet_carbon_t_co2e_per_year"] > 0
        and ds.results["fleet_embodied_carbon_t_co2e_per_year"] > 0
    )
    gpt3 = truecost.estimate("gpt-3")
    assert abs(gpt3.results["carbon_t_co2e"] / 552 - 1) < 0.01  # Patterson et al. Table 4


def test_region_intensity_uncertain_by_default_within_the_table_spread() -> None:
    scn = _run("h100-sxm", 1e6, {"pue": 1.2}, {"grid_region": "China", "year": 2024})
    r = truecost.estimate(scn, samples=4000, seed=7)
    g = r.results["grid_g_co2e_per_kwh"]
    assert 485 <= g["p5"] < g["p50"] < g["p95"] <= 583.61
    c = r.results["carbon_t_co2e"]
    assert c["p5"] < c["p95"]
    assert r.results == truecost.estimate(scn, samples=4000, seed=7).results
    a = next(a for a in r.assumptions if a["name"] == "grid_g_co2e_per_kwh")
    assert "uncertain by default: triangular" in a["source"]
    # the point estimate keeps the table's value
    assert r.point["grid_g_co2e_per_kwh"] == 513.0
    # a given intensity is taken as known
    given = truecost.estimate(
        _run("h100-sxm", 1e6, {"pue": 1.2}, {"grid_g_co2e_per_kwh": 500}), samples=100, seed=1
    )
    assert given.results["carbon_t_co2e"]["p5"] == given.results["carbon_t_co2e"]["p95"]


def test_sensitivity_of_emissions_names_the_grid() -> None:
    scn = _run(
        "h100-sxm", 1e6, {"pue": {"dist": "uniform", "low": 1.1, "high": 1.5}}, {"grid_region": "China"}
    )
    out = sensitivity(scn, output="carbon_t_co2e", n=256, seed=1)
    names = {row["input"] for row in out["inputs"]}
    assert {"carbon.grid_g_co2e_per_kwh", "power.pue"} <= names


@pytest.mark.parametrize(
    ("carbon", "field"),
    [
        ({"grid_region": "Atlantis"}, "carbon.grid_region"),
        ({"grid_g_co2e_per_kwh": -1}, "carbon.grid_g_co2e_per_kwh"),
        ({"grid_region": "France", "lifetime_utilisation": 0}, "carbon.lifetime_utilisation"),
    ],
)
def test_bad_carbon_input_through_estimate(carbon: dict[str, Any], field: str) -> None:
    with pytest.raises(ScenarioError) as exc:
        truecost.estimate(_run("h100-sxm", 1e6, {}, carbon))
    assert exc.value.field == field


def test_grid_year_is_not_a_distribution() -> None:
    scn = _run(
        "h100-sxm", 1e6, {}, {"grid_region": "France", "year": {"dist": "uniform", "low": 2021, "high": 2024}}
    )
    with pytest.raises(ScenarioError) as exc:
        truecost.estimate(scn, samples=10, seed=1)
    assert exc.value.field == "carbon.year"


def test_report_has_an_energy_and_carbon_section() -> None:
    from truecost.report import html_report
    from truecost.report.content import gather

    data = gather(truecost.estimate("deepseek-v3"))
    assert [r.key for r in data.carbon][:3] == ["energy_kwh", "grid_g_co2e_per_kwh", "carbon_t_co2e"]
    assert "China grid in 2024" in data.carbon_note
    assert 'id="carbon"' in html_report("deepseek-v3")
    no_carbon = {"training": {"flops": 1e24}, "cluster": {"accelerator": "h100-sxm", "count": 64}}
    assert gather(truecost.estimate(no_carbon)).carbon == () and 'id="carbon"' not in html_report(no_carbon)
