"""The committed CPTS perimeters against the real snapshot.

Expected commune sets are rebuilt independently: YAML read with yaml.safe_load, COG read with the
csv module (no cpts_diag code), and the YAML files compared with the contract's
cpts/perimetres_sources.csv.
"""
from __future__ import annotations

import csv
from pathlib import Path

import pytest
import yaml

from cpts_diag.territory import Territory, known_cpts, perimeters_report

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
CPTS = ["grand-saint-etienne", "ondaine-forez", "roannais-2019", "roannais-2024", "vallee-du-gier"]


@pytest.fixture(scope="module")
def cog_rows(snapshot_dir):
    with open(snapshot_dir / "cog" / "communes.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def source_rows(snapshot_dir):
    with open(snapshot_dir / "cpts" / "perimetres_sources.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _expected(cid, cog_rows):
    spec = yaml.safe_load((REPO / "data" / "cpts" / f"{cid}.yaml").read_text(encoding="utf-8"))
    communes = set(spec["members"].get("communes") or [])
    epcis = set(spec["members"].get("epcis") or [])
    return communes | {r["code_commune"] for r in cog_rows if r["epci_siren"] in epcis}


def test_known_cpts():
    assert set(CPTS) <= set(known_cpts())


@pytest.mark.parametrize("cid", CPTS)
def test_perimeter_has_exactly_its_yaml_communes(cid, cog_rows):
    t = Territory.load(cid)
    assert t.communes == sorted(_expected(cid, cog_rows))
    assert t.id == cid and t.name and t.source and t.valid_from


@pytest.mark.parametrize("cid", CPTS)
def test_yaml_matches_the_contract_source(cid, source_rows):
    spec = yaml.safe_load((REPO / "data" / "cpts" / f"{cid}.yaml").read_text(encoding="utf-8"))
    rows = [r for r in source_rows if r["cpts_id"] == cid]
    assert sorted(spec["members"].get("communes") or []) == sorted(
        r["code"] for r in rows if r["type"] == "commune")
    assert sorted(spec["members"].get("epcis") or []) == sorted(
        r["code"] for r in rows if r["type"] == "epci")
    assert spec["source"] == rows[0]["source"]


def test_roannais_expansion_counts(cog_rows):
    # 5 EPCIs of the Loire, then 3 more of Saône-et-Loire
    n2019 = sum(r["epci_siren"] in {"200035731", "200035202", "244200630", "244200614", "244200820"}
                for r in cog_rows)
    n71 = sum(r["epci_siren"] in {"247100639", "200070548", "247103864"} for r in cog_rows)
    t19, t24 = Territory.load("roannais-2019"), Territory.load("roannais-2024")
    assert len(t19.communes) == n2019 and len(t24.communes) == n2019 + n71
    assert set(t19.communes) < set(t24.communes)
    assert t19.replaced_by == "roannais-2024" and t24.supersedes == "roannais-2019"
    assert t24.departements == ["42", "71"] and t24.regions == ["27", "84"]
    assert t24.members["epcis"][0] == "200035731" and t24.members["communes"] == []
    assert len(t24.epcis) == 8


def test_ondaine_forez_attributes(cog_rows):
    t = Territory.load("ondaine-forez")
    assert len(t.communes) == 25
    assert t.departements == ["42", "43"] and t.regions == ["84"]
    by_code = {r["code_commune"]: r for r in cog_rows}
    assert t.epcis == sorted({by_code[c]["epci_siren"] for c in t.communes})
    f = t.communes_frame()
    assert len(f) == 25 and f["nom"].notna().all()
    assert dict(zip(f["code_commune"], f["nom"]))["42095"] == "Firminy"


def test_perimeters_report(cog_rows):
    rep = perimeters_report()
    for cid in CPTS:
        assert cid in rep
    loire = {r["code_commune"] for r in cog_rows if r["dep"] == "42"}
    current = set()
    for cid in ["grand-saint-etienne", "ondaine-forez", "roannais-2024", "vallee-du-gier"]:
        current |= set(Territory.load(cid).communes)
    uncovered = len(loire - current)
    assert f"couvertes par aucune CPTS connue : {uncovered} communes" in rep
    # the current perimeters do not overlap; the two Roannais vintages are not an overlap
    assert "couvertes par plusieurs CPTS en vigueur : 0 communes" in rep
    assert "millésimes remplacés exclus : roannais-2019" in rep
    assert "320 communes du département 42" in rep
