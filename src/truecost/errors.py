"""User-facing errors. The CLI turns these into exit code 2 and one paragraph, no traceback."""

from __future__ import annotations


class TruecostError(ValueError):
    """Bad user input. `field` names the scenario field at fault (dotted path) when known."""

    def __init__(self, message: str, field: str | None = None):
        self.field = field
        super().__init__(f"{field}: {message}" if field else message)


class ScenarioError(TruecostError):
    """A scenario that cannot be read or validated."""
