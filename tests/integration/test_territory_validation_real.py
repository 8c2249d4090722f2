"""Perimeter validation through Territory, on the COG tables of the real snapshot."""
from __future__ import annotations

import textwrap
import warnings

import pytest

from cpts_diag.errors import TerritoryError
from cpts_diag.territory import Territory, known_cpts

pytestmark = pytest.mark.integration


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
