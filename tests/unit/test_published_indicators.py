"""Indicators added by issue 10 item 5, on hand-made frames (no data): values published by their
source for départements / régions / France only (``compute.kind: published``), the BPE counts of
maisons de santé (D113) and centres de santé (D108), and the bassin-de-vie estimate
(``compute.kind: bv_estimate``). Every expected value is computed by hand in the comments."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from cpts_diag import indicators as I
from cpts_diag.aggregation import (METHOD_ESTIMATED, METHOD_NOT_PUBLISHED, METHOD_SOURCE,
                                   source_values)
from cpts_diag.catalogue import catalogue_from_tidy, catalogue_text
from cpts_diag.errors import CptsDiagError
from cpts_diag.health_status import MIN_COVERAGE

VACC = {"label": "Couverture test", "unit": "%", "formula": "f", "source": "SPF",
        "source_id": "vaccination_spf", "vintage": "2024", "decimals": 1, "theme": "sante",
        "coverage": "france", "geography": "département, région, France", "note": None,
        "flags": [], "short_label": "Couverture test",
        "compute": {"kind": "published", "dataset": "vaccination",
                    "indicator": "Grippe 65 ans et plus", "year": 2024}}
MORT = {**VACC, "label": "Mortalité test", "unit": "décès pour 100 000 hab. (taux standardisé)",
        "geography": "département", "short_label": "Mortalité test",
        "compute": {"kind": "published", "dataset": "mortality", "cause": "Toutes causes",
                    "sexe": "Tous sexes", "year": 2023}}
REG = {"vacc": VACC, "mort": MORT}


def _vaccination():
    return pd.DataFrame({
        "annee": [2023, 2024, 2024, 2024, 2024],
        "niveau": ["departement", "departement", "departement", "region", "france"],
        "code": ["42", "42", "71", "84", "FR"],
        "libelle": ["Loire", "Loire", "Saône-et-Loire", "ARA", "France"],
        "indicateur": ["Grippe 65 ans et plus"] * 4 + ["Grippe 65 ans et plus"],
        "valeur": [52.3, 51.9, 53.1, 53.1, 53.7], "unite": "%"})


def _mortality():
    return pd.DataFrame({"annee": [2023, 2023, 2022], "departement": ["42", "42", "42"],
                         "sexe": ["Tous sexes", "Hommes", "Tous sexes"],
                         "cause": ["Toutes causes"] * 3, "valeur": [911.6, 1100.0, 900.0]})


def _base():
    """Two communes of département 42 (région 84), one of 71 (région 27)."""
    return pd.DataFrame({
        "code_commune": ["42001", "42002", "71001"], "pop_2022": [1000.0, 3000.0, 500.0],
        "one": [1.0, 1.0, 1.0], "bpe_D113": [1.0, 0.0, 2.0], "bpe_D108": [0.0, 3.0, 0.0],
        "bv_part_ald_2024": [20.0, 10.0, np.nan],
        "complet_2022": [1, 1, 1], "area_source": ["ign"] * 3})


def _memb(groups):
    return pd.DataFrame([{"row": r, "level": lv, "code": c, "name": n}
                         for lv, c, n, rows in groups for r in rows])


GROUPS = [("territory", "T", "CPTS", [0, 2]), ("epci", "E", "EPCI", [0]),
          ("departement", "42", "Loire", [0, 1]), ("region", "84", "ARA", [0, 1]),
          ("region", "27", "BFC", [2]), ("france", "FR", "France", [0, 1, 2])]


def _tidy(registry):
    agg = I.aggregate(_base(), _memb(GROUPS), registry, missing_codes=True)
    src = source_values({"vaccination": _vaccination(), "mortality": _mortality()}, registry)
    return I.finalize(agg, registry=registry, sourced=src)


def _row(t, iid, level, code):
    r = t[(t["indicator_id"] == iid) & (t["level"] == level) & (t["code"] == code)]
    assert len(r) == 1
    return r.iloc[0]


def test_source_values_reads_the_selected_rows_only():
    v = source_values({"vaccination": _vaccination(), "mortality": _mortality()}, REG)
    got = {(r.indicator_id, r.level, r.code): r.value for r in v.itertuples()}
    # 2024 only (52.3 is 2023), Tous sexes only (1100 is Hommes), 2023 only (900 is 2022)
    assert got == {("vacc", "departement", "42"): 51.9, ("vacc", "departement", "71"): 53.1,
                   ("vacc", "region", "84"): 53.1, ("vacc", "france", "FR"): 53.7,
                   ("mort", "departement", "42"): 911.6}


def test_published_value_for_a_departement_nan_for_the_territory_and_a_missing_region():
    t = _tidy(REG)
    dep = _row(t, "vacc", "departement", "42")
    assert dep["value"] == 51.9 and dep["method"] == METHOD_SOURCE
    assert _row(t, "vacc", "france", "FR")["value"] == 53.7
    for level, code in (("territory", "T"), ("epci", "E")):
        r = _row(t, "vacc", level, code)
        assert math.isnan(r["value"]) and r["method"] == METHOD_NOT_PUBLISHED
        assert "département, région, France" in r["note"]
    missing_region = _row(t, "vacc", "region", "27")  # not in the file: n.d., never computed
    assert math.isnan(missing_region["value"]) and missing_region["method"] == METHOD_NOT_PUBLISHED
    # mortality: département only, no région nor France
    assert _row(t, "mort", "departement", "42")["value"] == 911.6
    for level, code in (("region", "84"), ("france", "FR"), ("territory", "T")):
        assert math.isnan(_row(t, "mort", level, code)["value"])


def test_catalogue_says_where_a_published_value_exists():
    class Terr:
        id, name, communes, epcis, departements, regions = "T", "CPTS", ["42001"], ["E"], ["42"], ["84"]

    reg = {"vacc_flu_65p_2024": I.INDICATORS["vacc_flu_65p_2024"]}
    vac = _vaccination().assign(indicateur="Grippe 65 ans et plus")
    agg = I.aggregate(_base(), _memb(GROUPS), reg)
    tidy = I.finalize(agg, registry=reg, sourced=source_values({"vaccination": vac}, reg))
    cat = catalogue_from_tidy(tidy, Terr)
    ind = cat["indicators"][0]
    assert ind["values"]["territory"] is None and ind["values"]["departement"]["42"] == 51.9
    assert ind["coverage"]["departement"]["42"] is None  # not computed from communes
    assert ind["geography"] == "département, région, France"
    text = catalogue_text(cat, epcis=False)
    assert "n.d." in text and "publié par département, région, France" in text


def test_a_spec_matching_no_row_raises_a_clear_error():
    bad = {"x": {**VACC, "compute": {**VACC["compute"], "indicator": "Grippe 65+"}}}
    with pytest.raises(CptsDiagError, match="indicateur x.*Correctif"):
        source_values({"vaccination": _vaccination()}, bad)
    # a dataset not given (older snapshot) leaves the indicator out: its comparators stay n.d.
    assert source_values({"vaccination": None}, REG).empty


def test_registry_requires_geography_and_a_known_dataset():
    entry = """x:
  label: X
  unit: '%'
  formula: f
  source: s
  source_id: vaccination_spf
  vintage: '2024'
  decimals: 1
  theme: sante
  coverage: france
  compute: {kind: published, dataset: vaccination, indicator: A, year: 2024}
"""
    with pytest.raises(ValueError, match="geography"):
        I.load_registry(text=entry)
    with pytest.raises(ValueError, match="dataset"):
        I.load_registry(text=entry.replace("dataset: vaccination", "dataset: autre")
                        + "  geography: département\n")
    with pytest.raises(ValueError, match="year"):
        I.load_registry(text=entry.replace(", year: 2024", "") + "  geography: département\n")
    ok = I.load_registry(text=entry + "  geography: département, région\n")
    assert ok["x"]["geography"] == "département, région"


def test_msp_and_health_centre_counts_and_densities():
    bpe = pd.DataFrame({"code_commune": ["42001", "71001", "71001", "42002"],
                        "typequ": ["D113", "D113", "D113", "D108"], "nb": [1, 1, 1, 3]})
    w = I.bpe_by_commune(bpe, pd.Series(["42001", "42002", "71001"])).set_index("code_commune")
    assert w["bpe_D113"].tolist() == [1.0, 0.0, 2.0]  # 71001: two rows summed; 42002 absent: 0
    assert w["bpe_D108"].tolist() == [0.0, 3.0, 0.0]
    ids = ("count_msp_bpe2024", "count_cds_bpe2024", "density_msp_bpe2024", "density_cds_bpe2024")
    reg = {i: I.INDICATORS[i] for i in ids}
    agg = I.aggregate(_base(), _memb(GROUPS), reg).set_index(["indicator_id", "level", "code"])
    # territory = communes 42001 + 71001: MSP 1 + 2 = 3, CdS 0 + 0 = 0, pop 1000 + 500
    assert agg.loc[("count_msp_bpe2024", "territory", "T"), "value"] == 3
    assert agg.loc[("count_cds_bpe2024", "territory", "T"), "value"] == 0
    assert agg.loc[("count_cds_bpe2024", "departement", "42"), "value"] == 3
    assert agg.loc[("density_msp_bpe2024", "territory", "T"), "value"] == pytest.approx(3 / 1500 * 1e4)
    # Loire: 3 centres for 4 000 inhabitants = 7.5 per 10 000
    assert agg.loc[("density_cds_bpe2024", "departement", "42"), "value"] == pytest.approx(7.5)
    per_commune = I.commune_indicators(_commune_frame())
    assert per_commune["count_msp_bpe2024"].tolist() == [1.0, 0.0, 2.0]
    assert per_commune["density_cds_bpe2024"].tolist() == pytest.approx([0.0, 10.0, 0.0])


def _commune_frame():
    """The minimal commune frame commune_indicators needs, for the three communes."""
    b = _base()
    n = len(b)
    extra = {c: [np.nan] * n for c in (
        "pop_2016", "pop_2011", "area_km2", "pop_65p", "pop_0_19", "pop_60p", "pop_75p", "pop_80p",
        "pct_80p_seuls_2022", "chomage_1564_2022", "taux_pauvrete_2021", "revenu_median_2021",
        *(f"bpe_{c}" for c in I.BPE_CODES))}
    return b.assign(nom="x", dep="42", epci_siren="E", epci_nom="EPCI", n_hospitals=0.0,
                    area_source="ign", **extra)


def test_bv_estimate_is_the_population_weighted_mean_of_the_bv_values():
    reg = {"share_ald_bv2024": I.INDICATORS["share_ald_bv2024"]}
    t = I.finalize(I.aggregate(_base(), _memb(GROUPS), reg, missing_codes=True), registry=reg)
    # Loire: (20 × 1000 + 10 × 3000) / 4000 = 12.5, every commune's BV known: coverage 1
    dep = _row(t, "share_ald_bv2024", "departement", "42")
    assert dep["value"] == pytest.approx(12.5) and dep["coverage"] == 1
    assert dep["method"] == METHOD_ESTIMATED
    # territory: 71001 (500 inh.) has no BV value: coverage 1000 / 1500 = 0.667 < 0.8 -> n.d.
    assert MIN_COVERAGE == 0.8
    terr = _row(t, "share_ald_bv2024", "territory", "T")
    assert math.isnan(terr["value"]) and terr["coverage"] == pytest.approx(1000 / 1500)
    assert "non estimé" in terr["note"] and "71001" in terr["note"]
    # EPCI (42001 alone): 20
    assert _row(t, "share_ald_bv2024", "epci", "E")["value"] == 20


def test_bv_by_commune_gives_each_commune_its_bassin_de_vie_value():
    com = pd.DataFrame({"code_commune": ["1", "2", "3"], "bv2022": ["B1", "B1", "B9"]})
    carto = pd.DataFrame({"code_bv2022": ["B1", "B2"], "part_ald_2024": [21.5, 18.0]})
    out = I.bv_by_commune(com, carto, ["part_ald_2024"])
    assert out["code_commune"].tolist() == ["1", "2", "3"]
    assert out["bv_part_ald_2024"].tolist()[:2] == [21.5, 21.5]
    assert math.isnan(out["bv_part_ald_2024"].iloc[2])  # BV absent from the table: NaN, not 0
    with pytest.raises(CptsDiagError, match="part_ald_2024"):
        I.bv_by_commune(com, carto.drop(columns="part_ald_2024"), ["part_ald_2024"])
