"""Health status of a CPTS on the real snapshot (data contract §7): values read back from the
bundle files with the csv module, independently of the loaders and functions under test."""
from __future__ import annotations

import csv
import warnings

import pytest

from cpts_diag import health_status as H
from cpts_diag import loaders_health, store
from cpts_diag.territory import Territory


def _rows(snapshot_dir, rel: str) -> list[dict]:
    with open(snapshot_dir / rel, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def roannais():
    return Territory.load("roannais-2024")


def test_health_sources_pass_their_schema_with_the_contract_row_counts(tmp_path, monkeypatch):
    monkeypatch.setenv("CPTS_DIAG_CACHE", str(tmp_path / "cache"))  # cold: every check runs
    monkeypatch.delenv("CPTS_DIAG_PARTIAL_DATA", raising=False)
    store.clear_memory()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(loaders_health.load_vaccination()) == 9_460
        assert len(loaders_health.load_standardised_mortality()) == 6_864
        assert len(loaders_health.load_crude_mortality()) == 9_970  # 9,971 lines, one blank
        assert len(loaders_health.load_cartosante_bv()) == 1_709
        assert len(loaders_health.load_bv_local_stats()) == 1_707
    store.clear_memory()


def test_flu_65_coverage_of_the_loire_2023(snapshot_dir, roannais):
    raw = [r for r in _rows(snapshot_dir, "sante/couverture_vaccinale_spf.csv")
           if r["annee"] == "2023" and r["niveau"] == "departement" and r["code"] == "42"
           and r["indicateur"] == "Grippe 65 ans et plus"]
    assert [float(r["valeur"]) for r in raw] == [52.3]
    t = H.vaccination_for(roannais)
    got = t[(t["code"] == "42") & (t["annee"] == 2023) & (t["indicateur"] == "Grippe 65 ans et plus")]
    assert got["valeur"].tolist() == [52.3] and got["territoire"].tolist() == ["Loire"]
    assert set(zip(t["niveau"], t["code"])) == {("departement", "42"), ("departement", "71"),
                                                ("region", "27"), ("region", "84"), ("france", "FR")}
    latest = H.vaccination_latest(t).set_index("indicateur")
    france = {int(r["annee"]): float(r["valeur"]) for r in _rows(snapshot_dir, "sante/couverture_vaccinale_spf.csv")
              if r["niveau"] == "france" and r["indicateur"] == "Grippe 65 ans et plus"}
    year = int(latest.loc["Grippe 65 ans et plus", "annee"])
    assert latest.loc["Grippe 65 ans et plus", "france_FR"] == france[year]
    assert latest.loc["Grippe 65 ans et plus", "evol_france_FR"] == pytest.approx(france[year] - france[year - 5])


def test_standardised_mortality_of_the_loire(snapshot_dir, roannais):
    raw = {int(r["annee"]): float(r["valeur"]) for r in _rows(snapshot_dir,
           "sante/mortalite_standardisee_departement.csv")
           if r["departement"] == "42" and r["cause"] == "Toutes causes" and r["sexe"] == "Tous sexes"}
    assert raw[2023] == 911.6 and sorted(raw) == list(range(2010, 2024))
    t = H.mortality_for(roannais)
    loire = t[t["departement"] == "42"].set_index("annee")["valeur"]
    assert loire.to_dict() == raw
    causes = H.mortality_by_cause_for(roannais)
    assert len(causes) == 18 * 3 and causes["numero"].tolist()[:3] == [1, 1, 1]
    tumeurs = causes[(causes["numero"] == 2) & (causes["sexe"] == "Tous sexes")]
    assert tumeurs["42"].item() == 250.6  # file: 2023,42,Tous sexes,2. Tumeurs,250.6


def test_crude_mortality_of_the_roannais_epcis(snapshot_dir, roannais):
    raw = {(r["niveau"], r["code"]): float(r["taux_mortalite_pour_1000"])
           for r in _rows(snapshot_dir, "insee/mortalite_brute_1968_2018.csv")
           if r["periode"] == "2013-2018" and r["taux_mortalite_pour_1000"]}  # Mayotte: empty
    t = H.crude_mortality_for(roannais)
    assert t.attrs["epci_sans_correspondance"] == [] and t["correspondance"].all()
    assert set(t["periode"]) == {"2013-2018"}
    assert sorted(t.loc[t["niveau"] == "epci", "code"]) == sorted(roannais.epcis)
    for row in t.itertuples():
        assert row.taux_mortalite_pour_1000 == raw[(row.niveau, row.code)]
    assert raw[("epci", "200035731")] == 10.7  # CA Roannais Agglomération


def test_roanne_bassin_de_vie_and_population_shares(snapshot_dir, roannais):
    carto = {r["code_bv2022"]: r for r in _rows(snapshot_dir, "sante/cartosante_bassins_de_vie_2024.csv")}
    assert float(carto["42187"]["part_ald_2024"]) == 19.8
    bv_of = {r["code_commune"]: r["bv2022"] for r in _rows(snapshot_dir, "cog/communes.csv")}
    pop = {r["code_commune"]: float(r["pop_2022"])
           for r in _rows(snapshot_dir, "insee/population_communes_rp2022.csv")}
    o = H.bv_overlap_for(roannais)
    assert set(o["code_bv2022"]) == {bv_of[c] for c in roannais.communes}
    roanne = o.set_index("code_bv2022").loc["42187"]
    assert roanne["part_ald_2024"] == 19.8 and roanne["libelle_bv"] == "Roanne"
    assert o["population_cpts"].sum() == pytest.approx(sum(pop[c] for c in roannais.communes))
    assert o["part_population_cpts"].sum() == pytest.approx(100.0, abs=1e-9)
    assert o["part_population_cpts"].round(1).sum() == pytest.approx(100.0, abs=0.1 * len(o))
    assert (o["part_bv_dans_cpts"] <= 100 + 1e-9).all()
    secret = {k for k, r in carto.items() if r["part_ald_2024"] == ""} & set(o["code_bv2022"])
    assert set(o.loc[o["part_ald_2024"].isna(), "code_bv2022"]) == secret
    est = H.bv_estimate(o, "part_ald_2024")
    assert est["coverage"] >= H.MIN_COVERAGE
    assert o["part_ald_2024"].min() <= est["value"] <= o["part_ald_2024"].max()
