"""One renderer: blocks → notebook display, and blocks → files.

:class:`Renderer` shows each block in the notebook (Markdown, HTML tables, PNG figures) and, when
it has an output folder (batch mode), writes ``figures/<name>.png`` with its sidecar
``figures/<name>.json``, ``tables/<name>.csv``; :meth:`Renderer.finish` writes ``tableaux.xlsx``
(every table) and ``indicators.json`` (the catalogue with coverage). Without an output folder
(JupyterLab, tests) nothing is written. Every file is written atomically.
"""
from __future__ import annotations

from pathlib import Path

from ..atomic import write_atomic
from ..fmt import csv_fr
from . import blocks as B
from .files import json_bytes, workbook_bytes
from .tables import table_html


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
            anchor = f'<a id="{b.anchor}"></a>' if b.anchor else ""
            return Markdown(f"{'#' * b.level} {anchor}{b.text}")
        if isinstance(b, B.Text):
            return Markdown(b.markdown)
        if isinstance(b, B.Note):
            mark = "Attention" if b.kind == "warning" else "À noter"
            body = b.markdown.replace("\n", "\n> ")
            return Markdown(f"> **{mark}.** {body}")
        if isinstance(b, B.Table):
            self._save_table(b)
            return HTML(table_html(b))
        if isinstance(b, B.Figure):
            return Image(data=self._save_figure(b), format="png")
        if isinstance(b, B.Html):
            return HTML(f'<div class="{b.css_class}">{b.html}</div>' if b.css_class else b.html)
        raise TypeError(f"not a report block: {type(b).__name__}")

    def _save_table(self, b: B.Table) -> None:
        decimals = dict(b.decimals)
        self.tables[b.name] = {"df": b.df, "caption": b.caption, "source": b.source, "decimals": decimals}
        if self.out is not None:
            write_atomic(self.out / "tables" / f"{b.name}.csv", csv_fr(b.df))

    def _save_figure(self, b: B.Figure) -> bytes:
        from ..maps import figure_png

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
