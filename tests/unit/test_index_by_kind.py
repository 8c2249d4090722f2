"""Index page grouped by kind of territory (CPTS, EPCI, départements…) and its map (no data:
the map cannot be drawn, the page says so and is still written)."""
from __future__ import annotations

import json
import math
import re
from pathlib import Path

from cpts_diag import index_map, index_page
from cpts_diag.index_page import INDEX_COLUMNS, index_row, render_index, write_index

IMG = "<img src=x onerror=alert(1)>"


def _row(cid: str, name: str, apl=None, kind: str | None = None) -> dict:
    cells = [(apl if iid == "apl_mg_2023" else None, dec, None, None) for *_, iid, dec in INDEX_COLUMNS]
    row = {"id": cid, "name": name, "replaced_by": None, "pdf": False, "generated": "01/12/2026 10:00",
           "cells": cells, "communes": ["42187"]}
    if kind:
        row["kind"] = kind
    return row


REFERENCE = {"id": None, "name": "France métropolitaine (référence)",
             "cells": [(3.73 if iid == "apl_mg_2023" else None, dec, None, None)
                       for *_, iid, dec in INDEX_COLUMNS]}


def _tables(page: str) -> list[str]:
    return re.findall(r"<table>.*?</table>", page, flags=re.S)


def test_tables_follow_the_kind_order_with_french_headings_and_counts():
    rows = [_row("dep-42", "Loire (42)", 3.5), _row("epci-200035731", "CA Roannais Agglomération", 3.11),
            _row("cpts-a", "CPTS A", 2.0), _row("epci-244200614", "CC des Vals d'Aix et Isable", 2.33)]
    page = render_index(rows, REFERENCE)
    heads = re.findall(r"<h2>([^<]*)</h2>", page)
    assert heads == ["CPTS (1)", "EPCI (2)", "Départements (1)"]
    firsts = [re.search(r"<thead><tr><th>([^<]*)</th>", t).group(1) for t in _tables(page)]
    assert firsts == ["CPTS", "EPCI", "Département"]
    assert "<title>Diagnostics territoriaux</title>" in page and "<h1>Diagnostics territoriaux</h1>" in page
    assert "des CPTS" not in page and "Valeurs du territoire entier" in page
    epci = _tables(page)[1]
    assert epci.index("epci-200035731/rapport.html") < epci.index("epci-244200614/rapport.html")
    assert "3,11" in epci and "2,33" in epci and "Loire (42)" not in epci


def test_reference_row_is_last_in_each_table():
    rows = [_row("epci-1", "E1", 2.0), _row("cpts-a", "A", 3.0), _row("territoire-nord", "Nord", 4.0),
            _row("epci-2", "E2", 5.0)]
    page = render_index(rows, REFERENCE)
    tables = _tables(page)
    assert len(tables) == 3
    for t in tables:
        trs = re.findall(r"<tr[^>]*>", t.split("<tbody>")[1])
        assert trs[-1] == '<tr class="ref">' and trs.count('<tr class="ref">') == 1
        assert "3,73" in t
    assert re.findall(r"<h2>([^<]*)</h2>", page)[-1] == "Territoires (listes de communes) (1)"
    assert re.search(r"<thead><tr><th>Territoire</th>", tables[-1])


def test_a_hostile_name_is_escaped_in_a_grouped_table():
    rows = [_row("epci-1", IMG, kind="epci"), _row("epci-2", "E2", kind="epci"), _row("cpts-a", "A")]
    page = render_index(rows, REFERENCE)
    assert IMG not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert page.count("<img") == 0 and "<script" not in page
    assert "img-src data:" in page and "script-src" not in page.split("default-src 'none'")[1].split('"')[0]


def test_apl_classes_are_left_closed_at_the_drees_bounds():
    got = index_map.apl_class([2.4999, 2.5, 3.9999, 4.0, 4.0001, None, math.nan, 0.0])
    assert got == [0, 1, 1, 2, 2, -1, -1, 0]
    assert [index_map.class_label(c) for c in (0, 1, 2, -1)] == [
        "moins de 2,5", "de 2,5 à moins de 4", "4 ou plus", "n.d."]
    assert index_map.apl_class([]) == []


def _fake_report(out: Path, cid: str, name: str, apl) -> None:
    d = out / cid
    d.mkdir(parents=True)
    (d / "rapport.html").write_text("<html></html>", encoding="utf-8")
    inds = [{"id": "apl_mg_2023", "label": "APL", "unit": "", "source": "DREES", "vintage": "2023",
             "values": {"territory": apl, "france_metro": 3.73}}]
    (d / "indicators.json").write_text(json.dumps({"territory": {"id": cid, "name": name,
                                                                 "communes": ["42187", "42011"]},
                                                   "indicators": inds}), encoding="utf-8")


def test_without_polygons_the_page_says_map_unavailable_and_is_written(tmp_path):
    _fake_report(tmp_path, "epci-200035731", "CA Roannais Agglomération", 3.11)
    _fake_report(tmp_path, "epci-244200614", "CC des Vals d'Aix et Isable", 2.33)
    _fake_report(tmp_path, "cpts-a", "CPTS A", 2.0)  # alone in its kind: no map, no note
    page = write_index(tmp_path).read_text(encoding="utf-8")
    notes = re.findall(r'<p class="note">(Carte non disponible : [^<]*)</p>', page)
    assert len(notes) == 1 and "\n" not in notes[0]
    assert page.index("<h2>EPCI (2)</h2>") < page.index(notes[0])
    assert "base64," not in page and "epci-244200614/rapport.html" in page


def test_any_map_error_gives_a_note_never_a_broken_index(tmp_path, monkeypatch):
    def boom(territories, noun="territoire"):
        raise RuntimeError("contour illisible")

    monkeypatch.setattr(index_map, "selection_map", boom)
    _fake_report(tmp_path, "epci-200035731", "E1", 3.11)
    _fake_report(tmp_path, "epci-244200614", "E2", None)
    page = write_index(tmp_path).read_text(encoding="utf-8")
    assert "Carte non disponible : erreur RuntimeError (contour illisible)." in page
    assert "n.d." in page


def test_index_row_names_the_kind_and_the_communes(tmp_path):
    _fake_report(tmp_path, "bv-42187", "Bassin de vie de Roanne", 3.0)
    row = index_row(tmp_path / "bv-42187",
                    json.loads((tmp_path / "bv-42187" / "indicators.json").read_text(encoding="utf-8")))
    assert row["kind"] == "bv" and row["communes"] == ["42187", "42011"]
    assert "<h2>Bassins de vie (1)</h2>" in render_index([row], None)


def test_a_map_is_embedded_as_a_data_png_with_its_caption():
    smap = index_map.SelectionMap(b"\x89PNG fake", 800, 600, "APL 2023 : DREES / ANCT ; contours : x <b>")
    page = render_index([_row("epci-1", "E1"), _row("epci-2", "E2")], REFERENCE,
                        {"epci": (smap, None)})
    assert page.count('<img src="data:image/png;base64,iVBORyBmYWtl"') == 1
    assert "<figcaption>APL 2023 : DREES / ANCT ; contours : x &lt;b&gt;</figcaption>" in page
