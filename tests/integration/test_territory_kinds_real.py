"""EPCI, bassin de vie and département territories against the real COG 2025.

Expected commune sets and names are read from cog/communes.csv with pandas (no cpts_diag code)."""
from __future__ import annotations

import pandas as pd
import pytest

from cpts_diag.batch import resolve_ids
from cpts_diag.errors import TerritoryError
from cpts_diag.territory import Territory
from cpts_diag.territory_kinds import ids_for

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def cog(snapshot_dir):
    return pd.read_csv(snapshot_dir / "cog" / "communes.csv", dtype=str)


def test_epci_is_its_cog_communes(cog):
    t = Territory.epci("200035731")
    rows = cog[cog["epci_siren"] == "200035731"]
    assert t.communes == sorted(rows["code_commune"])
    assert t.name == rows["epci_nom"].iloc[0] == "CA Roannais Agglomération"
    assert (t.id, t.kind) == ("epci-200035731", "epci")


def test_bassin_de_vie_and_departement(cog):
    bv = Territory.bassin_de_vie("42187")
    rows = cog[cog["bv2022"] == "42187"]
    assert bv.communes == sorted(rows["code_commune"])
    assert bv.name == "Bassin de vie de " + rows["lib_bv2022"].iloc[0]
    dep = Territory.load("dep-42")
    assert dep.communes == sorted(cog.loc[cog["dep"] == "42", "code_commune"])
    assert dep.name == "Loire (42)" and dep.kind == "dep"


def test_ids_for_in_dep(cog):
    in42 = cog[cog["dep"] == "42"]
    assert ids_for("epci", in_dep="42") == [f"epci-{s}" for s in sorted(set(in42["epci_siren"]))]
    assert ids_for("bv", in_dep="42") == [f"bv-{s}" for s in sorted(set(in42["bv2022"]))]


def test_resolve_ids():
    assert resolve_ids(["dep-42", "roannais-2024"]) == ["dep-42", "roannais-2024"]
    assert resolve_ids(["dep-2a"]) == ["dep-2A"]
    with pytest.raises(TerritoryError) as e:
        resolve_ids(["epci-123"])
    assert "epci-123" in str(e.value) and "Correctif" in str(e.value)


def _identity_text(tid: str) -> str:
    from cpts_diag.report.diagnostic import Diagnostic

    d = Diagnostic(tid, display_outputs=False)
    parts = []
    for b in d.blocks("identite"):
        parts.append(str(getattr(b, "markdown", "")))
        df = getattr(b, "df", None)
        if isinstance(df, pd.DataFrame):
            parts.extend(map(str, df.columns))
    return "\n".join(parts), d.ctx


def test_epci_report_names_its_kind():
    text, ctx = _identity_text("epci-200035731")
    assert "L'EPCI compte" in text and "Il s'étend" in text
    assert "Communes dans l'EPCI" in text
    for wrong in ("la EPCI", "La EPCI", "la CPTS", "La CPTS", "Elle s'étend"):
        assert wrong not in text, wrong


def test_departement_report_compares_with_region_and_france():
    text, ctx = _identity_text("dep-42")
    levels = [c[0] for c in ctx.comparators()]
    assert "departement" not in levels and "region" in levels and "france_metro" in levels
    assert "Le département compte" in text
