"""Same-basis comparators, strict sums at the comparator levels and coverage in the catalogue,
on a hand-made three-commune frame (every expectation computed by hand in the comments)."""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from cpts_diag import indicators as I
from cpts_diag.catalogue import MARK_COVERAGE_BELOW, catalogue_from_tidy, catalogue_text
from cpts_diag.fmt import NNBSP

REG = I.INDICATORS


def _reg(*ids):
    return {i: REG[i] for i in ids}


@pytest.fixture
def base():
    """A, B in the territory T; C elsewhere in the département 99. B's poverty rate is secret,
    B has no 2016 population."""
    return pd.DataFrame({
        "code_commune": ["00001", "00002", "00003"],
        "pop_2022": [1000.0, 100.0, 5000.0],
        "pop_2016": [900.0, np.nan, 4800.0],
        "taux_pauvrete_2021": [20.0, np.nan, 10.0],
        "one": [1.0, 1.0, 1.0],
        "complet_2022": [1, 1, 1],
        "area_source": ["ign", "ign", "ign"],
    })


def _memb():
    rows = [(0, "territory", "T", "Terr"), (1, "territory", "T", "Terr"),
            (0, "epci", "123456789", "E"), (1, "epci", "123456789", "E"),
            (0, "departement", "99", "Dép"), (1, "departement", "99", "Dép"), (2, "departement", "99", "Dép"),
            (0, "france_metro", "FRM", "FM"), (1, "france_metro", "FRM", "FM"), (2, "france_metro", "FRM", "FM")]
    return pd.DataFrame(rows, columns=["row", "level", "code", "name"])


@pytest.fixture
def tidy(base):
    reg = _reg("poverty_rate_2021", "population_2016")
    pub = pd.DataFrame({"level": ["departement", "france_metro"], "code": ["99", "FRM"],
                        "indicator_id": ["poverty_rate_2021"] * 2, "value": [14.9, 15.5]})
    return I.finalize(I.aggregate(base, _memb(), reg), pub, reg)


def _row(t, iid, level):
    r = t[(t["indicator_id"] == iid) & (t["level"] == level)]
    assert len(r) == 1
    return r.iloc[0]


def test_value_same_basis_kept_beside_the_published_value(tidy):
    assert "value_same_basis" in I.TIDY_COLUMNS and list(tidy.columns) == I.TIDY_COLUMNS
    d = _row(tidy, "poverty_rate_2021", "departement")
    assert d["value"] == 14.9 and d["method"] == "publié (PTOD)"
    # same basis: A and C only, weighted by pop 2022: (20×1000 + 10×5000) / 6000 = 11.666…
    assert d["value_same_basis"] == pytest.approx(70000 / 6000)
    # coverage of that computation is kept (no longer blanked): B left out, 6000 of 6100 inhabitants
    assert d["n_missing"] == 1 and d["coverage"] == pytest.approx(6000 / 6100)
    assert d["note"].startswith("valeur publiée (agrégat PTOD), toute la population ; sur les seules "
                                "communes où la donnée est publiée : 11,7" + NNBSP + "%")
    assert "1 commune(s) sur 3 sans donnée" in d["note"]
    # territory: A alone = 20 %; no same-basis value on non-published rows
    t = _row(tidy, "poverty_rate_2021", "territory")
    assert t["value"] == pytest.approx(20.0) and math.isnan(t["value_same_basis"])
    assert math.isnan(_row(tidy, "population_2016", "departement")["value_same_basis"])


def test_strict_sum_is_partial_at_comparators_and_nd_locally(tidy):
    # territory and EPCI: B has no 2016 population -> n.d., partial sum 900 in the note
    for level in ("territory", "epci"):
        r = _row(tidy, "population_2016", level)
        assert math.isnan(r["value"]) and "somme partielle" in r["note"] and "900" in r["note"]
    # département: sum over A and C = 900 + 4800, B counted as missing, 6000/6100 covered
    d = _row(tidy, "population_2016", "departement")
    assert d["value"] == pytest.approx(5700.0)
    assert d["n_missing"] == 1 and d["coverage"] == pytest.approx(6000 / 6100)
    assert d["note"] == ("somme sur les communes renseignées : 1 commune(s) sur 3 sans donnée, "
                         "98,4" + NNBSP + "% de la population 2022 couverte")


class _T:
    id, name, communes, epcis, departements, regions = "T", "Terr", ["00001", "00002"], ["123456789"], ["99"], []


def test_catalogue_carries_coverage_and_same_basis(tidy):
    cat = catalogue_from_tidy(tidy, _T)
    json.dumps(cat, allow_nan=False)
    pov = next(i for i in cat["indicators"] if i["id"] == "poverty_rate_2021")
    assert pov["values"]["departement"] == {"99": 14.9}
    assert pov["values_same_basis"] == {"departement": {"99": round(70000 / 6000, 6)}, "region": {},
                                        "france_metro": round(70000 / 6000, 6)}
    assert pov["coverage"]["territory"] == {"communes": 2, "communes_missing": 1,
                                            "population_share": round(1000 / 1100, 6)}
    assert pov["coverage"]["epci"] == {"123456789": pov["coverage"]["territory"]}
    assert pov["coverage"]["france"] is None  # metropolitan-only: not computed for France entière
    p16 = next(i for i in cat["indicators"] if i["id"] == "population_2016")
    assert "values_same_basis" not in p16
    assert p16["values"]["territory"] is None and p16["values"]["departement"] == {"99": 5700.0}
    assert p16["coverage"]["departement"]["99"]["communes_missing"] == 1


def test_catalogue_text_marks_partial_and_published_cells(tidy):
    txt = catalogue_text(catalogue_from_tidy(tidy, _T), epcis=False)
    pov_line = next(line for line in txt.splitlines() if line.startswith("Taux de pauvreté"))
    assert ("20,0" + NNBSP + "%*") in pov_line  # territory: 1 commune of 2, 90,9 % < 99 %
    assert ("14,9" + NNBSP + "%†") in pov_line  # published
    notes = txt[txt.index("valeur calculée sur une partie"):]
    assert "CPTS : couverture : 1 commune sur 2, 90,9" + NNBSP + "% de la population" in notes
    assert ("† Dép. 99 : valeur publiée (toute la population) ; sur les seules communes où la donnée "
            "est publiée : 11,7" + NNBSP + "%") in notes
    # département 2016: 6000/6100 = 98.4 % of the population, under the 99 % threshold: marked
    assert MARK_COVERAGE_BELOW == 0.99
    p16_line = next(line for line in txt.splitlines() if line.startswith("Population municipale 2016"))
    assert ("5" + NNBSP + "700*") in p16_line
    assert "2 communes sur 3, 98,4" + NNBSP + "% de la population" in notes


def test_catalogue_text_does_not_mark_nearly_complete_cells(base):
    # C's rate published, A's and B's too: département covered 100 %, no mark, no footnote
    full = base.assign(taux_pauvrete_2021=[20.0, 30.0, 10.0])
    reg = _reg("poverty_rate_2021")
    t = I.finalize(I.aggregate(full, _memb(), reg), None, reg)
    txt = catalogue_text(catalogue_from_tidy(t, _T), epcis=False)
    assert "*" not in txt and "†" not in txt and "valeur calculée sur une partie" not in txt
