"""One renderer: blocks → notebook display, and blocks → files.

:class:`Renderer` shows each block in the notebook (Markdown, HTML tables, PNG figures) and, when
it has an output folder (batch mode), writes ``figures/<name>.png`` with its sidecar
``figures/<name>.json``, ``tables/<name>.csv``; :meth:`Renderer.finish` writes ``tableaux.xlsx``
(every table) and ``indicators.json`` (the catalogue with coverage). Without an output folder
(JupyterLab, tests) nothing is written. Every file is written atomically.

Output safety: a heading's text is plain text (escaped here); a Text or Note block is the
package's Markdown, whose user strings the sections escape with :func:`~.text.esc` — any raw ``<``
left in it is still written ``&lt;`` (:func:`~.text.no_raw_html`), so no block carries live HTML
but :class:`~.blocks.Html` (built by the package). Tables are escaped cell by cell
(:mod:`.tables`); CSV and workbook cells that a spreadsheet would read as a formula are written as
text (:func:`cpts_diag.fmt.csv_fr`, :func:`.files.workbook_bytes`). Table and figure names become
file names: they must be plain names (letters, digits, ``_``, ``-``, ``.``).
"""
from __future__ import annotations

import html
import re
from pathlib import Path

from ..atomic import write_atomic
from ..fmt import csv_fr
from . import blocks as B
from .files import json_bytes, workbook_bytes
from .tables import table_html
from .text import esc, no_raw_html

_FILE_STEM = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}")


def file_stem(name: str) -> str:
    """``name`` if it is a plain file name (no folder, no hidden file), else ValueError."""
    if not isinstance(name, str) or not _FILE_STEM.fullmatch(name) or ".." in name:
        raise ValueError(f"invalid table/figure name {name!r}: letters, digits, '_', '-', '.' only")
    return name


class Renderer:
    """Displays blocks (``display=True``) or returns the display objects (``display=False``),
    and writes the report files into ``out_dir`` when one is given."""

    def __init__(self, out_dir=None, display: bool = True):
        self.out = Path(out_dir) if out_dir not in (None, "") else None
        self.display = display
        self.tables: dict[str, dict] = {}
        self.figures: dict[str, dict] = {}
        if self.out is not None:
            (self.out / "figures").mkdir(parents=True, exist_ok=True)
            (self.out / "tables").mkdir(parents=True, exist_ok=True)

    def render(self, blocks) -> list:
        """Render a list of blocks; returns the display objects when ``display`` is off."""
        shown = []
        for b in blocks:
            obj = self._render_one(b)
            if obj is None:
                continue
            if self.display:
                from IPython.display import display

                display(obj)
            else:
                shown.append(obj)
        return shown

    def _render_one(self, b):
        from IPython.display import HTML, Image, Markdown

        if isinstance(b, B.Heading):
            anchor = f'<a id="{html.escape(b.anchor, quote=True)}"></a>' if b.anchor else ""
            return Markdown(f"{'#' * int(b.level)} {anchor}{esc(b.text)}")
        if isinstance(b, B.Text):
            return Markdown(no_raw_html(b.markdown))
        if isinstance(b, B.Note):
            mark = "Attention" if b.kind == "warning" else "À noter"
            body = no_raw_html(b.markdown).replace("\n", "\n> ")
            return Markdown(f"> **{mark}.** {body}")
        if isinstance(b, B.Table):
            self._save_table(b)
            if not b.in_page:
                return Markdown(f"*{esc(b.caption)} : {len(b.df)} lignes, trop longues pour cette page ; "
                                f"le tableau complet est dans tableaux.xlsx (feuille {b.name}) et "
                                f"tables/{b.name}.csv.*")
            if not b.printed:
                return HTML(f'<div class="cpts-noprint">{table_html(b)}</div>'
                            f'<p class="cpts-printonly"><em>{html.escape(b.caption)} : '
                            f'{len(b.df)} lignes, non imprimées ; le tableau complet est dans la version '
                            f'HTML du rapport, tableaux.xlsx (feuille {html.escape(b.name)}) et '
                            f'tables/{html.escape(b.name)}.csv.</em></p>')
            return HTML(table_html(b))
        if isinstance(b, B.Figure):
            return Image(data=self._save_figure(b), format="png")
        if isinstance(b, B.Html):
            cls = html.escape(b.css_class, quote=True)
            return HTML(f'<div class="{cls}">{b.html}</div>' if b.css_class else b.html)
        raise TypeError(f"not a report block: {type(b).__name__}")

    def _save_table(self, b: B.Table) -> None:
        decimals = dict(b.decimals)
        self.tables[b.name] = {"df": b.df, "caption": b.caption, "source": b.source, "decimals": decimals}
        if self.out is not None:
            write_atomic(self.out / "tables" / f"{file_stem(b.name)}.csv", csv_fr(b.df))

    def _save_figure(self, b: B.Figure) -> bytes:
        from ..maps import figure_png

        file_stem(b.name)
        png = figure_png(b.figure)
        record = {"name": b.name, "file": f"{b.name}.png", **b.record}
        self.figures[b.name] = record
        if self.out is not None:
            write_atomic(self.out / "figures" / f"{b.name}.png", png)
            write_atomic(self.out / "figures" / f"{b.name}.json", json_bytes(record))
        return png

    def finish(self, catalogue: dict | None = None) -> None:
        """Batch mode: ``tableaux.xlsx`` (every table shown) and ``indicators.json``."""
        if self.out is None:
            return
        if self.tables:
            write_atomic(self.out / "tableaux.xlsx", workbook_bytes(self.tables))
        if catalogue is not None:
            write_atomic(self.out / "indicators.json", json_bytes(catalogue))
