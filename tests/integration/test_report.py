"""End-to-end report production on the real open data (slow: notebook execution).

- the diagnostic notebook runs under nbval (``pytest --nbval-lax notebooks/diagnostic.ipynb``)
  with its default parameters (a real CPTS, nothing written);
- the batch produces a complete report folder whose ``indicators.json`` equals the library's
  catalogue and whose HTML shows no code, needs no network and leaks no machine path;
- the narrative quotes the computed numbers and says missing data in words.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO / "notebooks" / "diagnostic.ipynb"
CPTS = "ondaine-forez"
EXPECTED_FIGURES = {"carte_identite_epci", "structure_age", "carte_indice_vieillissement",
                    "carte_evolution_population", "carte_densite", "csp", "densites_professionnels",
                    "carte_apl_mg", "carte_apl_mg_moins65", "carte_apl_autres_professions",
                    "carte_hopitaux"}
EXPECTED_TABLES = {"chiffres_cles", "epci", "structure_age", "vieillissement_epci", "population",
                   "socio_economie", "offre_bpe", "apl_classes", "apl_medecins_generalistes",
                   "apl_autres_professions", "hopitaux", "sources", "communes"}
MACHINE_PATHS = tuple(f"/{d}/" for d in ("work", "tmp", "root", "home"))  # this machine's roots

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def report_dir(snapshot_dir, tmp_path_factory):
    """One batch run for the module: outputs/<CPTS>/ in a temporary folder."""
    from cpts_diag.batch import run_batch

    out = tmp_path_factory.mktemp("outputs")
    code = run_batch([CPTS], out=out, progress=False, timeout=600)
    assert code == 0, "the batch failed (see the summary above)"
    return out


def _normalise(obj):
    return json.loads(json.dumps(obj, ensure_ascii=False))


@pytest.mark.slow
def test_report_folder_is_complete(report_dir):
    d = report_dir / CPTS
    for f in ("rapport.html", "rapport.ipynb", "indicators.json", "tableaux.xlsx"):
        assert (d / f).is_file(), f
    assert {p.stem for p in (d / "figures").glob("*.png")} == EXPECTED_FIGURES
    assert {p.stem for p in (d / "figures").glob("*.json")} == EXPECTED_FIGURES  # one sidecar each
    assert {p.stem for p in (d / "tables").glob("*.csv")} == EXPECTED_TABLES
    assert not [p for p in report_dir.iterdir() if p.name.startswith((".build-", ".old-"))]
    assert (d / "rapport.html").stat().st_size <= 5_000_000


@pytest.mark.slow
def test_indicators_json_equals_the_library(report_dir):
    from cpts_diag.catalogue import catalogue
    from cpts_diag.territory import Territory

    written = json.loads((report_dir / CPTS / "indicators.json").read_text(encoding="utf-8"))
    expected = _normalise(catalogue(Territory.load(CPTS)))
    assert written == expected


@pytest.mark.slow
def test_html_has_no_code_no_network_no_machine_path(report_dir):
    from cpts_diag.html_export import problems

    page = (report_dir / CPTS / "rapport.html").read_text(encoding="utf-8")
    assert problems(page) == []
    for p in MACHINE_PATHS:
        assert p not in page, p
    for code in ("from cpts_diag.report import", "diag.show(", "diag.finish", "output_dir",
                 "hl-ipython3", 'class="jp-InputPrompt'):
        assert code not in page, code  # no input cell, no code highlighting, no prompt
    assert 'lang="fr"' in page
    assert "Diagnostic territorial de santé" in page and "Carte d'identité" in page
    assert "Sources et millésimes" in page and "Licence Ouverte" in page
    assert page.count("data:image/png;base64,") >= len(EXPECTED_FIGURES)
    assert "cpts-map" in page and "Leaflet 1.9.4" in page  # interactive map, Leaflet inlined


@pytest.mark.slow
def test_executed_notebook_and_tables(report_dir):
    import nbformat
    import openpyxl

    nb = nbformat.read(str(report_dir / CPTS / "rapport.ipynb"), as_version=4)
    assert not [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                if o.get("output_type") == "error"]
    text = (report_dir / CPTS / "rapport.ipynb").read_text(encoding="utf-8")
    for p in MACHINE_PATHS:
        assert p not in text, p
    wb = openpyxl.load_workbook(report_dir / CPTS / "tableaux.xlsx", read_only=True)
    assert wb.sheetnames[0] == "Sommaire" and set(wb.sheetnames[1:]) == EXPECTED_TABLES
    csv = (report_dir / CPTS / "tables" / "communes.csv").read_text(encoding="utf-8-sig")
    header = csv.splitlines()[0]
    assert header.startswith("Code;Commune;EPCI;Population 2022")
    index = (report_dir / "index.html").read_text(encoding="utf-8")
    assert f"{CPTS}/rapport.html" in index and "Indice de vieillissement" in index


@pytest.mark.slow
def test_notebook_under_nbval():
    """The README's ``python -m pytest -q`` runs tests/ only: this runs the notebook under nbval."""
    env = {**os.environ}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", str(NOTEBOOK), "-q", "-p", "no:cacheprovider",
         "--rootdir", str(REPO)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert " passed" in proc.stdout


# --- the narrative and tables, in process ---------------------------------------------------------

def _md(blocks) -> str:
    from cpts_diag.report import blocks as B

    return "\n".join(b.markdown for b in blocks if isinstance(b, (B.Text, B.Note))).replace("\u202f", " ")


def _tables(blocks) -> dict:
    from cpts_diag.report import blocks as B

    return {b.name: b for b in blocks if isinstance(b, B.Table)}


@pytest.fixture(scope="module")
def diag(snapshot_dir):
    from cpts_diag.report import Diagnostic

    return Diagnostic(CPTS, display_outputs=False)


def test_narrative_quotes_computed_numbers(diag):
    from cpts_diag.fmt import fmt_number

    ctx = diag.ctx
    text = _md(diag.blocks("identite"))
    assert fmt_number(ctx.val("population_2022"), 0).replace("\u202f", " ") in text
    assert f"{fmt_number(len(diag.territory.communes), 0)} communes" in text
    assert ctx.num("density_2022") in text and "Loire" in text
    text = _md(diag.blocks("apl"))
    assert ctx.num("apl_mg_2023") in text and ctx.pct("share_pop_apl_mg_lt_2_5_2023").replace("\u202f", " ") in text


def test_missing_values_are_said_in_words(diag):
    assert "secret statistique" in _md(diag.blocks("socio"))  # poverty rate not published everywhere
    shown = diag.renderer.render(diag.blocks("annexe"))
    table = "".join(str(o.data) for o in shown)
    n_missing = int(diag.ctx.communes["poverty_rate_2021"].isna().sum())
    assert n_missing > 0 and table.count("secret statistique") >= n_missing


def test_key_figures_and_sources_tables(diag):
    from cpts_diag.report.sections.sources import sources_frame

    t = _tables(diag.blocks("synthese"))["chiffres_cles"]
    assert "France métropolitaine" in t.df.columns and t.source.startswith("Insee, RP")
    src = sources_frame(diag.ctx)
    assert {"Donnée", "Producteur", "Millésime(s)", "Licence"} <= set(src.columns)
    assert src["Licence"].notna().all() and (src["Millésime(s)"] != "").all()
    assert any("2023" in v for v in src["Millésime(s)"])  # APL vintage used


def test_apl_year_must_exist(snapshot_dir):
    from cpts_diag.errors import VintageError
    from cpts_diag.report import Diagnostic

    with pytest.raises(VintageError, match="2022, 2023"):
        Diagnostic(CPTS, apl_year=2019)
