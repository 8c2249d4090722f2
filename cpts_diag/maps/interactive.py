"""Interactive map (folium/Leaflet): one base layer per indicator, French tooltips and legends.

The map needs no tile server: ``tiles=None`` (default) draws the communes on a plain background;
``tiles="OpenStreetMap"`` (or any folium tile name/URL) adds a basemap, which then needs the
network. The legend of a layer lists exactly the labels and colours of its
:class:`~cpts_diag.maps.classes.Classes` (every class, empty ones included) and the tooltip of a
commune gives its value and its class label, so the static and the interactive maps read the same.

Names (communes, establishments, layers, legends) come from data files or users: they reach the
page only JSON-encoded (Jinja ``tojson``, which also escapes ``<``, ``>``, ``&`` and ``'``) and
HTML-escaped where Leaflet shows them as HTML (tooltips, layer control, legend, attribution), so a
``</script>`` or an ``<img onerror>`` in a name is shown as text.
"""
from __future__ import annotations

import html
import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import numpy as np
import pandas as pd

from ..fmt import NNBSP, fmt_number, is_missing
from ..geometry import WGS84, outline_of
from ..geometry import to_l93 as _to_l93
from .classes import MISSING_COLOR, MISSING_LABEL, Classes
from .static import CONTEXT_COLOR, HOSPITAL_STYLES, OUTLINE_COLOR, _norm_statut

__all__ = ["Layer", "interactive_map"]


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


def _html_text(text) -> str:
    """Text shown literally where Leaflet inserts HTML (layer control, legend, attribution)."""
    return html.escape("" if text is None else str(text), quote=True)


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
    of every layer; plus each layer's palette, class labels and legend HTML."""
    cls = [layer.classes.index(light[layer.column]).tolist() for layer in layers]
    txt = [[_value_text(v, layer.decimals, layer.unit) for v in light[layer.column]] for layer in layers]
    feats = []
    for j, (name, geom) in enumerate(zip(light[name_column].astype(str), light.geometry)):
        feats.append({"type": "Feature", "properties": {
            "n": name, "t": [t[j] for t in txt], "c": [int(c[j]) for c in cls]},
            "geometry": geom.__geo_interface__})
    metas = [{"name": layer.label, "key": _html_text(layer.label), "colors": list(layer.classes.colors),
              "labels": list(layer.classes.labels), "missing": MISSING_COLOR} for layer in layers]
    legends = {_html_text(layer.label): _legend_html(layer, bool(light[layer.column].isna().any()))
               for layer in layers}
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
        var k = f.properties.c[i];
        layer.bindTooltip('<b>' + esc(f.properties.n) + '</b><br>' + esc(meta.name) + ' : '
                          + esc(f.properties.t[i])
                          + (k >= 0 ? '<br>Classe : ' + esc(meta.labels[k]) : ''), {sticky: true});
        layer.on('mouseover', function(e){ e.target.setStyle({weight: 2.5, color: '#333333'}); });
        layer.on('mouseout', function(e){ gj.resetStyle(e.target); });
      }
    });
    base[meta.key] = gj;
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
  overlays[{{ name|tojson }}] = {{ var }};  // name: HTML-escaped (the control shows HTML)
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
  map.attributionControl.addAttribution({{ this.attribution|tojson }});  // HTML-escaped
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

_TOOLTIP_JS = """
{% macro script(this, kwargs) %}
{{ this._parent.get_name() }}.bindTooltip({{ this.html|tojson }}, {sticky: true});
{% endmacro %}
"""


@lru_cache(maxsize=None)
def _compiled(template: str):
    from jinja2 import Template

    return Template(template)


def _macro(template: str, name: str, **attrs):
    """A folium MacroElement rendering the Jinja ``template`` with ``attrs`` as ``this.*``."""
    from branca.element import MacroElement

    class _Macro(MacroElement):
        _template = _compiled(template)

        def __init__(self):
            super().__init__()
            self._name = name
            self.__dict__.update(attrs)

    return _Macro()


def _base_map(light):
    """An empty folium map around ``light`` whose only library is Leaflet (see standalone_html)."""
    import folium
    from branca.element import Element

    minx, miny, maxx, maxy = light.total_bounds
    m = folium.Map(location=[(miny + maxy) / 2, (minx + maxx) / 2], tiles=None, zoom_start=10,
                   control_scale=False, prefer_canvas=False, attribution_control=True,
                   zoom_snap=0.25, zoom_delta=0.5)
    # only Leaflet is needed (no jQuery/Bootstrap/awesome-markers): see standalone_html
    m.default_js = [("leaflet", "https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.js")]
    m.default_css = [("leaflet_css", "https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.css")]
    m.get_root().header.add_child(Element(f"<style>{_LEGEND_CSS}</style>"))
    return m


def _add_context(m, context, simplify_m: float, precision: int) -> None:
    """Neighbouring communes in grey, without tooltip."""
    import folium

    ctx = _light_geometry(context, max(simplify_m * 3, 100.0), precision)
    folium.GeoJson(
        {"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {}, "geometry": geo.__geo_interface__}
            for geo in ctx.geometry]},
        name="Communes voisines", control=False, interactive=False,
        style_function=lambda f: {"fillColor": CONTEXT_COLOR, "color": "#ffffff", "weight": 0.8,
                                  "fillOpacity": 1.0},
    ).add_to(m)


def _add_hospitals(m, hospitals):
    """Hospitals as circle markers (hollow outside the CPTS) with a French tooltip."""
    import folium

    hg = folium.FeatureGroup(name="Établissements hospitaliers", control=False, show=True)
    for _, r in hospitals.iterrows():
        key = _norm_statut(r.get("statut"))
        lab, _, color = HOSPITAL_STYLES[None if pd.isna(key) else key]
        tip = (f"<b>{_html_text(r.get('nom', ''))}</b><br>"
               f"{_html_text(r.get('type', '') or '')}<br>{_html_text(lab)}")
        marker = folium.CircleMarker([round(float(r.geometry.y), 5), round(float(r.geometry.x), 5)],
                                     radius=6, color=color, weight=2, fill=True,
                                     fill_color=color if r.get("dans_cpts", True) else "#ffffff",
                                     fill_opacity=0.9)
        # not folium.Tooltip: it pastes its text into a JS template literal (`${…}` would run)
        marker.add_child(_macro(_TOOLTIP_JS, "CptsTooltip", html=tip))
        marker.add_to(hg)
    hg.add_to(m)
    return hg


def interactive_map(gdf, layers: Sequence[Layer], *, name_column: str = "nom", outline=None,
                    context=None, hospitals=None, tiles: str | None = None,
                    simplify_m: float = 40.0, precision: int = 4, attribution: str = "",
                    outline_name: str = "Contour de la CPTS"):
    """Interactive folium map: one base layer (radio button) per indicator, French tooltips.

    ``gdf``: CPTS communes with ``name_column`` and every ``layer.column``. ``outline``: CPTS
    outline (default: union of the communes); ``context``: neighbouring communes (grey, no
    tooltip); ``hospitals``: points with ``nom``, ``type``, ``statut`` (and ``dans_cpts``).
    ``tiles=None`` (default) needs no tile server; pass ``"OpenStreetMap"`` (or a folium tile
    name/URL) for a basemap, which then needs the network. The geometry is written once, whatever
    the number of layers, simplified to ``simplify_m`` metres and rounded to ``precision``
    decimals (1e-4 degree ≈ 10 m) to keep the HTML light. Only Leaflet is needed (see
    :func:`cpts_diag.maps.standalone_html`).
    """
    import folium

    if not layers:
        raise ValueError("interactive_map needs at least one Layer")
    missing_cols = [la.column for la in layers if la.column not in gdf.columns]
    if missing_cols:
        raise KeyError(f"Columns {missing_cols} are not in the frame")
    light = _light_geometry(gdf, simplify_m, precision)
    m = _base_map(light)
    overlays = []
    if tiles:
        tl = folium.TileLayer(tiles, name="Fond de carte", overlay=True, control=False)
        tl.add_to(m)
        overlays.append(("Fond de carte", tl))
    if context is not None and len(context):
        _add_context(m, context, simplify_m, precision)
    data, metas, legends = _shared_layers(light, layers, name_column)
    chor = _macro(_CHOROPLETH_JS, "CptsChoropleths", data=data, metas=metas)
    m.add_child(chor)
    out = _light_geometry(outline if outline is not None else outline_of(gdf), simplify_m, precision)
    outline_layer = folium.GeoJson(
        json.loads(out.to_json()), name=outline_name, control=False, interactive=False,
        style_function=lambda f: {"fill": False, "color": OUTLINE_COLOR, "weight": 2.5},
    )
    outline_layer.add_to(m)
    overlays.append((outline_name, outline_layer))
    if hospitals is not None and len(hospitals):
        overlays.append(("Établissements hospitaliers", _add_hospitals(m, hospitals)))
    minx, miny, maxx, maxy = light.total_bounds
    m.add_child(_macro(
        _CONTROLS_JS, "CptsControls",
        base=chor.get_name(), overlays=[(_html_text(n), o.get_name()) for n, o in overlays],
        legends=legends, first=_html_text(layers[0].label), attribution=_html_text(attribution),
        bounds=[[float(miny), float(minx)], [float(maxy), float(maxx)]]))
    return m
