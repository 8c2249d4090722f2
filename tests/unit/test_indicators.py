"""Closed-form checks of the indicator core on hand-made two- and three-commune frames.

Every expectation is computed by hand in the comments, never copied from the code's output.
"""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from cpts_diag import indicators as I
from cpts_diag.catalogue import catalogue_from_tidy

REG = I.INDICATORS


def _reg(*ids):
    return {i: REG[i] for i in ids}


def _memb(n_rows, groups):
    """groups: list of (level, code, name, [rows])."""
    rows = []
    for level, code, name, members in groups:
        rows += [{"row": r, "level": level, "code": code, "name": name} for r in members]
    return pd.DataFrame(rows)


def _one(agg, iid, level="territory"):
    r = agg[(agg["indicator_id"] == iid) & (agg["level"] == level)]
    assert len(r) == 1
    return r.iloc[0]


@pytest.fixture
def base():
    """Three communes: A, B (in the territory), C (elsewhere in the département)."""
    return pd.DataFrame({
        "code_commune": ["00001", "00002", "00003"],
        "pop_2022": [1000.0, 100.0, 5000.0],
        "pop_2016": [1000.0 / 1.1, np.nan, 5000.0],
        "pop_2011": [800.0, 90.0, 5000.0],
        "area_km2": [10.0, 90.0, 50.0],
        "pop_65p": [30.0, 100.0, 1000.0],
        "pop_0_19": [60.0, 50.0, 1000.0],
        "pop_80p": [40.0, 10.0, 100.0],
        "pct_80p_seuls_2022": [50.0, 20.0, np.nan],
        "taux_pauvrete_2021": [20.0, np.nan, 10.0],
        "revenu_median_2021": [20000.0, 22000.0, 30000.0],
        "chomage_1564_2022": [10.0, 40.0, 5.0],
        "pop_15_64": [600.0, 50.0, 3000.0],
        "bpe_D265": [2.0, 0.0, 5.0],
        "one": [1.0, 1.0, 1.0],
        "complet_2022": [1, 1, 1],
        "area_source": ["ign", "ign", "ign"],
    })


@pytest.fixture
def memb():
    return _memb(3, [("territory", "T", "Terr", [0, 1]), ("departement", "99", "Dép", [0, 1, 2])])


def test_ageing_index_of_a_union_is_the_ratio_of_sums(base, memb):
    # A: 30/60 = 50 ; B: 100/50 = 200 ; union: (30+100)/(60+50)*100 = 118.1818…
    # (the mean of the two indices would be 125: wrong)
    agg = I.aggregate(base, memb, _reg("ageing_index_2022"))
    assert _one(agg, "ageing_index_2022")["value"] == pytest.approx(13000 / 110, abs=1e-9)
    # département: (30+100+1000)/(60+50+1000)*100 = 1130/1110*100
    assert _one(agg, "ageing_index_2022", "departement")["value"] == pytest.approx(113000 / 1110)


def test_density_is_total_population_over_total_area(base, memb):
    # (1000+100)/(10+90) = 11 hab./km² (mean of 100 and 1.11 would be 50.6)
    agg = I.aggregate(base, memb, _reg("density_2022", "area_km2"))
    assert _one(agg, "density_2022")["value"] == pytest.approx(11.0)
    assert _one(agg, "area_km2")["value"] == pytest.approx(100.0)


def test_growth_rate_only_on_communes_with_both_years(base, memb):
    # B has no 2016 population: growth on A alone = (1.1^(1/6) - 1) * 100 = 1.6012…
    agg = I.aggregate(base, memb, _reg("pop_growth_2016_2022", "population_2016", "population_2011",
                                       "pop_growth_2011_2016"))
    g = _one(agg, "pop_growth_2016_2022")
    assert g["value"] == pytest.approx((1.1 ** (1 / 6) - 1) * 100, rel=1e-12)
    assert g["n_missing"] == 1
    assert g["coverage"] == pytest.approx(1000 / 1100)
    # 2011 -> 2016 on A only: ((1000/1.1)/800)^(1/5) - 1
    assert _one(agg, "pop_growth_2011_2016")["value"] == pytest.approx(
        ((1000 / 1.1 / 800) ** 0.2 - 1) * 100)
    # a population total with a missing commune is not a total: n.d., not a partial sum
    p16 = _one(agg, "population_2016")
    assert math.isnan(p16["value"]) and p16["partial"] == pytest.approx(1000 / 1.1)
    # 2011 is complete: 800 + 90
    assert _one(agg, "population_2011")["value"] == pytest.approx(890)


def test_weighted_rates_and_secret_stays_nan(base, memb):
    agg = I.aggregate(base, memb, _reg("poverty_rate_2021", "share_80p_alone_2022",
                                       "unemployment_1564_2022"))
    pov = _one(agg, "poverty_rate_2021")
    # only A has a published rate: 20 %, population covered 1000/1100
    assert pov["value"] == pytest.approx(20.0)
    assert pov["n_missing"] == 1 and pov["coverage"] == pytest.approx(1000 / 1100)
    # 80+ alone weighted by pop_80p: (50*40 + 20*10)/(40+10) = 44
    assert _one(agg, "share_80p_alone_2022")["value"] == pytest.approx(44.0)
    # unemployment weighted by pop 15-64: (10*600 + 40*50)/650 = 12.3077
    assert _one(agg, "unemployment_1564_2022")["value"] == pytest.approx(8000 / 650)
    # a territory where every commune is under secret gets NaN, never 0
    secret = base.assign(taux_pauvrete_2021=np.nan)
    v = _one(I.aggregate(secret, memb, _reg("poverty_rate_2021")), "poverty_rate_2021")
    assert math.isnan(v["value"]) and v["n_missing"] == 2


def test_median_income_spread_is_unweighted_quantiles(base, memb):
    ids = [f"median_income_2021_communes_{q}" for q in ("min", "q1", "med", "q3", "max")]
    agg = I.aggregate(base, memb, _reg(*ids, "median_income_2021"))
    # département: values 20000, 22000, 30000 -> linear quartiles 21000 and 26000
    got = [_one(agg, i, "departement")["value"] for i in ids]
    assert got == pytest.approx([20000, 21000, 22000, 26000, 30000])
    # a median of medians is not computed for the territory
    assert math.isnan(_one(agg, "median_income_2021")["value"])


def test_apl_weighted_with_pop_std_and_threshold_share_with_pop_tot():
    # commune X published as two rows (arrondissements): APL 2.0 (pop_std 100, pop_tot 120) and
    # 5.0 (pop_std 300, pop_tot 280); commune Y: APL 3.0 (pop_std 600, pop_tot 500).
    long = pd.DataFrame({
        "code_commune": ["X1", "X2", "Y"], "code_commune_cog2025": ["0000X", "0000X", "0000Y"],
        "annee": [2023, 2023, 2023], "profession": ["medecin_generaliste"] * 3,
        "apl": [2.0, 5.0, 3.0], "pop_std": [100.0, 300.0, 600.0], "pop_tot": [120.0, 280.0, 500.0],
    })
    wide = I.apl_by_commune(long).set_index("code_commune")
    # X: (2*100 + 5*300)/400 = 4.25 ; pop_std 400 ; pop_tot 400
    assert wide.loc["0000X", "apl_mg_2023"] == pytest.approx(4.25)
    assert wide.loc["0000X", "popstd_mg_2023"] == pytest.approx(400)
    assert wide.loc["0000X", "poptot_mg_2023"] == pytest.approx(400)
    # the DREES rule classes each published row: X1 (120 inh.) is under 2.5 although X's mean is 4.25
    assert wide.loc["0000X", "poptot_lt_2_5_mg_2023"] == pytest.approx(120)
    assert wide.loc["0000X", "poptot_ge_4_mg_2023"] == pytest.approx(280)
    base = wide.reset_index()
    memb = _memb(2, [("territory", "T", "T", [0, 1])])
    ids = ["apl_mg_2023", "share_pop_apl_mg_lt_2_5_2023", "share_pop_apl_mg_2_5_4_2023",
           "share_pop_apl_mg_ge_4_2023"]
    agg = I.aggregate(base, memb, _reg(*ids))
    # territory APL: (2*100 + 5*300 + 3*600)/1000 = 3.5
    assert _one(agg, "apl_mg_2023")["value"] == pytest.approx(3.5)
    # shares of pop_tot: <2.5: 120/900 ; 2.5-4: 500/900 ; >=4: 280/900
    assert _one(agg, "share_pop_apl_mg_lt_2_5_2023")["value"] == pytest.approx(100 * 120 / 900)
    assert _one(agg, "share_pop_apl_mg_2_5_4_2023")["value"] == pytest.approx(100 * 500 / 900)
    assert _one(agg, "share_pop_apl_mg_ge_4_2023")["value"] == pytest.approx(100 * 280 / 900)


def test_apl_threshold_boundaries():
    # 2.5 belongs to [2.5, 4); 4.0 belongs to >= 4
    long = pd.DataFrame({
        "code_commune": ["A", "B", "C"], "code_commune_cog2025": ["A", "B", "C"],
        "annee": [2022] * 3, "profession": ["medecin_generaliste_moins_65"] * 3,
        "apl": [2.499, 2.5, 4.0], "pop_std": [1.0, 1.0, 1.0], "pop_tot": [10.0, 20.0, 30.0]})
    w = I.apl_by_commune(long).set_index("code_commune")
    assert w["poptot_lt_2_5_mg_moins65_2022"].tolist() == [10, 0, 0]
    assert w["poptot_2_5_4_mg_moins65_2022"].tolist() == [0, 20, 0]
    assert w["poptot_ge_4_mg_moins65_2022"].tolist() == [0, 0, 30]


def test_bpe_absence_is_zero():
    bpe = pd.DataFrame({"code_commune": ["00001", "00001", "00002"],
                        "typequ": ["D265", "D307", "D265"], "nb": [3, 1, 2]})
    w = I.bpe_by_commune(bpe, pd.Series(["00001", "00002", "00003"])).set_index("code_commune")
    # 8 BPE columns: six professions/pharmacies + D113 (maisons de santé) + D108 (centres de santé)
    assert w.loc["00003"].tolist() == [0.0] * 8
    assert w.columns.tolist()[-2:] == ["bpe_D113", "bpe_D108"]
    assert w.loc["00001", "bpe_D265"] == 3 and w.loc["00001", "bpe_D307"] == 1
    assert w.loc["00002", "bpe_D307"] == 0


def test_bpe_density_per_10000(base, memb):
    # (2 + 0) GPs for 1100 inhabitants -> 18.18 per 10 000
    agg = I.aggregate(base, memb, _reg("density_gp_bpe2024", "count_gp_bpe2024"))
    assert _one(agg, "density_gp_bpe2024")["value"] == pytest.approx(2 / 1100 * 10000)
    assert _one(agg, "count_gp_bpe2024", "departement")["value"] == 7


def test_area_falls_back_to_polygon():
    polys = pd.DataFrame({"code_commune": ["1", "2"], "surface_km2_ign": [10.0, np.nan],
                          "surface_km2": [11.0, 7.5]})
    a = I.areas_by_commune(polys).set_index("code_commune")
    assert a.loc["1", "area_km2"] == 10.0 and a.loc["1", "area_source"] == "ign"
    assert a.loc["2", "area_km2"] == 7.5 and a.loc["2", "area_source"] == "polygone"


def test_finalize_published_and_metro_only(base):
    memb = _memb(3, [("territory", "T", "T", [0, 1]), ("departement", "99", "D", [0, 1, 2]),
                     ("france", "FR", "France entière", [0, 1, 2])])
    reg = _reg("poverty_rate_2021", "median_income_2021", "count_gp_bpe2024")
    agg = I.aggregate(base, memb, reg)
    pub = pd.DataFrame({"level": ["departement", "departement"], "code": ["99", "99"],
                        "indicator_id": ["poverty_rate_2021", "median_income_2021"],
                        "value": [14.9, 21970.0]})
    t = I.finalize(agg, pub, reg).set_index(["indicator_id", "level"])
    assert t.loc[("poverty_rate_2021", "departement"), "value"] == 14.9
    assert t.loc[("poverty_rate_2021", "departement"), "method"] == "publié (PTOD)"
    assert t.loc[("median_income_2021", "departement"), "value"] == 21970
    assert t.loc[("poverty_rate_2021", "territory"), "value"] == pytest.approx(20.0)
    # poverty is metropolitan-only: France entière is n.d.; BPE counts cover France entière
    assert math.isnan(t.loc[("poverty_rate_2021", "france"), "value"])
    assert t.loc[("count_gp_bpe2024", "france"), "value"] == 7
    assert list(I.finalize(agg, pub, reg).columns) == I.TIDY_COLUMNS


def test_catalogue_shape_and_json(base):
    memb = _memb(3, [("territory", "T", "T", [0, 1]), ("epci", "123456789", "E", [0, 1]),
                     ("departement", "99", "D", [0, 1, 2])])
    reg = _reg("poverty_rate_2021", "density_2022")
    tidy = I.finalize(I.aggregate(base, memb, reg), None, reg)
    tidy.loc[tidy["level"] == "epci", "value"] = np.nan

    class T:
        id, name, communes, epcis, departements, regions = "t", "T", ["00001", "00002"], ["123456789"], ["99"], []

    cat = catalogue_from_tidy(tidy, T)
    assert set(cat) == {"territory", "indicators"}
    assert set(cat["territory"]) == {"id", "name", "communes", "epcis", "departements", "regions"}
    ind = cat["indicators"][0]
    # no published value in this frame: no "values_same_basis" key
    assert set(ind) == {"id", "label", "unit", "source", "vintage", "values", "coverage"}
    assert set(ind["values"]) == {"territory", "epci", "departement", "region", "france_metro", "france"}
    assert set(ind["coverage"]) == set(ind["values"])
    # poverty: only A (1000 of the 1100 inhabitants) has a rate
    assert ind["coverage"]["territory"] == {"communes": 2, "communes_missing": 1,
                                            "population_share": round(1000 / 1100, 6)}
    assert ind["values"]["epci"] == {"123456789": None}  # NaN -> null
    assert ind["values"]["france"] is None
    json.dumps(cat, allow_nan=False)


def test_registry_documents_every_indicator():
    required = ["population_2022", "population_2016", "population_2011", "density_2022",
                "share_60p_2022", "share_75p_2022", "ageing_index_2022", "apl_mg_2022",
                "apl_mg_2023", "apl_mg_moins65_2023", "share_pop_apl_mg_lt_2_5_2023",
                "density_gp_bpe2024", "density_nurse_bpe2024", "poverty_rate_2021",
                "unemployment_1564_2022"]
    for i in required:
        assert i in REG
    for i, d in REG.items():
        for k in ("label", "unit", "formula", "source", "vintage"):
            assert isinstance(d[k], str) and d[k].strip(), (i, k)
    # duplicate ids cannot be seen on the loaded dict: test_registry_loader_refuses_duplicate_ids
    # feeds a YAML text with one and checks the refusal


def test_missing_data_raises_clear_error(isolated_data):
    from cpts_diag.errors import DataNotInstalledError

    with pytest.raises(DataNotInstalledError, match="cpts-diag data install"):
        I.national_data()


def test_registry_markdown_one_row_per_id():
    md = I.registry_markdown()
    assert md.count("\n| `") == len(REG)
    assert "| `ageing_index_2022` |" in md


def test_registry_loader_refuses_duplicate_ids():
    entry = ("  label: L\n  unit: u\n  formula: f\n  source: s\n  source_id: x\n  vintage: '2022'\n"
             "  decimals: 0\n  theme: population\n  coverage: france\n  compute: {kind: sum, col: one}\n")
    ok = "a:\n" + entry + "b:\n" + entry
    assert list(I.load_registry(text=ok)) == ["a", "b"]
    with pytest.raises(ValueError, match="« a » en double"):
        I.load_registry(text="a:\n" + entry + "a:\n" + entry)
    # a duplicate key inside one entry is refused too
    with pytest.raises(ValueError, match="en double"):
        I.load_registry(text="a:\n" + entry + "  unit: v\n")
    # still a safe loader: no arbitrary Python objects
    import yaml
    with pytest.raises(yaml.constructor.ConstructorError):
        I.load_yaml_unique("x: !!python/object/apply:os.system ['true']")


def test_hospital_categories_and_non_care_entities():
    h = pd.DataFrame({
        "nom": ["CENTRE HOSPITALIER DE X", "CTRE PLANIF. FAMIL. HOPITAL DE X",
                "UNITE PENITENTIAIRE - CHU DE Y", "CDAG - CTRE DEPIST. ANON. & GRAT.",
                "ANTENNE SMUR DE Z", "HOSPICES CIVILS DE W - SIEGE", "CLINIQUE DU PARC",
                "USLD LES TILLEULS", "HOPITAL DE JOUR ST CYR L ECOLE"],
        "type": ["Centre Hospitalier (C.H.)"] * 3 + ["Centre Hospitalier Régional (C.H.R.)"] * 3
        + ["Etablissement de Soins Pluridisciplinaire", "Etablissement de Soins Longue Durée",
           "Centre Hospitalier (C.H.)"]})
    kept = I.care_hospitals(h)
    assert kept["nom"].tolist() == ["CENTRE HOSPITALIER DE X", "CLINIQUE DU PARC", "USLD LES TILLEULS",
                                    "HOPITAL DE JOUR ST CYR L ECOLE"]
    assert kept["categorie"].tolist() == ["Centre hospitalier", "Clinique (MCO)", "Soins de longue durée",
                                          "Centre hospitalier"]
    ex = I.excluded_hospitals(h).set_index("nom")
    assert ex.loc["CTRE PLANIF. FAMIL. HOPITAL DE X", "exclusion"] == "Centre de planification familiale"
    assert ex.loc["UNITE PENITENTIAIRE - CHU DE Y", "exclusion"] == "Unité sanitaire en milieu pénitentiaire"
    assert ex.loc["HOSPICES CIVILS DE W - SIEGE", "exclusion"] == "Entité administrative ou logistique"
    assert ex["motif"].notna().all() and len(ex) == 5
    # every FINESS type of the contract (§3.16) has a category
    assert len(I.HOSPITAL_CATEGORIES) == 11


def test_commune_base_counts_only_care_hospitals():
    com = pd.DataFrame({"code_commune": ["1", "2"], "nom": ["A", "B"], "dep": ["99", "99"],
                        "nom_dep": ["D", "D"], "reg": ["9", "9"], "nom_reg": ["R", "R"],
                        "epci_siren": ["e", "e"], "epci_nom": ["E", "E"]})
    pop = pd.DataFrame({"code_commune": ["1", "2"], **{f"pop_{k}": [1.0, 1.0] for k, _ in I.AGE_BANDS}})
    hosp = pd.DataFrame({"code_commune": ["1", "1", "2"],
                         "nom": ["CH DE A", "CENTRE DE PLANIFICATION FAMILIALE", "CLINIQUE B"],
                         "type": ["Centre Hospitalier (C.H.)"] * 2 + ["Etablissement de Soins Médicaux"]})
    empty = pd.DataFrame({"code_commune": ["1", "2"]})
    b = I.commune_base(com, pop, empty, empty, empty, empty, hosp)
    assert b["n_hospitals"].tolist() == [1.0, 1.0]
