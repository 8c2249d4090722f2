"""Loaders on the real open-data snapshot: values read back from the files of the bundle."""
import csv

import numpy as np
import pytest

from cpts_diag import loaders

pytestmark = pytest.mark.integration


def _csv_row(snapshot_dir, rel, key, code):
    with open(snapshot_dir / rel, encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row[key] == code:
                return row
    raise AssertionError(f"{code} not in {rel}")


def test_loire_has_320_communes_in_cog_2025(snapshot_dir):
    com = loaders.load_communes()
    assert len(com) == 34875
    assert (com["dep"] == "42").sum() == 320
    assert com["code_commune"].str.len().eq(5).all()
    assert com.set_index("code_commune").loc["01001", "nom"] == "L'Abergement-Clémenciat"


@pytest.mark.parametrize("code,pop", [("42187", 35365.0), ("42218", 172568.0)])
def test_rp2022_population_of_named_communes(snapshot_dir, code, pop):
    df = loaders.load_population().set_index("code_commune")
    assert df.loc[code, "pop_2022"] == pop
    assert df.loc[code, "pop_2022"] == float(
        _csv_row(snapshot_dir, "insee/population_communes_rp2022.csv", "code_commune", code)["pop_2022"])
    assert df.attrs["source"]["vintage"] == 2022


def test_insee_age_table_sums_bands(snapshot_dir):
    df = loaders.load_population_age_insee().set_index("code_commune")
    assert len(df) == 577 and set(df["CODGEO"].str[:2]) == {"42", "43"}
    row = _csv_row(snapshot_dir, "insee/population_age_rp2022_dep42_43.csv", "CODGEO", "42187")
    bands = ["P22_POP0014", "P22_POP1529", "P22_POP3044", "P22_POP4559", "P22_POP6074",
             "P22_POP7589", "P22_POP90P"]
    assert df.loc["42187", "P22_POP"] == pytest.approx(sum(float(row[b]) for b in bands))
    assert df.loc["42187", "P22_POP"] == pytest.approx(35364, abs=1)  # INSEE's figure


def test_secret_values_stay_missing():
    socio = loaders.load_socio().set_index("code_commune")
    # Filosofi does not publish the poverty rate of small communes: NaN, never 0
    assert np.isnan(socio.loc["01001", "taux_pauvrete_2021"])
    assert socio["taux_pauvrete_2021"].isna().sum() == 30447
    assert (socio["taux_pauvrete_2021"] == 0).sum() < 5


def test_workbook_apl_equals_long_table():
    wb = loaders.load_apl_workbook("medecin_generaliste", 2023).set_index("code_commune")
    long = loaders.load_apl(2023, "medecin_generaliste").set_index("code_commune")
    assert wb.loc["42187", "apl"] == long.loc["42187", "apl"] == 3.252
    assert wb.loc["42187", "pop_std"] == pytest.approx(long.loc["42187", "pop_std"])
    common = wb.index.intersection(long.index)
    assert len(common) == len(long) == 34954
    assert np.allclose(wb.loc[common, "apl"], long.loc[common, "apl"], equal_nan=True)
    nurse = loaders.load_apl_workbook("infirmier", 2022).set_index("code_commune")
    nl = loaders.load_apl(2022, "infirmier").set_index("code_commune")
    assert nurse.loc["42218", "apl"] == nl.loc["42218", "apl"]
    assert nurse.attrs["source"]["file"].endswith("apl_infirmieres_2022_2023.xlsx")


def test_workbook_harmonised_to_cog2025_merges_solore_en_forez():
    # 42084 Solore-en-Forez (2025) = 42084 + 42109 + 42252 in the APL 2023 sheet (COG 2024)
    raw = loaders.load_apl_workbook("medecin_generaliste", 2023).set_index("code_commune")
    parts = raw.loc[["42084", "42109", "42252"]]
    expected = (parts["apl"] * parts["pop_std"]).sum() / parts["pop_std"].sum()
    h = loaders.load_apl_workbook("medecin_generaliste", 2023, harmonise=True).set_index("code_commune")
    assert h.loc["42084", "apl"] == pytest.approx(expected)
    assert h.loc["42084", "pop_tot"] == parts["pop_tot"].sum() == 517
    assert "42109" not in h.index and "42252" not in h.index
    # nobody lost or counted twice
    assert h["pop_tot"].sum() == raw["pop_tot"].sum()


def test_apl_long_table_vintages_and_units():
    apl = loaders.load_apl()
    assert sorted(apl["annee"].unique()) == [2016, 2018, 2022, 2023]
    assert len(apl) == 661167
    gp = apl[apl.profession == "medecin_generaliste"]
    assert set(gp["unite"]) == {"consultations/an/hab. std"}


def test_bpe_counts_with_labels():
    bpe = loaders.load_bpe_health()
    gp = bpe[bpe.typequ == "D265"]
    assert gp["libelle"].iloc[0].lower().startswith("médecin généraliste")
    loire = gp[gp.code_commune.str.startswith("42")]["nb"].sum()
    assert loire == 697  # nb_loire_42 of bpe2024_typequ.csv


def test_polygons_crs_and_areas():
    g = loaders.load_commune_polygons(detail="8dep")
    assert len(g) == 3033 and g.crs.to_epsg() == 4326
    roanne = loaders.to_lambert93(g[g.code_commune == "42187"])
    assert roanne.crs.to_epsg() == 2154
    area = roanne.geometry.area.iloc[0] / 1e6
    assert area == pytest.approx(roanne["surface_km2"].iloc[0], rel=1e-3)
    assert area == pytest.approx(roanne["surface_km2_ign"].iloc[0], rel=0.05)
    metro = loaders.load_commune_polygons(detail="metro")
    assert len(metro) == 34746


def test_hospitals_and_perimeter_sources():
    h = loaders.load_hospitals()
    assert len(h) == 5368 and h["finess"].str.len().eq(9).all()
    assert h.loc[h.finess == "010000024", "code_commune"].iloc[0] == "01451"
    cpts = loaders.load_cpts_sources()
    assert set(cpts["cpts_id"]) == {"ondaine-forez", "vallee-du-gier", "grand-saint-etienne",
                                    "roannais-2019", "roannais-2024"}


def test_every_loader_carries_its_provenance():
    for f in (loaders.load_communes, loaders.load_passage, loaders.load_population,
              loaders.load_socio, loaders.load_bpe_health, loaders.load_apl, loaders.load_hospitals):
        src = f().attrs["source"]
        assert {"id", "vintage", "cog", "publisher", "licence", "file"} <= set(src)
