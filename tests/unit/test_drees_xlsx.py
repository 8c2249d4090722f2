"""The DREES workbook reader on hand-made workbooks laid out like the DREES originals."""
import openpyxl
import pytest

from cpts_diag.drees_xlsx import apl_sheets, read_apl_sheet
from cpts_diag.errors import WorkbookFormatError

HEADER = ["Code commune INSEE", "Commune", "APL aux médecins généralistes",
          "APL aux médecins généralistes de moins de 65 ans",
          "Population standardisée 2019 pour la médecine générale", "Population totale 2019"]
UNITS = [None, None, "En nombre de consultations/visites accessibles par habitant standardisé",
         "En nombre de consultations/visites accessibles par habitant standardisé",
         "En nombre d'habitants standardisés", "En nombre d'habitants"]


def make_book(path, title_rows: int, sheet="APL 2021", header=HEADER, rows=None):
    wb = openpyxl.Workbook()
    wb.active.title = "Paramètres"
    ws = wb.create_sheet(sheet)
    for i in range(title_rows):
        ws.append([f"Titre ligne {i}"] if i % 2 == 0 else [])
    ws.append(header)
    ws.append(UNITS)
    for r in rows if rows is not None else [
        ["42187", "Roanne", 3.252, 2.9, 36764.68, 34762],
        ["42218", "Saint-Étienne", 3.5, 3.1, 190000.0, 173000],
        ["2A004", "Ajaccio", 4.1, None, 70000.0, 71000],
    ]:
        ws.append(r)
    ws.append([])
    ws.append(["Note : texte libre en bas de feuille"])
    wb.save(path)
    return path


@pytest.mark.parametrize("title_rows", [0, 3, 8, 15])
def test_header_found_whatever_its_row(tmp_path, title_rows):
    path = make_book(tmp_path / "apl.xlsx", title_rows)
    assert apl_sheets(path) == {2021: "APL 2021"}
    df = read_apl_sheet(path, 2021)
    mg = df[df.profession == "medecin_generaliste"].set_index("code_commune")
    assert list(mg.index) == ["42187", "42218", "2A004"]  # units row and notes skipped
    assert mg.loc["42187", "apl"] == 3.252
    assert mg.loc["42187", "pop_std"] == 36764.68
    assert mg.loc["42187", "pop_tot"] == 34762
    assert (df["pop_year"] == 2019).all()
    assert set(df["unite"]) == {"consultations/an/hab. std"}
    u65 = df[df.profession == "medecin_generaliste_moins_65"].set_index("code_commune")
    assert u65.loc["42187", "apl"] == 2.9
    assert u65["apl"].isna().sum() == 1  # an empty cell stays missing


def test_unknown_vintage_lists_available(tmp_path):
    path = make_book(tmp_path / "apl.xlsx", 2)
    with pytest.raises(WorkbookFormatError, match=r"pas de feuille « APL 2030 »\. Millésimes des feuilles trouvées : 2021\. Correctif"):
        read_apl_sheet(path, 2030)


def test_missing_header_names_sheet(tmp_path):
    path = make_book(tmp_path / "apl.xlsx", 2, header=["Code INSEE?", "x"])
    with pytest.raises(WorkbookFormatError, match="feuille « APL 2021 » : aucune ligne d'en-tête commençant par « Code commune INSEE »"):
        read_apl_sheet(path, 2021)


def test_header_without_apl_columns(tmp_path):
    path = make_book(tmp_path / "apl.xlsx", 2, header=["Code commune INSEE", "Commune", "Autre"])
    with pytest.raises(WorkbookFormatError, match="colonnes « APL aux … » et « Population "
                                                  "standardisée … » attendues.*Autre"):
        read_apl_sheet(path, 2021)


def test_header_without_rows(tmp_path):
    path = make_book(tmp_path / "apl.xlsx", 2, rows=[])
    with pytest.raises(WorkbookFormatError, match="feuille « APL 2021 » : en-tête trouvé mais aucune ligne de commune"):
        read_apl_sheet(path, 2021)


def test_not_a_workbook(tmp_path):
    bad = tmp_path / "apl.xlsx"
    bad.write_bytes(b"PK\x03\x04 broken zip")
    with pytest.raises(WorkbookFormatError, match="apl.xlsx n'est pas un classeur Excel lisible.*Correctif"):
        apl_sheets(bad)
