"""Indicators on the real snapshot, checked against sums read straight from the CSV files
(csv / json modules, no cpts_diag code) and against the published PTOD values."""
from __future__ import annotations

import csv
import json
import math

import pytest

from cpts_diag import catalogue as C
from cpts_diag import indicators as I
from cpts_diag.territory import Territory, known_cpts

pytestmark = pytest.mark.integration


def _read(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _f(x):
    return float(x) if x not in ("", None) else None


@pytest.fixture(scope="module")
def snap(snapshot_dir):
    pop = {r["code_commune"]: r for r in _read(snapshot_dir / "insee" / "population_communes_rp2022.csv")}
    cog = _read(snapshot_dir / "cog" / "communes.csv")
    return {"dir": snapshot_dir, "pop": pop, "cog": cog}


@pytest.fixture(scope="module")
def ondaine():
    return Territory.load("ondaine-forez")


@pytest.fixture(scope="module")
def tidy(ondaine):
    return I.compute_all(ondaine)


def _val(t, iid, level="territory", code=None):
    r = t[(t["indicator_id"] == iid) & (t["level"] == level)]
    if code is not None:
        r = r[r["code"] == code]
    assert len(r) == 1, (iid, level, code)
    return r.iloc[0]["value"]


def test_territory_population_is_sum_of_its_communes(snap, tidy, ondaine):
    expected = sum(float(snap["pop"][c]["pop_2022"]) for c in ondaine.communes)
    assert _val(tidy, "population_2022") == pytest.approx(expected, abs=1e-6)


def test_loire_population_is_sum_of_its_320_communes(snap, tidy):
    loire = [r["code_commune"] for r in snap["cog"] if r["dep"] == "42"]
    assert len(loire) == 320
    expected = sum(float(snap["pop"][c]["pop_2022"]) for c in loire)
    assert _val(tidy, "population_2022", "departement", "42") == pytest.approx(expected, abs=1e-6)
    assert _val(tidy, "n_communes", "departement", "42") == 320


def test_ageing_index_and_shares_are_ratios_of_sums(snap, tidy, ondaine):
    rows = [snap["pop"][c] for c in ondaine.communes]
    s = lambda k: sum(float(r[k]) for r in rows)  # noqa: E731
    assert _val(tidy, "ageing_index_2022") == pytest.approx(100 * s("pop_65p") / s("pop_0_19"))
    assert _val(tidy, "share_75p_2022") == pytest.approx(100 * s("pop_75p") / s("pop_2022"))
    assert _val(tidy, "share_60p_2022") == pytest.approx(100 * s("pop_60p") / s("pop_2022"))


def test_growth_rate_uses_insee_dossier_complet_where_national_table_is_empty(snap, tidy, ondaine):
    rows = {c: snap["pop"][c] for c in ondaine.communes}
    assert [c for c, r in rows.items() if not r["pop_2016"]] == ["42316"]  # Unieux, contract §3.6
    with open(snap["dir"] / "insee" / "population_age_rp2022_dep42_43.csv", encoding="utf-8") as fh:
        insee = {r["CODGEO"]: r for r in csv.DictReader(fh)}
    p16 = {c: float(r["pop_2016"]) if r["pop_2016"] else float(insee[c]["P16_POP"]) for c, r in rows.items()}
    e = sum(float(r["pop_2022"]) for r in rows.values()) / sum(p16.values())
    assert _val(tidy, "pop_growth_2016_2022") == pytest.approx((e ** (1 / 6) - 1) * 100)
    assert _val(tidy, "population_2016") == pytest.approx(sum(p16.values()))
    row = tidy[(tidy["indicator_id"] == "pop_growth_2016_2022") & (tidy["level"] == "territory")].iloc[0]
    assert row["n_missing"] == 0


def test_density_uses_ign_surfaces(snap, tidy, ondaine):
    gj = json.loads((snap["dir"] / "geo" / "communes_metro.geojson").read_text(encoding="utf-8"))
    area = {f["properties"]["code_commune"]: f["properties"]["surface_km2_ign"] for f in gj["features"]}
    pop = sum(float(snap["pop"][c]["pop_2022"]) for c in ondaine.communes)
    surf = sum(area[c] for c in ondaine.communes)
    assert _val(tidy, "area_km2") == pytest.approx(surf)
    assert _val(tidy, "density_2022") == pytest.approx(pop / surf)


def test_apl_weighted_by_pop_std_and_threshold_by_pop_tot(snap, tidy, ondaine):
    members = set(ondaine.communes)
    num = den = lt = tot = 0.0
    with open(snap["dir"] / "drees" / "apl_communes.csv", newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if (r["annee"] == "2023" and r["profession"] == "medecin_generaliste"
                    and r["code_commune_cog2025"] in members):
                apl, w, pt = float(r["apl"]), float(r["pop_std"]), float(r["pop_tot"])
                num += apl * w
                den += w
                tot += pt
                lt += pt if apl < 2.5 else 0.0
    assert _val(tidy, "apl_mg_2023") == pytest.approx(num / den)
    assert _val(tidy, "share_pop_apl_mg_lt_2_5_2023") == pytest.approx(100 * lt / tot)
    # APL covers France entière (DROM) in 2023
    assert not math.isnan(_val(tidy, "apl_mg_2023", "france"))


def test_bpe_counts_and_density(snap, tidy, ondaine):
    members = set(ondaine.communes)
    n = sum(int(r["nb"]) for r in _read(snap["dir"] / "insee" / "bpe2024_sante.csv")
            if r["typequ"] == "D265" and r["code_commune"] in members)
    pop = sum(float(snap["pop"][c]["pop_2022"]) for c in ondaine.communes)
    assert _val(tidy, "count_gp_bpe2024") == n
    assert _val(tidy, "density_gp_bpe2024") == pytest.approx(n / pop * 10000)


def test_published_values_for_medians_and_poverty(snap, tidy):
    ptod = {(r["niveau"], r["code"]): r for r in _read(snap["dir"] / "insee" / "indicateurs_territoires_ptod.csv")}
    assert _val(tidy, "median_income_2021", "departement", "42") == float(ptod[("departement", "42")]["revenu_median_2021"])
    assert _val(tidy, "poverty_rate_2021", "region", "84") == float(ptod[("region", "84")]["taux_pauvrete_2021"])
    assert _val(tidy, "poverty_rate_2021", "france_metro") == float(ptod[("france_metro", "FRM")]["taux_pauvrete_2021"])
    assert math.isnan(_val(tidy, "median_income_2021"))  # a mean of medians is not a median


def test_poverty_rate_territory_is_weighted_over_covered_communes(snap, tidy, ondaine):
    s = {r["code_commune"]: r for r in _read(snap["dir"] / "insee" / "socio_communes.csv")}
    cov = [c for c in ondaine.communes if s[c]["taux_pauvrete_2021"]]
    w = {c: float(snap["pop"][c]["pop_2022"]) for c in cov}
    exp = sum(float(s[c]["taux_pauvrete_2021"]) * w[c] for c in cov) / sum(w.values())
    assert _val(tidy, "poverty_rate_2021") == pytest.approx(exp)
    row = tidy[(tidy["indicator_id"] == "poverty_rate_2021") & (tidy["level"] == "territory")].iloc[0]
    assert row["n_missing"] == len(ondaine.communes) - len(cov) > 0
    assert "population couverte" in row["note"]


def test_levels_and_metro_only(tidy, ondaine):
    assert set(tidy["level"]) == set(I.LEVELS)
    assert set(tidy.loc[tidy["level"] == "epci", "code"]) == set(ondaine.epcis)
    assert set(tidy.loc[tidy["level"] == "departement", "code"]) == {"42", "43"}
    assert math.isnan(_val(tidy, "population_2022", "france"))
    assert _val(tidy, "count_gp_bpe2024", "france") > _val(tidy, "count_gp_bpe2024", "france_metro")
    for c in I.TIDY_COLUMNS:
        assert c in tidy.columns
    # every registry id, every level
    n_groups = tidy[["level", "code"]].drop_duplicates().shape[0]
    assert len(tidy) == n_groups * len(I.INDICATORS)
    assert list(dict.fromkeys(tidy["indicator_id"])) == list(I.INDICATORS)


def test_epci_parts_add_up(tidy, ondaine):
    parts = tidy[(tidy["indicator_id"] == "population_2022") & (tidy["level"] == "epci")]["value"].sum()
    assert parts == pytest.approx(_val(tidy, "population_2022"))


def test_commune_table(snap, ondaine):
    ct = I.commune_table(ondaine)
    assert ct["code_commune"].tolist() == ondaine.communes
    for col in ["nom", "epci_nom", "population_2022", "population_2016", "pop_growth_2016_2022",
                "area_km2", "density_2022", "ageing_index_2022", "share_75p_2022", "apl_mg_2023",
                "apl_mg_moins65_2023", "apl_inf_2023", "apl_kine_2023", "apl_sf_2023",
                "apl_dent_2023", "count_gp_bpe2024", "count_pharmacy_bpe2024"]:
        assert col in ct.columns, col
    fir = ct.set_index("code_commune").loc["42095"]
    p = snap["pop"]["42095"]
    assert fir["ageing_index_2022"] == pytest.approx(100 * float(p["pop_65p"]) / float(p["pop_0_19"]))
    assert fir["population_2022"] == float(p["pop_2022"])
    # secret stays NaN in the commune table
    socio = {r["code_commune"]: r for r in _read(snap["dir"] / "insee" / "socio_communes.csv")}
    secret = [c for c in ondaine.communes if not socio[c]["taux_pauvrete_2021"]]
    assert ct.set_index("code_commune").loc[secret, "poverty_rate_2021"].isna().all()
    # arbitrary lists keep their order
    cv = I.commune_values(["69123", "42095"])
    assert cv["code_commune"].tolist() == ["69123", "42095"]


def test_age_structure(ondaine):
    a = I.age_structure(ondaine)
    assert set(a["band"]) == {b for b, _ in I.AGE_BANDS}
    sums = a.groupby(["level", "code"])["share"].sum()
    assert (sums - 100).abs().max() < 1e-9
    assert "france" not in set(a["level"])


# FINESS rows of the 25 communes of ondaine-forez in finess/etablissements_sante.csv: all six provide care
ONDAINE_FINESS = {"420000234", "420000242", "420000275", "420002669", "420787186", "420789307"}


def test_hospitals(snap, ondaine, tidy):
    raw = [r for r in _read(snap["dir"] / "finess" / "etablissements_sante.csv")
           if r["code_commune"] in set(ondaine.communes)]
    assert {r["finess"] for r in raw} == ONDAINE_FINESS
    h = I.hospitals(ondaine)
    assert set(h["finess"]) == ONDAINE_FINESS
    assert _val(tidy, "n_hospitals_finess2020") == len(h) == 6
    assert I.hospitals_excluded(ondaine).empty
    assert {"finess", "nom", "type", "statut", "commune"} <= set(h.columns)
    assert "42095" in set(h["code_commune"])  # CH de Firminy


def test_catalogue_json_and_cli(ondaine, capsys):
    cat = C.catalogue(ondaine)
    json.dumps(cat, allow_nan=False)
    assert cat["territory"]["communes"] == ondaine.communes
    ids = [i["id"] for i in cat["indicators"]]
    assert ids == list(I.INDICATORS)
    ind = {i["id"]: i for i in cat["indicators"]}
    assert ind["population_2022"]["values"]["france"] is None
    assert set(ind["apl_mg_2023"]["values"]["epci"]) == set(ondaine.epcis)
    text = C.catalogue_text(cat)
    assert "Indice de vieillissement" in text and "n.d." in text
    from cpts_diag.cli import main
    assert main(["indicators", "ondaine-forez", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["territory"]["id"] == "ondaine-forez"


def test_every_known_cpts_computes():
    assert len(known_cpts()) >= 5  # the five perimeters of data/cpts/
    for cid in known_cpts():
        t = I.compute_all(cid)
        assert _val(t, "population_2022") > 0


def test_registry_columns_exist_in_the_national_frame():
    base = I.national_data().base
    for iid, d in I.INDICATORS.items():
        c = d["compute"]
        for k in ("col", "num", "den", "weight", "end", "start"):
            if k in c:
                assert c[k] in base.columns, (iid, k, c[k])


def test_bpe_totals_match_the_contract(tidy):
    # contract §3.11: D265 60,573 in France, 697 in the Loire; D281 103,023 and 1,535
    assert _val(tidy, "count_gp_bpe2024", "france") == 60573
    assert _val(tidy, "count_gp_bpe2024", "departement", "42") == 697
    assert _val(tidy, "count_nurse_bpe2024", "france") == 103023
    assert _val(tidy, "count_nurse_bpe2024", "departement", "42") == 1535


def test_ageing_index_close_to_published(snap, tidy):
    # contract §3.10: France row 89.92 published, 89.96 from the commune sums
    assert _val(tidy, "ageing_index_2022", "france_metro") == pytest.approx(89.96, abs=0.005)


def test_past_population_gap_filled_from_insee_dossier_complet(snapshot_dir):
    """42316 Unieux has no 2016/2011 IRIS rows in the national table; INSEE's dossier complet
    (42/43) gives P16_POP = 8 786 and P11_POP = 8 702 on the COG 2025 territory."""
    import csv

    from cpts_diag import indicators
    from cpts_diag.territory import Territory

    with open(snapshot_dir / "insee/population_communes_rp2022.csv", encoding="utf-8") as fh:
        nat = next(r for r in csv.DictReader(fh) if r["code_commune"] == "42316")
    assert nat["pop_2016"] == "" and nat["pop_2011"] == ""
    ct = indicators.commune_table(Territory.load("ondaine-forez")).set_index("code_commune")
    assert ct.loc["42316", "population_2016"] == 8786
    assert ct.loc["42316", "population_2011"] == 8702
