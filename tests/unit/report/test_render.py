"""The renderer: every figure gets its PNG and JSON sidecar, every table its CSV and a sheet,
nothing is written without an output folder."""
from __future__ import annotations

import json

import pandas as pd
from openpyxl import load_workbook

from cpts_diag.report import Renderer
from cpts_diag.report import blocks as B
from cpts_diag.report.sections import SECTIONS

from . import fixture


def test_files_of_a_section(tmp_path):
    ctx = fixture.context()
    r = Renderer(tmp_path, display=False)
    r.render(SECTIONS["apl"](ctx))
    r.finish({"territory": {"id": "fixture"}})
    side = json.loads((tmp_path / "figures" / "carte_apl_mg.json").read_text(encoding="utf-8"))
    assert side["file"] == "carte_apl_mg.png" and side["indicator_id"] == "apl_mg_2023"
    assert side["vintage"] == "2023" and side["counts"] == [1, 1, 1] and side["source"].startswith("Drees, APL 2023")
    assert (tmp_path / "figures" / "carte_apl_mg.png").read_bytes()[:4] == b"\x89PNG"
    csv = (tmp_path / "tables" / "apl_classes.csv").read_text(encoding="utf-8-sig")
    assert csv.splitlines()[1] == "moins de 2,5;1;1200,0;55,0"
    wb = load_workbook(tmp_path / "tableaux.xlsx")
    assert "Sommaire" in wb.sheetnames and "apl_classes" in wb.sheetnames
    assert json.loads((tmp_path / "indicators.json").read_text(encoding="utf-8")) == {"territory": {"id": "fixture"}}


def test_nothing_written_without_output_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = Renderer(None, display=False)
    shown = r.render([B.Text("x"), B.Table("t", pd.DataFrame({"a": [1.0]}), "T", "S")])
    r.finish({"a": 1})
    assert len(shown) == 2 and list(tmp_path.iterdir()) == []
    assert "t" in r.tables  # kept for the workbook of a later batch run


def test_missing_value_is_never_zero(tmp_path):
    r = Renderer(tmp_path, display=False)
    df = pd.DataFrame({"Commune": ["Alpha"], "v": [float("nan")]})
    (html,) = r.render([B.Table("t", df, "T", "S", na={"v": "secret statistique"})])
    assert "secret statistique" in html.data and ">0<" not in html.data
    assert (tmp_path / "tables" / "t.csv").read_text(encoding="utf-8-sig").splitlines() == ["Commune;v", "Alpha;"]


def test_a_table_left_out_of_print_says_where_it_is(tmp_path):
    df = pd.DataFrame({"Commune": ["Alpha", "Bêta"], "Valeur": [1.5, 2.0]})
    r = Renderer(tmp_path, display=False)
    (shown,) = r.render([B.Table("annexe_test", df, "Indicateurs par commune", "Insee", printed=False)])
    page = shown.data
    assert page.startswith('<div class="cpts-noprint">') and "Alpha" in page  # on screen
    assert '<p class="cpts-printonly"><em>Indicateurs par commune : 2 lignes, non imprimées' in page
    assert (tmp_path / "tables" / "annexe_test.csv").is_file()  # still written to the files
