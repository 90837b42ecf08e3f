"""Reports: one self-contained HTML file (plotly.js inlined, works offline) or Markdown + PNGs.

>>> from truecost.report import FORMATS
>>> sorted(FORMATS)
['html', 'md']
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ..errors import TruecostError
from ..files import write_atomically
from ..result import Estimate
from .content import ReportData, gather

__all__ = [
    "FORMATS",
    "SENSITIVITY_N",
    "html_report",
    "report_data",
    "write_atomic",
    "write_compare",
    "write_report",
]

# Base samples of the Sobol' estimate behind the tornado chart: enough to rank inputs, and
# quick (the chain runs vectorised on n x (inputs + 2) trials).
SENSITIVITY_N = 1024


def sensitivity_for(est: Estimate, seed: int | None = None) -> tuple[dict[str, Any] | None, str]:
    """The sensitivity analysis of an estimate's scenario when it has uncertain inputs.

    Returns (result or None, a note for the reader when it could not run). Guarded: a report
    is still written when the analysis is unavailable.
    """
    from ..uncertainty import find_distributions

    try:
        if not find_distributions(est.inputs):
            return None, ""
        from ..analysis.sensitivity import sensitivity
    except (ImportError, ValueError) as exc:
        return None, f"Sensitivity analysis unavailable: {exc}"
    try:
        return sensitivity(est.inputs, None, SENSITIVITY_N, seed), ""
    except Exception as exc:  # the report must not fail because an optional chart failed
        return None, f"Sensitivity analysis could not run: {exc}"


def report_data(
    source: str | Path | Mapping[str, Any], samples: int | None = None, seed: int | None = None
) -> tuple[ReportData, str]:
    """Run the scenario (and its sensitivity analysis) and gather what a report shows."""
    from ..chain import estimate

    est = estimate(source, samples=samples, seed=seed)
    sens, note = sensitivity_for(est, seed)
    return gather(est, sens), note


def html_report(
    source: str | Path | Mapping[str, Any], samples: int | None = None, seed: int | None = None
) -> str:
    """The HTML report of a scenario as one string."""
    from .html import document

    data, note = report_data(source, samples, seed)
    return document(data, note)


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` all or nothing (`truecost.files.write_atomically`): the old file
    survives a failure."""
    write_atomically(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def _write_html(data: ReportData, path: Path, note: str) -> None:
    from .html import document

    write_atomic(path, document(data, note))


def _write_md(data: ReportData, path: Path, note: str) -> None:
    from .markdown import document

    text, _pngs = document(data, path, note)
    write_atomic(path, text)


FORMATS: dict[str, Callable[[ReportData, Path, str], None]] = {"html": _write_html, "md": _write_md}


def write_report(
    scenario: str | Path | Mapping[str, Any],
    output: str | Path,
    fmt: str = "html",
    samples: int | None = None,
    seed: int | None = None,
) -> Path:
    """Write the report of `scenario` to `output` and return the path written.

    fmt : "html" (one self-contained file) or "md" (Markdown; PNG charts written beside it as
          STEM-CHART.png).
    Raises TruecostError naming `format` for an unknown format and `output` for a path that
    cannot be written.
    """
    writer = FORMATS.get(fmt)
    if writer is None:
        raise TruecostError(f"unknown format {fmt!r}; valid formats: {', '.join(FORMATS)}", field="format")
    path = Path(output)
    if not path.parent.is_dir():
        raise TruecostError(
            f"cannot write {str(path)!r}: folder {str(path.parent)!r} does not exist", field="output"
        )
    data, note = report_data(scenario, samples, seed)
    try:
        writer(data, path, note)
    except OSError as exc:
        raise TruecostError(f"cannot write {str(path)!r}: {exc.strerror or exc}", field="output") from None
    return path


def write_compare(cmp: Any, output: str | Path) -> Path:
    """Write the HTML page of a `truecost.analysis.compare.Comparison` and return its path."""
    from .compare import document

    path = Path(output)
    if not path.parent.is_dir():
        raise TruecostError(
            f"cannot write {str(path)!r}: folder {str(path.parent)!r} does not exist", field="output"
        )
    try:
        path.write_text(document(cmp), encoding="utf-8")
    except OSError as exc:
        raise TruecostError(f"cannot write {str(path)!r}: {exc.strerror or exc}", field="output") from None
    return path
