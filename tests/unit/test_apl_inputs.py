"""Unit tests of the pluggable APL readers and of :class:`cpts_diag.apl_inputs.APLModel`.

Inputs are tiny hand-made tables (``tests/fixtures/apl/*_small.csv``, described in the README
there) on a small universe of real COG 2025 codes, so the happy paths need no open data. Expected
values are computed by hand next to each assertion. Lookups of former or unknown commune codes use
a synthetic passage table here; on the real one they are in tests/integration/test_apl_inputs_real.py.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from cpts_diag.apl_inputs import (APLModel, SupplyTable, TravelTimes, read_supply,
                                  read_travel_times)
from cpts_diag.apl_params import load_parameters
from cpts_diag.errors import APLInputError
from tests.helpers import od_pairs as _pairs, write_text as _write

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "apl"
OD = FIX / "od_small.csv"
OD_SEMICOLON = FIX / "od_semicolon_small.csv"
SUPPLY = FIX / "supply_small.csv"

# Bourg-en-Bresse (leading zero), Firminy, Riorges, Roanne, Saint-Étienne
UNIVERSE = np.array(["01053", "42095", "42184", "42187", "42218"])


@pytest.fixture(scope="module")
def params():
    return load_parameters(2023)


# --- read_travel_times --------------------------------------------------------------------------

def test_read_travel_times_from_csv():
    tt = read_travel_times(OD, UNIVERSE)
    assert list(tt.codes) == list(UNIVERSE)
    assert tt.n == 5
    assert _pairs(tt) == {
        ("42187", "42184"): 6.0,
        ("42184", "42187"): 6.5,
        ("42218", "42095"): 14.0,   # asymmetric times are kept as given
        ("42095", "42218"): 16.0,
        ("42218", "42218"): 0.0,    # the self pair given in the file
        # missing self pairs added with 0 minutes
        ("01053", "01053"): 0.0,
        ("42095", "42095"): 0.0,
        ("42184", "42184"): 0.0,
        ("42187", "42187"): 0.0,
        # 42187→42218 (75 min) and 01053→42187 (95 min) are beyond 20 minutes: dropped
    }
    # positions point into codes
    assert tt.codes[tt.origin].tolist() == tt.to_frame()["origin"].tolist()


def test_read_travel_times_keeps_far_pairs_without_a_limit():
    pairs = _pairs(read_travel_times(OD, UNIVERSE, max_minutes=None))
    assert len(pairs) == 11  # 7 rows of the file + 4 missing self pairs
    assert pairs[("42187", "42218")] == 75.0
    assert pairs[("01053", "42187")] == 95.0


def test_read_travel_times_custom_limit_is_inclusive():
    pairs = _pairs(read_travel_times(OD, UNIVERSE, max_minutes=14))
    assert pairs[("42218", "42095")] == 14.0       # exactly 14 kept
    assert ("42095", "42218") not in pairs          # 16 dropped


def test_read_travel_times_semicolon_and_decimal_comma():
    tt = read_travel_times(OD_SEMICOLON, UNIVERSE)
    assert _pairs(tt) == {
        ("42187", "42184"): 6.5,
        ("42184", "42187"): 10.25,
        ("42218", "42095"): 14.0,
        # 42095→42218 at 20,5 min is beyond 20 minutes: dropped
        ("01053", "01053"): 0.0, ("42095", "42095"): 0.0, ("42184", "42184"): 0.0,
        ("42187", "42187"): 0.0, ("42218", "42218"): 0.0,
    }


def test_read_travel_times_from_a_frame_with_integer_codes():
    # codes read as numbers lose their leading zero; the reader pads them back to 5 characters
    df = pd.DataFrame({"origin": [1053, 42187], "destination": [42187, 42187], "minutes": [19.0, 2.0]})
    pairs = _pairs(read_travel_times(df, UNIVERSE))
    assert pairs[("01053", "42187")] == 19.0
    assert pairs[("42187", "42187")] == 2.0  # a given self pair is not overwritten by 0


def test_read_travel_times_duplicate_pair_keeps_the_shortest(tmp_path):
    p = _write(tmp_path, "origin,destination,minutes\n42187,42184,9\n42187,42184,7\n")
    with pytest.warns(UserWarning, match="od.csv : 1 paire\\(s\\) en double"):
        pairs = _pairs(read_travel_times(p, UNIVERSE))
    assert pairs[("42187", "42184")] == 7.0


def test_read_travel_times_header_case_and_spaces(tmp_path):
    p = _write(tmp_path, "Origin, Destination ,MINUTES\n42187,42184,6\n")
    assert _pairs(read_travel_times(p, UNIVERSE))[("42187", "42184")] == 6.0


@pytest.mark.parametrize("text, message", [
    ("origin,destination,duree\n42187,42184,6\n", r"od\.csv : colonne\(s\) absente\(s\) : minutes"),
    ("origin,destination,minutes\n42187,42184,6\n42184,42187,-3\n",
     r"colonne « minutes », 1 temps de trajet négatif\(s\), p\. ex\. « -3 » \(ligne 3\)"),
    ("origin,destination,minutes\n42187,42184,\n42184,42187,6\n",
     r"colonne « minutes », 1 temps de trajet vide\(s\).*\(ligne 2\)"),
    ("origin,destination,minutes\n42187,42184,6\n42184,42187,six\n",
     r"colonne « minutes », 1 valeur\(s\) non numérique\(s\).*« six » \(ligne 3\)"),
    ("origin,destination,minutes\n42187,42184,6\n\n42184,42187,inf\n",
     r"colonne « minutes », 1 valeur\(s\) non numérique\(s\) ou infinie\(s\).*« inf » \(ligne 4\)"),
    ("origin,destination,minutes\n42187,42184,6\n,42187,6\n",
     r"colonne « origin » : code commune vide \(ligne 3\)"),
])
def test_read_travel_times_bad_values(tmp_path, text, message):
    p = _write(tmp_path, text)
    with pytest.raises(APLInputError, match=message):
        read_travel_times(p, UNIVERSE)


def test_read_travel_times_empty_file(tmp_path):
    p = _write(tmp_path, "")
    with pytest.raises(APLInputError, match="od.csv"):
        read_travel_times(p, UNIVERSE)


def test_read_travel_times_header_only(tmp_path):
    p = _write(tmp_path, "origin,destination,minutes\n")
    with pytest.raises(APLInputError, match="od.csv : aucune ligne de données"):
        read_travel_times(p, UNIVERSE)


def test_read_travel_times_file_not_found(tmp_path):
    with pytest.raises(APLInputError, match="absent.csv : fichier introuvable"):
        read_travel_times(tmp_path / "absent.csv", UNIVERSE)


@pytest.fixture
def tiny_passage(monkeypatch):
    """A synthetic two-row passage table (former Loire codes), so code lookups need no open data."""
    from cpts_diag import loaders

    table = pd.DataFrame({"code_commune_source": ["42057", "42190"],
                          "code_commune_cog2025": ["42095", "42218"]})
    monkeypatch.setattr(loaders, "load_passage", lambda *a, **k: table.copy())
    return table


def test_read_travel_times_unknown_code_with_a_synthetic_passage(tmp_path, tiny_passage):
    p = _write(tmp_path, "origin,destination,minutes\n42187,42184,6\n42187,99999,6\n")
    with pytest.raises(APLInputError, match=r"colonne « destination » : 1 code\(s\) commune "
                       r"inconnu\(s\) du COG 2025.*99999 \(ligne 3\).*Correctif"):
        read_travel_times(p, UNIVERSE)


def test_read_travel_times_recodes_with_a_synthetic_passage(tmp_path, tiny_passage):
    p = _write(tmp_path, "origin,destination,minutes\n42218,42057,13\n")
    with pytest.warns(UserWarning, match="42057"):
        pairs = _pairs(read_travel_times(p, UNIVERSE))
    assert pairs[("42218", "42095")] == 13.0


# --- read_supply --------------------------------------------------------------------------------

def test_read_supply_caps_and_defaults(params):
    s = read_supply(SUPPLY, params, UNIVERSE)
    r = s.rows
    assert r["code_commune"].tolist() == ["42187", "42187", "42218", "42218", "42184", "42095",
                                          "42095", "01053"]
    default = load_parameters(2023).activity_per_gp
    assert r["activite"].tolist() == [
        0.0,       # 200 → 0 (250 or less)
        3600.0,    # 3000 → 3 600 (floor)
        6000.0,    # 7000 → 6 000 (cap)
        7000.0,    # centre de santé: not capped
        default,   # empty → calibrated default activity per GP
        4500.0,    # within 3 601–6 000: as counted
        200.0,     # centre de santé: not zeroed
        3601.0,
    ]
    assert r["medecins"].tolist() == [1.0, 2.0, 1.0, 3.0, 1.0, 2.0, 1.0, 1.0]
    assert r["age"].tolist() == [45.0, 62.0, 60.0, 40.0, 66.0, 35.0, 50.0, 51.0]


def test_read_supply_activity_by_commune(params):
    got = read_supply(SUPPLY, params, UNIVERSE).activity_by_commune()
    default = load_parameters(2023).activity_per_gp
    expected = {
        "42187": 1 * 0 + 2 * 3600,       # 7 200
        "42218": 1 * 6000 + 3 * 7000,    # 27 000
        "42184": 1 * default,            # one GP with the default activity
        "42095": 2 * 4500 + 1 * 200,     # 9 200
        "01053": 1 * 3601,               # 3 601
    }
    assert {str(k): float(v) for k, v in got.items()} == pytest.approx(expected)


def test_read_supply_without_age(params):
    s = read_supply(SUPPLY, params, UNIVERSE)
    young = s.without_age(60)
    # ages 62, 60 and 66 leave; 45, 40, 35, 50, 51 stay
    assert sorted(young.rows["age"].tolist()) == [35.0, 40.0, 45.0, 50.0, 51.0]
    got = {str(k): float(v) for k, v in young.activity_by_commune().items()}
    assert got == pytest.approx({
        "42187": 1 * 0,        # the 2 GPs aged 62 left
        "42218": 3 * 7000,     # the GP aged 60 left, the centre de santé stays
        "42095": 2 * 4500 + 1 * 200,
        "01053": 3601,
    })  # 42184 (its only GP is 66) has no supply left
    assert young.source == s.source
    assert len(s.rows) == 8  # the original table is unchanged


def test_without_age_requires_every_age(params):
    df = pd.DataFrame({"code_commune": ["42187", "42218"], "medecins": [1, 2],
                       "activite": [4000, 5000], "age": [55, np.nan]})
    s = read_supply(df, params, UNIVERSE)
    with pytest.raises(APLInputError, match=r"colonne « age », 1 ligne\(s\) sans âge.*commune 42218"):
        s.without_age(60)


def test_read_supply_only_counts(params):
    # only 'medecins': every GP gets the calibrated default activity; ages unknown
    df = pd.DataFrame({"code_commune": ["42187", "42187", "42184"], "medecins": [2, 1, 3]})
    s = read_supply(df, params, UNIVERSE)
    default = params.activity_per_gp
    got = {str(k): float(v) for k, v in s.activity_by_commune().items()}
    assert got == pytest.approx({"42187": 3 * default, "42184": 3 * default})
    assert s.rows["age"].isna().all()


@pytest.mark.parametrize("text, match", [
    ("commune,medecins\n42187,1\n", r"colonne « code_commune » obligatoire, absente \(colonnes "
                                    r"trouvées : commune, medecins\)"),
    ("code_commune,age\n42187,50\n", "ni colonne « medecins »"),
    ("code_commune\n42187\n", "ni colonne « medecins »"),  # one column: no count and no activity
    ("code_commune,medecins\n", "supply.csv : aucune ligne de données"),
    ("code_commune,medecins\n42184,1\n42187,-1\n",
     r"colonne « medecins », 1 nombre\(s\) de médecins négatif\(s\), p\. ex\. « -1 » \(ligne 3\)"),
    ("code_commune,medecins,activite\n42187,1,beaucoup\n",
     r"colonne « activite », 1 valeur\(s\) non numérique\(s\).*« beaucoup » \(ligne 2\)"),
    ("code_commune,medecins\n42187,inf\n", r"colonne « medecins ».*infinie.*« inf » \(ligne 2\)"),
    ("code_commune,medecins\n42187,nan\n", r"colonne « medecins ».*« nan » \(ligne 2\)"),
    ("code_commune,medecins,activite\n42187,1,-5\n", r"colonne « activite », 1 activité\(s\) négative"),
    ("code_commune,medecins,age\n42187,1,50\n42187,1,-4\n",
     r"colonne « age », 1 âge\(s\) hors de 0 à 120 ans.*« -4 » \(ligne 3\)"),
    ("code_commune,medecins,age\n42187,1,130\n", r"colonne « age ».*« 130 » \(ligne 2\)"),
    ("code_commune,medecins\n42187,1\n,1\n", r"colonne « code_commune » : code commune vide \(ligne 3\)"),
])
def test_read_supply_errors(tmp_path, params, text, match):
    p = _write(tmp_path, text, "supply.csv")
    with pytest.raises(APLInputError, match=match):
        read_supply(p, params, UNIVERSE)


# --- APLModel -----------------------------------------------------------------------------------

# Hand-built universe: positions 0 Firminy, 1 Riorges, 2 Roanne, 3 Saint-Étienne.
CODES4 = np.array(["42095", "42184", "42187", "42218"])


def _tt4() -> TravelTimes:
    # origin = where people live, destination = where the GPs practise
    pairs = [(0, 0, 0.0), (1, 1, 0.0), (2, 2, 0.0), (3, 3, 0.0),
             (2, 1, 6.0), (1, 2, 6.0),      # Roanne ↔ Riorges: weight 1
             (0, 3, 14.0),                  # Firminy → Saint-Étienne: weight 2/3
             (3, 0, 16.0),                  # Saint-Étienne → Firminy: weight 1/3
             (2, 3, 75.0)]                  # Roanne → Saint-Étienne: weight 0
    o, d, m = (np.array(x) for x in zip(*pairs))
    return TravelTimes(CODES4, o.astype(np.int32), d.astype(np.int32), m.astype(float), "test")


def _demand4() -> pd.DataFrame:
    return pd.DataFrame({"pop_std": [17000.0, 10000.0, 30000.0, 170000.0],
                         "pop_tot": [17500.0, 10500.0, 34000.0, 172000.0]},
                        index=pd.Index(CODES4, name="code_commune"))


def _supply4(params) -> SupplyTable:
    df = pd.DataFrame({"code_commune": ["42187", "42218", "42095"],
                       "medecins": [10, 100, 6], "activite": [6000, 5000, 5000]})
    return read_supply(df, params, CODES4)  # 60 000, 500 000 and 30 000 consultations


def test_apl_model_by_hand(params):
    model = APLModel(_tt4(), _demand4(), params)
    apl = model.compute(_supply4(params))
    # Reached demand and ratio per supply commune:
    #   Roanne: 30 000 + 10 000 (Riorges, 6 min) = 40 000 → R = 60 000 / 40 000 = 3/2
    #   Riorges: no supply → R = 0
    #   Saint-Étienne: 170 000 + 2/3 × 17 000 (Firminy, 14 min) = 544 000/3
    #                  → R = 500 000 × 3 / 544 000 = 375/136
    #   Firminy: 17 000 + 1/3 × 170 000 (Saint-Étienne, 16 min) = 221 000/3
    #            → R = 30 000 × 3 / 221 000 = 90/221
    r_roanne, r_ste, r_firminy = 3 / 2, 375 / 136, 90 / 221
    expected = {
        "42187": r_roanne,                          # Roanne: own ratio (+ Riorges' 0)
        "42184": r_roanne,                          # Riorges: Roanne at 6 min, weight 1
        "42218": r_ste + 1 / 3 * r_firminy,         # Saint-Étienne
        "42095": r_firminy + 2 / 3 * r_ste,         # Firminy
    }
    assert list(apl.index) == list(CODES4)
    assert_allclose(apl.loc[list(expected)].to_numpy(), list(expected.values()), rtol=1e-13)
    assert apl.attrs["unreached_supply"] == 0.0
    assert model.missing_demand == []
    # the same supply given as a Series per commune
    series = pd.Series({"42187": 60000.0, "42218": 500000.0, "42095": 30000.0})
    assert_allclose(model.compute(series).to_numpy(), apl.to_numpy(), rtol=1e-15)


def test_apl_model_missing_demand(params):
    demand = _demand4().drop(index="42184")  # Riorges absent from the demand table
    model = APLModel(_tt4(), demand, params)
    assert model.missing_demand == ["42184"]
    assert model.demand.tolist() == [17000.0, 0.0, 30000.0, 170000.0]
    apl = model.compute(_supply4(params))
    # Roanne's supply now serves Roanne alone: R = 60 000 / 30 000 = 2
    assert apl["42187"] == pytest.approx(2.0, rel=1e-15)
    # Riorges has no demand of its own but still gets its APL: 1 × 2
    assert apl["42184"] == pytest.approx(2.0, rel=1e-15)
    assert not apl.isna().any()


def test_apl_model_missing_pop_std_value(params):
    demand = _demand4()
    demand.loc["42095", "pop_std"] = np.nan
    model = APLModel(_tt4(), demand, params)
    assert model.missing_demand == ["42095"]
    apl = model.compute(_supply4(params))
    # Firminy's own supply is reached only by Saint-Étienne: 1/3 × 170 000 → R = 30 000 × 3 / 170 000
    # Saint-Étienne's supply is reached by Saint-Étienne only: R = 500 000 / 170 000
    r_firminy, r_ste = 90000 / 170000, 500000 / 170000
    assert apl["42095"] == pytest.approx(r_firminy + 2 / 3 * r_ste, rel=1e-13)
    assert apl["42218"] == pytest.approx(r_ste + 1 / 3 * r_firminy, rel=1e-13)


def test_apl_model_supply_outside_universe(params):
    model = APLModel(_tt4(), _demand4(), params)
    rows = pd.DataFrame({"code_commune": ["42187", "42001"], "medecins": [1.0, 1.0],
                         "activite": [4000.0, 4000.0], "age": [np.nan, np.nan]})
    with pytest.raises(APLInputError, match="42001"):
        model.compute(SupplyTable(rows, "test"))
    with pytest.raises(APLInputError, match=r"hors de la table des temps de trajet : 01053"):
        model.compute(pd.Series({"42187": 4000.0, "01053": 4000.0}))


def test_apl_model_no_supply_gives_zero(params):
    model = APLModel(_tt4(), _demand4(), params)
    apl = model.compute(pd.Series(dtype=float))
    assert (apl == 0).all()


def test_apl_model_from_the_csv_readers(params):
    """End to end on the fixtures: od_small.csv + supply_small.csv + a hand demand table."""
    tt = read_travel_times(OD, UNIVERSE)
    supply = read_supply(SUPPLY, params, UNIVERSE)
    demand = pd.DataFrame({"pop_std": [40000.0, 17000.0, 10000.0, 30000.0, 170000.0],
                           "pop_tot": [41000.0, 17500.0, 10500.0, 34000.0, 172000.0]},
                          index=pd.Index(UNIVERSE, name="code_commune"))
    apl = APLModel(tt, demand, params).compute(supply)
    a = params.activity_per_gp  # the one GP of Riorges has no activity in the file
    # Supply per commune (test_read_supply_activity_by_commune): 01053 3 601, 42095 9 200,
    # 42184 a, 42187 7 200, 42218 27 000.
    # Weights (od_small.csv): self 1; Roanne → Riorges 6 min 1; Riorges → Roanne 6,5 min 1;
    # Saint-Étienne → Firminy 14 min 2/3; Firminy → Saint-Étienne 16 min 1/3.
    r_bourg = 3601 / 40000                       # reached by Bourg alone
    r_riorges = a / (10000 + 30000)              # Riorges + Roanne
    r_roanne = 7200 / (30000 + 10000)            # Roanne + Riorges
    r_firminy = 9200 / (17000 + 2 / 3 * 170000)  # Firminy + 2/3 Saint-Étienne
    r_ste = 27000 / (170000 + 1 / 3 * 17000)     # Saint-Étienne + 1/3 Firminy
    expected = [
        r_bourg,                         # 01053
        r_firminy + 1 / 3 * r_ste,       # 42095
        r_riorges + r_roanne,            # 42184
        r_roanne + r_riorges,            # 42187
        r_ste + 2 / 3 * r_firminy,       # 42218
    ]
    assert_allclose(apl.to_numpy(), expected, rtol=1e-13)
    # conservation: Σ pop_std × APL = all the supply (every supply commune is reached)
    total = 3601 + 9200 + a + 7200 + 27000
    assert float(demand["pop_std"].to_numpy() @ apl.to_numpy()) == pytest.approx(total, rel=1e-12)


def test_without_age_on_a_table_without_ages_says_the_open_data_have_none(params):
    df = pd.DataFrame({"code_commune": ["42187"], "medecins": [2]})
    s = read_supply(df, params, UNIVERSE)
    with pytest.raises(APLInputError, match=r"pas de colonne « age ».*--retire-age.*les données "
                                            r"ouvertes ne donnent pas l'âge.*option --supply"):
        s.without_age(60)


def test_read_supply_lines_skip_blank_lines(tmp_path, params):
    # the line named is the line of the file, blank lines included
    p = _write(tmp_path, "code_commune,medecins\n42187,1\n\n42184,-2\n", "supply.csv")
    with pytest.raises(APLInputError, match=r"supply\.csv : colonne « medecins ».*« -2 » \(ligne 4\)"):
        read_supply(p, params, UNIVERSE)
    s = read_supply(_write(tmp_path, "code_commune,medecins\n42187,1\n\n42184,2\n", "ok.csv"),
                    params, UNIVERSE)
    assert s.rows["medecins"].tolist() == [1.0, 2.0]
