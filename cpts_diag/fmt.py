"""French number formatting for reports, tables and the terminal.

Conventions (used everywhere in cpts-diag, one rule each):

- thousands separator: NARROW NO-BREAK SPACE U+202F (``NNBSP``), the French typographic « espace
  fine insécable » also used by Unicode CLDR for ``fr``: ``fmt_number(84466)`` → ``"84 466"``;
- decimal separator: comma: ``fmt_number(1234.5, 1)`` → ``"1 234,5"``;
- the same U+202F separates a number from ``%`` and from a unit: ``fmt_percent(12.34)`` →
  ``"12,3 %"``; ``fmt_number(3.2, 1, unit="hab./km²")`` → ``"3,2 hab./km²"``;
- rounding is half away from zero on the shortest decimal representation (``2.675`` → ``"2,68"``),
  not Python's banker's rounding on the binary value; ``-0`` is printed ``0``;
- a missing value (``None``, ``NaN``, ``pd.NA``) is printed ``"n.d."`` (non disponible); pass
  ``na=SECRET`` (``"secret statistique"``) where the gap is INSEE's statistical secrecy.

``fmt_percent`` takes a value already in percent (12.3 for 12.3 %), as every indicator of
cpts-diag is stored.
"""
from __future__ import annotations

import math
import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

NNBSP = "\u202f"  # narrow no-break space: thousands separator and before % / units
ND = "n.d."
SECRET = "secret statistique"

__all__ = ["NNBSP", "ND", "SECRET", "is_missing", "fmt_number", "fmt_percent", "fmt_value", "csv_fr",
           "fmt_signed"]


def fold(text, sep: str = " ") -> str:
    """Lower-case ASCII form of a French label (accents dropped, non-alphanumerics → ``sep``),
    for matching headers and names and for file names."""
    s = unicodedata.normalize("NFKD", "" if text is None else str(text))
    s = s.encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", sep, s).strip(sep)


def is_missing(x) -> bool:
    """True for ``None``, ``NaN``, ``pd.NA``/``NaT`` and anything that is not a number."""
    if x is None:
        return True
    try:
        return bool(math.isnan(float(x)))
    except (TypeError, ValueError):
        return True


def _round_str(x: float, decimals: int) -> str:
    """Round half away from zero and return ``-?digits[.digits]`` (no grouping)."""
    try:
        d = Decimal(repr(float(x)))
    except InvalidOperation:  # pragma: no cover - inf handled by caller
        return str(x)
    q = Decimal(1).scaleb(-decimals) if decimals > 0 else Decimal(1)
    r = d.quantize(q, rounding=ROUND_HALF_UP)
    if r == 0:
        r = abs(r)  # no "-0"
    return f"{r:f}"


def fmt_number(x, decimals: int = 0, *, na: str = ND, unit: str | None = None,
               signed: bool = False) -> str:
    """French formatting of a number: ``84466`` → ``"84 466"``, ``1234.5, 1`` → ``"1 234,5"``.

    ``decimals``: digits after the comma (fixed, trailing zeros kept). ``na``: text for a missing
    value (``"n.d."`` by default, ``SECRET`` for INSEE's secret). ``unit``: appended after a
    U+202F. ``signed``: prefix ``+`` to positive values (evolutions).
    """
    if is_missing(x):
        return na
    xf = float(x)
    if math.isinf(xf):
        return "∞" if xf > 0 else "-∞"
    s = _round_str(xf, max(int(decimals), 0))
    neg = s.startswith("-")
    s = s.lstrip("-")
    int_part, _, frac = s.partition(".")
    groups = []
    while len(int_part) > 3:
        groups.insert(0, int_part[-3:])
        int_part = int_part[:-3]
    groups.insert(0, int_part)
    out = NNBSP.join(groups) + ("," + frac if frac else "")
    if neg:
        out = "-" + out
    elif signed and float(s) != 0:
        out = "+" + out
    if unit:
        out = f"{out}{NNBSP}{unit}"
    return out


def fmt_percent(x, decimals: int = 1, *, na: str = ND, signed: bool = False) -> str:
    """``12.34`` (already in percent) → ``"12,3 %"`` (U+202F before ``%``)."""
    if is_missing(x):
        return na
    return fmt_number(x, decimals, signed=signed) + NNBSP + "%"


def fmt_signed(x, decimals: int = 1, *, na: str = ND, unit: str | None = None) -> str:
    """Evolutions: ``0.42`` → ``"+0,4"``, ``-1.0`` → ``"-1,0"``."""
    return fmt_number(x, decimals, na=na, unit=unit, signed=True)


def fmt_value(x, unit: str = "", decimals: int = 1, *, na: str = ND) -> str:
    """Format an indicator value with its unit as stored in the indicator registry.

    ``%`` and ``% par an`` use :func:`fmt_percent` style; other units are appended after U+202F
    (``hab.`` and counts print no unit when ``unit`` is empty).
    """
    if is_missing(x):
        return na
    if unit == "%":
        return fmt_percent(x, decimals)
    if unit.startswith("%"):
        return fmt_number(x, decimals, signed=unit.endswith("par an")) + NNBSP + unit
    return fmt_number(x, decimals, unit=unit or None)


#: First characters that make a spreadsheet read a text cell as a formula (or a DDE call).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(value):
    """A text cell a spreadsheet shows as text: a string starting with one of
    :data:`FORMULA_PREFIXES` gets a leading ``'``; anything else (numbers included) is returned
    unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def csv_fr(df) -> bytes:
    """A table as a CSV that French Excel opens directly: ``;`` separator, decimal comma, UTF-8
    with BOM. A text cell or header that a spreadsheet would read as a formula (``=1+1``,
    ``@SUM(A1)``, ``-2+3``…) is written with a leading ``'`` (:func:`spreadsheet_text`); numbers,
    negative ones included, stay numbers."""
    import pandas as pd

    safe = df.copy()
    for col in safe.columns:
        kind = safe[col].dtype
        if kind == object or isinstance(kind, (pd.StringDtype, pd.CategoricalDtype)):
            safe[col] = safe[col].astype(object).map(spreadsheet_text)
    safe.columns = [spreadsheet_text(c) for c in safe.columns]
    return ("\ufeff" + safe.to_csv(index=False, sep=";", decimal=",")).encode("utf-8")
