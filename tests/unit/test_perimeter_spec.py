"""The perimeter YAML's optional ``announced_population`` and the round trip of a territory
defined in Python (no data: pure validation)."""
from __future__ import annotations

import pytest
import yaml

from cpts_diag.errors import TerritoryError
from cpts_diag.perimeter_spec import validate_perimeter_spec

BASE = {"id": "test", "name": "CPTS Test", "members": {"communes": ["42218"]}}


def _spec(**announced):
    return validate_perimeter_spec({**BASE, "announced_population": announced}, "fichier test.yaml")


def test_announced_population_is_read_and_defaults():
    a = _spec(value=84466, source="Communiqué ARS", year=2023)["announced_population"]
    assert a == {"value": 84466, "source": "Communiqué ARS", "year": 2023, "definition": "non précisée"}
    assert validate_perimeter_spec(BASE, "x")["announced_population"] is None


@pytest.mark.parametrize("announced, field", [
    ({"value": "84 466", "source": "x"}, "announced_population.value"),
    ({"value": True, "source": "x"}, "announced_population.value"),
    ({"value": -3, "source": "x"}, "announced_population.value"),
    ({"value": 100}, "announced_population.source"),
    ({"value": 100, "source": "x", "year": 20234}, "announced_population.year"),
    ({"value": 100, "source": "x", "definition": "légale"}, "definition"),
    ({"value": 100, "source": "x", "habitants": 3}, "clé(s) inconnue(s)"),
])
def test_bad_announced_population_names_the_field(announced, field):
    with pytest.raises(TerritoryError, match="fichier test.yaml") as e:
        _spec(**announced)
    msg = str(e.value)
    assert field in msg
    assert "Correctif" in msg or "valeurs admises" in msg


def test_territory_round_trips_through_yaml():
    from cpts_diag.territory import Territory

    t = Territory(id="roanne-riorges", name="Roanne et Riorges", communes=["42184", "42187"],
                  members={"communes": ["42184", "42187"]}, source="défini par l'utilisateur")
    spec = validate_perimeter_spec(yaml.safe_load(t.to_yaml()), "x", expected_id="roanne-riorges")
    assert spec["members"]["communes"] == ["42184", "42187"] and spec["name"] == "Roanne et Riorges"
