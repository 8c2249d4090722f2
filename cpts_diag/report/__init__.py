"""The report layer: one computed context per territory, one module per section, one renderer.

- :mod:`.context` — :func:`build_context` computes the territory, its indicators with comparators,
  communes and geometries once (:class:`ReportContext`);
- :mod:`.sections` — one module per section, each with ``build(ctx) -> list[Block]``
  (:data:`SECTIONS`, in reading order);
- :mod:`.blocks` — heading, text, note, figure, table, HTML;
- :mod:`.render` — :class:`Renderer` turns blocks into notebook display and files (figures with
  their JSON sidecar, tables, ``tableaux.xlsx``, ``indicators.json``);
- :mod:`.readings` — interpretation rules (qualifiers, « Points saillants », small communes);
- :mod:`.diagnostic` — :class:`Diagnostic`, what the notebook calls;
- :mod:`.write` — :func:`write_report`, the batch's files for a territory defined in Python.
"""
from __future__ import annotations

from .context import ReportContext, build_context
from .diagnostic import Diagnostic
from .indicator_table import IndicatorTable
from .render import Renderer
from .sections import SECTIONS, TITLES
from .write import write_report

__all__ = ["Diagnostic", "ReportContext", "build_context", "Renderer", "SECTIONS", "TITLES",
           "IndicatorTable", "write_report"]
