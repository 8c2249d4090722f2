"""A small fixture territory for the report sections: three communes, hand-made values, square
polygons, no data files read (so the sections are tested without the snapshot or the notebook).

Commune values are chosen so that rules can be checked by hand: APL 1,9 / 2,5 / 4,0 (one commune
per DREES class, two of them exactly on the thresholds), one commune of 180 inhabitants (a small
commune whose value is quoted as an extreme), a secret poverty rate.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

CODES = ["99001", "99002", "99003"]
NAMES = ["Alpha", "Bêta", "Gamma"]
POP = [1200.0, 800.0, 180.0]
APL = [1.9, 2.5, 4.0]
#: Values per level for every indicator (territory, epci, département, région, France métro, France).
LEVEL_VALUES = {"territory": 10.0, "epci": 10.0, "departement": 12.0, "region": 11.0,
                "france_metro": 8.0, "france": 8.1}
LEVEL_CODES = {"territory": ("fixture", "CPTS Fixture"), "epci": ("200000001", "CC Fixture"),
               "departement": ("42", "Loire"), "region": ("84", "Auvergne-Rhône-Alpes"),
               "france_metro": ("FRM", "France métropolitaine"), "france": ("FR", "France entière")}
#: Hand-set values of a few indicators (level → value); the others take LEVEL_VALUES.
OVERRIDES = {
    "apl_mg_2023": {"territory": 2.6, "departement": 3.5, "region": 3.6, "france_metro": 3.7, "france": 3.7},
    "share_pop_apl_mg_lt_2_5_2023": {"territory": 55.0, "departement": 14.0, "france_metro": 16.0},
    "share_pop_apl_mg_2_5_4_2023": {"territory": 37.0},
    "share_pop_apl_mg_ge_4_2023": {"territory": 8.0},
    "population_2022": {"territory": sum(POP)},
    # MSP and centres de santé (used when the registry defines them): as in bpe() for the territory
    "count_msp_bpe2024": {"territory": 2.0, "departement": 40.0, "region": 300.0, "france_metro": 2500.0},
    "count_cds_bpe2024": {"territory": 3.0, "departement": 45.0, "region": 400.0, "france_metro": 3400.0},
}


def territory(name: str = "CPTS Fixture"):
    from cpts_diag.territory import Territory

    return Territory(id="fixture", name=name, communes=list(CODES), members={"communes": list(CODES)},
                     epcis=["200000001"], departements=["42"], regions=["84"],
                     source="fixture de test", valid_from="2024-01-01")


def tidy() -> pd.DataFrame:
    from cpts_diag import indicators as ind

    rows = []
    for iid, d in ind.INDICATORS.items():
        for level, base in LEVEL_VALUES.items():
            code, name = LEVEL_CODES[level]
            v = OVERRIDES.get(iid, {}).get(level, base)
            rows.append({"indicator_id": iid, "label": d["label"], "unit": d["unit"], "source": d["source"],
                         "vintage": str(d["vintage"]), "theme": d.get("theme"), "level": level, "code": code,
                         "name": name, "value": v, "method": "calculé", "n_communes": 3.0,
                         "n_missing": 0.0, "coverage": 1.0, "note": "", "value_same_basis": np.nan})
    t = pd.DataFrame(rows)
    pov = (t["indicator_id"] == "poverty_rate_2021")
    t.loc[pov & (t["level"] == "territory"), ["n_missing", "coverage"]] = [2.0, 0.55]
    t.loc[pov & (t["level"] == "departement"), "value_same_basis"] = 13.0
    t.loc[pov & (t["level"] == "france_metro"), "value_same_basis"] = 9.0
    return t


def communes() -> pd.DataFrame:
    from cpts_diag import indicators as ind

    c = pd.DataFrame({"code_commune": CODES, "nom": NAMES, "dep": "42", "epci_siren": "200000001",
                      "epci_nom": "CC Fixture", "population_2022": POP, "complet_2022": 1})
    for iid in ind.INDICATORS:
        if iid not in c.columns:
            c[iid] = [5.0, 7.0, 9.0]
    c["population_2022"] = POP
    c["apl_mg_2023"] = APL
    c["apl_mg_moins65_2023"] = APL
    c["ageing_index_2022"] = [80.0, 120.0, 871.4]
    c["poverty_rate_2021"] = [15.0, np.nan, np.nan]
    return c


def polygons():
    import geopandas as gpd
    from shapely.geometry import box

    def squares(xs):
        return [box(800_000 + 5000 * i, 6_500_000, 805_000 + 5000 * i, 6_505_000) for i in xs]

    inside = gpd.GeoDataFrame({"code_commune": CODES}, geometry=squares(range(3)),
                              crs=2154).to_crs(4326)
    context = gpd.GeoDataFrame({"code_commune": ["99004"], "nom": ["Delta"]}, geometry=squares([3]),
                               crs=2154).to_crs(4326)
    return inside, context


def hospitals() -> pd.DataFrame:
    """One care establishment in Alpha, one family-planning centre (excluded) in Bêta."""

    inside, _ = polygons()
    pts = inside.to_crs(2154).geometry.centroid.to_crs(4326)
    return pd.DataFrame({
        "finess": ["990000011", "990000029"], "nom": ["CENTRE HOSPITALIER ALPHA", "CENTRE DE PLANIFICATION BETA"],
        "site": [None, None], "type": ["Centre Hospitalier (C.H.)", "Centre Hospitalier (C.H.)"],
        "statut": ["public", "public"], "code_commune": ["99001", "99002"], "adresse": ["", ""],
        "lat": [pts.iloc[0].y, pts.iloc[1].y], "lon": [pts.iloc[0].x, pts.iloc[1].x]})


def sae(full: bool = False) -> pd.DataFrame:
    """SAE 2022 rows (columns of ``drees/sae2022_etablissements.csv``). By default only the CH of
    Alpha (also in FINESS: the SAE row replaces it, counts unchanged). ``full`` adds a private
    for-profit clinic in Gamma (code 365, labelled through its derived FINESS 2020 label), a
    non-profit HAD in Bêta (code 127: label from the data contract) and a public CH in Delta, outside
    the territory; none of the three is in FINESS, so they have no coordinates."""
    rows = [("990000011", "CENTRE HOSPITALIER ALPHA", "990000003", "355", "PUB2", "99001",
             "Centre Hospitalier (C.H.)")]
    if full:
        rows += [("990000037", "CLINIQUE GAMMA", "990000102", "365", "PLU4", "99003",
                  "Etablissement de Soins Pluridisciplinaire"),
                 ("990000045", "HAD BETA", "990000110", "127", "PNL5", "99002", None),
                 ("990000052", "CENTRE HOSPITALIER DELTA", "990000128", "355", "PUB2", "99004", None)]
    cols = ["finess", "raison_sociale", "finess_entite_juridique", "categorie", "categorie_regroupee",
            "code_commune_cog2025", "categorie_libelle_derive"]
    return pd.DataFrame(rows, columns=cols).assign(annee=2022, dep="99", reg="99")


def bpe() -> pd.DataFrame:
    """BPE health counts: MSP (D113) 1 in Alpha and 1 in Gamma; centres de santé (D108) 2 in
    Alpha and 1 in Bêta (MSP 2, centres 3 in the territory); a GP address (D265, not counted) in
    Bêta; 5 MSP in Delta, outside."""
    return pd.DataFrame({"code_commune": ["99001", "99001", "99003", "99002", "99002", "99004"],
                         "typequ": ["D113", "D108", "D113", "D108", "D265", "D113"],
                         "nb": [1, 2, 1, 1, 4, 5]})


#: liberal nurses (niveau, code, name, year, sex) → counts by band: total, 55–59, 60–64, 65+
#: Loire 2023: 55+ = 32 / 200 = 16,0 %, 60+ = 12 / 200 = 6,0 %; Auvergne-Rhône-Alpes 2023: 20,0 % and
#: 5,0 %; France 2023: 22,0 % and 9,0 %. The 2022 and « Femmes » rows must be ignored.
NURSES = {("departement", "42", "Loire", 2023, "Ensemble"): (200, 20, 10, 2),
          ("departement", "42", "Loire", 2022, "Ensemble"): (100, 50, 0, 0),
          ("departement", "42", "Loire", 2023, "Femmes"): (150, 75, 0, 0),
          ("region", "84", "Auvergne-Rhône-Alpes", 2023, "Ensemble"): (1000, 150, 40, 10),
          ("france_hors_mayotte", None, None, 2023, "Ensemble"): (10000, 1300, 700, 200)}


def nurse_ages() -> pd.DataFrame:
    """The DREES nurse file's layout for :data:`NURSES` (other bands: the rest, « Entre 40 et 44 ans »)."""
    rows = []
    for (niveau, code, name, year, sexe), (tot, a55, a60, a65) in NURSES.items():
        bands = {"Ensemble": tot, "Entre 40 et 44 ans": tot - a55 - a60 - a65,
                 "Entre 55 et 59 ans": a55, "Entre 60 et 64 ans": a60, "65 ans et plus": a65}
        for band, n in bands.items():
            rows.append({"niveau": niveau, "reg": "84" if niveau != "france_hors_mayotte" else None,
                         "nom_reg": "Auvergne-Rhône-Alpes" if niveau != "france_hors_mayotte" else None,
                         "dep": code if niveau == "departement" else None,
                         "nom_dep": name if niveau == "departement" else None,
                         "sexe": sexe, "tranche_age": band, "annee": year, "effectif": n})
    return pd.DataFrame(rows)


def context(name: str = "CPTS Fixture", **kw):
    """The fixture :class:`~cpts_diag.report.context.ReportContext` (no data file read)."""
    from cpts_diag.finess import care_hospitals
    from cpts_diag.report.context import ReportContext

    h = care_hospitals(hospitals())
    h = h.assign(statut="public", commune=h["code_commune"].map(dict(zip(CODES, NAMES))))
    kw.setdefault("all_sae", sae())
    kw.setdefault("bpe_health", bpe())
    kw.setdefault("nurse_ages", nurse_ages())
    kw.setdefault("all_hospitals", hospitals())
    return ReportContext(territory(name), tidy(), communes(), h, polygons=polygons(),
                         epci_sizes=pd.DataFrame({"epci_siren": ["200000001"], "n_communes": [5]}),
                         **kw)
