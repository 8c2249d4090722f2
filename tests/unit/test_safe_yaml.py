"""Bounded YAML reading (cpts_diag.safe_yaml) and its use by every YAML reader of the package."""
import warnings

import pytest
import yaml

from cpts_diag.errors import APLInputError, TerritoryError
from cpts_diag.indicator_registry import REGISTRY_PATH, load_registry, load_yaml_unique
from cpts_diag.perimeter_spec import read_perimeter_yaml
from cpts_diag.safe_yaml import (REGISTRY_LIMITS, USER_LIMITS, YamlFileError, YamlLimitError,
                                 load_yaml, read_yaml)
from cpts_diag.scenario import ScenarioSpec
from cpts_diag.territory import known_cpts, perimeter_files

# "billion laughs": 9 levels of 9 aliases = 9**9 (387 420 489) strings once expanded
BOMB = ('a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n'
        + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]\n"
                  for i in range(9)))
GOOD = 'id: {id}\nname: CPTS {id}\nmembers:\n  communes: ["42187"]\n'


pytestmark = pytest.mark.adversarial  # hostile inputs (see tests/adversarial)


def test_alias_bomb_is_refused_naming_the_file(tmp_path):
    p = tmp_path / "bombe.yaml"
    p.write_text(BOMB, encoding="utf-8")
    with pytest.raises(YamlLimitError) as err:
        read_yaml(p)
    assert str(p) in str(err.value) and "alias" in str(err.value) and "Correctif" in str(err.value)
    # through the perimeter reader: a TerritoryError naming the file
    with pytest.raises(TerritoryError, match=r"bombe\.yaml.*« bombe » d'alias"):
        read_perimeter_yaml(p)


def test_benign_anchors_still_work():
    # an anchor reused twice: 2 + 2 + 2 values, far under the limit
    assert load_yaml("k: &k [1, 2]\nl: *k\nm: *k\n", "f.yaml") == {"k": [1, 2], "l": [1, 2], "m": [1, 2]}


def test_recursive_alias_and_deep_nesting_are_refused():
    with pytest.raises(YamlLimitError, match="alias récursif"):
        load_yaml("a: &a [1, *a]\n", "r.yaml")
    with pytest.raises(YamlLimitError, match="imbrication"):
        load_yaml("[" * 5000 + "]" * 5000, "n.yaml")
    with pytest.raises(YamlLimitError, match="imbrication"):
        load_yaml("[" * 150 + "]" * 150, "n.yaml")  # under Python's recursion limit, over ours


def test_oversized_file_is_refused_before_parsing(tmp_path):
    p = tmp_path / "gros.yaml"
    p.write_text("id: gros\nnotes: '" + "x" * USER_LIMITS.max_bytes + "'\n", encoding="utf-8")
    with pytest.raises(YamlLimitError, match=r"gros\.yaml.*trop volumineux"):
        read_yaml(p)
    with pytest.raises(TerritoryError, match=r"gros\.yaml.*trop volumineux"):
        read_perimeter_yaml(p)


def test_registry_has_its_own_larger_limit():
    assert REGISTRY_LIMITS.max_bytes > USER_LIMITS.max_bytes
    assert REGISTRY_PATH.stat().st_size > 20_000  # larger than any perimeter file
    text = "a: 1\n" + "# " + "x" * (USER_LIMITS.max_bytes + 10) + "\n"
    with pytest.raises(YamlLimitError):
        load_yaml(text, "t.yaml", USER_LIMITS)
    assert load_yaml(text, "t.yaml", REGISTRY_LIMITS) == {"a": 1}
    assert len(load_registry()) > 50  # the real registry is read within its limits


def test_python_tags_are_refused_everywhere(tmp_path):
    evil = "x: !!python/object/apply:os.system ['true']\n"
    with pytest.raises(YamlFileError, match="étiquette YAML non autorisée"):
        load_yaml(evil, "f.yaml")
    p = tmp_path / "tag.yaml"
    p.write_text("id: tag\nname: !!python/object/apply:os.getcwd []\nmembers: {communes: ['42187']}\n",
                 encoding="utf-8")
    with pytest.raises(TerritoryError, match=r"tag\.yaml.*étiquette YAML non autorisée"):
        read_perimeter_yaml(p)
    s = tmp_path / "scenario.yaml"
    s.write_text(evil, encoding="utf-8")
    with pytest.raises(APLInputError, match="étiquette YAML non autorisée"):
        ScenarioSpec.from_yaml(s)
    # the registry's loader keeps raising the raw ConstructorError
    with pytest.raises(yaml.constructor.ConstructorError):
        load_yaml_unique(evil)


def test_duplicate_keys_refused_even_on_one_line():
    with pytest.raises(YamlFileError, match="« a » en double"):
        load_yaml("{a: 1, a: 2}", "d.yaml")
    with pytest.raises(YamlFileError, match="« members » en double"):
        load_yaml("members: {communes: ['42187']}\nmembers: {communes: ['42218']}\n", "d.yaml")


def test_scenario_spec_alias_bomb_and_syntax(tmp_path):
    s = tmp_path / "s.yaml"
    s.write_text(BOMB, encoding="utf-8")
    with pytest.raises(APLInputError, match=r"s\.yaml.*alias"):
        ScenarioSpec.from_yaml(s)
    s.write_text("remove_gps: {42187: 3\n", encoding="utf-8")
    with pytest.raises(APLInputError, match=r"s\.yaml : YAML mal formé \(ligne 2, colonne 1\)"):
        ScenarioSpec.from_yaml(s)


def test_not_utf8_and_unreadable(tmp_path):
    p = tmp_path / "latin1.yaml"
    p.write_bytes("name: Étienne\n".encode("latin-1"))
    with pytest.raises(YamlFileError, match="UTF-8"):
        read_yaml(p)
    with pytest.raises(YamlFileError, match="illisible"):
        read_yaml(tmp_path / "absent.yaml")


def test_bad_perimeter_files_do_not_hide_the_others(tmp_path, monkeypatch):
    (tmp_path / "bombe.yaml").write_text(BOMB, encoding="utf-8")
    (tmp_path / "bonne.yaml").write_text(GOOD.format(id="bonne"), encoding="utf-8")
    (tmp_path / "double.yaml").write_text(GOOD.format(id="double"), encoding="utf-8")
    (tmp_path / "double.yml").write_text(GOOD.format(id="double"), encoding="utf-8")
    (tmp_path / "dossier.yaml").mkdir()
    monkeypatch.setenv("CPTS_DIAG_PERIMETERS", str(tmp_path))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ids = known_cpts()
        assert perimeter_files()["double"].name == "double.yaml"
    assert {"bombe", "bonne", "double"} <= set(ids) and "dossier" not in ids
    msgs = " ".join(str(w.message) for w in caught)
    assert "double.yml (ignoré)" in msgs and "dossier.yaml n'est pas un fichier" in msgs
