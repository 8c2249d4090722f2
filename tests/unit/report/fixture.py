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


def context(name: str = "CPTS Fixture", **kw):
    """The fixture :class:`~cpts_diag.report.context.ReportContext` (no data file read)."""
    from cpts_diag.finess import care_hospitals
    from cpts_diag.report.context import ReportContext

    h = care_hospitals(hospitals())
    h = h.assign(statut="public", commune=h["code_commune"].map(dict(zip(CODES, NAMES))))
    return ReportContext(territory(name), tidy(), communes(), h, polygons=polygons(),
                         epci_sizes=pd.DataFrame({"epci_siren": ["200000001"], "n_communes": [5]}),
                         all_hospitals=hospitals(), **kw)
