"""The report's readings on real data (issue « Report v2 »): each checked against the raw files of
the snapshot or against figures read in them by hand, not against the code's own output."""
from __future__ import annotations

import pandas as pd
import pytest

from cpts_diag.report import blocks as B

pytestmark = pytest.mark.integration


def _md(blocks) -> str:
    text = "\n".join(b.markdown for b in blocks if isinstance(b, (B.Text, B.Note)))
    return text.replace("\u202f", " ")


def _tables(blocks) -> dict:
    return {b.name: b for b in blocks if isinstance(b, B.Table)}


def _figures(blocks) -> dict:
    return {b.name: b for b in blocks if isinstance(b, B.Figure)}


@pytest.fixture(scope="module")
def roannais(snapshot_dir):
    from cpts_diag.report import Diagnostic

    return Diagnostic("roannais-2019", display_outputs=False)


def test_poverty_is_compared_on_the_same_basis(roannais, snapshot_dir):
    """Roannais 2019: 18,4 % on the 8 communes where Filosofi publishes the rate; the Loire on the
    same basis is 19,2 % (all-population published value 15,8 %): the reading no longer reverses."""
    socio = pd.read_csv(snapshot_dir / "insee" / "socio_communes.csv", dtype={"code_commune": str})
    pop = pd.read_csv(snapshot_dir / "insee" / "population_communes_rp2022.csv", dtype={"code_commune": str})
    d = socio.merge(pop[["code_commune", "pop_2022"]], on="code_commune")
    loire = d[d["code_commune"].str.startswith("42") & d["taux_pauvrete_2021"].notna()]
    by_hand = (loire["taux_pauvrete_2021"] * loire["pop_2022"]).sum() / loire["pop_2022"].sum()
    assert round(by_hand, 1) == 19.2
    blocks = roannais.blocks("socio")
    text = _md(blocks)
    assert "8 communes sur 104" in text and "il est de 18,4 %" in text
    assert "Loire : 19,2 %" in text and "Loire : 15,8 %" in text
    t = _tables(blocks)["socio_economie"].df
    same = t[t["Indicateur"].str.endswith("communes où la donnée est publiée")].iloc[0]
    published = t[t["Indicateur"].str.endswith("toute la population")].iloc[0]
    assert round(same["Loire"], 1) == 19.2 and published["Loire"] == 15.8
    assert round(same["CPTS"], 1) == 18.4 and pd.isna(published["CPTS"])


def test_apl_classes_sum_to_100_and_agree_with_the_map(roannais, snapshot_dir):
    apl = pd.read_csv(snapshot_dir / "drees" / "apl_communes.csv",
                      dtype={"code_commune_cog2025": str, "code_commune": str, "note": str})
    gp = apl[(apl["annee"] == 2023) & (apl["profession"] == "medecin_generaliste")]
    gp = gp[gp["code_commune_cog2025"].isin(roannais.territory.communes)]
    under = gp.groupby("code_commune_cog2025")["apl"].first().lt(2.5).sum()
    blocks = roannais.blocks("apl")
    classes = _tables(blocks)["apl_classes"].df
    share = classes["Part de la population (%, règle Drees)"].iloc[:3]
    assert abs(share.sum() - 100) < 0.05
    record = _figures(blocks)["carte_apl_mg"].record
    assert record["counts"] == list(classes["Communes"].iloc[:3])
    assert record["counts"][0] == under  # communes under 2,5 read from the raw DREES table
    assert record["labels"] == ["moins de 2,5", "de 2,5 à moins de 4", "4 ou plus"]


def test_bpe_counts_are_named_places_of_practice(roannais):
    text = _md(roannais.blocks("offre"))
    assert "130 lieux d'exercice de médecins généralistes" in text and "pas des praticiens" in text


def test_hospitals_exclude_non_care_entities(roannais, snapshot_dir):
    raw = pd.read_csv(snapshot_dir / "finess" / "etablissements_sante.csv", dtype=str)
    raw = raw[raw["code_commune"].isin(roannais.territory.communes)]
    assert raw["nom"].str.contains("PLANIFICATION|PENITENTIAIRE|PÉNITENTIAIRE", case=False).any()
    shown = _tables(roannais.blocks("hopitaux"))["hopitaux"].df
    assert not shown["Établissement"].str.contains("PLANIFICATION|PENITENTIAIRE", case=False).any()
    assert len(shown) < len(raw) and shown["Catégorie"].notna().all()


def test_region_and_france_populations_of_2016_are_given(roannais, snapshot_dir):
    """No longer n.d.: summed over the communes that have them, coverage stated."""
    com = pd.read_csv(snapshot_dir / "cog" / "communes.csv", dtype=str)
    pop = pd.read_csv(snapshot_dir / "insee" / "population_communes_rp2022.csv", dtype={"code_commune": str})
    ara = pop[pop["code_commune"].isin(com.loc[com["reg"] == "84", "code_commune"])]
    # the communes that have it in the national table, plus those filled from INSEE's dossier
    # complet of the Loire and Haute-Loire (e.g. Unieux, 42316)
    age = pd.read_csv(snapshot_dir / "insee" / "population_age_rp2022_dep42_43.csv", dtype={"CODGEO": str})
    filled = ara["pop_2016"].fillna(ara["code_commune"].map(age.set_index("CODGEO")["P16_POP"]))
    assert filled.isna().any()  # some communes still lack it: a partial sum, with its coverage
    t = _tables(roannais.blocks("demographie"))["population"]
    row = t.df[t.df["Indicateur"].str.contains("2016") & ~t.df["Indicateur"].str.contains("volution")].iloc[0]
    assert row["Auvergne-Rhône-Alpes"] == pytest.approx(filled.sum())
    assert row["France métropolitaine"] > 60_000_000


def test_points_saillants(roannais):
    text = _md(roannais.blocks("synthese"))
    points = [line for line in text.splitlines() if line.startswith("- ") and " est " in line]
    assert 5 <= len(points) <= 8
    # 33,1 % under 2,5 vs 16,7 % in France: the largest gap, first
    assert points[0].startswith("- La part de la population vivant dans une commune où l'APL")
    assert "nettement supérieure à celle de la France métropolitaine (16,7 %)" in points[0]


def test_announced_population_is_reconciled(snapshot_dir):
    from cpts_diag.report import Diagnostic

    text = _md(Diagnostic("ondaine-forez", display_outputs=False).blocks("synthese"))
    assert "annonce **84 466 habitants** en 2023" in text
    assert "ce rapport en compte 81 432" in text and "-3,6 %" in text


def test_fixed_map_classes_are_the_same_in_two_reports(roannais, snapshot_dir):
    from cpts_diag.report import Diagnostic

    other = _figures(Diagnostic("vallee-du-gier", display_outputs=False).blocks("demographie"))
    mine = _figures(roannais.blocks("demographie"))
    for name in ("carte_indice_vieillissement", "carte_densite", "carte_evolution_population"):
        assert mine[name].record["breaks"] == other[name].record["breaks"]
        assert mine[name].record["labels"] == other[name].record["labels"]
