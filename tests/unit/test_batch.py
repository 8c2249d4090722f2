"""Batch production: id checks, failure paths, atomic output, index page, PDF option.

The notebook runs use the fixture notebooks of tests/fixtures/notebooks (a few seconds each:
one Jupyter kernel per CPTS); they need no data snapshot, only the perimeter files of data/cpts.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cpts_diag import batch
from cpts_diag.errors import CptsDiagError, TerritoryError
from cpts_diag.fmt import NNBSP

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "notebooks"
FIXTURE_NB = FIXTURES / "fixture.ipynb"
RAISES_NB = FIXTURES / "raises.ipynb"
SLEEPS_NB = FIXTURES / "sleeps.ipynb"  # sleeps 120 s: interrupted by the tests


def _no_build_dirs(out: Path) -> bool:
    return not [p for p in out.iterdir() if p.name.startswith((".build-", ".old-"))]


# --- checks before anything runs -----------------------------------------------------------------

def test_unknown_cpts_is_refused_before_running(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(TerritoryError) as exc:
        batch.run_batch(["ondaine-forez", "cpts-inexistante"], out=out, notebook=FIXTURE_NB)
    msg = str(exc.value)
    assert "cpts-inexistante" in msg and "ondaine-forez" in msg and "vallee-du-gier" in msg
    assert not out.exists()  # nothing was created


def test_no_cpts_requested(tmp_path):
    with pytest.raises(CptsDiagError, match="--all"):
        batch.run_batch([], out=tmp_path / "out", notebook=FIXTURE_NB)


def test_missing_notebook_names_the_fix(tmp_path, monkeypatch):
    monkeypatch.setenv(batch.NOTEBOOK_ENV, str(tmp_path / "absent.ipynb"))
    with pytest.raises(CptsDiagError, match=batch.NOTEBOOK_ENV):
        batch.run_batch(["ondaine-forez"], out=tmp_path / "out")


def test_all_expands_to_every_perimeter_file(tmp_path, monkeypatch):
    # the ids are the file names of data/cpts/*.yaml plus those of a user folder (listed here with
    # glob, not through the library); a duplicate request is run once
    extra = tmp_path / "perimetres"
    extra.mkdir()
    (extra / "zz-ma-cpts.yaml").write_text("id: zz-ma-cpts\n", encoding="utf-8")
    monkeypatch.setenv("CPTS_DIAG_PERIMETERS", str(extra))
    shipped = sorted(p.stem for p in (REPO / "data" / "cpts").glob("*.yaml"))
    assert {"grand-saint-etienne", "ondaine-forez", "roannais-2019", "roannais-2024",
            "vallee-du-gier"} <= set(shipped)
    assert batch.resolve_ids([], all_=True) == shipped + ["zz-ma-cpts"]
    assert batch.resolve_ids(["vallee-du-gier"], all_=True).count("vallee-du-gier") == 1
    assert batch.resolve_ids(["zz-ma-cpts", "ondaine-forez"]) == ["zz-ma-cpts", "ondaine-forez"]


def test_cli_unknown_cpts_exit_code(capsys):
    from cpts_diag.cli import main

    assert main(["report", "nulle-part"]) == 2
    err = capsys.readouterr().err
    assert "nulle-part" in err and "ondaine-forez" in err


@pytest.mark.parametrize("params,key", [({"cpts_id": "vallee-du-gier"}, "cpts_id"),
                                        ({"output_dir": "../ailleurs"}, "output_dir"),
                                        ({"seuil": {1.5}}, "seuil")])
def test_reserved_or_non_json_parameters_are_refused_before_running(tmp_path, params, key):
    out = tmp_path / "out"
    with pytest.raises(CptsDiagError, match=rf"parameters\['{key}'\].*Correctif"):
        batch.run_batch(["ondaine-forez"], out=out, notebook=FIXTURE_NB, parameters=params,
                        progress=False)
    assert not out.exists()


@pytest.mark.parametrize("kwargs,match", [({"jobs": 0}, "jobs=0 "), ({"jobs": 99}, "jobs=99 "),
                                          ({"jobs": 2.5}, "jobs=2.5 "), ({"timeout": 0}, "timeout=0 "),
                                          ({"timeout": -3.5}, "timeout=-3.5 ")])
def test_bad_jobs_or_timeout_are_refused_before_running(tmp_path, kwargs, match):
    out = tmp_path / "out"
    with pytest.raises(CptsDiagError, match=match):
        batch.run_batch(["ondaine-forez"], out=out, notebook=FIXTURE_NB, progress=False, **kwargs)
    assert not out.exists()


@pytest.mark.parametrize("argv,match", [
    (["--jobs", "0"], "--jobs '0' : un nombre entier entre 1 et 32"),
    (["--jobs", "deux"], "--jobs 'deux'"),
    (["--timeout", "0"], "--timeout '0' : un nombre de secondes supérieur à 0"),
    (["--timeout", "dix"], "--timeout 'dix'"),
    (["--out", ""], "--out est vide"),
    (["--out", "{file}"], "--out {file} est un fichier"),
    (["--out", "{file}/sous"], "--out {file}/sous : impossible d'y créer un fichier"),
])
def test_cli_report_door_checks(tmp_path, monkeypatch, capsys, argv, match):
    from cpts_diag.cli import main

    monkeypatch.setenv(batch.NOTEBOOK_ENV, str(FIXTURE_NB))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "fichier").write_text("x", encoding="utf-8")
    file = str(tmp_path / "fichier")
    argv = [a.replace("{file}", file) for a in argv]
    assert main(["report", "ondaine-forez", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cpts-diag: erreur : ") and match.replace("{file}", file) in err
    assert "Correctif" in err and "Traceback" not in err and len(err.splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fichier"]


def test_cli_scenario_top_is_checked(capsys):
    from cpts_diag.cli import main

    assert main(["scenario", "ondaine-forez", "--top", "-1"]) == 2
    assert "--top '-1' : un nombre entier supérieur ou égal à 0" in capsys.readouterr().err


def test_cli_report_force_flag():
    from cpts_diag.cli import build_parser

    assert build_parser().parse_args(["report", "--all", "--force"]).force
    assert not build_parser().parse_args(["report", "--all"]).force


def test_default_out_dir_is_repo_outputs():
    assert batch.default_out_dir() == REPO / "outputs"


# --- atomic placement and index --------------------------------------------------------------------

def test_a_user_file_in_the_report_folder_fails_the_run_before_it_starts(tmp_path, capsys):
    out = tmp_path / "out"
    prev = out / "ondaine-forez"
    prev.mkdir(parents=True)
    (prev / "rapport.html").write_text("rapport précédent", encoding="utf-8")
    (prev / "mes-notes.txt").write_text("à garder", encoding="utf-8")
    assert batch.run_batch(["ondaine-forez"], out=out, notebook=FIXTURE_NB, progress=False) == 1
    err = capsys.readouterr().err
    assert "ÉCHEC  ondaine-forez" in err and "mes-notes.txt" in err and "--force" in err
    assert sorted(p.name for p in prev.iterdir()) == ["mes-notes.txt", "rapport.html"]
    assert (prev / "mes-notes.txt").read_text(encoding="utf-8") == "à garder"
    assert _no_build_dirs(out)


def test_a_report_in_production_elsewhere_fails_at_once_and_its_build_is_kept(tmp_path, capsys):
    from cpts_diag import outputs

    out = tmp_path / "out"
    out.mkdir()
    live = out / ".build-ondaine-forez-0123abcd"  # another batch's build, old but alive
    live.mkdir()
    os.utime(live, (1, 1))
    fd = outputs.take_lock(out, "ondaine-forez")  # that batch holds the lock
    try:
        code = batch.run_batch(["ondaine-forez"], out=out, notebook=FIXTURE_NB, timeout=0.01,
                               progress=False)
    finally:
        outputs.release_lock(fd)
    assert code == 1
    err = capsys.readouterr().err
    assert "rapport ondaine-forez déjà en cours de production par un autre processus" in err
    assert "attendez sa fin" in err
    assert live.is_dir()  # never removed by age


def _fake_report(out: Path, cid: str, name: str, values: dict):
    d = out / cid
    d.mkdir(parents=True)
    (d / "rapport.html").write_text("<html></html>", encoding="utf-8")
    inds = [{"id": k, "label": k, "unit": "", "source": "Insee, test", "vintage": "2022",
             "values": {"territory": v}} for k, v in values.items()]
    (d / "indicators.json").write_text(json.dumps({"territory": {"id": cid, "name": name,
                                                                 "communes": ["42001", "42002"]},
                                                   "indicators": inds}), encoding="utf-8")


def test_index_lists_reports_with_french_numbers(tmp_path):
    _fake_report(tmp_path, "cpts-a", "CPTS A", {"population_2022": 81432.0, "ageing_index_2022": 87.21,
                                               "apl_mg_2023": None})
    _fake_report(tmp_path, "cpts-b", "CPTS B & co", {"population_2022": 1200.0})
    (tmp_path / ".build-cpts-c-123").mkdir()  # a build in progress is not listed
    (tmp_path / "vide").mkdir()  # nor a folder without report
    path = batch.write_index(tmp_path)
    page = path.read_text(encoding="utf-8")
    assert 'href="cpts-a/rapport.html"' in page and 'href="cpts-b/rapport.html"' in page
    assert "cpts-c" not in page and ">vide<" not in page
    assert f"81{NNBSP}432" in page and "87,2" in page
    assert "n.d." in page  # missing APL shown as such, never 0
    assert "CPTS B &amp; co" in page
    assert 'lang="fr"' in page and "<script" not in page
    assert (tmp_path / ".build-cpts-c-123").is_dir()  # the index leaves a build in progress alone
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".index.html.tmp")]


def test_index_marks_a_historical_perimeter(tmp_path):
    """roannais-2019 is `replaced_by: roannais-2024` in data/cpts/: the index says it."""
    _fake_report(tmp_path, "roannais-2019", "CPTS du Roannais (2019)", {"population_2022": 150404.0})
    _fake_report(tmp_path, "roannais-2024", "CPTS du Roannais", {"population_2022": 176559.0})
    page = batch.write_index(tmp_path).read_text(encoding="utf-8")
    assert page.count("(périmètre historique)") == 1
    row_2019 = page[page.index('href="roannais-2019/rapport.html"'):page.index('href="roannais-2024/')]
    assert "(périmètre historique)" in row_2019


def test_index_apl_header_uses_the_drees_class_label(tmp_path):
    from cpts_diag.apl_params import APL_GP_CLASS_LABELS

    _fake_report(tmp_path, "cpts-a", "CPTS A", {"share_pop_apl_mg_lt_2_5_2023": 12.34})
    page = batch.write_index(tmp_path).read_text(encoding="utf-8")
    assert APL_GP_CLASS_LABELS[0] == "moins de 2,5"
    assert "Population en APL médecins généralistes moins de 2,5 (2023)" in page
    assert "12,3" in page
    assert "&lt; 2,5" not in page and "< 2,5" not in page


def test_index_links_the_pdf_when_present(tmp_path):
    _fake_report(tmp_path, "cpts-a", "CPTS A", {"population_2022": 1.0})
    _fake_report(tmp_path, "cpts-b", "CPTS B", {"population_2022": 2.0})
    (tmp_path / "cpts-b" / "rapport.pdf").write_bytes(b"%PDF-1.4")
    page = batch.write_index(tmp_path).read_text(encoding="utf-8")
    assert 'href="cpts-b/rapport.pdf"' in page and 'href="cpts-a/rapport.pdf"' not in page


def test_index_page_module_is_reexported():
    from cpts_diag import index_page
    from cpts_diag.batch import INDEX_COLUMNS, render_index, write_index

    assert (INDEX_COLUMNS, render_index, write_index) == (
        index_page.INDEX_COLUMNS, index_page.render_index, index_page.write_index)


def test_pdf_without_chromium_is_refused_before_running(tmp_path, monkeypatch):
    from cpts_diag.pdf import CHROMIUM_ENV, PdfExportError

    monkeypatch.setenv(CHROMIUM_ENV, str(tmp_path / "absent"))
    out = tmp_path / "out"
    with pytest.raises(PdfExportError, match="chromium"):
        batch.run_batch(["ondaine-forez"], out=out, notebook=FIXTURE_NB, pdf=True)
    assert not out.exists()


def test_cli_report_pdf_flag():
    from cpts_diag.cli import build_parser

    args = build_parser().parse_args(["report", "--all", "--pdf"])
    assert args.pdf and args.all
    assert not build_parser().parse_args(["report", "ondaine-forez"]).pdf


# --- notebook runs (a Jupyter kernel per CPTS) -------------------------------------------------------

@pytest.mark.slow
def test_failing_notebook_keeps_previous_report_and_names_the_error(tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    prev = out / "ondaine-forez"
    prev.mkdir(parents=True)
    (prev / "rapport.html").write_text("rapport précédent", encoding="utf-8")
    monkeypatch.setenv(batch.NOTEBOOK_ENV, str(RAISES_NB))
    code = batch.run_batch(["ondaine-forez"], out=out, progress=False)
    assert code == 1
    err = capsys.readouterr().err
    assert "ÉCHEC" in err and "ondaine-forez" in err
    assert "RuntimeError: le calcul a échoué pour ondaine-forez" in err
    assert (prev / "rapport.html").read_text(encoding="utf-8") == "rapport précédent"
    assert _no_build_dirs(out)


@pytest.mark.slow
def test_batch_keeps_going_after_a_failure(tmp_path, capsys):
    out = tmp_path / "out"
    code = batch.run_batch(["ondaine-forez", "vallee-du-gier", "grand-saint-etienne"], jobs=2, out=out,
                           notebook=FIXTURE_NB, parameters={"fail_for": "vallee-du-gier"},
                           progress=False)
    assert code == 1
    captured = capsys.readouterr()
    assert "ValueError: échec volontaire pour vallee-du-gier" in captured.err
    assert "ÉCHEC pour 1 CPTS : vallee-du-gier" in captured.err
    for cid in ("ondaine-forez", "grand-saint-etienne"):
        assert (out / cid / "rapport.html").is_file()
        assert (out / cid / "rapport.ipynb").is_file()
        assert json.loads((out / cid / "indicators.json").read_text())["territory"]["id"] == cid
        page = (out / cid / "rapport.html").read_text(encoding="utf-8")
        assert "Rapport factice de " + cid in page
        assert "time.sleep" not in page  # no input code
    assert not (out / "vallee-du-gier").exists()
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "ondaine-forez/rapport.html" in index and "vallee-du-gier" not in index
    assert _no_build_dirs(out)


@pytest.mark.slow
def test_timeout_stops_the_notebook_and_cleans_up(tmp_path, capsys):
    out = tmp_path / "out"
    code = batch.run_batch(["ondaine-forez"], out=out, notebook=FIXTURE_NB, timeout=4,
                           parameters={"sleep_s": 60}, progress=False)
    assert code == 1
    assert "délai dépassé" in capsys.readouterr().err
    assert not (out / "ondaine-forez").exists() and _no_build_dirs(out)


@pytest.mark.slow
def test_notebook_without_indicators_json_fails_clearly(tmp_path, capsys):
    """A notebook that does not write indicators.json (output_dir ignored) is not a report."""
    import nbformat

    nb = nbformat.read(str(FIXTURE_NB), as_version=4)
    nb.cells[1].source = "print('rien')"
    path = tmp_path / "sans_sortie.ipynb"
    nbformat.write(nb, str(path))
    out = tmp_path / "out"
    assert batch.run_batch(["ondaine-forez"], out=out, notebook=path, progress=False) == 1
    assert "indicators.json" in capsys.readouterr().err
    assert not (out / "ondaine-forez").exists() and _no_build_dirs(out)
    assert sorted(os.listdir(out)) == [".lock-index", ".lock-ondaine-forez", "index.html"]


@pytest.mark.slow
def test_stale_build_is_removed_under_the_lock_and_a_busy_cpts_does_not_stop_the_others(tmp_path):
    from cpts_diag import outputs

    out = tmp_path / "out"
    out.mkdir()
    stale = out / ".build-ondaine-forez-dead0001"  # fresh, but nobody holds its lock: stale
    live = out / ".build-vallee-du-gier-0123abcd"  # its lock is held: alive
    for d in (stale, live):
        d.mkdir()
    fd = outputs.take_lock(out, "vallee-du-gier")
    try:
        code = batch.run_batch(["ondaine-forez", "vallee-du-gier"], out=out, notebook=FIXTURE_NB,
                               progress=False)
    finally:
        outputs.release_lock(fd)
    assert code == 1
    assert not stale.exists() and live.is_dir()
    assert (out / "ondaine-forez" / "rapport.html").is_file()
    assert (out / "ondaine-forez" / outputs.MANIFEST_NAME).is_file()
    assert not (out / "vallee-du-gier").exists()


@pytest.mark.slow
def test_force_keeps_the_user_files_beside_the_new_report(tmp_path, capsys):
    from cpts_diag.cli import main

    out = tmp_path / "out"
    prev = out / "ondaine-forez"
    prev.mkdir(parents=True)
    (prev / "rapport.html").write_text("rapport précédent", encoding="utf-8")
    (prev / "mes-notes.txt").write_text("à garder", encoding="utf-8")
    (prev / "indicators.json").write_text("{}", encoding="utf-8")
    (out / "index.html").write_text("<p>mon sommaire</p>", encoding="utf-8")
    os.environ[batch.NOTEBOOK_ENV] = str(FIXTURE_NB)
    try:
        assert main(["report", "ondaine-forez", "--out", str(out), "--force"]) == 0
    finally:
        del os.environ[batch.NOTEBOOK_ENV]
    assert "mes-notes.txt" in capsys.readouterr().out
    assert (prev / "mes-notes.txt").read_text(encoding="utf-8") == "à garder"
    assert "Rapport factice de ondaine-forez" in (prev / "rapport.html").read_text(encoding="utf-8")
    assert (out / "index.html.avant-cpts-diag").read_text(encoding="utf-8") == "<p>mon sommaire</p>"
    assert "ondaine-forez/rapport.html" in (out / "index.html").read_text(encoding="utf-8")
    assert _no_build_dirs(out)


def _descendants(pid: int):
    import psutil

    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


@pytest.mark.slow
@pytest.mark.parametrize("sig,code,name", [(signal.SIGTERM, 143, "SIGTERM"), (signal.SIGINT, 130, "SIGINT")])
def test_signal_stops_workers_and_kernels_and_keeps_the_previous_report(tmp_path, sig, code, name):
    import psutil

    out = tmp_path / "out"
    prev = out / "ondaine-forez"
    prev.mkdir(parents=True)
    (prev / "rapport.html").write_text("rapport précédent", encoding="utf-8")
    env = {**os.environ, batch.NOTEBOOK_ENV: str(SLEEPS_NB)}
    proc = subprocess.Popen([sys.executable, "-m", "cpts_diag.cli", "report", "ondaine-forez",
                             "vallee-du-gier", "--jobs", "2", "--out", str(out)], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:  # both builds exist and their kernels run
            kernels = [p for p in _descendants(proc.pid) if "ipykernel_launcher" in " ".join(p.cmdline())]
            if len(kernels) == 2 and len(list(out.glob(".build-*"))) == 2:
                break
            time.sleep(0.2)
        else:
            pytest.fail("les noyaux ne démarrent pas")
        time.sleep(1)
        children = _descendants(proc.pid)
        proc.send_signal(sig)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == code
    assert "Traceback" not in stderr and stdout == ""
    assert stderr.splitlines() == [f"cpts-diag: interrompu ({name}) : 0 rapport(s) terminé(s), "
                                   "en cours abandonnés, rapports précédents conservés"]
    _, alive = psutil.wait_procs(children, timeout=5)
    assert alive == []  # no orphan worker or kernel
    assert _no_build_dirs(out) and not (out / "vallee-du-gier").exists()
    assert sorted(p.name for p in prev.iterdir()) == ["rapport.html"]
    assert (prev / "rapport.html").read_text(encoding="utf-8") == "rapport précédent"
    assert not (out / "index.html").exists()  # nothing finished: no index


def _has_chromium() -> bool:
    from cpts_diag.pdf import PdfExportError, find_chromium

    try:
        return bool(find_chromium())
    except PdfExportError:
        return False


@pytest.mark.slow
@pytest.mark.skipif(not _has_chromium(), reason="Chromium absent: apt-get install chromium (.ci/run does it)")
def test_batch_with_pdf_writes_the_pdf_beside_the_html(tmp_path, capsys):
    out = tmp_path / "out"
    assert batch.run_batch(["ondaine-forez"], out=out, notebook=FIXTURE_NB, pdf=True, progress=False) == 0
    pdf = out / "ondaine-forez" / "rapport.pdf"
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert "ondaine-forez/rapport.pdf" in capsys.readouterr().out
    assert 'href="ondaine-forez/rapport.pdf"' in (out / "index.html").read_text(encoding="utf-8")
    assert _no_build_dirs(out)


@pytest.mark.slow
def test_failing_pdf_fails_its_report_and_keeps_the_previous_one(tmp_path, monkeypatch, capsys):
    from cpts_diag.pdf import CHROMIUM_ENV

    fake = tmp_path / "faux-chromium"
    fake.write_text("#!/bin/sh\necho 'moteur en panne' >&2\nexit 5\n", encoding="utf-8")
    fake.chmod(0o755)
    monkeypatch.setenv(CHROMIUM_ENV, str(fake))
    out = tmp_path / "out"
    prev = out / "ondaine-forez"
    prev.mkdir(parents=True)
    (prev / "rapport.html").write_text("rapport précédent", encoding="utf-8")
    code = batch.run_batch(["ondaine-forez"], out=out, notebook=FIXTURE_NB, pdf=True, progress=False)
    assert code == 1
    err = capsys.readouterr().err
    assert "ÉCHEC pour 1 CPTS : ondaine-forez" in err
    assert "PdfExportError" in err and "moteur en panne" in err
    assert (prev / "rapport.html").read_text(encoding="utf-8") == "rapport précédent"
    assert not (prev / "rapport.pdf").exists() and _no_build_dirs(out)
