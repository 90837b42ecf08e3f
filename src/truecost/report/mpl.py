"""The report's charts as static PNGs (matplotlib, Agg backend), for the Markdown report."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..fmt import usd, value
from .charts import DOWN, HIST_BINS, PALETTE, TOTAL, TOTAL_LABEL, UP, Chart, grid, groups
from .content import Distribution, Item, Step, Tornado, View

DPI = 110


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _usd_axis(ax: Any, axis: str = "x") -> None:
    from matplotlib.ticker import FuncFormatter

    fmt = FuncFormatter(lambda x, _pos: usd(x) if x else "$0")
    (ax.xaxis if axis == "x" else ax.yaxis).set_major_formatter(fmt)


def _views(views: tuple[View, ...]) -> Any:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 1.2 + 0.6 * len(views)))
    y = np.arange(len(views))
    xs = [v.figure.central or 0.0 for v in views]
    ax.barh(y, xs, color=[PALETTE[i % len(PALETTE)] for i in range(len(views))])
    for yi, v in zip(y, views, strict=True):
        ax.text(v.figure.central or 0.0, yi, " " + v.figure.text, va="center", fontsize=9)
    ax.set_yticks(y, [v.short_label for v in views])
    ax.invert_yaxis()
    pos = [x for x in xs if x > 0]
    if pos and max(pos) > 20 * min(pos):
        ax.set_xscale("log")
        ax.set_xlim(min(pos) / 3, max(pos) * 8)
        ax.set_xlabel("USD (log scale)")
        _usd_axis(ax, "x")
    else:
        ax.set_xlim(0, max(xs + [1.0]) * 1.3)
        _usd_axis(ax, "x")
    return fig


def _waterfall(steps: tuple[Step, ...]) -> Any:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(9, 4.5))
    labels = [s.label for s in steps] + [TOTAL_LABEL]
    bottoms, heights, colors = [], [], []
    for i, s in enumerate(steps):
        if i == 0:
            bottoms.append(0.0)
            heights.append(s.total_usd)
            colors.append(TOTAL)
        else:
            bottoms.append(s.total_usd - s.amount_usd)
            heights.append(s.amount_usd)
            colors.append(UP if s.amount_usd >= 0 else DOWN)
    bottoms.append(0.0)
    heights.append(steps[-1].total_usd)
    colors.append(TOTAL)
    x = np.arange(len(labels))
    ax.bar(x, heights, bottom=bottoms, color=colors)
    for xi, b, h in zip(x, bottoms, heights, strict=True):
        ax.text(xi, b + max(h, 0), usd(h), ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x, labels, rotation=20, ha="right", fontsize=9)
    _usd_axis(ax, "y")
    return fig


def _breakdown(items: tuple[Item, ...]) -> Any:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(9, 1.2 + 0.4 * len(items)))
    y = 0
    for i, (group, its) in enumerate(groups(items).items()):
        ys = np.arange(y, y + len(its))
        ax.barh(ys, [it.amount_usd for it in its], color=PALETTE[i % len(PALETTE)], label=group or None)
        for yi, it in zip(ys, its, strict=True):
            ax.text(it.amount_usd, yi, " " + usd(it.amount_usd), va="center", fontsize=8)
        y += len(its)
    ax.set_yticks(
        np.arange(len(items)),
        [f"{it.group}: {it.label}" if it.group else it.label for it in items],
        fontsize=9,
    )
    ax.invert_yaxis()
    _usd_axis(ax, "x")
    if len(groups(items)) > 1:
        ax.legend(fontsize=8, loc="lower right")
    return fig


def _histograms(dists: tuple[Distribution, ...]) -> Any:
    plt = _plt()
    rows, cols = grid(len(dists))
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 2.8 * rows), squeeze=False)
    for ax, d in zip(axes.flat, dists, strict=False):
        ax.hist(d.draws, bins=HIST_BINS, color=PALETTE[0])
        for q in (d.p5, d.p50, d.p95):
            ax.axvline(q, color=UP, linestyle="--", linewidth=1)
        ax.set_title(f"{d.key}: p50 {value(d.p50, d.unit)}", fontsize=9)
        ax.set_yticks([])
        if d.unit.startswith("USD"):
            _usd_axis(ax, "x")
        ax.tick_params(axis="x", labelsize=8)
    for ax in list(axes.flat)[len(dists) :]:
        ax.set_visible(False)
    return fig


def _tornado(t: Tornado) -> Any:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(9, 1.2 + 0.45 * len(t.bars)))
    y = np.arange(len(t.bars))
    ax.barh(y, [b.low - t.base for b in t.bars], left=t.base, color=DOWN, label="input at p5")
    ax.barh(y, [b.high - t.base for b in t.bars], left=t.base, color=UP, label="input at p95")
    ax.axvline(t.base, color="#333", linewidth=1)
    ax.set_yticks(y, [b.label for b in t.bars], fontsize=9)
    ax.invert_yaxis()
    ax.set_xlabel(f"{t.output} [{t.unit}]")
    if t.unit.startswith("USD"):
        _usd_axis(ax, "x")
    ax.legend(fontsize=8, loc="lower right")
    return fig


def _serving_curve(points: tuple[dict[str, Any], ...]) -> Any:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 3.6))
    xs = [p["tpot_ms"] for p in points]
    for i, (key, name) in enumerate(
        (("usd_per_m_output_tokens", "rented GPUs"), ("owned_usd_per_m_output_tokens", "owned GPUs"))
    ):
        ys = [p.get(key) for p in points]
        if all(y is not None for y in ys):
            ax.plot(xs, ys, marker="o", color=PALETTE[i], label=name)
    ax.set_xlabel("time per output token (ms)")
    ax.set_ylabel("USD per million output tokens")
    ax.set_ylim(bottom=0)
    ax.legend(frameon=False)
    return fig


MPL_BUILDERS: dict[str, Callable[[Any], Any]] = {
    "views": _views,
    "waterfall": _waterfall,
    "breakdown": _breakdown,
    "histograms": _histograms,
    "tornado": _tornado,
    "serving_curve": _serving_curve,
}


def write_png(chart: Chart, path: Path) -> Path:
    """Draw `chart` and save it as a PNG at `path` (raises OSError when the file cannot be written)."""
    plt = _plt()
    fig = MPL_BUILDERS[chart.kind](chart.payload)
    try:
        fig.suptitle(chart.title, x=0.01, ha="left", fontsize=12)
        for ax in fig.axes:
            ax.spines[["top", "right"]].set_visible(False)
        fig.tight_layout()
        fig.savefig(path, dpi=DPI, format="png")
    finally:
        plt.close(fig)
    return path
