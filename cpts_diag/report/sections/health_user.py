"""The CPTS's own health tables in section 4 (« Vos indicateurs de santé »): the figures it brings
(docs/health_tables.md), rendered with their comparators, small numbers protected BEFORE
anything is shown or written (:mod:`cpts_diag.disclosure`).

Rules applied per row and per level column (CPTS, EPCI, département, région, France):
- a count (unit other than ``%``) below the threshold of its kind (patients < 10, professionals
  < 5) is shown « < 10 » / « < 5 »;
- a rate (unit ``%``) whose ``effectif`` is below the threshold is masked;
- secondary suppression: when the CPTS total and its EPCI parts are shown and exactly one part is
  masked, another part is masked too (:func:`cpts_diag.disclosure.secondary_suppression`).
Exports (CSV, xlsx, JSON) receive the protected table: a masked value is never written."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ... import disclosure as D
from ...health_tables import RATE_UNIT, comparison_counts, comparison_frame, health_tables_for
from .. import blocks as B
from ...fmt import fmt_number, fmt_percent
from ..text import esc, join_fr
from ._titles import sub

_LABELS = ("Indicateur", "Unité", "Année", "Source")


def _level_columns(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if c not in _LABELS and c != "Dénombrement"]


def protect(vals: pd.DataFrame, counts: pd.DataFrame, cpts_col: str, epci_cols: list[str],
            limits: dict | None = None) -> tuple[pd.DataFrame, list[str]]:
    """``vals`` with small counts and dependent rates masked (strings « < 5 », « masqué »), and
    the French notes of the rules that masked something. Pure: the inputs are not changed."""
    limits = limits or D.thresholds()
    out = vals.astype(object).copy()
    used: set[str] = set()
    for i in vals.index:
        kind = counts.at[i, "Dénombrement"]
        limit = limits[kind]
        is_rate = vals.at[i, "Unité"] == RATE_UNIT
        mask = {}
        for col in _level_columns(vals):
            n = counts.at[i, col] if col in counts.columns else np.nan
            n = vals.at[i, col] if (not is_rate and pd.isna(n)) else n
            mask[col] = D.is_small(n, limit)
        if not is_rate and epci_cols and not pd.isna(vals.at[i, cpts_col]):
            parts = pd.Series({c: vals.at[i, c] for c in epci_cols}, dtype=float)
            extra, hide_total = D.secondary_suppression(
                parts, pd.Series({c: mask[c] for c in epci_cols}), total=vals.at[i, cpts_col])
            if hide_total:
                out.at[i, cpts_col] = D.SUPPRESSED_TEXT
                used.add("secondary")
            for c in epci_cols:
                if extra[c] and not mask[c]:
                    out.at[i, c] = D.SUPPRESSED_TEXT
                    used.add("secondary")
        for col, small in mask.items():
            if small:
                out.at[i, col] = D.SUPPRESSED_TEXT if is_rate else D.masked_text(limit)
                used.add("rates" if is_rate else kind)
    notes = [D.small_note(k, limits[k]) for k in D.KINDS if k in used]
    notes += [D.NOTE_SECONDARY] if "secondary" in used else []
    notes += [D.NOTE_RATES] if "rates" in used else []
    return out, notes


def _protected(ctx):
    """(protected comparison frame, notes, list of HealthTable) of the user's tables, or None;
    read and protected once per context (the synthesis and section 4.5 both use it)."""
    if not ctx.health_tables:
        return None
    cache = ctx.__dict__.setdefault("_user_health", {})
    key = tuple(ctx.health_tables)
    if key not in cache:
        cache[key] = _read_and_protect(ctx)
    return cache[key]


def _read_and_protect(ctx):
    tables = health_tables_for(ctx.health_tables)
    epcis = {c: n for c, n in ctx.levels("epci")}
    name = ctx.territory.name
    vals = comparison_frame(tables, name, epci_names=epcis)
    counts = comparison_counts(tables, name, epci_names=epcis)
    epci_cols = [n for n in epcis.values() if n in vals.columns]
    shown, notes = protect(vals, counts, name, epci_cols)
    return shown, notes, tables


def user_points(ctx) -> list[str]:
    """Sentences of the « Points saillants » from the user's tables: each indicator with a CPTS
    value (not masked) and a France value, qualified by the report's rules
    (:func:`cpts_diag.report.readings.versus`)."""
    from ..readings import versus

    got = _protected(ctx)
    if got is None:
        return []
    shown, name = got[0], ctx.territory.name
    out = []
    for _, r in shown.iterrows():
        x, fr = r.get(name), r.get("France")
        if isinstance(x, str) or isinstance(fr, str) or pd.isna(x) or pd.isna(fr):
            continue  # masked or missing
        unit = "%" if r["Unité"] == RATE_UNIT else ""
        fmt = (lambda v: fmt_percent(v)) if unit else (lambda v: fmt_number(v, 1 if v % 1 else 0))
        vs = versus(x, fr, unit, True, "de la France", fmt(fr))
        if vs:
            out.append(f"{esc(r['Indicateur'])} ({int(r['Année'])}, indicateur fourni par "
                       f"{ctx.la}) : {fmt(x)}, valeur {vs}.")
    return out


def build_user_tables(ctx) -> list:
    """Blocks of the user's health tables (nothing when the CPTS gave none)."""
    got = _protected(ctx)
    if got is None:
        return []
    shown, notes, tables = got
    vals = shown
    shown = shown.copy()
    shown["Année"] = shown["Année"].astype(str)
    files = join_fr([f"« {esc(t.path.name)} »" for t in tables])
    text = (f"Indicateurs fournis par {ctx.la} ({files}), au format de docs/health_tables.md : "
            "chaque chiffre est celui du fichier, avec la source qu'il indique ; les petits effectifs "
            "sont protégés avant tout affichage ou export.")
    sources = " ; ".join(sorted(set(vals["Source"].dropna())))  # escaped by the renderer
    table = B.Table("sante_indicateurs_cpts", shown.drop(columns=["Source"]),
                    f"Indicateurs de santé fournis par {ctx.la}", sources, notes=notes)
    return [sub(f"4.5 Indicateurs de santé fournis par {ctx.la}"), B.Text(text), table]
