"""Reader of the ORIGINAL DREES APL workbooks (``Indicateur d'accessibilité potentielle localisée``).

DREES publishes one workbook per profession with a ``Paramètres`` sheet and one ``APL <year>``
sheet per vintage. Each APL sheet has a title block of variable height, a header row starting
with ``Code commune INSEE``, a row of units, then one row per commune. Nothing here depends on a
row offset: the header row is searched for, and columns are recognised by their labels.
"""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from .errors import WorkbookFormatError
from .fmt import fold

SHEET_RE = re.compile(r"^\s*APL\s+(\d{4})\s*$", re.IGNORECASE)
HEADER_SCAN_ROWS = 60

# (pattern on the normalised header, column, profession)
_APL_COLUMNS = [
    (re.compile(r"^apl aux medecins generalistes (de moins de|de|ages de) 65 ans"), "medecin_generaliste_moins_65"),
    (re.compile(r"^apl aux medecins generalistes$"), "medecin_generaliste"),
    (re.compile(r"^apl aux (infirmieres|infirmiers)"), "infirmier"),
    (re.compile(r"^apl aux (masseurs|kinesitherapeutes)"), "masseur_kinesitherapeute"),
    (re.compile(r"^apl aux sages? femmes"), "sage_femme"),
    (re.compile(r"^apl aux chirurgiens? dentistes"), "chirurgien_dentiste"),
]
UNITS = {
    "medecin_generaliste": "consultations/an/hab. std",
    "medecin_generaliste_moins_65": "consultations/an/hab. std",
}
DEFAULT_UNIT = "ETP/100 000 hab. std"


_norm = fold  # headers compared in lower-case ASCII, punctuation folded to spaces


def _open(path: Path):
    """The workbook, read-only with cell values; a clear error if it is not a readable workbook."""
    import openpyxl

    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # zipfile.BadZipFile, KeyError, InvalidFileException...
        raise WorkbookFormatError(
            f"{path} n'est pas un classeur Excel lisible ({exc.__class__.__name__} : {exc}). "
            "Correctif : téléchargez à nouveau le classeur APL de la DREES."
        ) from exc


def _sheets(wb) -> dict[int, str]:
    return {int(m.group(1)): name for name in wb.sheetnames if (m := SHEET_RE.match(name))}


def apl_sheets(path: Path) -> dict[int, str]:
    """``{vintage: sheet name}`` of the ``APL <year>`` sheets of a workbook."""
    wb = _open(path)
    try:
        return _sheets(wb)
    finally:
        wb.close()


def read_apl_sheet(path: Path, vintage: int) -> pd.DataFrame:
    """Read the ``APL <vintage>`` sheet of a DREES workbook into a long frame.

    Columns: ``code_commune`` (as published), ``nom``, ``annee``, ``profession``, ``apl``,
    ``unite``, ``pop_std``, ``pop_tot``, ``pop_year`` (year of the populations).
    """
    wb = _open(path)
    try:
        return _read_sheet(wb, path, vintage)
    finally:
        wb.close()


def read_apl_sheets(path: Path) -> pd.DataFrame:
    """Every ``APL <year>`` sheet of a workbook (oldest first), concatenated; one workbook open."""
    wb = _open(path)
    try:
        sheets = _sheets(wb)
        if not sheets:
            raise WorkbookFormatError(f"{Path(path).name} : aucune feuille « APL <année> ». "
                                      "Correctif : vérifiez qu'il s'agit d'un classeur APL de la DREES.")
        return pd.concat([_read_sheet(wb, path, v) for v in sorted(sheets)], ignore_index=True)
    finally:
        wb.close()


def _read_sheet(wb, path: Path, vintage: int) -> pd.DataFrame:
    sheets = _sheets(wb)
    if vintage not in sheets:
        raise WorkbookFormatError(
            f"{Path(path).name} : pas de feuille « APL {vintage} ». Millésimes des feuilles trouvées : "
            f"{', '.join(map(str, sorted(sheets))) or 'aucun'}. Correctif : choisissez l'un de ces "
            "millésimes, ou vérifiez qu'il s'agit d'un classeur APL de la DREES."
        )
    sheet = sheets[vintage]
    rows = wb[sheet].iter_rows(values_only=True)
    header, n = None, 0
    for n, row in enumerate(rows, 1):
        if row and _norm(row[0]).startswith("code commune"):
            header = row
            break
        if n >= HEADER_SCAN_ROWS:
            break
    if header is None:
        raise WorkbookFormatError(
            f"{Path(path).name}, feuille « {sheet} » : aucune ligne d'en-tête commençant par "
            f"« Code commune INSEE » dans les {HEADER_SCAN_ROWS} premières lignes. Correctif : "
            "vérifiez qu'il s'agit du classeur APL original de la DREES."
        )
    cols = _map_columns(header, path, sheet)
    data = []
    for row in rows:
        code = row[0] if row else None
        if code is None or str(code).strip() == "":
            if data:
                break  # end of the table (notes may follow)
            continue  # the units row, or blank rows before the data
        code = str(code).strip()
        if not re.fullmatch(r"[0-9][0-9AB][0-9]{3}", code):
            if data:
                break
            continue
        data.append([code] + [row[i] if i < len(row) else None for i in cols.values()])
    if not data:
        raise WorkbookFormatError(
            f"{Path(path).name}, feuille « {sheet} » : en-tête trouvé mais aucune ligne de commune "
            "dessous. Correctif : vérifiez que le classeur est complet."
        )
    wide = pd.DataFrame(data, columns=["code_commune", *cols.keys()])
    for c in wide.columns:
        if c not in ("code_commune", "nom"):
            wide[c] = pd.to_numeric(wide[c], errors="coerce")
    pop_year = _pop_year(header)
    professions = [c for c in cols if c.startswith("apl:")]
    out = []
    for p in professions:
        prof = p.split(":", 1)[1]
        part = pd.DataFrame({
            "code_commune": wide["code_commune"],
            "nom": wide.get("nom"),
            "annee": vintage,
            "profession": prof,
            "apl": wide[p],
            "unite": UNITS.get(prof, DEFAULT_UNIT),
            "pop_std": wide.get("pop_std"),
            "pop_tot": wide.get("pop_tot"),
            "pop_year": pop_year,
        })
        out.append(part)
    df = pd.concat(out, ignore_index=True)
    df["annee"] = df["annee"].astype("int64")
    return df


def _map_columns(header, path, sheet) -> dict[str, int]:
    cols: dict[str, int] = {}
    for i, cell in enumerate(header):
        h = _norm(cell)
        if i == 0 or not h:
            continue
        if h == "commune" or h.startswith("libelle"):
            cols["nom"] = i
        elif h.startswith("population standardisee"):
            cols["pop_std"] = i
        elif h.startswith("population totale") or h.startswith("population municipale"):
            cols["pop_tot"] = i
        else:
            for pattern, prof in _APL_COLUMNS:
                if pattern.search(h):
                    cols[f"apl:{prof}"] = i
                    break
    if not any(k.startswith("apl:") for k in cols) or "pop_std" not in cols:
        raise WorkbookFormatError(
            f"{Path(path).name}, feuille « {sheet} » : colonnes « APL aux … » et « Population "
            f"standardisée … » attendues dans la ligne d'en-tête, trouvé : "
            f"{', '.join(str(c) for c in header if c)}. Correctif : vérifiez qu'il s'agit du "
            "classeur APL original de la DREES."
        )
    return cols


def _pop_year(header) -> int | None:
    for cell in header:
        m = re.search(r"population (standardisee|totale) (\d{4})", _norm(cell))
        if m:
            return int(m.group(2))
    return None
