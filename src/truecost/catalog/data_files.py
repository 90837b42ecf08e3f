"""The catalog's shipped data files (`truecost/catalog/data/`): one reader for every table."""

from __future__ import annotations

from importlib import resources


def data_text(*parts: str) -> str:
    """Text of a shipped data file, by its path below `catalog/data/` (UTF-8).

    >>> data_text("accelerators.csv").splitlines()[0].split(",")[0]
    'id'
    """
    return resources.files("truecost.catalog").joinpath("data", *parts).read_text(encoding="utf-8")


def data_path(*parts: str) -> str:
    """Path of a shipped data file, as text (for messages and writers)."""
    return str(resources.files("truecost.catalog").joinpath("data", *parts))
