"""Territories beyond the CPTS (cpts_diag.territory_kinds) on a tiny hand-made COG frame.

Expected values are written by hand from the frame below (no data needed)."""
from __future__ import annotations

import pandas as pd
import pytest
import yaml

from cpts_diag.errors import TerritoryError
from cpts_diag.report.context import _KindForms
from cpts_diag.territory_kinds import (KINDS, canonical_id, ids_for, kind_of_id, parse_kind_id,
                                       territory_for)

COLS = ["code_commune", "nom", "dep", "nom_dep", "reg", "nom_reg", "epci_siren", "epci_nom",
        "bv2022", "lib_bv2022"]
ROWS = [
    ("42187", "Roanne", "42", "Loire", "84", "ARA", "200035731", "CA Roannais Agglomération", "42187", "Roanne"),
    ("42184", "Riorges", "42", "Loire", "84", "ARA", "200035731", "CA Roannais Agglomération", "42187", "Roanne"),
    # the EPCI 200035731 straddles the Loire and the Rhône; so does the bassin de vie 69248
    ("69248", "Thizy-les-Bourgs", "69", "Rhône", "84", "ARA", "200035731", "CA Roannais Agglomération",
     "69248", "Thizy-les-Bourgs"),
    ("69001", "Affoux", "69", "Rhône", "84", "ARA", "200040715", "CA de l'Ouest Rhodanien", "69248",
     "Thizy-les-Bourgs"),
    ("42002", "Ailleux", "42", "Loire", "84", "ARA", "200040715", "CA de l'Ouest Rhodanien", "69248",
     "Thizy-les-Bourgs"),
    ("01004", "Ambérieu-en-Bugey", "01", "Ain", "84", "ARA", "240100883", "CC de la Plaine de l'Ain",
     "01004", "Ambérieu-en-Bugey"),
    ("2A004", "Ajaccio", "2A", "Corse-du-Sud", "94", "Corse", "242010056", "CA du Pays Ajaccien", "2A004",
     "Ajaccio"),
    ("43157", "Le Puy-en-Velay", "43", "Haute-Loire", "84", "ARA", "200073419", "CA du Puy-en-Velay",
     "43157", "Le Puy-en-Velay"),
]
COM = pd.DataFrame(ROWS, columns=COLS)


@pytest.mark.parametrize("text, expected", [
    ("epci-200035731", ("epci", "200035731")),
    ("DEP-2a", ("dep", "2A")),
    (" bv-42187 ", ("bv", "42187")),
    ("dep-974", ("dep", "974")),
    ("roannais-2024", None),
    ("epci-", None),
    ("epci-../../etc", None),
    ("bv-42187-x", None),
    (42, None),
    (None, None),
])
def test_parse_kind_id(text, expected):
    assert parse_kind_id(text) == expected


def test_kind_of_id():
    assert kind_of_id("territoire-nord-roannais") == "communes"
    assert kind_of_id("roannais-2024") == "cpts"
    assert kind_of_id("bv-42187") == "bv"


def test_territory_for_epci_straddling_two_departements():
    t = territory_for("epci", "200035731", COM)
    assert (t.id, t.name, t.kind) == ("epci-200035731", "CA Roannais Agglomération", "epci")
    assert t.communes == ["42184", "42187", "69248"]
    assert t.departements == ["42", "69"] and t.regions == ["84"]
    assert t.members == {"communes": [], "epcis": ["200035731"]}


@pytest.mark.parametrize("kind, code, name, n", [
    ("bv", "42187", "Bassin de vie de Roanne", 2),
    ("bv", "69248", "Bassin de vie de Thizy-les-Bourgs", 3),
    ("bv", "01004", "Bassin de vie d'Ambérieu-en-Bugey", 1),
    ("bv", "43157", "Bassin de vie du Puy-en-Velay", 1),
    ("dep", "42", "Loire (42)", 3),
    ("dep", "2a", "Corse-du-Sud (2A)", 1),
])
def test_territory_for_names(kind, code, name, n):
    t = territory_for(kind, code, COM)
    assert t.name == name and len(t.communes) == n and t.kind == kind
    assert t.id == f"{kind}-{code.upper()}"


def test_to_yaml_still_a_perimeter_file():
    spec = yaml.safe_load(territory_for("dep", "42", COM).to_yaml())
    assert spec["id"] == "dep-42" and "kind" not in spec
    assert spec["members"]["communes"] == ["42002", "42184", "42187"]


def test_ids_for_in_dep_lists_a_straddling_epci_once():
    assert ids_for("epci", in_dep="69", com=COM) == ["epci-200035731", "epci-200040715"]
    assert ids_for("epci", in_dep="42", com=COM) == ["epci-200035731", "epci-200040715"]
    assert ids_for("bv", in_dep="42", com=COM) == ["bv-42187", "bv-69248"]
    assert ids_for("bv", in_dep="69", com=COM) == ["bv-69248"]
    assert ids_for("dep", com=COM) == ["dep-01", "dep-2A", "dep-42", "dep-43", "dep-69"]
    assert len(ids_for("epci", com=COM)) == 5


def test_unknown_codes_are_refused_in_french_with_close_codes():
    with pytest.raises(TerritoryError) as e:
        territory_for("epci", "200035732", COM)
    msg = str(e.value)
    assert "200035732" in msg and "epci-200035731" in msg and "Correctif" in msg
    with pytest.raises(TerritoryError, match="bv-42187 \\(Roanne\\)"):
        canonical_id("bv-Roanne", COM)
    with pytest.raises(TerritoryError, match="dep-99"):
        ids_for("bv", in_dep="99", com=COM)
    with pytest.raises(TerritoryError, match="identifiant de territoire"):
        canonical_id("roannais-2024", COM)
    with pytest.raises(TerritoryError, match="inconnu"):
        territory_for("region", "84", COM)
    assert canonical_id("dep-2a", COM) == "dep-2A"


class _Forms(_KindForms):
    def __init__(self, kind):
        self.forms, self.kind = KINDS[kind], KINDS[kind].noun


@pytest.mark.parametrize("kind, la, La, de_la, a_la, Elle, Kind", [
    ("cpts", "la CPTS", "La CPTS", "de la CPTS", "à la CPTS", "Elle", "CPTS"),
    ("epci", "l'EPCI", "L'EPCI", "de l'EPCI", "à l'EPCI", "Il", "EPCI"),
    ("bv", "le bassin de vie", "Le bassin de vie", "du bassin de vie", "au bassin de vie", "Il", "Bassin de vie"),
    ("dep", "le département", "Le département", "du département", "au département", "Il", "Département"),
    ("communes", "le territoire", "Le territoire", "du territoire", "au territoire", "Il", "Territoire"),
])
def test_report_forms(kind, la, La, de_la, a_la, Elle, Kind):  # noqa: N803
    f = _Forms(kind)
    assert (f.la, f.La, f.de_la, f.a_la, f.Elle, f.Kind) == (la, La, de_la, a_la, Elle, Kind)
