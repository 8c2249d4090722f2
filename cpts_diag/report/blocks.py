"""The blocks a report section returns: heading, text, note, figure, table, raw HTML.

A section is a pure function ``build(ctx) -> list[Block]``; the renderer
(:mod:`cpts_diag.report.render`) turns blocks into notebook display and into files. Blocks hold
raw values (numbers stay numbers in a :class:`Table`), never formatted files.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


@dataclass
class Heading:
    """A section title (``level`` 2) or sub-title (3); ``anchor`` is the id the TOC links to."""

    text: str
    level: int = 2
    anchor: str | None = None


@dataclass
class Text:
    """French Markdown. User-supplied strings inside it must already be escaped (``text.esc``)."""

    markdown: str


@dataclass
class Note:
    """A boxed remark (method, caveat, what the data do not say). Markdown, like :class:`Text`."""

    markdown: str
    kind: str = "info"  # "info" or "warning"


@dataclass
class Figure:
    """A matplotlib figure saved as ``figures/<name>.png`` with its sidecar ``figures/<name>.json``
    (``record``: title, indicator id, source, vintage, classes and counts for maps)."""

    name: str
    figure: object
    record: dict = field(default_factory=dict)


@dataclass
class Table:
    """A table saved as ``tables/<name>.csv`` and a sheet of ``tableaux.xlsx``.

    ``compare``: rows are indicators (``ids``) with their own decimals (``row_decimals``) and
    columns are territories; otherwise ``decimals`` / ``na`` / ``units`` are per column.
    """

    name: str
    df: pd.DataFrame
    caption: str
    source: str
    decimals: dict = field(default_factory=dict)
    na: dict = field(default_factory=dict)
    units: dict = field(default_factory=dict)
    note: str | None = None
    notes: list[str] = field(default_factory=list)
    compare: bool = False
    row_decimals: list[int] = field(default_factory=list)
    in_page: bool = True  # False: too long for the page, written to the files only (a line says where)
    printed: bool = True  # False: shown on screen, left out of the PDF (a printed line says where)


@dataclass
class Html:
    """Trusted HTML built by the package (e.g. the interactive map's iframe), wrapped in a
    ``<div class="...">`` (``cpts-interactive`` is not printed in the PDF)."""

    html: str
    css_class: str = ""


Block = Heading | Text | Note | Figure | Table | Html
