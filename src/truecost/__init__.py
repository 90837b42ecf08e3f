"""truecost: what does it really cost to build this AI model?

>>> import truecost
>>> r = truecost.estimate("deepseek-v3")
>>> r.results["gpu_hours"]
2788000.0
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["estimate", "sweep", "Estimate", "__version__"]

if TYPE_CHECKING:
    import pandas as pd

    from .result import Estimate


def estimate(
    source: Any, samples: int | None = None, seed: int | None = None, progress: Any = None
) -> Estimate:
    """Run a scenario (preset name, YAML path or dict) through the chain. See `truecost.chain.estimate`."""
    from .chain import estimate as _estimate

    return _estimate(source, samples=samples, seed=seed, progress=progress)


def sweep(
    scenario: Any,
    grid: Any,
    samples: int | None = None,
    seed: int | None = None,
    scheduler: Any = None,
    **options: Any,
) -> pd.DataFrame:
    """Run a scenario at every point of a grid, locally or on Dask. See `truecost.analysis.sweep.sweep`."""
    from .analysis.sweep import sweep as _sweep

    return _sweep(scenario, grid, samples=samples, seed=seed, scheduler=scheduler, **options)


def __getattr__(name: str) -> Any:
    if name == "Estimate":
        from .result import Estimate

        return Estimate
    raise AttributeError(name)
