"""Every validation error of a perimeter, with a clear message (TerritoryError).

The first tests use a hand-made commune table (pure function ``resolve_members``); the others go
through ``Territory`` and need the COG tables of the snapshot (skipped without it).
"""
from __future__ import annotations

import textwrap
import warnings

import pandas as pd
import pytest

from cpts_diag.errors import TerritoryError
from cpts_diag.territory import (Territory, known_cpts, read_perimeter_yaml, resolve_members,
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


# --- through Territory (COG tables of the snapshot) ---------------------------------------------

@pytest.fixture
def cog(snapshot_dir):
    return snapshot_dir


def test_unknown_code_real(cog):
    with pytest.raises(TerritoryError) as e:
        Territory.from_codes(["42095", "42999"], id="t")
    assert "42999" in str(e.value) and "communes proches" in str(e.value)


def test_old_code_real_warns_and_maps(cog):
    # 42109 was merged into Solore-en-Forez (42084) on 1 January 2025 (contract §3.6)
    with pytest.warns(UserWarning, match="42109"):
        t = Territory.from_codes(["42109", "42095"], id="t", name="Test")
    assert t.communes == ["42084", "42095"]
    assert t.recoded == {"42109": "42084"}
    assert t.members["communes"] == ["42109", "42095"]  # as declared


def test_duplicate_and_empty_real(cog):
    with pytest.raises(TerritoryError, match="double"):
        Territory.from_codes(["42095", "42316", "42095"])
    with pytest.raises(TerritoryError, match="vide"):
        Territory.from_codes([])


def test_unknown_epci_real(cog):
    with pytest.raises(TerritoryError, match="SIREN d'EPCI inconnu"):
        Territory.from_codes([], epcis=["999999999"])


def test_int_codes_accepted_when_unambiguous(cog):
    t = Territory.from_codes([42095, "42316"], id="t")
    assert t.communes == ["42095", "42316"]
    with pytest.raises(TerritoryError, match="guillemets"):
        Territory.from_codes([1001])


def test_from_codes_attributes(cog):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t = Territory.from_codes(["43012", "42095", "69123"], id="mix", name="Mix")
    assert t.communes == ["42095", "43012", "69123"]
    assert t.departements == ["42", "43", "69"]
    assert t.regions == ["84"]
    assert t.epcis == ["200046977", "244200770", "244301131"]
    f = t.communes_frame()
    assert list(f.columns) == ["code_commune", "nom", "dep", "nom_dep", "reg", "nom_reg",
                               "epci_siren", "epci_nom"]
    assert f["code_commune"].tolist() == t.communes


def test_unknown_cpts_lists_known(cog):
    with pytest.raises(TerritoryError) as e:
        Territory.load("ondaine-foez")
    msg = str(e.value)
    assert "ondaine-forez" in msg and "roannais-2024" in msg and "Vouliez-vous dire" in msg


def test_user_yaml_folder(cog, tmp_path, monkeypatch):
    (tmp_path / "ma-cpts.yaml").write_text(textwrap.dedent("""\
        id: ma-cpts
        name: Ma CPTS
        source: test
        valid_from: 2025-01-01
        members:
          communes: ["42095"]
          epcis: ["244301131"]
        """), encoding="utf-8")
    (tmp_path / "cassee.yaml").write_text("id: cassee\nname: [\n", encoding="utf-8")
    monkeypatch.setenv("CPTS_DIAG_PERIMETERS", str(tmp_path))
    assert "ma-cpts" in known_cpts() and "ondaine-forez" in known_cpts()
    t = Territory.load("ma-cpts")
    assert t.valid_from == "2025-01-01"
    assert "42095" in t.communes and t.members == {"communes": ["42095"], "epcis": ["244301131"]}
    assert t.epcis == ["244200770", "244301131"]
    with pytest.raises(TerritoryError, match="cassee.yaml"):
        Territory.load("cassee")
    from cpts_diag.territory import perimeters_report
    rep = perimeters_report()
    assert "cassee.yaml" in rep and "ma-cpts" in rep  # a bad file does not hide the report


def test_user_folder_overrides_with_warning(cog, tmp_path, monkeypatch):
    (tmp_path / "ondaine-forez.yaml").write_text(
        'id: ondaine-forez\nname: Variante\nmembers:\n  communes: ["42095"]\n', encoding="utf-8")
    monkeypatch.setenv("CPTS_DIAG_PERIMETERS", str(tmp_path))
    with pytest.warns(UserWarning, match="ondaine-forez"):
        t = Territory.load("ondaine-forez")
    assert t.name == "Variante" and t.communes == ["42095"]
