"""SAE 2022, MSP / centres de santé and nurses' age on the real snapshot, checked against the raw
CSV files read with pandas (not against the code's own output)."""
from __future__ import annotations

import pandas as pd
import pytest

from cpts_diag.report import blocks as B

pytestmark = pytest.mark.integration

TERRITORY = "roannais-2024"
CH_ROANNE = "420000010"


@pytest.fixture(scope="module")
def raw_sae(snapshot_dir):
    return pd.read_csv(snapshot_dir / "drees" / "sae2022_etablissements.csv", dtype=str)


@pytest.fixture(scope="module")
def communes():
    from cpts_diag.territory import Territory

    return Territory.load(TERRITORY).communes


@pytest.fixture(scope="module")
def ctx():
    from cpts_diag.report.context import build_context

    return build_context(TERRITORY)


def test_loader_reads_every_row_with_codes_as_text(raw_sae):
    from cpts_diag.sae import load_sae

    s = load_sae()
    assert len(s) == len(raw_sae) == 3995
    assert s.attrs["source"]["vintage"] == 2022
    row = s.set_index("finess").loc[CH_ROANNE]
    assert row["raison_sociale"] == "CH DE ROANNE" and row["dep"] == "42"


def test_ch_de_roanne_category_and_status_as_in_the_csv(raw_sae, communes):
    from cpts_diag.sae import load_sae, sae_establishments

    raw = raw_sae.set_index("finess").loc[CH_ROANNE]
    assert (raw["categorie"], raw["categorie_regroupee"]) == ("355", "PUB2")
    assert raw["categorie_libelle_derive"] == "Centre Hospitalier (C.H.)"
    e = sae_establishments(load_sae(), communes).set_index("finess")
    assert e.loc[CH_ROANNE, "statut"] == "public" and e.loc[CH_ROANNE, "categorie"] == "Centre hospitalier"
    # every SAE row of the territory's communes, and only those
    expected = set(raw_sae.loc[raw_sae["code_commune_cog2025"].isin(communes), "finess"])
    assert set(e.index) == expected and len(expected) > 5
    # statuses from the first letters of categorie_regroupee, row by row
    groups = raw_sae.set_index("finess").loc[sorted(expected), "categorie_regroupee"].str[:3]
    want = groups.map({"PUB": "public", "PNL": "privé non lucratif", "PLU": "privé lucratif"})
    assert (e.loc[sorted(expected), "statut"] == want).all()


def test_section_shows_the_sae_rows_and_finess_only_for_the_others(ctx, raw_sae, snapshot_dir):
    from cpts_diag.report.sections import SECTIONS

    blocks = SECTIONS["hopitaux"](ctx)
    t = next(b for b in blocks if isinstance(b, B.Table) and b.name == "hopitaux")
    df = t.df.set_index("FINESS")
    assert df.loc[CH_ROANNE, "Source"] == "DREES, SAE 2022" and df.loc[CH_ROANNE, "Statut"] == "public"
    sae_here = set(raw_sae.loc[raw_sae["code_commune_cog2025"].isin(ctx.territory.communes), "finess"])
    fin = pd.read_csv(snapshot_dir / "finess" / "etablissements_sante.csv", dtype=str)
    # no FINESS-only row for an establishment the SAE has
    finess_rows = set(df.index[df["Source"] == "FINESS 2020"])
    assert not finess_rows & sae_here
    assert finess_rows <= set(fin.loc[fin["code_commune"].isin(ctx.territory.communes), "finess"])
    assert "DREES, SAE 2022" in t.source
    rec = next(b for b in blocks if isinstance(b, B.Figure)).record
    assert rec["n_in_territory"] == len(df)  # every commune of the territory has a polygon


def test_loire_nurses_aged_55_or_more_recomputed_from_the_csv(snapshot_dir):
    from cpts_diag.sae import load_nurse_ages, nurse_age_shares

    raw = pd.read_csv(snapshot_dir / "drees" / "infirmiers_liberaux_departement_age_2012_2023.csv",
                      dtype={"dep": str, "reg": str})
    loire = raw[(raw["dep"] == "42") & (raw["annee"] == 2023) & (raw["sexe"] == "Ensemble")]
    by = loire.set_index("tranche_age")["effectif"]
    assert by["Ensemble"] == 1503  # data contract §3.15
    n55 = by["Entre 55 et 59 ans"] + by["Entre 60 et 64 ans"] + by["65 ans et plus"]
    out = nurse_age_shares(load_nurse_ages(), deps=["42"], regions=["84"]).set_index("code")
    assert out.loc["42", "annee"] == 2023
    assert out.loc["42", "effectif_55p"] == n55
    assert out.loc["42", "part_55p"] == pytest.approx(100 * n55 / 1503)
    assert {"42", "84", "FR"} == set(out.index)


def test_msp_and_centres_de_sante_of_the_territory_from_the_bpe_file(ctx, snapshot_dir):
    bpe = pd.read_csv(snapshot_dir / "insee" / "bpe2024_sante.csv", dtype={"code_commune": str})
    here = bpe[bpe["code_commune"].isin(ctx.territory.communes)]
    st = ctx.structures
    assert st["msp"].sum() == here.loc[here["typequ"] == "D113", "nb"].sum()
    assert st["cds"].sum() == here.loc[here["typequ"] == "D108", "nb"].sum()
    roanne = st.set_index("code_commune").loc["42187"]
    assert (roanne["msp"], roanne["cds"]) == (2, 7)  # read in bpe2024_sante.csv: 42187 D113 2, D108 7


def test_national_establishments_computed_once_per_process(monkeypatch, raw_sae):
    """A warm batch kernel produces many reports: the national SAE + FINESS merge is computed
    once for the same files, and the cached frame still holds the raw SAE's CH de Roanne."""
    from cpts_diag import sae

    calls = []
    real = sae.merge_with_finess
    monkeypatch.setattr(sae, "merge_with_finess", lambda *a: calls.append(1) or real(*a))
    monkeypatch.setattr(sae, "_NATIONAL", {})
    first = sae.national_establishments()
    second = sae.establishments_of(lambda: None, None, installed=True)
    assert len(calls) == 1
    assert (raw_sae["finess"] == CH_ROANNE).sum() == 1  # in the raw SAE file, once
    assert (first["finess"] == CH_ROANNE).sum() == 1 and second.equals(first)
    sae._NATIONAL.clear()
    sae._NATIONAL[("autre fichier",)] = first.iloc[:0]  # files changed since: recomputed
    assert len(sae.national_establishments()) == len(first) and len(calls) == 2
