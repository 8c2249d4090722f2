"""Static map of counts per commune drawn as proportional symbols at the commune's centre (e.g.
the MSP and centres de santé recorded by the BPE, which gives a commune, not an address)."""
from __future__ import annotations

from typing import Sequence

from .static import _draw_scalebar, _draw_towns, _finish, _plain, base_map

__all__ = ["commune_symbols_map"]

#: marker, colour and horizontal offset (metres) of up to three series drawn side by side
_SERIES_STYLES = (("o", "#2171b5", -700.0), ("s", "#cb181d", 700.0), ("D", "#238b45", 0.0))


def commune_symbols_map(communes, series: Sequence[tuple[str, str]], *, title: str, source: str,
                        legend_title: str, context=None, outline=None, towns=None, figsize=None,
                        note: str | None = None):
    """Counts per commune (columns of ``communes`` named in ``series`` as ``(column, label)``)
    drawn as symbols whose area grows with the count, at each commune's centre → Figure.

    A commune with 0 (or a missing count) gets no symbol; the legend gives each series' total."""
    from matplotlib.lines import Line2D

    g, fig, ax = base_map(communes, context, outline, figsize)
    centres = g.geometry.representative_point()
    handles = []
    for (column, label), (marker, color, dx) in zip(series, _SERIES_STYLES):
        n = g[column].fillna(0)
        sel = (n > 0).to_numpy()
        if sel.any():
            ax.scatter(centres[sel].x + dx, centres[sel].y, s=40 * n[sel].to_numpy() ** 0.5 * 1.6,
                       marker=marker, c=color, edgecolors="white", linewidths=0.8, alpha=0.9, zorder=10)
        handles.append(Line2D([], [], marker=marker, linestyle="", color=color, markersize=7,
                              label=_plain(f"{label} : {int(n.sum())}")))
    _draw_towns(ax, towns)
    _draw_scalebar(ax)
    _finish(fig, ax, title, source, handles, legend_title, note)
    return fig
