"""Importers of the official formats, on the hand-made fixtures of tests/fixtures/official.

Expected values are hand-made or copied from the fixtures; the comparisons of the importers with
the snapshot loaders are in tests/integration/test_importers_real.py.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from cpts_diag import importers as im
from cpts_diag.errors import HarmonisationError, WorkbookFormatError

OFF = Path(__file__).resolve().parents[1] / "fixtures" / "official"
CODES_2022 = ["42084", "42187", "42217", "42218", "43157"]


@pytest.fixture(scope="module")
def passage() -> pd.DataFrame:
    return pd.read_csv(OFF / "passage_communes_extract.csv", dtype=str)


# --- INSEE population ----------------------------------------------------------------------------


def test_population_year_comes_from_the_file(tmp_path):
    age = im.read_insee_population_age(OFF / "base-cc-evol-struct-pop-2022.CSV")
    assert [c for c in age.columns if c.endswith("_POP")] == ["P16_POP", "P11_POP", "P22_POP"]
    assert age["LIBGEO"].isna().all()  # the CSV has no names and none were passed
    wrong = tmp_path / "base-cc-evol-struct-pop-2023.CSV"
    shutil.copy(OFF / "base-cc-evol-struct-pop-2022.CSV", wrong)
    with pytest.raises(WorkbookFormatError, match="2023.*P22"):
        im.read_insee_population_age(wrong)


def test_old_cog_file_is_summed_into_cog2025(passage):
    old = im.read_insee_population_age(OFF / "base-cc-evol-struct-pop-2021.CSV", passage=passage)
    assert old.attrs["source"]["cog"] == 2024  # RP 2021 is published on COG 2024
    got = old.set_index("code_commune")["P21_POP"]
    # 42084 + 42109 + 42252 -> Solore-en-Forez; 42217 + 42072 -> La Côte-Saint-Didier
    assert got.to_dict() == {"42084": 159 + 107 + 251, "42187": 34762, "42217": 458 + 63}
    assert old["LIBGEO"].isna().all()
    with pytest.raises(HarmonisationError, match="passage"):
        im.read_insee_population_age(OFF / "base-cc-evol-struct-pop-2021.CSV")


def test_arrondissements_never_double_counted(tmp_path):
    # made-up counts: only the folding rule is tested here
    f = tmp_path / "base-cc-evol-struct-pop-2022.CSV"
    f.write_text("CODGEO;P22_POP\n69123;100\n69381;40\n75101;5\n75102;7\n")
    got = im.read_insee_population_age(f).set_index("code_commune")["P22_POP"]
    assert got.to_dict() == {"69123": 100, "75056": 12}


# --- INSEE COG -------------------------------------------------------------------------------------


def test_epci_header_found_by_content(tmp_path):
    import openpyxl

    ref = im.read_epci_composition(OFF / "Intercommunalite_Metropole_au_01-01-2025.xlsx")
    wb = openpyxl.load_workbook(OFF / "Intercommunalite_Metropole_au_01-01-2025.xlsx")
    for ws in wb.worksheets:
        ws.insert_rows(1, 4)  # four more title rows than INSEE's layout
        ws["A1"] = "Titre ajouté"
    shifted = tmp_path / "Intercommunalite_Metropole_au_01-01-2025.xlsx"
    wb.save(shifted)
    pd.testing.assert_frame_equal(im.read_epci_composition(shifted), ref)
    roanne = ref.set_index("code_commune").loc["42187"]
    assert (roanne["epci_siren"], roanne["epci_nature"]) == ("200035731", "CA")


# --- DREES APL -------------------------------------------------------------------------------------


def test_apl_code_missing_from_passage_raises(passage):
    with pytest.raises(HarmonisationError, match="42109"):
        im.read_apl_workbook(OFF / "apl_infirmieres.xlsx", passage[passage["code_commune_source"] != "42109"])


# --- Etalab contours --------------------------------------------------------------------------------


def test_old_cog_contours_are_dissolved(tmp_path, passage):
    # two made-up adjacent squares of 0,01° × 0,01° at 45,8° N: 42072 merged into 42217 in 2025
    sq = lambda x: [[[x, 45.8], [x + 0.01, 45.8], [x + 0.01, 45.81], [x, 45.81], [x, 45.8]]]  # noqa: E731
    feats = [{"type": "Feature", "properties": {"code": c, "nom": n, "departement": "42", "region": "84",
                                                 "epci": "200065886"},
              "geometry": {"type": "Polygon", "coordinates": sq(x)}}
             for c, n, x in [("42072", "La Côte-en-Couzan", 3.80), ("42217", "Saint-Didier-sur-Rochefort", 3.81)]]
    f = tmp_path / "communes-2024.geojson"
    f.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    parts = im.read_commune_contours(f)
    merged = im.read_commune_contours(f, cog=2024, passage=passage)
    assert merged["code_commune"].tolist() == ["42217"]
    # by hand: 0,01° of latitude ≈ 1,1115 km, 0,01° of longitude at 45,805° ≈ 0,7774 km (GRS80),
    # so ≈ 0,864 km² per square (Lambert-93 shrinks areas by < 0,3 % at this latitude)
    assert parts["surface_km2"].tolist() == pytest.approx([0.864, 0.864], rel=5e-3)
    assert merged["surface_km2"].iloc[0] == pytest.approx(2 * 0.864, rel=5e-3)
