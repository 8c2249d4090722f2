"""Charts of the report (matplotlib, no pyplot state): grouped bars comparing territories."""
from __future__ import annotations

import textwrap

import numpy as np
from matplotlib.ticker import FuncFormatter

from ..fmt import ND, fmt_number

PALETTE = ["#1b6ca8", "#f28e2b", "#59a14f", "#b07aa1", "#9c755f", "#76b7b2", "#e15759"]


def grouped_bars(categories: list[str], series: list[tuple[str, np.ndarray]], *, title: str, unit: str,
                 source: str, decimals: int = 1):
    """Horizontal grouped bars (one group per category, one bar per territory) → Figure.

    Missing values are written « n.d. » at the bar's place, never drawn as 0.
    """
    from matplotlib.figure import Figure

    n_cat, n_ser = len(categories), len(series)
    h = 0.8 / max(n_ser, 1)
    top_in, bottom_in = 0.5, 0.85
    fig_h = max(3.0, 0.16 * n_cat * n_ser + 0.12 * n_cat + top_in + bottom_in)
    fig = Figure(figsize=(9.6, fig_h), dpi=100)
    ax = fig.add_axes((0.2, bottom_in / fig_h, 0.56, 1 - (top_in + bottom_in) / fig_h))
    y = np.arange(n_cat)
    vmax = np.nanmax([np.nanmax(v) if np.isfinite(v).any() else 0 for _, v in series] + [1])
    for k, (label, vals) in enumerate(series):
        pos = y - 0.4 + h * (k + 0.5)
        vals = np.asarray(vals, dtype=float)
        ok = np.isfinite(vals)
        ax.barh(pos[ok], vals[ok], height=h * 0.92, color=PALETTE[k % len(PALETTE)],
                label=textwrap.fill(label, 24))
        for p, v, good in zip(pos, vals, ok):
            ax.text((v if good else 0) + vmax * 0.01, p, fmt_number(v, decimals) if good else ND,
                    va="center", fontsize=7, color="#333333")
    ax.set_yticks(y, categories, fontsize=8.5)
    ax.invert_yaxis()
    ax.set_xlabel(unit, fontsize=8.5)
    ax.set_xlim(0, vmax * 1.15)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: fmt_number(x, 0 if vmax >= 10 else 1)))
    ax.tick_params(axis="x", labelsize=8)
    for s in ("top", "right"):
        ax.spines[s].set_visible(False)
    ax.grid(axis="x", color="#e5e5e5", linewidth=0.6)
    ax.set_axisbelow(True)
    fig.legend(loc="upper left", bbox_to_anchor=(0.78, 1 - top_in / fig_h), fontsize=8.5, frameon=False)
    fig.text(0.015, 1 - 0.12 / fig_h, title, ha="left", va="top", fontsize=12, fontweight="bold")
    fig.text(0.015, 0.06 / fig_h, textwrap.fill(f"Source : {source}", 140), ha="left", va="bottom",
             fontsize=7.5, color="#333333")
    return fig
