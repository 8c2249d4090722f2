"""Export an executed diagnostic notebook to a self-contained HTML report (no code shown).

The page uses JupyterLab's ``lab`` template stripped of every external script
(``templates/rapport.html.j2``): no require.js, MathJax or widget manager from a CDN. Figures are
PNG outputs (base64, inline); interactive maps are ``<iframe srcdoc>`` outputs whose Leaflet is
inlined by :func:`cpts_diag.maps.standalone_html`. The exported page is then checked: an external
script/stylesheet/image or an absolute path of the machine raises :class:`ReportExportError`.
"""
from __future__ import annotations

import copy
import html as _html
import os
import re
from pathlib import Path

from .errors import CptsDiagError

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
HIDDEN_TAGS = {"parameters", "injected-parameters", "remove", "remove_cell", "hide"}

_EXTERNAL = re.compile(
    r"<(?:script|link|img|iframe|source|embed|object)\b[^>]*?\b(?:src|href|data)\s*=\s*[\"']?"
    r"(?:https?:)?//[^\s\"'>]+", re.I)
_CSS_IMPORT = re.compile(r"@import\s+(?:url\()?[\"']?(?:https?:)?//", re.I)
_ABS_PATH = re.compile(r"(?<![\w.:/-])(?:/[w]ork/|/[t]mp/|/[r]oot/|/[h]ome/|/[U]sers/|file://)")


class ReportExportError(CptsDiagError):
    """The exported report would need the network or leaks a path of the machine."""


def prepare_notebook(nb):
    """A copy of ``nb`` ready for partners: parameter cells dropped, stderr and prompts removed."""
    nb = copy.deepcopy(nb)
    cells = []
    for cell in nb.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & HIDDEN_TAGS:
            continue
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.get("outputs", [])
                            if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
            if not cell.outputs:
                continue  # a code cell with nothing to show leaves no empty box
        cells.append(cell)
    nb.cells = cells
    for key in ("papermill",):
        nb.metadata.pop(key, None)
    return nb


def problems(page: str) -> list[str]:
    """What would make ``page`` need the network or leak a machine path (empty list: fine)."""
    found = []
    for text in (page, _html.unescape(page)):  # iframes carry their page escaped in srcdoc
        for mo in _EXTERNAL.finditer(text):
            found.append(f"ressource externe : {mo.group(0)[:160]}")
        for mo in _CSS_IMPORT.finditer(text):
            found.append(f"import CSS externe : {mo.group(0)[:160]}")
        for mo in _ABS_PATH.finditer(text):
            s = max(mo.start() - 60, 0)
            found.append(f"chemin absolu : …{text[s:mo.end() + 60]}…")
    return sorted(set(found))


def export_html(nb, *, title: str | None = None, check: bool = True) -> str:
    """HTML page of the executed notebook ``nb`` (a NotebookNode or a path), inputs hidden."""
    import nbformat
    from nbconvert import HTMLExporter

    if isinstance(nb, (str, os.PathLike)):
        nb = nbformat.read(str(nb), as_version=4)
    nb = prepare_notebook(nb)
    if title:
        nb.metadata["title"] = title
    exporter = HTMLExporter(template_name="lab", extra_template_paths=[str(TEMPLATES_DIR)],
                            template_file="rapport.html.j2")
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    exporter.embed_images = True
    resources = {"metadata": {"name": title or "Diagnostic territorial"}, "language_code": "fr"}
    page, _ = exporter.from_notebook_node(nb, resources=resources)
    page = page.replace('<html lang="en">', '<html lang="fr">')
    if check:
        bad = problems(page)
        if bad:
            raise ReportExportError(
                "Le rapport HTML ne serait pas autonome : " + " ; ".join(bad[:5])
                + (f" (et {len(bad) - 5} autres)" if len(bad) > 5 else "")
                + ". Correctif : n'affichez que des figures PNG et des cartes produites par "
                "cpts_diag.maps/report (Leaflet intégré), et aucun chemin de fichier.")
    return page
