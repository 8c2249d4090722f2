"""User tables (CSV or DataFrame) of the APL engine: reading, numbers, row-level refusals.

Shared by the readers of :mod:`cpts_diag.apl_inputs` (travel times, supply). Every refusal is an
:class:`~cpts_diag.errors.APLInputError` in French naming the table, the column, the line of the
file (header = line 1) and the fix.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .errors import APLInputError
from .fmt import fmt_number

__all__ = ["line", "table_name", "read_table", "refuse_rows", "numeric"]


def line(df: pd.DataFrame, pos: int) -> str:
    """Where row ``pos`` is: « ligne 3 » of a CSV file (header = line 1), else its index."""
    return f"ligne {df.index[pos] + 2}" if df.attrs.get("_csv") else f"ligne d'index {df.index[pos]!r}"


def table_name(kind: str, path_or_frame) -> str:
    """« Table d'offre offre.csv » (the file name), or the kind alone for a DataFrame."""
    if isinstance(path_or_frame, pd.DataFrame):
        return kind
    return f"{kind} {Path(str(path_or_frame)).name}"


def read_table(path_or_frame, what: str) -> pd.DataFrame:
    """A user CSV (comma- or semicolon-separated, UTF-8) read as text, or a copy of a DataFrame."""
    if isinstance(path_or_frame, pd.DataFrame):
        return path_or_frame.copy()
    path = Path(path_or_frame)
    fix = "Correctif : enregistrez la table en CSV UTF-8, une ligne d'en-tête puis les données."
    if not path.is_file():
        raise APLInputError(f"{what} : fichier introuvable : {path}. Correctif : vérifiez le chemin.")
    try:
        with open(path, encoding="utf-8-sig") as fh:
            header = fh.readline()
    except UnicodeDecodeError as exc:
        raise APLInputError(f"{what} : {path.name} n'est pas un texte UTF-8. {fix}") from exc
    if not header.strip():
        raise APLInputError(f"{what} : {path.name} est vide (ligne d'en-tête attendue). {fix}")
    sep = ";" if header.count(";") > header.count(",") else ","
    try:
        df = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, na_values=[""],
                         encoding="utf-8-sig", skip_blank_lines=False)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise APLInputError(f"{what} : {path.name} n'est pas un CSV lisible ({exc}). {fix}") from exc
    df = df[df.notna().any(axis=1)].copy()  # blank lines are skipped, line numbers kept
    df.attrs["_csv"] = path.name
    return df


def refuse_rows(df: pd.DataFrame, mask, what: str, col: str, problem: str, fix: str) -> None:
    """Raise naming the column, the number of rows, the first value and its line, and the fix."""
    mask = np.asarray(mask, dtype=bool)
    if mask.any():
        pos = int(np.flatnonzero(mask)[0])
        raise APLInputError(
            f"{what} : colonne « {col} », {fmt_number(int(mask.sum()))} {problem}, p. ex. "
            f"« {df[col].iloc[pos]} » ({line(df, pos)}). Correctif : {fix}")


def numeric(df: pd.DataFrame, col: str, what: str) -> pd.Series:
    """A finite numeric column; text accepts a decimal comma and spaces as thousands separators."""
    raw = df[col]
    if pd.api.types.is_numeric_dtype(raw):
        s = pd.to_numeric(raw, errors="coerce")
    else:
        txt = raw.astype("string").str.strip().str.replace(",", ".", regex=False)
        txt = txt.str.replace("\u202f", "", regex=False).str.replace(" ", "", regex=False)
        s = pd.to_numeric(txt, errors="coerce")
    s = s.where(raw.notna()).astype(float)
    refuse_rows(df, raw.notna() & ~np.isfinite(s), what, col,
                 "valeur(s) non numérique(s) ou infinie(s)",
                 "écrivez des nombres (virgule décimale admise, p. ex. 12,5).")
    return s
