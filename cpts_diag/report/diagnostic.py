"""The notebook's entry point: :class:`Diagnostic`, a thin shell over one computed context, the
sections and one renderer.

::

    from cpts_diag.report import Diagnostic
    diag = Diagnostic("ondaine-forez")                            # or a Territory built in Python
    diag = Diagnostic(Territory.from_codes(["42187", "42184"], name="Roanne et Riorges"))
    diag.show("demographie")                                      # one call per section
    diag.finish()                                                 # tableaux.xlsx, indicators.json

With ``output_dir`` every figure, table, workbook and JSON is also written there (the batch passes
the report's build folder); without it (JupyterLab) nothing is written.
"""
from __future__ import annotations

from .context import build_context
from .indicator_table import IndicatorTable
from .render import Renderer
from .sections import SECTIONS


class Diagnostic:
    """One territory's report: ``show(section_id)`` renders a section, ``finish()`` writes the
    workbook and the catalogue. ``territory``: a CPTS id, a perimeter YAML path or a
    :class:`~cpts_diag.territory.Territory`."""

    def __init__(self, territory, output_dir=None, apl_year: int = 2023, tiles: str | None = None,
                 scenario=None, display_outputs: bool = True, health_tables=None):
        self.ctx = build_context(territory, apl_year=apl_year, tiles=tiles)
        self.ctx.scenario = scenario
        # the user's health tables: those named in the perimeter YAML, then those passed here
        extra = [health_tables] if isinstance(health_tables, str) else list(health_tables or [])
        self.ctx.health_tables = list(dict.fromkeys([*self.ctx.territory.health_tables,
                                                     *map(str, extra)]))
        self.renderer = Renderer(output_dir, display=display_outputs)

    @property
    def territory(self):
        return self.ctx.territory

    @property
    def indicators(self) -> IndicatorTable:
        """The indicator table (French display in a notebook; ``.frame`` is the tidy frame)."""
        return IndicatorTable(self.ctx.tidy, self.ctx.territory)

    def blocks(self, section_id: str) -> list:
        """The blocks of one section (no display, no file): for tests and custom layouts."""
        if section_id not in SECTIONS:
            from ..errors import CptsDiagError

            raise CptsDiagError(f"Section inconnue : « {section_id} ». Sections : {', '.join(SECTIONS)}.")
        return SECTIONS[section_id](self.ctx)

    def show(self, section_id: str):
        """Render one section (display in the notebook, files in batch mode)."""
        return self.renderer.render(self.blocks(section_id)) or None

    def show_all(self):
        for sid in SECTIONS:
            self.show(sid)
        self.finish()

    def finish(self) -> None:
        """Batch mode: ``tableaux.xlsx`` (every table shown) and ``indicators.json``."""
        if self.renderer.out is None:
            return
        from ..catalogue import catalogue_from_tidy

        self.renderer.finish(catalogue_from_tidy(self.ctx.tidy, self.ctx.territory))

    def _repr_html_(self) -> str:
        return self.territory._repr_html_()
