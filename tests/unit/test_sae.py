"""Pure functions of cpts_diag.sae on tiny hand-made frames (no data file read)."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from cpts_diag import sae


def _sae_rows(rows):
    cols = ["finess", "raison_sociale", "finess_entite_juridique", "categorie", "categorie_regroupee",
            "code_commune_cog2025", "categorie_libelle_derive"]
    return pd.DataFrame(rows, columns=cols)


SAE = _sae_rows([
    ("420000010", "CH DE TEST", "420780033", "355", "PUB2", "42187", "Centre Hospitalier (C.H.)"),
    ("420000028", "CH DE TEST ANNEXE", "420780033", "355", "PUB2", "42127", None),
    ("420000036", "CLINIQUE PRIVEE", "420000001", "365", "PLU4", "42187", None),
    ("420000044", "HAD ASSOCIATIVE", "420000002", "127", "PNL5", "42187", None),
    ("420000051", "CENTRE DIALYSE", "420000003", "146", "PNL8", "42187", None),
    ("420000069", "SMUR ANTENNE DU CH", "420780033", "355", "PUB2", "42187", None),
    ("690000017", "CLINIQUE AILLEURS", "690000009", "365", "PLU4", "69123",
     "Etablissement de Soins Pluridisciplinaire"),
])

FINESS = pd.DataFrame({
    # 420000010 is also in the SAE (FINESS says « prive »: the SAE must win); 420000077 is not
    "finess": ["420000010", "420000077", "420000085"],
    "nom": ["CENTRE HOSPITALIER ANCIEN NOM", "CLINIQUE ABSENTE DE LA SAE", "CENTRE DE PLANIFICATION X"],
    "site": ["Site A", None, None],
    "type": ["Centre Hospitalier (C.H.)", "Etablissement de Soins Chirurgicaux", "Centre Hospitalier (C.H.)"],
    "statut": ["prive", "prive", "public"],
    "code_commune": ["42187", "42187", "42187"], "adresse": ["1 rue A", "2 rue B", "3 rue C"],
    "lat": [46.03, 46.04, 46.05], "lon": [4.07, 4.08, 4.09]})


def test_status_comes_from_the_sae_grouping():
    e = sae.sae_establishments(SAE).set_index("finess")
    assert e.loc["420000010", "statut"] == "public"
    assert e.loc["420000036", "statut"] == "privé lucratif"
    assert e.loc["420000044", "statut"] == "privé non lucratif"
    assert (e["source"] == "DREES, SAE 2022").all() and e["lat"].isna().all()


def test_category_labels_from_the_file_then_the_contract_then_the_code():
    labels = sae.category_labels(SAE)
    # 355: the one derived label of the code, in the words of HOSPITAL_CATEGORIES
    assert labels["355"] == "Centre hospitalier"
    # 365: labelled on another row (Lyon) of the same code
    assert labels["365"] == "Clinique (MCO)"
    assert labels["127"] == "Hospitalisation à domicile"  # stated by the data contract
    assert labels["146"] == "Autre catégorie FINESS (code 146)"  # no label anywhere: not invented


def test_selection_by_commune_keeps_labels_of_the_whole_file():
    e = sae.sae_establishments(SAE, communes=["42187"])
    assert set(e["finess"]) == {"420000010", "420000036", "420000044", "420000051", "420000069"}
    assert e.set_index("finess").loc["420000036", "categorie"] == "Clinique (MCO)"


def test_sae_replaces_finess_and_finess_is_kept_only_when_absent_from_the_sae():
    m = sae.merge_with_finess(sae.sae_establishments(SAE, ["42187"]), FINESS).set_index("finess")
    # replaced: the SAE name and status, FINESS coordinates, site and address
    ch = m.loc["420000010"]
    assert ch["nom"] == "CH DE TEST" and ch["statut"] == "public" and ch["source"] == "DREES, SAE 2022"
    assert ch["lat"] == 46.03 and ch["site"] == "Site A" and ch["adresse"] == "1 rue A"
    assert ch["entite_juridique"] == "420780033" and ch["categorie_code"] == "355"
    # kept from FINESS: absent from the SAE, care entity, status « privé »
    cl = m.loc["420000077"]
    assert cl["source"] == "FINESS 2020" and cl["statut"] == "privé" and cl["categorie"] == "Clinique (MCO)"
    # not places of care, whatever the source: family planning (FINESS), SMUR base (SAE)
    assert "420000085" not in m.index and "420000069" not in m.index
    assert len(m) == 5  # 4 SAE care rows + 1 FINESS
    assert list(m.reset_index().columns) == list(sae.ESTABLISHMENT_COLUMNS)


def test_without_sae_every_care_finess_entity_is_kept():
    m = sae.merge_with_finess(sae.sae_establishments(None), FINESS)
    assert sorted(m["finess"]) == ["420000010", "420000077"]
    assert (m["source"] == "FINESS 2020").all()
    assert m.set_index("finess").loc["420000010", "statut"] == "privé"


def test_establishments_without_address_go_to_their_commune_centre():
    polys = gpd.GeoDataFrame({"code_commune": ["42187"]},
                             geometry=[box(4.0, 46.0, 4.2, 46.2)], crs=4326)
    e = pd.DataFrame({"finess": ["a", "b", "c"], "code_commune": ["42187", "42187", "99999"],
                      "lat": [46.03, np.nan, np.nan], "lon": [4.07, np.nan, np.nan]})
    out = sae.place_at_commune_centres(e, polys)
    assert list(out["localisation"]) == ["adresse", "centre de la commune", "centre de la commune"]
    assert out.loc[0, "lat"] == 46.03
    assert 46.0 < out.loc[1, "lat"] < 46.2 and 4.0 < out.loc[1, "lon"] < 4.2
    assert np.isnan(out.loc[2, "lat"])  # no polygon: stays unplaced, never invented


def test_structures_by_commune_counts_d113_and_d108_absent_is_zero():
    bpe = pd.DataFrame({"code_commune": ["1", "1", "2", "2", "3"],
                        "typequ": ["D113", "D108", "D108", "D265", "D113"], "nb": [2, 1, 3, 9, 7]})
    s = sae.structures_by_commune(bpe, ["1", "2", "4"]).set_index("code_commune")
    assert s.loc["1"].tolist() == [2, 1] and s.loc["2"].tolist() == [0, 3] and s.loc["4"].tolist() == [0, 0]


def test_nurse_age_shares_latest_year_both_sexes():
    rows = []
    for year, sexe, bands in ((2023, "Ensemble", (400, 40, 30, 10)), (2022, "Ensemble", (10, 5, 5, 0)),
                              (2023, "Femmes", (300, 100, 0, 0))):
        tot, a55, a60, a65 = bands
        for band, n in (("Ensemble", tot), ("Entre 50 et 54 ans", tot - a55 - a60 - a65),
                        ("Entre 55 et 59 ans", a55), ("Entre 60 et 64 ans", a60), ("65 ans et plus", a65)):
            rows.append(("departement", "84", "42", "Loire", sexe, band, year, n))
    ages = pd.DataFrame(rows, columns=["niveau", "reg", "dep", "nom_dep", "sexe", "tranche_age", "annee",
                                       "effectif"])
    out = sae.nurse_age_shares(ages, deps=["42", "43"])
    assert list(out["code"]) == ["42"]  # 43 absent, France absent: no row
    r = out.iloc[0]
    assert r["annee"] == 2023 and r["effectif"] == 400 and r["effectif_55p"] == 80
    assert r["part_55p"] == pytest.approx(20.0) and r["part_60p"] == pytest.approx(10.0)
    assert sae.nurse_age_shares(ages, deps=["42"], year=2022).iloc[0]["part_55p"] == pytest.approx(100.0)
