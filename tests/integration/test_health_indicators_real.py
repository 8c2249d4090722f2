"""Health and care-offer indicators of issue 10 item 5 on the real snapshot, checked against values
read straight from the bundle files with pandas (no cpts_diag loader)."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from cpts_diag import catalogue as C
from cpts_diag import indicators as I
from cpts_diag.territory import Territory

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def roannais():
    return Territory.load("roannais-2024")


@pytest.fixture(scope="module")
def tidy(roannais):
    return I.compute_all(roannais)


def _val(t, iid, level="territory", code=None):
    r = t[(t["indicator_id"] == iid) & (t["level"] == level)]
    if code is not None:
        r = r[r["code"] == code]
    assert len(r) == 1, (iid, level, code)
    return float(r["value"].iloc[0])


@pytest.fixture(scope="module")
def vacc(snapshot_dir):
    return pd.read_csv(snapshot_dir / "sante" / "couverture_vaccinale_spf.csv", dtype={"code": str})


def _spf(vacc, indicator, year, niveau, code):
    r = vacc[(vacc["indicateur"] == indicator) & (vacc["annee"] == year)
             & (vacc["niveau"] == niveau) & (vacc["code"] == code)]
    assert len(r) == 1
    return float(r["valeur"].iloc[0])


def test_flu_65p_read_from_the_spf_file(tidy, vacc):
    for level, niveau, code, tcode in (("departement", "departement", "42", "42"),
                                       ("departement", "departement", "71", "71"),
                                       ("region", "region", "84", "84"),
                                       ("france", "france", "FR", "FR")):
        assert _val(tidy, "vacc_flu_65p_2024", level, tcode) == pytest.approx(
            _spf(vacc, "Grippe 65 ans et plus", 2024, niveau, code))
    # no commune data: the CPTS, its EPCIs and France métropolitaine (not in the file) are n.d.
    assert math.isnan(_val(tidy, "vacc_flu_65p_2024"))
    assert tidy[(tidy["indicator_id"] == "vacc_flu_65p_2024") & (tidy["level"] == "epci")]["value"].isna().all()
    assert math.isnan(_val(tidy, "vacc_flu_65p_2024", "france_metro"))


def test_every_published_vaccination_entry_matches_the_file(tidy, vacc):
    for iid, d in I.INDICATORS.items():
        c = d["compute"]
        if c["kind"] == "published" and c["dataset"] == "vaccination":
            # each entry names the latest year of its indicator in the file
            assert c["year"] == vacc.loc[vacc["indicateur"] == c["indicator"], "annee"].max(), iid
            assert _val(tidy, iid, "departement", "42") == pytest.approx(
                _spf(vacc, c["indicator"], c["year"], "departement", "42")), iid


def test_standardised_mortality_loire_2023(tidy, snapshot_dir):
    m = pd.read_csv(snapshot_dir / "sante" / "mortalite_standardisee_departement.csv",
                    dtype={"departement": str})
    r = m[(m["departement"] == "42") & (m["annee"] == 2023) & (m["cause"] == "Toutes causes")
          & (m["sexe"] == "Tous sexes")]
    assert float(r["valeur"].iloc[0]) == pytest.approx(911.6)
    assert _val(tidy, "mortality_std_all_2023", "departement", "42") == pytest.approx(911.6)
    # published by département only: région, France and the CPTS stay n.d. (never computed)
    for level, code in (("region", "84"), ("france", "FR"), ("territory", None)):
        assert math.isnan(_val(tidy, "mortality_std_all_2023", level, code))


def test_msp_and_health_centre_counts_are_the_bpe_sums(tidy, roannais, snapshot_dir):
    bpe = pd.read_csv(snapshot_dir / "insee" / "bpe2024_sante.csv", dtype={"code_commune": str})
    mine = bpe[bpe["code_commune"].isin(roannais.communes)]
    for iid, code in (("count_msp_bpe2024", "D113"), ("count_cds_bpe2024", "D108")):
        expected = mine.loc[mine["typequ"] == code, "nb"].sum()
        assert expected > 0
        assert _val(tidy, iid) == expected
        assert _val(tidy, iid, "france") == bpe.loc[bpe["typequ"] == code, "nb"].sum()
    nat = I.national_data()
    assert {"bpe_D113", "bpe_D108", "bv2022"} <= set(nat.base.columns)
    ct = I.commune_table(roannais)
    assert ct["count_msp_bpe2024"].sum() == mine.loc[mine["typequ"] == "D113", "nb"].sum()


def test_ald_share_estimated_over_the_bassins_de_vie(tidy, roannais, snapshot_dir):
    com = pd.read_csv(snapshot_dir / "cog" / "communes.csv", dtype=str)
    pop = pd.read_csv(snapshot_dir / "insee" / "population_communes_rp2022.csv",
                      dtype={"code_commune": str})
    carto = pd.read_csv(snapshot_dir / "sante" / "cartosante_bassins_de_vie_2024.csv",
                        dtype={"code_bv2022": str})
    f = (com[com["code_commune"].isin(roannais.communes)][["code_commune", "bv2022"]]
         .merge(pop[["code_commune", "pop_2022"]], on="code_commune")
         .merge(carto[["code_bv2022", "part_ald_2024"]], left_on="bv2022", right_on="code_bv2022",
                how="left"))
    has = f["part_ald_2024"].notna()
    expected = (f.loc[has, "part_ald_2024"] * f.loc[has, "pop_2022"]).sum() / f.loc[has, "pop_2022"].sum()
    value = _val(tidy, "share_ald_bv2024")
    assert value == pytest.approx(expected)
    assert round(value, 1) == 19.8
    row = tidy[(tidy["indicator_id"] == "share_ald_bv2024") & (tidy["level"] == "territory")].iloc[0]
    assert row["coverage"] == pytest.approx(f.loc[has, "pop_2022"].sum() / f["pop_2022"].sum())
    # the same figure as health_status.bv_estimate on the territory's bassins de vie
    from cpts_diag.health_status import bv_estimate, bv_overlap_for
    est = bv_estimate(bv_overlap_for(roannais), "part_ald_2024")
    assert value == pytest.approx(est["value"]) and row["coverage"] == pytest.approx(est["coverage"])


def test_catalogue_marks_published_values_nd_for_the_territory(roannais):
    cat = C.catalogue(roannais)
    ind = {i["id"]: i for i in cat["indicators"]}
    flu = ind["vacc_flu_65p_2024"]
    assert flu["values"]["territory"] is None and flu["values"]["departement"]["42"] is not None
    assert flu["geography"] == "département, région, France"
    assert ind["mortality_std_all_2023"]["geography"] == "département"
    text = C.catalogue_text(cat, epcis=False)
    assert "publié par département : " in text
