"""French HTML tables of the report: numbers formatted, missing values in words, caption and
source under each table. Every cell is escaped (names and labels can come from users)."""
from __future__ import annotations

import html

import numpy as np
import pandas as pd

from ..fmt import ND, NNBSP, fmt_number, is_missing

_LABEL_COLUMNS = ("Indicateur", "Unité", "Millésime")


def _cell(v, decimals: int | None, na: str, unit: str | None = None) -> tuple[str, bool]:
    if isinstance(v, str):
        return html.escape(v), False
    if is_missing(v):
        return html.escape(na), True
    if isinstance(v, (int, float, np.integer, np.floating)):
        d = 0 if decimals is None and float(v).is_integer() else (1 if decimals is None else decimals)
        return html.escape(fmt_number(v, d) + (NNBSP + unit if unit else "")), True
    return html.escape(str(v)), False


def _td(text: str, num: bool) -> str:
    if num:
        return f'<td class="num" style="text-align:right">{text}</td>'
    return f'<td style="text-align:left">{text}</td>'


def wrap_table(caption: str, head: str, body: list[str], source: str, note: str | None = None,
               extra_notes=()) -> str:
    """Caption, scrollable table and « Source : … » line (with the note and any extra notes)."""
    note_html = f" {html.escape(note)}" if note else ""
    extra = "".join(f"<br>{html.escape(n)}" for n in extra_notes)
    return (f'<div class="cpts-caption">{html.escape(caption)}</div>'
            f'<div class="cpts-table-wrap"><table class="cpts-table"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>'
            f'<div class="cpts-source">Source : {html.escape(source)}.{note_html}{extra}</div>')


def html_table(df: pd.DataFrame, caption: str, source: str, decimals: dict | None = None,
               na: dict | None = None, units: dict | None = None, note: str | None = None,
               extra_notes=()) -> str:
    """A plain table: formatting per column (``decimals``, ``na`` text, ``units``)."""
    decimals, na, units = decimals or {}, na or {}, units or {}
    head = "".join(f'<th style="text-align:left">{html.escape(str(c))}</th>' for c in df.columns)
    body = []
    for row in df.itertuples(index=False):
        tds = [_td(*_cell(v, decimals.get(c), na.get(c, ND), units.get(c))) for c, v in zip(df.columns, row)]
        body.append("<tr>" + "".join(tds) + "</tr>")
    return wrap_table(caption, head, body, source, note, extra_notes)


def html_compare_table(df: pd.DataFrame, caption: str, source: str, row_decimals: list[int],
                       note: str | None = None, extra_notes=()) -> str:
    """Indicators (rows, each with its own decimals) × territories (columns)."""
    value_cols = [c for c in df.columns if c not in _LABEL_COLUMNS]
    cols = ["Indicateur", *value_cols, "Unité", "Millésime"]
    head = "".join(f'<th style="text-align:left">{html.escape(str(c))}</th>' for c in cols)
    body = []
    for (_, r), d in zip(df.iterrows(), row_decimals):
        cells = [_td(html.escape(str(r["Indicateur"])), False)]
        for c in value_cols:
            v = r[c]
            text = r[c] if isinstance(v, str) else (ND if is_missing(v) else fmt_number(v, d))
            cells.append(_td(html.escape(str(text)), not (isinstance(v, str) and v)))  # text: left
        cells += [_td(html.escape(str(r["Unité"])), False), _td(html.escape(str(r["Millésime"])), False)]
        body.append("<tr>" + "".join(cells) + "</tr>")
    return wrap_table(caption, head, body, source, note, extra_notes)


def table_html(block) -> str:
    """HTML of a :class:`~cpts_diag.report.blocks.Table` block."""
    if block.compare:
        return html_compare_table(block.df, block.caption, block.source, block.row_decimals,
                                  block.note, block.notes)
    return html_table(block.df, block.caption, block.source, block.decimals, block.na, block.units,
                      block.note, block.notes)
