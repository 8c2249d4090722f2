"""Maps of a CPTS: classes, static choropleths (matplotlib) and an interactive map (folium/Leaflet).

The map functions take a GeoDataFrame (any CRS, usually WGS84), the column to map, a
:class:`Classes` and the French labels, and return a :class:`matplotlib.figure.Figure` or a
:class:`folium.Map`; they load no data.

**One class convention everywhere.** Every class is left-closed (DREES convention): a value equal
to a break belongs to the class that starts at it; labels read « moins de x », « de x à moins de
y », « y ou plus » (French numbers). The GP APL classes are the DREES ones of
:mod:`cpts_diag.apl_params` (« moins de 2,5 », « de 2,5 à moins de 4 », « 4 ou plus »).

**Fixed classes per indicator** (``cpts_diag/map_classes.yaml``, computed once from the national
commune table, shared by every territory)::

    classes_for(indicator_id: str) -> Classes            # unknown id → MapClassesError
    Classes.counts(values) -> list[int]                  # communes per class, then n missing
    Classes.index(values) -> pd.Series                   # class number, -1 when missing
    Classes.breaks / .labels / .colors / .method / .direction / .centre / .fixed
    figure_record(name, title, indicator_id, source, vintage, classes, values) -> dict
        # JSON sidecar: title, indicator_id, source, vintage, method, breaks, labels, colors,
        # direction, centre, centre_source, counts (per class), n_missing

**Ad-hoc classes**: ``make_classes(values, scheme="quantiles"|"natural_breaks"|"fisher_jenks"|
"equal_interval"|"apl_mg"|"diverging"|"user", k=5, bounds=None, cmap=..., decimals=1,
suffix="", labels=None, colors=None)``.

**Maps**: :func:`choropleth` (``drop_empty=False``: empty classes stay in the legend, so two
reports are comparable), :func:`small_multiples`, :func:`category_map`, :func:`hospital_map`,
:func:`figure_png`, :func:`commune_symbols_map` (counts per commune as symbols);
:func:`interactive_map` with :class:`Layer` (its legend lists exactly the
labels and colours of the layer's classes; the tooltip gives the value and its class);
:func:`standalone_html` / :func:`iframe_html` inline Leaflet (no CDN). Geometry helpers
(:func:`context_communes`, :func:`outline_of`) live in :mod:`cpts_diag.geometry`.
"""
from __future__ import annotations

from ..geometry import LAMBERT93, WGS84, context_communes, outline_of
from ..geometry import to_l93 as _to_l93
from .assets import VENDOR_DIR, iframe_html, inline_assets, leaflet_css, leaflet_js, standalone_html
from .classes import (APL_MG_BINS, APL_MG_COLORS, APL_MG_LABELS, DIRECTIONS, MISSING_COLOR,
                      MISSING_LABEL, Classes, MapClassesError, bound_text, class_labels, fr_number,
                      make_classes, nice_step, official_apl_classes)
from .fixed import MAP_CLASSES_FILE, classes_for, figure_record, load_map_classes
from .interactive import Layer, _light_geometry, interactive_map
from .points import commune_symbols_map
from .static import (CONTEXT_COLOR, HOSPITAL_STYLES, MISSING_EDGE, OUTLINE_COLOR, category_map,
                     choropleth, figure_png, hospital_map, hospitals_frame, small_multiples,
                     top_towns)

__all__ = [
    "Classes", "MapClassesError", "classes_for", "figure_record", "load_map_classes", "make_classes",
    "official_apl_classes", "class_labels", "bound_text", "nice_step", "fr_number", "Layer",
    "choropleth", "small_multiples", "category_map", "hospital_map", "figure_png", "top_towns",
    "hospitals_frame", "interactive_map", "standalone_html", "iframe_html", "inline_assets",
    "leaflet_css", "leaflet_js", "context_communes", "outline_of", "MISSING_LABEL", "MISSING_COLOR",
    "MISSING_EDGE", "CONTEXT_COLOR", "OUTLINE_COLOR", "HOSPITAL_STYLES", "APL_MG_BINS",
    "APL_MG_COLORS", "APL_MG_LABELS", "DIRECTIONS", "LAMBERT93", "WGS84", "VENDOR_DIR",
    "MAP_CLASSES_FILE", "_to_l93", "_light_geometry", "commune_symbols_map",
]
