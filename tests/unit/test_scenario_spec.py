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
    ({"remove_gps": {42187: 3}}, r"remove_gps : code commune 42187 invalide.*entre guillemets"),
    ({"remove_gps": {"42187": -1}}, r"remove_gps, commune 42187 : -1 médecin\(s\) ; le nombre de "
                                    "médecins doit être strictement positif"),
    ({"remove_gps": {"42187": "trois"}}, r"remove_gps, commune 42187 : « trois » n'est pas un nombre"),
    ({"remove_gps": {"42187": True}}, r"remove_gps, commune 42187 : « True » n'est pas un nombre"),
    ({"add_gps": ["42187"]}, r"add_gps doit associer un code commune à un nombre de médecins"),
    ({"add_gps": {"42184": float("nan")}}, r"add_gps, commune 42184 : « nan » n'est pas un nombre fini"),
    ({"remove_gps": {"42187": float("inf")}}, r"remove_gps, commune 42187 : « inf » n'est pas un "
                                              "nombre fini"),
    ({"retire_age": 7}, r"retire_age = 7 n'est pas un âge de départ"),
    ({"retire_age": -4}, r"retire_age = -4 n'est pas un âge de départ.*entre 20 et 100"),
    ({"retire_age": 121}, r"retire_age = 121 n'est pas un âge de départ"),
    ({"retire_age": float("nan")}, r"retire_age = « nan » n'est pas un âge"),
    ({"retire_age": True}, r"retire_age = « True » n'est pas un âge"),
    ({"retire_age": "soixante"}, r"retire_age = « soixante » n'est pas un âge"),
    ({"year": "l'an dernier"}, r"year = « l'an dernier » n'est pas un millésime"),
    ({"supply": ["a.csv"]}, r"supply doit être le chemin d'un fichier CSV"),
    ({"remove": {"42187": 1}}, r"clé\(s\) inconnue\(s\) : remove\. Correctif"),
    (["42187"], r"un scénario doit être un dictionnaire"),
])
def test_spec_errors_name_the_fix(data, message):
    with pytest.raises(APLInputError, match=message) as err:
        ScenarioSpec.from_mapping(data)
    assert "Correctif : " in str(err.value)


@pytest.mark.parametrize("key, option, value", [
    ("remove_gps", "--remove", float("nan")), ("remove_gps", "--remove", float("inf")),
    ("add_gps", "--add", float("-inf")), ("add_gps", "--add", float("nan")),
])
def test_command_line_non_finite_numbers_name_the_option_and_the_commune(key, option, value):
    """cli.py builds the spec with where="options": the message names the option as typed."""
    with pytest.raises(APLInputError, match=rf"options : {option} \({key}\), commune 42187 : "
                                            r"« [-a-z]+ » n'est pas un nombre fini") as err:
        ScenarioSpec.from_mapping({key: {"42187": value}}, where="options")
    assert f"Correctif : donnez un nombre, p. ex. {option} 42187:2" in str(err.value)


def test_command_line_retire_age_names_the_option():
    with pytest.raises(APLInputError, match=r"options : --retire-age \(retire_age\) = -4 .*"
                                            r"--retire-age 65"):
        ScenarioSpec.from_mapping({"retire_age": -4.0}, where="options")
    assert ScenarioSpec.from_mapping({"retire_age": 65.0}, where="options").retire_age == 65.0


def test_spec_from_yaml_resolves_paths_beside_the_file(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text('title: Essai\nremove_gps: {"42187": 2}\nsupply: offre.csv\nretire_age: 60\n',
                 encoding="utf-8")
    spec = ScenarioSpec.from_yaml(f)
    assert spec.supply == str(tmp_path / "offre.csv") and spec.retire_age == 60
    bad = tmp_path / "bad.yaml"
    bad.write_text("remove_gps: {42187: 3\n", encoding="utf-8")
    with pytest.raises(APLInputError, match=r"bad\.yaml : YAML mal formé.*entre guillemets"):
        ScenarioSpec.from_yaml(bad)
    with pytest.raises(APLInputError, match=r"Fichier de scénario introuvable : .*absent\.yaml\. "
                                            "Correctif"):
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


# --- changes applied to a tiny supply (no open data) -------------------------------------------

def _tiny():
    from types import SimpleNamespace

    from cpts_diag.apl_inputs import SupplyTable
    from cpts_diag.apl_params import load_parameters

    rows = pd.DataFrame({"code_commune": ["42187", "42184"], "medecins": [3.0, 1.0],
                         "activite": [4000.0, 4000.0], "age": [float("nan")] * 2})
    terr = SimpleNamespace(id="mini", name="CPTS Mini", communes=["42187", "42184"])
    universe = ["42184", "42187", "75056"]
    return SupplyTable(rows, "offre de test"), terr, universe, load_parameters(2023)


@pytest.mark.parametrize("key", ["remove_gps", "add_gps"])
def test_changes_outside_the_perimeter_are_refused(key):
    from cpts_diag.scenario import _apply_changes

    base, terr, universe, params = _tiny()
    spec = ScenarioSpec.from_mapping({key: {"75056": 1}})
    with pytest.raises(APLInputError, match=rf"{key} / --(remove|add) : commune\(s\) 75056 hors du "
                                            r"périmètre de CPTS Mini \(mini, 2 communes\)"):
        _apply_changes(base, spec, params, universe, terr)
    # inside the perimeter the same change is applied
    ok = ScenarioSpec.from_mapping({key: {"42187": 1}})
    after = _apply_changes(base, ok, params, universe, terr).gps_by_commune()
    assert after["42187"] == (2.0 if key == "remove_gps" else 4.0)


def test_removing_more_gps_than_the_commune_has_is_refused():
    from cpts_diag.scenario import _apply_changes

    base, terr, universe, params = _tiny()
    spec = ScenarioSpec.from_mapping({"remove_gps": {"42187": 100000}})
    with pytest.raises(APLInputError, match=r"la commune 42187 compte 3 médecin\(s\) dans l'offre "
                                            "\\(offre de test\\) : impossible d'en retirer 100\u202f000\\. "
                                            r"Correctif : retirez au plus 3"):
        _apply_changes(base, spec, params, universe, terr)
    spec = ScenarioSpec.from_mapping({"remove_gps": {"42187": 3}})  # all of them: allowed
    assert _apply_changes(base, spec, params, universe, terr).gps_by_commune()["42187"] == 0


def test_retire_age_without_a_supply_table_names_the_option():
    from cpts_diag.scenario import scenario

    _, terr, _, _ = _tiny()
    with pytest.raises(APLInputError, match=r"retire_age / --retire-age = 65 : un départ par âge "
                                            r"demande une table d'offre avec une colonne « age » "
                                            r"\(option --supply .*champ supply.*les données ouvertes "
                                            r"\(BPE\) ne donnent pas l'âge"):
        scenario(terr, retire_age=65)


def test_retire_age_on_a_supply_without_ages_names_the_column():
    from cpts_diag.scenario import _apply_changes

    base, terr, universe, params = _tiny()
    spec = ScenarioSpec.from_mapping({"retire_age": 60})
    with pytest.raises(APLInputError, match=r"Offre offre de test : pas de colonne « age ».*"
                                            r"--supply, champ supply"):
        _apply_changes(base, spec, params, universe, terr)


def test_empty_scenario_is_refused_in_french():
    from cpts_diag.scenario import scenario

    _, terr, _, _ = _tiny()
    with pytest.raises(APLInputError, match=r"Scénario vide.*Correctif : donnez remove_gps \(--remove\)"):
        scenario(terr)


def test_save_refuses_an_output_folder_that_is_a_file(tmp_path):
    from cpts_diag.scenario import _output_folder

    f = tmp_path / "f.txt"
    f.write_text("à moi", encoding="utf-8")
    with pytest.raises(APLInputError, match=r"\(--out\) .*f\.txt : est un fichier, pas un dossier"):
        _output_folder(f)
    with pytest.raises(APLInputError, match=r"\(--out\) .*sous : ne peut pas être créé"):
        _output_folder(f / "sous")
    assert f.read_text(encoding="utf-8") == "à moi"
    assert _output_folder(tmp_path / "neuf").is_dir()


@pytest.mark.parametrize("title", [["a", "b"], {"a": 1}, True, "x" * 201])
def test_title_must_be_a_short_text(title):
    from cpts_diag.errors import APLInputError
    from cpts_diag.scenario_spec import ScenarioSpec

    with pytest.raises(APLInputError, match="title"):
        ScenarioSpec.from_mapping({"title": title, "remove_gps": {"42187": 1}}, where="s.yaml")
    assert ScenarioSpec.from_mapping({"title": 2025}, where="s.yaml").title == "2025"
