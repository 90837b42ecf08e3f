"""Published training emissions recomputed from each publication's own inputs.

Each row of `catalog/data/validation/emissions.csv` gives what a publication states (accelerator-
hours, power per device, PUE, grid intensity; or embodied kg, life and use) and the emissions or
energy it reports. truecost's formulas (`stages.energy`, `stages.carbon`) recompute the figure;
where the publication does not state its grid intensity (Meta's model cards), truecost's grid
table is used for the row's region and year, so the row checks the table too.
"""

from __future__ import annotations

from typing import Any

from ..catalog.carbon_tables import emissions_validation_rows, grid_intensity
from ..stages.carbon import embodied_share_t_co2e, operational_t_co2e
from ..stages.energy import energy_kwh_measured
from ..units import KWH_PER_MWH


def recompute(row: dict[str, Any]) -> tuple[float, str]:
    """(recomputed value in the row's unit, how) for one validation row."""
    q = row["quantity"]
    if q == "embodied":
        value = embodied_share_t_co2e(
            row["embodied_kg_per_device"],
            row["accelerator_hours"],
            row["life_years"],
            row["lifetime_utilisation"],
        )
        how = (
            f"{row['embodied_kg_per_device']:g} kg x {row['accelerator_hours']:.4g} h / "
            f"({row['life_years']:g} yr x 8766 h x {row['lifetime_utilisation']:g})"
        )
        return float(value), how
    kwh = energy_kwh_measured(row["accelerator_hours"], row["watts_per_device"], row["pue"])
    how = f"{row['accelerator_hours']:.4g} h x {row['watts_per_device']:g} W x PUE {row['pue']:g}"
    if q == "energy":
        return float(kwh / KWH_PER_MWH), how
    g = row["grid_g_co2e_per_kwh"]
    if g is None:
        gi = grid_intensity(row["grid_region"], row["grid_year"])
        g = gi.g_co2e_per_kwh
        how += f" x {g:g} g/kWh (table: {gi.region} {gi.year}, {gi.dataset})"
    else:
        how += f" x {g:g} g/kWh (stated)"
    return float(operational_t_co2e(kwh, g)), how


def emissions_rows() -> list[dict[str, Any]]:
    """One row per publication figure: measured (published), predicted (recomputed), error %."""
    out = []
    for row in emissions_validation_rows():
        value, how = recompute(row)
        published = row["published_value"]
        out.append(
            {
                "label": f"{row['id']} ({row['quantity']}, {row['published_unit']})",
                "measured": published,
                "predicted": value,
                "error_pct": round((value - published) / published * 100, 2),
                "note": f"{how}; {row['publication']}",
            }
        )
    return out
