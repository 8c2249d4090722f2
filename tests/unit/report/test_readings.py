"""The interpretation rules, checked by hand on small numbers."""
from __future__ import annotations

import math

import pytest

from cpts_diag.report import readings as R


@pytest.mark.parametrize("x, ref, unit, expected", [
    (104.0, 100.0, "%", "proche"),                   # +4 % < 5 %
    (105.0, 100.0, "%", "supérieur"),                # +5 %: first step reached
    (114.9, 100.0, "%", "supérieur"),
    (115.0, 100.0, "%", "nettement supérieur"),      # +15 %
    (85.0, 100.0, "%", "nettement inférieur"),       # −15 %
    (90.0, 100.0, "%", "inférieur"),
    (0.35, 0.30, "% par an", "proche"),               # absolute gap 0,05 point < 0,1
    (0.45, 0.30, "% par an", "supérieur"),            # 0,15 point
    (-0.10, 0.30, "% par an", "nettement inférieur"),  # −0,4 point
    (0.0, 0.0, "% par an", "proche"),                 # absolute: no division by 0
])
def test_qualifier_steps(x, ref, unit, expected):
    assert R.qualifier(x, ref, unit) == expected


def test_qualifier_is_empty_when_not_comparable():
    assert R.qualifier(float("nan"), 1.0, "%") == ""
    assert R.qualifier(1.0, 0.0, "%") == ""  # relative gap to 0 is undefined
    assert R.rank(1.0, None, "%") is None


def test_feminine_and_phrase():
    assert R.qualifier(120, 100, "%", feminine=True) == "nettement supérieure"
    assert R.versus(100, 101, "%", True, "de la France", "101 %") == "proche de celle de la France (101 %)"
    assert R.versus(80, 100, "%", False, "du département", "Loire : 100") == \
        "nettement inférieur à celui du département (Loire : 100)"


def test_strength_makes_units_comparable():
    # +30 % relative = 2 second steps; +0,6 point per year = 2 second steps as well
    assert math.isclose(R.strength(130, 100, "%"), 2.0)
    assert math.isclose(R.strength(0.9, 0.3, "% par an"), 2.0)


def test_small_commune_flag():
    assert R.small_commune_flag(499) == ", 499 habitants : valeur fragile"
    assert R.small_commune_flag(500) == ""
    assert R.small_commune_flag(float("nan")) == ""
