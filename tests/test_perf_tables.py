"""Catalog tables of the step-time model (catalog/data/gemm_efficiency.csv)."""

from __future__ import annotations

import pytest

from truecost.catalog import CatalogError, get_accelerator
from truecost.catalog.perf_tables import gemm_efficiency, gemm_efficiency_table, parse_gemm_efficiency
from truecost.stages.perf.params import SUSTAINED_MAMF_FRACTION, params_for

HEADER = "accelerator,precision,achieved_tflops,peak_tflops,source,accessed,notes\n"


def test_gemm_rows_sourced_and_name_catalog_accelerators():
    rows = gemm_efficiency_table()
    assert len({(r.accelerator, r.precision) for r in rows}) == len(rows)
    for r in rows:
        assert r.source and r.accessed
        acc = get_accelerator(r.accelerator)  # raises on an unknown id
        # The published peak is the catalog's dense peak at that precision, to within rounding.
        assert r.peak_tflops * 1e12 == pytest.approx(acc.peak(r.precision), rel=0.01)
        assert 0 < r.fraction <= 1


def test_bad_rows_fail_naming_line_and_column():
    with pytest.raises(CatalogError, match="line 2: column 'source' is empty"):
        parse_gemm_efficiency(HEADER + "h100-sxm,bf16,792.1,989,,2026-01-01,\n")
    with pytest.raises(CatalogError, match="exceeds"):
        parse_gemm_efficiency(HEADER + "h100-sxm,bf16,999,989,s,2026-01-01,\n")
    with pytest.raises(CatalogError, match="duplicate"):
        parse_gemm_efficiency(HEADER + "x,bf16,1,2,s,2026-01-01,\n" * 2)


def test_adding_an_accelerator_is_adding_rows():
    """An accelerator with a row takes its cited fraction; one without keeps the A100's."""
    h100, v100 = get_accelerator("h100-sxm"), get_accelerator("v100")
    assert gemm_efficiency("v100", "bf16") is None
    row = gemm_efficiency("h100-sxm", "bf16")
    assert row is not None
    p = params_for(h100)
    assert p.gemm_efficiency == pytest.approx(row.fraction * SUSTAINED_MAMF_FRACTION)
    assert row.source in p.source_of("gemm_efficiency")
    assert "A100 fraction of peak kept" in params_for(v100).source_of("gemm_efficiency")
