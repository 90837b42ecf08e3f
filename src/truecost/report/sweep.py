"""A chart of a sweep file: one result against one varied input, with its p5-p95 band, log scale.

`truecost report SWEEP.csv|.parquet -o chart.html|.png|.md` draws it (matplotlib, Agg backend).
One line per combination of the other varied inputs.
"""

from __future__ import annotations

import base64
import html
import io
import re
from pathlib import Path
from typing import Any

from ..errors import TruecostError

SWEEP_SUFFIXES = (".csv", ".parquet")
OUTPUTS = (".html", ".png", ".md")
DEFAULT_RESULT = "final_run_cost_usd"
MAX_LINES = 12  # more combinations than this make an unreadable chart: ask for fewer


def is_sweep_file(source: Any) -> bool:
    return isinstance(source, str | Path) and Path(source).suffix.lower() in SWEEP_SUFFIXES


def read_sweep(source: str | Path) -> Any:
    import pandas as pd

    path = Path(source)
    if not path.is_file():
        raise TruecostError(f"no sweep file {str(path)!r}", field="scenario")
    try:
        return pd.read_parquet(path) if path.suffix.lower() == ".parquet" else pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise TruecostError(f"cannot read the sweep file {str(path)!r}: {exc}", field="scenario") from None


def input_columns(df: Any) -> list[str]:
    """The varied inputs: the columns named by a field path (results have no dots or brackets)."""
    return [c for c in df.columns if "." in c or "[" in c]


_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


def _as_years(values: Any) -> list[float] | None:
    """Dates (YYYY, YYYY-MM, YYYY-MM-DD, as text) as decimal years; None when they are not all dates."""
    from ..dates import decimal_year

    texts = [str(v).strip() for v in values]
    if not texts or not all(_DATE.match(t) for t in texts):
        return None
    return [decimal_year(t) for t in texts]


def growth_per_year(years: Any, values: Any) -> float:
    """The factor a year of a log-linear least-squares fit of `values` against `years`.

    >>> round(growth_per_year([2020, 2021, 2022], [1, 3, 9]), 6)
    3.0
    """
    import numpy as np

    slope = np.polyfit(np.asarray(years, float), np.log(np.asarray(values, float)), 1)[0]
    return float(np.exp(slope))


def sweep_figure(df: Any, x: str | None = None, y: str | None = None, trend: float | None = None) -> Any:
    """The matplotlib figure: `y` (its median and 90% band when sampled) against input `x`.

    An input that takes one value at each value of `x` (a year's hardware in a sweep of explicit
    points) moves with `x` and draws no line of its own. `x` given as dates is plotted in decimal
    years. `trend` (a factor a year, such as Epoch AI's 2.4) adds a reference line of that growth
    through the centre of the medians, and the fitted growth of each line to its label; `x` must
    then be years or dates.
    """
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    import numpy as np

    inputs = input_columns(df)
    if not inputs:
        raise TruecostError("the file has no varied input columns (PATH columns)", field="scenario")
    x = x or inputs[0]
    if x not in inputs:
        raise TruecostError(f"not a varied input; choose one of {', '.join(inputs)}", field="x")
    y = y or DEFAULT_RESULT
    sampled = f"{y}_p50" in df.columns
    mid = f"{y}_p50" if sampled else y
    if mid not in df.columns:
        results = sorted(
            {re.sub(r"_(mean|p5|p50|p95)$", "", c) for c in df.columns if c not in inputs}
            - {"warnings", "error"}
        )
        raise TruecostError(f"no result {y!r} in the file; results: {', '.join(results)}", field="y")
    # inputs that vary at a fixed x (not those that move with x) make separate lines
    others = [c for c in inputs if c != x and df.groupby(x)[c].nunique(dropna=False).max() > 1]
    groups = list(df.groupby(others, sort=False)) if others else [((), df)]
    if len(groups) > MAX_LINES:
        raise TruecostError(f"{len(groups)} lines to draw; chart a sweep with fewer combinations", field="x")
    from pandas.api.types import is_numeric_dtype

    years = None if is_numeric_dtype(df[x]) else _as_years(df[x])
    categorical = not is_numeric_dtype(df[x]) and years is None
    if trend is not None:
        if categorical:
            raise TruecostError(f"a trend line needs years or dates on the x axis, not {x}", field="trend")
        if not trend > 0:
            raise TruecostError(f"expected a positive factor a year, got {trend!r}", field="trend")
    if years is not None:
        df = df.assign(**{x: years})
    cats = list(dict.fromkeys(df[x].tolist())) if categorical else []
    fig, ax = plt.subplots(figsize=(8, 4.5))
    centres = []
    for key, g in groups:
        g = df.loc[g.index] if categorical else df.loc[g.index].sort_values(x)
        xs = [cats.index(v) for v in g[x]] if categorical else g[x].to_numpy(dtype=float)
        keys = key if isinstance(key, tuple) else (key,)
        label = ", ".join(f"{c}={v}" for c, v in zip(others, keys, strict=True)) or y
        if trend is not None and len(g) > 1:
            label += f" (fitted {growth_per_year(xs, g[mid]):.2f}x a year)"
            centres.append((float(np.mean(xs)), float(np.mean(np.log(g[mid].to_numpy(float))))))
        (line,) = ax.plot(xs, g[mid], marker="o", label=label)
        if sampled:
            ax.fill_between(xs, g[f"{y}_p5"], g[f"{y}_p95"], color=line.get_color(), alpha=0.2, linewidth=0)
    if trend is not None and centres:
        cx, cy = centres[0]
        lo, hi = float(df[x].min()), float(df[x].max())
        tx = np.array([lo, hi])
        ty = np.exp(cy + (tx - cx) * np.log(trend))
        ax.plot(tx, ty, linestyle="--", color="grey", label=f"reference: {trend:g}x a year")
    if categorical:
        ax.set_xticks(range(len(cats)), [str(c) for c in cats])
    ax.set_yscale("log")
    ax.set_xlabel(f"{x} (year)" if years is not None else x)
    ax.set_ylabel(f"{y} (median, 5th-95th percentile band)" if sampled else y)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small")
    fig.tight_layout()
    return fig


def write_sweep_report(
    source: str | Path,
    output: str | Path,
    x: str | None = None,
    y: str | None = None,
    trend: float | None = None,
) -> Path:
    """Chart a sweep file to .png, .html (the PNG inlined) or .md (the PNG written beside it)."""
    out = Path(output)
    if out.suffix.lower() not in OUTPUTS:
        raise TruecostError(f"a sweep chart is written as {', '.join(OUTPUTS)}", field="output")
    if not out.parent.is_dir():
        raise TruecostError(
            f"cannot write {str(out)!r}: folder {str(out.parent)!r} does not exist", field="output"
        )
    df = read_sweep(source)
    fig = sweep_figure(df, x, y, trend)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    import matplotlib.pyplot as plt

    plt.close(fig)
    png = buf.getvalue()
    title = f"Sweep: {Path(source).name} ({len(df):,} points)"
    suffix = out.suffix.lower()
    if suffix == ".png":
        out.write_bytes(png)
    elif suffix == ".md":
        img = out.with_name(out.stem + "-sweep.png")
        img.write_bytes(png)
        out.write_text(f"# {title}\n\n![sweep chart]({img.name})\n", encoding="utf-8")
    else:
        data = base64.b64encode(png).decode()
        out.write_text(
            f"<!doctype html><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<h1>{html.escape(title)}</h1><img alt='sweep chart' src='data:image/png;base64,{data}'>\n",
            encoding="utf-8",
        )
    return out
