"""Cited default values. Every default the chain uses is a `Cited` and lands in the output's
assumptions when used (STYLE.md item 5: no invisible defaults)."""

from __future__ import annotations

from dataclasses import dataclass

EPOCH_COST_MODEL = (
    "Epoch AI, training-cost-trends cost model (github.com/epoch-research/training-cost-trends, "
    "cost_analysis_standalone.py; Cottier et al. 2024, arXiv:2405.21015)"
)


@dataclass(frozen=True)
class Cited:
    """A default value with where it comes from."""

    value: float
    unit: str
    source: str
    accessed: str = "2026-09-28"


# Server power / accelerator TDP (Epoch AI: H100 (10.2 kW/8)/0.7 = 1.82; A100 (6.5 kW/8)/0.4 =
# 2.03; V100 1.67; TPU v3 1.47). Accelerators without an Epoch figure use the H100 value.
SERVER_TO_CHIP_POWER: dict[str, Cited] = {
    "h100-sxm": Cited(1.82, "1", EPOCH_COST_MODEL + ": H100 (10.2 kW / 8) / 0.7 kW"),
    "h800": Cited(1.82, "1", EPOCH_COST_MODEL + ": H100 value; H800 has the same 700 W TDP and DGX chassis"),
    "h200": Cited(1.82, "1", EPOCH_COST_MODEL + ": H100 value; DGX H200 has the same 10.2 kW max input"),
    "a100-sxm4-40gb": Cited(2.03, "1", EPOCH_COST_MODEL + ": A100 (6.5 kW / 8) / 0.4 kW"),
    "a100-sxm4-80gb": Cited(2.03, "1", EPOCH_COST_MODEL + ": A100 (6.5 kW / 8) / 0.4 kW"),
    "v100": Cited(1.67, "1", EPOCH_COST_MODEL + ": V100"),
}
SERVER_TO_CHIP_POWER_FALLBACK = Cited(
    1.82, "1", EPOCH_COST_MODEL + ": H100 value, applied to accelerators without their own figure"
)
TPU_SERVER_TO_CHIP_POWER = Cited(1.47, "1", EPOCH_COST_MODEL + ": TPU v3 value, applied to TPUs")

POWER_UTILISATION_GPU = Cited(
    0.75, "1", EPOCH_COST_MODEL + ": average power as a fraction of server TDP during training, GPUs"
)
POWER_UTILISATION_TPU = Cited(
    0.43, "1", EPOCH_COST_MODEL + ": average power as a fraction of server TDP during training, TPUs"
)
PUE = Cited(
    1.25,
    "1",
    EPOCH_COST_MODEL + ": PUE 1.25 for non-hyperscalers (1.1 hyperscalers; Uptime Institute 2025 "
    "survey average 1.54)",
)
ELECTRICITY_USD_PER_KWH = Cited(
    0.0826, "USD/kWh", EPOCH_COST_MODEL + ": average US industrial electricity price 2025 (EIA-based)"
)
MFU_WHEN_UNKNOWN = Cited(
    0.375,
    "1",
    EPOCH_COST_MODEL + ": median MFU of 33 known training runs, used when neither MFU nor a layout is known",
)


def power_defaults(accelerator_id: str) -> tuple[Cited, Cited]:
    """(server-to-chip power, average power utilisation) defaults for an accelerator: Epoch AI's
    per-chip figures, TPU values for TPUs, the H100 values otherwise."""
    if accelerator_id.startswith("tpu"):
        return TPU_SERVER_TO_CHIP_POWER, POWER_UTILISATION_TPU
    return SERVER_TO_CHIP_POWER.get(accelerator_id, SERVER_TO_CHIP_POWER_FALLBACK), POWER_UTILISATION_GPU
