"""Aggregation of the commune frame into indicators for any grouping of communes (pure functions).

:func:`aggregate` computes every registry indicator for every group (ratios of sums, weighted
means, growth rates, quantiles — never means of ratios); :func:`finalize` adds the published PTOD
values, keeps the computed one beside them (``value_same_basis``), adds labels and notes and
returns the tidy frame (columns :data:`~cpts_diag.indicator_registry.TIDY_COLUMNS`).

Strict sums (``compute.strict``, populations 2011 and 2016): at the territory and EPCI levels a
sum with a commune left out is n.d. (partial sum in the note); at the comparator levels it is the
sum over the communes having the value, with ``n_missing`` / ``coverage`` and a note saying so.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import CptsDiagError
from .fmt import NNBSP, fmt_number, fmt_percent, fmt_value
from .health_status import MIN_COVERAGE
from .indicator_registry import (FRANCE, FRANCE_METRO, INDICATORS, LEVELS, LOCAL_LEVELS,
                                 PUBLISHED_DATASETS, PUBLISHED_LEVELS, TIDY_COLUMNS)

__all__ = ["aggregate", "published_values", "source_values", "finalize", "METHOD_PUBLISHED",
           "METHOD_COMPUTED", "METHOD_NOT_COVERED", "METHOD_NOT_COMPUTABLE", "METHOD_SOURCE",
           "METHOD_NOT_PUBLISHED", "METHOD_ESTIMATED"]

METHOD_COMPUTED = "calculé"
METHOD_PUBLISHED = "publié (PTOD)"
METHOD_NOT_COVERED = "non couvert"
METHOD_NOT_COMPUTABLE = "non calculable"
METHOD_SOURCE = "publié (source)"  # kind published: the value as the source publishes it
METHOD_NOT_PUBLISHED = "non publié à ce niveau"  # kind published: no value at this level
METHOD_ESTIMATED = "estimé (bassins de vie)"  # kind bv_estimate


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
    elif k in ("wmean", "bv_estimate"):
        col, weight = ((spec["col"], spec["weight"]) if k == "wmean"
                       else (f"bv_{spec['column']}", "pop_2022"))
        x, d = _num(base, col, cache), _num(base, weight, cache)
        n = x * d
    elif k == "growth":
        n, d = _num(base, spec["end"], cache), _num(base, spec["start"], cache)
    else:  # quantile, none, published: handled elsewhere
        return None, None, np.zeros(len(base), dtype=bool)
    used = ~np.isnan(n) & ~np.isnan(d)
    return np.where(used, n, 0.0), np.where(used, d, 0.0), used


def _context(base: pd.DataFrame, membership: pd.DataFrame) -> dict:
    """Group ids, populations and commune counts shared by every indicator of one aggregation."""
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
    pop_total = np.bincount(gid, weights=pop0, minlength=G)
    pop_total = np.where(np.bincount(gid, weights=pop_ok, minlength=G) > 0, pop_total, np.nan)
    return {"groups": groups, "gid": gid, "G": G, "sub": sub, "cache": cache, "pop0": pop0,
            "pop_total": pop_total, "n_communes": np.bincount(gid, minlength=G).astype(float),
            "codes": sub["code_commune"].to_numpy(),
            "local": groups["level"].isin(LOCAL_LEVELS).to_numpy()}


def _value(spec: dict, ctx: dict, num, den, used) -> np.ndarray:
    """Value of one indicator for every group, before the n.d. rules."""
    kind, gid, G = spec["kind"], ctx["gid"], ctx["G"]
    if kind == "quantile":
        x = _num(ctx["sub"], spec["col"], ctx["cache"])
        ok = ~np.isnan(x)
        s = pd.Series(x[ok]).groupby(gid[ok]).quantile(spec["q"])
        return s.reindex(range(G)).to_numpy(dtype=float)
    if kind in ("none", "published"):
        return np.full(G, np.nan)
    N = np.bincount(gid, weights=num, minlength=G)
    if kind == "sum":
        return N
    D = np.bincount(gid, weights=den, minlength=G)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = N / np.where(D > 0, D, np.nan)
        if kind == "ratio":
            return spec.get("factor", 1) * ratio
        if kind in ("wmean", "bv_estimate"):
            return ratio
        return (ratio ** (1.0 / spec["years"]) - 1) * 100  # growth


def _aggregate_one(spec: dict, ctx: dict, missing_codes: bool) -> dict:
    """value, n_missing, coverage, partial (and missing codes) of one indicator, every group."""
    kind, gid, G, n_communes = spec["kind"], ctx["gid"], ctx["G"], ctx["n_communes"]
    num, den, used = _contrib(spec, ctx["sub"], ctx["cache"])
    if kind == "quantile":
        used = ~np.isnan(_num(ctx["sub"], spec["col"], ctx["cache"]))
    n_used = np.bincount(gid, weights=used, minlength=G)
    val = np.where(n_used > 0, _value(spec, ctx, num, den, used), np.nan)
    partial = np.full(G, np.nan)
    if spec.get("strict"):  # territory / EPCI: a partial sum is not a total (n.d., partial in note)
        nd = ctx["local"] & (n_used < n_communes)
        partial = np.where(nd, val, np.nan)
        val = np.where(nd, np.nan, val)
    if kind in ("none", "published"):
        nmiss = cov = np.full(G, np.nan)
    else:
        nmiss = n_communes - n_used
        pop_used = np.bincount(gid, weights=np.where(used, ctx["pop0"], 0.0), minlength=G)
        with np.errstate(divide="ignore", invalid="ignore"):
            cov = np.where(ctx["pop_total"] > 0, pop_used / ctx["pop_total"], np.nan)
    if kind == "bv_estimate":  # as health_status.bv_estimate: n.d. below the coverage threshold
        val = np.where(cov >= MIN_COVERAGE, val, np.nan)
    out = {"value": val, "n_missing": nmiss, "coverage": cov, "partial": partial}
    if missing_codes:
        lists: list = [[] for _ in range(G)]
        if kind not in ("none", "published"):
            for g_, c_ in zip(gid[~used], ctx["codes"][~used]):
                lists[g_].append(c_)
        out["missing"] = [sorted(x) for x in lists]
    return out


def aggregate(base: pd.DataFrame, membership: pd.DataFrame,
              registry: dict[str, dict] | None = None, missing_codes: bool = False) -> pd.DataFrame:
    """Every indicator of ``registry`` for every group of ``membership`` (pure).

    ``membership``: columns ``row`` (position in ``base``), ``level``, ``code``, ``name``; a
    commune can belong to several groups. Returns one row per (group, indicator): level, code,
    name, indicator_id, value, n_communes, n_missing, coverage, partial (the partial sum of a
    strict sum made n.d. at the territory / EPCI levels) and ``missing`` — the codes left out — if
    ``missing_codes``. Ratios are ratios of sums over the communes having both terms.
    """
    registry = INDICATORS if registry is None else registry
    ctx = _context(base, membership)
    ids = list(registry)
    parts = [_aggregate_one(registry[i]["compute"], ctx, missing_codes) for i in ids]
    G, n_ind, groups = ctx["G"], len(ids), ctx["groups"]

    def cat(k):
        return np.concatenate([p[k] for p in parts]) if parts else []

    out = pd.DataFrame({
        "level": np.tile(groups["level"].to_numpy(dtype=object), n_ind),
        "code": np.tile(groups["code"].to_numpy(dtype=object), n_ind),
        "name": np.tile(groups["name"].to_numpy(dtype=object), n_ind),
        "indicator_id": np.repeat(np.array(ids, dtype=object), G),
        "value": cat("value"), "n_communes": np.tile(ctx["n_communes"], n_ind),
        "n_missing": cat("n_missing"), "coverage": cat("coverage"), "partial": cat("partial"),
    })
    if missing_codes:
        out["missing"] = pd.Series([m for p in parts for m in p["missing"]], dtype=object)
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


def _dataset_rows(iid: str, spec: dict, table: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``table`` selected by a ``published`` spec: level, code, value."""
    ds = PUBLISHED_DATASETS[spec["dataset"]]
    cols = [*ds["match"].values(), ds["code"], "valeur"] + ([ds["level"]] if ds["level"] else [])
    miss = [c for c in cols if c not in table.columns]
    if miss:
        raise CptsDiagError(f"Jeu « {spec['dataset']} » (indicateur {iid}) : colonne(s) absente(s) : "
                            f"{', '.join(miss)}. Correctif : passez la table du chargeur de "
                            "cpts_diag.loaders_health (ou une table de mêmes colonnes).")
    keep = np.ones(len(table), dtype=bool)
    for key, col in ds["match"].items():
        want = spec[key]
        have = table[col]
        keep &= (pd.to_numeric(have, errors="coerce") == want).to_numpy() if key == "year" \
            else (have.astype(str) == str(want)).to_numpy()
    sel = table.loc[keep]
    if sel.empty:
        raise CptsDiagError(
            f"indicators.yaml, indicateur {iid} : aucune ligne du jeu « {spec['dataset']} » ne "
            f"correspond à {', '.join(f'{k} = {spec[k]!r}' for k in ds['match'])}. Correctif : "
            "recopiez le libellé et l'année tels que publiés dans le fichier.")
    level = sel[ds["level"]].astype(str) if ds["level"] else pd.Series("departement", index=sel.index)
    code = sel[ds["code"]].astype(str).where(level != "france", FRANCE[0])
    out = pd.DataFrame({"level": level.to_numpy(), "code": code.to_numpy(), "indicator_id": iid,
                        "value": pd.to_numeric(sel["valeur"], errors="coerce").to_numpy()})
    dup = out.duplicated(["level", "code"])
    if dup.any():
        r = out[dup].iloc[0]
        raise CptsDiagError(
            f"indicators.yaml, indicateur {iid} : plusieurs valeurs pour {r.level} {r.code} dans le "
            f"jeu « {spec['dataset']} ». Correctif : précisez la sélection (clés "
            f"{', '.join(ds['match'])}).")
    return out


def source_values(tables: dict[str, pd.DataFrame],
                  registry: dict[str, dict] | None = None) -> pd.DataFrame:
    """Values of the ``published`` indicators read from their source tables (pure): level
    (``departement``, ``region``, ``france``), code (``FR`` for France), indicator_id, value.

    ``tables`` maps a dataset of :data:`~cpts_diag.indicator_registry.PUBLISHED_DATASETS`
    (``vaccination``, ``mortality``) to its loader's frame; an indicator whose dataset is not
    given is left out (its comparators stay n.d.). A spec matching no row, or two rows for the
    same level and code, raises :class:`~cpts_diag.errors.CptsDiagError`."""
    registry = INDICATORS if registry is None else registry
    out = [_dataset_rows(iid, d["compute"], tables[d["compute"]["dataset"]])
           for iid, d in registry.items()
           if d["compute"]["kind"] == "published" and tables.get(d["compute"]["dataset"]) is not None]
    if not out:
        return pd.DataFrame(columns=["level", "code", "indicator_id", "value"])
    return pd.concat(out, ignore_index=True)


def fmt_share(x: float) -> str:
    """A population share (0–1) in French percent; just under 1 prints « > 99,9 % »."""
    if 0.999 <= x < 1:
        return ">" + NNBSP + fmt_percent(99.9, 1)
    return fmt_percent(100 * x, 1)


def finalize(agg: pd.DataFrame, published: pd.DataFrame | None = None,
             registry: dict[str, dict] | None = None, flags: pd.DataFrame | None = None,
             sourced: pd.DataFrame | None = None) -> pd.DataFrame:
    """Long aggregates → tidy frame (pure).

    Published values override the computed ones where the registry says so (départements,
    régions, France métropolitaine): the computed value — over the communes where the data exist,
    exactly as the territory's — is kept in ``value_same_basis`` with its ``n_missing`` and
    ``coverage`` (``value_same_basis`` is NaN on every other row). Metropolitan-only indicators
    are n.d. for France entière; labels and notes are added.

    ``flags``: optional frame level, code, incomplete (codes of communes undercounted since a
    2025 merger), area_fallback (codes whose area is the polygon's) for the notes.

    ``sourced``: :func:`source_values` (kind ``published``): the value of a comparator found there
    is taken as published (method ``publié (source)``); every other row of these indicators —
    the CPTS, its EPCIs, a level the source does not publish — is NaN (``non publié à ce niveau``),
    never computed. Kind ``bv_estimate`` rows are ``estimé (bassins de vie)``.
    """
    registry = INDICATORS if registry is None else registry
    t = agg.copy()
    meta = pd.DataFrame.from_dict(registry, orient="index")
    kind = meta["compute"].map(lambda c: c["kind"])
    has_pub = meta["compute"].map(lambda c: bool(c.get("published")))
    t["method"] = METHOD_COMPUTED
    t.loc[t["indicator_id"].map(kind) == "none", "method"] = METHOD_NOT_COMPUTABLE
    t.loc[t["indicator_id"].map(kind) == "bv_estimate", "method"] = METHOD_ESTIMATED
    t["value_same_basis"] = np.nan
    _apply_sourced(t, kind, sourced)
    if published is not None and len(published):
        pub = published.set_index(["level", "code", "indicator_id"])["value"]
        key = pd.MultiIndex.from_frame(t[["level", "code", "indicator_id"]])
        is_pub = (t["indicator_id"].map(has_pub).fillna(False).astype(bool)
                  & t["level"].isin(PUBLISHED_LEVELS)).to_numpy()
        pv = pub.reindex(key).to_numpy(dtype=float)
        t.loc[is_pub, "value_same_basis"] = t.loc[is_pub, "value"]
        t.loc[is_pub, "value"] = pv[is_pub]
        t.loc[is_pub, "method"] = METHOD_PUBLISHED
    metro_only = t["indicator_id"].map(meta["coverage"]).eq("metro") & t["level"].eq("france")
    t.loc[metro_only, "value"] = np.nan
    t.loc[metro_only, "method"] = METHOD_NOT_COVERED
    t.loc[metro_only, ["n_missing", "coverage"]] = np.nan

    t["note"] = _notes(t, registry, flags)
    for c in ("label", "unit", "source", "vintage", "theme"):
        t[c] = t["indicator_id"].map(meta[c])
    return _sort_tidy(t, registry)[TIDY_COLUMNS].reset_index(drop=True)


def _apply_sourced(t: pd.DataFrame, kind: pd.Series, sourced: pd.DataFrame | None) -> None:
    """In place: kind ``published`` rows get the source's value where it publishes one, else NaN."""
    is_src = (t["indicator_id"].map(kind) == "published").to_numpy()
    t.loc[is_src, ["value", "n_missing", "coverage"]] = np.nan
    t.loc[is_src, "method"] = METHOD_NOT_PUBLISHED
    if sourced is None or not len(sourced) or not is_src.any():
        return
    src = sourced.drop_duplicates(["level", "code", "indicator_id"]).set_index(
        ["level", "code", "indicator_id"])["value"]
    key = pd.MultiIndex.from_frame(t[["level", "code", "indicator_id"]].astype(str))
    hit = is_src & key.isin(src.index) & ~t["level"].isin(LOCAL_LEVELS).to_numpy()
    t.loc[hit, "value"] = src.reindex(key[hit]).to_numpy(dtype=float)
    t.loc[hit, "method"] = METHOD_SOURCE


def _sort_tidy(t: pd.DataFrame, registry: dict) -> pd.DataFrame:
    """Rows in registry order, then level order (territory … france), then code (stable)."""
    order = {k: i for i, k in enumerate(registry)}
    lorder = {k: i for i, k in enumerate(LEVELS)}
    return (t.assign(_o=t["indicator_id"].map(order), _l=t["level"].map(lorder))
            .sort_values(["_o", "_l", "code"], kind="stable").drop(columns=["_o", "_l"]))


def _missing_note(r, strict_comparator: bool) -> str:
    """Note of a computed row with communes left out."""
    n, total = int(r.n_missing), int(r.n_communes)
    if strict_comparator:  # a comparator's sum over the communes having the value
        s = (f"somme sur les communes renseignées : {fmt_number(n)} commune(s) sur "
             f"{fmt_number(total)} sans donnée")
        if r.coverage == r.coverage:
            s += f", {fmt_share(r.coverage)} de la population 2022 couverte"
        return s
    s = f"{fmt_number(n)} commune(s) sur {fmt_number(total)} sans donnée, exclue(s)"
    missing = getattr(r, "missing", None)
    if isinstance(missing, list) and missing:
        s += " (" + ", ".join(missing[:12]) + (" …" if len(missing) > 12 else "") + ")"
    if r.coverage == r.coverage and r.coverage < 1:
        s += f" ; population couverte : {fmt_share(r.coverage)}"
    partial = getattr(r, "partial", np.nan)
    if partial == partial:
        s += (f" ; n.d. car la somme serait incomplète (somme partielle sur les communes "
              f"renseignées : {fmt_number(partial)})")
    return s


def _published_note(r, d: dict) -> str:
    """Note of a row whose value is the published PTOD one, with the same-basis comparator."""
    s = "valeur publiée (agrégat PTOD), toute la population"
    if r.value_same_basis == r.value_same_basis:
        s += (" ; sur les seules communes où la donnée est publiée : "
              f"{fmt_value(r.value_same_basis, d['unit'], d['decimals'])}")
        if r.coverage == r.coverage:
            s += (f" (couverture : {fmt_share(r.coverage)} de la population, "
                  f"{fmt_number(int(r.n_missing))} commune(s) sur {fmt_number(int(r.n_communes))} "
                  "sans donnée)")
    return s


def _notes(t: pd.DataFrame, registry: dict, flags: pd.DataFrame | None) -> list[str]:
    """Row notes: communes left out (with codes when known), published / n.d. reasons, flags."""
    fl = {}
    if flags is not None and len(flags):
        fl = {(r.level, r.code): (r.incomplete, r.area_fallback) for r in flags.itertuples()}
    out = []
    for r in t.itertuples(index=False):
        d = registry[r.indicator_id]
        parts = []
        if r.method == METHOD_PUBLISHED:
            parts.append(_published_note(r, d))
        elif r.method == METHOD_NOT_PUBLISHED:
            parts.append(f"non disponible : valeur publiée seulement par {d['geography']}, jamais "
                         "recalculée" if d.get("geography") else "non publié à ce niveau")
        elif r.method == METHOD_NOT_COVERED:
            parts.append("non disponible : données limitées à la France métropolitaine")
        elif r.method == METHOD_NOT_COMPUTABLE:
            if r.level in LOCAL_LEVELS:
                parts.append("non calculable : une moyenne de médianes n'est pas une médiane "
                             "(voir la distribution des valeurs communales)")
        elif r.n_missing and r.n_missing > 0:
            strict_comp = bool(d["compute"].get("strict")) and r.level not in LOCAL_LEVELS
            parts.append(_missing_note(r, strict_comp))
        if r.method == METHOD_ESTIMATED and r.value != r.value and r.coverage == r.coverage:
            parts.append(f"non estimé : les bassins de vie renseignés ne couvrent que "
                         f"{fmt_share(r.coverage)} de la population (seuil : "
                         f"{fmt_percent(100 * MIN_COVERAGE, 0)})")
        if r.method == METHOD_COMPUTED and (r.level, r.code) in fl:
            inc, area = fl[(r.level, r.code)]
            if inc and "incomplete_2025" in d["flags"]:
                parts.append("sous-estimé : commune(s) incomplète(s) depuis une fusion du "
                             f"1er janvier 2025 ({inc})")
            if area and "polygon_area" in d["flags"]:
                parts.append(f"superficie du polygone (pas de surface IGN) pour {area}")
        out.append(" ; ".join(parts))
    return out


def flag_frame(base: pd.DataFrame, membership: pd.DataFrame, list_codes: bool) -> pd.DataFrame:
    """Per group: communes incomplete since a 2025 merger and communes whose area is the
    polygon's (codes if ``list_codes``, else a count), for :func:`finalize`'s notes."""
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
