"""Indicators of a CPTS diagnostic and their comparators, from commune-level data.

Every indicator is documented once, in ``indicators.yaml`` (label, unit, formula, source, vintage,
how it is aggregated); :data:`INDICATORS` is that registry. Design:

- **functional core** (pure functions, frames in → frames out): :func:`apl_by_commune`,
  :func:`bpe_by_commune`, :func:`areas_by_commune`, :func:`commune_base` build ONE national frame,
  one row per COG 2025 commune; :func:`aggregate` computes every indicator for any grouping of
  communes (ratios of sums, weighted means, growth rates, quantiles — never means of ratios);
  :func:`finalize` adds the published PTOD values, labels and notes and returns the tidy frame;
  :func:`commune_indicators` gives the per-commune values.
- **thin data layer**: :func:`national_data` loads the sources once per process and data root
  (``functools.lru_cache``) and precomputes the départements, régions and France comparators;
  :func:`compute_all`, :func:`age_structure`, :func:`commune_table`, :func:`commune_values`,
  :func:`hospitals` take a :class:`~cpts_diag.territory.Territory`.

Tidy columns: indicator_id, label, unit, source, vintage, theme, level, code, name, value, method,
n_communes, n_missing, coverage, note. Levels: ``territory`` (the CPTS), ``epci`` (the part of each
EPCI inside the CPTS), ``departement`` and ``region`` (whole), ``france_metro``, ``france``.
``coverage`` is the share (0–1) of the level's RP 2022 population living in the communes that enter
the computation; ``n_missing`` counts the communes left out (no value: secret, source gap).
Missing stays NaN, never 0 (BPE absence is 0 by definition of the BPE).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from .apl_params import APL_GP_THRESHOLDS  # DREES: < 2.5 under-served; 2.5–4; ≥ 4
from .cog import weighted_rate
from .fmt import NNBSP, fmt_number, fmt_percent


__all__ = [
    "INDICATORS", "LEVELS", "AGE_BANDS", "APL_PROFESSIONS_SHORT", "BPE_CODES",
    "compute_all", "age_structure", "commune_table", "commune_values", "hospitals",
    "national_data", "aggregate", "commune_base", "commune_indicators",
    "apl_by_commune", "bpe_by_commune", "areas_by_commune", "finalize", "load_registry",
    "registry_frame", "registry_markdown", "THEMES",
]

REGISTRY_PATH = Path(__file__).with_name("indicators.yaml")
LEVELS = ("territory", "epci", "departement", "region", "france_metro", "france")
FRANCE_METRO = ("FRM", "France métropolitaine")
FRANCE = ("FR", "France entière")
AGE_BANDS = (("0_14", "0-14 ans"), ("15_24", "15-24 ans"), ("25_54", "25-54 ans"),
             ("55_64", "55-64 ans"), ("65_79", "65-79 ans"), ("80p", "80 ans ou plus"))
APL_PROFESSIONS_SHORT = {
    "medecin_generaliste": "mg", "medecin_generaliste_moins_65": "mg_moins65", "infirmier": "inf",
    "masseur_kinesitherapeute": "kine", "sage_femme": "sf", "chirurgien_dentiste": "dent",
}
BPE_CODES = {"D265": "gp", "D281": "nurse", "D279": "physio", "D277": "dentist",
             "D278": "midwife", "D307": "pharmacy"}
TIDY_COLUMNS = ["indicator_id", "label", "unit", "source", "vintage", "theme", "level", "code",
                "name", "value", "method", "n_communes", "n_missing", "coverage", "note"]
_KINDS = {"sum", "ratio", "wmean", "growth", "quantile", "none"}


# --- registry -------------------------------------------------------------------------------------

_FLAGS = {"incomplete_2025", "polygon_area"}  # automatic notes, see _notes()


def load_registry(path: Path = REGISTRY_PATH) -> dict[str, dict]:
    """Read ``indicators.yaml`` (the one place documenting every indicator id) and check it."""
    reg = yaml.safe_load(path.read_text(encoding="utf-8"))
    required = {"label", "unit", "formula", "source", "source_id", "vintage", "decimals", "theme",
                "coverage", "compute"}
    for iid, d in reg.items():
        miss = required - set(d)
        if miss:
            raise ValueError(f"{path}: indicator {iid} lacks {sorted(miss)}")
        if d["compute"]["kind"] not in _KINDS:
            raise ValueError(f"{path}: indicator {iid}: unknown compute.kind {d['compute']['kind']!r}")
        if d["coverage"] not in ("metro", "france"):
            raise ValueError(f"{path}: indicator {iid}: coverage must be metro or france")
        d["vintage"] = str(d["vintage"])
        d.setdefault("note", None)
        d.setdefault("short_label", d["label"])
        d["flags"] = list(d.get("flags") or [])
        if set(d["flags"]) - _FLAGS:
            raise ValueError(f"{path}: indicator {iid}: unknown flags {sorted(set(d['flags']) - _FLAGS)}")
    return reg


INDICATORS: dict[str, dict] = load_registry()


THEMES = {"population": "Population", "age": "Âges", "socio": "Situation socio-économique",
          "acces_soins": "Accessibilité aux soins (APL)", "offre": "Offre de soins"}


def registry_frame(ids=None) -> pd.DataFrame:
    """The registry as a table (id, theme, label, unit, formula, source, vintage, coverage, note)
    for the reports' and README's « définitions des indicateurs »."""
    ids = list(INDICATORS) if ids is None else list(ids)
    rows = [{"id": i, "theme": INDICATORS[i]["theme"], "label": INDICATORS[i]["label"],
             "unit": INDICATORS[i]["unit"], "formula": INDICATORS[i]["formula"],
             "source": INDICATORS[i]["source"], "vintage": INDICATORS[i]["vintage"],
             "coverage": INDICATORS[i]["coverage"], "note": INDICATORS[i]["note"] or ""}
            for i in ids]
    return pd.DataFrame(rows)


def registry_markdown(ids=None) -> str:
    """Markdown table of the registry (French headers), one row per indicator id."""
    f = registry_frame(ids)
    esc = lambda s: str(s).replace("|", "\\|").replace("\n", " ")  # noqa: E731
    lines = ["| identifiant | indicateur | unité | formule | source | millésime |",
             "|---|---|---|---|---|---|"]
    for r in f.itertuples(index=False):
        lines.append(f"| `{r.id}` | {esc(r.label)} | {esc(r.unit)} | {esc(r.formula)}"
                     f"{' — ' + esc(r.note) if r.note else ''} | {esc(r.source)} | {r.vintage} |")
    return "\n".join(lines)


# --- functional core: commune-level frame ----------------------------------------------------------

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
    """BPE counts of the six professions/pharmacies per commune (``bpe_<typequ>``), 0 where the
    commune is absent from the BPE for that type (the BPE lists only present equipment)."""
    sel = bpe[bpe["typequ"].isin(list(BPE_CODES))]
    wide = sel.pivot_table(index="code_commune", columns="typequ", values="nb", aggfunc="sum")
    wide = wide.reindex(index=pd.Index(codes, name="code_commune"), columns=list(BPE_CODES))
    wide = wide.astype(float).fillna(0.0)
    wide.columns = [f"bpe_{c}" for c in wide.columns]
    return wide.reset_index()


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
                 hospitals: pd.DataFrame) -> pd.DataFrame:
    """One row per COG 2025 commune with every input of the indicators (pure).

    Derived columns: ``metro``; ``pop_15_64`` = pop_15_24 + pop_25_54 + pop_55_64 (proxy of the
    actifs 15–64); ``pop_15p`` = the five bands from 15 years; ``pop_bands`` = the six bands;
    ``one`` (= 1, to count communes); ``n_hospitals`` (FINESS establishments located there).
    """
    base = communes[["code_commune", "nom", "dep", "nom_dep", "reg", "nom_reg", "epci_siren",
                     "epci_nom"]].copy()
    base["metro"] = ~base["dep"].astype(str).str.startswith("97")
    pop = population.drop(columns=["n_iris", "note"], errors="ignore").rename(
        columns={"source": "pop_source"})
    soc = socio.drop(columns=["n_iris", "complet_2022"], errors="ignore")
    base = (base.merge(pop, on="code_commune", how="left", validate="one_to_one")
            .merge(soc, on="code_commune", how="left", validate="one_to_one")
            .merge(areas, on="code_commune", how="left", validate="one_to_one")
            .merge(bpe_wide, on="code_commune", how="left", validate="one_to_one")
            .merge(apl_wide, on="code_commune", how="left", validate="one_to_one"))
    b = {k: base[f"pop_{k}"] for k, _ in AGE_BANDS}
    base["pop_15_64"] = b["15_24"] + b["25_54"] + b["55_64"]
    base["pop_15p"] = b["15_24"] + b["25_54"] + b["55_64"] + b["65_79"] + b["80p"]
    base["pop_bands"] = b["0_14"] + base["pop_15p"]
    base["one"] = 1.0
    counts = hospitals["code_commune"].dropna().value_counts()
    base["n_hospitals"] = base["code_commune"].map(counts).fillna(0).astype(float)
    for c in bpe_wide.columns.drop("code_commune"):
        base[c] = base[c].fillna(0.0)
    return base.reset_index(drop=True)


# --- functional core: aggregation ------------------------------------------------------------------

def _num(base: pd.DataFrame, col: str, cache: dict) -> np.ndarray:
    if col not in cache:
        cache[col] = (base[col].to_numpy(dtype=float, na_value=np.nan) if col in base.columns
                      else np.full(len(base), np.nan))
    return cache[col]


def _contrib(spec: dict, base: pd.DataFrame, cache: dict):
    """(num, den, used) per commune for a registry ``compute`` spec (NaN-free where used)."""
    k = spec["kind"]
    if k == "sum":
        x = _num(base, spec["col"], cache)
        used = ~np.isnan(x)
        return np.where(used, x, 0.0), None, used
    if k == "ratio":
        n, d = _num(base, spec["num"], cache), _num(base, spec["den"], cache)
    elif k == "wmean":
        x, d = _num(base, spec["col"], cache), _num(base, spec["weight"], cache)
        n = x * d
    elif k == "growth":
        n, d = _num(base, spec["end"], cache), _num(base, spec["start"], cache)
    else:  # quantile, none: handled elsewhere
        return None, None, np.zeros(len(base), dtype=bool)
    used = ~np.isnan(n) & ~np.isnan(d)
    return np.where(used, n, 0.0), np.where(used, d, 0.0), used


def aggregate(base: pd.DataFrame, membership: pd.DataFrame,
              registry: dict[str, dict] | None = None, missing_codes: bool = False) -> pd.DataFrame:
    """Every indicator of ``registry`` for every group of ``membership`` (pure).

    ``membership``: columns ``row`` (position in ``base``), ``level``, ``code``, ``name``; a
    commune can belong to several groups. Returns one row per (group, indicator): level, code,
    name, indicator_id, value, n_communes, n_missing, coverage (and ``missing`` — the codes left
    out — if ``missing_codes``). Ratios are ratios of sums over the communes having both terms.
    """
    registry = INDICATORS if registry is None else registry
    rows = membership["row"].to_numpy()
    groups = membership[["level", "code", "name"]].drop_duplicates().reset_index(drop=True)
    gid = pd.MultiIndex.from_frame(groups[["level", "code"]]).get_indexer(
        pd.MultiIndex.from_frame(membership[["level", "code"]]))
    G = len(groups)
    sub = base.iloc[rows].reset_index(drop=True)
    cache: dict = {}
    pop = _num(sub, "pop_2022", cache)
    pop_ok = ~np.isnan(pop)
    pop0 = np.where(pop_ok, pop, 0.0)
    n_communes = np.bincount(gid, minlength=G).astype(float)
    pop_total = np.bincount(gid, weights=pop0, minlength=G)
    pop_total = np.where(np.bincount(gid, weights=pop_ok, minlength=G) > 0, pop_total, np.nan)
    codes = sub["code_commune"].to_numpy()
    ids = list(registry)
    vals, nmiss, covs, missing, partial = [], [], [], [], []
    for iid in ids:
        spec = registry[iid]["compute"]
        kind = spec["kind"]
        num, den, used = _contrib(spec, sub, cache)
        if kind == "quantile":
            x = _num(sub, spec["col"], cache)
            used = ~np.isnan(x)
            s = pd.Series(x[used]).groupby(gid[used]).quantile(spec["q"])
            val = s.reindex(range(G)).to_numpy(dtype=float)
        elif kind == "none":
            val = np.full(G, np.nan)
        else:
            N = np.bincount(gid, weights=num, minlength=G)
            if kind == "sum":
                val = N
            else:
                D = np.bincount(gid, weights=den, minlength=G)
                with np.errstate(divide="ignore", invalid="ignore"):
                    if kind == "ratio":
                        val = spec.get("factor", 1) * N / np.where(D > 0, D, np.nan)
                    elif kind == "wmean":
                        val = N / np.where(D > 0, D, np.nan)
                    else:  # growth
                        val = ((N / np.where(D > 0, D, np.nan)) ** (1.0 / spec["years"]) - 1) * 100
        n_used = np.bincount(gid, weights=used, minlength=G)
        val = np.where(n_used > 0, val, np.nan)
        if spec.get("strict"):  # a partial sum is not a total: n.d., partial sum kept for the note
            partial.append(np.where(n_used < n_communes, val, np.nan))
            val = np.where(n_used < n_communes, np.nan, val)
        else:
            partial.append(np.full(G, np.nan))
        vals.append(val)
        pop_used = np.bincount(gid, weights=np.where(used, pop0, 0.0), minlength=G)
        if kind == "none":
            nmiss.append(np.full(G, np.nan))
            covs.append(np.full(G, np.nan))
        else:
            nmiss.append(n_communes - n_used)
            with np.errstate(divide="ignore", invalid="ignore"):
                covs.append(np.where(pop_total > 0, pop_used / pop_total, np.nan))
        if missing_codes:
            lists: list = [[] for _ in range(G)]
            if kind != "none":
                for g_, c_ in zip(gid[~used], codes[~used]):
                    lists[g_].append(c_)
            missing.extend(sorted(x) for x in lists)
    n_ind = len(ids)
    out = pd.DataFrame({
        "level": np.tile(groups["level"].to_numpy(dtype=object), n_ind),
        "code": np.tile(groups["code"].to_numpy(dtype=object), n_ind),
        "name": np.tile(groups["name"].to_numpy(dtype=object), n_ind),
        "indicator_id": np.repeat(np.array(ids, dtype=object), G),
        "value": np.concatenate(vals) if vals else [],
        "n_communes": np.tile(n_communes, n_ind),
        "n_missing": np.concatenate(nmiss) if nmiss else [],
        "coverage": np.concatenate(covs) if covs else [],
        "partial": np.concatenate(partial) if partial else [],
    })
    if missing_codes:
        out["missing"] = pd.Series(missing, dtype=object)
    return out


def published_values(ptod: pd.DataFrame, registry: dict[str, dict] | None = None) -> pd.DataFrame:
    """PTOD published values (départements, régions, France métropolitaine) of the indicators
    whose registry entry names a ``published`` column: level, code, indicator_id, value."""
    registry = INDICATORS if registry is None else registry
    level = ptod["niveau"].astype(str)
    code = ptod["code"].astype(str).where(level != "france_metro", FRANCE_METRO[0])
    out = []
    for iid, d in registry.items():
        col = d["compute"].get("published")
        if col:
            out.append(pd.DataFrame({"level": level.to_numpy(), "code": code.to_numpy(),
                                     "indicator_id": iid,
                                     "value": pd.to_numeric(ptod[col], errors="coerce").to_numpy()}))
    if not out:
        return pd.DataFrame(columns=["level", "code", "indicator_id", "value"])
    return pd.concat(out, ignore_index=True)


def _fmt_share(x: float) -> str:
    if 0.999 <= x < 1:
        return ">" + NNBSP + fmt_percent(99.9, 1)
    return fmt_percent(100 * x, 1)


def finalize(agg: pd.DataFrame, published: pd.DataFrame | None = None,
             registry: dict[str, dict] | None = None, flags: pd.DataFrame | None = None) -> pd.DataFrame:
    """Long aggregates → tidy frame: published values override the computed ones where the
    registry says so (départements, régions, France métropolitaine), metropolitan-only indicators
    are n.d. for France entière, labels and notes are added (pure).

    ``flags``: optional frame level, code, incomplete (codes of communes undercounted since a
    2025 merger), area_fallback (codes whose area is the polygon's) for the notes.
    """
    registry = INDICATORS if registry is None else registry
    t = agg.copy()
    meta = pd.DataFrame.from_dict(registry, orient="index")
    kind = meta["compute"].map(lambda c: c["kind"])
    has_pub = meta["compute"].map(lambda c: bool(c.get("published")))
    t["method"] = "calculé"
    t.loc[t["indicator_id"].map(kind) == "none", "method"] = "non calculable"
    if published is not None and len(published):
        pub = published.set_index(["level", "code", "indicator_id"])["value"]
        key = pd.MultiIndex.from_frame(t[["level", "code", "indicator_id"]])
        is_pub = (t["indicator_id"].map(has_pub).fillna(False).astype(bool)
                  & t["level"].isin(["departement", "region", "france_metro"])).to_numpy()
        pv = pub.reindex(key).to_numpy(dtype=float)
        t.loc[is_pub, "value"] = pv[is_pub]
        t.loc[is_pub, "method"] = "publié (PTOD)"
        t.loc[is_pub, ["n_missing", "coverage"]] = np.nan
    metro_only = t["indicator_id"].map(meta["coverage"]).eq("metro") & t["level"].eq("france")
    t.loc[metro_only, "value"] = np.nan
    t.loc[metro_only, "method"] = "non couvert"
    t.loc[metro_only, ["n_missing", "coverage"]] = np.nan

    notes = _notes(t, meta, flags)
    t["note"] = notes
    for c in ("label", "unit", "source", "vintage", "theme"):
        t[c] = t["indicator_id"].map(meta[c])
    return _sort_tidy(t, registry)[TIDY_COLUMNS].reset_index(drop=True)


def _sort_tidy(t: pd.DataFrame, registry: dict) -> pd.DataFrame:
    """Rows in registry order, then level order (territory … france), then code (stable)."""
    order = {k: i for i, k in enumerate(registry)}
    lorder = {k: i for i, k in enumerate(LEVELS)}
    return (t.assign(_o=t["indicator_id"].map(order), _l=t["level"].map(lorder))
            .sort_values(["_o", "_l", "code"], kind="stable").drop(columns=["_o", "_l"]))


def _notes(t: pd.DataFrame, meta: pd.DataFrame, flags: pd.DataFrame | None) -> list[str]:
    """Row notes: communes left out (with codes when known), published / n.d. reasons, flags."""
    auto = (t["indicator_id"].map(meta["flags"]) if "flags" in meta.columns
            else pd.Series(np.nan, index=t.index))
    auto = [a if isinstance(a, list) else [] for a in auto]  # registry flags of each row
    fl = {}
    if flags is not None and len(flags):
        fl = {(r.level, r.code): (r.incomplete, r.area_fallback) for r in flags.itertuples()}
    has_missing = "missing" in t.columns
    out = []
    for i, r in enumerate(t.itertuples(index=False)):
        parts = []
        if r.method == "publié (PTOD)":
            parts.append("valeur publiée (agrégat PTOD)")
        elif r.method == "non couvert":
            parts.append("non disponible : données limitées à la France métropolitaine")
        elif r.method == "non calculable":
            if r.level in ("territory", "epci"):
                parts.append("non calculable : une moyenne de médianes n'est pas une médiane "
                             "(voir la distribution des valeurs communales)")
        elif r.n_missing and r.n_missing > 0:
            s = f"{int(r.n_missing)} commune(s) sur {int(r.n_communes)} sans donnée, exclue(s)"
            if has_missing and isinstance(r.missing, list) and r.missing:
                s += " (" + ", ".join(r.missing[:12]) + (" …" if len(r.missing) > 12 else "") + ")"
            if r.coverage == r.coverage and r.coverage < 1:
                s += f" ; population couverte : {_fmt_share(r.coverage)}"
            partial = getattr(r, "partial", np.nan)
            if partial == partial:
                s += (f" ; n.d. car la somme serait incomplète (somme partielle sur les communes "
                      f"renseignées : {fmt_number(partial)})")
            parts.append(s)
        if r.method == "calculé" and (r.level, r.code) in fl:
            inc, area = fl[(r.level, r.code)]
            if inc and "incomplete_2025" in auto[i]:
                parts.append("sous-estimé : commune(s) incomplète(s) depuis une fusion du "
                             f"1er janvier 2025 ({inc})")
            if area and "polygon_area" in auto[i]:
                parts.append(f"superficie du polygone (pas de surface IGN) pour {area}")
        out.append(" ; ".join(parts))
    return out


def _flags(base: pd.DataFrame, membership: pd.DataFrame, list_codes: bool) -> pd.DataFrame:
    m = membership.assign(
        code_commune=base["code_commune"].to_numpy()[membership["row"].to_numpy()],
        inc=base["complet_2022"].to_numpy()[membership["row"].to_numpy()] == 0,
        poly=(base["area_source"].to_numpy()[membership["row"].to_numpy()] == "polygone"))

    def _join(s):
        s = sorted(s)
        if not s:
            return ""
        return ", ".join(s[:12]) + (" …" if len(s) > 12 else "") if list_codes else f"{len(s)} communes"

    g = m.groupby(["level", "code"], sort=False)
    inc = g.apply(lambda d: _join(d.loc[d["inc"], "code_commune"]), include_groups=False)
    area = g.apply(lambda d: _join(d.loc[d["poly"], "code_commune"]), include_groups=False)
    return pd.DataFrame({"incomplete": inc, "area_fallback": area}).reset_index()


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
    ``ageing_index_2022``, ``apl_mg_2023``, ``count_gp_bpe2024`` …). Sums, ratios and growth
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
            for k in BPE_CODES.values():
                out[f"{kind}_{k}_bpe2024"] = _per_commune(b, f"{kind}_{k}_bpe2024")
        out["n_hospitals_finess2020"] = _per_commune(b, "n_hospitals_finess2020")
        out["complet_2022"] = b["complet_2022"]
    return out


# --- thin data layer (cached per process and data root) ---------------------------------------------

@dataclass(frozen=True)
class NationalData:
    """The national commune frame and the precomputed comparators (départements, régions, France)."""

    base: pd.DataFrame
    tidy: pd.DataFrame  # finalize()d, levels departement, region, france_metro, france
    row_of: pd.Series  # code_commune -> position in base


def _national_membership(base: pd.DataFrame) -> pd.DataFrame:
    n = len(base)
    rows = np.arange(n)
    metro = base["metro"].to_numpy()
    parts = [
        pd.DataFrame({"row": rows, "level": "departement", "code": base["dep"].astype(str),
                      "name": base["nom_dep"].astype(str)}),
        pd.DataFrame({"row": rows, "level": "region", "code": base["reg"].astype(str),
                      "name": base["nom_reg"].astype(str)}),
        pd.DataFrame({"row": rows[metro], "level": "france_metro", "code": FRANCE_METRO[0],
                      "name": FRANCE_METRO[1]}),
        pd.DataFrame({"row": rows, "level": "france", "code": FRANCE[0], "name": FRANCE[1]}),
    ]
    return pd.concat(parts, ignore_index=True)


@lru_cache(maxsize=2)
def _national(stamp: tuple) -> NationalData:
    from . import loaders as L

    com = L.load_communes()
    pop = fill_past_populations(L.load_population(), L.load_population_age_insee())
    soc = L.load_socio()
    polys = L.load_commune_polygons(detail="metro")
    areas = areas_by_commune(pd.DataFrame(polys.drop(columns="geometry")))
    bpe = L.load_bpe_health()
    apl = L.load_apl()
    hosp = L.load_hospitals()
    ptod = L.load_territory_aggregates()
    base = commune_base(com, pop, soc, areas, bpe_by_commune(bpe, com["code_commune"]),
                        apl_by_commune(apl), hosp)
    memb = _national_membership(base)
    agg = aggregate(base, memb)
    tidy = finalize(agg, published_values(ptod), flags=_flags(base, memb, list_codes=False))
    row_of = pd.Series(np.arange(len(base)), index=base["code_commune"].astype(str))
    return NationalData(base=base, tidy=tidy, row_of=row_of)


_NATIONAL_SOURCES = (("cog_communes", None), ("population", None), ("population_age_42_43", None),
                     ("socio", None),
                     ("geo_communes_metro", None), ("bpe_sante", None), ("bpe_typequ", None),
                     ("apl_long", None), ("hospitals", None), ("ptod_aggregates", None))


def _data_stamp() -> tuple:
    """Identity of the input files (path, size, mtime): the cache key of :func:`national_data`.

    A missing file raises DataNotInstalledError (with the fix) before any work is done."""
    from .store import source_path

    out = []
    for sid, v in _NATIONAL_SOURCES:
        _, _, path = source_path(sid, v)
        st = path.stat()
        out.append((str(path), st.st_size, st.st_mtime_ns))
    return tuple(out)


def national_data() -> NationalData:
    """National frames for the current data files (built once per process and per set of files;
    rebuilt if a file changes or the data root moves)."""
    return _national(_data_stamp())


def _as_territory(territory):
    if isinstance(territory, str):
        from .territory import Territory
        return Territory.load(territory)
    return territory


def _rows(nat: NationalData, codes) -> np.ndarray:
    """Positions of ``codes`` in the national frame; unknown codes raise TerritoryError."""
    rows = nat.row_of.reindex([str(c) for c in codes])
    if rows.isna().any():
        from .errors import TerritoryError
        raise TerritoryError("Codes communes inconnus du COG 2025 : "
                             + ", ".join(rows.index[rows.isna()]) + ". Correctif : passez des "
                             "codes du COG 2025 (Territory.from_codes recode les anciens).")
    return rows.to_numpy(dtype=int)


def _territory_membership(nat: NationalData, territory) -> pd.DataFrame:
    rows = _rows(nat, territory.communes)
    b = nat.base
    t = pd.DataFrame({"row": rows, "level": "territory", "code": territory.id,
                      "name": territory.name})
    e = pd.DataFrame({"row": rows, "level": "epci", "code": b["epci_siren"].to_numpy()[rows],
                      "name": b["epci_nom"].to_numpy()[rows]})
    e["code"] = e["code"].astype(str)
    e["name"] = e["name"].astype(str)
    return pd.concat([t, e.sort_values(["code", "row"])], ignore_index=True)


def compute_all(territory) -> pd.DataFrame:
    """Every indicator for the territory, each EPCI part, its départements, régions, France
    métropolitaine and France entière (tidy; see the module docstring for the columns)."""
    territory = _as_territory(territory)
    nat = national_data()
    memb = _territory_membership(nat, territory)
    agg = aggregate(nat.base, memb, missing_codes=True)
    local = finalize(agg, flags=_flags(nat.base, memb, list_codes=True))
    deps, regs = set(territory.departements), set(territory.regions)
    t = nat.tidy
    keep = ((t["level"].eq("departement") & t["code"].isin(deps))
            | (t["level"].eq("region") & t["code"].isin(regs))
            | t["level"].isin(["france_metro", "france"]))
    out = _sort_tidy(pd.concat([local, t[keep]], ignore_index=True), INDICATORS).reset_index(drop=True)
    # attrs stay tiny: pandas deep-copies them at every operation
    out.attrs = {"territory": territory.id}
    return out


def age_structure(territory, tidy: pd.DataFrame | None = None) -> pd.DataFrame:
    """Age structure 2022 for bars/pyramids: band, band_label, order, level, code, name,
    share (% of the six bands, summing to 100), population (DERIVED count).

    ``tidy``: the territory's :func:`compute_all` frame when the caller already has it."""
    t = compute_all(territory) if tidy is None else tidy
    rows = []
    for i, (b, lab) in enumerate(AGE_BANDS):
        s = t[t["indicator_id"] == f"share_age_{b}_2022"][["level", "code", "name", "value"]]
        p = t[t["indicator_id"] == f"pop_age_{b}_2022"][["level", "code", "value"]]
        m = s.merge(p.rename(columns={"value": "population"}), on=["level", "code"], how="left")
        rows.append(m.rename(columns={"value": "share"}).assign(band=b, band_label=lab, order=i))
    out = pd.concat(rows, ignore_index=True)
    out = out[out["level"] != "france"]  # no age data outside metropolitan France
    lorder = {k: i for i, k in enumerate(LEVELS)}
    out = out.assign(_l=out["level"].map(lorder)).sort_values(["_l", "code", "order"]).drop(columns="_l")
    return out[["band", "band_label", "order", "level", "code", "name", "share", "population"]].reset_index(drop=True)


def commune_values(codes) -> pd.DataFrame:
    """Per-commune values (:func:`commune_indicators`) of any list of COG 2025 codes, in the
    given order (unknown codes raise TerritoryError)."""
    nat = national_data()
    sub = nat.base.iloc[_rows(nat, codes)].reset_index(drop=True)
    return commune_indicators(sub)


def commune_table(territory) -> pd.DataFrame:
    """One row per commune of the territory (sorted by code): name, EPCI, population 2022/2016,
    annual change 2016–2022 (%), area, density, ageing index, share 75+, APL (GP 2022/2023, GP ≤ 65,
    nurses, physiotherapists, midwives, dentists 2023), BPE counts, hospitals."""
    territory = _as_territory(territory)
    return commune_values(sorted(territory.communes))


def hospitals(territory) -> pd.DataFrame:
    """FINESS hospitals (March 2020) located in the territory's communes, with type and status
    (``statut`` empty in the source → ``non renseigné``)."""
    from .loaders import load_communes, load_hospitals

    territory = _as_territory(territory)
    h = load_hospitals()
    h = h[h["code_commune"].isin(territory.communes)]
    names = load_communes().set_index("code_commune")["nom"]
    out = pd.DataFrame({
        "finess": h["finess"], "nom": h["nom"], "site": h["site"], "type": h["type"],
        "statut": h["statut"].map({"public": "public", "prive": "privé"}).fillna("non renseigné"),
        "code_commune": h["code_commune"], "commune": h["code_commune"].map(names),
        "adresse": h["adresse"], "lat": h["lat"], "lon": h["lon"],
    })
    out = out.sort_values(["commune", "type", "nom"]).reset_index(drop=True)
    out.attrs = {"source": h.attrs.get("source")}
    return out
