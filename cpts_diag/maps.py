"""Maps of a CPTS: static choropleths (matplotlib) and an interactive map (folium/Leaflet).

The functions are pure-ish: they take a GeoDataFrame (any CRS, usually WGS84), the column to map
and the French labels, and return a :class:`matplotlib.figure.Figure` or a :class:`folium.Map`;
they load no data. Helpers build the context they need from frames the caller passes
(:func:`context_communes`, :func:`top_towns`, :func:`outline_of`).

Conventions of every static map:

* CPTS communes coloured by class, the CPTS outline in dark grey, neighbouring communes in light
  grey for context, the main towns labelled, a French legend whose title carries the unit;
* communes whose value is missing (INSEE *secret statistique*, source gap) are hatched in grey and
  listed in the legend as « Donnée manquante » — never coloured as a value;
* the source and its vintage are written under the map.

The interactive map needs no tile server: ``tiles=None`` (default) draws the communes on a plain
background; ``tiles="OpenStreetMap"`` (or any folium tile name/URL) adds a basemap, which then
needs the network. :func:`standalone_html` renders a map as a complete HTML page whose only
library, Leaflet, is inlined from ``cpts_diag/templates/vendor`` (no CDN).
"""
from __future__ import annotations

import base64
import html
import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from .apl_params import APL_GP_THRESHOLDS
from .fmt import NNBSP, fmt_number, is_missing

MISSING_LABEL = "Donnée manquante"
MISSING_COLOR = "#d9d9d9"
MISSING_EDGE = "#8c8c8c"
CONTEXT_COLOR = "#ececec"
CONTEXT_EDGE = "#ffffff"
OUTLINE_COLOR = "#252525"
LAMBERT93 = 2154
WGS84 = 4326

APL_MG_BINS = APL_GP_THRESHOLDS  # upper bounds of the official GP APL classes
APL_MG_COLORS = ("#d7301f", "#fdae61", "#1a9850")
APL_MG_LABELS = ("≤ 2,5 (sous-dotation)", "2,5 à 4", "> 4")

VENDOR_DIR = Path(__file__).resolve().parent / "templates" / "vendor"


# --- French number format ----------------------------------------------------------------------

def fr_number(value, decimals: int = 1) -> str:
    """``1234.5`` → ``"1 234,5"`` (:func:`cpts_diag.fmt.fmt_number`); missing → ``"n.d."``."""
    return fmt_number(value, decimals)


# --- classes ------------------------------------------------------------------------------------

@dataclass
class Classes:
    """A classification: upper bounds (last = +inf), French labels and colours, one per class."""

    bounds: list[float]
    labels: list[str]
    colors: list[str]

    def index(self, values: pd.Series) -> pd.Series:
        """Class number of each value (0-based); ``-1`` for a missing value."""
        v = pd.to_numeric(values, errors="coerce").astype(float)
        idx = np.searchsorted(np.asarray(self.bounds[:-1], dtype=float), v.to_numpy(), side="left")
        out = pd.Series(idx, index=values.index, dtype="int64")
        out[v.isna().to_numpy()] = -1
        return out

    def color_of(self, values: pd.Series) -> pd.Series:
        idx = self.index(values)
        return idx.map(lambda i: MISSING_COLOR if i < 0 else self.colors[i])


def _sample_cmap(cmap: str, n: int, lo: float = 0.12, hi: float = 0.92) -> list[str]:
    import matplotlib
    from matplotlib.colors import to_hex

    cm = matplotlib.colormaps[cmap]
    if n == 1:
        return [to_hex(cm(0.6))]
    return [to_hex(cm(lo + (hi - lo) * i / (n - 1))) for i in range(n)]


def _bound_labels(bounds: Sequence[float], decimals: int, suffix: str = "") -> list[str]:
    """French labels of classes given their finite upper bounds (the last class is « > b »)."""
    f = lambda x: fr_number(x, decimals) + suffix  # noqa: E731
    b = list(bounds)
    if not b:
        return ["toutes valeurs"]
    labels = [f"≤ {f(b[0])}"]
    labels += [f"{f(b[i - 1])} à {f(b[i])}" for i in range(1, len(b))]
    labels.append(f"> {f(b[-1])}")
    return labels


def make_classes(values: Iterable, *, scheme: str = "quantiles", k: int = 5,
                 bounds: Sequence[float] | None = None, cmap: str = "YlOrRd", decimals: int = 1,
                 suffix: str = "", labels: Sequence[str] | None = None,
                 colors: Sequence[str] | None = None) -> Classes:
    """Classes of ``values`` for a choropleth.

    ``scheme``: ``"quantiles"``, ``"natural_breaks"``, ``"fisher_jenks"``, ``"equal_interval"``
    (mapclassify, ``k`` classes, bounds rounded to ``decimals``), ``"apl_mg"`` (official GP APL
    thresholds 2.5 and 4), ``"diverging"`` (symmetric bounds around 0, for a rate of change) or
    ``"user"`` (``bounds`` = finite upper bounds). ``suffix`` is appended to the numbers of the
    labels (e.g. ``" %"``).
    """
    v = pd.to_numeric(pd.Series(list(values)), errors="coerce").dropna().astype(float)
    if scheme == "apl_mg":
        b = list(APL_MG_BINS)
        return Classes(b + [math.inf], list(labels or APL_MG_LABELS), list(colors or APL_MG_COLORS))
    if scheme == "user":
        if not bounds:
            raise ValueError("scheme='user' needs bounds (finite upper bounds of the classes)")
        b = sorted(float(x) for x in bounds)
    elif scheme == "diverging":
        b = _diverging_bounds(v, decimals)
    else:
        b = _mapclassify_bounds(v, scheme, k, decimals)
    n = len(b) + 1
    if colors is None:
        if scheme == "diverging":
            colors = _diverging_colors(b, cmap if cmap != "YlOrRd" else "RdBu")
        else:
            colors = _sample_cmap(cmap, n)
    if labels is not None:
        lab = list(labels)
    elif not b:  # one class: every value equal (or no value at all)
        lab = [fr_number(v.iloc[0], decimals) + suffix if len(v) else MISSING_LABEL]
    else:
        lab = _bound_labels(b, decimals, suffix)
    if len(lab) != n or len(colors) != n:
        raise ValueError(f"{n} classes but {len(lab)} labels and {len(colors)} colours")
    return Classes(b + [math.inf], lab, list(colors))


def _mapclassify_bounds(v: pd.Series, scheme: str, k: int, decimals: int) -> list[float]:
    """Upper bounds of ``k`` classes (the last, open, one excluded), rounded to ``decimals``.

    ``quantiles`` and ``equal_interval`` follow mapclassify's definitions (computed with numpy, so
    the report does not pay mapclassify's import); ``natural_breaks`` and ``fisher_jenks`` use
    mapclassify.
    """
    uniq = np.unique(v.round(decimals))
    if len(uniq) <= 1:
        return []
    k = max(1, min(k, len(uniq)))
    y = v.to_numpy(dtype=float)
    if scheme == "quantiles":  # = mapclassify.Quantiles
        bins = np.percentile(y, np.linspace(100 / k, 100, k))
    elif scheme == "equal_interval":  # = mapclassify.EqualInterval
        bins = y.min() + (y.max() - y.min()) / k * np.arange(1, k + 1)
    elif scheme in ("natural_breaks", "fisher_jenks"):
        import warnings

        import mapclassify

        klass = mapclassify.NaturalBreaks if scheme == "natural_breaks" else mapclassify.FisherJenks
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            bins = klass(y, k=k).bins
    else:
        raise ValueError(f"Unknown scheme {scheme!r}: use quantiles, natural_breaks, fisher_jenks, "
                         "equal_interval, apl_mg, diverging or user")
    b = sorted(set(round(float(x), decimals) for x in bins[:-1]))
    top = float(v.max())
    return [x for x in b if x < top]


def _diverging_bounds(v: pd.Series, decimals: int) -> list[float]:
    """Symmetric bounds around 0 from the 90th percentile of |v|, rounded to a 'nice' step."""
    if v.empty:
        return [0.0]
    m = float(np.nanpercentile(np.abs(v), 90)) or float(np.abs(v).max()) or 1.0
    nice = max(nice_step(m / 2), 10 ** -decimals)
    return [round(x * nice, decimals) for x in (-2, -1, 0, 1, 2)]


def nice_step(step: float) -> float:
    """The round class width (1, 2, 2.5, 5 or 10 × 10^k) closest to ``step`` (> 0)."""
    mag = 10 ** math.floor(math.log10(step))
    return min((s * mag for s in (1, 2, 2.5, 5, 10)), key=lambda s: abs(s - step))


def _diverging_colors(bounds: list[float], cmap: str) -> list[str]:
    """Colours of a diverging classification: classes below 0 in the low end, above in the high."""
    n = len(bounds) + 1
    n_neg = sum(1 for b in bounds if b <= 0)  # classes entirely ≤ 0
    n_pos = n - n_neg
    side = max(n_neg, n_pos)
    full = _sample_cmap(cmap, 2 * side, 0.08, 0.92)
    return full[side - n_neg: side] + full[side: side + n_pos]


# --- geometry helpers ---------------------------------------------------------------------------

def _to_l93(gdf):
    if gdf is None:
        return None
    if gdf.crs is None:
        gdf = gdf.set_crs(WGS84)
    return gdf.to_crs(LAMBERT93) if gdf.crs.to_epsg() != LAMBERT93 else gdf


def outline_of(gdf):
    """The CPTS outline: the union of its communes (a one-row GeoDataFrame, same CRS)."""
    import geopandas as gpd

    geom = gdf.geometry.union_all() if hasattr(gdf.geometry, "union_all") else gdf.geometry.unary_union
    return gpd.GeoDataFrame({"nom": ["CPTS"]}, geometry=[geom], crs=gdf.crs)


def context_communes(all_communes, codes: Iterable[str], buffer_m: float = 8000.0,
                     code_column: str = "code_commune"):
    """Communes of ``all_communes`` outside ``codes`` within ``buffer_m`` metres of them (context)."""
    codes = set(codes)
    inside = all_communes[all_communes[code_column].isin(codes)]
    if inside.empty:
        return all_communes.iloc[0:0]
    l93 = _to_l93(all_communes)
    zone = _to_l93(inside).geometry.union_all().buffer(buffer_m)
    xmin, ymin, xmax, ymax = zone.bounds
    cand = l93.cx[xmin:xmax, ymin:ymax]
    cand = cand[~cand[code_column].isin(codes)]
    keep = cand.index[cand.geometry.intersects(zone)]
    return all_communes.loc[keep]


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
        ax.annotate(str(name), (p.x, p.y), xytext=(3, 3), textcoords="offset points",
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
        fig.text(0.15 / w, 1 - 0.15 / h, title, ha="left", va="top", fontsize=12, fontweight="bold")
    if handles:
        leg = fig.legend(handles=handles, title=legend_title, loc="upper left",
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
    fig.text(0.15 / w, 0.08 / h, text, ha="left", va="bottom", fontsize=7.5, color="#333333")


def choropleth(gdf, column: str, *, title: str, legend_title: str, source: str,
               classes: Classes | None = None, context=None, outline=None, towns=None,
               figsize=None, note: str | None = None):
    """Static choropleth of ``gdf[column]`` (one row per CPTS commune) → matplotlib Figure.

    ``classes``: a :class:`Classes` (from :func:`make_classes`); default: 5 quantile classes.
    ``legend_title`` must carry the unit (« Indice de vieillissement (65 ans et + pour 100 moins
    de 20 ans) »). ``context``: neighbouring communes drawn in grey; ``outline``: the CPTS outline
    (default: union of ``gdf``); ``towns``: GeoDataFrame with ``nom`` (see :func:`top_towns`).
    ``source``: « Insee, RP 2022 ; IGN, Admin Express 2025 », written under the map.
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
    handles = _class_handles(classes, idx, drop_empty=not (idx >= 0).any())
    _finish(fig, ax, title, source, handles, legend_title + "\n(nombre de communes)", note)
    return fig


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
                     label=f"{lab} ({int(counts.get(i, 0))})")
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
                     label=f"{c} ({int(counts.get(c, 0))})") for c in cats]
    if g[column].isna().any():
        handles.append(Patch(facecolor=MISSING_COLOR, hatch="////", edgecolor=MISSING_EDGE,
                             label=MISSING_LABEL))
    _finish(fig, ax, title, source, handles, legend_title, note)
    return fig


HOSPITAL_STYLES = {  # statut → (label, marker, colour)
    "public": ("Public", "o", "#08519c"),
    "prive": ("Privé", "s", "#e6550d"),
    None: ("Statut non renseigné", "^", "#636363"),
}


def _norm_statut(x):
    """``public`` / ``prive`` (``privé`` accepted) or NaN."""
    if isinstance(x, str):
        x = x.strip().lower().replace("é", "e")
        if x in ("public", "prive"):
            return x
    return np.nan


def hospital_map(communes, hospitals, *, title: str, source: str, context=None, outline=None,
                 towns=None, figsize=None, note: str | None = None):
    """Hospitals (points, ``statut`` public/prive/empty) over the CPTS communes → Figure.

    ``hospitals``: GeoDataFrame of points (see :func:`hospitals_frame`) with ``statut`` and an
    optional boolean ``dans_cpts``; establishments outside the CPTS are drawn hollow.
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    g = _to_l93(communes)
    fig, ax = _new_figure(g, figsize)
    _frame_extent(ax, g)
    _draw_context(ax, context, None)
    g.plot(ax=ax, facecolor="#f7f4ea", edgecolor="#c9c3b3", linewidth=0.5, zorder=2)
    _draw_context(ax, None, _to_l93(outline) if outline is not None else outline_of(g))
    _frame_extent(ax, g)
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
                                  label=f"{lab} : {n_in} dans la CPTS"))
        if (~inside).any():
            handles.append(Line2D([], [], marker="o", linestyle="", markerfacecolor="white",
                                  markeredgecolor="#333333", markersize=7,
                                  label=f"Hors CPTS, à proximité : {int((~inside).sum())}"))
    else:
        handles.append(Patch(facecolor="white", edgecolor="white",
                             label="Aucun établissement dans le cadre"))
    _draw_towns(ax, towns)
    _draw_scalebar(ax)
    _finish(fig, ax, title, source, handles, "Établissements hospitaliers\n(nombre de sites géographiques)", note)
    return fig


def small_multiples(gdf, panels: Sequence[tuple[str, str, "Classes"]], *, title: str, source: str,
                    context=None, outline=None, ncols: int = 2, note: str | None = None):
    """Several choropleths of ``gdf`` side by side → Figure.

    ``panels``: ``(column, panel title with unit, classes)``; each panel has its own legend below
    it, with « Donnée manquante » for communes without a value.
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
        ax.set_title(ptitle, fontsize=9.5, loc="left")
        handles = _class_handles(classes, idx)
        fig.legend(handles=handles, loc="upper left", ncols=2, fontsize=7.5, frameon=False,
                   bbox_to_anchor=(left, bottom - 0.05 / fig_h), handlelength=1.4, columnspacing=1.0)
    fig.text(0.15 / fig_w, 1 - 0.15 / fig_h, title, ha="left", va="top", fontsize=12, fontweight="bold")
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


# --- interactive map ----------------------------------------------------------------------------

@dataclass
class Layer:
    """One indicator layer of the interactive map."""

    column: str
    label: str  # French name of the layer (« APL médecins généralistes 2023 »)
    unit: str  # French unit shown after the values (« consult./an/hab. std », « % »)
    classes: Classes
    decimals: int = 1
    source: str = ""


def _round_geom(geom, precision: int):
    import shapely

    return shapely.transform(geom, lambda c: np.round(c, precision))


def _light_geometry(gdf, simplify_m: float, precision: int):
    """Simplified (in metres, Lambert-93) WGS84 copy of ``gdf`` with coordinates rounded."""
    g = _to_l93(gdf)
    if simplify_m:
        g = g.set_geometry(g.geometry.simplify(simplify_m, preserve_topology=True))
    g = g.to_crs(WGS84)
    return g.set_geometry([_round_geom(x, precision) for x in g.geometry], crs=WGS84)


def _value_text(value, decimals: int, unit: str) -> str:
    u = (unit or "").strip()
    if is_missing(value):
        return MISSING_LABEL
    return fmt_number(value, decimals) + (NNBSP + u if u else "")


def _legend_html(layer: Layer, present_missing: bool) -> str:
    rows = "".join(
        f'<div><i style="background:{c}"></i>{html.escape(lab)}</div>'
        for lab, c in zip(layer.classes.labels, layer.classes.colors))
    if present_missing:
        rows += f'<div><i class="cpts-missing"></i>{MISSING_LABEL}</div>'
    unit = f" ({html.escape(layer.unit)})" if layer.unit else ""
    src = f'<div class="cpts-src">Source : {html.escape(layer.source)}</div>' if layer.source else ""
    return f"<b>{html.escape(layer.label)}</b>{unit}{rows}{src}"


_LEGEND_CSS = """
.cpts-legend{background:rgba(255,255,255,.93);padding:6px 9px;font:12px/1.35 sans-serif;
 border-radius:4px;box-shadow:0 0 6px rgba(0,0,0,.25);max-width:260px}
.cpts-legend i{display:inline-block;width:16px;height:12px;margin-right:6px;vertical-align:-1px;
 border:1px solid #888}
.cpts-legend i.cpts-missing{background:#d9d9d9}
.cpts-legend .cpts-src{margin-top:4px;color:#555;font-size:10.5px}
.leaflet-container{background:#f4f4f2}
.leaflet-control-layers{font:12px/1.4 sans-serif}
"""


def _shared_layers(light, layers: Sequence[Layer], name_column: str):
    """One FeatureCollection (geometry once) carrying, per feature, the French text and the class
    of every layer; plus each layer's palette and its legend HTML."""
    cls = [layer.classes.index(light[layer.column]).tolist() for layer in layers]
    txt = [[_value_text(v, layer.decimals, layer.unit) for v in light[layer.column]] for layer in layers]
    feats = []
    for j, (name, geom) in enumerate(zip(light[name_column].astype(str), light.geometry)):
        feats.append({"type": "Feature", "properties": {
            "n": name, "t": [t[j] for t in txt], "c": [int(c[j]) for c in cls]},
            "geometry": geom.__geo_interface__})
    metas = [{"name": layer.label, "colors": list(layer.classes.colors), "missing": MISSING_COLOR}
             for layer in layers]
    legends = {layer.label: _legend_html(layer, bool(light[layer.column].isna().any())) for layer in layers}
    return {"type": "FeatureCollection", "features": feats}, metas, legends


_CHOROPLETH_JS = """
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = (function(){
  var map = {{ this._parent.get_name() }};
  var data = {{ this.data|tojson }};
  var metas = {{ this.metas|tojson }};
  function esc(s){ return String(s).replace(/&/g,'&amp;').replace(/</g,'&lt;').replace(/>/g,'&gt;'); }
  var base = {};
  metas.forEach(function(meta, i){
    var gj = L.geoJSON(data, {
      style: function(f){ var k = f.properties.c[i];
        return {fillColor: k < 0 ? meta.missing : meta.colors[k], color: '#ffffff', weight: 0.7,
                fillOpacity: 0.85}; },
      onEachFeature: function(f, layer){
        layer.bindTooltip('<b>' + esc(f.properties.n) + '</b><br>' + esc(meta.name) + ' : '
                          + esc(f.properties.t[i]), {sticky: true});
        layer.on('mouseover', function(e){ e.target.setStyle({weight: 2.5, color: '#333333'}); });
        layer.on('mouseout', function(e){ gj.resetStyle(e.target); });
      }
    });
    base[meta.name] = gj;
    if (i === 0) { gj.addTo(map); }
  });
  return base;
})();
{% endmacro %}
"""

_CONTROLS_JS = """
{% macro script(this, kwargs) %}
(function(){
  var map = {{ this._parent.get_name() }};
  var overlays = {};
  {%- for name, var in this.overlays %}
  overlays[{{ name|tojson }}] = {{ var }};
  {%- endfor %}
  L.control.layers({{ this.base }}, overlays, {collapsed: false, position: 'topright'}).addTo(map);
  var legends = {{ this.legends|tojson }};
  var ctl = L.control({position: 'bottomleft'});
  ctl.onAdd = function(){ this._div = L.DomUtil.create('div', 'cpts-legend'); return this._div; };
  ctl.addTo(map);
  function show(name){ if (legends[name]) { ctl._div.innerHTML = legends[name]; } }
  map.on('baselayerchange', function(e){ show(e.name); });
  show({{ this.first|tojson }});
  L.control.scale({imperial: false, position: 'bottomright'}).addTo(map);
  {%- if this.attribution %}
  map.attributionControl.setPrefix(false);
  map.attributionControl.addAttribution({{ this.attribution|tojson }});
  {%- endif %}
  // fit the CPTS once the map has a size: an iframe laid out late (long report pages) would
  // otherwise be fitted while 0 px high, i.e. zoomed out to the whole world
  var bounds = {{ this.bounds|tojson }}, fitted = false;
  function fit(force){
    var s = map.getSize();
    if ((fitted && !force) || s.x === 0 || s.y === 0) { return; }
    map.invalidateSize(); map.fitBounds(bounds, {animate: false}); fitted = true;
  }
  fit(false);
  if (window.ResizeObserver) { new ResizeObserver(function(){ fit(false); }).observe(map.getContainer()); }
  window.addEventListener('load', function(){ if (!fitted) { fit(true); } });
})();
{% endmacro %}
"""


def interactive_map(gdf, layers: Sequence[Layer], *, name_column: str = "nom", outline=None,
                    context=None, hospitals=None, tiles: str | None = None,
                    simplify_m: float = 40.0, precision: int = 4, attribution: str = ""):
    """Interactive folium map: one base layer (radio button) per indicator, French tooltips.

    ``gdf``: CPTS communes with ``name_column`` and every ``layer.column``. ``outline``: CPTS
    outline (default: union of the communes); ``context``: neighbouring communes (grey, no
    tooltip); ``hospitals``: points with ``nom``, ``type``, ``statut`` (and ``dans_cpts``).
    ``tiles=None`` (default) needs no tile server; pass ``"OpenStreetMap"`` (or a folium tile
    name/URL) for a basemap, which then needs the network. The geometry is written once, whatever
    the number of layers, simplified to ``simplify_m`` metres and rounded to ``precision``
    decimals (1e-4 degree ≈ 10 m) to keep the HTML light. Only Leaflet is needed (see
    :func:`standalone_html`).
    """
    import folium
    from branca.element import Element, MacroElement
    from jinja2 import Template

    if not layers:
        raise ValueError("interactive_map needs at least one Layer")
    missing_cols = [la.column for la in layers if la.column not in gdf.columns]
    if missing_cols:
        raise KeyError(f"Columns {missing_cols} are not in the frame")
    light = _light_geometry(gdf, simplify_m, precision)
    minx, miny, maxx, maxy = light.total_bounds
    m = folium.Map(location=[(miny + maxy) / 2, (minx + maxx) / 2], tiles=None, zoom_start=10,
                   control_scale=False, prefer_canvas=False, attribution_control=True,
                   zoom_snap=0.25, zoom_delta=0.5)
    # only Leaflet is needed (no jQuery/Bootstrap/awesome-markers): see standalone_html
    m.default_js = [("leaflet", "https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.js")]
    m.default_css = [("leaflet_css", "https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.css")]
    m.get_root().header.add_child(Element(f"<style>{_LEGEND_CSS}</style>"))
    overlays = []
    if tiles:
        tl = folium.TileLayer(tiles, name="Fond de carte", overlay=True, control=False)
        tl.add_to(m)
        overlays.append(("Fond de carte", tl))
    if context is not None and len(context):
        ctx = _light_geometry(context, max(simplify_m * 3, 100.0), precision)
        folium.GeoJson(
            {"type": "FeatureCollection", "features": [
                {"type": "Feature", "properties": {}, "geometry": geo.__geo_interface__}
                for geo in ctx.geometry]},
            name="Communes voisines", control=False, interactive=False,
            style_function=lambda f: {"fillColor": CONTEXT_COLOR, "color": "#ffffff", "weight": 0.8,
                                      "fillOpacity": 1.0},
        ).add_to(m)

    class _Choropleths(MacroElement):
        _template = Template(_CHOROPLETH_JS)

        def __init__(self, data, metas):
            super().__init__()
            self._name = "CptsChoropleths"
            self.data, self.metas = data, metas

    class _Controls(MacroElement):
        _template = Template(_CONTROLS_JS)

        def __init__(self, **kw):
            super().__init__()
            self._name = "CptsControls"
            self.__dict__.update(kw)

    data, metas, legends = _shared_layers(light, layers, name_column)
    chor = _Choropleths(data, metas)
    m.add_child(chor)
    out = _light_geometry(outline if outline is not None else outline_of(gdf), simplify_m, precision)
    outline_layer = folium.GeoJson(
        json.loads(out.to_json()), name="Contour de la CPTS", control=False, interactive=False,
        style_function=lambda f: {"fill": False, "color": OUTLINE_COLOR, "weight": 2.5},
    )
    outline_layer.add_to(m)
    overlays.append(("Contour de la CPTS", outline_layer))
    if hospitals is not None and len(hospitals):
        hg = folium.FeatureGroup(name="Établissements hospitaliers", control=False, show=True)
        for _, r in hospitals.iterrows():
            key = _norm_statut(r.get("statut"))
            lab, _, color = HOSPITAL_STYLES[None if pd.isna(key) else key]
            tip = (f"<b>{html.escape(str(r.get('nom', '')))}</b><br>"
                   f"{html.escape(str(r.get('type', '') or ''))}<br>{lab}")
            folium.CircleMarker([round(float(r.geometry.y), 5), round(float(r.geometry.x), 5)],
                                radius=6, color=color, weight=2, fill=True,
                                fill_color=color if r.get("dans_cpts", True) else "#ffffff",
                                fill_opacity=0.9, tooltip=folium.Tooltip(tip)).add_to(hg)
        hg.add_to(m)
        overlays.append(("Établissements hospitaliers", hg))
    m.add_child(_Controls(
        base=chor.get_name(), overlays=[(n, o.get_name()) for n, o in overlays], legends=legends,
        first=layers[0].label, attribution=attribution,
        bounds=[[float(miny), float(minx)], [float(maxy), float(maxx)]]))
    return m


# --- self-contained HTML --------------------------------------------------------------------------

@lru_cache(maxsize=None)
def _vendor(name: str) -> str:
    path = VENDOR_DIR / name
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing: the Leaflet assets ship with cpts-diag in cpts_diag/templates/vendor. "
            "Fix: reinstall the package (pip install -e .) from a complete checkout.")
    return path.read_text(encoding="utf-8")


@lru_cache(maxsize=None)
def leaflet_css() -> str:
    """Leaflet's CSS with its images inlined as data: URIs."""
    css = _vendor("leaflet.css")

    def repl(mo):
        p = VENDOR_DIR / "images" / Path(mo.group(1)).name
        if not p.exists():
            return "url(data:,)"
        return f"url(data:image/png;base64,{base64.b64encode(p.read_bytes()).decode()})"

    return re.sub(r"url\((?:'|\")?images/([^)'\"]+)(?:'|\")?\)", repl, css)


def leaflet_js() -> str:
    return _vendor("leaflet.js")


_SCRIPT_SRC = re.compile(r'<script[^>]+src="(?P<url>[^"]+)"[^>]*>\s*</script>', re.I)
_LINK_CSS = re.compile(r'<link[^>]+href="(?P<url>[^"]+\.css)"[^>]*/?>', re.I)


def inline_assets(page: str) -> str:
    """Replace the Leaflet CDN references of a folium page by the vendored files (inlined).

    Raises ValueError if the page references any other external script or stylesheet: every
    report must open without network.
    """
    def js(mo):
        url = mo.group("url")
        if re.search(r"/leaflet(@[\d.]+)?/dist/leaflet\.js$|/leaflet\.js$", url):
            return "<script>" + leaflet_js().replace("</script", "<\\/script") + "</script>"
        raise ValueError(f"external script {url} cannot be inlined (only Leaflet is vendored)")

    def css(mo):
        url = mo.group("url")
        if url.endswith("leaflet.css"):
            return "<style>" + leaflet_css() + "</style>"
        raise ValueError(f"external stylesheet {url} cannot be inlined (only Leaflet is vendored)")

    page = _SCRIPT_SRC.sub(js, page)
    return _LINK_CSS.sub(css, page)


def standalone_html(m) -> str:
    """A complete HTML page of the folium map ``m``, with Leaflet inlined (works offline)."""
    return inline_assets(m.get_root().render())


def iframe_html(m, height: int = 560) -> str:
    """An ``<iframe srcdoc>`` embedding of :func:`standalone_html`, for notebook outputs."""
    doc = html.escape(standalone_html(m), quote=True)
    return (f'<div class="cpts-map-wrap"><iframe class="cpts-map" srcdoc="{doc}" '
            f'style="width:100%;height:{height}px;border:1px solid #ddd" sandbox="allow-scripts" '
            'loading="eager"></iframe></div>')
