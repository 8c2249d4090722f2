"""Health status of a CPTS (issue 10): pure functions on tiny hand-made frames; expected values
are computed by hand in the comments, never by the code under test."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from cpts_diag import health_status as H
from cpts_diag.errors import ArgumentError, DataNotInstalledError, TerritoryError


# --- vaccination ---------------------------------------------------------------------------------

def _vacc_row(annee, niveau, code, libelle, indicateur, valeur):
    return {"annee": annee, "niveau": niveau, "code": code, "libelle": libelle,
            "indicateur": indicateur, "valeur": valeur, "unite": "%"}


G65 = "Grippe 65 ans et plus"
VACC = pd.DataFrame([
    _vacc_row(2018, "departement", "42", "Loire", G65, 40.0),
    _vacc_row(2023, "departement", "42", "Loire", G65, 52.3),
    _vacc_row(2024, "departement", "42", "Loire", G65, 51.0),  # 2024: no région value
    _vacc_row(2018, "region", "84", "Auvergne et Rhône-Alpes", G65, 45.0),
    _vacc_row(2023, "region", "84", "Auvergne et Rhône-Alpes", G65, 53.3),
    _vacc_row(2023, "france", "FR", "France", G65, 54.0),
    _vacc_row(2023, "departement", "69", "Rhône", G65, 50.0),  # not a CPTS département
    _vacc_row(2023, "region", "11", "Île-de-France", G65, 49.0),  # not a CPTS région
    _vacc_row(2023, "departement", "42", "Loire", "Ehpad résidents", 80.0),  # not kept
])


def test_vaccination_table_keeps_the_cpts_levels_and_labels():
    t = H.vaccination_table(VACC, ["42"], ["84"])
    assert list(t.columns) == ["indicateur", "libelle", "annee", "niveau", "code", "territoire", "valeur"]
    assert set(zip(t["niveau"], t["code"])) == {("departement", "42"), ("region", "84"), ("france", "FR")}
    assert set(t["libelle"]) == {"Grippe, 65 ans et plus"}
    assert list(t["niveau"].drop_duplicates()) == ["departement", "region", "france"]
    assert len(t) == 6
    assert H.vaccination_table(VACC, ["42", "2A"], ["84"]).attrs["codes_absents"] == ["2A"]


def test_vaccination_latest_uses_the_latest_common_year_and_the_5_year_change():
    latest = H.vaccination_latest(H.vaccination_table(VACC, ["42"], ["84"]))
    row = latest.iloc[0]
    assert row["annee"] == 2023  # 2024 has no région nor France value
    assert row["departement_42"] == 52.3 and row["region_84"] == 53.3 and row["france_FR"] == 54.0
    assert row["evol_departement_42"] == pytest.approx(12.3)  # 52.3 - 40.0 (2018)
    assert row["evol_region_84"] == pytest.approx(8.3)  # 53.3 - 45.0
    assert math.isnan(row["evol_france_FR"])  # France 2018 not published
    assert row["annee_comparaison"] == 2018
    assert latest.attrs["territoires"]["region_84"] == "Auvergne et Rhône-Alpes"


# --- standardised mortality ----------------------------------------------------------------------

def _mort(annee, dep, sexe, cause, valeur):
    return {"annee": annee, "departement": dep, "sexe": sexe, "cause": cause, "valeur": valeur,
            "unite": "décès pour 100 000 habitants (taux standardisé)"}


MORT = pd.DataFrame([
    _mort(2022, "42", "Tous sexes", "Toutes causes", 971.2),
    _mort(2023, "42", "Tous sexes", "Toutes causes", 911.6),
    _mort(2023, "69", "Tous sexes", "Toutes causes", 850.0),
    _mort(2023, "42", "Hommes", "10. Maladies de la peau", 2.5),
    _mort(2023, "42", "Tous sexes", "2. Tumeurs", 250.6),
    _mort(2023, "42", "Femmes", "2. Tumeurs", 176.0),
    _mort(2023, "69", "Femmes", "2. Tumeurs", 170.0),
])


def test_mortality_table_all_causes_for_the_departements_only():
    t = H.mortality_table(MORT, ["42"])
    assert t[["departement", "annee", "valeur"]].values.tolist() == [["42", 2022, 971.2],
                                                                    ["42", 2023, 911.6]]
    assert "région" in H.NOTE_MORTALITY_AGGREGATES and "France" in H.NOTE_MORTALITY_AGGREGATES


def test_mortality_by_cause_orders_chapters_by_number_and_sex():
    t = H.mortality_by_cause(MORT, ["42", "69"])
    assert t[["numero", "cause", "sexe"]].values.tolist() == [
        [2, "Tumeurs", "Tous sexes"], [2, "Tumeurs", "Femmes"], [10, "Maladies de la peau", "Hommes"]]
    assert t["42"].tolist() == [250.6, 176.0, 2.5]
    assert math.isnan(t["69"].iloc[0]) and t["69"].iloc[1] == 170.0
    with pytest.raises(ArgumentError, match="year = 2019.*Correctif : donnez l'une des années publiées : 2023"):
        H.mortality_by_cause(MORT, ["42"], year=2019)


# --- crude mortality -----------------------------------------------------------------------------

BRUTE = pd.DataFrame({
    "niveau": ["epci", "epci", "epci", "departement", "departement", "region"],
    "code": ["200035731", "200035731", "200035202", "42", "42", "84"],
    "libelle": ["CA Roannais", "CA Roannais", "CC Charlieu", "Loire", "Loire", "ARA"],
    "periode": ["2008-2013", "2013-2018", "2013-2018", "2012-2017", "2013-2018", "2013-2018"],
    "taux_mortalite_pour_1000": [10.1, 10.7, 10.9, 9.8, 9.7, 8.4],
})


def test_crude_mortality_lists_an_epci_without_match():
    t = H.crude_mortality_epci(BRUTE, ["200035731", "249999999"], deps=["42"], regions=["84", "27"],
                               names={"249999999": "CC Nouvelle"})
    assert set(t["periode"]) == {"2013-2018"}
    assert t["code"].tolist() == ["200035731", "249999999", "42", "84"]  # 27: no row, not invented
    missing = t[t["code"] == "249999999"].iloc[0]
    assert not missing["correspondance"] and missing["libelle"] == "CC Nouvelle"
    assert math.isnan(missing["taux_mortalite_pour_1000"])
    assert t.loc[t["code"] == "200035731", "taux_mortalite_pour_1000"].item() == 10.7
    assert t.loc[t["code"] == "42", "taux_mortalite_pour_1000"].item() == 9.7
    assert t.attrs["epci_sans_correspondance"] == ["249999999"]


# --- bassins de vie ------------------------------------------------------------------------------

COMMUNES = pd.DataFrame({"code_commune": ["00001", "00002", "00003", "00004"],
                         "bv2022": ["00001", "00001", "00003", "00004"],
                         "lib_bv2022": ["A", "A", "B", "C"]})
POP = pd.DataFrame({"code_commune": ["00001", "00002", "00003", "00004"],
                    "pop_2022": [100.0, 300.0, 300.0, 50.0]})
CARTO = pd.DataFrame({"code_bv2022": ["00001", "00003"], "libelle_bv": ["A", "B"],
                      "part_ald_2024": [10.0, 20.0], "densite_mg_lib_2024": [8.0, math.nan],
                      "cellules_secret_statistique": [math.nan, "densite_mg_lib_2024"]})
STATS = pd.DataFrame({"code_bv2022": ["00001", "00003"], "libelle_bv": ["A", "B"],
                      "deces_domicilies_2024": [5, 7], "part_75p_2022": [12.0, 14.0]})


def _overlap():
    return H.bv_overlap(COMMUNES, POP, ["00001", "00003"], CARTO, STATS)


def test_bv_overlap_shares():
    o = _overlap().set_index("code_bv2022")
    assert list(o.index) == ["00003", "00001"]  # by CPTS population, descending; C not touched
    # CPTS population: 100 (in A) + 300 (in B) = 400; A holds 100 + 300 = 400 inhabitants
    assert o.loc["00001", "population_cpts"] == 100 and o.loc["00001", "population_bv"] == 400
    assert o.loc["00001", "part_population_cpts"] == pytest.approx(25.0)
    assert o.loc["00003", "part_population_cpts"] == pytest.approx(75.0)
    assert o.loc["00001", "part_bv_dans_cpts"] == pytest.approx(25.0)
    assert o.loc["00003", "part_bv_dans_cpts"] == pytest.approx(100.0)
    assert o.loc["00001", "deces_2024"] == 5 and o.loc["00001", "communes_cpts"] == 1
    assert o.loc["00003", "secret"] == "densite_mg_lib_2024" and o.loc["00001", "secret"] == ""


def test_bv_overlap_refuses_an_unknown_commune():
    with pytest.raises(TerritoryError, match="99999.*Correctif"):
        H.bv_overlap(COMMUNES, POP, ["00001", "99999"], CARTO, STATS)


def test_bv_estimate_is_the_population_weighted_mean():
    est = H.bv_estimate(_overlap(), "part_ald_2024")
    assert est["value"] == pytest.approx((100 * 10.0 + 300 * 20.0) / 400)  # 17.5
    assert est["coverage"] == pytest.approx(1.0)
    assert est["method"] == ("estimation : moyenne des bassins de vie pondérée par la population de "
                             "la CPTS qui y vit ; couverture 100,0\u202f%")


def test_bv_estimate_coverage_threshold():
    o = _overlap()  # densite_mg_lib_2024 is secret in B: only A (100 of 400 inhabitants) has it
    est = H.bv_estimate(o, "densite_mg_lib_2024")
    assert est["coverage"] == pytest.approx(0.25) and math.isnan(est["value"])
    assert "25,0\u202f%" in est["method"] and "seuil : 80\u202f%" in est["method"]
    assert H.MIN_COVERAGE == 0.8
    low = H.bv_estimate(o, "densite_mg_lib_2024", min_coverage=0.25)
    assert low["value"] == pytest.approx(8.0) and "couverture 25,0\u202f%" in low["method"]


def test_bv_estimate_refuses_counts_and_unknown_columns():
    with pytest.raises(ArgumentError, match="deces_2024.*effectif.*Correctif"):
        H.bv_estimate(_overlap(), "deces_2024")
    with pytest.raises(ArgumentError, match="inconnue.*Correctif"):
        H.bv_estimate(_overlap(), "part_inexistante")


# --- sources: registered, optional, checked ------------------------------------------------------

HEALTH_SOURCES = ("vaccination_spf", "mortality_standardised", "mortality_crude", "cartosante_bv",
                  "bv_local_stats")


def test_health_sources_are_optional_and_absent_files_keep_status_ok(isolated_data):
    from cpts_diag import loaders_health
    from cpts_diag.schemas import SCHEMAS
    from cpts_diag.snapshot import status
    from cpts_diag.sources import SOURCES

    rows = {r.source: r for r in status()}
    for sid in HEALTH_SOURCES:
        assert not SOURCES[sid].required and sid in SCHEMAS
        assert not rows[sid].present and rows[sid].ok
    with pytest.raises(DataNotInstalledError, match="vaccination_spf.*Correctif"):
        loaders_health.load_vaccination()


def test_crude_loader_drops_the_blank_line_and_keeps_codes_as_text(isolated_data, monkeypatch):
    from cpts_diag import loaders_health

    monkeypatch.setenv("CPTS_DIAG_PARTIAL_DATA", "1")  # 3 lines instead of 9,970
    f = isolated_data / "insee" / "mortalite_brute_1968_2018.csv"
    f.parent.mkdir()
    f.write_text("niveau,code,libelle,periode,taux_mortalite_pour_1000\n"
                 "departement,01,Ain,2013-2018,8.1\nepci,200035731,CA Roannais,2013-2018,10.7\n"
                 "epci,,,,\n", encoding="utf-8")
    with pytest.warns(UserWarning):
        df = loaders_health.load_crude_mortality()
    assert df["code"].tolist() == ["01", "200035731"]
    assert df.attrs["source"]["vintage"] == 2018
