"""User travel-time tables against the real COG (codes checked and recoded with the snapshot's tables)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cpts_diag.apl_inputs import read_travel_times
from cpts_diag.errors import APLInputError
from tests.helpers import od_pairs as _pairs, write_text as _write

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "apl"
OD = FIX / "od_small.csv"
OD_SEMICOLON = FIX / "od_semicolon_small.csv"
SUPPLY = FIX / "supply_small.csv"
UNIVERSE = np.array(["01053", "42095", "42184", "42187", "42218"])
CODES4 = np.array(["42095", "42184", "42187", "42218"])

pytestmark = pytest.mark.integration


@pytest.mark.integration
def test_read_travel_times_unknown_code(tmp_path, snapshot_dir):
    p = _write(tmp_path, "origin,destination,minutes\n42187,42184,6\n42187,99999,6\n")
    with pytest.raises(APLInputError, match=r"colonne « destination » : 1 code\(s\) commune "
                                            r"inconnu\(s\) du COG 2025.*99999 \(ligne 3\)"):
        read_travel_times(p, UNIVERSE)


@pytest.mark.integration
def test_read_travel_times_recodes_former_codes(tmp_path, snapshot_dir):
    # 42057 merged into Firminy (42095) in 1959; 42190 associated with Saint-Étienne (42218) in 1973.
    # After recoding, 42218→42057 (13 min) and 42218→42095 (15 min) are the same pair: 13 kept.
    p = _write(tmp_path, "origin,destination,minutes\n42218,42057,13\n42218,42095,15\n"
                         "42190,42218,4\n")
    with pytest.warns(UserWarning) as rec:
        pairs = _pairs(read_travel_times(p, UNIVERSE))
    messages = " ".join(str(w.message) for w in rec)
    assert "recodé(s) en COG 2025" in messages and "42057" in messages and "42190" in messages
    assert pairs[("42218", "42095")] == 13.0
    assert pairs[("42218", "42218")] == 4.0  # 42190→42218 became the self pair of 42218
