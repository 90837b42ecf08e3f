"""The `model` stage: parameter counts of the architecture (formulas in `truecost.architecture`)."""

from __future__ import annotations

from dataclasses import dataclass

from ..architecture import Architecture
from .base import Notes, StageResult, quantity


@dataclass(frozen=True, kw_only=True)
class ModelResult(StageResult):
    """params_total : weights of the main model, MTP modules excluded. [1]
    params_active : weights used per token (shared + top-k experts for MoE). [1]
    """

    params_total: float | None = quantity("1", "weights of the main model (MTP excluded)")
    params_active: float | None = quantity("1", "weights used per token")
    model_id: str = ""


def stage(arch: Architecture | None, model_id: str | None, *, point: bool = True) -> ModelResult:
    if arch is None:
        return ModelResult()
    notes = Notes(point)
    src = arch.source or "scenario input (architecture given inline)"
    notes.assume("architecture", model_id or "inline", "", src, "model")
    return ModelResult(
        params_total=float(arch.params_total),
        params_active=float(arch.params_active),
        model_id=model_id or "",
        assumptions=notes.assumptions,
    )
