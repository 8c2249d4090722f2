"""Small-number protection (« secret des petits effectifs ») of the health figures a CPTS brings.

Applied BEFORE anything is rendered or exported (model: OpenSAFELY cohort-extractor / ehrQL
disclosure control). The rules, in the order :func:`protect_table` applies them:

1. **Primary suppression** (:func:`is_small`, :func:`mask_counts`): a count ``c`` is *small* when
   ``0 < c < threshold`` — for whole counts, the usual « 1 à seuil − 1 » rule (1 to 9 patients,
   1 to 4 professionals). A count of 0 is shown (it describes nobody); a missing count (NaN) stays
   missing (the renderer prints « n.d. »), it is never masked nor turned into 0. A small count is
   displayed ``"< 10"`` / ``"< 5"`` (:func:`masked_text`, U+202F after ``<``).
2. **Secondary suppression** (:func:`secondary_suppression`): when the reader knows a total and
   exactly one of its parts is masked, that part equals the total minus the shown parts; so the
   SMALLEST shown part greater than 0 is masked as well (ties: the first one), displayed
   ``"masqué"``; if there is no such part, the total itself is masked. Two or more masked parts:
   nothing more. In a table the rule is repeated until nothing changes (one new mask can leave
   another sum with a single masked part).
3. **Dependent suppression** (:func:`suppress_dependent`): a rate computed from a masked count
   (primary or secondary) is masked too (``"masqué"``), since rate × denominator gives the count.

Masked is not missing: the display frame holds the TEXT ``"< 10"`` / ``"masqué"`` for masked
cells and NaN for missing ones; the numeric companion frame holds NaN for both (so an export
never contains a masked value) and the mask frame says which NaN are masks. Thresholds can be
changed per call (:func:`thresholds` validates a user override).
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from typing import Hashable, Mapping

import numpy as np
import pandas as pd

from .errors import ArgumentError
from .fmt import NNBSP, fmt_number

__all__ = ["PATIENT_THRESHOLD", "PROFESSIONAL_THRESHOLD", "PATIENTS", "PROFESSIONALS", "KINDS",
           "SUPPRESSED_TEXT", "NOTE_SMALL", "NOTE_SECONDARY", "NOTE_RATES", "Protected",
           "thresholds", "masked_text", "small_note", "is_small", "mask_counts",
           "suppress_dependent", "secondary_suppression", "protect_table"]

PATIENT_THRESHOLD = 10
PROFESSIONAL_THRESHOLD = 5
#: kinds of counts, each with its default threshold (defined once)
PATIENTS = "patients"
PROFESSIONALS = "professionnels"
KINDS = {PATIENTS: PATIENT_THRESHOLD, PROFESSIONALS: PROFESSIONAL_THRESHOLD}
#: display text of a cell masked by secondary suppression and of a rate derived from a masked count
SUPPRESSED_TEXT = "masqué"
NOTE_SMALL = ("Secret des petits effectifs : les effectifs de {kind} compris entre 1 et {last} "
              "sont affichés « {text} ».")
NOTE_SECONDARY = ("Secret secondaire : d'autres effectifs sont notés « masqué » pour qu'un petit "
                  "effectif ne puisse pas être retrouvé par différence avec un total.")
NOTE_RATES = "Les taux calculés à partir d'un effectif masqué sont notés « masqué »."


@dataclass(frozen=True)
class Protected:
    """Result of :func:`protect_table`, all frames with the index and columns of the input.

    ``display``: what the renderer shows — unmasked numbers as numbers, NaN for missing values
    (« n.d. »), the text ``"< 10"`` / ``"< 5"`` for small counts and ``"masqué"`` for secondary
    masks and dependent rates (protected columns are of dtype object). ``values``: numeric
    companion for exports and charts — masked cells are NaN. ``mask``: bool, True where a cell is
    masked (False in unprotected columns). ``notes``: French notes to print under the table, one
    per rule that masked something (empty when nothing was masked).
    """

    display: pd.DataFrame
    values: pd.DataFrame
    mask: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def _check_threshold(value, name: str) -> int:
    """``value`` as an int ≥ 1, else an ArgumentError naming the parameter ``name``."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= 1:
        return int(value)
    raise ArgumentError(f"Paramètre « {name} » : seuil {value!r} invalide, un nombre entier au moins "
                        f"égal à 1 est attendu. Correctif : indiquez par exemple {name}=10.")


def thresholds(patients=None, professionals=None) -> dict[str, int]:
    """Thresholds by kind of count: ``{"patients": 10, "professionnels": 5}`` unless overridden.

    ``None`` keeps the default; an override must be a whole number ≥ 1 (1 masks nothing), else an
    :class:`~cpts_diag.errors.ArgumentError` in French names the parameter.
    """
    return {PATIENTS: PATIENT_THRESHOLD if patients is None else _check_threshold(patients, "patients"),
            PROFESSIONALS: (PROFESSIONAL_THRESHOLD if professionals is None
                            else _check_threshold(professionals, "professionals"))}


def masked_text(threshold: int) -> str:
    """Display text of a small count: ``"< 10"`` for threshold 10 (U+202F after ``<``)."""
    return f"<{NNBSP}{fmt_number(_check_threshold(threshold, 'threshold'))}"


def small_note(kind: str, threshold: int) -> str:
    """French note of the primary rule for one kind of count, e.g. « … de patients compris entre
    1 et 9 sont affichés « < 10 ». »"""
    threshold = _check_threshold(threshold, "threshold")
    return NOTE_SMALL.format(kind=kind, last=fmt_number(threshold - 1), text=masked_text(threshold))


def is_small(count, threshold: int) -> bool:
    """True when ``0 < count < threshold`` (« 1 à seuil − 1 » for whole counts).

    0 is not small (it reveals nothing about a person), a missing count (None/NaN) is not small
    (it stays missing); a negative count is an :class:`~cpts_diag.errors.ArgumentError`.
    """
    threshold = _check_threshold(threshold, "threshold")
    if count is None or pd.isna(count):
        return False
    if count < 0:
        raise ArgumentError(f"Effectif négatif ({count!r}) : un effectif compte des personnes. "
                            "Correctif : corrigez la valeur dans la table fournie.")
    return 0 < count < threshold


def _numbers(series: pd.Series, what: str, counts: bool) -> pd.Series:
    """``series`` as floats (NaN kept); text that is not a number, or a negative count, raises an
    ArgumentError naming the column and the first bad row."""
    values = pd.to_numeric(series, errors="coerce").astype(float)
    bad = series.notna() & values.isna()
    problem = "n'est pas un nombre"
    if not bad.any() and counts:
        bad, problem = values < 0, "est négatif (un effectif compte des personnes)"
    if bad.any():
        row = bad[bad].index[0]
        raise ArgumentError(f"Colonne « {what} », ligne d'index {row!r} : {series[row]!r} {problem} "
                            f"({int(bad.sum())} ligne(s)). Correctif : corrigez la table fournie, "
                            "en laissant vide une valeur manquante.")
    return values


def _aligned(mask, index: pd.Index, what: str) -> pd.Series:
    """A bool mask on ``index``; a Series with another index is refused (never silently shown)."""
    if isinstance(mask, pd.Series) and not mask.index.equals(index):
        raise ArgumentError(f"Masque de « {what} » : son index ne correspond pas à celui des valeurs. "
                            "Correctif : passez le masque renvoyé pour cette même série.")
    return pd.Series(np.asarray(mask, dtype=bool), index=index)


def mask_counts(series: pd.Series, threshold: int) -> tuple[pd.Series, pd.Series]:
    """Primary suppression of one column of counts.

    Returns ``(display, mask)``: ``display`` (dtype object) holds :func:`masked_text` where the
    count is small (:func:`is_small`), the number (as a float) elsewhere, NaN where it is missing; ``mask`` is
    True exactly on the small counts. The input is not modified.
    """
    text = masked_text(threshold)
    values = _numbers(series, str(series.name), counts=True)
    mask = (values > 0) & (values < threshold)
    display = values.astype(object).where(~mask, text)
    return display, mask


def suppress_dependent(rates: pd.Series, mask) -> pd.Series:
    """Rates (floats) with NaN where ``mask`` (the mask of the count they derive from) is True;
    missing rates stay NaN, the others are unchanged."""
    values = _numbers(rates, str(rates.name), counts=False)
    return values.where(~_aligned(mask, rates.index, str(rates.name)))


def secondary_suppression(parts: pd.Series, mask, total=None) -> tuple[pd.Series, bool]:
    """Secondary suppression of the parts of ONE sum whose value the reader knows.

    ``parts``: the counts that add up to the sum (rows of a group, or all rows but the total row);
    ``mask``: their current mask; ``total``: the value of the sum when it is shown in the same
    table (it can then be masked as a last resort), ``None`` when it is known elsewhere.
    Rule: if exactly one part is masked, the smallest unmasked part greater than 0 (first one on
    ties) is masked too — so the masked parts add up to at least 1 + threshold and neither can be
    recomputed; if no such part exists, the total is masked (when given and not missing). Zero or
    two-plus masked parts: unchanged. A missing part is not counted as hidden (a total computed
    with NaN skipped would still reveal the masked part).
    Returns ``(mask, mask_total)``: the new mask of the parts (a copy) and whether the total must
    now be masked.
    """
    values = _numbers(parts, str(parts.name), counts=True)
    mask = _aligned(mask, parts.index, str(parts.name)).copy()
    if int(mask.sum()) != 1:
        return mask, False
    candidates = values[~mask & (values > 0)]
    if len(candidates):
        mask[candidates.idxmin()] = True
        return mask, False
    return mask, total is not None and not pd.isna(total)


def _check_table(df, count_columns, rate_columns, group, total_row) -> None:
    """French ArgumentError for an unknown column, kind, source count, group or total row."""
    fix = "Correctif : vérifiez les noms passés à protect_table."
    for col in [*count_columns, *rate_columns] + ([group] if group is not None else []):
        if col not in df.columns:
            raise ArgumentError(f"Colonne « {col} » absente de la table (colonnes : "
                                f"{', '.join(map(str, df.columns))}). {fix}")
    for col, kind in count_columns.items():
        if kind not in KINDS:
            raise ArgumentError(f"Colonne « {col} » : type d'effectif « {kind} » inconnu (attendu : "
                                f"{', '.join(KINDS)}). {fix}")
    for rate, source in rate_columns.items():
        if source not in count_columns:
            raise ArgumentError(f"Taux « {rate} » : l'effectif source « {source} » n'est pas une "
                                f"colonne d'effectifs protégée. {fix}")
    if not df.index.is_unique:
        raise ArgumentError("Table à protéger : index en double. Correctif : passez une table dont "
                            "l'index identifie chaque ligne (df.reset_index(drop=True)).")
    if total_row is not None and total_row not in df.index:
        raise ArgumentError(f"Ligne de total {total_row!r} absente de l'index de la table. {fix}")


def _sums(df: pd.DataFrame, group, total_row) -> list[tuple[list, Hashable | None]]:
    """The sums the reader knows: (labels of the parts, label of the total row or None)."""
    rows = df.index if total_row is None else df.index.drop(total_row)
    sums = []
    if group is not None:
        keys = df.loc[rows, group]
        sums += [(list(keys.index[keys == k]), None) for k in keys.dropna().unique()]
    if total_row is not None:
        sums.append((list(rows), total_row))
    return sums


def _secondary_column(values: pd.Series, mask: pd.Series, sums) -> pd.Series:
    """Secondary suppression of one count column over all its sums, repeated until stable."""
    mask = mask.copy()
    changed = True
    while changed:
        changed = False
        for parts, total in sums:
            new, mask_total = secondary_suppression(values[parts], mask[parts],
                                                    None if total is None else values[total])
            if mask_total and not mask[total]:
                mask[total], changed = True, True
            if (new != mask[parts]).any():
                mask[parts], changed = new, True
    return mask


def protect_table(df: pd.DataFrame, count_columns: Mapping[str, str],
                  rate_columns: Mapping[str, str] | None = None, group: str | None = None,
                  total_row: Hashable | None = None,
                  limits: Mapping[str, int] | None = None) -> Protected:
    """Apply all the rules (primary, secondary, dependent rates) to a table, input untouched.

    ``count_columns``: ``{column: kind}`` with kind ``"patients"`` or ``"professionnels"``;
    ``rate_columns``: ``{rate column: count column it is computed from}``; ``group``: a column
    whose rows with one value are the parts of a sum the reader knows; ``total_row``: index label
    of the row holding the total of all the other rows; ``limits``: thresholds by kind, as
    returned by :func:`thresholds` (defaults: 10 patients, 5 professionals). Without ``group``
    nor ``total_row`` the rows are independent (no secondary suppression); rows whose ``group`` is
    missing belong to no group. A missing rate stays missing even when its count is masked.
    Other columns are copied unchanged. See :class:`Protected` for the result.
    """
    rate_columns = dict(rate_columns or {})
    unknown = set(limits or {}) - set(KINDS)
    if unknown:
        raise ArgumentError(f"Paramètre « limits » : type d'effectif {sorted(unknown)} inconnu "
                            f"(attendu : {', '.join(KINDS)}). Correctif : utilisez thresholds().")
    limits = {**KINDS, **{k: _check_threshold(v, f"limits[{k!r}]") for k, v in (limits or {}).items()}}
    _check_table(df, count_columns, rate_columns, group, total_row)
    display, values = df.copy(), df.copy()
    mask = pd.DataFrame(False, index=df.index, columns=df.columns)
    sums, notes, secondary = _sums(df, group, total_row), [], False
    for col, kind in count_columns.items():
        shown, primary = mask_counts(df[col], limits[kind])
        numbers_ = _numbers(df[col], str(col), counts=True)
        full = _secondary_column(numbers_, primary, sums)
        extra = full & ~primary
        display[col] = shown.where(~extra, SUPPRESSED_TEXT)
        values[col], mask[col] = numbers_.where(~full), full
        secondary |= bool(extra.any())
        note = small_note(kind, limits[kind])
        if primary.any() and note not in notes:
            notes.append(note)
    for rate, source in rate_columns.items():
        hidden = mask[source] & _numbers(df[rate], str(rate), counts=False).notna()
        values[rate] = suppress_dependent(df[rate], hidden)
        display[rate], mask[rate] = values[rate].astype(object).where(~hidden, SUPPRESSED_TEXT), hidden
    if secondary:
        notes.append(NOTE_SECONDARY)
    if any(mask[r].any() for r in rate_columns):
        notes.append(NOTE_RATES)
    return Protected(display, values, mask, notes)
