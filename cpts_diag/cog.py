"""Harmonisation of commune codes to COG 2025 (Code officiel géographique, 1 January 2025).

Communes merge (and, rarely, split): a table published on an older COG uses codes that no
longer exist. :func:`harmonise_to_cog2025` moves any commune-level frame to COG 2025 with the
passage table: counts are summed, rates are averaged with an explicit weight column, and every
code that could not be placed (or whose territory was split afterwards) is reported, never
silently dropped or double-counted.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .errors import HarmonisationError
from .fmt import fmt_number


@dataclass
class HarmonisationReport:
    """What :func:`harmonise_to_cog2025` did to the codes of a frame."""

    n_rows_in: int
    n_rows_out: int
    recoded: dict[str, str] = field(default_factory=dict)  # old code -> COG 2025 code
    merged_into: dict[str, list[str]] = field(default_factory=dict)  # 2025 code -> source codes
    unplaced: list[str] = field(default_factory=list)  # codes absent from the passage table
    split_territories: dict[str, str] = field(default_factory=dict)  # code -> 2025 communes sharing it

    @property
    def ok(self) -> bool:
        return not self.unplaced

    def summary(self) -> str:
        parts = [f"{fmt_number(self.n_rows_in)} lignes → {fmt_number(self.n_rows_out)} communes "
                 "du COG 2025", f"{fmt_number(len(self.recoded))} codes recodés",
                 f"{fmt_number(len(self.merged_into))} communes formées de plusieurs codes"]
        if self.unplaced:
            parts.append(f"{fmt_number(len(self.unplaced))} codes non placés : "
                         f"{', '.join(self.unplaced[:10])}" + (" …" if len(self.unplaced) > 10 else ""))
        if self.split_territories:
            parts.append(f"{fmt_number(len(self.split_territories))} codes dont le territoire a été "
                         "scindé ensuite : "
                         + ", ".join(f"{k} → {v}" for k, v in list(self.split_territories.items())[:5]))
        return " ; ".join(parts)


def weighted_rate(df: pd.DataFrame, keys: list[str], rate: str, weight: str) -> pd.Series:
    """Mean of ``rate`` weighted by ``weight`` per group of ``keys`` (index: the groups, sorted).

    Σ rate × weight / Σ weight over the rows having both; a group of a single row keeps its rate
    (even with weight 0 or missing); a row with weight > 0 and no rate makes the group's mean
    missing (the mean of the other rows would be biased).
    """
    r, w = df[rate], df[weight]
    t = pd.DataFrame({"num": r * w, "den": w.where(r.notna()), "miss": r.isna() & (w.fillna(0) > 0),
                      "rate": r})
    g = t.groupby([df[k] for k in keys], sort=True, dropna=False)
    val = g["num"].sum(min_count=1) / g["den"].sum(min_count=1).replace(0, np.nan)
    val = val.where(g.size() != 1, g["rate"].first())
    return val.where(~g["miss"].any())


def harmonise_to_cog2025(
    df: pd.DataFrame,
    passage: pd.DataFrame,
    code_col: str = "code_commune",
    counts: list[str] | tuple[str, ...] = (),
    rates: dict[str, str] | None = None,
    first: list[str] | tuple[str, ...] = (),
    by: list[str] | tuple[str, ...] = (),
    errors: str = "raise",
    from_cog: int | None = None,
) -> tuple[pd.DataFrame, HarmonisationReport]:
    """Move ``df`` from any COG vintage to COG 2025.

    Parameters
    ----------
    df : frame with one row per commune code (per ``by`` group, e.g. per vintage × profession).
    passage : the passage table (:func:`cpts_diag.loaders.load_passage`).
    counts : columns summed over the source codes of a 2025 commune. If any part is missing
        the sum is missing (a partial sum would be an undercount).
    rates : ``{rate column: weight column}``; each rate is the weighted mean over the source
        codes. Missing if a part with positive weight has no value. The weight column must be in
        ``counts`` or is summed as well.
    first : columns copied from the first source row (labels).
    by : extra grouping keys kept in the output (e.g. ``annee``, ``profession``).
    from_cog : COG vintage of the input codes, if known: only splits dated after 1 January of
        that year are reported (earlier ones are already reflected in the codes).
    errors : ``"raise"`` (default) raises :class:`HarmonisationError` if a code cannot be placed;
        ``"warn"`` drops those rows with a warning and lists them in the report.

    Columns not named in ``counts``, ``rates``, ``first`` or ``by`` are dropped: the caller
    states how each is to be aggregated.
    """
    rates = dict(rates or {})
    counts = list(counts)
    for w in rates.values():
        if w not in counts:
            counts.append(w)
    keys = [code_col, *by]
    _check_frame(df, keys, [code_col, *counts, *rates, *first, *by], errors)
    work, report = _place_codes(df, passage, code_col, errors, from_cog)
    out, srcs = _aggregate(work, keys, counts, rates, first)
    report.merged_into = {k if isinstance(k, str) else k[0]: v for k, v in srcs.items() if len(v) > 1}
    report.n_rows_out = len(out)
    out.attrs = dict(df.attrs)
    out.attrs["harmonisation"] = report.summary()
    return out, report


def _check_frame(df: pd.DataFrame, keys: list[str], needed: list[str], errors: str) -> None:
    """Raise if a named column is absent, ``errors`` is unknown or a key is duplicated."""
    missing_cols = [c for c in needed if c not in df.columns]
    if missing_cols:
        raise HarmonisationError(f"Colonne(s) {', '.join(map(str, missing_cols))} absente(s) de la "
                                 "table à harmoniser. Correctif : passez des colonnes de la table "
                                 "(counts, rates, first, by, code_col).")
    if errors not in ("raise", "warn"):
        raise HarmonisationError(f"errors = {errors!r} : valeur inconnue. Correctif : donnez "
                                 "errors=\"raise\" ou errors=\"warn\".")
    dup = df.duplicated(keys)
    if dup.any():
        raise HarmonisationError(
            f"Lignes en double pour {', '.join(keys)} : "
            f"{df.loc[dup, keys].head(5).to_dict('records')}. Correctif : agrégez la table à une "
            "ligne par code (et par groupe) avant l'harmonisation."
        )


def _place_codes(df: pd.DataFrame, passage: pd.DataFrame, code_col: str, errors: str,
                 from_cog: int | None) -> tuple[pd.DataFrame, HarmonisationReport]:
    """The placed rows recoded to COG 2025 (source code in ``_src``) and the report so far."""
    codes = df[code_col].astype("string").str.strip()
    table = passage.set_index("code_commune_source")
    target = codes.map(table["code_commune_cog2025"])
    unplaced = sorted(codes[target.isna()].dropna().unique().tolist())
    report = HarmonisationReport(n_rows_in=len(df), n_rows_out=0, unplaced=unplaced)
    if unplaced:
        msg = (f"Colonne « {code_col} » : {len(unplaced)} code(s) commune absent(s) de tous les "
               f"millésimes du COG de la table de passage : {', '.join(unplaced[:20])}"
               f"{' …' if len(unplaced) > 20 else ''}. Correctif : vérifiez les codes (5 caractères, "
               "zéros de tête conservés, lus comme du texte).")
        if errors == "raise":
            raise HarmonisationError(msg)
        warnings.warn(msg, stacklevel=3)  # the caller of harmonise_to_cog2025

    work = df.loc[target.notna()].copy()
    work["_src"] = codes[target.notna()]
    work[code_col] = target[target.notna()].astype(str)
    changed = work["_src"] != work[code_col]
    report.recoded = dict(zip(work.loc[changed, "_src"], work.loc[changed, code_col]))
    split = table[["scission_communes_cog2025", "scission_date"]].reindex(work["_src"].unique())
    split = split.dropna(subset=["scission_communes_cog2025"])
    if from_cog is not None:
        split = split[pd.to_datetime(split["scission_date"]) > pd.Timestamp(f"{from_cog}-01-01")]
    report.split_territories = dict(split["scission_communes_cog2025"].astype(str))
    return work, report


def _aggregate(work: pd.DataFrame, keys: list[str], counts: list[str], rates: dict[str, str],
               first: list[str] | tuple[str, ...]) -> tuple[pd.DataFrame, pd.Series]:
    """One row per ``keys`` group, and the sorted source codes of each group."""
    grouped = work.groupby(keys, sort=True, dropna=False)
    out = pd.DataFrame(index=grouped.size().index)
    for c in counts:
        s = grouped[c].sum(min_count=1)
        if work[c].isna().any():
            anymiss = work[c].isna().groupby([work[k] for k in keys], sort=True, dropna=False).any()
            s = s.where(~anymiss)
        out[c] = s
    for r, w in rates.items():
        out[r] = weighted_rate(work, keys, r, w)
    for c in first:
        out[c] = grouped[c].first()
    srcs = grouped["_src"].agg(lambda s: sorted(set(s)))
    return out.reset_index(), srcs
