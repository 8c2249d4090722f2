"""French number formatting: expected strings written by hand (U+202F = espace fine insécable)."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from cpts_diag.fmt import ND, NNBSP, SECRET, fmt_number, fmt_percent, fmt_signed, fmt_value

S = "\u202f"


def test_separator_is_the_documented_narrow_nbsp():
    assert NNBSP == S


@pytest.mark.parametrize("x, dec, expected", [
    (84466, 0, f"84{S}466"),
    (84466.0, 0, f"84{S}466"),
    (1234.5, 1, f"1{S}234,5"),
    (1234567.891, 2, f"1{S}234{S}567,89"),
    (999, 0, "999"),
    (1000, 0, f"1{S}000"),
    (999.96, 1, f"1{S}000,0"),  # rounding carries into a new group
    (0.5, 0, "1"),  # half away from zero, not banker's rounding
    (2.5, 0, "3"),
    (2.675, 2, "2,68"),  # shortest repr rounding (binary 2.67499… would give 2,67)
    (-1234.5, 0, f"-1{S}235"),
    (-0.04, 1, "0,0"),  # no "-0,0"
    (3, 2, "3,00"),
    (12345678, 0, f"12{S}345{S}678"),
])
def test_fmt_number(x, dec, expected):
    assert fmt_number(x, dec) == expected


@pytest.mark.parametrize("missing", [None, float("nan"), np.nan, pd.NA, "abc"])
def test_missing_values_are_nd_never_zero(missing):
    assert fmt_number(missing) == ND == "n.d."
    assert fmt_percent(missing) == "n.d."
    assert fmt_number(missing, na=SECRET) == "secret statistique"
    assert fmt_percent(missing, na=SECRET) == "secret statistique"


def test_fmt_percent():
    assert fmt_percent(12.34) == f"12,3{S}%"
    assert fmt_percent(12.35) == f"12,4{S}%"
    assert fmt_percent(7, 0) == f"7{S}%"
    assert fmt_percent(0.2739, 2, signed=True) == f"+0,27{S}%"
    assert fmt_percent(-0.11, 2, signed=True) == f"-0,11{S}%"
    assert fmt_percent(1234.5) == f"1{S}234,5{S}%"


def test_signed_and_units():
    assert fmt_signed(0.42) == "+0,4"
    assert fmt_signed(0) == "0,0"
    assert fmt_number(3.25, 1, unit="hab./km²") == f"3,3{S}hab./km²"
    assert fmt_value(12.34, "%", 1) == f"12,3{S}%"
    assert fmt_value(84466, "hab.", 0) == f"84{S}466{S}hab."
    assert fmt_value(None, "%", 1) == "n.d."


def test_no_plain_space_anywhere():
    for x in (1, 12345, 1234567.25, -98765.4321):
        for d in (0, 1, 3):
            s = fmt_number(x, d) + fmt_percent(x, d)
            assert " " not in s and "\u00a0" not in s


def test_inf():
    assert fmt_number(math.inf) == "∞"


def test_fold_for_matching_and_file_names():
    from cpts_diag.fmt import fold

    assert fold("APL aux sages-femmes") == "apl aux sages femmes"
    assert fold("  Population standardisée 2021 ") == "population standardisee 2021"
    assert fold("Saint-Étienne Métropole", "_") == "saint_etienne_metropole"
    assert fold(None) == ""
