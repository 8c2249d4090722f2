"""End-to-end report production on the real open data (slow: notebook execution).

- the diagnostic notebook runs under nbval (``pytest --nbval-lax notebooks/diagnostic.ipynb``)
  with its default parameters (a real CPTS, nothing written);
- the batch produces a complete report folder whose ``indicators.json`` holds the values of the raw
  CSV files (and, as a regression lock, equals the library's catalogue) and whose HTML shows no
  code, needs no network and leaks no machine path;
- the narrative quotes the figures of the raw CSV files and says missing data in words.

Independent expected values are recomputed here with pandas from the raw files of the snapshot and
the perimeter YAML (``raw`` fixture), never through cpts_diag.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO / "notebooks" / "diagnostic.ipynb"
CPTS = "ondaine-forez"
EXPECTED_FIGURES = {"carte_identite_epci", "structure_age", "carte_indice_vieillissement",
                    "carte_evolution_population", "carte_densite", "csp", "densites_professionnels",
                    "carte_apl_mg", "carte_apl_mg_moins65", "carte_apl_autres_professions",
                    "carte_hopitaux", "carte_msp_centres_sante", "sante_grippe_65"}
EXPECTED_TABLES = {"chiffres_cles", "epci", "structure_age", "vieillissement_epci", "population",
                   "socio_economie", "offre_bpe", "apl_classes", "apl_medecins_generalistes",
                   "apl_autres_professions", "hopitaux", "sources", "communes", "age_infirmiers",
                   "msp_centres_sante", "sante_vaccination", "sante_mortalite", "sante_mortalite_causes",
                   "sante_bassins_de_vie", "sante_mortalite_epci"}
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


@pytest.fixture(scope="module")
def raw(snapshot_dir) -> dict:
    """Figures of the CPTS read straight from the raw CSV files (pandas, no cpts_diag code)."""
    spec = yaml.safe_load((REPO / "data" / "cpts" / f"{CPTS}.yaml").read_text(encoding="utf-8"))
    codes = sorted(spec["members"]["communes"])  # ondaine-forez lists communes only, no EPCI
    assert spec["members"]["epcis"] == [] and len(codes) == 25
    pop = pd.read_csv(snapshot_dir / "insee" / "population_communes_rp2022.csv",
                      dtype={"code_commune": str}).set_index("code_commune")
    cog = pd.read_csv(snapshot_dir / "cog" / "communes.csv", dtype=str, usecols=["code_commune", "dep"])
    apl = pd.read_csv(snapshot_dir / "drees" / "apl_communes.csv", dtype={"code_commune_cog2025": str},
                      usecols=["code_commune_cog2025", "annee", "profession", "apl", "pop_std", "pop_tot"])
    gp23 = apl[(apl["annee"] == 2023) & (apl["profession"] == "medecin_generaliste")
               & apl["code_commune_cog2025"].isin(codes)]
    assert len(gp23) == 25  # one published row per commune
    under = gp23["apl"] < 2.5
    bpe = pd.read_csv(snapshot_dir / "insee" / "bpe2024_sante.csv", dtype={"code_commune": str})
    socio = pd.read_csv(snapshot_dir / "insee" / "socio_communes.csv", dtype={"code_commune": str},
                        usecols=["code_commune", "taux_pauvrete_2021"]).set_index("code_commune")
    return {
        "codes": codes,
        "pop_2022": float(pop.loc[codes, "pop_2022"].sum()),
        "pop_2022_loire": float(pop.loc[cog.loc[cog["dep"] == "42", "code_commune"], "pop_2022"].sum()),
        "apl_mg_2023": float((gp23["apl"] * gp23["pop_std"]).sum() / gp23["pop_std"].sum()),
        "share_lt_2_5": float(100 * gp23.loc[under, "pop_tot"].sum() / gp23["pop_tot"].sum()),
        "n_lt_2_5": int(under.sum()),
        "gps": int(bpe[(bpe["typequ"] == "D265") & bpe["code_commune"].isin(codes)]["nb"].sum()),
        "poverty_missing": int(socio.loc[codes, "taux_pauvrete_2021"].isna().sum()),
    }


def _fr(x: float, decimals: int) -> str:
    """French number written by hand for the assertions: 81432 → « 81 432 », 3.284 → « 3,28 »."""
    return f"{x:,.{decimals}f}".replace(",", " ").replace(".", ",")


def test_raw_figures_of_the_cpts(raw):
    """The raw figures the other tests rely on (as read in the snapshot on 2025 COG)."""
    assert raw["pop_2022"] == 81432
    assert round(raw["apl_mg_2023"], 2) == 3.28 and round(raw["share_lt_2_5"], 1) == 15.3
    assert raw["n_lt_2_5"] == 8 and raw["gps"] == 52 and raw["poverty_missing"] == 17
    assert _fr(81432.0, 0) == "81 432" and _fr(3.2849, 2) == "3,28"


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
def test_indicators_json_values_match_the_raw_csv(report_dir, raw):
    """A few values of the written indicators.json against the raw CSV files."""
    written = json.loads((report_dir / CPTS / "indicators.json").read_text(encoding="utf-8"))
    assert written["territory"]["id"] == CPTS and written["territory"]["communes"] == raw["codes"]
    ind = {i["id"]: i["values"] for i in written["indicators"]}
    # population 2022 = Σ pop_2022 of the 25 communes in population_communes_rp2022.csv
    assert ind["population_2022"]["territory"] == pytest.approx(raw["pop_2022"], abs=1e-6)
    assert ind["population_2022"]["departement"]["42"] == pytest.approx(raw["pop_2022_loire"], abs=1e-6)
    # GP APL 2023 = pop_std-weighted mean of apl_communes.csv; share under 2,5 weighted by pop_tot
    assert ind["apl_mg_2023"]["territory"] == pytest.approx(raw["apl_mg_2023"], rel=1e-6)
    assert ind["share_pop_apl_mg_lt_2_5_2023"]["territory"] == pytest.approx(raw["share_lt_2_5"], rel=1e-6)
    # GP practices (BPE 2024, D265) of the 25 communes
    assert ind["count_gp_bpe2024"]["territory"] == raw["gps"]


@pytest.mark.slow
def test_regression_lock_indicators_json_equals_the_library(report_dir):
    """Regression lock: the batch's indicators.json is exactly the library's ``catalogue()`` for
    the same territory (same ids, values, coverage, rounding). Both sides are cpts_diag output, so
    this only says the batch writes what the library computes; the values themselves are checked
    against the raw CSV files in ``test_indicators_json_values_match_the_raw_csv``."""
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


def test_narrative_quotes_the_raw_figures(diag, raw):
    """The narrative's figures, recomputed from the raw CSV files and written in French by hand."""
    text = _md(diag.blocks("identite"))
    assert f"**{_fr(raw['pop_2022'], 0)} habitants**" in text and "**25 communes**" in text
    text = _md(diag.blocks("apl"))
    assert f"**{_fr(raw['apl_mg_2023'], 2)} consultations par an et par habitant standardisé**" in text
    assert f"**{_fr(raw['share_lt_2_5'], 1)} % de la population**" in text
    assert f"{raw['n_lt_2_5']} communes sur 25" in text


def test_regression_lock_narrative_quotes_computed_numbers(diag):
    """Regression lock: the narrative quotes the values of the report context (``ctx.val``,
    ``ctx.num``, ``ctx.pct``), i.e. the text and the tables agree. Both sides are cpts_diag output;
    the figures themselves are checked against the raw files in
    ``test_narrative_quotes_the_raw_figures``."""
    from cpts_diag.fmt import fmt_number

    ctx = diag.ctx
    text = _md(diag.blocks("identite"))
    assert fmt_number(ctx.val("population_2022"), 0).replace("\u202f", " ") in text
    assert f"{fmt_number(len(diag.territory.communes), 0)} communes" in text
    assert ctx.num("density_2022") in text and "Loire" in text
    text = _md(diag.blocks("apl"))
    assert ctx.num("apl_mg_2023") in text and ctx.pct("share_pop_apl_mg_lt_2_5_2023").replace("\u202f", " ") in text


def test_missing_values_are_said_in_words(diag, raw):
    assert "secret statistique" in _md(diag.blocks("socio"))  # poverty rate not published everywhere
    shown = diag.renderer.render(diag.blocks("annexe"))
    table = "".join(str(o.data) for o in shown)
    # communes of the CPTS with an empty taux_pauvrete_2021 in socio_communes.csv: 17
    assert raw["poverty_missing"] == 17
    assert table.count("secret statistique") >= raw["poverty_missing"]


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
