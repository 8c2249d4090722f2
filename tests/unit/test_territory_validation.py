"""Every validation error of a perimeter, with a clear message (TerritoryError).

Hand-made commune and passage tables (pure function ``resolve_members``) and YAML structure checks;
the same errors through ``Territory`` on the real COG are in
tests/integration/test_territory_validation_real.py.
"""
from __future__ import annotations


import pandas as pd
import pytest

from cpts_diag.errors import TerritoryError
from cpts_diag.territory import (read_perimeter_yaml, resolve_members,
                                 validate_perimeter_spec)

# --- pure: resolve_members on a hand-made COG ------------------------------------------------

COM = pd.DataFrame({
    "code_commune": ["42095", "42084", "42316", "69123"],
    "nom": ["Firminy", "Solore-en-Forez", "Unieux", "Lyon"],
    "epci_siren": ["244200770", "200065886", "244200770", "200046977"],
    "epci_nom": ["Saint-Étienne Métropole", "CA Loire Forez", "Saint-Étienne Métropole", "Métropole de Lyon"],
    "dep": ["42", "42", "42", "69"],
})
PASSAGE = pd.DataFrame({
    "code_commune_source": ["42095", "42084", "42316", "69123", "42109", "69381"],
    "code_commune_cog2025": ["42095", "42084", "42316", "69123", "42084", "69123"],
    "evenement": ["identique", "identique", "identique", "identique",
                  "création de commune nouvelle", "arrondissement municipal"],
    "date_effet": [None, None, None, None, "2025-01-01", None],
    "scission_communes_cog2025": [None] * 6,
})


def test_resolve_plain_codes_sorted():
    codes, recoded, msgs = resolve_members(["42316", "42095"], [], COM, PASSAGE, "t")
    assert codes == ["42095", "42316"] and recoded == {} and msgs == []


def test_resolve_old_code_is_mapped_with_a_message():
    codes, recoded, msgs = resolve_members(["42109", "42095"], [], COM, PASSAGE, "t")
    assert codes == ["42084", "42095"]
    assert recoded == {"42109": "42084"}
    assert len(msgs) == 1 and "42109" in msgs[0] and "42084" in msgs[0] and "Solore" in msgs[0]


def test_resolve_arrondissement_to_commune():
    codes, recoded, _ = resolve_members(["69381"], [], COM, PASSAGE, "t")
    assert codes == ["69123"] and recoded == {"69381": "69123"}


def test_resolve_epci_expansion():
    codes, _, _ = resolve_members([], ["244200770"], COM, PASSAGE, "t")
    assert codes == ["42095", "42316"]


@pytest.mark.parametrize("communes, epcis, needle", [
    ([], [], "vide"),
    (["42095", "42095"], [], "double"),
    ([], ["244200770", "244200770"], "double"),
    (["42999"], [], "42999"),
    (["4209"], [], "format attendu"),
    ([], ["244200771"], "SIREN d'EPCI inconnu"),
])
def test_resolve_errors(communes, epcis, needle):
    with pytest.raises(TerritoryError, match=needle):
        resolve_members(communes, epcis, COM, PASSAGE, "périmètre test")


def test_unknown_code_suggests_close_communes():
    with pytest.raises(TerritoryError) as e:
        resolve_members(["42096"], [], COM, PASSAGE, "t")  # one digit from Firminy 42095
    assert "42095 (Firminy)" in str(e.value)
    with pytest.raises(TerritoryError) as e:
        resolve_members(["Firminyy"], [], COM, PASSAGE, "t")  # a name instead of a code
    assert "Firminy (42095)" in str(e.value)


def test_unknown_epci_suggests_close_siren():
    with pytest.raises(TerritoryError) as e:
        resolve_members([], ["244200771"], COM, PASSAGE, "t")
    assert "244200770" in str(e.value)


# --- pure: YAML structure ----------------------------------------------------------------------

def _spec(**kw):
    d = {"id": "x", "name": "X", "members": {"communes": ["42095"]}}
    d.update(kw)
    return d


@pytest.mark.parametrize("data, needle", [
    (["42095"], "dictionnaire"),
    (_spec(membres=1), "clé\\(s\\) inconnue\\(s\\)"),
    ({"id": "x", "members": {"communes": ["42095"]}}, "obligatoire"),
    (_spec(members=["42095"]), "members doit contenir"),
    (_spec(members={"communes": "42095"}), "doit être une liste"),
    (_spec(members={"communes": [513]}), "entre guillemets"),  # YAML read 01001 as octal 513
    (_spec(valid_from="13/12/2023"), "date"),
    (_spec(id="X Y"), "identifiant"),
])
def test_spec_errors(data, needle):
    with pytest.raises(TerritoryError, match=needle):
        validate_perimeter_spec(data, "fichier test.yaml")


def test_spec_id_must_match_file_name():
    with pytest.raises(TerritoryError, match="diffère du nom du fichier"):
        validate_perimeter_spec(_spec(id="autre"), "f", expected_id="x")


def test_malformed_yaml_names_file_and_line(tmp_path):
    p = tmp_path / "casse.yaml"
    p.write_text("id: casse\nname: [oops\nmembers:\n  communes: ['42095']\n", encoding="utf-8")
    with pytest.raises(TerritoryError) as e:
        read_perimeter_yaml(p)
    msg = str(e.value)
    assert str(p) in msg and "YAML mal formé" in msg and "ligne" in msg


def test_unquoted_leading_zero_code_in_yaml(tmp_path):
    p = tmp_path / "ain.yaml"
    p.write_text("id: ain\nname: Ain\nmembers:\n  communes: [01001]\n", encoding="utf-8")
    with pytest.raises(TerritoryError, match="lu comme un nombre.*guillemets"):
        read_perimeter_yaml(p)

