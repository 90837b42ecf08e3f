"""Properties of the chain (hypothesis): more tokens never cost less; cost is linear in price."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import truecost


def _scenario(tokens: float, price: float, mfu: float = 0.4) -> dict:
    return {
        "model": "llama-3.1-70b",
        "training": {"tokens": tokens},
        "cluster": {"accelerator": "h100-sxm", "count": 1024, "mfu": mfu},
        "pricing": {"rental_usd_per_gpu_hour": price},
    }


tokens_st = st.floats(min_value=1e9, max_value=1e14)
price_st = st.floats(min_value=0.1, max_value=20)


@settings(max_examples=25, deadline=None)
@given(t1=tokens_st, t2=tokens_st, price=price_st)
def test_more_tokens_never_cost_less(t1: float, t2: float, price: float) -> None:
    lo, hi = sorted((t1, t2))
    c_lo = truecost.estimate(_scenario(lo, price)).results["final_run_cost_usd"]
    c_hi = truecost.estimate(_scenario(hi, price)).results["final_run_cost_usd"]
    assert c_hi >= c_lo


@settings(max_examples=25, deadline=None)
@given(tokens=tokens_st, price=price_st, k=st.floats(min_value=0.01, max_value=100))
def test_cost_scales_linearly_in_price(tokens: float, price: float, k: float) -> None:
    c1 = truecost.estimate(_scenario(tokens, price)).results["final_run_cost_usd"]
    ck = truecost.estimate(_scenario(tokens, price * k)).results["final_run_cost_usd"]
    assert_allclose(ck, k * c1, rtol=1e-9)


@settings(max_examples=25, deadline=None)
@given(m1=st.floats(min_value=0.05, max_value=0.7), m2=st.floats(min_value=0.05, max_value=0.7))
def test_higher_mfu_never_costs_more(m1: float, m2: float) -> None:
    lo, hi = sorted((m1, m2))
    c_lo = truecost.estimate(_scenario(1e12, 2.0, lo)).results["gpu_hours"]
    c_hi = truecost.estimate(_scenario(1e12, 2.0, hi)).results["gpu_hours"]
    assert c_hi <= c_lo
