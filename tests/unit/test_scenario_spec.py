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
    # left-closed classes (one convention for every map): -0,1 opens « de -0,1 à moins de -0,005 »
    assert list(cl.index(values)) == [0, 2, 3, 3, 5, 6]
    assert cl.labels[3] == "de -0,005 à moins de +0,005 — quasi nulle"
    assert cl.labels[0] == "moins de -0,2" and cl.labels[6] == "+1 ou plus"


def test_describe_changes_in_french():
    ch = pd.DataFrame({"nom": ["Roanne", "Riorges", "Mably"], "medecins_avant": [35.0, 1.0, 5.0],
                       "medecins_apres": [31.0, 4.0, 4.0]})
    assert describe_changes(ch) == ("retrait de 4 médecins à Roanne ; ajout de 3 médecins à Riorges ; "
                                    "retrait de 1 médecin à Mably")


def _result(title: str, name: str):
    from types import SimpleNamespace

    from cpts_diag.scenario import ScenarioResult

    summary = {"gps_before": 10.0, "gps_after": 8.0, "apl_published": 3.0, "apl_published_after": 2.9,
               "apl_change": -0.1, "n_crossing_down": 0, "n_crossing_up": 0, "pop_crossing_down": 0.0,
               "pop_crossing_up": 0.0, "pop_under_before": 0.0, "pop_under_after": 0.0, "n_worse": 1,
               "n_better": 0, "n_outside": 0, "pop_outside": 0.0}
    sources = {"supply_short": "table d'offre fournie", "decay": "d", "supply": "s", "demand": "p",
               "travel": "t", "population": "pop"}
    changes = pd.DataFrame({"code_commune": ["42187"], "nom": ["Roanne"], "medecins_avant": [10.0],
                            "medecins_apres": [8.0]})
    return ScenarioResult(SimpleNamespace(name=name), ScenarioSpec(title=title),
                          pd.DataFrame({"code_commune": ["42187"]}), pd.DataFrame(), changes,
                          summary, sources)


def test_summary_text_shows_the_title_and_territory_name_literally():
    res = _result("<img src=x onerror=alert(1)> *x*", "CPTS _Nord_ [test]")
    first = res.summary_text().split("\n")[0]
    assert first == (r"**Scénario : &lt;img src=x onerror=alert\(1\)&gt; \*x\*** — "
                     r"CPTS \_Nord\_ \[test\].")
    assert "<img" not in res.summary_text()
    # without a title the description of the changes is used (commune names from the COG)
    assert _result("", "Roannais").summary_text().split("\n")[0] == (
        "**Scénario : retrait de 2 médecins à Roanne** — Roannais.")
