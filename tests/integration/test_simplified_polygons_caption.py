"""The map caption says where the commune polygons are simplified (real snapshot).

The Métropole du Grand Paris (EPCI 200054781: communes of 75, 91, 92, 93, 94, 95, read from
cog/communes.csv) lies outside the 8 départements of the detailed layer (geo/communes_8dep.geojson):
its maps are drawn from the simplified national layer and their caption says so. The CPTS
Ondaine-Forez (communes of 42 and 43) is drawn from the detailed layer only: caption unchanged."""
from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from cpts_diag.report import blocks as B

DETAILED_DEPS = {"03", "07", "38", "42", "43", "63", "69", "71"}  # README § 3.4, by hand


def _identity_map(tid: str):
    from cpts_diag.report.diagnostic import Diagnostic

    d = Diagnostic(tid, display_outputs=False)
    figures = [b for b in d.blocks("identite") if isinstance(b, B.Figure)]
    try:
        assert len(figures) == 1, [type(b).__name__ for b in d.blocks("identite")]
        return d, figures[0]
    finally:
        plt.close("all")


def _geojson_codes(snapshot_dir, name: str) -> set[str]:
    import json

    path = snapshot_dir / "geo" / name
    with open(path, encoding="utf-8") as f:
        return {str(ft["properties"]["code_commune"]) for ft in json.load(f)["features"]}


@pytest.fixture(scope="module")
def paris():
    return _identity_map("epci-200054781")


def test_grand_paris_communes_lie_outside_the_detailed_layer(paris, snapshot_dir):
    d, _ = paris
    cog = pd.read_csv(snapshot_dir / "cog" / "communes.csv", dtype=str)
    expected = set(cog.loc[cog["epci_siren"] == "200054781", "code_commune"])
    assert set(d.territory.communes) == expected
    assert not expected & _geojson_codes(snapshot_dir, "communes_8dep.geojson")
    assert {c[:2] for c in expected}.isdisjoint(DETAILED_DEPS)


def test_grand_paris_map_caption_says_simplified(paris):
    _, fig = paris
    source = fig.record["source"]
    assert source.startswith("Insee, COG 2025 ; fond communal IGN, Admin Express ; ")
    assert "contours simplifiés" in source
    assert "hors des départements 03, 07, 38, 42, 43, 63, 69 et 71" in source


def test_ondaine_forez_map_caption_unchanged(snapshot_dir):
    d, fig = _identity_map("ondaine-forez")
    assert {c[:2] for c in d.territory.communes} <= DETAILED_DEPS
    assert set(d.territory.communes) <= _geojson_codes(snapshot_dir, "communes_8dep.geojson")
    assert fig.record["source"] == "Insee, COG 2025 ; fond communal IGN, Admin Express"
    assert "simplifiés" not in fig.record["source"]
