"""Export an executed diagnostic notebook to a self-contained HTML report (no code shown).

The page uses JupyterLab's ``lab`` template stripped of every external script
(``templates/rapport.html.j2``): no require.js, MathJax or widget manager from a CDN. Figures are
PNG outputs (base64, inline); interactive maps are ``<iframe srcdoc>`` outputs whose Leaflet is
inlined by :func:`cpts_diag.maps.standalone_html`. The exported page is then checked: an external
script/stylesheet/image, an absolute path of the machine or a missing Content-Security-Policy
raises :class:`ReportExportError`.

Content-Security-Policy (``<meta http-equiv>`` in the head, :func:`with_csp`): no network at all
(``default-src 'none'``); inline styles (nbconvert's page, the map); ``data:`` images (figures,
Leaflet's CSS images); scripts: only those of the interactive maps, each allowed by its SHA-256
hash — a map is an ``<iframe class="cpts-map" srcdoc>``, whose document inherits the page's
policy. The page itself runs no script: an injected ``<script>``, inline event handler
(``onerror=``) or ``javascript:`` link matches no hash and does not run. A basemap asked for explicitly
(``tiles=``) adds its tile server to ``img-src``, and only there.
"""
from __future__ import annotations

import base64
import copy
import hashlib
import html as _html
import os
import re
from urllib.parse import urlsplit
from pathlib import Path

from .errors import CptsDiagError

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
HIDDEN_TAGS = {"parameters", "injected-parameters", "remove", "remove_cell", "hide"}

_EXTERNAL = re.compile(
    r"<(?:script|link|img|iframe|source|embed|object)\b[^>]*?\b(?:src|href|data)\s*=\s*[\"']?"
    r"(?:https?:)?//[^\s\"'>]+", re.I)
_CSS_IMPORT = re.compile(r"@import\s+(?:url\()?[\"']?(?:https?:)?//", re.I)
_ABS_PATH = re.compile(r"(?<![\w.:/-])(?:/[w]ork/|/[t]mp/|/[r]oot/|/[h]ome/|/[U]sers/|file://)")

#: The report's policy before its script hashes are known (what the template writes: no script).
BASE_CSP = {"default-src": "'none'", "script-src": "'none'", "style-src": "'unsafe-inline'",
            "img-src": "data:", "base-uri": "'none'", "form-action": "'none'"}
_META = re.compile(r"<meta\b[^>]*>", re.I)
_CSP_META = re.compile(r"<meta\b[^>]*\bhttp-equiv\s*=\s*[\"']?content-security-policy\b[^>]*>", re.I)
_CONTENT = re.compile(r"\bcontent\s*=\s*(?:\"([^\"]*)\"|'([^']*)')", re.I)
_SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.I | re.S)
_IFRAME = re.compile(r"<iframe\b[^>]*>", re.I)
_SRCDOC = re.compile(r"\bsrcdoc\s*=\s*(?:\"([^\"]*)\"|'([^']*)')", re.I)
_TILES = re.compile(r"L\.tileLayer\(\s*\"(https?://[^\"]+)\"")


def csp_text(directives: dict) -> str:
    return "; ".join(f"{k} {v}" for k, v in directives.items())


def _map_documents(page: str) -> list[str]:
    """The documents of the interactive maps' ``<iframe class="cpts-map" srcdoc=…>`` (decoded)."""
    docs = []
    for tag in _IFRAME.finditer(page):
        cls = re.search(r"\bclass\s*=\s*[\"']?([^\"'>]*)", tag.group(0), re.I)
        src = _SRCDOC.search(tag.group(0))
        if cls and "cpts-map" in cls.group(1).split() and src:
            docs.append(_html.unescape(src.group(1) if src.group(1) is not None else src.group(2)))
    return docs


def inline_script_hashes(page: str) -> list[str]:
    """``'sha256-…'`` sources of the inline scripts of the interactive maps (the srcdoc documents
    of ``<iframe class="cpts-map">``), as the browser hashes them (line breaks normalised to LF).
    A script of the page itself is never allowed: the report has none of its own."""
    out = []
    for doc in _map_documents(page):
        for mo in _SCRIPT.finditer(doc):
            if re.search(r"\bsrc\s*=", mo.group(1), re.I):
                continue  # an external script: refused by problems(), never allowed by a hash
            text = mo.group(2).replace("\r\n", "\n").replace("\r", "\n")
            digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()
            out.append(f"'sha256-{digest}'")
    return list(dict.fromkeys(out))


def _tile_hosts(page: str) -> list[str]:
    """Origins of the tile servers of the interactive maps (only with an explicit ``tiles=``)."""
    hosts = []
    for doc in _map_documents(page):
        for mo in _TILES.finditer(doc):
            u = urlsplit(mo.group(1))
            host = re.sub(r"\{[^}]*\}", "*", u.netloc)
            if re.fullmatch(r"(\*\.)?[A-Za-z0-9.-]+(:\d+)?", host):
                hosts.append(f"{u.scheme}://{host}")
    return list(dict.fromkeys(hosts))


def page_csp(page: str) -> str:
    """The Content-Security-Policy of ``page``: :data:`BASE_CSP`, with the hashes of its maps'
    scripts and the tile servers of its maps (if any)."""
    d = dict(BASE_CSP)
    hashes = inline_script_hashes(page)
    if hashes:
        d["script-src"] = " ".join(hashes)
    d["img-src"] = " ".join(["data:", *_tile_hosts(page)])
    return csp_text(d)


def with_csp(page: str) -> str:
    """``page`` with its Content-Security-Policy meta (:func:`page_csp`) first in ``<head>``,
    replacing any meta the template wrote."""
    meta = ('<meta http-equiv="Content-Security-Policy" content="'
            + page_csp(page).replace("&", "&amp;").replace('"', "&quot;") + '">')
    page = _CSP_META.sub("", page)
    mo = re.search(r"<head\b[^>]*>", page, re.I)
    if mo is None:
        raise ReportExportError("Page HTML sans <head> : impossible d'y placer la politique de sécurité.")
    charset = re.match(r"\s*<meta\b[^>]*\bcharset\b[^>]*>", page[mo.end():], re.I)
    at = mo.end() + (charset.end() if charset else 0)
    return page[:at] + meta + page[at:]


def _is_report(page: str) -> bool:
    return any(re.search(r"name\s*=\s*[\"']?generator", m.group(0), re.I)
               and re.search(r"content\s*=\s*[\"']?cpts-diag", m.group(0), re.I)
               for m in _META.finditer(page))


def csp_problems(page: str) -> list[str]:
    """What is wrong with the page's Content-Security-Policy (empty list: fine)."""
    head_end = page.lower().find("</head>")
    mo = _CSP_META.search(page)
    if mo is None or (head_end >= 0 and mo.start() > head_end):
        return ["pas de Content-Security-Policy (<meta http-equiv> dans <head>)"]
    c = _CONTENT.search(mo.group(0))
    policy = _html.unescape(next((g for g in c.groups() if g is not None), "")) if c else ""
    if "default-src 'none'" not in policy:
        return [f"Content-Security-Policy trop large (default-src 'none' attendu) : {policy[:160]}"]
    return []


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


def problems(page: str, *, report: bool | None = None) -> list[str]:
    """What would make ``page`` need the network or leak a machine path, or leave it without its
    Content-Security-Policy (empty list: fine). ``report``: require the policy (default: for a
    cpts-diag page, i.e. one with ``<meta name="generator" content="cpts-diag">``)."""
    found = csp_problems(page) if (report if report is not None else _is_report(page)) else []
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
    resources = {"metadata": {"name": title or "Diagnostic territorial"}, "language_code": "fr",
                 "cpts_csp": csp_text(BASE_CSP)}
    page, _ = exporter.from_notebook_node(nb, resources=resources)
    page = with_csp(page.replace('<html lang="en">', '<html lang="fr">'))
    if check:
        bad = problems(page, report=True)
        if bad:
            raise ReportExportError(
                "Le rapport HTML ne serait pas autonome : " + " ; ".join(bad[:5])
                + (f" (et {len(bad) - 5} autres)" if len(bad) > 5 else "")
                + ". Correctif : n'affichez que des figures PNG et des cartes produites par "
                "cpts_diag.maps/report (Leaflet intégré), et aucun chemin de fichier.")
    return page
