"""Hypothesis-generated scenarios, plausible and hostile, through `truecost.estimate` and the
CLI: either an answer whose every result is a finite number, or a ScenarioError naming a field
(exit 2 on the CLI). Never another exception, a traceback, NaN, infinity or null."""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import truecost
from truecost.catalog.schema import UnknownIdError
from truecost.cli import app as cli
from truecost.errors import TruecostError

HOSTILE = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**50), max_value=10**50),
    st.just(10**400),
    st.booleans(),
    st.none(),
    st.text(max_size=8),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
    st.fixed_dictionaries({"ci90": st.lists(st.floats(-1e3, 1e6), min_size=0, max_size=3)}),
)


def num(lo: float, hi: float) -> st.SearchStrategy[Any]:
    """Mostly plausible values of a field, sometimes anything at all."""
    ints = st.integers(math.ceil(lo), math.floor(hi)) if math.floor(hi) >= math.ceil(lo) else st.nothing()
    return st.one_of(st.floats(lo, hi), ints, HOSTILE)


SCENARIOS = st.fixed_dictionaries(
    {
        "name": st.one_of(st.text(max_size=12), st.just("[/x]")),
        "training": st.fixed_dictionaries(
            {"tokens": num(1e9, 1e14)},
            optional={"seq_len": num(128, 65536), "flops": num(1e20, 1e26), "global_batch": num(1, 4096)},
        ),
        "cluster": st.fixed_dictionaries(
            {"accelerator": st.sampled_from(["h100-sxm", "h800", "a100-sxm4-80gb", "v100", "nope"])},
            optional={
                "count": num(1, 65536),
                "mfu": num(0.01, 0.9),
                "gpu_hours": num(1e3, 1e8),
                "goodput": num(0.5, 1),
                "parallelism": st.fixed_dictionaries({}, optional={"tp": num(1, 16), "pp": num(1, 64)}),
            },
        ),
    },
    optional={
        "model": st.sampled_from(["llama-3.1-8b", "deepseek-v3", "gpt-3-175b", "no-such-model"]),
        "pricing": st.fixed_dictionaries({"rental_usd_per_gpu_hour": num(0.1, 20)}),
        "power": st.fixed_dictionaries({}, optional={"pue": num(1, 2), "electricity_usd_per_kwh": num(0, 1)}),
        "fleet": st.lists(
            st.fixed_dictionaries(
                {"accelerator": st.sampled_from(["h100-sxm", "h800"]), "count": num(1, 1e5)},
                optional={"unit_price_usd": num(1e3, 1e5)},
            ),
            max_size=2,
        ),
        "reference_points": st.lists(
            st.fixed_dictionaries({"name": st.text(max_size=5), "value": num(0, 1e9)}), max_size=1
        ),
    },
)


def _all_finite(obj: Any) -> bool:
    if isinstance(obj, dict):
        return all(_all_finite(v) for v in obj.values())
    if isinstance(obj, list | tuple):
        return all(_all_finite(v) for v in obj)
    if isinstance(obj, float):
        return math.isfinite(obj)
    return obj is not None


def answers_finite_or_names_a_field(scn: dict[str, Any]) -> None:
    try:
        est = truecost.estimate(scn)
    except (TruecostError, UnknownIdError) as exc:
        assert str(exc)
        return
    assert _all_finite(est.results), est.results
    json.dumps(est.to_dict(), allow_nan=False)  # what --json prints is valid JSON


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(scn=SCENARIOS)
def test_estimate_answers_finite_or_names_a_field(scn: dict[str, Any]) -> None:
    answers_finite_or_names_a_field(scn)


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(scn=SCENARIOS, samples=st.sampled_from([None, 50]))
def test_cli_exit_0_or_2_never_a_traceback(
    tmp_path_factory: Any, scn: dict[str, Any], samples: int | None
) -> None:
    f = tmp_path_factory.mktemp("fuzz") / "s.json.yaml"
    # JSON is YAML; a non-finite or huge number is written as YAML spells it.
    text = (
        json.dumps(scn, default=str)
        .replace("NaN", ".nan")
        .replace("-Infinity", "-.inf")
        .replace("Infinity", ".inf")
    )
    f.write_text(text)
    args = ["estimate", str(f), "--json"] + (["--samples", str(samples), "--seed", "1"] if samples else [])
    res = CliRunner().invoke(cli, args)
    assert res.exit_code in (0, 2), res.output
    assert "Traceback" not in res.output
    if res.exit_code == 0:
        out = json.loads(res.stdout)
        assert _all_finite(out["results"])
    else:
        assert res.output.startswith("error: ") or "Invalid value" in res.output, res.output


REPLICAS = st.fixed_dictionaries(
    {"gpus": num(1, 256)}, optional={"tp": num(1, 16), "ep": num(1, 256), "dp": num(1, 256)}
)
SERVING_SCENARIOS = st.fixed_dictionaries(
    {
        "pricing": st.fixed_dictionaries({"rental_usd_per_gpu_hour": num(0.1, 20)}),
        "serving": st.fixed_dictionaries(
            {
                "accelerator": st.sampled_from(
                    ["h100-sxm", "h800", "h200", "b200", "mi300x", "a100-sxm4-80gb"]
                ),
                "input_tokens": num(1, 1e5),
                "output_tokens": num(1, 1e4),
            },
            optional={
                "precision": st.sampled_from(["bf16", "fp16", "fp8", "fp4", "int3"]),
                "kv_precision": st.sampled_from(["bf16", "fp8"]),
                "gpus": num(1, 1e4),
                "replica": REPLICAS,
                "prefill_replica": REPLICAS,
                "context_tokens": num(1, 2e5),
                "cache_hit_rate": num(0, 0.99),
                "tpot_ms": num(1, 500),
                "output_tokens_per_s_per_gpu": num(1, 1e5),
                "input_tokens_per_s_per_gpu": num(1, 1e6),
                "daily_output_tokens": num(1e6, 1e13),
                "daily_input_tokens": num(1e6, 1e13),
                "utilisation": num(0.05, 1),
                "paid_share": num(0, 1),
                "price_usd_per_m_tokens": st.fixed_dictionaries(
                    {"input": num(0, 10), "output": num(0, 30)}, optional={"input_cache_hit": num(0, 5)}
                ),
                "price_scenarios": st.dictionaries(
                    st.sampled_from(["a", "b c", "<x>"]),
                    st.fixed_dictionaries({"input": num(0, 10), "output": num(0, 30)}),
                    max_size=2,
                ),
            },
        ),
    },
    optional={"model": st.sampled_from(["llama-3.1-8b", "llama-3.1-70b", "mixtral-8x7b", "deepseek-v3"])},
)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(scn=SERVING_SCENARIOS)
def test_serving_answers_finite_or_names_a_field(scn: dict[str, Any]) -> None:
    """Serving sections, plausible and hostile: layouts that do not fit, latency targets no batch
    meets, disaggregated fleets without a prefill rate, free prices."""
    answers_finite_or_names_a_field(scn)
