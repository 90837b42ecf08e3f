"""The web calculator's JSON API (FastAPI TestClient): answers, limits and errors."""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from truecost.cli import app as cli
from truecost.web import create_app, serve

CDN = re.compile(r"<(?:script|link)[^>]+(?:src|href)=[\"']?(?:https?:)?//", re.I)


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    # Jobs in threads (the worker processes are tested on a live server in test_web_limits.py).
    with TestClient(create_app(processes=False), raise_server_exceptions=False) as c:
        yield c


def detail(resp) -> dict:  # type: ignore[no-untyped-def]
    body = resp.json()
    assert "Traceback" not in resp.text
    return body["detail"]


def test_index_is_the_form(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert '<form id="form"' in r.text
    for field in (
        '"training","tokens"',
        '"cluster","count"',
        '"cluster","mfu"',
        '"pricing","rental_usd_per_gpu_hour"',
    ):
        assert field in r.text
    assert 'value="deepseek-lab"' in r.text
    assert '<script src="/static/plotly.min.js">' in r.text
    assert not CDN.search(r.text)


def test_assets_are_served_locally(client: TestClient) -> None:
    js = client.get("/static/plotly.min.js")
    assert js.status_code == 200 and "plotly.js" in js.text[:200]
    for path in ("/static/app.js", "/static/style.css", "/static/report.css"):
        assert client.get(path).status_code == 200, path


def test_docs_are_self_contained(client: TestClient) -> None:
    r = client.get("/docs")
    assert r.status_code == 200
    assert "/api/estimate" in r.text and not CDN.search(r.text)
    spec = client.get("/openapi.json").json()
    assert {
        "/api/estimate",
        "/api/report",
        "/api/presets",
        "/api/presets/{name}",
        "/api/catalog/{kind}",
    } <= set(spec["paths"])


def test_estimate_deepseek_v3(client: TestClient) -> None:
    r = client.post("/api/estimate", json={"scenario": "deepseek-v3"})
    assert r.status_code == 200
    assert r.json()["results"]["gpu_hours"] == pytest.approx(2.788e6)
    assert r.json()["results"]["headline_cost_usd"] == pytest.approx(5.576e6)


@pytest.mark.parametrize("samples", [None, 200])
def test_estimate_is_exactly_the_cli_json(client: TestClient, samples: int | None) -> None:
    body: dict = {"scenario": "deepseek-lab", "seed": 3}
    args = ["estimate", "deepseek-lab", "--json", "--seed", "3"]
    if samples is not None:
        body["samples"] = samples
        args += ["--samples", str(samples)]
    out = CliRunner().invoke(cli, args)
    assert out.exit_code == 0, out.output
    assert client.post("/api/estimate", json=body).json() == json.loads(out.stdout)


def test_scenario_object_round_trip(client: TestClient) -> None:
    raw = client.get("/api/presets/deepseek-lab").json()
    assert raw["fleet"][1]["accelerator"] == "h800"
    base = client.post("/api/estimate", json={"scenario": raw}).json()["results"]["lab_total_cost_usd"]
    raw["fleet"][1]["count"] = 2 * raw["fleet"][1]["count"]
    more = client.post("/api/estimate", json={"scenario": raw}).json()["results"]["lab_total_cost_usd"]
    assert more > base


def test_presets_and_catalogs(client: TestClient) -> None:
    ids = [p["id"] for p in client.get("/api/presets").json()]
    assert {"deepseek-v3", "deepseek-lab"} <= set(ids)
    for kind in ("hardware", "models", "runs"):
        rows = client.get(f"/api/catalog/{kind}").json()
        assert rows and all("source" in r for r in rows)
    assert client.get("/api/catalog/chips").status_code == 404
    assert detail(client.get("/api/presets/nope"))["field"] == "name"


def test_negative_tokens_is_422_naming_tokens(client: TestClient) -> None:
    raw = client.get("/api/presets/deepseek-v3").json()
    raw["training"]["tokens"] = -1
    r = client.post("/api/estimate", json={"scenario": raw})
    assert r.status_code == 422
    assert detail(r)["field"] == "training.tokens"


@pytest.mark.parametrize("samples", [1e9, 1_000_001])
def test_samples_over_the_cap_is_refused(client: TestClient, samples: float) -> None:
    r = client.post("/api/estimate", json={"scenario": "deepseek-v3", "samples": samples})
    assert 400 <= r.status_code < 500
    assert detail(r)["field"] == "samples"


def test_samples_cap_is_configurable() -> None:
    with TestClient(create_app(samples_cap=100, processes=False)) as c:
        assert c.post("/api/estimate", json={"scenario": "deepseek-v3", "samples": 101}).status_code == 422
        assert (
            c.post("/api/estimate", json={"scenario": "deepseek-v3", "samples": 100, "seed": 0}).status_code
            == 200
        )


def test_oversize_body_is_413(client: TestClient) -> None:
    big = json.dumps({"scenario": {"name": "x" * (2 << 20)}})
    r = client.post("/api/estimate", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert detail(r)["field"] == "body"


def test_oversize_body_without_content_length_is_413() -> None:
    def chunks() -> Iterator[bytes]:  # streamed: no Content-Length header, only the bytes count
        yield b'{"scenario": "'
        for _ in range(20):
            yield b"x" * 100
        yield b'"}'

    with TestClient(create_app(body_cap_bytes=1000)) as c:
        r = c.post("/api/estimate", content=chunks(), headers={"content-type": "application/json"})
        assert r.status_code == 413


@pytest.mark.parametrize(
    "scenario", ["/etc/passwd", "../src/truecost/presets/deepseek-v3.yaml", "deepseek-v3.yaml", "nope"]
)
def test_a_path_as_scenario_is_422(client: TestClient, scenario: str) -> None:
    r = client.post("/api/estimate", json={"scenario": scenario})
    assert r.status_code == 422
    assert detail(r)["field"] == "scenario"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"{not json", "body"),
        (b"[1, 2]", "body"),
        (b'{"scenario": ["x"]}', "scenario"),
        (b'{"scenario": "deepseek-v3", "samples": "many"}', "samples"),
        (b'{"scenario": "deepseek-v3", "seed": -1}', "seed"),
        (b'{"scenario": "deepseek-v3", "unknown": 1}', "unknown"),
        (b'{"scenario": {"model": "gpt-99"}}', "model"),
        (
            b'{"scenario": {"model": "deepseek-v3", "cluster": {"accelerator": "h800", "count": 8, "mfu": 2}}}',
            "cluster.mfu",
        ),
    ],
)
def test_user_errors_are_422_with_the_field(client: TestClient, body: bytes, field: str) -> None:
    r = client.post("/api/estimate", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert detail(r)["field"] == field


def test_internal_errors_are_generic_500(monkeypatch: pytest.MonkeyPatch) -> None:
    import truecost.chain

    def boom(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(truecost.chain, "estimate", boom)
    # Jobs in threads (processes=False): the patch must reach the code that runs them.
    with TestClient(create_app(processes=False), raise_server_exceptions=False) as c:
        raw = c.get("/api/presets/deepseek-v3").json()
        r = c.post("/api/estimate", json={"scenario": raw})
    assert r.status_code == 500
    assert "secret" not in r.text and "Traceback" not in r.text


def test_server_keeps_answering_after_errors(client: TestClient) -> None:
    client.post("/api/estimate", content=b"x" * (2 << 20), headers={"content-type": "application/json"})
    client.post("/api/estimate", json={"scenario": "/etc/passwd"})
    client.post("/api/estimate", json={"scenario": "deepseek-v3", "samples": 1e9})
    r = client.post("/api/estimate", json={"scenario": "deepseek-v3"})
    assert r.status_code == 200 and r.json()["results"]["gpu_hours"] == pytest.approx(2.788e6)


def test_report_endpoint_returns_the_html_report(client: TestClient) -> None:
    r = client.post("/api/report", json={"scenario": "deepseek-v3"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "$5.576M" in r.text and not CDN.search(r.text)


def test_view_endpoint_feeds_the_page(client: TestClient) -> None:
    r = client.post("/api/view", json={"scenario": "deepseek-lab"}).json()
    assert r["estimate"]["results"]["lab_total_cost_usd"] > 1e9
    assert {"views", "waterfall", "breakdown"} <= set(r["figures"])
    assert 'id="view-lab_total_cost_usd"' in r["html"]["cards"]


def test_yaml_parse_and_download(client: TestClient) -> None:
    text = client.post("/api/scenario/yaml", json={"scenario": "deepseek-v3"})
    assert text.status_code == 200 and "attachment" in text.headers["content-disposition"]
    parsed = client.post("/api/scenario/parse", json={"yaml": text.text}).json()
    assert parsed == client.get("/api/presets/deepseek-v3").json()
    bad = client.post("/api/scenario/parse", json={"yaml": "training: [1,"})
    assert bad.status_code == 422 and detail(bad)["field"] == "yaml"
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, c in zip("abcdefg", "bcdefgh", strict=True)
    )
    assert client.post("/api/scenario/parse", json={"yaml": bomb}).status_code == 422


def test_binds_to_loopback_by_default() -> None:
    assert inspect.signature(serve).parameters["host"].default == "127.0.0.1"


def test_view_has_reference_points_notes_and_sensitivity(client: TestClient) -> None:
    r = client.post("/api/view", json={"scenario": "deepseek-lab"}).json()
    h = r["html"]
    assert "SemiAnalysis total server CapEx" in h["references"] and "-2% vs published" in h["references"]
    assert "<blockquote>" in h["notes"]
    assert "tornado" in r["figures"] and "Sobol" in h["sensitivity"]
    assert "lab.horizon_years" in h["ranked"]
    assert h["mc_note"] == ""
    sampled = client.post("/api/view", json={"scenario": "deepseek-lab", "samples": 300, "seed": 1}).json()
    assert "median of a sum" in sampled["html"]["mc_note"]
    # a scenario without distributions still says what drives it
    v3 = client.post("/api/view", json={"scenario": "deepseek-v3"}).json()
    assert "tornado" not in v3["figures"] and "<table" in v3["html"]["ranked"]


def test_index_carries_field_help(client: TestClient) -> None:
    text = client.get("/").text
    m = re.search(r'<script id="field-help" type="application/json">(.*?)</script>', text, re.S)
    assert m
    help_ = json.loads(m.group(1))
    assert "accelerators in the pool" in help_["fleet.count"]


def test_compare_endpoint(client: TestClient) -> None:
    r = client.post("/api/compare", json={"scenarios": ["deepseek-v3", "llama-3.1-405b"]})
    assert r.status_code == 200
    body = r.json()
    assert len(body["scenarios"]) == 2 and "<table" in body["table"] and "views" in body["figures"]
    bad = client.post("/api/compare", json={"scenarios": ["deepseek-v3"]})
    assert bad.status_code == 422 and detail(bad)["field"] == "scenarios"
    path = client.post("/api/compare", json={"scenarios": ["deepseek-v3", "/etc/passwd"]})
    assert path.status_code == 422


def test_compare_runs_in_a_worker_and_names_the_bad_scenario() -> None:
    """/api/compare: presets side by side; a bad scenario is a 422 naming its index and field."""
    from fastapi.testclient import TestClient

    from truecost.web import create_app

    with TestClient(create_app()) as c:
        r = c.post("/api/compare", json={"scenarios": ["deepseek-v3", "gpt-3"]})
        assert r.status_code == 200
        names = [s["scenario"] for s in r.json()["scenarios"]]
        assert names == ["DeepSeek-V3 (official training run, as reported)", "GPT-3 175B"]
        bad = {"cluster": {"accelerator": "h100-sxm", "count": 1.5}}
        r = c.post("/api/compare", json={"scenarios": ["deepseek-v3", bad]})
        assert r.status_code == 422
        assert r.json()["detail"]["field"] == "scenarios[1].cluster.count"


def test_view_has_a_carbon_fragment(client: TestClient) -> None:
    """deepseek-v3 trains on China's grid: the page's energy and carbon section says where the
    intensity comes from and lists energy, operational and embodied emissions; sampled, with
    the interval; a scenario without a grid gets none."""
    r = client.post("/api/view", json={"scenario": "deepseek-v3"}).json()
    results, carbon = r["estimate"]["results"], r["html"]["carbon"]
    assert results["carbon_t_co2e"] > 0 and results["grid_g_co2e_per_kwh"] == pytest.approx(513)
    assert "China grid in 2024" in carbon and "location-based" in carbon.lower()
    for key in ("energy_kwh", "grid_g_co2e_per_kwh", "carbon_t_co2e", "embodied_carbon_t_co2e"):
        assert f"<code>{key}</code>" in carbon, key
    assert "carbon_market_t_co2e" not in carbon  # no renewable share given

    raw = client.get("/api/presets/deepseek-v3").json()
    raw["carbon"]["renewable_share"] = 0.5
    market = client.post("/api/view", json={"scenario": raw, "samples": 200, "seed": 1}).json()
    m = market["estimate"]["results"]["carbon_market_t_co2e"]
    assert m["p50"] < market["estimate"]["results"]["carbon_t_co2e"]["p50"]
    assert "<code>carbon_market_t_co2e</code>" in market["html"]["carbon"]
    assert '<th class="num">p5</th>' in market["html"]["carbon"]  # the interval, sampled

    del raw["carbon"]
    assert client.post("/api/view", json={"scenario": raw}).json()["html"]["carbon"] == ""


def test_index_has_the_carbon_inputs(client: TestClient) -> None:
    from truecost.catalog.carbon_tables import grid_regions

    text = client.get("/").text
    for path in (
        '"carbon","grid_region"',
        '"carbon","grid_g_co2e_per_kwh"',
        '"carbon","renewable_share"',
        '"power","gpu_watts"',
    ):
        assert path in text
    select = re.search(r'<select id="f-grid-region"[^>]*>(.*?)</select>', text, re.S)
    assert select
    options = re.findall(r'<option value="([^"]*)"', select.group(1))
    assert options == ["", *grid_regions()] and {"China", "France"} <= set(options)
    assert 'id="sec-carbon" hidden' in text
