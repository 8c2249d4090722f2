"""Unit tests of the fixed map classes (cpts_diag/map_classes.yaml) and their small API."""
from __future__ import annotations

import copy
import json
import math
from importlib import resources

import numpy as np
import pandas as pd
import pytest
import yaml

from cpts_diag import maps
from cpts_diag.apl_params import APL_GP_CLASS_COLORS, APL_GP_CLASS_LABELS, APL_GP_THRESHOLDS
from cpts_diag.apl_validation import apl_class
from cpts_diag.maps.fixed import parse_map_classes

MAPPED = ["ageing_index_2022", "density_2022", "pop_growth_2016_2022", "apl_mg_2022", "apl_mg_2023",
          "apl_mg_moins65_2022", "apl_mg_moins65_2023", "apl_inf_2023", "apl_kine_2023", "apl_sf_2023",
          "apl_dent_2023", "apl_inf_2022", "apl_kine_2022", "apl_sf_2022", "apl_dent_2022"]


def _raw() -> dict:
    text = resources.files("cpts_diag").joinpath("map_classes.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def test_every_mapped_indicator_has_valid_fixed_classes():
    from cpts_diag import indicators as ind

    entries = maps.load_map_classes()
    assert sorted(entries) == sorted(MAPPED)
    for iid, spec in _raw()["indicators"].items():
        assert iid in ind.INDICATORS, iid
        b = spec["breaks"]
        assert all(isinstance(x, (int, float)) for x in b)
        assert all(y > x for x, y in zip(b, b[1:])), iid
        cl = maps.classes_for(iid)
        assert len(cl.colors) == len(cl.labels) == len(b) + 1, iid
        assert cl.breaks == [float(x) for x in b] and cl.fixed and cl.indicator_id == iid
        assert spec["direction"] in maps.DIRECTIONS and spec["method"].strip()


def test_gp_apl_entries_are_the_drees_classes():
    for iid in ("apl_mg_2022", "apl_mg_2023", "apl_mg_moins65_2022", "apl_mg_moins65_2023"):
        cl = maps.classes_for(iid)
        assert tuple(cl.breaks) == APL_GP_THRESHOLDS == (2.5, 4.0)
        assert cl.labels == ["moins de 2,5", "de 2,5 à moins de 4", "4 ou plus"] == list(APL_GP_CLASS_LABELS)
        assert cl.colors == list(APL_GP_CLASS_COLORS) and cl.direction == "higher_is_better"


def test_relative_breaks_follow_their_centre():
    """Diverging supply scales: breaks = centre × (1 ± steps), rounded to ``decimals``."""
    checked = []
    for iid, spec in _raw()["indicators"].items():
        if "relative_steps" not in spec:
            continue
        checked.append(iid)
        c, s = spec["centre"], spec["relative_steps"]
        factors = sorted([1 - x for x in s] + [1 + x for x in s])
        half_unit = 0.5 * 10 ** -spec["decimals"] + 1e-9
        assert len(spec["breaks"]) == len(factors), iid
        for b, f in zip(spec["breaks"], factors):
            assert abs(b - c * f) <= half_unit, (iid, b, c * f)
    # the four other professions (nurses, physiotherapists, midwives, dentists) × 2022 and 2023
    assert sorted(checked) == sorted(f"apl_{p}_{y}" for p in ("inf", "kine", "sf", "dent")
                                     for y in (2022, 2023))


def _warm(hex_color: str) -> bool:
    r, g, b = (int(hex_color[i:i + 2], 16) for i in (1, 3, 5))
    return r > b


def test_supply_colours_warm_below_france_cool_above():
    checked = 0
    for iid in MAPPED:
        cl = maps.classes_for(iid)
        if cl.direction != "higher_is_better" or cl.centre is None:
            continue
        checked += 1
        below = [c for b, c in zip(cl.bounds, cl.colors) if b <= cl.centre]
        above = [c for lo, c in zip([-math.inf] + cl.breaks, cl.colors) if lo > cl.centre]
        assert below and all(_warm(c) for c in below), iid
        assert above and not any(_warm(c) for c in above), iid
        assert "#4575b4" not in below and "#08306b" not in below
    assert checked == 8  # the diverging supply scales of 4 professions × 2 vintages


def test_counts_on_a_hand_made_series():
    cl = maps.Classes([2.5, 4.0, math.inf], ["a", "b", "c"], ["#000000", "#111111", "#222222"])
    values = pd.Series([0.0, 2.5, 2.4999, 4.0, 3.9, np.nan, 12.0, None])
    # by hand: < 2,5 → 0 ; 2,4999 ; [2,5 ; 4) → 2,5 ; 3,9 ; ≥ 4 → 4,0 ; 12 ; missing: NaN, None
    assert cl.counts(values) == [2, 2, 2, 2]
    assert cl.counts([]) == [0, 0, 0, 0]
    assert cl.index([2.5, 4.0]).tolist() == [1, 2]


def test_apl_class_is_the_drees_left_closed_convention():
    assert apl_class([2.5, 4.0, 2.4999, 3.9999, np.nan]).tolist() == [1, 2, 0, 1, -1]


def test_figure_record_is_json_and_complete():
    cl = maps.classes_for("apl_mg_2023")
    values = pd.Series([2.5, 4.0, np.float64(1.2), np.nan])
    rec = maps.figure_record("carte_apl", "APL 2023", "apl_mg_2023", "Drees, APL 2023", 2023, cl, values)
    back = json.loads(json.dumps(rec))
    assert back == rec
    assert rec["counts"] == [1, 1, 1] and rec["n_missing"] == 1
    assert rec["breaks"] == [2.5, 4.0] and rec["labels"] == list(APL_GP_CLASS_LABELS)
    assert rec["colors"] == list(APL_GP_CLASS_COLORS) and rec["direction"] == "higher_is_better"
    for key in ("title", "indicator_id", "source", "vintage", "method", "centre"):
        assert key in rec
    rec = maps.figure_record("c", "t", "apl_inf_2023", "Drees", "2023", maps.classes_for("apl_inf_2023"),
                             [np.float32(100.0)])
    # map_classes.yaml: apl_inf_2023 centre 150,69, breaks 75, 113, 136, 166, 188, 226 → 100 in class 2
    assert type(rec["centre"]) is float and rec["centre"] == 150.69
    assert rec["counts"] == [0, 1, 0, 0, 0, 0, 0] and rec["n_missing"] == 0
    json.dumps(rec)


def test_unknown_indicator_and_invalid_entries_raise_clear_errors():
    with pytest.raises(maps.MapClassesError, match="nope_2022.*make_classes"):
        maps.classes_for("nope_2022")
    good = _raw()
    cases = [
        ("breaks", [4.0, 2.5], "strictement croissantes"),
        ("colors", ["#d7301f", "#fdae61"], "couleurs"),
        ("direction", "better", "direction"),
        ("scale", "weird", "scale"),
        ("breaks", ["2,5", 4.0], "nombre"),
    ]
    for key, value, msg in cases:
        bad = copy.deepcopy(good)
        bad["indicators"]["density_2022"][key] = value
        with pytest.raises(maps.MapClassesError, match=msg):
            parse_map_classes(bad)
    bad = copy.deepcopy(good)
    del bad["indicators"]["apl_inf_2023"]["centre"]
    with pytest.raises(maps.MapClassesError, match="centre"):
        parse_map_classes(bad)
    bad = copy.deepcopy(good)
    bad["indicators"]["apl_mg_2023"]["breaks"] = [2.0, 4.0]
    with pytest.raises(maps.MapClassesError, match="Drees"):
        parse_map_classes(bad)
    with pytest.raises(maps.MapClassesError, match="indicators"):
        parse_map_classes({"apl_mg_2023": {}})


def test_make_classes_still_works_for_ad_hoc_maps():
    cl = maps.make_classes([1, 2, 3, 4, 5, 6], scheme="quantiles", k=3, decimals=0)
    # by hand (linear percentiles of 1…6): 33,3 % → 1 + 5/3 = 2,67 → 3 ; 66,7 % → 1 + 10/3 = 4,33 → 4
    assert not cl.fixed and cl.breaks == [3.0, 4.0] and len(cl.colors) == 3
    assert cl.labels == ["moins de 3", "de 3 à moins de 4", "4 ou plus"]
    # 1, 2 | 3 | 4, 5, 6 | no missing value
    assert cl.counts([1, 2, 3, 4, 5, 6]) == [2, 1, 3, 0]
