"""APL engine on the real open data: parameters vs the DREES workbook, default inputs, accuracy
floors, scenario invariants, the scenario API, CLI and report section on a real CPTS."""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "docs" / "scenarios" / "roannais-2024-exemple.yaml"

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def model(snapshot_dir):
    from cpts_diag.apl_inputs import default_model

    return default_model(2023)


@pytest.fixture(scope="module")
def bpe_gps(snapshot_dir) -> pd.Series:
    """GP practice addresses per commune, read from the raw BPE CSV (not through the loader)."""
    raw = pd.read_csv(snapshot_dir / "insee" / "bpe2024_sante.csv", dtype={"code_commune": str})
    return raw[raw["typequ"] == "D265"].groupby("code_commune")["nb"].sum()


# --- parameters are the workbook's ---------------------------------------------------------------

def _sheet_rows(path: Path):
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    rows = [[v for v in r if v is not None] for r in wb["Paramètres"].iter_rows(values_only=True)]
    wb.close()
    return [r for r in rows if r]


def test_parameters_equal_the_drees_parameter_sheet(snapshot_dir):
    from cpts_diag.apl_params import load_parameters

    rows = _sheet_rows(snapshot_dir / "drees" / "apl_medecins_generalistes_2022_2023.xlsx")
    decay_rows = [r for r in rows if len(r) == 2 and "minutes" in str(r[0])]
    assert [r[1] for r in decay_rows] == pytest.approx([1, 2 / 3, 1 / 3, 0], abs=1e-15)
    assert "10" in decay_rows[0][0] and "15" in decay_rows[1][0] and "20" in decay_rows[3][0]
    for year, col in ((2022, 1), (2023, 2)):
        p = load_parameters(year)
        band_rows = [r for r in rows if len(r) == 3 and "ans" in str(r[0])]
        assert len(band_rows) == 19
        assert list(p.age_weights) == [r[col] for r in band_rows]
        assert list(p.decay_weights) == pytest.approx([1, 2 / 3, 1 / 3], abs=1e-15)
        assert p.upper_minutes == (10.0, 15.0, 20.0)
    acts = [r for r in rows if len(r) == 2 and str(r[0]).startswith(("Moins de 250", "Entre 251",
                                                                     "Plus de 6"))]
    assert [r[1] for r in acts] == [0, 3600, 6000]
    p = load_parameters(2023)
    assert (p.zero_up_to, p.floor, p.cap) == (250, 3600, 6000)
    assert any("5 400" in str(r[0]) for r in rows) and p.new_practitioner == 5400


# --- default inputs -----------------------------------------------------------------------------

def test_default_demand_is_the_drees_pop_std(snapshot_dir, model):
    raw = pd.read_csv(snapshot_dir / "drees" / "apl_communes.csv", dtype=str,
                      usecols=["code_commune_cog2025", "annee", "profession", "pop_std"])
    raw = raw[(raw["annee"] == "2023") & (raw["profession"] == "medecin_generaliste")]
    roanne = raw.loc[raw["code_commune_cog2025"] == "42187", "pop_std"].astype(float).sum()
    assert roanne == pytest.approx(36764.68, abs=0.01)
    assert model.demand[model.index.get_loc("42187")] == pytest.approx(roanne)
    # Lyon: the nine arrondissements are summed onto 69123
    lyon = raw.loc[raw["code_commune_cog2025"] == "69123", "pop_std"].astype(float)
    assert len(lyon) == 9
    assert model.demand[model.index.get_loc("69123")] == pytest.approx(lyon.sum())


def test_demand_falls_back_to_ages_only_where_the_drees_has_no_value(snapshot_dir, model):
    """The six uninhabited Meuse communes (« morts pour la France ») are not in the APL file:
    their demand comes from the RP (0 inhabitants); the four Cantal communes restored in 2025
    have neither (their people are counted in 15141) and are listed as missing demand."""
    from cpts_diag.apl_inputs import demand_table

    d = demand_table(2023)
    assert d.attrs["filled_from_ages"] == ["55039", "55050", "55139", "55189", "55239", "55307"]
    assert (d.loc[d.attrs["filled_from_ages"], "pop_tot"] == 0).all()
    assert model.missing_demand == ["15031", "15035", "15047", "15171"]
    assert model.demand_source == "DREES, population standardisée de l'APL 2023"  # 0 inhabitants filled


def test_default_supply_is_bpe_counts_times_activity(bpe_gps):
    from cpts_diag.apl_inputs import supply_from_bpe
    from cpts_diag.apl_params import load_parameters

    p = load_parameters(2023)
    s = supply_from_bpe(p)
    assert s.gps_by_commune()["42187"] == bpe_gps["42187"] == 35
    assert s.activity_by_commune()["42187"] == pytest.approx(35 * p.activity_per_gp)
    metro = bpe_gps[~bpe_gps.index.str.startswith("97")]
    assert s.gps_by_commune().sum() == metro.sum() == 58850


def test_default_travel_times_are_documented_and_complete(model):
    from cpts_diag.apl_inputs import commune_points
    from cpts_diag.apl_params import load_parameters

    tt = model.travel_times
    p = load_parameters(2023)
    assert len(tt.codes) == 34746  # every metropolitan COG 2025 commune
    self_pairs = tt.origin == tt.dest
    assert self_pairs.sum() == 34746 and (tt.minutes[self_pairs] == 0).all()
    assert tt.minutes.max() <= 20.0
    # one pair recomputed by hand: Roanne → Riorges
    pts = commune_points()
    a, b = pts.loc["42187"], pts.loc["42184"]
    km = np.hypot(a.x - b.x, a.y - b.y) / 1000
    i, j = tt.codes.tolist().index("42187"), tt.codes.tolist().index("42184")
    k = np.flatnonzero((tt.origin == i) & (tt.dest == j))
    assert len(k) == 1
    assert tt.minutes[k[0]] == pytest.approx(km * p.travel.detour / p.travel.speed_kmh * 60)


def test_engine_distributes_all_supply_and_has_no_nan(model):
    from cpts_diag.apl_inputs import supply_from_bpe

    sup = supply_from_bpe()
    apl = model.compute(sup)
    assert len(apl) == 34746 and apl.notna().all() and np.isfinite(apl).all()
    s = model.supply_vector(sup)
    total = float((model.demand * apl.to_numpy()).sum())
    assert total == pytest.approx(s.sum() - apl.attrs["unreached_supply"], rel=1e-9)


def test_shipped_activity_is_the_raw_calibration_on_the_tuning_departements(snapshot_dir, bpe_gps):
    """activity_per_gp = Σ pop_std × published APL 2023 ÷ Σ BPE GP addresses over the tuning
    départements, recomputed with pandas from the raw files (apl_parameters.yaml read with
    yaml.safe_load, cog/communes.csv, drees/apl_communes.csv, insee/bpe2024_sante.csv)."""
    import yaml

    text = (REPO / "cpts_diag" / "apl_parameters.yaml").read_text(encoding="utf-8")
    gp = yaml.safe_load(text)["medecin_generaliste"]["model"]
    tuning = gp["travel_time"]["tuning_departements"]
    assert tuning == ["03", "07", "38", "43", "63", "69", "71"]
    cog = pd.read_csv(snapshot_dir / "cog" / "communes.csv", dtype=str, usecols=["code_commune", "dep"])
    codes = set(cog.loc[cog["dep"].isin(tuning), "code_commune"])
    apl = pd.read_csv(snapshot_dir / "drees" / "apl_communes.csv", dtype={"code_commune_cog2025": str},
                      usecols=["code_commune_cog2025", "annee", "profession", "apl", "pop_std"])
    rows = apl[(apl["annee"] == 2023) & (apl["profession"] == "medecin_generaliste")
               & apl["code_commune_cog2025"].isin(codes)]
    assert rows["apl"].notna().all() and rows["pop_std"].notna().all()
    # Σ over published rows (a merged commune's rows add up: its pop_std-weighted APL × its pop_std)
    num = float((rows["apl"] * rows["pop_std"]).sum())
    den = float(bpe_gps.reindex(sorted(codes)).fillna(0).sum())
    assert den == 4879
    assert num / den == pytest.approx(3988.77, abs=0.01)
    assert round(num / den) == gp["supply"]["activity_per_gp"] == 3989.0


def test_regression_lock_shipped_activity_is_the_calibration_on_the_tuning_departements(model, bpe_gps):
    """Regression lock: the shipped ``activity_per_gp`` equals, once rounded, what
    ``calibrate_activity_per_gp`` returns on the default model's demand over the tuning
    départements. It fails when the demand, the published APL or the calibration change without
    the parameter being recalibrated. Independent checks: the hand computations of
    tests/unit/test_apl_validation.py and the raw-file recomputation in
    ``test_shipped_activity_is_the_raw_calibration_on_the_tuning_departements``."""
    from cpts_diag.apl_params import load_parameters
    from cpts_diag.apl_validation import calibrate_activity_per_gp, published_apl

    tuning = load_parameters(2023).travel.tuning_departements
    assert "42" not in tuning and len(tuning) == 7
    codes = [c for c in model.codes if c[:2] in tuning]
    act = calibrate_activity_per_gp(published_apl(2023), pd.Series(model.demand, model.index), bpe_gps,
                                    codes)
    assert round(act) == load_parameters(2023).activity_per_gp


def test_accuracy_floor_on_the_held_out_loire(model):
    """The engine's honest accuracy (bench/apl_validation.py) must not silently degrade."""
    from cpts_diag.apl_inputs import supply_from_bpe
    from cpts_diag.apl_validation import compare, published_apl

    rec = model.compute(supply_from_bpe())
    loire = [c for c in model.codes if c.startswith("42")]
    s = compare(rec.reindex(loire), published_apl(2023))
    assert s["n"] == 320
    assert s["pearson_r"] > 0.5 and s["mae"] < 0.85 and s["class_agreement"] > 0.5


# --- scenario invariants on the real model --------------------------------------------------------

def test_removing_all_supply_gives_zero_everywhere(model):
    apl = model.compute(pd.Series(0.0, index=model.index))
    assert (apl == 0).all()


def test_adding_gps_never_lowers_and_removing_never_raises(model):
    from cpts_diag.apl_inputs import supply_from_bpe

    base = supply_from_bpe().activity_by_commune()
    before = model.compute(base)
    more = base.add(pd.Series({"42187": 3 * 3989.0, "42248": 2 * 3989.0}), fill_value=0)
    less = base.copy()
    less["42052"] -= 5 * 3989.0
    assert (model.compute(more) - before).min() >= -1e-12
    assert (model.compute(less) - before).max() <= 1e-12
    assert (model.compute(more) - before).max() > 0.1


# --- the scenario API, CLI and report section --------------------------------------------------------

@pytest.fixture(scope="module")
def example(snapshot_dir):
    from cpts_diag.scenario import run_spec

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run_spec("roannais-2024", EXAMPLE)


def test_example_scenario_changes_and_directions(example, bpe_gps):
    ch = example.changes.set_index("code_commune")
    assert set(ch.index) == {"42332", "42289", "42230", "42248"}
    for code, delta in {"42332": -2, "42289": -2, "42230": -1, "42248": 3}.items():
        assert ch.loc[code, "medecins_avant"] == bpe_gps.get(code, 0)
        assert ch.loc[code, "medecins_apres"] - ch.loc[code, "medecins_avant"] == delta
    c = example.communes.set_index("code_commune")
    assert len(c) == 159  # every commune of the perimeter
    assert c.loc["42248", "variation"] > 0.5 and c.loc["42289", "variation"] < 0
    assert np.allclose(c["apl_publiee_apres"], (c["apl_publiee"] + c["variation"]).clip(lower=0))
    assert np.allclose(c["variation"], c["apl_moteur_apres"] - c["apl_moteur_avant"], atol=1e-12)
    s = example.summary
    assert s["gps_after"] - s["gps_before"] == -2
    down = (c["apl_publiee"] >= 2.5) & (c["apl_publiee_apres"] < 2.5)
    assert s["pop_crossing_down"] == c.loc[down, "population"].sum() and s["n_crossing_down"] == down.sum()
    assert s["n_crossing_down"] > 0  # the example does push communes under 2,5
    assert example.outside["code_commune"].str[:2].isin(["42", "43", "63", "69", "71", "03"]).all()
    assert not example.outside["code_commune"].isin(c.index).any()


def test_scenario_summary_is_french_and_sourced(example):
    text = example.summary_text()
    assert "passent sous le seuil" in text and "publiée par la DREES" in text
    assert "BPE 2024" in text and "55 km/h" in text and "≤ 10 min : 1" in text


def test_scenario_rejects_impossible_removal(snapshot_dir):
    from cpts_diag.errors import APLInputError
    from cpts_diag.scenario import scenario

    with pytest.raises(APLInputError, match=r"la commune 42184 compte \d+ médecin\(s\) dans l'offre "
                                            r"\(INSEE BPE 2024.*impossible d'en retirer 50"):
        scenario("roannais-2024", remove_gps={"42184": 50})
    with pytest.raises(APLInputError, match=r"add_gps / --add : 1 code\(s\) commune inconnu\(s\) "
                                            r"du COG 2025.*99999"):
        scenario("roannais-2024", add_gps={"99999": 1})
    # Paris is a commune of the engine's universe but not of the Roannais: refused, not ignored
    with pytest.raises(APLInputError, match=r"remove_gps / --remove : commune\(s\) 75056 hors du "
                                            r"périmètre de CPTS du Roannais \(roannais-2024, 159 communes\)"):
        scenario("roannais-2024", remove_gps={"75056": 1})
    with pytest.raises(APLInputError, match=r"retire_age / --retire-age = 65 .*option --supply"):
        scenario("roannais-2024", retire_age=65)


def test_scenario_with_user_supply_and_retirement_age(snapshot_dir, tmp_path):
    """A user table with ages: every GP aged 60+ leaves (ages here are made up for the test)."""
    from cpts_diag.scenario import scenario

    sup = tmp_path / "offre.csv"
    sup.write_text("code_commune,medecins,activite,age\n42187,10,5000,45\n42187,4,4000,63\n"
                   "42184,2,,61\n42052,3,7000,50\n", encoding="utf-8")
    res = scenario("roannais-2024", retire_age=60, supply=str(sup))
    ch = res.changes.set_index("code_commune")
    assert ch.loc["42187", "medecins_apres"] == 10 and ch.loc["42184", "medecins_apres"] == 0
    assert "42052" not in ch.index
    assert (res.communes["variation"] <= 1e-12).all()
    assert res.summary["gps_before"] == 19 and res.summary["gps_after"] == 13


def test_cli_scenario_writes_outputs_atomically(snapshot_dir, tmp_path, capsys):
    from cpts_diag.cli import main

    out = tmp_path / "scen"
    assert main(["scenario", "roannais-2024", "--remove", "42332:2", "--add", "42248:1",
                 "--out", str(out), "--top", "3"]) == 0
    printed = capsys.readouterr().out
    assert "Communes les plus touchées" in printed and "Villerest" in printed
    names = sorted(p.name for p in out.iterdir())
    assert names == ["scenario_carte.png", "scenario_communes.csv", "scenario_hors_cpts.csv",
                     "scenario_resume.md"]
    df = pd.read_csv(out / "scenario_communes.csv", sep=";", decimal=",", dtype={"code_commune": str},
                     encoding="utf-8-sig")
    assert len(df) == 159 and df.loc[df["code_commune"] == "42332", "medecins_apres"].item() == 4


def test_cli_scenario_errors_name_the_fix(snapshot_dir, tmp_path, capsys):
    from cpts_diag.cli import main

    assert main(["scenario", "roannais-2024", "--remove", "42332"]) == 2
    assert "CODE:NOMBRE" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text("remove_gps: {42187: 3\n", encoding="utf-8")
    assert main(["scenario", "roannais-2024", "--spec", str(bad)]) == 2
    assert "YAML mal formé" in capsys.readouterr().err
    assert main(["scenario", "inconnue", "--remove", "42187:1"]) == 2
    assert main(["report", "roannais-2024", "--scenario", str(tmp_path / "absent.yaml")]) == 2
    assert "Fichier de scénario introuvable" in capsys.readouterr().err


def test_report_section_is_off_by_default_and_on_with_a_scenario(snapshot_dir):
    from cpts_diag.report import Diagnostic
    from cpts_diag.report import blocks as B

    d = Diagnostic("roannais-2024", display_outputs=False)
    assert d.blocks("scenario") == []  # off by default
    d.ctx.scenario = str(EXAMPLE)
    blocks = d.blocks("scenario")
    texts = " ".join(b.markdown for b in blocks if isinstance(b, B.Text)) + " ".join(
        b.text for b in blocks if isinstance(b, B.Heading))
    assert "5.6 Scénario" in texts and "passent sous le seuil" in texts
    assert any(isinstance(b, B.Figure) and b.name == "carte_scenario" for b in blocks)
    tables = {b.name: b.df for b in blocks if isinstance(b, B.Table)}
    down, up = tables["scenario_baisses"], tables["scenario_hausses"]
    assert len(down) == len(up) == 12
    assert (down["Variation simulée"] < 0).all() and down["Variation simulée"].is_monotonic_increasing
    assert (up["Variation simulée"] > 0).all() and up["Variation simulée"].is_monotonic_decreasing
    assert "Saint-Just-en-Chevalet" in set(up["Commune"])
    assert "scenario_hors_cpts" in tables
