"""PDF of a report (cpts_diag.pdf): headless Chromium, A4, page numbers, print CSS of the template.

The Chromium tests print tiny pages generated here (no data snapshot); they are skipped only when
Chromium or poppler-utils (pdfinfo, pdftotext) is absent: `.ci/run` installs both.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import time

import pytest

from cpts_diag import pdf
from cpts_diag.pdf import PdfExportError, html_to_pdf

A4_PT = (595, 842)  # 210 × 297 mm in PostScript points


def _has_chromium() -> bool:
    try:
        pdf.find_chromium()
        return True
    except PdfExportError:
        return False


needs_chromium = pytest.mark.skipif(
    not _has_chromium() or not (shutil.which("pdfinfo") and shutil.which("pdftotext")),
    reason="Chromium or poppler-utils absent: apt-get install chromium poppler-utils (.ci/run does it)")


def pdf_pages(path) -> list[tuple[float, float]]:
    """(width, height) in points of every page, read by pdfinfo."""
    out = subprocess.run(["pdfinfo", "-f", "1", "-l", "9999", str(path)], capture_output=True,
                         text=True, check=True).stdout
    return [(float(w), float(h)) for w, h in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", out)]


def pdf_text(path) -> str:
    """Text of the PDF, one string per page joined by form feeds, whitespace collapsed per page."""
    out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                         check=True).stdout
    return "\f".join(" ".join(p.split()) for p in out.split("\f"))


def _fake_browser(tmp_path, body: str):
    exe = tmp_path / "faux-chromium"
    exe.write_text("#!/bin/sh\n" + body + "\n", encoding="utf-8")
    exe.chmod(0o755)
    return exe


# --- without a browser -----------------------------------------------------------------------------

def test_missing_chromium_names_the_package(tmp_path, monkeypatch):
    page = tmp_path / "r.html"
    page.write_text("<p>x</p>", encoding="utf-8")
    monkeypatch.delenv(pdf.CHROMIUM_ENV, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "vide"))
    with pytest.raises(PdfExportError) as exc:
        html_to_pdf(page, tmp_path / "r.pdf")
    msg = str(exc.value)
    assert "Chromium est introuvable" in msg and "apt-get install chromium" in msg
    assert not (tmp_path / "r.pdf").exists()


def test_chromium_env_pointing_nowhere_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv(pdf.CHROMIUM_ENV, str(tmp_path / "absent"))
    with pytest.raises(PdfExportError, match=pdf.CHROMIUM_ENV):
        pdf.find_chromium()


def test_missing_html_is_named(tmp_path):
    with pytest.raises(PdfExportError, match="absent.html"):
        html_to_pdf(tmp_path / "absent.html", tmp_path / "r.pdf")


def test_timeout_stops_the_browser_and_keeps_the_previous_pdf(tmp_path, monkeypatch):
    page = tmp_path / "r.html"
    page.write_text("<p>x</p>", encoding="utf-8")
    old = tmp_path / "r.pdf"
    old.write_bytes(b"%PDF-ancien")
    monkeypatch.setenv(pdf.CHROMIUM_ENV, str(_fake_browser(tmp_path, "sleep 30")))
    t0 = time.monotonic()
    with pytest.raises(PdfExportError, match="délai dépassé"):
        html_to_pdf(page, old, timeout=1)
    assert time.monotonic() - t0 < 10
    assert old.read_bytes() == b"%PDF-ancien"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["faux-chromium", "r.html", "r.pdf"]


def test_failing_browser_is_reported_with_its_output(tmp_path, monkeypatch):
    page = tmp_path / "r.html"
    page.write_text("<p>x</p>", encoding="utf-8")
    monkeypatch.setenv(pdf.CHROMIUM_ENV, str(_fake_browser(tmp_path, "echo 'plantage du moteur' >&2; exit 3")))
    with pytest.raises(PdfExportError) as exc:
        html_to_pdf(page, tmp_path / "r.pdf")
    assert "code 3" in str(exc.value) and "plantage du moteur" in str(exc.value)
    assert not (tmp_path / "r.pdf").exists()


# --- with Chromium -----------------------------------------------------------------------------------

@needs_chromium
def test_three_pages_a4_with_page_numbers(tmp_path):
    page = tmp_path / "trois pages.html"  # a space in the name: the file URL must be quoted
    page.write_text(
        '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><style>'
        '@page { size: A4; margin: 15mm; @bottom-right { content: "page " counter(page) " / " '
        'counter(pages); } } section { break-after: page; }</style></head><body>'
        "<section>Premier</section><section>Deuxième</section><div>Troisième</div></body></html>",
        encoding="utf-8")
    out = html_to_pdf(page, tmp_path / "sortie" / "r.pdf")
    assert out == tmp_path / "sortie" / "r.pdf"
    sizes = pdf_pages(out)
    assert len(sizes) == 3
    assert all((round(w), round(h)) == A4_PT for w, h in sizes)
    pages = pdf_text(out).split("\f")
    assert "Deuxième" in pages[1] and "page 2 / 3" in pages[1]
    assert "page 1 / 3" in pages[0] and "page 3 / 3" in pages[2]
    assert [p.name for p in out.parent.iterdir()] == ["r.pdf"]  # no temporary file left


def _print_notebook():
    """A report-like notebook: long table, very wide table, interactive and no-print blocks."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

    long_rows = "".join(f"<tr><td>Commune {i:03d}</td><td class='num'>{i},5</td></tr>" for i in range(150))
    long_table = ("<div class='cpts-caption'>Tableau long</div><table class='cpts-table'><thead><tr>"
                  "<th>EnteteLongue</th><th>Valeur</th></tr></thead><tbody>" + long_rows + "</tbody></table>")
    heads = "".join(f"<th>Colonne indicateur {j}</th>" for j in range(23)) + "<th>DerniereColonne</th>"
    cells = "".join(f"<td class='num'>{j} 234,5</td>" for j in range(23)) + "<td>FinDeLigne</td>"
    wide_table = (f"<div style='overflow-x:auto'><table class='cpts-table'><thead><tr>{heads}</tr></thead>"
                  f"<tbody>{''.join(f'<tr>{cells}</tr>' for _ in range(5))}</tbody></table></div>")
    interactive = ("<div class='cpts-interactive'><p>TexteCarteInteractive</p>"
                   "<iframe srcdoc='&lt;p&gt;DansLIframe&lt;/p&gt;'></iframe></div>"
                   "<p class='cpts-noprint'>TexteNonImprime</p><p>TexteImprime</p>")
    html_cell = new_code_cell("", outputs=[new_output("display_data", data={"text/html": h})
                                           for h in (long_table, wide_table, interactive)])
    return nbformat.validator.normalize(new_notebook(cells=[
        new_markdown_cell("# Rapport d'essai\n\nIntroduction."), html_cell]))[1]


@needs_chromium
def test_report_template_prints_tables_and_hides_the_interactive_map(tmp_path):
    from cpts_diag.html_export import export_html

    page = tmp_path / "rapport.html"
    page.write_text(export_html(_print_notebook(), title="Essai"), encoding="utf-8")
    out = html_to_pdf(page, tmp_path / "rapport.pdf")
    sizes = pdf_pages(out)
    n = len(sizes)
    assert n >= 3  # 150 rows do not fit on one page
    pages = pdf_text(out).split("\f")[:n]
    for i, text in enumerate(pages, start=1):
        assert f"page {i} / {n}" in text
    long_pages = [p for p in pages if "Commune 0" in p or "Commune 1" in p]
    assert len(long_pages) >= 2 and all("EnteteLongue" in p for p in long_pages)  # header repeated
    # the first and the last row are printed, on different pages, each under the header
    first = next(i for i, p in enumerate(pages) if "Commune 000" in p)
    last = next(i for i, p in enumerate(pages) if "Commune 149" in p)
    assert last > first and "EnteteLongue" in pages[first] and "EnteteLongue" in pages[last]
    full = " ".join(pages)
    assert full.count("234,5") == 23 * 5  # every number cell of the wide table is printed
    compact = full.replace(" ", "")  # 21 columns or more: words may be cut to fit the page
    assert compact.count("FinDeLigne") == 5  # the last column is not cut off
    assert "TexteImprime" in full
    for hidden in ("TexteCarteInteractive", "DansLIframe", "TexteNonImprime"):
        assert hidden not in full
