"""Calibration and agreement measures of :mod:`cpts_diag.apl_validation` on hand-made series.

Every expected value is computed by hand in the comments. The calibration of the shipped
``activity_per_gp`` on the real data is locked in tests/integration/test_apl_real.py.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from cpts_diag.apl_engine import e2sfca, weight_matrix
from cpts_diag.apl_validation import calibrate_activity_per_gp, compare


def test_calibrated_activity_by_hand():
    published = pd.Series({"A": 2.0, "B": 4.0, "C": 3.0, "D": np.nan, "E": 9.0})
    demand = pd.Series({"A": 1000.0, "B": 500.0, "C": 2000.0, "D": 100.0, "E": 50.0})
    gps = pd.Series({"A": 1.0, "C": 2.0, "E": 5.0})  # B and D have no GP
    # over A, B, C, D: Σ demand × APL = 2×1000 + 4×500 + 3×2000 (D's APL is missing: left out)
    #                                 = 10 000 ; Σ GPs = 1 + 0 + 2 + 0 = 3 → 10 000 / 3
    # E (outside the calibration communes) counts for nothing
    act = calibrate_activity_per_gp(published, demand, gps, ["A", "B", "C", "D"])
    assert act == pytest.approx(10000 / 3, rel=1e-15)
    # A alone: 2 × 1000 / 1 = 2000
    assert calibrate_activity_per_gp(published, demand, gps, ["A"]) == pytest.approx(2000.0)


@pytest.mark.parametrize("codes", [["B"], ["D"], ["Z"]])
def test_calibration_refuses_communes_without_gp_or_apl(codes):
    published = pd.Series({"A": 2.0, "B": 4.0, "D": np.nan})
    demand = pd.Series({"A": 1000.0, "B": 500.0, "D": 100.0})
    gps = pd.Series({"A": 1.0, "D": 2.0})
    # B: an APL but no GP; D: GPs but no published APL; Z: unknown everywhere
    with pytest.raises(ValueError, match="Calibration impossible : aucune APL publiée ou aucun médecin"):
        calibrate_activity_per_gp(published, demand, gps, codes)


def test_calibration_recovers_the_activity_of_a_closed_e2sfca_system():
    """The calibration inverts the engine: APL computed with 4 200 consultations per GP on a
    closed set of communes (every pair inside it) gives back 4 200."""
    # three communes; GPs 3, 0, 2; pairs: self 0 min, 1↔2 at 12 min, 2↔3 at 18 min
    o = np.array([0, 1, 2, 0, 1, 1, 2])
    d = np.array([0, 1, 2, 1, 0, 2, 1])
    w = np.array([1.0, 1.0, 1.0, 2 / 3, 2 / 3, 1 / 3, 1 / 3])
    W = weight_matrix(o, d, w, 3, 3)
    demand = np.array([1500.0, 800.0, 2300.0])
    gps = np.array([3.0, 0.0, 2.0])
    apl = e2sfca(W, demand, gps * 4200.0).apl
    codes = ["c1", "c2", "c3"]
    act = calibrate_activity_per_gp(pd.Series(apl, codes), pd.Series(demand, codes),
                                    pd.Series(gps, codes), codes)
    assert act == pytest.approx(4200.0, rel=1e-12)


def test_compare_by_hand():
    rec = pd.Series({"a": 1.0, "b": 2.0, "c": 3.0, "d": np.nan})
    pub = pd.Series({"a": 2.0, "b": 2.0, "c": 5.0, "d": 1.0, "e": 4.0})
    s = compare(rec, pub)
    # common, non-missing: a, b, c; differences -1, 0, -2
    assert s["n"] == 3
    assert s["mae"] == pytest.approx(1.0) and s["bias"] == pytest.approx(-1.0)
    # deviations (-1, 0, 1) and (-1, -1, 2): r = 3 / √(2 × 6) = 0,8660…
    assert s["pearson_r"] == pytest.approx(3 / math.sqrt(12), rel=1e-12)
    # classes: recomputed 0, 0, 1 (3 is in [2,5 ; 4)); published 0, 0, 2 → 2 of 3 agree
    assert s["class_agreement"] == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match=r"moins de deux communes en commun avec une valeur \(1\)"):
        compare(rec[["a"]], pub)
