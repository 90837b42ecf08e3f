"""Typed rows of the model and training-run catalogs (accelerators: see `schema.Accelerator`)."""

from __future__ import annotations

from dataclasses import dataclass

from ..architecture import Architecture


@dataclass(frozen=True)
class ModelEntry:
    """One published model architecture with its provenance.

    `published_params_*` are the sizes the developer states (e.g. DeepSeek-V3: 671e9 / 37e9); the
    architecture's computed `params_total` / `params_active` should reproduce them.
    """

    id: str
    arch: Architecture
    source: str
    accessed: str
    verification: str = ""
    notes: str = ""
    published_params_total: float | None = None  # [1]
    published_params_active: float | None = None  # [1]

    @property
    def name(self) -> str:
        return self.arch.name or self.id


@dataclass(frozen=True)
class TrainingRun:
    """A published training run, values as reported (None = not disclosed).

    Counts are plain numbers; `gpu_hours` are accelerator-hours of `accelerator_id` (TPU runs:
    chip-hours). `reported_mfu` is a fraction; for a published range it is the midpoint and the
    ends are in `reported_mfu_low` / `reported_mfu_high` (the original text is in `notes`).
    `mfu_basis` is the precision of the dense peak the MFU was measured against.
    """

    id: str
    model: str
    org: str
    year: int
    model_id: str | None
    accelerator_id: str | None
    hardware: str
    stage: str
    params_total: float | None  # [1]
    params_active: float | None  # [1]
    tokens: float | None  # [token]
    seq_len: int | None  # [token]
    n_accelerators: int | None  # [1]
    gpu_hours: float | None  # [h]
    wall_clock_days: float | None  # [d]
    reported_flops: float | None  # [FLOP]
    reported_mfu: float | None  # [1]
    reported_mfu_low: float | None  # [1]
    reported_mfu_high: float | None  # [1]
    mfu_basis: str | None
    reported_cost_usd: float | None  # [USD]
    rental_usd_per_gpu_hour: float | None  # [USD/h], the rental price the reported cost assumes
    precision: str
    caveat: str
    source: str
    accessed: str
    notes: str = ""
    verification: str = ""
