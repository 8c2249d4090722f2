"""Tables comparing the territory with its comparators (indicators × territories), and tables of
indicators by EPCI part. A rate computed on partial coverage gets a second row computed on the
same basis for every comparator (communes where the data are published), and a coverage column."""
from __future__ import annotations

import pandas as pd

from ..fmt import fmt_number, fmt_percent, is_missing
from . import blocks as B
from .text import plural



MAX_EPCI_ROWS = 30


def coverage_text(ctx, iid: str, level: str = "territory", code=None) -> str:
    """« 8 communes sur 104, 50,2 % de la population » when the value rests on part of the
    territory; '' when it covers everything."""
    r = ctx.row(iid, level, code)
    n, nm, cov = r.get("n_communes"), r.get("n_missing"), r.get("coverage")
    if is_missing(nm) or nm <= 0:
        return ""
    s = f"{plural(n - nm, 'commune')} sur {fmt_number(n, 0)}"
    if not is_missing(cov):
        s += f", {fmt_percent(100 * cov, 1)} de la population"
    return s


def has_same_basis(ctx, iid: str) -> bool:
    t = ctx.tidy
    if "value_same_basis" not in t.columns:
        return False
    sub = t[(t["indicator_id"] == iid) & t["value_same_basis"].notna()]
    return len(sub) > 0


def compare_frame(ctx, ids: list[str], france: bool | None = None) -> tuple[pd.DataFrame, list[int]]:
    """Raw values: one row per indicator (two for a same-basis indicator), one column per territory."""
    comps = ctx.comparators(france=True)
    cov_col = f"Couverture ({ctx.kind})"
    rows, decs = [], []
    for iid in ids:
        variants = [("value", "")]
        if has_same_basis(ctx, iid):
            variants = [("same", " — communes où la donnée est publiée"),
                        ("value", " — valeur publiée, toute la population")]
        for how, suffix in variants:
            r = {"Indicateur": ctx.label(iid) + suffix, "Unité": ctx.unit(iid)}
            for level, code, name in comps:
                col = ctx.Kind if level == "territory" else name
                if how == "same":
                    r[col] = ctx.val(iid) if level == "territory" else ctx.same_basis(iid, level, code)
                elif suffix and level == "territory":
                    r[col] = float("nan")  # the territory's all-population value is not published
                else:
                    r[col] = ctx.val(iid, level, code)
            r[cov_col] = coverage_text(ctx, iid) if how != "value" or not suffix else ""
            r["Millésime"] = str(ctx.registry[iid]["vintage"])
            rows.append(r)
            decs.append(ctx.dec(iid))
    df = pd.DataFrame(rows)
    if france is False or (france is None and df["France entière"].isna().all()):
        df = df.drop(columns=["France entière"])
    if not df[cov_col].astype(bool).any():
        df = df.drop(columns=[cov_col])
    return df, decs


def comparator_notes(ctx, iid: str) -> list[str]:
    """Notes of the comparators computed on part of their communes (e.g. a région's 2016
    population summed over the communes that have it): the coverage is said under the table."""
    from ..catalogue import MARK_COVERAGE_BELOW

    out = []
    for level, code, name in ctx.comparators(france=True)[1:]:
        r = ctx.row(iid, level, code)
        cov, note = r.get("coverage"), r.get("note")
        if r.get("method") == "calculé" and not is_missing(cov) and cov < MARK_COVERAGE_BELOW \
                and isinstance(note, str) and note:
            out.append(f"{ctx.label(iid)} ({name}) : {note}")
    return out


def compare_table(ctx, ids: list[str], name: str, caption: str, note: str | None = None,
                  france: bool | None = None, source: str | None = None) -> B.Table:
    """A :class:`~cpts_diag.report.blocks.Table` of indicators × the territory and its comparators,
    with the territory's notes (communes left out, undercounts) under it."""
    df, decs = compare_frame(ctx, ids, france)
    notes = []
    for iid in ids:
        n = ctx.row(iid).get("note")
        if isinstance(n, str) and n:
            notes.append(f"{ctx.label(iid)} ({ctx.kind}) : {n}")
        notes += comparator_notes(ctx, iid)
    return B.Table(name, df, caption, source or ctx.caption(*ids), note=note, notes=notes,
                   compare=True, row_decimals=decs)


def level_table(ctx, ids: list[str], name: str, caption: str) -> B.Table:
    """Indicators (columns) for the territory, each EPCI part and the comparators (rows)."""
    rows = []
    levels = [("territory", ctx.territory.id, ctx.territory.name)]
    epcis = ctx.levels("epci")
    if len(epcis) <= MAX_EPCI_ROWS:  # beyond, the EPCI parts are in the commune annex's workbook
        levels += [("epci", c, f"{n} (partie {ctx.kind})") for c, n in epcis]
    levels += [(lv, cd, n) for lv, cd, n in ctx.comparators() if lv != "territory"]
    for level, code, label in levels:
        r = {"Territoire": label}
        for iid in ids:
            r[f"{ctx.label(iid)} ({ctx.unit(iid)})"] = ctx.val(iid, level, code)
        rows.append(r)
    dec = {f"{ctx.label(i)} ({ctx.unit(i)})": ctx.dec(i) for i in ids}
    return B.Table(name, pd.DataFrame(rows), caption, ctx.caption(*ids), decimals=dec)
