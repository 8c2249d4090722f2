"""Small-number protection: one test per rule, on tiny hand-made tables, expected values by hand
(U+202F = espace fine insécable after « < »)."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from cpts_diag.disclosure import (KINDS, PATIENT_THRESHOLD, PROFESSIONAL_THRESHOLD, is_small,
                                  mask_counts, masked_text, protect_table, secondary_suppression,
                                  suppress_dependent, thresholds)
from cpts_diag.errors import ArgumentError, CptsDiagError

S = "\u202f"
LT10, LT5 = f"<{S}10", f"<{S}5"
NOTE_PAT = f"Secret des petits effectifs : les effectifs de patients compris entre 1 et 9 sont affichés « {LT10} »."
NOTE_PRO = ("Secret des petits effectifs : les effectifs de professionnels compris entre 1 et 4 sont "
            f"affichés « {LT5} ».")
NOTE_SEC = ("Secret secondaire : d'autres effectifs sont notés « masqué » pour qu'un petit effectif ne "
            "puisse pas être retrouvé par différence avec un total.")
NOTE_RATE = "Les taux calculés à partir d'un effectif masqué sont notés « masqué »."


def nan(x) -> bool:
    return isinstance(x, float) and math.isnan(x)


def test_constants_and_display_text():
    assert (PATIENT_THRESHOLD, PROFESSIONAL_THRESHOLD) == (10, 5)
    assert KINDS == {"patients": 10, "professionnels": 5}
    assert masked_text(10) == LT10 and masked_text(5) == LT5
    assert masked_text(1000) == f"<{S}1{S}000"


@pytest.mark.parametrize("count, small", [(0, False), (1, True), (3, True), (9, True), (10, False),
                                          (11, False), (0.5, True), (None, False), (np.nan, False)])
def test_is_small_is_one_to_threshold_minus_one(count, small):
    assert is_small(count, 10) is small


def test_negative_count_is_refused():
    with pytest.raises(ArgumentError, match="Correctif"):
        is_small(-1, 10)
    with pytest.raises(ArgumentError, match="« n_pat », ligne d'index 1"):
        mask_counts(pd.Series([3, -2], name="n_pat"), 10)


def test_three_patients_masked_and_their_rate_suppressed():
    df = pd.DataFrame({"commune": ["A", "B"], "n_pat": [3, 250], "taux": [1.5, 12.5]})
    p = protect_table(df, {"n_pat": "patients"}, {"taux": "n_pat"})
    assert p.display["n_pat"].tolist() == [LT10, 250]
    assert p.display["taux"].tolist() == ["masqué", 12.5]
    assert nan(p.values.loc[0, "n_pat"]) and nan(p.values.loc[0, "taux"])
    assert p.values.loc[1, "n_pat"] == 250 and p.values.loc[1, "taux"] == 12.5
    assert p.mask.to_dict("list") == {"commune": [False, False], "n_pat": [True, False],
                                      "taux": [True, False]}
    assert p.display["commune"].tolist() == ["A", "B"]
    assert p.notes == [NOTE_PAT, NOTE_RATE]


def test_professionals_seven_shown_four_masked():
    df = pd.DataFrame({"n_pro": [7, 4]})
    p = protect_table(df, {"n_pro": "professionnels"})
    assert p.display["n_pro"].tolist() == [7, LT5]
    assert p.mask["n_pro"].tolist() == [False, True]
    assert p.notes == [NOTE_PRO]


def test_threshold_override():
    assert thresholds() == {"patients": 10, "professionnels": 5}
    limits = thresholds(patients=5, professionals=3)
    assert limits == {"patients": 5, "professionnels": 3}
    df = pd.DataFrame({"n_pat": [7, 3], "n_pro": [4, 2]})
    p = protect_table(df, {"n_pat": "patients", "n_pro": "professionnels"}, limits=limits)
    assert p.display["n_pat"].tolist() == [7, LT5]
    assert p.display["n_pro"].tolist() == [4, f"<{S}3"]
    shown, mask = mask_counts(pd.Series([7, 3]), 20)
    assert shown.tolist() == [f"<{S}20", f"<{S}20"] and mask.tolist() == [True, True]


@pytest.mark.parametrize("bad", [0, -1, "10", 2.5, True])
def test_bad_threshold_names_the_parameter(bad):
    with pytest.raises(CptsDiagError, match="« patients ».*Correctif"):
        thresholds(patients=bad)
    with pytest.raises(ArgumentError, match="« professionals »"):
        thresholds(professionals=bad)


def test_zero_is_shown_and_missing_stays_missing():
    df = pd.DataFrame({"n_pat": [0, np.nan, "3"], "taux": [0.0, np.nan, 2.0]})
    p = protect_table(df, {"n_pat": "patients"}, {"taux": "n_pat"})
    assert p.display.loc[0, "n_pat"] == 0 and p.display.loc[0, "taux"] == 0
    assert nan(p.display.loc[1, "n_pat"]) and nan(p.display.loc[1, "taux"])  # « n.d. », not 0
    assert p.display.loc[2, "n_pat"] == LT10
    assert p.mask["n_pat"].tolist() == [False, False, True]
    assert p.values.loc[0, "n_pat"] == 0 and nan(p.values.loc[1, "n_pat"])


def test_missing_rate_of_a_masked_count_stays_missing():
    p = protect_table(pd.DataFrame({"n": [3], "t": [np.nan]}), {"n": "patients"}, {"t": "n"})
    assert nan(p.display.loc[0, "t"]) and not p.mask.loc[0, "t"]


def test_secondary_suppression_total_30_parts_12_15_3():
    # by hand: 30 - 12 - 15 = 3 would reveal the masked part; the smallest shown part (12) is
    # masked too: the reader then only knows that the two masked parts add up to 15.
    mask, mask_total = secondary_suppression(pd.Series([12, 15, 3]), pd.Series([False, False, True]), 30)
    assert mask.tolist() == [True, False, True] and mask_total is False
    df = pd.DataFrame({"n": [12, 15, 3, 30], "t": [1.2, 1.5, 0.3, 3.0]}, index=["a", "b", "c", "total"])
    p = protect_table(df, {"n": "patients"}, {"t": "n"}, total_row="total")
    assert p.display["n"].tolist() == ["masqué", 15, LT10, 30]
    assert p.display["t"].tolist() == ["masqué", 1.5, "masqué", 3.0]
    assert nan(p.values.loc["a", "n"]) and nan(p.values.loc["c", "n"])
    assert p.notes == [NOTE_PAT, NOTE_SEC, NOTE_RATE]


def test_two_parts_already_masked_nothing_more():
    mask, mask_total = secondary_suppression(pd.Series([2, 3, 25]), pd.Series([True, True, False]), 30)
    assert mask.tolist() == [True, True, False] and mask_total is False
    p = protect_table(pd.DataFrame({"n": [2, 3, 25, 30]}), {"n": "patients"}, total_row=3)
    assert p.display["n"].tolist() == [LT10, LT10, 25, 30]
    assert p.notes == [NOTE_PAT]


def test_secondary_skips_zero_and_takes_first_on_ties():
    mask, _ = secondary_suppression(pd.Series([0, 12, 3, 12]), pd.Series([False, False, True, False]), 27)
    assert mask.tolist() == [False, True, True, False]


def test_total_masked_when_no_part_can_be():
    # the other part is missing: no shown part > 0 to mask, so the total (20) is masked
    parts, masked = pd.Series([4, np.nan]), pd.Series([True, False])
    assert secondary_suppression(parts, masked, 20)[1] is True
    assert secondary_suppression(parts, masked, None)[1] is False
    p = protect_table(pd.DataFrame({"n": [4, np.nan, 20]}), {"n": "patients"}, total_row=2)
    assert p.display["n"].tolist()[0::2] == [LT10, "masqué"] and nan(p.display.loc[1, "n"])


def test_groups_sum_known_elsewhere():
    df = pd.DataFrame({"cpts": ["A", "A", "A", "B", "B"], "n": [12, 3, 15, 20, 30]})
    p = protect_table(df, {"n": "patients"}, group="cpts")
    assert p.display["n"].tolist() == ["masqué", LT10, 15, 20, 30]
    assert protect_table(df, {"n": "patients"}).display["n"].tolist() == [12, LT10, 15, 20, 30]


def test_input_frame_unchanged():
    df = pd.DataFrame({"n": [12, 15, 3, 30], "t": [1.2, 1.5, 0.3, 3.0]})
    before = df.copy()
    protect_table(df, {"n": "patients"}, {"t": "n"}, total_row=3)
    pd.testing.assert_frame_equal(df, before)


def test_suppress_dependent():
    out = suppress_dependent(pd.Series([1.5, np.nan, 2.0]), pd.Series([True, True, False]))
    assert nan(out[0]) and nan(out[1]) and out[2] == 2.0
    with pytest.raises(ArgumentError, match="Correctif"):
        suppress_dependent(pd.Series([1.5], index=[7]), pd.Series([True], index=[0]))


def test_no_note_when_nothing_masked():
    assert protect_table(pd.DataFrame({"n": [0, 10, 40]}), {"n": "patients"}).notes == []


@pytest.mark.parametrize("kwargs, where", [
    ({"count_columns": {"x": "patients"}}, "« x » absente"),
    ({"count_columns": {"n": "médecins"}}, "« médecins » inconnu"),
    ({"count_columns": {"n": "patients"}, "rate_columns": {"t": "x"}}, "Taux « t »"),
    ({"count_columns": {"n": "patients"}, "total_row": 9}, "Ligne de total 9"),
    ({"count_columns": {"n": "patients"}, "limits": {"medecins": 3}}, "« limits »"),
    ({"count_columns": {"t": "patients"}}, "« t », ligne d'index 1 : 'abc' n'est pas un nombre"),
])
def test_bad_arguments_are_french_errors(kwargs, where):
    df = pd.DataFrame({"n": [1, 2], "t": ["1", "abc"]})
    with pytest.raises(ArgumentError, match=where) as info:
        protect_table(df, **kwargs)
    assert "Correctif" in str(info.value)
