"""Issue 13's hostile inputs, each a regression test: the CLI exits 2 and the API answers 4xx,
naming the field, within 2 s; never a traceback, a 500, a hang or a NaN."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import truecost
from truecost.cli import app as cli
from truecost.errors import ScenarioError
from truecost.scenario import parse_yaml, validate
from truecost.web import create_app

runner = CliRunner()
LIMIT_S = 2.0

BASE = "model: llama-3.1-8b\ntraining: {tokens: 1.0e12, seq_len: 4096, global_batch: 512}\n"
CLUSTER = "cluster: {accelerator: h100-sxm, count: 64, mfu: 0.4}\n"
BIG = "1" + "0" * 400


def laughs(levels: int = 9) -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


# (id, YAML text, field named in the error)
CASES: list[tuple[str, str, str]] = [
    ("count-1e300", BASE + "cluster: {accelerator: h100-sxm, count: 1e300}\n", "cluster.count"),
    ("count-1e16", BASE + "cluster: {accelerator: h100-sxm, count: 1.0e16}\n", "cluster.count"),
    (
        "seq-len-1e30",
        "model: llama-3.1-8b\ntraining: {tokens: 1.0e12, seq_len: 1" + "0" * 30 + "}\n"
        "cluster: {accelerator: h100-sxm, count: 64}\n",
        "training.seq_len",
    ),
    (
        "global-batch-1e30",
        "model: llama-3.1-8b\ntraining: {tokens: 1.0e12, global_batch: 1" + "0" * 30 + "}\n"
        "cluster: {accelerator: h100-sxm, count: 64}\n",
        "training.global_batch",
    ),
    (
        "n-heads-1e20",
        "model: {arch: dense, layers: 32, d_model: 4096, n_heads: 100000000000000000000, ffn_dim: 14336, "
        "vocab: 128256}\ntraining: {tokens: 1.0e12}\ncluster: {accelerator: h100-sxm, count: 64}\n",
        "model.n_heads",
    ),
    ("billion-laughs", laughs(), "a"),
    ("digits-400", f"model: llama-3.1-8b\ntraining: {{tokens: {BIG}}}\n" + CLUSTER, "training.tokens"),
    ("nested-5000", BASE + CLUSTER + "x: " + "[" * 5000 + "]" * 5000 + "\n", "x"),
    ("nested-maps", BASE + CLUSTER + "x: " + "{a: " * 2000 + "1" + "}" * 2000 + "\n", "x"),
    ("integer-key", BASE + CLUSTER + "input_sources: {1: x}\n", "input_sources"),
    (
        "nan-reference",
        BASE + CLUSTER + "reference_points: [{name: x, value: .nan, unit: USD}]\n",
        "reference_points[0].value",
    ),
    (
        "tp-64-of-32-heads",
        BASE + "cluster: {accelerator: h100-sxm, count: 64, parallelism: {tp: 64}}\n",
        "tp",
    ),
    ("count-1.5", BASE + "cluster: {accelerator: h100-sxm, count: 1.5, mfu: 0.4}\n", "cluster.count"),
    ("count-true", BASE + "cluster: {accelerator: h100-sxm, count: true, mfu: 0.4}\n", "cluster.count"),
    (
        "d-model-4-heads-8",
        "model: {arch: dense, layers: 2, d_model: 4, n_heads: 8, ffn_dim: 16, vocab: 100}\n"
        "training: {tokens: 1.0e12}\ncluster: {accelerator: h100-sxm, count: 64}\n",
        "model.n_heads",
    ),
    ("duplicate-key", BASE + CLUSTER + CLUSTER, "cluster"),
    ("mfu-1e-300", BASE + "cluster: {accelerator: h100-sxm, count: 64, mfu: 1.0e-300}\n", "cluster.mfu"),
    ("mfu-nan", BASE + "cluster: {accelerator: h100-sxm, count: 64, mfu: .nan}\n", "cluster.mfu"),
    ("mfu-inf", BASE + "cluster: {accelerator: h100-sxm, count: 64, mfu: .inf}\n", "cluster.mfu"),
    ("tokens-1e400", "model: llama-3.1-8b\ntraining: {tokens: 1e400}\n" + CLUSTER, "training.tokens"),
    (
        "layers-1e9",
        BASE.replace(
            "llama-3.1-8b",
            "{arch: dense, layers: 1000000000, d_model: 64, n_heads: 4, ffn_dim: 256, vocab: 100}",
        )
        + CLUSTER,
        "model.layers",
    ),
    ("key-alias", BASE + CLUSTER + "k: &k a\ninput_sources: {*k : x}\n", "input_sources"),
    ("two-documents", BASE + CLUSTER + "---\nname: two\n", "s.yaml"),
    ("giant-string", BASE + CLUSTER + "name: " + "x" * 200_000 + "\n", "name"),
    (
        "search-too-big",
        "model: kimi-k2\ntraining: {tokens: 1.0e13, global_batch: 322560}\n"
        "cluster: {accelerator: h100-sxm, count: 40320}\n",
        "cluster.parallelism",
    ),
    (
        "ep-of-dense",
        BASE + "cluster: {accelerator: h100-sxm, count: 64, parallelism: {ep: 8}}\n",
        "cluster.parallelism.ep",
    ),
    ("pp-over-layers", BASE + "cluster: {accelerator: h100-sxm, count: 64, parallelism: {pp: 64}}\n", "pp"),
    (
        "bf16-on-v100",
        "model: llama-3.1-8b\ntraining: {tokens: 1.0e12, precision: bf16}\ncluster: {accelerator: v100, count: 64}\n",
        "training.precision",
    ),
    (
        "rental-1e9",
        BASE + CLUSTER + "pricing: {rental_usd_per_gpu_hour: 1.0e9}\n",
        "pricing.rental_usd_per_gpu_hour",
    ),
    (
        "fleet-count-1e12",
        "fleet: [{accelerator: h100-sxm, count: 1.0e12, unit_price_usd: 30000}]\n",
        "fleet[0].count",
    ),
    ("pue-0.5", BASE + CLUSTER + "power: {pue: 0.5}\n", "power.pue"),
    (
        "serving-gpus-1e18",
        BASE + CLUSTER + "serving: {input_tokens: 1000, output_tokens: 100, gpus: 1000000000000000000}\n",
        "serving.gpus",
    ),
    (
        "serving-daily-1e300",
        BASE + CLUSTER + "serving: {input_tokens: 1000, output_tokens: 100, daily_output_tokens: 1.0e300}\n",
        "serving.daily_output_tokens",
    ),
]


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    # Jobs in threads: every case here is refused by the server itself before any job starts
    # (the worker processes are exercised in test_web_limits.py, on a live server).
    with TestClient(create_app(processes=False), raise_server_exceptions=False) as c:
        yield c


@pytest.mark.parametrize(("text", "field"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_cli_exit_2_naming_the_field(tmp_path: Path, text: str, field: str) -> None:
    f = tmp_path / "s.yaml"
    f.write_text(text)
    t = time.monotonic()
    res = runner.invoke(cli, ["estimate", str(f), "--json"])
    elapsed = time.monotonic() - t
    assert res.exit_code == 2, res.output
    assert field in res.output and "Traceback" not in res.output, res.output
    assert elapsed < LIMIT_S, f"{elapsed:.1f} s"


@pytest.mark.parametrize(("text", "field"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_web_upload_422_naming_the_field(client: TestClient, text: str, field: str) -> None:
    """The page's path: paste or upload (parse), then estimate the parsed object."""
    t = time.monotonic()
    r = client.post("/api/scenario/parse", json={"yaml": text})
    if r.status_code == 200:
        r = client.post("/api/estimate", json={"scenario": r.json()})
    elapsed = time.monotonic() - t
    assert r.status_code == 422, r.text[:300]
    detail = r.json()["detail"]
    where = field.replace("[", ".").replace("]", "").removesuffix("s.yaml") or "yaml"
    assert where in str(detail["field"]) or where in detail["message"], detail
    assert elapsed < LIMIT_S, f"{elapsed:.1f} s"


def test_upload_never_turns_nan_into_null(client: TestClient) -> None:
    for v in (".nan", ".inf", "-.inf", "1e400"):
        r = client.post(
            "/api/scenario/parse", json={"yaml": BASE + f"cluster: {{accelerator: h800, count: 8, mfu: {v}}}"}
        )
        assert r.status_code == 422 and r.json()["detail"]["field"] == "cluster.mfu", (v, r.text)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"scenario": ' + b"[" * 5000 + b"]" * 5000 + b"}", "body"),
        (b'{"scenario": {"training": {"tokens": ' + BIG.encode() + b"}}}", "body"),
        (b'{"scenario": {"training": {"tokens": 1' + b"0" * 5000 + b"}}}", "body"),
        (b'{"scenario": {"training": {"tokens": 1e400}}}', "training.tokens"),
        (b'{"scenario": {"training": {"tokens": NaN}}}', "training.tokens"),
        (b'{"scenario": {"training": {"tokens": -Infinity}}}', "training.tokens"),
        (b'{"scenario": {"cluster": {"accelerator": "h800", "count": 1e300}}}', "cluster.count"),
        (b'{"scenario": "deepseek-v3", "samples": 2, "seed": true}', "seed"),
        (b'{"scenario": "deepseek-v3", "samples": 100000000}', "samples"),
        (b'{"scenario": ""}', "scenario"),
        (b'{"yaml": 5}', "yaml"),
    ],
)
def test_hostile_json_bodies_are_422(client: TestClient, body: bytes, field: str) -> None:
    path = "/api/scenario/parse" if b'"yaml"' in body else "/api/estimate"
    t = time.monotonic()
    r = client.post(path, content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text[:300]
    assert r.json()["detail"]["field"] == field, r.json()
    assert time.monotonic() - t < LIMIT_S


def test_alias_amplification_is_refused_small(client: TestClient) -> None:
    """A 900 KB body once answered 1 GB; now it is refused before any node is built."""
    text = laughs(6) + "".join(f"b{i}: [*a6, *a6, *a6]\n" for i in range(30_000))[:900_000]
    t = time.monotonic()
    r = client.post("/api/scenario/parse", json={"yaml": text})
    assert r.status_code == 422 and len(r.content) < 2000
    assert time.monotonic() - t < LIMIT_S


def test_error_shape_everywhere(client: TestClient) -> None:
    for r in (
        client.get("/no/such/page"),
        client.get("/api/presets/nope"),
        client.put("/api/estimate", json={}),
        client.post("/api/estimate", content=b"{", headers={"content-type": "application/json"}),
    ):
        detail = r.json()["detail"]
        assert set(detail) == {"field", "message"}, r.text
    spec = client.get("/openapi.json").json()
    for path, ops in spec["paths"].items():
        for op in ops.values():
            for code in ("404", "413", "422", "503"):
                content = op["responses"][code]["content"]
                assert "application/json" in content, (path, code)


def test_yaml_route_content_type_matches_openapi(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    documented = set(spec["paths"]["/api/scenario/yaml"]["post"]["responses"]["200"]["content"])
    r = client.post("/api/scenario/yaml", json={"scenario": "deepseek-v3"})
    assert r.headers["content-type"].split(";")[0] in documented


def test_empty_scenario_name_is_outside_the_schema(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    req = spec["components"]["schemas"]["ScenarioRequest"]["properties"]["scenario"]
    names = next(s["enum"] for s in req["anyOf"] if s.get("type") == "string")
    assert "" not in names and "deepseek-v3" in names


# ---- CLI options and output -------------------------------------------------------------------
def _yaml(tmp_path: Path, text: str) -> str:
    f = tmp_path / "s.yaml"
    f.write_text(text)
    return str(f)


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["estimate", "deepseek-lab", "--samples", "100", "--seed", "-1"], "--seed"),
        (["sensitivity", "deepseek-lab", "--samples", "100"], "--samples"),
        (["sensitivity", "deepseek-lab", "--samples", "1048576"], "--samples"),
        (["estimate", "deepseek-lab", "--samples", "100000000000"], "--samples"),
        (["report", "deepseek-lab", "-o", "x.html", "--samples", "100000000000"], "--samples"),
    ],
)
def test_cli_options_exit_2(args: list[str], field: str) -> None:
    t = time.monotonic()
    res = runner.invoke(cli, args)
    assert res.exit_code == 2, res.output
    assert field in res.output and "Traceback" not in res.output
    assert time.monotonic() - t < LIMIT_S


@pytest.mark.parametrize("name", ["[/x]", "[bold]x[/y]", "[link=file:///etc/passwd]x"])
def test_markup_in_names_and_notes_prints_literally(tmp_path: Path, name: str) -> None:
    text = f"name: {json.dumps(name)}\nnotes: [{json.dumps(name)}]\n" + BASE + CLUSTER
    res = runner.invoke(cli, ["estimate", _yaml(tmp_path, text)])
    assert res.exit_code == 0, res.output
    assert name in res.stdout


def test_v100_without_mfu_basis_runs(tmp_path: Path) -> None:
    res = runner.invoke(
        cli, ["estimate", _yaml(tmp_path, BASE + "cluster: {accelerator: v100, count: 64}\n"), "--json"]
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["results"]["gpu_hours"] > 0


def test_implausible_values_warn_on_stderr(tmp_path: Path) -> None:
    text = BASE + "cluster: {accelerator: h100-sxm, count: 64, mfu: 0.01}\n"
    res = runner.invoke(cli, ["estimate", _yaml(tmp_path, text), "--json"])
    assert res.exit_code == 0
    assert "cluster.mfu = 0.01 is outside the plausible range" in res.stderr
    assert any("cluster.mfu" in w for w in json.loads(res.stdout)["warnings"])


# ---- Python API --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "field"), [({"seed": -1, "samples": 10}, "seed"), ({"samples": True}, "samples")]
)
def test_api_checks_samples_and_seed(kwargs: dict, field: str) -> None:
    with pytest.raises(ScenarioError) as exc:
        truecost.estimate("deepseek-lab", **kwargs)
    assert exc.value.field == field


def test_api_refuses_samples_beyond_memory_up_front() -> None:
    t = time.monotonic()
    with pytest.raises(ScenarioError, match="this machine holds at most") as exc:
        truecost.estimate("deepseek-lab", samples=10**12)
    assert exc.value.field == "samples" and time.monotonic() - t < LIMIT_S


def test_uncertain_counts_still_allowed() -> None:
    raw = {"fleet": [{"accelerator": "h800", "count": {"ci90": [100, 300]}, "unit_price_usd": 30000}]}
    assert truecost.estimate(raw, samples=100, seed=1).results["fleet_capex_usd"]["p50"] > 0
    with pytest.raises(ScenarioError, match="whole number"):
        validate(parse_yaml("fleet: [{accelerator: h800, count: 2.5, unit_price_usd: 30000}]"))


def test_a_reported_run_is_not_refused_for_a_search_it_will_not_do() -> None:
    """The layout-search budget applies only when the step-time model will search: DeepSeek-V3
    with its reported GPU-hours on an odd GPU count runs (the sweep benchmark's case)."""
    import copy

    import truecost
    from truecost.scenario import load_raw

    raw = copy.deepcopy(load_raw("deepseek-v3"))
    raw["cluster"]["count"] = 1001
    assert truecost.estimate(raw).results["gpu_hours"] == pytest.approx(2.788e6)
