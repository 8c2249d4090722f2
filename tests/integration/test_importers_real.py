"""Importers of the official formats (hand-made fixtures of tests/fixtures/official) compared with what the
snapshot's loaders return for the same communes."""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cpts_diag import importers as im

OFF = Path(__file__).resolve().parents[1] / "fixtures" / "official"
CODES_2022 = ["42084", "42187", "42217", "42218", "43157"]

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def passage() -> pd.DataFrame:
    return pd.read_csv(OFF / "passage_communes_extract.csv", dtype=str)


@pytest.fixture
def loaders(snapshot_dir):
    from cpts_diag import loaders, store

    store.clear_memory()
    return loaders


@pytest.mark.parametrize("name", ["base-cc-evol-struct-pop-2022.CSV", "base-cc-evol-struct-pop-2022_csv.zip",
                                  "base-cc-evol-struct-pop-2022.xlsx"])
def test_population_age_equals_snapshot_loader(name, loaders):
    snap = loaders.load_population_age_insee()
    names = loaders.load_communes()
    got = im.read_insee_population_age(OFF / name, names=names)
    exp = snap[snap["code_commune"].isin(CODES_2022)].reset_index(drop=True)
    assert list(got.columns) == list(exp.columns)
    assert got["code_commune"].tolist() == CODES_2022
    assert got["code_commune"].dtype == "string" and got["code_commune"].str.len().eq(5).all()
    pd.testing.assert_frame_equal(got, exp, check_dtype=False)
    # dtypes as the snapshot loader infers them
    assert got["P16_POP"].dtype == np.int64 and got["P22_POP0014"].dtype == np.float64
    roanne = got.set_index("code_commune").loc["42187"]
    assert roanne["P22_POP"] == pytest.approx(35364.0) and roanne["LIBGEO"] == "Roanne"
    assert got.attrs["source"]["year"] == 2022 and got.attrs["source"]["cog"] == 2025


def test_population_shape_fills_only_what_insee_gives(loaders):
    age = im.read_insee_population_age(OFF / "base-cc-evol-struct-pop-2022.CSV")
    pop = im.population_from_insee_age(age).set_index("code_commune")
    snap = loaders.load_population().set_index("code_commune")
    assert set(snap.columns) - {"pop_2022"} <= set(pop.columns)
    for code in ("42187", "42218", "43157"):  # complete in both sources
        assert abs(pop.loc[code, "pop_2022"] - snap.loc[code, "pop_2022"]) <= 1.1 + 1e-6  # data contract §4
        assert abs(pop.loc[code, "pop_2016"] - snap.loc[code, "pop_2016"]) <= 3
        assert abs(pop.loc[code, "pop_2011"] - snap.loc[code, "pop_2011"]) <= 3
        assert pop.loc[code, "pop_60p"] == pytest.approx(snap.loc[code, "pop_60p"], rel=1e-3)
    assert pop.loc["42187", "pop_75p"] == pytest.approx(4287.4 + 799.5)  # 7589 + 90P
    assert pop.loc["42187", "pop_60p"] == pytest.approx(6368.8 + 4287.4 + 799.5)
    assert pop.loc["42187", "pop_0_14"] == pytest.approx(5030.7)
    assert pop.loc["42187", "pop_90p"] == pytest.approx(799.5)
    # INSEE counts all of Solore-en-Forez; the snapshot only the part that kept code 42084
    assert pop.loc["42084", "pop_2022"] == pytest.approx(512.0) and snap.loc["42084", "pop_2022"] == 159
    # groups INSEE does not publish stay empty, never estimated
    for col in ("pop_15_24", "pop_25_54", "pop_55_64", "pop_65_79", "pop_80p", "pop_65p", "pop_0_19"):
        assert pop[col].isna().all(), col
    assert (pop["source"] == "insee_base_cc").all() and pop["n_iris"].isna().all()


@pytest.mark.parametrize("epci", ["Intercommunalite_Metropole_au_01-01-2025.xlsx",
                                  "Intercommunalite_Metropole_au_01-01-2025.zip"])
def test_cog_communes_equal_snapshot_columns(epci, loaders):
    got = im.read_cog_communes(OFF / "v_commune_2025.csv", epci=OFF / epci,
                               departements=OFF / "v_departement_2025.csv", regions=OFF / "v_region_2025.csv")
    snap = loaders.load_communes()
    assert list(got.columns) == list(snap.columns)
    assert got["code_commune"].tolist() == ["01001", "2A004", "42084", "42187", "42217", "42218", "43157",
                                            "69123"]  # the ARM row 69381 is dropped
    exp = snap.set_index("code_commune").loc[got["code_commune"]].reset_index()
    filled = ["code_commune", "nom", "dep", "nom_dep", "reg", "nom_reg", "epci_siren", "epci_nom",
              "epci_nature", "arr", "can"]
    pd.testing.assert_frame_equal(got[filled], exp[filled], check_dtype=False)
    assert got[["bv2022", "ze2020", "aav2020", "uu2020"]].isna().all().all()
    assert got.attrs["source"]["cog"] == 2025


def test_apl_workbooks_equal_snapshot_long_table(passage, loaders):
    got = pd.concat([im.read_apl_workbook(OFF / "apl_medecins_generalistes.xlsx", passage),
                     im.read_apl_workbook(OFF / "apl_infirmieres.xlsx", passage)], ignore_index=True)
    assert list(got.columns) == list(loaders.load_apl().columns)
    assert len(got) == 10 * 2 * 3  # 10 communes, 2 vintages, 3 professions
    snap = loaders.load_apl()
    snap = snap[snap["source"].isin(["drees_xlsx_mg", "drees_xlsx_inf"])]
    key = ["code_commune", "annee", "profession"]
    exp = snap.set_index(key).loc[pd.MultiIndex.from_frame(got[key])].reset_index()
    pd.testing.assert_frame_equal(got, exp[got.columns], check_dtype=False)
    one = got[(got["code_commune"] == "42109") & (got["annee"] == 2023)
              & (got["profession"] == "infirmier")].iloc[0]
    assert (one["code_commune_cog2025"], one["cog_code"], one["apl"]) == ("42084", 2024, 197.947)
    notes = got.loc[got["note"].notna(), ["code_commune", "annee", "note"]].drop_duplicates()
    assert notes.values.tolist() == [["60054", 2022, "territoire_scinde_2024(60054;60694)"]]


def test_contours_like_snapshot_polygons(tmp_path, snapshot_dir):
    import geopandas as gpd

    got = im.read_commune_contours(OFF / "communes-100m.geojson")
    assert list(got.columns) == im.POLYGON_COLUMNS and got.crs.to_epsg() == 4326
    assert got["code_commune"].tolist() == ["01001", "42084", "42187", "42218", "43157"]
    snap = gpd.read_file(snapshot_dir / "geo" / "communes_8dep.geojson").set_index("code_commune")
    for code in ("42084", "42187", "42218", "43157"):  # same polygons as the snapshot
        row = got.set_index("code_commune").loc[code]
        assert row["surface_km2"] == pytest.approx(snap.loc[code, "surface_km2"], abs=0.002)
        assert row["epci_siren"] == snap.loc[code, "epci_siren"]
    assert got["surface_km2_ign"].isna().all()
    gz = tmp_path / "communes-50m.geojson.gz"
    gz.write_bytes(gzip.compress((OFF / "communes-100m.geojson").read_bytes()))
    eight = im.read_commune_contours(gz, departements=("42", "43"))
    assert eight["code_commune"].tolist() == ["42084", "42187", "42218", "43157"]


def test_passage_extract_is_a_copy_of_the_snapshot_rows(passage, snapshot_dir):
    real = pd.read_csv(snapshot_dir / "cog" / "passage_communes.csv", dtype=str)
    real = real.set_index("code_commune_source").loc[passage["code_commune_source"]].reset_index()
    pd.testing.assert_frame_equal(passage, real)
