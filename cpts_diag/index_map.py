"""The map of a selection of territories on the index page (:mod:`cpts_diag.index_page`).

One static PNG per kind of territory (CPTS, EPCI, bassins de vie…) with at least
:data:`MAP_MIN_TERRITORIES` territories: each territory is the union of its communes, coloured by
its GP APL 2023 in the official DREES classes (:data:`cpts_diag.apl_params.APL_GP_THRESHOLDS`,
left-closed), a missing value hatched in grey and listed « n.d. ». Commune polygons: the detailed
layer of 8 départements (:func:`cpts_diag.loaders.load_commune_polygons` ``detail="8dep"``),
completed by the simplified national layer (COGiter) for the other communes, which the caption
then says.

The map is an extra: :func:`selection_map_or_note` never raises, it returns a one-line French
note « Carte non disponible : … » instead (no data installed, unreadable layer, any error).
Drawing is kept fast (the index is rewritten after every batch): one dissolve per map, geometry
simplified to :data:`SIMPLIFY_M` metres in Lambert-93, Agg canvas at :data:`MAP_DPI`.
"""
from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass

from .apl_params import APL_GP_CLASS_COLORS, APL_GP_CLASS_LABELS, apl_gp_class

__all__ = ["SelectionMap", "MAP_INDICATOR_ID", "MAP_MIN_TERRITORIES", "MAP_SOURCES", "MISSING_TEXT",
           "apl_class", "class_label", "selection_map", "selection_map_png", "selection_map_or_note"]

#: Indicator whose value (level ``territory`` of ``indicators.json``) colours the map.
MAP_INDICATOR_ID = "apl_mg_2023"
#: A kind gets a map from this number of territories.
MAP_MIN_TERRITORIES = 2
#: Source and vintage of the values and of the contours, written under the map.
MAP_SOURCES = "APL 2023 : DREES / ANCT ; contours : IGN Admin Express (codes COG 2025)"
#: Legend label of a territory without value.
MISSING_TEXT = "n.d."
#: Geometry simplification before drawing (metres, Lambert-93), resolution and width of the PNG.
SIMPLIFY_M = 200.0
MAP_DPI = 100
MAP_WIDTH_IN = 8.6  # × MAP_DPI = 860 px (≤ 900)
LEGEND_IN = 2.4
MAP_MAX_H_IN = 7.0
#: Names are written on the map up to this number of territories.
MAX_LABELS = 20

MISSING_COLOR = "#d9d9d9"
MISSING_EDGE = "#8c8c8c"
EDGE_COLOR = "#252525"
DEP_EDGE = "#9a9a9a"
LAND_COLOR = "#efefef"


@dataclass(frozen=True)
class SelectionMap:
    """A drawn map: PNG bytes, its size in pixels and the French caption (sources, notes)."""

    png: bytes
    width: int
    height: int
    caption: str


def apl_class(values) -> list[int]:
    """DREES class of each GP APL value: 0 (< 2,5), 1 (2,5 ≤ APL < 4), 2 (≥ 4), -1 missing
    (None or NaN). Left-closed: 2,5 is in class 1, 4,0 in class 2."""
    vals = [float("nan") if v is None else v for v in values]
    return [int(c) for c in apl_gp_class(vals)] if vals else []


def class_label(cls: int) -> str:
    """French legend label of a class of :func:`apl_class` (« n.d. » for -1)."""
    return APL_GP_CLASS_LABELS[cls] if cls >= 0 else MISSING_TEXT


def _polygons(codes: set[str]):
    """``(communes, detailed départements, simplified?)``: Lambert-93 polygons of ``codes``
    (:func:`cpts_diag.loaders.load_commune_polygons_of`: detailed layer first, simplified
    national layer for the others, :func:`cpts_diag.report.text.drawn_simplified`)."""
    from .geometry import to_l93
    from .loaders import load_commune_polygons_of
    from .report.text import drawn_simplified
    from .schemas import DEPS_8

    return to_l93(load_commune_polygons_of(codes)), list(DEPS_8), drawn_simplified(codes)


def _dissolved(territories: list[dict]):
    """One Lambert-93 row per territory with at least one polygon: ``tid`` (position in
    ``territories``), ``name``, ``cls``, ``geometry`` (union of its communes, simplified);
    biggest first (a small territory inside a bigger one stays visible). Also the detailed
    départements, whether simplified contours were used, and the names without polygon."""
    import geopandas as gpd
    import pandas as pd

    codes = {str(c) for t in territories for c in t.get("communes") or []}
    polys, deps, simplified = _polygons(codes)
    links = pd.DataFrame([(i, str(c)) for i, t in enumerate(territories) for c in t.get("communes") or []],
                         columns=["tid", "code_commune"])
    merged = gpd.GeoDataFrame(links.merge(polys, on="code_commune"), geometry="geometry", crs=polys.crs)
    shapes = merged.dissolve(by="tid")[["geometry"]] if len(merged) else merged.iloc[0:0]
    shapes["geometry"] = shapes.geometry.simplify(SIMPLIFY_M, preserve_topology=True)
    classes = apl_class([t.get("value") for t in territories])
    shapes["name"] = [territories[i].get("name") or territories[i].get("id") or "" for i in shapes.index]
    shapes["cls"] = [classes[i] for i in shapes.index]
    shapes = shapes.iloc[(-shapes.geometry.area).argsort()]
    absent = [str(t.get("name") or t.get("id")) for i, t in enumerate(territories) if i not in shapes.index]
    return shapes, deps, simplified, absent


def _plain(text) -> str:
    from .report.text import mpl_safe

    return mpl_safe(text)


def _figure(shapes):
    """Figure whose map panel has the selection's aspect ratio (a tall selection gets a narrower
    panel, never a squashed one), the legend on its right; width ≤ :data:`MAP_WIDTH_IN`."""
    from matplotlib.figure import Figure

    xmin, ymin, xmax, ymax = shapes.total_bounds
    pad = max(xmax - xmin, ymax - ymin) * 0.04
    extent = (xmin - pad, ymin - pad, xmax + pad, ymax + pad)
    aspect = (extent[3] - extent[1]) / max(extent[2] - extent[0], 1.0)
    map_w = MAP_WIDTH_IN - LEGEND_IN - 0.3
    map_h = min(max(map_w * aspect, 3.2), MAP_MAX_H_IN)
    if map_w * aspect > MAP_MAX_H_IN:
        map_w = MAP_MAX_H_IN / aspect
    top, bottom = 0.5, 0.1
    w, h = map_w + LEGEND_IN + 0.3, map_h + top + bottom
    fig = Figure(figsize=(w, h), dpi=MAP_DPI)
    ax = fig.add_axes((0.05 / w, bottom / h, map_w / w, map_h / h))
    ax.set_axis_off()
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlim(extent[0], extent[2])
    ax.set_ylim(extent[1], extent[3])
    return fig, ax, (map_w + 0.2) / w, (map_h + bottom) / h


def _draw_departements(ax, extent) -> None:
    """Départements around the selection: light land, grey borders (context only)."""
    from .geometry import to_l93
    from .loaders import load_departement_polygons

    deps = to_l93(load_departement_polygons())
    xmin, ymin, xmax, ymax = extent
    deps = deps.cx[xmin:xmax, ymin:ymax]
    if len(deps):
        deps = deps.set_geometry(deps.geometry.simplify(SIMPLIFY_M * 2, preserve_topology=True))
        deps.plot(ax=ax, facecolor=LAND_COLOR, edgecolor=DEP_EDGE, linewidth=0.7, zorder=1)


def _draw_labels(ax, shapes) -> None:
    import matplotlib.patheffects as pe

    if len(shapes) > MAX_LABELS:
        return
    for name, geom in zip(shapes["name"], shapes.geometry):
        p = geom.representative_point()
        ax.annotate(_plain(textwrap.fill(str(name), 22)), (p.x, p.y), ha="center", va="center",
                    fontsize=6.8, color="#111111", zorder=8,
                    path_effects=[pe.withStroke(linewidth=2.2, foreground="white")])


def _legend(fig, shapes, x: float, top: float) -> None:
    from matplotlib.patches import Patch

    present = set(shapes["cls"])
    handles = [Patch(facecolor=c, edgecolor=EDGE_COLOR, linewidth=0.6,
                     label=f"{label} ({sum(shapes['cls'] == i)})")
               for i, (label, c) in enumerate(zip(APL_GP_CLASS_LABELS, APL_GP_CLASS_COLORS))]
    if -1 in present:
        handles.append(Patch(facecolor=MISSING_COLOR, edgecolor=MISSING_EDGE, hatch="////",
                             label=f"{MISSING_TEXT} ({sum(shapes['cls'] == -1)})"))
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(x, top), frameon=False,
               fontsize=8.5, title_fontsize=9, alignment="left",
               title="APL médecins généralistes\n2023 (consultations par an\npar habitant "
                     "standardisé ;\nnombre de territoires)")


def selection_map(territories: list[dict], noun: str = "territoire") -> SelectionMap | None:
    """The map of ``territories`` (dicts ``id``, ``name``, ``communes`` (COG 2025 codes),
    ``value`` (GP APL 2023 or None)); ``noun``: « EPCI », « bassin de vie »… for the title.
    None when fewer than :data:`MAP_MIN_TERRITORIES` territories have polygons. Raises on
    missing data (:class:`cpts_diag.errors.CptsDiagError`)."""
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    if len(territories) < MAP_MIN_TERRITORIES:
        return None
    shapes, deps, simplified, absent = _dissolved(territories)
    if len(shapes) < MAP_MIN_TERRITORIES:
        return None
    fig, ax, legend_x, top = _figure(shapes)
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    _draw_departements(ax, (x0, y0, x1, y1))
    colors = [APL_GP_CLASS_COLORS[c] if c >= 0 else MISSING_COLOR for c in shapes["cls"]]
    shapes.plot(ax=ax, color=colors, edgecolor=EDGE_COLOR, linewidth=0.8, zorder=3)
    missing = shapes[shapes["cls"] < 0]
    if len(missing):
        missing.plot(ax=ax, facecolor="none", edgecolor=MISSING_EDGE, hatch="////", linewidth=0, zorder=4)
        missing.boundary.plot(ax=ax, color=EDGE_COLOR, linewidth=0.8, zorder=5)
    _draw_labels(ax, shapes)
    _legend(fig, shapes, legend_x, top)
    h = fig.get_size_inches()[1]
    fig.text(0.1 / MAP_WIDTH_IN, 1 - 0.12 / h, _plain(f"APL médecins généralistes 2023 par {noun}"),
             ha="left", va="top", fontsize=12, fontweight="bold")
    canvas = FigureCanvasAgg(fig)
    fig.patch.set_facecolor("white")
    canvas.draw()
    img = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    buf = io.BytesIO()
    img.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT,
                                dither=Image.Dither.NONE).save(buf, format="PNG", compress_level=6)
    return SelectionMap(buf.getvalue(), img.width, img.height, _caption(deps, simplified, absent))


def _caption(deps: list[str], simplified: bool, absent: list[str]) -> str:
    """« APL 2023 : DREES / ANCT ; contours : … » with the notes on simplified contours and on
    territories without polygon."""
    text = MAP_SOURCES + "."
    if simplified:
        text += (f" Contours détaillés pour les départements {', '.join(deps)} ; contours simplifiés "
                 f"(COGiter) hors de ces {len(deps)} départements.")
    if absent:
        text += f" Non représenté(s), faute de contour de commune : {', '.join(absent)}."
    return text


def selection_map_png(territories: list[dict], noun: str = "territoire") -> bytes | None:
    """PNG bytes of :func:`selection_map` (None when there is no map to draw)."""
    m = selection_map(territories, noun)
    return None if m is None else m.png


def selection_map_or_note(territories: list[dict], noun: str = "territoire") -> tuple[SelectionMap | None, str | None]:
    """``(map, None)``; ``(None, None)`` below :data:`MAP_MIN_TERRITORIES` territories; else
    ``(None, "Carte non disponible : …")`` — one French line, never an exception."""
    from .errors import CptsDiagError

    if len(territories) < MAP_MIN_TERRITORIES:
        return None, None
    try:
        m = selection_map(territories, noun)
    except CptsDiagError as exc:
        return None, _one_line(f"Carte non disponible : {exc}")
    except Exception as exc:  # noqa: BLE001 - the map must never break the index
        return None, _one_line(f"Carte non disponible : erreur {exc.__class__.__name__} ({exc}).")
    if m is None:
        return None, ("Carte non disponible : moins de deux de ces territoires ont des contours de "
                      "communes (codes absents des couches IGN Admin Express COG 2025).")
    return m, None


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()
