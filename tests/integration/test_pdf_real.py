"""The printable PDF of a real report (ondaine-forez): `cpts-diag report ondaine-forez --pdf`.

Checks the PDF the batch writes beside rapport.html: A4 pages numbered « page N / M », no table
column cut off by the page, and nothing of the interactive map (Leaflet layer control, attribution,
the block wrapped in ``cpts-interactive``) printed. Skipped only when Chromium or poppler-utils is
absent (`.ci/run` installs them).
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CPTS = "ondaine-forez"
HIDDEN_CLASSES = {"cpts-interactive", "cpts-noprint"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


def _has_chromium() -> bool:
    from cpts_diag.pdf import PdfExportError, find_chromium

    try:
        return bool(find_chromium())
    except PdfExportError:
        return False


class _Text(HTMLParser):
    """Visible text of a page, split into printed and not printed (interactive map, no-print)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[bool] = []
        self.printed: list[str] = []
        self.hidden: list[str] = []
        self.srcdocs: list[str] = []
        self.headers: list[str] = []  # printed table header cells
        self._th: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "iframe" and a.get("srcdoc"):
            self.srcdocs.append(a["srcdoc"])
        if tag in VOID:
            return
        if tag == "th":
            self._th = []
        hide = tag in ("iframe", "style", "script") or bool(HIDDEN_CLASSES & set((a.get("class") or "").split()))
        self.stack.append(hide or (bool(self.stack) and self.stack[-1]))

    def handle_endtag(self, tag):
        if tag == "th" and self._th is not None:
            if not (self.stack and self.stack[-1]):
                self.headers.append(" ".join(self._th))
            self._th = None
        if tag not in VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if self._th is not None:
            self._th.append(data)
        (self.hidden if self.stack and self.stack[-1] else self.printed).append(data)


def _norm(text: str) -> str:
    return " ".join(text.split())


def _map_labels(srcdoc: str) -> list[str]:
    """Layer names and attribution of a Leaflet map (JavaScript string literals)."""
    found = re.findall(r'overlays\[("(?:[^"\\]|\\.)*")\]', srcdoc)
    found += re.findall(r'addAttribution\(("(?:[^"\\]|\\.)*")\)', srcdoc)
    return [json.loads(s) for s in found]


@pytest.fixture(scope="module")
def report_pdf(tmp_path_factory, snapshot_dir):
    if not _has_chromium() or not shutil.which("pdftotext"):
        pytest.skip("Chromium or poppler-utils absent: apt-get install chromium poppler-utils")
    from cpts_diag.batch import run_batch

    out = tmp_path_factory.mktemp("pdf") / "outputs"
    assert run_batch([CPTS], out=out, progress=False, timeout=600, pdf=True) == 0
    return out / CPTS


def _pdf_pages(path) -> list[tuple[float, float]]:
    info = subprocess.run(["pdfinfo", "-f", "1", "-l", "9999", str(path)], capture_output=True,
                          text=True, check=True).stdout
    return [(float(w), float(h)) for w, h in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", info)]


def test_pdf_is_a4_and_numbered(report_pdf):
    pdf = report_pdf / "rapport.pdf"
    sizes = _pdf_pages(pdf)
    n = len(sizes)
    assert n >= 5  # a dozen sections with maps and tables
    assert all(sorted((round(w), round(h))) == [595, 842] for w, h in sizes)  # A4, some landscape
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages = [_norm(p) for p in text.split("\f")][:n]
    for i, page in enumerate(pages, start=1):
        assert f"page {i} / {n}" in page
    terr = json.loads((report_pdf / "indicators.json").read_text(encoding="utf-8"))["territory"]
    assert _norm(terr["name"]) in _norm(text)


def _words(text: str) -> set[str]:
    return {w for w in re.split(r"[\s\-\u2011\u2013]+", text) if w}


def test_no_table_is_cut_at_the_right_edge(report_pdf):
    """Every word of every printed table header is in the PDF: no column clipped by the page."""
    parser = _Text()
    parser.feed((report_pdf / "rapport.html").read_text(encoding="utf-8"))
    assert len(parser.headers) > 50
    pdf_words = _words(subprocess.run(["pdftotext", str(report_pdf / "rapport.pdf"), "-"],
                                      capture_output=True, text=True, check=True).stdout)
    missing = sorted({w for h in parser.headers for w in _words(h)} - pdf_words)
    assert missing == []


def test_interactive_map_is_not_printed(report_pdf):
    parser = _Text()
    parser.feed((report_pdf / "rapport.html").read_text(encoding="utf-8"))
    printed = _norm(" ".join(parser.printed))
    pdf_text = _norm(subprocess.run(["pdftotext", str(report_pdf / "rapport.pdf"), "-"],
                                    capture_output=True, text=True, check=True).stdout)
    assert parser.srcdocs, "the report has no interactive map any more"
    labels = {lab for doc in parser.srcdocs for lab in _map_labels(doc)}
    map_only = [lab for lab in labels if _norm(lab) not in printed]
    assert map_only, f"no text specific to the interactive map found among {sorted(labels)}"
    assert [lab for lab in map_only if _norm(lab) in pdf_text] == []
    hidden = [_norm(t) for t in parser.hidden if len(_norm(t)) > 30 and _norm(t) not in printed]
    assert [t for t in hidden if t in pdf_text] == []


def test_the_largest_report_prints_on_30_pages_at_most(snapshot_dir, tmp_path):
    """Roannais 2024 (159 communes, the health section): A4, at most 30 pages; the per-commune
    annex (159 rows) and two detail tables are on screen only, a printed line says where."""
    if not _has_chromium() or not shutil.which("pdfinfo"):
        pytest.skip("Chromium or poppler-utils absent (`.ci/run` installs them)")
    from cpts_diag.batch import run_batch

    assert run_batch(["roannais-2024"], out=tmp_path, progress=False, pdf=True) == 0
    info = subprocess.run(["pdfinfo", str(tmp_path / "roannais-2024" / "rapport.pdf")],
                          capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    assert 10 <= pages <= 30
