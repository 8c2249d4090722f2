"""Honest readings on the real snapshot: same-basis comparators, comparator sums over the
communes having the value, coverage in the catalogue, hospitals that provide care.

Every expected value is recomputed here with plain pandas from the raw CSV files of the snapshot.
"""
from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from cpts_diag import catalogue as C
from cpts_diag import indicators as I
from cpts_diag.fmt import NNBSP
from cpts_diag.territory import Territory

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def raw(snapshot_dir):
    """Raw commune tables: COG 2025 communes joined with RP populations and socio indicators."""
    s = snapshot_dir
    cog = pd.read_csv(s / "cog" / "communes.csv", dtype=str)[["code_commune", "dep", "reg"]]
    pop = pd.read_csv(s / "insee" / "population_communes_rp2022.csv", dtype={"code_commune": str})
    soc = pd.read_csv(s / "insee" / "socio_communes.csv", dtype={"code_commune": str})
    ins = pd.read_csv(s / "insee" / "population_age_rp2022_dep42_43.csv", dtype={"CODGEO": str})
    d = (cog.merge(pop[["code_commune", "pop_2022", "pop_2016"]], on="code_commune", how="left")
         .merge(soc[["code_commune", "taux_pauvrete_2021"]], on="code_commune", how="left"))
    # contract: an empty 2016 population of the Loire / Haute-Loire is INSEE's dossier complet P16_POP
    d["pop_2016_filled"] = d["pop_2016"].fillna(d["code_commune"].map(ins.set_index("CODGEO")["P16_POP"]))
    ptod = pd.read_csv(s / "insee" / "indicateurs_territoires_ptod.csv", dtype={"code": str})
    return {"communes": d, "ptod": ptod}


@pytest.fixture(scope="module")
def roannais():
    return Territory.load("roannais-2019")


@pytest.fixture(scope="module")
def tidy(roannais):
    return I.compute_all(roannais)


def _row(t, iid, level, code=None):
    r = t[(t["indicator_id"] == iid) & (t["level"] == level)]
    if code is not None:
        r = r[r["code"] == code]
    assert len(r) == 1, (iid, level, code)
    return r.iloc[0]


def _poverty(d: pd.DataFrame) -> tuple[float, int, float]:
    """(rate weighted by pop 2022 over communes with a published rate, communes left out, coverage)."""
    ok = d["taux_pauvrete_2021"].notna() & d["pop_2022"].notna()
    rate = (d.loc[ok, "taux_pauvrete_2021"] * d.loc[ok, "pop_2022"]).sum() / d.loc[ok, "pop_2022"].sum()
    return rate, int((~ok).sum()), d.loc[ok, "pop_2022"].sum() / d["pop_2022"].sum()


def test_poverty_loire_same_basis_reverses_the_reading(raw, tidy, roannais):
    d = raw["communes"]
    terr_rate, terr_missing, terr_cov = _poverty(d[d["code_commune"].isin(roannais.communes)])
    loire_rate, loire_missing, loire_cov = _poverty(d[d["dep"] == "42"])
    pt = raw["ptod"]
    published = float(pt[(pt["niveau"] == "departement") & (pt["code"] == "42")]["taux_pauvrete_2021"].iloc[0])
    # the numbers of the issue, from the raw files
    assert round(terr_rate, 1) == 18.4 and round(loire_rate, 1) == 19.2 and published == 15.8
    t = _row(tidy, "poverty_rate_2021", "territory")
    assert t["value"] == pytest.approx(terr_rate) and math.isnan(t["value_same_basis"])
    assert t["n_missing"] == terr_missing and t["coverage"] == pytest.approx(terr_cov)
    dep = _row(tidy, "poverty_rate_2021", "departement", "42")
    assert dep["value"] == pytest.approx(15.8) and dep["method"] == "publié (PTOD)"
    assert round(dep["value_same_basis"], 1) == 19.2
    assert dep["value_same_basis"] == pytest.approx(loire_rate)
    assert dep["n_missing"] == loire_missing and dep["coverage"] == pytest.approx(loire_cov)
    assert f"sur les seules communes où la donnée est publiée : 19,2{NNBSP}%" in dep["note"]
    # the région has its same-basis value too
    reg = _row(tidy, "poverty_rate_2021", "region", "84")
    assert reg["value_same_basis"] == pytest.approx(_poverty(d[d["reg"] == "84"])[0])


def test_region_population_2016_is_the_sum_over_communes_with_the_value(raw, tidy):
    d = raw["communes"]
    r84 = d[d["reg"] == "84"]
    has = r84["pop_2016_filled"].notna()
    assert (~has).sum() > 0  # the data say some communes of the région lack 2016
    row = _row(tidy, "population_2016", "region", "84")
    assert not math.isnan(row["value"])
    assert row["value"] == pytest.approx(r84.loc[has, "pop_2016_filled"].sum())
    assert row["n_missing"] == (~has).sum()
    cov = r84.loc[has, "pop_2022"].sum() / r84["pop_2022"].sum()
    assert row["coverage"] == pytest.approx(cov) and row["coverage"] < 1
    assert row["note"].startswith("somme sur les communes renseignées : ")
    # France métropolitaine is no longer n.d.; the Loire is complete (dossier complet fills 42316)
    assert not math.isnan(_row(tidy, "population_2016", "france_metro")["value"])
    loire = _row(tidy, "population_2016", "departement", "42")
    assert loire["n_missing"] == 0
    assert loire["value"] == pytest.approx(d.loc[d["dep"] == "42", "pop_2016_filled"].sum())


def test_catalogue_and_cli_show_coverage_and_same_basis(roannais, tidy):
    cat = C.catalogue_from_tidy(tidy, roannais)
    json.dumps(cat, allow_nan=False)
    pov = next(i for i in cat["indicators"] if i["id"] == "poverty_rate_2021")
    assert round(pov["values_same_basis"]["departement"]["42"], 1) == 19.2
    t = _row(tidy, "poverty_rate_2021", "territory")
    assert pov["coverage"]["territory"]["communes_missing"] == t["n_missing"] == 96
    assert pov["coverage"]["territory"]["communes"] == 104
    txt = C.catalogue_text(cat, epcis=False)
    assert f"CPTS : couverture : 8 communes sur 104, 50,0{NNBSP}% de la population" in txt
    assert f"19,2{NNBSP}%" in txt


# FINESS entities of the Roannais 2019 communes that do not provide care (read from the raw CSV
# below: two family-planning centres and the tuberculosis-prevention sector of the CH de Roanne)
ROANNAIS_EXCLUDED = {"420785313": "Centre de planification familiale",
                     "420791287": "Centre de planification familiale",
                     "420787152": "Centre de dépistage ou de prévention"}


def test_hospitals_are_places_of_care(snapshot_dir, roannais, tidy):
    h = pd.read_csv(snapshot_dir / "finess" / "etablissements_sante.csv", dtype=str)
    here = h[h["code_commune"].isin(roannais.communes)].set_index("finess")
    names = here["nom"].to_dict()
    assert "PLANIF" in names["420785313"] and "PLANIFICATION" in names["420791287"]
    assert "PHTISIO" in names["420787152"]
    ex = I.hospitals_excluded(roannais).set_index("finess")
    assert ex["exclusion"].to_dict() == ROANNAIS_EXCLUDED
    kept = I.hospitals(roannais)
    assert set(kept["finess"]) == set(here.index) - set(ROANNAIS_EXCLUDED)
    assert len(kept) == _row(tidy, "n_hospitals_finess2020", "territory")["value"] == len(here) - 3
    assert kept["categorie"].notna().all()
    ch = kept.set_index("finess")
    assert ch.loc["420000010", "categorie"] == "Centre hospitalier"  # CH de Roanne
    assert ch.loc["420787319", "categorie"] == "Soins de longue durée"


def test_prison_unit_left_out_of_grand_saint_etienne(snapshot_dir):
    h = pd.read_csv(snapshot_dir / "finess" / "etablissements_sante.csv", dtype=str)
    unit = h[h["nom"].str.contains("PENITENTIAIRE", na=False) & (h["code_commune"] == "42305")]
    assert len(unit) == 1
    gse = Territory.load("grand-saint-etienne")
    assert unit["finess"].iloc[0] not in set(I.hospitals(gse)["finess"])
    ex = I.hospitals_excluded(gse).set_index("finess")
    assert ex.loc[unit["finess"].iloc[0], "exclusion"] == "Unité sanitaire en milieu pénitentiaire"
