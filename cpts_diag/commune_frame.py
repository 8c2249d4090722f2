"""The national commune frame: one row per COG 2025 commune with every input of the indicators
(pure functions, frames in → frames out), and the per-commune values of the indicators.

:func:`apl_by_commune`, :func:`bpe_by_commune`, :func:`areas_by_commune`,
:func:`fill_past_populations` shape each source; :func:`commune_base` joins them;
:func:`commune_indicators` gives each commune's values with the registry formulas.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .apl_params import APL_GP_THRESHOLDS  # DREES: < 2.5 under-served; 2.5–4; ≥ 4
from .cog import weighted_rate
from .finess import care_hospitals
from .indicator_registry import AGE_BANDS, APL_PROFESSIONS_SHORT, BPE_ALL_CODES, INDICATORS

__all__ = ["apl_by_commune", "bpe_by_commune", "bv_by_commune", "areas_by_commune",
           "fill_past_populations", "commune_base", "commune_indicators"]


def apl_by_commune(apl: pd.DataFrame) -> pd.DataFrame:
    """DREES APL long table → one row per COG 2025 commune, wide.

    Several published rows can share a 2025 commune (arrondissements, merged communes): the APL
    is their mean weighted by ``pop_std`` (a single row keeps its value); ``pop_std`` and
    ``pop_tot`` are summed; ``poptot_<class>`` sums ``pop_tot`` of the published rows in each GP
    APL class (< 2.5, 2.5–4, ≥ 4; DREES rule: each published commune is classed, total population
    counted). Columns: ``apl_<p>_<y>``, ``popstd_<p>_<y>``, ``poptot_<p>_<y>``,
    ``poptot_{lt_2_5,2_5_4,ge_4}_<p>_<y>`` (GP professions), ``<p>`` as in APL_PROFESSIONS_SHORT.
    """
    a = apl[["code_commune_cog2025", "annee", "profession", "apl", "pop_std", "pop_tot"]].copy()
    a["p"] = a["profession"].map(APL_PROFESSIONS_SHORT).astype(str)
    a["key"] = a["p"] + "_" + a["annee"].astype(str)
    lo, hi = APL_GP_THRESHOLDS
    pt = a["pop_tot"].where(a["apl"].notna())
    a["_pt"] = pt
    a["_lt"] = pt.where(a["apl"] < lo, 0.0).where(pt.notna())
    a["_mid"] = pt.where((a["apl"] >= lo) & (a["apl"] < hi), 0.0).where(pt.notna())
    a["_ge"] = pt.where(a["apl"] >= hi, 0.0).where(pt.notna())
    g = a.groupby(["code_commune_cog2025", "key"], sort=False)
    agg = pd.DataFrame({
        "apl": weighted_rate(a, ["code_commune_cog2025", "key"], "apl", "pop_std"),
        "popstd": g["pop_std"].sum(min_count=1), "poptot": g["_pt"].sum(min_count=1),
        "lt_2_5": g["_lt"].sum(min_count=1), "2_5_4": g["_mid"].sum(min_count=1),
        "ge_4": g["_ge"].sum(min_count=1),
    })
    agg = agg.reset_index()
    wide = agg.pivot(index="code_commune_cog2025", columns="key",
                     values=["apl", "popstd", "poptot", "lt_2_5", "2_5_4", "ge_4"])
    cols = {}
    for stat, key in wide.columns:
        if stat in ("lt_2_5", "2_5_4", "ge_4"):
            if not key.startswith("mg"):
                continue
            cols[(stat, key)] = f"poptot_{stat}_{key}"
        else:
            cols[(stat, key)] = f"{stat}_{key}"
    wide = wide[list(cols)]
    wide.columns = list(cols.values())
    wide.index.name = "code_commune"
    return wide.astype(float).reset_index()


def bpe_by_commune(bpe: pd.DataFrame, codes: pd.Series) -> pd.DataFrame:
    """BPE counts per commune (``bpe_<typequ>``) of the six professions/pharmacies and of the care
    structures (D113 maisons de santé pluriprofessionnelles, D108 centres de santé:
    :data:`~cpts_diag.indicator_registry.BPE_ALL_CODES`), 0 where the commune is absent from the
    BPE for that type (the BPE lists only present equipment)."""
    sel = bpe[bpe["typequ"].isin(list(BPE_ALL_CODES))]
    wide = sel.pivot_table(index="code_commune", columns="typequ", values="nb", aggfunc="sum")
    wide = wide.reindex(index=pd.Index(codes, name="code_commune"), columns=list(BPE_ALL_CODES))
    wide = wide.astype(float).fillna(0.0)
    wide.columns = [f"bpe_{c}" for c in wide.columns]
    return wide.reset_index()


def bv_by_commune(communes: pd.DataFrame, bv_table: pd.DataFrame, columns) -> pd.DataFrame:
    """Each commune with the values of its bassin de vie 2022 (pure): ``code_commune``, then
    ``bv_<column>`` for each of ``columns`` — the value of the WHOLE bassin de vie (CartoSanté /
    INSEE), NaN where the BV has none (secret) or is absent from ``bv_table``.

    ``communes``: ``code_commune, bv2022``; ``bv_table``: ``code_bv2022`` and ``columns``."""
    miss = [c for c in ("code_bv2022", *columns) if c not in bv_table.columns]
    if miss:
        from .errors import CptsDiagError
        raise CptsDiagError(f"Table des bassins de vie : colonne(s) absente(s) : {', '.join(miss)}. "
                            "Correctif : passez load_cartosante_bv() (ou une table de mêmes colonnes).")
    t = bv_table.astype({"code_bv2022": str}).drop_duplicates("code_bv2022").set_index("code_bv2022")
    bv = communes["bv2022"].astype("string")
    out = pd.DataFrame({"code_commune": communes["code_commune"].astype(str).to_numpy()})
    for c in columns:
        out[f"bv_{c}"] = bv.map(pd.to_numeric(t[c], errors="coerce")).astype(float).to_numpy()
    return out


def areas_by_commune(polygons: pd.DataFrame) -> pd.DataFrame:
    """``area_km2`` = IGN surface (``surface_km2_ign``), or the polygon's own area where IGN has
    none (``area_source`` says which)."""
    p = pd.DataFrame({"code_commune": polygons["code_commune"].astype(str),
                      "ign": pd.to_numeric(polygons["surface_km2_ign"], errors="coerce"),
                      "poly": pd.to_numeric(polygons["surface_km2"], errors="coerce")})
    out = pd.DataFrame({"code_commune": p["code_commune"],
                        "area_km2": p["ign"].fillna(p["poly"]),
                        "area_source": np.where(p["ign"].notna(), "ign",
                                                np.where(p["poly"].notna(), "polygone", None))})
    return out.drop_duplicates("code_commune")


def fill_past_populations(population: pd.DataFrame, insee_age: pd.DataFrame) -> pd.DataFrame:
    """Fill ``pop_2016`` / ``pop_2011`` left empty in the national table (missing IRIS, e.g.
    42316 Unieux) with INSEE's own ``P16_POP`` / ``P11_POP`` on the COG 2025 territory, where the
    INSEE dossier complet has them (Loire and Haute-Loire); each filled value is flagged in
    ``note`` (``pop_2016_insee_dossier_complet``…). Pure: returns a new frame."""
    out = population.copy()
    ins = insee_age.set_index("code_commune")
    note = out["note"].astype("string").fillna("")
    for col, src in (("pop_2016", "P16_POP"), ("pop_2011", "P11_POP")):
        fill = out["code_commune"].map(ins[src]).astype(float)
        mask = out[col].isna() & fill.notna()
        out.loc[mask, col] = fill[mask]
        note = note.where(~mask, (note + ";" + f"{col}_insee_dossier_complet").str.lstrip(";"))
    out["note"] = note.replace("", pd.NA)
    return out


def commune_base(communes: pd.DataFrame, population: pd.DataFrame, socio: pd.DataFrame,
                 areas: pd.DataFrame, bpe_wide: pd.DataFrame, apl_wide: pd.DataFrame,
                 hospitals: pd.DataFrame, bv_values: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per COG 2025 commune with every input of the indicators (pure).

    ``bv_values``: optional :func:`bv_by_commune` frame (``bv_<column>``: values of the commune's
    bassin de vie); ``bv2022`` (code of the bassin de vie) is kept when ``communes`` has it.

    Derived columns: ``metro``; ``pop_15_64`` = pop_15_24 + pop_25_54 + pop_55_64 (proxy of the
    actifs 15–64); ``pop_15p`` = the five bands from 15 years; ``pop_bands`` = the six bands;
    ``one`` (= 1, to count communes); ``n_hospitals`` (FINESS entities located there that provide
    care: :func:`cpts_diag.finess.care_hospitals`).
    """
    keep = ["code_commune", "nom", "dep", "nom_dep", "reg", "nom_reg", "epci_siren", "epci_nom"]
    base = communes[keep + [c for c in ("bv2022",) if c in communes.columns]].copy()
    base["metro"] = ~base["dep"].astype(str).str.startswith("97")
    pop = population.drop(columns=["n_iris", "note"], errors="ignore").rename(
        columns={"source": "pop_source"})
    soc = socio.drop(columns=["n_iris", "complet_2022"], errors="ignore")
    base = (base.merge(pop, on="code_commune", how="left", validate="one_to_one")
            .merge(soc, on="code_commune", how="left", validate="one_to_one")
            .merge(areas, on="code_commune", how="left", validate="one_to_one")
            .merge(bpe_wide, on="code_commune", how="left", validate="one_to_one")
            .merge(apl_wide, on="code_commune", how="left", validate="one_to_one"))
    if bv_values is not None:
        base = base.merge(bv_values, on="code_commune", how="left", validate="one_to_one")
    b = {k: base[f"pop_{k}"] for k, _ in AGE_BANDS}
    base["pop_15_64"] = b["15_24"] + b["25_54"] + b["55_64"]
    base["pop_15p"] = b["15_24"] + b["25_54"] + b["55_64"] + b["65_79"] + b["80p"]
    base["pop_bands"] = b["0_14"] + base["pop_15p"]
    base["one"] = 1.0
    counts = care_hospitals(hospitals)["code_commune"].dropna().value_counts()
    base["n_hospitals"] = base["code_commune"].map(counts).fillna(0).astype(float)
    for c in bpe_wide.columns.drop("code_commune"):
        base[c] = base[c].fillna(0.0)
    return base.reset_index(drop=True)


# --- functional core: aggregation ------------------------------------------------------------------

def _per_commune(b: pd.DataFrame, iid: str) -> pd.Series:
    """Value of indicator ``iid`` for each commune taken alone, from its registry formula
    (``sum``: the commune's column as is; ``ratio`` and ``growth``: as in :func:`aggregate`)."""
    c = INDICATORS[iid]["compute"]
    if c["kind"] == "sum":
        return b[c["col"]]
    if c["kind"] == "ratio":
        return (c.get("factor", 1) * b[c["num"]] / b[c["den"]].where(b[c["den"]] > 0)).astype(float)
    if c["kind"] == "growth":
        return ((b[c["end"]] / b[c["start"]].where(b[c["start"]] > 0)) ** (1 / c["years"]) - 1) * 100
    raise ValueError(f"{iid}: no per-commune formula for kind {c['kind']!r}")


def commune_indicators(base: pd.DataFrame) -> pd.DataFrame:
    """Per-commune values with the same formulas as the aggregates (a commune is a group of one).

    Columns named after the indicator ids they match (``population_2022``, ``density_2022``,
    ``ageing_index_2022``, ``apl_mg_2023``, ``count_gp_bpe2024``, ``count_msp_bpe2024`` …). Sums, ratios and growth
    rates come from the registry (:func:`_per_commune`); weighted means (APL, socio-economic
    rates) are the commune's own published value.
    """
    b = base
    own = {"share_80p_alone_2022": "pct_80p_seuls_2022", "unemployment_1564_2022": "chomage_1564_2022",
           "poverty_rate_2021": "taux_pauvrete_2021", "median_income_2021": "revenu_median_2021"}
    with np.errstate(divide="ignore", invalid="ignore"):
        out = pd.DataFrame({c: b[c] for c in ("code_commune", "nom", "dep", "epci_siren", "epci_nom")})
        for iid in ("population_2022", "population_2016", "population_2011", "pop_growth_2016_2022",
                    "area_km2"):
            out[iid] = _per_commune(b, iid)
        out["area_source"] = b["area_source"]
        for iid in ("density_2022", "ageing_index_2022", "share_60p_2022", "share_75p_2022",
                    "share_80p_2022"):
            out[iid] = _per_commune(b, iid)
        for iid, col in own.items():
            out[iid] = b[col]
        for p in ("mg", "mg_moins65"):
            for y in (2022, 2023):
                out[f"apl_{p}_{y}"] = b.get(f"apl_{p}_{y}")
        for p in ("inf", "kine", "sf", "dent"):
            out[f"apl_{p}_2023"] = b.get(f"apl_{p}_2023")
        for kind in ("count", "density"):
            for k in BPE_ALL_CODES.values():
                out[f"{kind}_{k}_bpe2024"] = _per_commune(b, f"{kind}_{k}_bpe2024")
        out["n_hospitals_finess2020"] = _per_commune(b, "n_hospitals_finess2020")
        out["complet_2022"] = b["complet_2022"]
    return out
