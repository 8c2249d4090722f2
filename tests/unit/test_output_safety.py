"""Output safety: a user- or file-supplied string (perimeter name, source, note, scenario title,
commune / EPCI / establishment name) is shown as text by every renderer (Markdown, HTML tables,
matplotlib, folium, the index page), the report page carries a strict Content-Security-Policy,
and the spreadsheets never turn a text cell into a formula.

No data file is read: tiny hand-made frames and geometries only."""
from __future__ import annotations

import base64
import hashlib
import io
import re
import zipfile

import numpy as np
import pandas as pd
import pytest

from cpts_diag import html_export
from cpts_diag.fmt import csv_fr
from cpts_diag.report import Renderer
from cpts_diag.report import blocks as B
from cpts_diag.report.files import workbook_bytes
from cpts_diag.report.render import file_stem
from cpts_diag.report.tables import html_compare_table, html_table
from cpts_diag.report.text import esc, mpl_safe, no_raw_html

IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "</script><script>alert(1)</script>"
HOSTILE = [IMG, SCRIPT, "*gras*", "$x$", '=HYPERLINK("http://x","y")', "a\n\n# titre\n- item",
           "${alert(1)}`", "d'Aurec & co"]


pytestmark = pytest.mark.adversarial  # hostile inputs (see tests/adversarial)


def live_html(page: str) -> list[str]:
    """What a browser would run or load from ``page``: img/script/iframe/svg/object elements, ``on*``
    event-handler attributes, ``javascript:`` links (parsed with the standard HTML parser), and
    Markdown emphasis a name should not produce (em, strong)."""
    from html.parser import HTMLParser

    found = []

    class P(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag in ("img", "script", "iframe", "svg", "object", "embed", "em", "strong"):
                found.append(tag)
            for k, v in attrs:
                if k.startswith("on") or (k in ("href", "src") and (v or "").strip().lower().startswith("javascript:")):
                    found.append(f"{tag}[{k}]")

    P().feed(page)
    return found


def _md_html(markdown: str) -> str:
    """What nbconvert makes of a Markdown output in the exported report."""
    from nbconvert.filters.markdown import markdown2html

    return markdown2html(markdown)


# --- Markdown / HTML text ---------------------------------------------------------------------------

@pytest.mark.parametrize("s", HOSTILE)
def test_esc_shows_every_hostile_string_as_text(s):
    out = _md_html("Texte : " + esc(s) + ".")
    assert live_html(out) == [], out
    assert "<h1" not in out and "<li" not in out and "<em" not in out  # no Markdown structure
    assert "\n" not in esc(s)


def test_esc_by_hand():
    assert esc(IMG) == r"&lt;img src=x onerror=alert\(1\)&gt;"
    assert esc("*gras* $x$") == r"\*gras\* \$x\$"
    assert esc("a\nb") == "a b"
    assert esc("d'Aurec \"q\"") == "d'Aurec \"q\""  # quotes as they are: no « &#x27; » shown
    assert "d'Aurec" in _md_html("## " + esc("d'Aurec"))


def test_no_raw_html_keeps_escaped_text_and_disarms_raw_tags():
    assert no_raw_html("figures/<nom>.json") == "figures/&lt;nom>.json"
    assert no_raw_html(esc(IMG)) == esc(IMG)
    assert live_html(_md_html(no_raw_html(f"raw {IMG} {SCRIPT}"))) == []


def test_renderer_never_emits_live_html_from_a_block():
    r = Renderer(None, display=False)
    shown = r.render([B.Heading(f"Titre {IMG} *x*", 2, 'a" onmouseover="x'),
                      B.Text(f"Nom non échappé : {IMG} {SCRIPT}"),
                      B.Note(f"Note {IMG}", kind="warning"),
                      B.Html("<p>ok</p>", css_class='x" onclick="alert(1)')])
    heading, text, note, raw = (o.data for o in shown)
    for md in (heading, text):
        assert live_html(_md_html(md)) == [], md
    assert live_html(_md_html(note)) == ["strong"]  # the package's own « **Attention.** » only
    assert 'id="a&quot; onmouseover=&quot;x"' in heading
    assert raw == '<div class="x&quot; onclick=&quot;alert(1)"><p>ok</p></div>'


@pytest.mark.parametrize("name", ["../x", "a/b", ".cache", "", "x\\y", "a..b"])
def test_table_and_figure_names_are_plain_file_names(name):
    with pytest.raises(ValueError):
        file_stem(name)
    assert file_stem("apl_classes") == "apl_classes"


def test_html_tables_escape_cells_headers_caption_source_and_notes():
    df = pd.DataFrame({IMG: [SCRIPT, "ok"], "v": [1.5, np.nan]})
    page = html_table(df, f"Titre {IMG}", f"Source {SCRIPT}", note=IMG, extra_notes=[SCRIPT])
    assert live_html(page) == [] and "&lt;img src=x onerror=alert(1)&gt;" in page
    cmp = pd.DataFrame({"Indicateur": [IMG], SCRIPT: [2.0], "Unité": ["%"], "Millésime": ["2022"]})
    page = html_compare_table(cmp, IMG, IMG, [1], note=IMG, extra_notes=[IMG])
    assert live_html(page) == [] and page.count("&lt;img") == 5  # caption, source, 2 notes, cell


# --- spreadsheets -----------------------------------------------------------------------------------

def _communes():
    return pd.DataFrame({"Commune": ["=1+1", "@SUM(A1)", "-2+3", "\tTab", "Alpha"],
                         "Valeur": [-0.5, 1.0, np.nan, 2.0, 3.25]})


def test_csv_prefixes_formula_text_and_keeps_numbers():
    lines = csv_fr(_communes()).decode("utf-8-sig").splitlines()
    assert lines == ["Commune;Valeur", "'=1+1;-0,5", "'@SUM(A1);1,0", "'-2+3;", "'\tTab;2,0", "Alpha;3,25"]
    assert csv_fr(pd.DataFrame({"=x": [1]})).decode("utf-8-sig").splitlines()[0] == "'=x"


def test_workbook_writes_formula_text_as_strings():
    from openpyxl import load_workbook

    data = workbook_bytes({"t": {"df": _communes(), "caption": '=HYPERLINK("http://x","y")',
                                 "source": "@cmd", "decimals": {"Valeur": 1}}})
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheets = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/")]
    assert sheets and not any("<f>" in s or "<f " in s for s in sheets)  # no formula anywhere
    wb = load_workbook(io.BytesIO(data))
    ws = wb["t"]
    assert (ws["A1"].value, ws["A1"].data_type) == ('=HYPERLINK("http://x","y")', "s")
    cells = [(ws.cell(row=r, column=1).value, ws.cell(row=r, column=1).data_type) for r in range(3, 8)]
    assert cells == [("=1+1", "s"), ("@SUM(A1)", "s"), ("-2+3", "s"), ("\tTab", "s"), ("Alpha", "s")]
    assert ws["A3"].quotePrefix and not ws["A7"].quotePrefix  # stays text once edited in Excel
    assert [ws.cell(row=r, column=2).value for r in range(3, 8)] == [-0.5, 1, None, 2, 3.25]
    assert ws["B3"].data_type == "n"
    assert wb["Sommaire"]["B2"].value == '=HYPERLINK("http://x","y")'
    assert wb["Sommaire"]["B2"].data_type == "s"


# --- matplotlib ---------------------------------------------------------------------------------------

def test_mpl_safe_is_idempotent():
    assert mpl_safe("a $x$") == r"a \$x\$" == mpl_safe(mpl_safe("a $x$"))
    assert mpl_safe(None) == ""


def _grid(names):
    import geopandas as gpd
    from shapely.geometry import box

    geoms = [box(800_000 + 5000 * i, 6_500_000, 805_000 + 5000 * i, 6_505_000) for i in range(len(names))]
    g = gpd.GeoDataFrame({"nom": names, "v": np.arange(len(names), dtype=float)}, geometry=geoms, crs=2154)
    return g.to_crs(4326)


def _texts(fig):
    out = list(fig.texts)
    for ax in fig.axes:
        out += list(ax.texts) + [ax.title]
    for leg in fig.legends:
        out += list(leg.get_texts()) + [leg.get_title()]
    return [t for t in out if t.get_text()]


def _no_mathtext(fig):
    for t in _texts(fig):
        shown, math = t._preprocess_math(t.get_text())
        assert not math, t.get_text()


def test_static_maps_show_data_labels_as_text():
    from cpts_diag import maps

    bad = r"$\frac{$"  # would make matplotlib raise if read as mathtext
    g = _grid([f"Ville {bad}", "Autre $x$", IMG])
    g["epci"] = [f"CC {bad}", "CC $y$", "CC $y$"]
    towns = maps.top_towns(g, "v", 3)
    fig = maps.category_map(g, "epci", title=f"Titre {bad}", legend_title="EPCI $", source="S $a$",
                            towns=towns, note=f"Note {bad}")
    maps.figure_png(fig)  # renders: no mathtext error
    _no_mathtext(fig)
    labels = [t.get_text() for t in _texts(fig)]
    assert any(r"CC \$\frac{\$ (1)" == s for s in labels)
    fig = maps.choropleth(g, "v", title=f"{bad} (déjà {mpl_safe(bad)})", legend_title="L", source="S",
                          towns=towns, note=bad)
    maps.figure_png(fig)
    _no_mathtext(fig)


def test_scenario_figure_note_shows_the_title_as_text(monkeypatch):
    from cpts_diag import scenario as S

    g = _grid(["Alpha", "Beta"])
    g["code_commune"] = ["99001", "99002"]
    communes = pd.DataFrame({"code_commune": ["99001", "99002"], "nom": ["Alpha $a$", "Beta"],
                             "variation": [-0.2, 0.1], "population": [100.0, 200.0]})
    spec = S.ScenarioSpec(title=r"Départ $\frac{$ " + IMG, year=2023)
    res = S.ScenarioResult(territory=None, spec=spec, communes=communes, outside=pd.DataFrame(),
                           changes=pd.DataFrame(columns=["code_commune", "medecins_avant",
                                                         "medecins_apres"]),
                           summary={}, sources={"supply": "test"})
    monkeypatch.setattr(S.I, "commune_points", lambda *a, **k: pd.DataFrame(columns=["x", "y"]))
    fig = res.figure(g, g.iloc[0:0])
    from cpts_diag.maps import figure_png

    figure_png(fig)
    _no_mathtext(fig)
    assert any(r"Départ \$\frac{\$" in t.get_text() for t in fig.texts)


# --- interactive map ----------------------------------------------------------------------------------

def _interactive_page(commune: str, hospital: str, label: str = "Indice"):
    from cpts_diag import maps

    g = _grid([commune, "Beta", "Gamma"])
    hosp = maps.hospitals_frame(pd.DataFrame({
        "nom": [hospital], "type": [IMG], "statut": ["public"], "dans_cpts": [True],
        "lat": [g.geometry.iloc[0].centroid.y], "lon": [g.geometry.iloc[0].centroid.x]}))
    layer = maps.Layer("v", label, "u", maps.make_classes(g["v"], k=2), 1, source=IMG)
    m = maps.interactive_map(g, [layer], hospitals=hosp, attribution=IMG)
    return maps.standalone_html(m)


def test_interactive_map_names_cannot_break_out_of_scripts():
    benign = _interactive_page("Alpha", "CH Alpha")
    evil = _interactive_page(SCRIPT + IMG, SCRIPT + "${alert(2)}`" + IMG, label=IMG)
    n_scripts = len(re.findall(r"<script\b", benign, re.I))
    assert len(re.findall(r"<script\b", evil, re.I)) == n_scripts  # no script added by a name
    assert "alert(1)</script>" not in evil and "<img src=x" not in evil
    # a tooltip is a JSON string, never a JS template literal (where `${…}` would run)
    assert "bindTooltip(`" not in evil and 'bindTooltip("\\u003cb\\u003e\\u0026lt;/script' in evil
    # the names are there, JSON-encoded (tojson escapes < > & ')
    assert "\\u003c/script\\u003e\\u003cscript\\u003ealert(1)" in evil
    assert "\\u0026lt;img src=x onerror=alert(1)\\u0026gt;" in evil  # label/legend/attribution: HTML-escaped
    assert html_export.problems(evil) == []


# --- report page and index page ---------------------------------------------------------------------

def _sha(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def _page(body: str) -> str:
    return ('<!DOCTYPE html><html><head><meta charset="utf-8"><meta name="generator" content="cpts-diag">'
            f"<title>t</title></head><body>{body}</body></html>")


def test_csp_allows_only_the_map_scripts_by_hash():
    import html

    map_doc = "<html><head><script>var a = 1;</script></head><body><script>\nL.tileLayer(\"https://{s}.tile.example.org/{z}/{x}/{y}.png\");</script></body></html>"
    iframe = f'<iframe class="cpts-map" srcdoc="{html.escape(map_doc, quote=True)}" sandbox="allow-scripts"></iframe>'
    page = _page(f"<p>x</p>{iframe}<script>alert(1)</script>")
    assert html_export.problems(page) == ["pas de Content-Security-Policy (<meta http-equiv> dans <head>)"]
    assert html_export.problems(page, report=False) == []
    out = html_export.with_csp(page)
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', out).group(1)
    expected = (f"default-src 'none'; script-src {_sha('var a = 1;')} "
                f"{_sha(chr(10) + 'L.tileLayer(' + chr(34) + 'https://{s}.tile.example.org/{z}/{x}/{y}.png' + chr(34) + ');')}; "
                "style-src 'unsafe-inline'; img-src data: https://*.tile.example.org; base-uri 'none'; "
                "form-action 'none'")
    assert policy == expected
    assert _sha("alert(1)") not in policy  # a script of the page itself is never allowed
    assert out.index("Content-Security-Policy") < out.index("<title>")
    assert html_export.problems(out) == []
    plain = html_export.with_csp(_page("<p>sans carte</p>"))
    assert "script-src 'none'" in plain and "img-src data:;" in plain


def test_csp_problems_flags_a_weak_or_misplaced_policy():
    weak = _page("").replace("<head>", '<head><meta http-equiv="Content-Security-Policy" content="default-src *">')
    assert html_export.problems(weak)[0].startswith("Content-Security-Policy trop large")
    late = _page('<meta http-equiv="Content-Security-Policy" content="default-src \'none\'">')
    assert html_export.problems(late) == ["pas de Content-Security-Policy (<meta http-equiv> dans <head>)"]


def test_exported_page_has_the_csp_and_no_live_html(tmp_path):
    import nbformat

    r = Renderer(None, display=False)
    md = [o.data for o in r.render([B.Text(f"# Rapport — {esc(IMG)}"), B.Text(f"brut {IMG}")])]
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x", outputs=[
        nbformat.v4.new_output("display_data", data={"text/markdown": m}) for m in md])]
    page = html_export.export_html(nb, title=f"Diagnostic — {IMG}")
    head = page[:page.index("</head>")]
    assert "default-src 'none'; script-src 'none'" in head
    assert live_html(page.split("<body", 1)[1]) == []
    assert html_export.problems(page) == []


def test_index_page_escapes_names_and_links(tmp_path):
    from cpts_diag.index_page import INDEX_COLUMNS, render_index

    row = {"id": "javascript:alert(1)", "name": IMG, "replaced_by": None, "pdf": True,
           "generated": SCRIPT, "cells": [(None, d, None, None) for *_, d in INDEX_COLUMNS]}
    page = render_index([row])
    assert live_html(page) == []
    hrefs = re.findall(r'href="([^"]*)"', page)
    assert hrefs and all(h.startswith("javascript%3Aalert%281%29/") for h in hrefs)
    assert html_export.problems(page) == []  # a cpts-diag page: its CSP is there and strict
    assert "<script" not in page
