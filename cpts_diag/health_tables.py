"""User health tables: figures a CPTS brings itself (Rézone CPTS, CartoSanté, its health project…).

The open-data bundle has no ALD, no « patients sans médecin traitant », no screening rates below the
département (README section 7): a CPTS copies them from its own exports into one CSV template and the
report shows them beside the open indicators. The template is defined once here (:data:`COLUMNS`,
:data:`LEVELS`); the user documentation is ``docs/health_tables.md``.

- :func:`read_health_table` reads and validates one CSV (UTF-8 with or without BOM, ``,`` or ``;``,
  decimal comma accepted) and refuses any defect with a French :class:`HealthTableError` naming the
  file, the line as a spreadsheet shows it (header = line 1), the column and the fix;
- :func:`health_tables_for` reads several files and refuses a figure given twice across files;
- :func:`comparison_frame` pivots them to one row per indicator, one column per territory level;
  :func:`comparison_counts` gives the matching ``effectif`` (counts) with the kind of count.

The vintage of each figure is its own ``annee`` cell (and its ``source`` cell names the publisher).

Small-number protection is NOT applied here. The report MUST pass these figures through
:func:`cpts_diag.disclosure.protect_table` before rendering (counts of patients under 10 shown
« < 10 », of professionals under 5 « < 5 », rates computed on such counts suppressed): use
:func:`comparison_counts` for the counts behind each cell and its ``Dénombrement`` column
(:data:`COUNT_KINDS`) for the threshold. ``effectif`` is kept for that purpose.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import APLInputError, ArgumentError, CptsDiagError
from .fmt import fmt_number, fold
from .user_tables import line, numeric, read_table

__all__ = ["COLUMNS", "LEVELS", "OPTIONAL_COLUMNS", "REQUIRED_COLUMNS", "LEVELS_WITHOUT_CODE",
           "CODE_FORMATS", "RATE_UNIT", "YEAR_RANGE", "MAX_BYTES", "COUNT_KINDS",
           "HealthTableError", "HealthTable", "read_health_table", "health_tables_for",
           "comparison_frame", "comparison_counts", "count_kind"]

#: The template's columns, in order.
COLUMNS = ("indicateur", "niveau", "code", "valeur", "effectif", "unite", "annee", "source")
#: Territory levels a figure may describe.
LEVELS = ("cpts", "epci", "departement", "region", "france")
#: Columns that may be absent from the file.
OPTIONAL_COLUMNS = ("effectif",)
REQUIRED_COLUMNS = tuple(c for c in COLUMNS if c not in OPTIONAL_COLUMNS)
#: Cells that must be filled on every line (``valeur`` may be empty: figure not available).
REQUIRED_CELLS = ("indicateur", "niveau", "unite", "annee", "source")
#: Levels whose ``code`` is not needed (and ignored: one CPTS, one France per report).
LEVELS_WITHOUT_CODE = ("cpts", "france")
#: Code format per level: (regular expression, French description with examples).
CODE_FORMATS = {
    "epci": (r"\d{9}", "le SIREN de l'EPCI, 9 chiffres (p. ex. 200035731)"),
    "departement": (r"\d{2}|2[AB]|97\d", "2 ou 3 caractères (p. ex. 01, 42, 2A, 971)"),
    "region": (r"\d{2}", "2 chiffres (p. ex. 84)"),
}
#: The unit of a rate (checked within :data:`RATE_RANGE`).
RATE_UNIT = "%"
RATE_RANGE = (0.0, 100.0)
YEAR_RANGE = (1990, 2100)
#: Files larger than this are refused before parsing.
MAX_BYTES = 5 * 1024 * 1024
#: Kinds of count for the small-number protection (thresholds in cpts_diag.disclosure).
COUNT_KINDS = ("patients", "professionnels")
#: Units (folded, first word, final « s » dropped) whose counts are professionals or practices;
#: any other unit counts patients, the stricter threshold.
PROFESSIONAL_UNITS = ("professionnel", "praticien", "medecin", "generaliste", "specialiste",
                      "infirmier", "infirmiere", "sage", "chirurgien", "dentiste", "masseur",
                      "kinesitherapeute", "orthophoniste", "pedicure", "pharmacien", "pharmacie",
                      "adresse", "cabinet")
#: Column labels of the comparison frame for the levels without code.
FRANCE_LABEL = "France"
_LEVEL_LABELS = {"departement": "Département", "region": "Région"}
_LEVEL_NAMES = {"epci": "d'EPCI", "departement": "de département", "region": "de région"}
_TRACE_COLUMNS = ("fichier", "ligne")
_KEY = ("indicateur", "niveau", "code", "annee")


class HealthTableError(CptsDiagError, ValueError):
    """A user health table is invalid (message in French: file, line, column, fix)."""


@dataclass(frozen=True, eq=False)
class HealthTable:
    """A validated health table.

    ``frame``: columns :data:`COLUMNS` plus ``fichier`` (file name) and ``ligne`` (spreadsheet line,
    header = 1); ``valeur``/``effectif`` float (NaN where empty), ``annee`` int, ``code`` text (NaN
    for ``cpts`` and ``france``). ``indicators``: the distinct indicators, in file order.
    """

    frame: pd.DataFrame
    path: Path
    indicators: tuple[str, ...] = field(default=())

    @property
    def years(self) -> tuple[int, ...]:
        """The distinct years (vintages) of the figures, ascending."""
        return tuple(sorted(int(y) for y in self.frame["annee"].unique()))


@contextmanager
def _as_health_error():
    """Re-raise the shared user-table refusals as :class:`HealthTableError`."""
    try:
        yield
    except APLInputError as exc:
        raise HealthTableError(str(exc)) from exc


def _refuse(df: pd.DataFrame, mask, what: str, col: str, problem: str, fix: str) -> None:
    """Raise naming the file, the first bad line, the column, the value, the count and the fix."""
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return
    pos = int(np.flatnonzero(mask)[0])
    value = df[col].iloc[pos]
    if pd.isna(value):
        shown = "" if "vide" in problem else " (cellule vide)"
    elif isinstance(value, (float, np.floating)):
        shown = f" (« {value:g} »)".replace(".", ",")
    else:
        shown = f" (« {value} »)"
    more = int(mask.sum()) - 1
    others = f", et {fmt_number(more)} autre(s) ligne(s)" if more else ""
    raise HealthTableError(f"{what}, {line(df, pos)}, colonne « {col} » : {problem}{shown}"
                           f"{others}. Correctif : {fix}")


def _read_raw(path: Path, what: str) -> pd.DataFrame:
    """The file read as text, after the existence and size checks (size checked before parsing)."""
    if not path.is_file():
        raise HealthTableError(f"{what} : fichier introuvable : {path}. Correctif : vérifiez le chemin.")
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise HealthTableError(
            f"{what} : fichier de {fmt_number(size / 1024 / 1024, 1)} Mo, au-delà de la limite de "
            f"{fmt_number(MAX_BYTES / 1024 / 1024)} Mo. Correctif : ne gardez que les indicateurs "
            "de votre territoire et de ses niveaux de comparaison, ou répartissez-les en plusieurs "
            "fichiers.")
    with _as_health_error():
        raw = read_table(path, what)
    return raw


def _check_columns(raw: pd.DataFrame, what: str) -> pd.DataFrame:
    """Header names folded (« Année » → ``annee``); unknown or missing columns refused."""
    names = [fold(c, "_") for c in raw.columns]
    expected = ", ".join(COLUMNS)
    for original, name in zip(raw.columns, names):
        if name not in COLUMNS:
            raise HealthTableError(
                f"{what}, ligne 1 (en-tête) : colonne « {original} » inconnue. Correctif : les "
                f"colonnes du modèle sont {expected} ; renommez-la ou supprimez-la.")
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise HealthTableError(f"{what}, ligne 1 (en-tête) : colonne « {dup[0]} » présente deux "
                               "fois. Correctif : gardez-en une seule.")
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise HealthTableError(
            f"{what}, ligne 1 (en-tête) : colonne(s) obligatoire(s) absente(s) : "
            f"{', '.join('« ' + c + ' »' for c in missing)}. Correctif : ajoutez-la(les) ; "
            f"colonnes du modèle : {expected} (seule « effectif » est facultative).")
    df = raw.set_axis(names, axis=1)
    df.attrs["_csv"] = raw.attrs.get("_csv", what)  # keeps the spreadsheet line numbers
    for col in COLUMNS:
        if col not in df:
            df[col] = np.nan
    if df.empty:
        raise HealthTableError(f"{what} : aucune ligne de données sous l'en-tête. Correctif : "
                               "ajoutez une ligne par chiffre (voir docs/health_tables.md).")
    return df


def _check_text_cells(df: pd.DataFrame, what: str) -> None:
    """Strip text cells, fold ``niveau``; refuse empty required cells, unknown levels, bad codes."""
    for col in ("indicateur", "niveau", "code", "unite", "source", "annee"):
        df[col] = df[col].astype("string").str.strip().replace("", pd.NA).astype(object)
    for col in REQUIRED_CELLS:
        _refuse(df, df[col].isna(), what, col, "cellule obligatoire vide",
                "remplissez-la" + (" : éditeur et millésime du chiffre, p. ex. « Rézone CPTS, "
                                   "2023 »." if col == "source" else "."))
    df["niveau"] = [fold(v, "") for v in df["niveau"]]
    _refuse(df, ~df["niveau"].isin(LEVELS), what, "niveau", "niveau inconnu",
            f"écrivez l'un de : {', '.join(LEVELS)}.")
    df.loc[df["niveau"].isin(LEVELS_WITHOUT_CODE), "code"] = np.nan
    coded = ~df["niveau"].isin(LEVELS_WITHOUT_CODE)
    _refuse(df, coded & df["code"].isna(), what, "code", "code manquant pour ce niveau",
            "indiquez le code officiel (EPCI : SIREN à 9 chiffres ; département : p. ex. 42 ; "
            "région : p. ex. 84) ; seuls les niveaux cpts et france s'en passent.")
    df.loc[coded, "code"] = df.loc[coded, "code"].str.upper()
    for level, (pattern, desc) in CODE_FORMATS.items():
        bad = (df["niveau"] == level) & ~df["code"].fillna("").str.fullmatch(pattern)
        _refuse(df, bad, what, "code", f"code {_LEVEL_NAMES[level]} mal formé",
                f"écrivez {desc}, en texte (le tableur ne doit pas supprimer les zéros initiaux).")


def _check_numbers(df: pd.DataFrame, what: str) -> None:
    """Parse ``valeur``, ``effectif`` and ``annee`` (decimal comma accepted) and check their ranges."""
    with _as_health_error():
        df["valeur"] = numeric(df, "valeur", what)
        df["effectif"] = numeric(df, "effectif", what)
        year = numeric(df, "annee", what)
    lo, hi = RATE_RANGE
    rate = df["unite"] == RATE_UNIT
    _refuse(df, rate & ((df["valeur"] < lo) | (df["valeur"] > hi)), what, "valeur",
            f"taux (unité {RATE_UNIT}) hors de l'intervalle {lo:g}–{hi:g}",
            "écrivez le taux en pourcentage (12,5 pour 12,5 %), ou corrigez l'unité.")
    eff = df["effectif"]
    _refuse(df, eff < 0, what, "effectif", "effectif négatif",
            "écrivez un nombre de personnes ou de professionnels, positif ou nul.")
    _refuse(df, eff.notna() & (eff != np.floor(eff)), what, "effectif", "effectif non entier",
            "écrivez un nombre entier (un dénombrement), ou laissez la cellule vide.")
    y0, y1 = YEAR_RANGE
    bad_year = (year != np.floor(year)) | (year < y0) | (year > y1)
    _refuse(df, bad_year, what, "annee", f"année non entière ou hors de {y0}–{y1}",
            "écrivez l'année du chiffre sur 4 chiffres, p. ex. 2023.")
    df["annee"] = year.astype(int)


def _where(df: pd.DataFrame, pos: int) -> str:
    """« sante.csv ligne 3 » for a row of a validated frame."""
    return f"{df['fichier'].iloc[pos]} ligne {df['ligne'].iloc[pos]}"


def _check_consistency(df: pd.DataFrame, what: str) -> None:
    """Refuse a figure given twice and an indicator with two units (within or across files)."""
    key = df[list(_KEY)].fillna("").astype(str)
    dup = key.duplicated(keep=False).to_numpy()
    if dup.any():
        first = int(np.flatnonzero(dup)[0])
        same = np.flatnonzero((key == key.iloc[first]).all(axis=1).to_numpy())
        r = df.iloc[first]
        code = "" if pd.isna(r["code"]) else f", code « {r['code']} »"
        raise HealthTableError(
            f"{what} : le même chiffre est donné deux fois ({' et '.join(_where(df, p) for p in same)}"
            f") : colonnes indicateur « {r['indicateur']} », niveau « {r['niveau']} »{code}, "
            f"annee {r['annee']}. Correctif : gardez une seule de ces lignes.")
    units = df.groupby("indicateur", sort=False)["unite"].nunique()
    for name in units[units > 1].index:
        rows = np.flatnonzero((df["indicateur"] == name).to_numpy())
        other = next(p for p in rows if df["unite"].iloc[p] != df["unite"].iloc[rows[0]])
        raise HealthTableError(
            f"{what} : colonne « unite », l'indicateur « {name} » a deux unités "
            f"(« {df['unite'].iloc[rows[0]]} », {_where(df, rows[0])} ; « {df['unite'].iloc[other]} »"
            f", {_where(df, other)}). Correctif : une seule unité par indicateur, ou deux "
            "indicateurs de noms différents.")


def read_health_table(path) -> HealthTable:
    """Read and validate one user health table (CSV in the template of :data:`COLUMNS`).

    Raises :class:`HealthTableError` (French: file, line, column, fix) on any defect listed in
    ``docs/health_tables.md``; never returns a partly valid table.
    """
    path = Path(path)
    what = f"Table de santé {path.name}"
    df = _check_columns(_read_raw(path, what), what)
    _check_text_cells(df, what)
    _check_numbers(df, what)
    df["fichier"] = path.name
    df["ligne"] = df.index.to_numpy() + 2
    df = df[list(COLUMNS) + list(_TRACE_COLUMNS)].reset_index(drop=True)
    _check_consistency(df, what)
    return HealthTable(frame=df, path=path, indicators=tuple(dict.fromkeys(df["indicateur"])))


def health_tables_for(paths) -> list[HealthTable]:
    """Read several health tables (a path, a list of paths, or None/empty for none).

    The same indicator, level, code and year in two files is refused, naming both files and lines.
    """
    if paths is None:
        return []
    if isinstance(paths, (str, Path)):
        paths = [paths]
    tables = [read_health_table(p) for p in paths]
    if len(tables) > 1:
        what = "Tables de santé " + ", ".join(t.path.name for t in tables)
        _check_consistency(pd.concat([t.frame for t in tables], ignore_index=True), what)
    return tables


def count_kind(unit: str) -> str:
    """``"professionnels"`` when ``unit`` names professionals or practices (first word in
    :data:`PROFESSIONAL_UNITS`), else ``"patients"`` (the stricter threshold)."""
    words = fold(unit).split()
    pro = bool(words) and words[0].rstrip("s") in PROFESSIONAL_UNITS
    return COUNT_KINDS[1] if pro else COUNT_KINDS[0]


def _frame_of(tables) -> pd.DataFrame:
    if isinstance(tables, HealthTable):
        tables = [tables]
    tables = list(tables)
    if not tables:
        raise ArgumentError("Aucune table de santé fournie. Correctif : passez au moins un fichier "
                            "lu par read_health_table ou health_tables_for.")
    return pd.concat([t.frame for t in tables], ignore_index=True)


def _select_years(df: pd.DataFrame, year) -> pd.DataFrame:
    """Rows of the latest year of each indicator, or of ``year``."""
    if year is None:
        return df[df["annee"] == df.groupby("indicateur")["annee"].transform("max")]
    out = df[df["annee"] == int(year)]
    if out.empty:
        years = ", ".join(str(y) for y in sorted(df["annee"].unique()))
        raise ArgumentError(f"Tables de santé : aucun chiffre pour l'année {year}. Correctif : "
                            f"choisissez parmi {years}, ou ne précisez pas d'année (la plus récente "
                            "de chaque indicateur).")
    return out


def _level_columns(df: pd.DataFrame, territory_name: str, epci_names) -> tuple[pd.Series, list]:
    """The column label of each row and the ordered list of labels."""
    names = dict(epci_names or {})
    cpts = territory_name or "CPTS"

    def label(level, code):
        if level == "cpts":
            return cpts
        if level == "france":
            return FRANCE_LABEL
        if level == "epci":
            return names.get(code, code)
        return f"{_LEVEL_LABELS[level]} {code}"

    labels = pd.Series([label(lv, c) for lv, c in zip(df["niveau"], df["code"])], index=df.index)
    order = [cpts]
    for level in LEVELS[1:-1]:
        codes = sorted(df.loc[df["niveau"] == level, "code"].unique())
        order += [label(level, c) for c in codes]
    return labels, order + [FRANCE_LABEL]


def _pivot(tables, territory_name, year, epci_names, value: str) -> pd.DataFrame:
    df = _select_years(_frame_of(tables), year).copy()
    df["_col"], order = _level_columns(df, territory_name, epci_names)
    wide = df.pivot(index="indicateur", columns="_col", values=value).reindex(columns=order)
    firsts = df.groupby("indicateur", sort=False).agg(
        unite=("unite", "first"), annee=("annee", "max"),
        source=("source", lambda s: " ; ".join(dict.fromkeys(s))))
    out = pd.DataFrame({"Indicateur": firsts.index, "Unité": firsts["unite"].to_numpy(),
                        "Année": firsts["annee"].to_numpy()})
    for col in order:
        out[col] = wide[col].reindex(firsts.index).astype(float).to_numpy()
    out["Source"] = firsts["source"].to_numpy()
    out.attrs["territoire"] = territory_name
    return out


def comparison_frame(tables, territory_name: str, *, year: int | None = None,
                     epci_names: dict | None = None) -> pd.DataFrame:
    """One row per indicator, ready for a report table (values NOT yet protected, see module doc).

    ``tables``: a :class:`HealthTable` or a list of them. ``year``: the year to show (default: the
    latest year of each indicator). ``epci_names``: ``{siren: name}`` for the EPCI columns (default:
    the SIREN codes). Columns: ``Indicateur, Unité, Année, <territory_name>`` (the CPTS figures;
    ``"CPTS"`` when the name is empty), one column per EPCI (by code), ``Département <code>`` and
    ``Région <code>`` per code present, ``France``, ``Source`` (the distinct sources, « ; »).
    Values are floats, NaN where the file has no figure (never 0).
    """
    return _pivot(tables, territory_name, year, epci_names, "valeur")


def comparison_counts(tables, territory_name: str, *, year: int | None = None,
                      epci_names: dict | None = None) -> pd.DataFrame:
    """Same rows and columns as :func:`comparison_frame`, the level columns holding ``effectif``
    (NaN where not given), plus ``Dénombrement`` (:data:`COUNT_KINDS`, from the unit by
    :func:`count_kind`): the inputs of :func:`cpts_diag.disclosure.protect_table`."""
    out = _pivot(tables, territory_name, year, epci_names, "effectif")
    out["Dénombrement"] = [count_kind(u) for u in out["Unité"]]
    return out
