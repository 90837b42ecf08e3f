"""User-facing errors. The CLI turns these into exit code 2 and one paragraph, no traceback."""

from __future__ import annotations

from collections.abc import Sequence


class TruecostError(ValueError):
    """Bad user input. `field` names the scenario field at fault (dotted path) when known."""

    def __init__(self, message: str, field: str | None = None):
        self.field = field
        super().__init__(f"{field}: {message}" if field else message)


class ScenarioError(TruecostError):
    """A scenario that cannot be read or validated."""


def path_str(path: Sequence[str | int]) -> str:
    """Dotted field name of a path, as error messages and reports print it.

    >>> path_str(("fleet", 0, "unit_price_usd"))
    'fleet[0].unit_price_usd'
    >>> path_str(("cluster", "mfu"))
    'cluster.mfu'
    """
    out = ""
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out
