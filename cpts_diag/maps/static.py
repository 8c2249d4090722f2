"""Static maps (matplotlib): choropleths, categories, hospitals, small multiples, PNG export.

Conventions of every static map:

* CPTS communes coloured by class, the CPTS outline in dark grey, neighbouring communes in light
  grey for context, the main towns labelled, a French legend whose title carries the unit;
* communes whose value is missing (INSEE *secret statistique*, source gap) are hatched in grey and
  listed in the legend as « Donnée manquante » — never coloured as a value;
* every class of the :class:`~cpts_diag.maps.classes.Classes` is listed, empty ones included
  (``drop_empty=False``), so that two reports drawn with the same fixed classes are comparable;
* the source and its vintage are written under the map;
* every text drawn (titles, legends, town and category labels from the data, source, note) goes
  through :func:`_plain`: a ``$`` in a name is shown, never read as mathtext.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import pandas as pd

from ..geometry import LAMBERT93, WGS84, outline_of
from ..geometry import to_l93 as _to_l93
from .classes import MISSING_COLOR, MISSING_LABEL, Classes, _sample_cmap, make_classes

__all__ = ["choropleth", "category_map", "hospital_map", "small_multiples", "figure_png", "top_towns",
           "hospitals_frame", "HOSPITAL_STYLES", "LAMBERT93", "WGS84"]

MISSING_EDGE = "#8c8c8c"
CONTEXT_COLOR = "#ececec"
CONTEXT_EDGE = "#ffffff"
OUTLINE_COLOR = "#252525"


def _plain(text) -> str:
    """Text shown as is by matplotlib (``$`` escaped; see :func:`cpts_diag.report.text.mpl_safe`)."""
    from ..report.text import mpl_safe

    return mpl_safe(text)


def top_towns(gdf, by: str, n: int = 6, name_column: str = "nom"):
    """The ``n`` communes of ``gdf`` with the largest ``by`` (e.g. population), for labels."""
    d = gdf[gdf[by].notna()].sort_values(by, ascending=False).head(n)
    return d[[name_column, d.geometry.name]].rename(columns={name_column: "nom"})


def hospitals_frame(df: pd.DataFrame, lat: str = "lat", lon: str = "lon"):
    """A GeoDataFrame (WGS84) of points from a frame with ``lat``/``lon`` columns."""
    import geopandas as gpd

    d = df[df[lat].notna() & df[lon].notna()].copy()
    return gpd.GeoDataFrame(d, geometry=gpd.points_from_xy(d[lon], d[lat]), crs=WGS84)


# --- static maps --------------------------------------------------------------------------------

MAP_WIDTH_IN = 6.2  # width of the map panel; the legend panel sits on its right
LEGEND_WIDTH_IN = 3.3
TITLE_IN, FOOT_IN = 0.55, 0.5


def _extent(geoms_l93, margin: float = 0.05) -> tuple[float, float, float, float]:
    xmin, ymin, xmax, ymax = geoms_l93.total_bounds
    pad = max(xmax - xmin, ymax - ymin) * margin
    return xmin - pad, ymin - pad, xmax + pad, ymax + pad


def _new_figure(geoms_l93, figsize=None):
    """Figure whose map panel has the territory's aspect ratio (no wasted white bands)."""
    from matplotlib.figure import Figure

    xmin, ymin, xmax, ymax = _extent(geoms_l93)
    aspect = (ymax - ymin) / max(xmax - xmin, 1.0)
    map_w = MAP_WIDTH_IN if figsize is None else figsize[0] - LEGEND_WIDTH_IN
    map_h = min(max(map_w * aspect, 3.6), 7.6)
    if map_w * aspect > 7.6:  # tall territory: narrower panel
        map_w = 7.6 / aspect
    fig_w = map_w + LEGEND_WIDTH_IN + 0.2
    fig_h = map_h + TITLE_IN + FOOT_IN
    fig = Figure(figsize=(fig_w, fig_h), dpi=100)
    ax = fig.add_axes((0.1 / fig_w, FOOT_IN / fig_h, map_w / fig_w, map_h / fig_h))
    ax.set_axis_off()
    ax.set_aspect("equal", adjustable="datalim")
    fig._cpts_legend_x = (map_w + 0.25) / fig_w  # where _finish puts the legend
    fig._cpts_top = (FOOT_IN + map_h) / fig_h
    return fig, ax


def _frame_extent(ax, geoms_l93, margin: float = 0.05):
    xmin, ymin, xmax, ymax = _extent(geoms_l93, margin)
    ax.set_xlim(xmin, xmax)
    ax.set_ylim(ymin, ymax)


def _draw_context(ax, context, outline_l93):
    if context is not None and len(context):
        _to_l93(context).plot(ax=ax, facecolor=CONTEXT_COLOR, edgecolor=CONTEXT_EDGE, linewidth=0.6,
                              zorder=1)
    if outline_l93 is not None:
        outline_l93.boundary.plot(ax=ax, color=OUTLINE_COLOR, linewidth=1.6, zorder=5)


def _draw_towns(ax, towns, fontsize: float = 8.0, min_gap_m: float = 4000.0):
    if towns is None or not len(towns):
        return
    import matplotlib.patheffects as pe

    t = _to_l93(towns)
    placed: list[tuple[float, float]] = []
    xmin, xmax = ax.get_xlim()
    ymin, ymax = ax.get_ylim()
    for name, geom in zip(t["nom"], t.geometry):
        p = geom if geom.geom_type == "Point" else geom.representative_point()
        if not (xmin <= p.x <= xmax and ymin <= p.y <= ymax):
            continue
        if any(math.hypot(p.x - x, p.y - y) < min_gap_m for x, y in placed):
            continue
        placed.append((p.x, p.y))
        ax.plot(p.x, p.y, "o", ms=2.5, color="#111111", zorder=7)
        ax.annotate(_plain(name), (p.x, p.y), xytext=(3, 3), textcoords="offset points",
                    fontsize=fontsize, color="#111111", zorder=8,
                    path_effects=[pe.withStroke(linewidth=2.5, foreground="white")])


def _draw_scalebar(ax):
    xmin, xmax = ax.get_xlim()
    ymin, ymax = ax.get_ylim()
    span = (xmax - xmin) / 5
    length = next((s for s in (50000, 20000, 10000, 5000, 2000, 1000) if s <= span), 1000)
    x0, y0 = xmin + (xmax - xmin) * 0.03, ymin + (ymax - ymin) * 0.03
    ax.plot([x0, x0 + length], [y0, y0], color="#111111", linewidth=2.5, zorder=9,
            solid_capstyle="butt")
    ax.text(x0 + length / 2, y0 + (ymax - ymin) * 0.012, f"{length // 1000} km", ha="center",
            va="bottom", fontsize=7.5, zorder=9)


def _finish(fig, ax, title: str, source: str, handles, legend_title: str, note: str | None = None):
    w, h = fig.get_size_inches()
    if title:
        fig.text(0.15 / w, 1 - 0.15 / h, _plain(title), ha="left", va="top", fontsize=12, fontweight="bold")
    if handles:
        leg = fig.legend(handles=handles, title=_plain(legend_title), loc="upper left",
                         bbox_to_anchor=(getattr(fig, "_cpts_legend_x", 0.7), getattr(fig, "_cpts_top", 0.9)),
                         fontsize=8.5, title_fontsize=9,
                         frameon=False, alignment="left")
        leg.set_zorder(20)
    import textwrap

    text = f"Source : {source}" if not source.lower().startswith("source") else source
    if note:
        text += "\n" + note
    width = int(w * 15)
    text = "\n".join(textwrap.fill(line, width) for line in text.split("\n"))
    fig.text(0.15 / w, 0.08 / h, _plain(text), ha="left", va="bottom", fontsize=7.5, color="#333333")


def choropleth(gdf, column: str, *, title: str, legend_title: str, source: str,
               classes: Classes | None = None, context=None, outline=None, towns=None,
               figsize=None, note: str | None = None, drop_empty: bool = False):
    """Static choropleth of ``gdf[column]`` (one row per CPTS commune) → matplotlib Figure.

    ``classes``: a :class:`Classes` (``classes_for(indicator_id)`` for the fixed classes of an
    indicator, :func:`make_classes` for an ad-hoc map); default: 5 quantile classes.
    ``legend_title`` must carry the unit (« Indice de vieillissement (65 ans et + pour 100 moins
    de 20 ans) »). ``context``: neighbouring communes drawn in grey; ``outline``: the CPTS outline
    (default: union of ``gdf``); ``towns``: GeoDataFrame with ``nom`` (see :func:`top_towns`).
    ``source``: « Insee, RP 2022 ; IGN, Admin Express 2025 », written under the map.
    ``drop_empty=False`` (default) lists every class in the legend, empty ones with « (0) ».
    """
    if column not in gdf.columns:
        raise KeyError(f"Column {column!r} is not in the frame; columns: {', '.join(map(str, gdf.columns))}")
    classes = classes or make_classes(gdf[column])
    g = _to_l93(gdf)
    fig, ax = _new_figure(g, figsize)
    out = _to_l93(outline) if outline is not None else outline_of(g)
    _frame_extent(ax, g)
    _draw_context(ax, context, None)
    idx = _draw_classes(ax, g, column, classes, linewidth=0.5, missing_linewidth=0.4)
    _draw_context(ax, None, out)
    _frame_extent(ax, g)
    _draw_towns(ax, towns)
    _draw_scalebar(ax)
    handles = _class_handles(classes, idx, drop_empty=_drop(classes, idx, drop_empty))
    _finish(fig, ax, title, source, handles, legend_title + "\n(nombre de communes)", note)
    return fig


def _drop(classes: Classes, idx: pd.Series, drop_empty: bool) -> bool:
    """Leave empty classes out of the legend? Only on request, or for an ad-hoc classification of
    a map without any value (its single class is meaningless); never for fixed classes."""
    return bool(drop_empty) or (not classes.fixed and not (idx >= 0).any())


def _draw_classes(ax, g, column: str, classes: Classes, linewidth: float,
                  missing_linewidth: float) -> pd.Series:
    """Communes coloured by class, those without value hatched; returns the class of each."""
    idx = classes.index(g[column])
    if (idx >= 0).any():
        g[idx >= 0].plot(ax=ax, color=[classes.colors[i] for i in idx[idx >= 0]], edgecolor="white",
                         linewidth=linewidth, zorder=2)
    if (idx < 0).any():
        g[idx < 0].plot(ax=ax, facecolor=MISSING_COLOR, edgecolor=MISSING_EDGE, hatch="////",
                        linewidth=missing_linewidth, zorder=2)
    return idx


def _class_handles(classes: Classes, idx: pd.Series, drop_empty: bool = False) -> list:
    """Legend entries « label (number of communes) », plus « Donnée manquante » if any is missing;
    ``drop_empty`` leaves out the classes no commune falls in."""
    from matplotlib.patches import Patch

    counts = idx.value_counts()
    handles = [Patch(facecolor=c, edgecolor="#666666", linewidth=0.4,
                     label=f"{_plain(lab)} ({int(counts.get(i, 0))})")
               for i, (lab, c) in enumerate(zip(classes.labels, classes.colors))
               if not drop_empty or counts.get(i, 0)]
    if (idx < 0).any():
        handles.append(Patch(facecolor=MISSING_COLOR, edgecolor=MISSING_EDGE, hatch="////",
                             linewidth=0.4, label=f"{MISSING_LABEL} ({int((idx < 0).sum())})"))
    return handles


def category_map(gdf, column: str, *, title: str, legend_title: str, source: str, context=None,
                 outline=None, towns=None, cmap: str = "tab10", figsize=None,
                 note: str | None = None):
    """Map of a categorical column (e.g. the EPCI of each commune) → matplotlib Figure."""
    from matplotlib.patches import Patch

    g = _to_l93(gdf)
    cats = [c for c in pd.unique(g[column].dropna())]
    colors = _sample_cmap(cmap, max(len(cats), 1), 0.0, 1.0) if cmap not in ("tab10", "Set3", "Pastel1") \
        else [__import__("matplotlib").colormaps[cmap](i % 10) for i in range(len(cats))]
    from matplotlib.colors import to_hex

    colors = [to_hex(c) for c in colors]
    cmap_d = dict(zip(cats, colors))
    fig, ax = _new_figure(g, figsize)
    _frame_extent(ax, g)
    _draw_context(ax, context, None)
    g.plot(ax=ax, color=[cmap_d.get(c, MISSING_COLOR) for c in g[column]], edgecolor="white",
           linewidth=0.5, alpha=0.85, zorder=2)
    _draw_context(ax, None, _to_l93(outline) if outline is not None else outline_of(g))
    _frame_extent(ax, g)
    _draw_towns(ax, towns)
    _draw_scalebar(ax)
    counts = g[column].value_counts()
    handles = [Patch(facecolor=cmap_d[c], edgecolor="#666666", linewidth=0.4,
                     label=f"{_plain(c)} ({int(counts.get(c, 0))})") for c in cats]
    if g[column].isna().any():
        handles.append(Patch(facecolor=MISSING_COLOR, hatch="////", edgecolor=MISSING_EDGE,
                             label=MISSING_LABEL))
    _finish(fig, ax, title, source, handles, legend_title, note)
    return fig


HOSPITAL_STYLES = {  # statut → (label, marker, colour)
    "public": ("Public", "o", "#08519c"),
    "prive_non_lucratif": ("Privé non lucratif", "D", "#31a354"),  # SAE 2022 (PNL)
    "prive_lucratif": ("Privé lucratif", "s", "#e6550d"),  # SAE 2022 (PLU)
    "prive": ("Privé", "s", "#e6550d"),
    None: ("Statut non renseigné", "^", "#636363"),
}


def base_map(communes, context=None, outline=None, figsize=None):
    """``(communes in Lambert 93, figure, axes)``: the territory's communes in a neutral fill over
    their neighbours, its outline, framed on the communes (the background of point maps)."""
    g = _to_l93(communes)
    fig, ax = _new_figure(g, figsize)
    _frame_extent(ax, g)
    _draw_context(ax, context, None)
    g.plot(ax=ax, facecolor="#f7f4ea", edgecolor="#c9c3b3", linewidth=0.5, zorder=2)
    _draw_context(ax, None, _to_l93(outline) if outline is not None else outline_of(g))
    _frame_extent(ax, g)
    return g, fig, ax


def _norm_statut(x):
    """``public`` / ``prive`` / ``prive_non_lucratif`` / ``prive_lucratif`` (accents and spaces
    accepted: « privé non lucratif ») or NaN."""
    if isinstance(x, str):
        x = x.strip().lower().replace("é", "e").replace(" ", "_")
        if x in HOSPITAL_STYLES:
            return x
    return np.nan


def hospital_map(communes, hospitals, *, title: str, source: str, context=None, outline=None,
                 towns=None, figsize=None, note: str | None = None, la: str = "la CPTS",
                 noun: str = "CPTS"):
    """Hospitals (points, ``statut`` public/prive/empty) over the CPTS communes → Figure.

    ``la`` / ``noun``: how the legend names the territory (« 3 dans l'EPCI », « Hors EPCI »).

    ``hospitals``: GeoDataFrame of points (see :func:`hospitals_frame`) with ``statut`` and an
    optional boolean ``dans_cpts``; establishments outside the CPTS are drawn hollow.
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    g, fig, ax = base_map(communes, context, outline, figsize)
    h = _to_l93(hospitals) if hospitals is not None and len(hospitals) else None
    if h is not None:  # keep what the frame shows
        (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
        h = h.cx[x0:x1, y0:y1]
    handles = []
    if h is not None and len(h):
        inside = (h["dans_cpts"].fillna(False).astype(bool) if "dans_cpts" in h.columns
                  else pd.Series(True, index=h.index))
        statut = (h["statut"].map(_norm_statut) if "statut" in h.columns
                  else pd.Series(np.nan, index=h.index))
        for key, (lab, marker, color) in HOSPITAL_STYLES.items():
            sel = (statut.isna() if key is None else statut.eq(key)).fillna(False).astype(bool)
            if not sel.any():
                continue
            for ins, face in ((True, color), (False, "white")):
                s = h[sel & (inside == ins)]
                if len(s):
                    ax.scatter(s.geometry.x, s.geometry.y, marker=marker, s=46, c=face,
                               edgecolors=color, linewidths=1.3, zorder=10)
            n_in = int((sel & inside).sum())
            handles.append(Line2D([], [], marker=marker, linestyle="", color=color, markersize=7,
                                  label=f"{lab} : {n_in} dans {la}"))
        if (~inside).any():
            handles.append(Line2D([], [], marker="o", linestyle="", markerfacecolor="white",
                                  markeredgecolor="#333333", markersize=7,
                                  label=f"Hors {noun}, à proximité : {int((~inside).sum())}"))
    else:
        handles.append(Patch(facecolor="white", edgecolor="white",
                             label="Aucun établissement dans le cadre"))
    _draw_towns(ax, towns)
    _draw_scalebar(ax)
    _finish(fig, ax, title, source, handles, "Établissements hospitaliers\n(nombre de sites géographiques)", note)
    return fig


def small_multiples(gdf, panels: Sequence[tuple[str, str, "Classes"]], *, title: str, source: str,
                    context=None, outline=None, ncols: int = 2, note: str | None = None,
                    drop_empty: bool = False):
    """Several choropleths of ``gdf`` side by side → Figure.

    ``panels``: ``(column, panel title with unit, classes)``; each panel has its own legend below
    it (every class, empty ones included unless ``drop_empty``), with « Donnée manquante » for
    communes without a value.
    """
    from matplotlib.figure import Figure

    g = _to_l93(gdf)
    out = _to_l93(outline) if outline is not None else outline_of(g)
    ctx = _to_l93(context) if context is not None and len(context) else None
    xmin, ymin, xmax, ymax = _extent(g)
    aspect = (ymax - ymin) / max(xmax - xmin, 1.0)
    nrows = math.ceil(len(panels) / ncols)
    pw = 4.6
    ph = min(max(pw * aspect, 2.4), 5.5)
    leg_h = 0.8
    fig_w, fig_h = pw * ncols + 0.3, nrows * (ph + leg_h + 0.3) + TITLE_IN + FOOT_IN
    fig = Figure(figsize=(fig_w, fig_h), dpi=100)
    for k, (column, ptitle, classes) in enumerate(panels):
        r, c = divmod(k, ncols)
        left = (0.15 + c * pw) / fig_w
        bottom = (FOOT_IN + (nrows - 1 - r) * (ph + leg_h + 0.3) + leg_h) / fig_h
        ax = fig.add_axes((left, bottom, (pw - 0.2) / fig_w, ph / fig_h))
        ax.set_axis_off()
        ax.set_aspect("equal", adjustable="box")
        if ctx is not None:
            ctx.plot(ax=ax, facecolor=CONTEXT_COLOR, edgecolor=CONTEXT_EDGE, linewidth=0.4, zorder=1)
        idx = _draw_classes(ax, g, column, classes, linewidth=0.3, missing_linewidth=0.3)
        out.boundary.plot(ax=ax, color=OUTLINE_COLOR, linewidth=1.1, zorder=5)
        ax.set_xlim(xmin, xmax)
        ax.set_ylim(ymin, ymax)
        ax.set_title(_plain(ptitle), fontsize=9.5, loc="left")
        handles = _class_handles(classes, idx, drop_empty=_drop(classes, idx, drop_empty))
        fig.legend(handles=handles, loc="upper left", ncols=2, fontsize=7.5, frameon=False,
                   bbox_to_anchor=(left, bottom - 0.05 / fig_h), handlelength=1.4, columnspacing=1.0)
    fig.text(0.15 / fig_w, 1 - 0.15 / fig_h, _plain(title), ha="left", va="top", fontsize=12,
             fontweight="bold")
    _finish(fig, None, "", source, [], "", note)
    return fig


def figure_png(fig, dpi: int = 110, palette: bool = True) -> bytes:
    """PNG bytes of a figure (rendered once; the caller saves and displays the same bytes).

    ``palette=True`` stores an 8-bit palette PNG (maps and charts have few colours): about a
    third of the RGBA size, which keeps the HTML reports light.
    """
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    fig.set_dpi(dpi)
    fig.patch.set_facecolor("white")
    canvas.draw()
    buf = io.BytesIO()
    if palette:
        from PIL import Image

        img = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        img = img.convert("RGB").quantize(colors=256, method=Image.Quantize.FASTOCTREE,
                                           dither=Image.Dither.NONE)
        img.save(buf, format="PNG", compress_level=6)
    else:
        fig.savefig(buf, format="png", dpi=dpi, facecolor="white")
    return buf.getvalue()

