"""Cited defaults of the owned cost per GPU-hour (each lands in the assumptions when used)."""

from __future__ import annotations

import numpy as np

from ...defaults import EPOCH_COST_MODEL, Cited

LN10 = float(np.log(10.0))

HYPERSCALER_10K = (
    "hyperscaler 10-K filings (economics.md sec. 4): Microsoft and Alphabet 6 years (2022-23), "
    "Amazon 5 years from 2025, Meta 5 years (Q4 2022)"
)
CBRE_H2_2024 = (
    "CBRE North America Data Center Trends H2 2024: average monthly asking rate, 250-500 kW "
    "requirement, primary markets, $184.06 per kW/month (space and power, not IT hardware)"
)
ASSUMED = "ASSUMED (no figure in the reference material; a round value to replace when known)"


# ---- defaults -------------------------------------------------------------------------------
# Per-accelerator factors (server overhead over a chip price, catalog prices that already include
# the server) are catalog rows: truecost.catalog.factors, data/ownership_factors.csv.

NETWORKING_SHARE = Cited(
    0.19,
    "1",
    EPOCH_COST_MODEL + ": CLUSTER_INTERCONNECT_COST_FRACTION = 0.19 of total cluster hardware cost "
    "(interconnect multiplier x1.07-1.32, 90% CI)",
)
STORAGE_SHARE = Cited(0.03, "1", ASSUMED + ": cluster storage at 3% of server cost")
LIFE_YEARS = Cited(
    5.0,
    "yr",
    EPOCH_COST_MODEL + ": 5-year life for AI servers of 2023 and later; " + HYPERSCALER_10K,
)
DECAY_OOM_PER_YEAR = Cited(
    0.14,
    "OOM/yr",
    EPOCH_COST_MODEL
    + ": hardware value decays 0.14 orders of magnitude a year as price-performance improves",
)
HARDWARE_AGE_YEARS = Cited(
    0.0, "yr", "ASSUMED: hardware new when the run starts (Epoch AI values hardware at the start of training)"
)
COST_OF_CAPITAL = Cited(
    0.08,
    "1/yr",
    ASSUMED + ": 8%/yr, the order of a large technology company's weighted average cost of capital",
)
MAINTENANCE_SHARE_PER_YEAR = Cited(
    0.03, "1/yr", ASSUMED + ": hardware maintenance, support contracts and spares at 3% of CapEx a year"
)
OPERATIONS_SHARE_PER_YEAR = Cited(
    0.01, "1/yr", ASSUMED + ": datacenter operations staff at 1% of CapEx a year"
)
FLEET_UTILISATION = Cited(
    1.0,
    "1",
    EPOCH_COST_MODEL + ": the amortised method charges hardware only for the hours of the run "
    "(full utilisation); an owned GPU idle half the time costs twice per useful hour",
)
COLOCATION_USD_PER_KW_MONTH = Cited(184.06, "USD/kW-month", CBRE_H2_2024)
BUILD_USD_PER_MW = Cited(
    10.0e6,
    "USD/MW",
    ASSUMED + ": $10M per MW of critical IT load, the order of published data-centre development "
    "cost guides (not verified here)",
)
FACILITY_LIFE_YEARS = Cited(15.0, "yr", ASSUMED + ": 15-year life of the building, power and cooling plant")
HORIZON_YEARS = Cited(
    4.0,
    "yr",
    "SemiAnalysis, 'DeepSeek Debates' (31 Jan 2025): TCO table labelled 'TCO (4y ownership)' "
    "(economics.md sec. 2)",
)

# ---- Epoch AI's method (ownership.method: epoch) ---------------------------------------------
EPOCH_RELEASE_DELAY_DAYS = Cited(
    90.0,
    "d",
    EPOCH_COST_MODEL + ": a GPU's acquisition date is its price date, never earlier than its release "
    "date + 90 days (find_gpu_acquisition_price; server_lifetimes.md sec. 1)",
    "2026-12-01",
)
EPOCH_PUBLICATION_LAG_DAYS = Cited(
    60.0,
    "d",
    EPOCH_COST_MODEL + ": training start = publication date - (training time + 60 days), so the "
    "publication (the date Epoch deflates from) = start + training time + 60 days (economics.md sec. 3)",
    "2026-12-01",
)
