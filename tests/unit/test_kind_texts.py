"""Report texts that fit every kind of territory, and map captions that say where the commune
polygons are simplified. No data: a minimal fake context carries the kind's French forms and the
territory's commune codes; expected strings are written by hand (the CPTS box is today's text)."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from cpts_diag.report.context import _KindForms
from cpts_diag.report.figures import map_source
from cpts_diag.report.sections.health_gaps import gaps_note, not_in_open_data
from cpts_diag.report.text import dep_of_commune, geo_caption
from cpts_diag.territory_kinds import KINDS


class FakeCtx(_KindForms):
    """The attributes the texts read: kind forms, territory (commune codes), captions."""

    def __init__(self, kind: str = "cpts", communes=("42187",)):
        self.territory_kind = kind
        self.forms = KINDS[kind]
        self.kind = self.forms.noun
        self.territory = SimpleNamespace(communes=list(communes))

    def caption(self, *iids):
        return "Drees, APL 2023"


#: The box of a CPTS, as written before the texts followed the kind (must stay exactly so).
CPTS_BOX = (
    "**Ce que les données ouvertes ne disent pas.** Un diagnostic de CPTS comporte d'ordinaire les "
    "indicateurs ci-dessous ; ils ne sont pas publiés en données ouvertes à l'échelle de la CPTS "
    "(ni, pour la plupart, de la commune). La CPTS les obtient auprès de **Rézone CPTS** "
    "(Assurance maladie, réservé aux CPTS), **CartoSanté** (ARS, ATIH) et la **CPAM** de la CPTS, "
    "et peut les ajouter à ce rapport par un tableau de santé (`--health FICHIER.csv`, voir "
    "docs/health_tables.md) :\n\n"
    "- Patients sans médecin traitant (part des 17 ans ou plus) — *Rézone CPTS (Assurance maladie) ; "
    "la CPAM de la CPTS, à la commune ou au canton*\n"
    "- Affections de longue durée par pathologie (diabète, cancers, maladies cardio-neurovasculaires, "
    "troubles psychiatriques…) — *Rézone CPTS ; la « cartographie des pathologies » de l'Assurance "
    "maladie (Data pathologies), au département ; la CPAM pour un découpage plus fin*\n"
    "- Passages aux urgences et hospitalisations évitables — *l'ARS (ATIH / PMSI, Scan Santé) ; "
    "Rézone CPTS pour les passages non suivis d'hospitalisation*\n"
    "- Participation aux dépistages organisés des cancers (sein, côlon, col de l'utérus) — *Santé "
    "publique France (Géodes / Odissé), au département ; le centre régional de coordination des "
    "dépistages (CRCDC) pour la CPTS*\n"
    "- Consommation de médicaments (polymédication des 75 ans ou plus, antibiotiques, psychotropes) — "
    "*Rézone CPTS ; l'Open Medic de l'Assurance maladie, à la région*\n"
    "- Couverture vaccinale ROR et des nourrissons — *Santé publique France (Géodes), au département ; "
    "la PMI du conseil départemental*\n"
    "- Naissances et décès par commune, causes de décès à la commune — *l'Insee (état civil, fichiers "
    "détaillés) ; le CépiDc-Inserm, au département*\n"
    "- Bénéficiaires de la complémentaire santé solidaire (C2S) et du RSA par commune — *la CPAM et la "
    "CAF de la CPTS*\n"
    "- Âge des médecins de la CPTS (départs en retraite à venir) — *l'Ordre des médecins ou le RPPS via "
    "l'ARS ; Rézone CPTS*")

OTHER_KINDS = [k for k in KINDS if k != "cpts"]
SIMPLIFIED = ("fond communal IGN, Admin Express ; contours simplifiés (Admin Express COG CARTO 2025, "
              "COGiter) hors des départements 03, 07, 38, 42, 43, 63, 69 et 71")


def test_cpts_box_is_unchanged():
    note = gaps_note(FakeCtx("cpts"))
    assert note.markdown == CPTS_BOX
    assert note.kind == "info"


@pytest.mark.parametrize("kind", OTHER_KINDS)
def test_other_kinds_box_never_calls_the_territory_a_cpts(kind):
    text = gaps_note(FakeCtx(kind)).markdown
    for wrong in ("de la CPTS", "pour la CPTS", "la CPTS", "La CPTS", "diagnostic de CPTS", "{", "}"):
        assert wrong not in text, (kind, wrong)
    assert "réservé aux CPTS" in text
    assert "la CPAM du département, à la commune ou au canton" in text
    assert "la CPAM et la CAF du département" in text
    assert f"Âge des médecins {KINDS[kind].de_la} (départs" in text
    assert f"(CRCDC) pour {KINDS[kind].la}*" in text
    assert len(not_in_open_data(FakeCtx(kind))) == 9  # the same nine indicators as a CPTS


def test_epci_box_wording():
    text = gaps_note(FakeCtx("epci")).markdown
    assert "à l'échelle de l'EPCI (ni, pour la plupart, de la commune)" in text
    assert "Un diagnostic territorial de santé comporte" in text
    assert "les CPTS du territoire" in text and "**CPAM** du département" in text
    assert "Âge des médecins de l'EPCI" in text and "dépistages (CRCDC) pour l'EPCI" in text


def test_dep_of_commune():
    assert dep_of_commune("42187") == "42"
    assert dep_of_commune("2A004") == "2A"
    assert dep_of_commune("97411") == "974"
    assert dep_of_commune("69123") == "69"


def test_geo_caption_detailed_departements_only():
    ctx = FakeCtx("cpts", ["42187", "42184", "69248", "69001"])
    assert geo_caption(ctx) == "fond communal IGN, Admin Express"
    assert map_source(ctx, "apl") == "Drees, APL 2023 ; fond communal IGN, Admin Express"


@pytest.mark.parametrize("outside", ["75056", "01004", "2A004", "97411"])
def test_geo_caption_says_simplified_outside(outside):
    ctx = FakeCtx("epci", ["42187", "69248", outside])
    assert geo_caption(ctx) == SIMPLIFIED
    assert map_source(ctx, "apl") == "Drees, APL 2023 ; " + SIMPLIFIED
