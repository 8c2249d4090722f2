"""Files of a report: the workbook (every table, one sheet each) and the JSON documents.

Pure functions returning bytes; :mod:`cpts_diag.report.render` writes them atomically.
"""
from __future__ import annotations

import datetime as _dt
import io
import json
import math
import re

import numpy as np
import pandas as pd

from ..fmt import FORMULA_PREFIXES


def _json_default(o):
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return None if math.isnan(o) else float(o)
    if isinstance(o, np.bool_):
        return bool(o)
    if isinstance(o, (pd.Timestamp, _dt.date)):
        return o.isoformat()
    if o is pd.NA:
        return None
    return str(o)


def json_bytes(data) -> bytes:
    """Indented UTF-8 JSON; NaN is refused (missing values must already be ``None``)."""
    return json.dumps(data, ensure_ascii=False, indent=1, allow_nan=False,
                      default=_json_default).encode("utf-8")


def sheet_name(name: str, i: int) -> str:
    s = re.sub(r"[\[\]:*?/\\]", "_", name)[:28]
    return s or f"tableau_{i}"


#: xlsxwriter options: a text cell is always written as text (never as a formula, a link or a
#: number), whatever its first character.
WORKBOOK_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}


def _protect_text_cells(ws, df: pd.DataFrame, first_row: int, quoted) -> None:
    """Rewrite the text cells a spreadsheet would read as a formula (``=``, ``+``, ``-``, ``@``,
    tab, CR first) as strings with Excel's « quote prefix », so they stay text even once edited."""
    for j, col in enumerate(df.columns):
        for i, v in enumerate(df[col]):
            if isinstance(v, str) and v.startswith(FORMULA_PREFIXES):
                ws.write_string(first_row + i, j, v, quoted)


def workbook_bytes(tables: dict[str, dict]) -> bytes:
    """One xlsx workbook: a « Sommaire » sheet (title, source of each table), then one sheet per
    table. Numbers stay numbers; missing values are empty cells, never 0; text stays text (a name
    such as ``=1+1`` or ``@SUM(A1)`` is a string cell, never a formula: :data:`WORKBOOK_OPTIONS`)."""
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="xlsxwriter", engine_kwargs={"options": WORKBOOK_OPTIONS}) as xw:
        wb = xw.book
        bold, bold_quoted = wb.add_format({"bold": True}), wb.add_format({"bold": True, "quote_prefix": True})
        wrap = wb.add_format({"text_wrap": True, "valign": "top"})
        quoted = wb.add_format({"quote_prefix": True})
        wrap_quoted = wb.add_format({"text_wrap": True, "valign": "top", "quote_prefix": True})
        summary = pd.DataFrame([{"Feuille": sheet_name(n, i), "Tableau": t["caption"], "Source": t["source"]}
                                for i, (n, t) in enumerate(tables.items())])
        summary.to_excel(xw, sheet_name="Sommaire", index=False)
        ws = xw.sheets["Sommaire"]
        ws.set_column(0, 0, 28)
        ws.set_column(1, 1, 70, wrap)
        ws.set_column(2, 2, 90, wrap)
        _protect_text_cells(ws, summary, 1, wrap_quoted)
        for i, (name, t) in enumerate(tables.items()):
            sheet = sheet_name(name, i)
            df = t["df"].astype(object).where(pd.notna(t["df"]), None)
            df.to_excel(xw, sheet_name=sheet, index=False, startrow=1)
            ws = xw.sheets[sheet]
            caption = str(t["caption"])
            ws.write_string(0, 0, caption, bold_quoted if caption.startswith(FORMULA_PREFIXES) else bold)
            ws.write_string(len(df) + 3, 0, f"Source : {t['source']}")
            _protect_text_cells(ws, df, 2, quoted)
            for j, col in enumerate(df.columns):
                width = min(max(len(str(col)), 10) + 2, 60)
                d = t["decimals"].get(col)
                fmt = wb.add_format({"num_format": "#,##0" if d == 0 else "#,##0." + "0" * d}) \
                    if d is not None else None
                ws.set_column(j, j, width, fmt)
    return buf.getvalue()
