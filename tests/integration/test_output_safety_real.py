"""A real report (open-data snapshot, batch, notebook, nbconvert) of a perimeter whose name,
source and announced-population source are hostile: the page shows them as text and carries a
strict Content-Security-Policy; in headless Chromium an injected event handler, script or external
image is blocked while the interactive map still draws; the spreadsheets hold text, not formulas.

Commune names are read from the COG CSV with pandas, not through cpts_diag."""
from __future__ import annotations

import csv
import html
import io
import re
import subprocess
import tempfile
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from tests.helpers import set_env

CID = "zz-hostile"
CODES = ["42095", "42316", "42044", "42183"]
NAME = '=HYPERLINK("http://x","clic") <img src=x onerror=alert(1)> </script><script>alert(2)</script> *gras* $x$'
SOURCE = "<b onmouseover=alert(3)>source</b> @SUM(A1)"
ANNOUNCED = "<img src=y onerror=alert(4)>"


@pytest.fixture(scope="module")
def hostile_report(snapshot_dir, tmp_path_factory) -> Path:
    """One batch run of the hostile perimeter: ``<out>/<CID>/``."""
    from cpts_diag.batch import run_batch

    folder = tmp_path_factory.mktemp("perimetres")
    q = lambda s: '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'  # noqa: E731 - YAML string
    (folder / f"{CID}.yaml").write_text(
        f"id: {CID}\nname: {q(NAME)}\nsource: {q(SOURCE)}\nvalid_from: \"2023-12-13\"\n"
        f"announced_population:\n  value: 46000\n  source: {q(ANNOUNCED)}\n  year: 2023\n"
        f"members:\n  communes: [{', '.join(q(c) for c in CODES)}]\n", encoding="utf-8")
    old = set_env({"CPTS_DIAG_PERIMETERS": str(folder)})
    try:
        out = tmp_path_factory.mktemp("outputs")
        assert run_batch([CID], out=out, progress=False, timeout=600) == 0
    finally:
        set_env(old)
    return out / CID


class _Live(HTMLParser):
    """Elements and attributes a browser would run or load."""

    def __init__(self):
        super().__init__()
        self.found, self.h1 = [], []
        self._in_h1 = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "h1":
            self._in_h1 = True
        if tag == "script" or (tag == "img" and not (a.get("src") or "").startswith("data:image/png")):
            self.found.append(f"{tag} {a}")
        if tag == "iframe" and "cpts-map" not in (a.get("class") or ""):
            self.found.append(f"{tag} {a}")
        self.found += [f"{tag}[{k}]" for k in a if k.startswith("on")]

    def handle_endtag(self, tag):
        self._in_h1 = self._in_h1 and tag != "h1"

    def handle_data(self, data):
        if self._in_h1:
            self.h1.append(data)


@pytest.mark.slow
def test_hostile_strings_are_text_and_the_page_has_its_policy(hostile_report, snapshot_dir):
    from cpts_diag.html_export import inline_script_hashes, problems

    page = (hostile_report / "rapport.html").read_text(encoding="utf-8")
    assert problems(page) == []
    head = page[:page.index("</head>")]
    policy = html.unescape(re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', head).group(1))
    assert policy.startswith("default-src 'none'; script-src 'sha256-")
    assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    assert len(inline_script_hashes(page)) == 3  # Leaflet and folium's scripts of the one map
    p = _Live()
    p.feed(page)
    assert p.found == []  # no script, handler or external image outside the map's iframe
    assert NAME in "".join(p.h1)  # the title shows the name, character for character
    for s in (SOURCE, ANNOUNCED):
        assert html.escape(s, quote=False) in page
    cog = pd.read_csv(snapshot_dir / "cog" / "communes.csv", dtype=str, usecols=["code_commune", "nom"])
    assert cog.set_index("code_commune").loc["42095", "nom"] in page  # a real commune name (Firminy)


@pytest.mark.slow
def test_hostile_report_tables_hold_text_not_formulas(hostile_report):
    from openpyxl import load_workbook

    data = (hostile_report / "tableaux.xlsx").read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        xml = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/")]
    assert xml and not any(re.search(r"<f[ >]", s) for s in xml)
    ws = load_workbook(io.BytesIO(data))["structure_age"]
    header = {c.value: c.data_type for c in ws[2]}
    assert header[NAME + " (%)"] == "s"  # the column named after the territory
    with open(hostile_report / "tables" / "structure_age.csv", encoding="utf-8-sig", newline="") as f:
        header = next(csv.reader(f, delimiter=";"))
    assert header[1] == "'" + NAME + " (%)"  # prefixed: a spreadsheet shows it as text


# --- headless Chromium ------------------------------------------------------------------------------

def _chromium() -> str:
    from cpts_diag.errors import CptsDiagError
    from cpts_diag.pdf import find_chromium

    try:
        return find_chromium()
    except CptsDiagError as exc:
        pytest.skip(str(exc))


def _dump_dom(page: Path) -> str:
    with tempfile.TemporaryDirectory(prefix="cpts-diag-test-chromium-") as profile:
        r = subprocess.run([_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                            "--disable-background-networking", "--disable-component-update",
                            "--disable-sync", f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
                           capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout


class _Hits(BaseHTTPRequestHandler):
    hits: list = []

    def do_GET(self):  # noqa: N802 - http.server API
        _Hits.hits.append(self.path)
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Hits)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    _Hits.hits = []
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.mark.slow
def test_chromium_blocks_injected_code_and_external_images(hostile_report, tmp_path, server):
    page = (hostile_report / "rapport.html").read_text(encoding="utf-8")
    port = server.server_address[1]
    inject = ('<img id="pwn" src="x" onerror="document.body.setAttribute(\'data-pwned\',\'1\')">'
              '<script>document.body.setAttribute("data-pwned2", "1")</script>'
              f'<img id="ext" src="http://127.0.0.1:{port}/externe.png">')
    with_csp = tmp_path / "avec.html"
    with_csp.write_text(page.replace("</body>", inject + "</body>"), encoding="utf-8")
    without = tmp_path / "sans.html"
    without.write_text(re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "",
                              with_csp.read_text(encoding="utf-8")), encoding="utf-8")
    dom = _dump_dom(with_csp)
    body = re.search(r"<body[^>]*>", dom).group(0)
    assert "data-pwned" not in body and _Hits.hits == []
    assert "alert(1)" in dom and "<img src=\"x\"" not in dom  # the name is text, not an element
    dom = _dump_dom(without)  # the same page without its policy: the checks above can fail
    body = re.search(r"<body[^>]*>", dom).group(0)
    assert 'data-pwned="1"' in body and 'data-pwned2="1"' in body and _Hits.hits == ["/externe.png"]


@pytest.mark.slow
def test_chromium_runs_the_map_under_the_report_policy(hostile_report, tmp_path):
    """The map's srcdoc document inherits the page's policy: loaded alone under that policy, its
    scripts must run (Leaflet draws the communes and the legend)."""
    from cpts_diag.html_export import _map_documents

    page = (hostile_report / "rapport.html").read_text(encoding="utf-8")
    meta = re.search(r'<meta http-equiv="Content-Security-Policy"[^>]*>', page).group(0)
    (doc,) = _map_documents(page)
    for name, policy in (("carte.html", meta),
                         ("bloquee.html", re.sub(r"script-src [^;]*", "script-src 'none'", meta))):
        f = tmp_path / name
        f.write_text(doc.replace("<head>", "<head>" + policy, 1), encoding="utf-8")
        dom = re.sub(r"(?is)<(script|style)\b.*?</\1>", "", _dump_dom(f))  # elements only
        drawn = len(re.findall(r"<path\b[^>]*\sd=\"M", dom))  # SVG paths Leaflet drew
        if name == "carte.html":
            assert re.search(r'class="[^"]*\bleaflet-container', dom) and drawn >= len(CODES)
            assert "Indice de vieillissement 2022" in dom and 'class="cpts-legend' in dom
        else:  # control: with its scripts blocked the map draws nothing
            assert drawn == 0 and not re.search(r'class="[^"]*\bleaflet-container', dom)
