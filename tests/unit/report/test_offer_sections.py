"""Sections 5.1 (MSP, centres de santé, age of nurses) and 5.4 (SAE 2022 + FINESS 2020) on the
fixture territory with injected frames (tests/unit/report/fixture.py): expected values are the
fixture's hand-set numbers."""
from __future__ import annotations

import pandas as pd
import pytest

from cpts_diag.report import blocks as B
from cpts_diag.report.sections import SECTIONS

from . import fixture


def _text(blocks) -> str:
    text = "\n".join(b.markdown for b in blocks if isinstance(b, (B.Text, B.Note)))
    return text.replace("\u202f", " ").replace("\\", "")


def _by_name(blocks, kind) -> dict:
    return {b.name: b for b in blocks if isinstance(b, kind)}


@pytest.fixture(scope="module")
def full():
    return fixture.context(all_sae=fixture.sae(full=True))


def test_hospitals_show_sae_categories_and_statuses(full):
    blocks = SECTIONS["hopitaux"](full)
    text = _text(blocks)
    assert "**3 établissements de soins** (1 public, 1 privé non lucratif et 1 privé lucratif)" in text
    assert "Hospitalisation à domicile : 1" in text and "Clinique (MCO) : 1" in text
    t = _by_name(blocks, B.Table)["hopitaux"]
    df = t.df.set_index("Établissement")
    assert df.loc["CLINIQUE GAMMA", "Statut"] == "privé lucratif"
    assert df.loc["HAD BETA", "Catégorie"] == "Hospitalisation à domicile"
    assert set(df["Source"]) == {"DREES, SAE 2022"}
    assert t.source == "DREES, SAE 2022"  # no FINESS-only row here
    rec = _by_name(blocks, B.Figure)["carte_hopitaux"].record
    # Delta's CH (outside, adjacent square) is within 5 km; the three without address are placed
    # at their commune's centre (CH Alpha has its FINESS coordinates)
    assert rec["n_in_territory"] == 3 and rec["n_nearby"] == 1 and rec["n_at_commune_centre"] == 3
    assert rec["vintage"] == "2022"


def test_hospitals_fall_back_to_finess_without_sae():
    ctx = fixture.context(all_sae=pd.DataFrame())
    blocks = SECTIONS["hopitaux"](ctx)
    text = _text(blocks)
    assert "**1 établissement de soins** (1 public)" in text
    assert "la SAE 2022 n'est pas installée" in text
    t = _by_name(blocks, B.Table)["hopitaux"]
    assert list(t.df["Source"]) == ["FINESS 2020"] and t.source.startswith("Ministère de la Santé")


def test_finess_entity_absent_from_sae_is_kept_with_its_source():
    extra = fixture.hospitals().iloc[[0]].assign(finess="990000060", nom="CLINIQUE FINESS SEULE",
                                                 statut="prive", code_commune="99002")
    ctx = fixture.context(all_hospitals=pd.concat([fixture.hospitals(), extra], ignore_index=True))
    t = _by_name(SECTIONS["hopitaux"](ctx), B.Table)["hopitaux"]
    src = dict(zip(t.df["Établissement"], t.df["Source"]))
    assert src == {"CENTRE HOSPITALIER ALPHA": "DREES, SAE 2022", "CLINIQUE FINESS SEULE": "FINESS 2020"}
    assert t.source == "DREES, SAE 2022 ; Ministère de la Santé, FINESS (mars 2020)"


def test_msp_and_centres_de_sante_counted_and_mapped(full):
    blocks = SECTIONS["offre"](full)
    text = _text(blocks)
    assert "**2 maisons de santé pluriprofessionnelles** (MSP) et **3 centres de santé**" in text
    if "count_msp_bpe2024" in full.registry:
        assert "Maisons de santé pluriprofessionnelles : Loire : 40" in text
    assert "Alpha (1 MSP, 2 centres de santé)" in text and "Delta" not in text
    df = _by_name(blocks, B.Table)["msp_centres_sante"].df
    assert list(df["Commune"]) == ["Alpha", "Bêta", "Gamma"]
    assert list(df["MSP"]) == [1, 0, 1] and list(df["Centres de santé"]) == [2, 1, 0]
    rec = _by_name(blocks, B.Figure)["carte_msp_centres_sante"].record
    assert rec["n_msp"] == 2 and rec["n_cds"] == 3


def test_nurse_age_departemental_and_no_physician_age(full):
    blocks = SECTIONS["offre"](full)
    text = _text(blocks)
    assert "Loire : **16,0 %** (6,0 % à 60 ans ou plus)" in text  # 32 / 200, 12 / 200
    assert "Auvergne-Rhône-Alpes : 20,0 %" in text and "France (hors Mayotte) : 22,0 %" in text
    assert "**départementale**" in text and "2023" in text
    assert "ne donnent pas l'âge des médecins" in text and "ARS" in text
    df = _by_name(blocks, B.Table)["age_infirmiers"].df
    assert list(df["Part des 55 ans ou plus (%)"]) == pytest.approx([16.0, 20.0, 22.0])
    assert list(df["Part des 60 ans ou plus (%)"]) == pytest.approx([6.0, 5.0, 9.0])


def test_offer_without_the_optional_files_says_so():
    ctx = fixture.context(nurse_ages=pd.DataFrame(), bpe_health=pd.DataFrame())
    text = _text(SECTIONS["offre"](ctx))
    assert "l'âge des infirmières libérales n'est pas installé" in text
    assert "La BPE n'est pas installée" in text
    assert "ne donnent pas l'âge des médecins" in text


def test_nurse_age_not_listed_per_departement_beyond_three():
    ctx = fixture.context()
    ctx.deps = []  # as for a territory over more than 3 départements: France and régions only
    text = _text(SECTIONS["offre"](ctx))
    assert "non détaillée, la CPTS s'étendant sur plus de 3 départements" in text
    assert "Loire : **16,0 %**" not in text and "France (hors Mayotte) : 22,0 %" in text
