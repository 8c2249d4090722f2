"""A report from a territory defined in Python, written with the same files as the batch."""
from __future__ import annotations

import json
import os

import pytest

pytestmark = pytest.mark.integration


@pytest.mark.slow
def test_write_report_of_a_python_territory(snapshot_dir, tmp_path):
    from cpts_diag.report import write_report
    from cpts_diag.territory import Territory

    before = os.environ.get("CPTS_DIAG_PERIMETERS")
    t = Territory.from_codes(["42187", "42184"], id="roanne-riorges", name="Roanne et Riorges")
    html = write_report(t, out=tmp_path, progress=False)
    assert html == tmp_path / "roanne-riorges" / "rapport.html" and html.is_file()
    d = html.parent
    assert (d / "tableaux.xlsx").is_file() and (d / "figures" / "carte_apl_mg.json").is_file()
    cat = json.loads((d / "indicators.json").read_text(encoding="utf-8"))
    assert cat["territory"]["communes"] == ["42184", "42187"]
    # Roanne 35 365 + Riorges 11 034 inhabitants (RP 2022, read in the snapshot)
    pop = next(i for i in cat["indicators"] if i["id"] == "population_2022")
    assert pop["values"]["territory"] == 35365 + 11034
    assert "Roanne et Riorges" in html.read_text(encoding="utf-8")
    assert os.environ.get("CPTS_DIAG_PERIMETERS") == before  # restored


def test_write_report_refuses_a_known_id(snapshot_dir, tmp_path):
    from cpts_diag.errors import CptsDiagError
    from cpts_diag.report import write_report
    from cpts_diag.territory import Territory

    t = Territory.from_codes(["42187"], id="ondaine-forez", name="Imposteur")
    with pytest.raises(CptsDiagError, match="déjà celui d'une CPTS connue"):
        write_report(t, out=tmp_path)
    assert list(tmp_path.iterdir()) == []
