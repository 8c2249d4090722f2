"""Unit tests of cpts_diag.maps on synthetic geometry (no data snapshot needed)."""
from __future__ import annotations

import json
import math
import re

import numpy as np
import pandas as pd
import pytest

gpd = pytest.importorskip("geopandas")
shapely_geometry = pytest.importorskip("shapely.geometry")

from cpts_diag import maps  # noqa: E402
from cpts_diag.fmt import NNBSP  # noqa: E402
from cpts_diag.html_export import problems  # noqa: E402


def _grid(values, column="v", n=3, size=5000.0):
    """n×n squares of ``size`` m near Saint-Étienne (Lambert-93), returned in WGS84."""
    x0, y0 = 800000.0, 6480000.0
    polys, names, codes = [], [], []
    for i in range(n):
        for j in range(n):
            polys.append(shapely_geometry.box(x0 + i * size, y0 + j * size, x0 + (i + 1) * size,
                                              y0 + (j + 1) * size))
            names.append(f"Commune {i}{j}")
            codes.append(f"42{i}{j}0")
    g = gpd.GeoDataFrame({"code_commune": codes, "nom": names, column: values,
                          "pop": np.arange(n * n) * 1000.0}, geometry=polys, crs=2154)
    return g.to_crs(4326)


def _legend_texts(fig):
    return [t.get_text() for leg in fig.legends for t in leg.get_texts()]


def _all_texts(fig):
    return [t.get_text() for t in fig.texts] + [t.get_text() for ax in fig.axes for t in ax.texts]


# --- classes ------------------------------------------------------------------------------------------

def test_official_apl_classes_bounds_and_labels():
    cl = maps.make_classes([1.0, 3.0, 5.0], scheme="apl_mg")
    assert cl.labels == ["moins de 2,5", "de 2,5 à moins de 4", "4 ou plus"]
    # left-closed (DREES): exactly 2,5 is not under-served, exactly 4,0 is in the top class
    idx = cl.index(pd.Series([2.5, 2.49, 4.0, 3.99, np.nan, 0.0]))
    assert idx.tolist() == [1, 0, 2, 1, -1, 0]


def test_all_classes_are_left_closed_with_french_labels():
    cl = maps.make_classes([0.0, 10.0], scheme="user", bounds=[1234.5, 2.5], decimals=1)
    assert cl.labels == ["moins de 2,5", f"de 2,5 à moins de 1{NNBSP}234,5", f"1{NNBSP}234,5 ou plus"]
    assert cl.index([2.5, 1234.5, 1234.4]).tolist() == [1, 2, 1]
    assert maps.class_labels([-1.0, 0.0, 0.5], decimals=1) == [
        "moins de -1", "de -1 à moins de 0", "de 0 à moins de 0,5", "0,5 ou plus"]


def test_quantile_classes_french_labels_and_missing():
    vals = pd.Series([1234.5, 2000.25, 3100.0, np.nan, 5000.0, 7000.0])
    cl = maps.make_classes(vals, scheme="quantiles", k=3, decimals=1)
    assert len(cl.labels) == len(cl.colors) == len(cl.bounds)
    assert all("." not in lab for lab in cl.labels)  # decimal comma, never a point
    assert any(NNBSP in lab for lab in cl.labels)  # thousands separator
    assert cl.index(vals).iloc[3] == -1
    assert cl.color_of(vals).iloc[3] == maps.MISSING_COLOR


def test_diverging_classes_are_symmetric_around_zero_for_asymmetric_values():
    # Values from -1 to +10: far from symmetric. By hand: |v| = 1, 2, …, 10; its 90th percentile
    # (linear) = 9 + 0,1 × (10 - 9) = 9,1; half of it = 4,55; the closest round width among
    # 1, 2, 2,5, 5, 10 is 5 → bounds -2×5, -5, 0, 5, 2×5, symmetric around 0 although no value is
    # below -1 (a min/max or quantile rule would give different, one-sided bounds).
    vals = pd.Series([-1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, np.nan])
    cl = maps.make_classes(vals, scheme="diverging", decimals=1, suffix=" %")
    assert cl.bounds == [-10.0, -5.0, 0.0, 5.0, 10.0, math.inf]
    assert cl.labels == ["moins de -10 %", "de -10 % à moins de -5 %", "de -5 % à moins de 0 %",
                         "de 0 % à moins de 5 %", "de 5 % à moins de 10 %", "10 % ou plus"]
    # by hand: -1 → [-5, 0); 2, 3, 4 → [0, 5); 5…9 → [5, 10); 10 → 10 or more; NaN missing
    assert cl.index(vals).tolist() == [2, 3, 3, 3, 4, 4, 4, 4, 4, 5, -1]
    # all values far above 0: |v| 90th percentile of 0,2…2,0 (step 0,2) = 1,82 → half 0,91 → width 1
    cl = maps.make_classes([0.2 * i for i in range(1, 11)], scheme="diverging", decimals=1)
    assert cl.bounds == [-2.0, -1.0, 0.0, 1.0, 2.0, math.inf]


def test_user_classes_need_bounds():
    with pytest.raises(ValueError, match="bounds"):
        maps.make_classes([1, 2, 3], scheme="user")
    with pytest.raises(ValueError, match="inconnue"):
        maps.make_classes([1, 2, 3, 4], scheme="nope")


def test_constant_values_make_one_class():
    cl = maps.make_classes([3.0, 3.0, 3.0], scheme="quantiles")
    assert len(cl.labels) == 1


def test_fr_number():
    assert maps.fr_number(1234.5, 1) == f"1{NNBSP}234,5"
    assert maps.fr_number(float("nan"), 1) == "n.d."


# --- static maps ---------------------------------------------------------------------------------------

def test_choropleth_legend_missing_source_and_hatch():
    g = _grid([1.0, 2.0, 3.0, 4.0, np.nan, 6.0, 7.0, 8.0, 9.0])
    ctx = _grid([0.0] * 16, n=4, size=6000.0)
    fig = maps.choropleth(g, "v", title="Titre de test", legend_title="Valeur (unité)",
                          source="Insee, RP 2022", context=ctx, towns=maps.top_towns(g, "pop", 2))
    legend = _legend_texts(fig)
    assert any(t.startswith(maps.MISSING_LABEL) and "(1)" in t for t in legend)
    texts = _all_texts(fig)
    assert "Titre de test" in texts
    assert any(t.startswith("Source : Insee, RP 2022") for t in texts)
    assert any("Commune 22" in t for t in texts)  # the largest town is labelled
    hatched = [c for ax in fig.axes for c in ax.collections if c.get_hatch()]
    assert hatched, "missing communes must be hatched"
    png = maps.figure_png(fig)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_choropleth_without_missing_has_no_missing_entry():
    g = _grid(list(range(9)), column="x")
    fig = maps.choropleth(g, "x", title="t", legend_title="u", source="s",
                          classes=maps.make_classes(g["x"], scheme="apl_mg"))
    assert not any(maps.MISSING_LABEL in t for t in _legend_texts(fig))
    assert any(t.startswith("moins de 2,5") for t in _legend_texts(fig))


def test_choropleth_unknown_column():
    with pytest.raises(KeyError, match="nope"):
        maps.choropleth(_grid([1.0] * 9), "nope", title="t", legend_title="u", source="s")


def test_hospital_and_category_maps_and_small_multiples():
    g = _grid([1.0] * 9)
    g["epci"] = ["A", "A", "B", "B", "B", "C", "C", "C", "C"]
    fig = maps.category_map(g, "epci", title="EPCI", legend_title="EPCI", source="Insee")
    assert any(t.startswith("A (2)") for t in _legend_texts(fig))
    c = g.to_crs(2154).geometry.centroid.to_crs(4326)
    h = pd.DataFrame({"nom": ["CH", "Clinique", "Autre"], "type": ["CH", "Clinique", "?"],
                      "statut": ["public", "privé", None], "lat": c.y[:3].to_numpy(),
                      "lon": c.x[:3].to_numpy(), "dans_cpts": [True, True, False]})
    fig = maps.hospital_map(g, maps.hospitals_frame(h), title="Hôpitaux", source="FINESS")
    legend = " | ".join(_legend_texts(fig))
    assert "Public : 1 dans la CPTS" in legend and "Privé : 1 dans la CPTS" in legend
    assert "Hors CPTS" in legend
    g["w"] = [1.0, np.nan, 3, 4, 5, 6, 7, 8, 9]
    fig = maps.small_multiples(g, [("v", "Panneau 1", maps.make_classes(g["v"])),
                                   ("w", "Panneau 2", maps.make_classes(g["w"], k=3))],
                               title="Multiples", source="Drees")
    assert any(maps.MISSING_LABEL in t for t in _legend_texts(fig))


# --- interactive map -----------------------------------------------------------------------------------

def _layers(g):
    return [maps.Layer("v", "Indice de test", "hab./km²", maps.make_classes(g["v"], k=3), 1, "Insee"),
            maps.Layer("w", "APL de test", "consultations/an/hab. std",
                       maps.make_classes(g["w"], scheme="apl_mg"), 2, "Drees")]


def test_interactive_map_offline_by_default_and_french_tooltips():
    g = _grid([1234.5, 2, 3, 4, np.nan, 6, 7, 8, 9])
    g["w"] = [1.0, 2.6, 4.5, 3, 3, 3, 3, 3, 3]
    m = maps.interactive_map(g, _layers(g), context=_grid([0.0] * 16, n=4, size=6000.0))
    page = maps.standalone_html(m)
    assert problems(page) == []  # no CDN, no tile server, no machine path
    assert "tile.openstreetmap" not in page and "{z}" not in page
    assert "Leaflet 1.9.4" in page  # inlined library
    # French value with unit in the tooltip data (JSON-escaped inside the script)
    assert json.dumps(f"1{NNBSP}234,5{NNBSP}hab./km²")[1:-1] in page
    assert json.dumps(maps.MISSING_LABEL)[1:-1] in page  # tooltip and legend of missing values
    assert "Indice de test" in page and "APL de test" in page
    # geometry written once, whatever the number of layers
    coord = re.search(r'"coordinates": \[\[\[([-\d.]+), ([-\d.]+)\]', page)
    assert coord is not None
    assert page.count(f"[{coord.group(1)}, {coord.group(2)}]") <= 3


def test_interactive_map_optional_basemap():
    g = _grid([1.0] * 9)
    g["w"] = 3.0
    page = maps.interactive_map(g, _layers(g), tiles="OpenStreetMap").get_root().render()
    assert "tile.openstreetmap" in page


def test_inline_assets_refuses_unknown_external_scripts():
    page = '<html><head><script src="https://example.org/x.js"></script></head></html>'
    with pytest.raises(ValueError, match="example.org"):
        maps.inline_assets(page)
    css = maps.leaflet_css()
    assert "images/layers.png" not in css and "data:image/png;base64," in css


def test_iframe_html_escapes_the_page():
    g = _grid([1.0] * 9)
    g["w"] = 3.0
    frag = maps.iframe_html(maps.interactive_map(g, _layers(g)), height=400)
    assert frag.startswith("<div") and "srcdoc=" in frag and "height:400px" in frag
    assert "<script>" not in frag  # the page is escaped inside srcdoc
    assert problems(frag) == []


def test_light_geometry_rounds_coordinates():
    g = _grid([1.0] * 9)
    light = maps._light_geometry(g, 50.0, 4)
    xs = np.asarray(light.geometry.iloc[0].exterior.coords)
    assert np.allclose(xs, np.round(xs, 4))
    assert not math.isnan(xs.sum())


# --- one APL convention on every map -------------------------------------------------------------------

def _page_json(page: str, var: str):
    m = re.search(rf"var {var} = (.*?);\n", page)
    assert m, f"{var} not found in the page"
    return json.loads(m.group(1))


def test_apl_boundaries_static_and_interactive_agree_with_apl_gp_class():
    from matplotlib.colors import to_hex

    from cpts_diag.apl_params import APL_GP_CLASS_COLORS, APL_GP_CLASS_LABELS, apl_gp_class

    vals = [2.5, 4.0, 1.0, 3.0, 5.0, 2.49, np.nan, 4.5, 0.5]
    g = _grid(vals, column="apl")
    cl = maps.classes_for("apl_mg_2023")
    # a commune at exactly 2,5 is in class 1, one at exactly 4,0 in class 2 (DREES, left-closed)
    assert cl.index(g["apl"]).tolist()[:2] == [1, 2]
    assert cl.index(g["apl"]).tolist() == apl_gp_class(vals).tolist()
    assert cl.labels == list(APL_GP_CLASS_LABELS) and cl.colors == list(APL_GP_CLASS_COLORS)
    # static: every class with its count (counted by hand: 1,0 / 2,49 / 0,5 ; 2,5 / 3,0 ; 4 / 5 / 4,5)
    fig = maps.choropleth(g, "apl", title="t", legend_title="APL", source="Drees", classes=cl)
    leg = fig.legends[0]
    assert [t.get_text() for t in leg.get_texts()] == [
        "moins de 2,5 (3)", "de 2,5 à moins de 4 (2)", "4 ou plus (3)", f"{maps.MISSING_LABEL} (1)"]
    assert [to_hex(h.get_facecolor()) for h in leg.legend_handles[:3]] == list(APL_GP_CLASS_COLORS)
    # interactive: the same labels and colours, the same class per commune, class in the tooltip
    page = maps.interactive_map(g, [maps.Layer("apl", "APL", "consult.", cl, 2, "Drees")]).get_root().render()
    meta = _page_json(page, "metas")[0]
    assert meta["labels"] == list(APL_GP_CLASS_LABELS) and meta["colors"] == list(APL_GP_CLASS_COLORS)
    feats = _page_json(page, "data")["features"]
    assert [f["properties"]["c"][0] for f in feats] == apl_gp_class(vals).tolist()
    legend = _page_json(page, "legends")["APL"]
    rows = re.findall(r'<i style="background:(#[0-9a-f]{6})"></i>([^<]+)</div>', legend)
    assert rows == list(zip(APL_GP_CLASS_COLORS, APL_GP_CLASS_LABELS))
    assert "Classe : " in page


def test_fixed_classes_keep_empty_classes_in_the_legend():
    g = _grid([10.0] * 9, column="inf")  # every commune far below France: first class only
    cl = maps.classes_for("apl_inf_2023")
    fig = maps.choropleth(g, "inf", title="t", legend_title="APL", source="Drees", classes=cl)
    texts = _legend_texts(fig)
    assert len(texts) == len(cl.labels) == 7
    assert texts[0].endswith("(9)") and all(t.endswith("(0)") for t in texts[1:])
    fig = maps.choropleth(g, "inf", title="t", legend_title="APL", source="Drees", classes=cl,
                          drop_empty=True)
    assert _legend_texts(fig) == [f"{cl.labels[0]} (9)"]
    fig = maps.small_multiples(g, [("inf", "Infirmières", cl)], title="m", source="Drees")
    assert len(_legend_texts(fig)) == 7
    page = maps.standalone_html(maps.interactive_map(g, [maps.Layer("inf", "Inf", "ETP", cl)]))
    legend = _page_json(page, "legends")["Inf"]
    assert re.findall(r"</i>([^<]+)</div>", legend) == cl.labels


def test_data_layer_does_not_import_the_maps():
    import ast
    from pathlib import Path

    import cpts_diag

    src = Path(cpts_diag.__file__).parent / "loaders.py"
    imported = {n.module for n in ast.walk(ast.parse(src.read_text(encoding="utf-8")))
                if isinstance(n, ast.ImportFrom) and n.module}
    assert not any(m == "maps" or m.startswith("maps.") for m in imported)
    assert maps.context_communes.__module__ == "cpts_diag.geometry"
