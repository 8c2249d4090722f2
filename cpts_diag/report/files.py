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


def workbook_bytes(tables: dict[str, dict]) -> bytes:
    """One xlsx workbook: a « Sommaire » sheet (title, source of each table), then one sheet per
    table. Numbers stay numbers; missing values are empty cells, never 0."""
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="xlsxwriter") as xw:
        wb = xw.book
        bold = wb.add_format({"bold": True})
        wrap = wb.add_format({"text_wrap": True, "valign": "top"})
        summary = pd.DataFrame([{"Feuille": sheet_name(n, i), "Tableau": t["caption"], "Source": t["source"]}
                                for i, (n, t) in enumerate(tables.items())])
        summary.to_excel(xw, sheet_name="Sommaire", index=False)
        ws = xw.sheets["Sommaire"]
        ws.set_column(0, 0, 28)
        ws.set_column(1, 1, 70, wrap)
        ws.set_column(2, 2, 90, wrap)
        for i, (name, t) in enumerate(tables.items()):
            sheet = sheet_name(name, i)
            df = t["df"].astype(object).where(pd.notna(t["df"]), None)
            df.to_excel(xw, sheet_name=sheet, index=False, startrow=1)
            ws = xw.sheets[sheet]
            ws.write(0, 0, t["caption"], bold)
            ws.write(len(df) + 3, 0, f"Source : {t['source']}")
            for j, col in enumerate(df.columns):
                width = min(max(len(str(col)), 10) + 2, 60)
                d = t["decimals"].get(col)
                fmt = wb.add_format({"num_format": "#,##0" if d == 0 else "#,##0." + "0" * d}) \
                    if d is not None else None
                ws.set_column(j, j, width, fmt)
    return buf.getvalue()
