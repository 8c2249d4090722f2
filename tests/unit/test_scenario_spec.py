"""Scenario specifications, change classes and wording (no open data needed)."""
from __future__ import annotations

import pandas as pd
import pytest

from cpts_diag.errors import APLInputError
from cpts_diag.scenario import ScenarioSpec, change_classes, describe_changes


def test_spec_from_mapping_normalises_codes_and_sums_repeats():
    spec = ScenarioSpec.from_mapping({"title": "t", "remove_gps": {"42187": 3, " 42187": 1},
                                      "add_gps": {"1053": 2}})
    assert spec.remove_gps == {"42187": 4.0}
    assert spec.add_gps == {"01053": 2.0}  # leading zero restored
    assert spec.retire_age is None and spec.year == 2023


@pytest.mark.parametrize("data, message", [
    ({"remove_gps": {42187: 3}}, "must be quoted"),
    ({"remove_gps": {"42187": -1}}, "must be > 0"),
    ({"remove_gps": {"42187": "trois"}}, "is not a number"),
    ({"add_gps": ["42187"]}, "must be a mapping"),
    ({"retire_age": 7}, "retire_age"),
    ({"remove": {"42187": 1}}, "unknown key"),
    (["42187"], "must be a mapping"),
])
def test_spec_errors_name_the_fix(data, message):
    with pytest.raises(APLInputError, match=message):
        ScenarioSpec.from_mapping(data)


def test_spec_from_yaml_resolves_paths_beside_the_file(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text('title: Essai\nremove_gps: {"42187": 2}\nsupply: offre.csv\nretire_age: 60\n',
                 encoding="utf-8")
    spec = ScenarioSpec.from_yaml(f)
    assert spec.supply == str(tmp_path / "offre.csv") and spec.retire_age == 60
    bad = tmp_path / "bad.yaml"
    bad.write_text("remove_gps: {42187: 3\n", encoding="utf-8")
    with pytest.raises(APLInputError, match="malformed YAML"):
        ScenarioSpec.from_yaml(bad)
    with pytest.raises(APLInputError, match="not found"):
        ScenarioSpec.from_yaml(tmp_path / "absent.yaml")


def test_change_classes_have_a_neutral_class_and_round_widths():
    values = pd.Series([-0.3, -0.1, 0.0, 0.001, 0.6, 1.2])
    cl = change_classes(values)
    # decreases ≥ 0,005 in absolute value: 0,3 and 0,1 → 90th percentile 0,1 + 0,9 × 0,2 = 0,28,
    # half = 0,14 → nearest round width 0,1; increases 0,6 and 1,2 → 1,14 / 2 = 0,57 → 0,5
    assert cl.bounds[:-1] == pytest.approx([-0.2, -0.1, -0.005, 0.005, 0.5, 1.0])
    assert list(cl.index(values)) == [0, 1, 3, 3, 5, 6]
    assert cl.labels[3] == "quasi nulle (moins de 0,005)"
    assert cl.labels[0] == "baisse de plus de 0,20" and cl.labels[6] == "hausse de plus de 1,00"


def test_describe_changes_in_french():
    ch = pd.DataFrame({"nom": ["Roanne", "Riorges", "Mably"], "medecins_avant": [35.0, 1.0, 5.0],
                       "medecins_apres": [31.0, 4.0, 4.0]})
    assert describe_changes(ch) == ("retrait de 4 médecins à Roanne ; ajout de 3 médecins à Riorges ; "
                                    "retrait de 1 médecin à Mably")
