"""A newcomer's first hour: a broken .venv is rebuilt, `make clean` removes only what the project
wrote, and the batch writes plain lines (no progress-bar carriage returns) to a pipe or a file.

The venv checks run ``tools/check_venv.sh`` on hand-built fake venvs in a temporary folder (never
on the real ``.venv``); the Makefile checks run ``make`` on a copy of the Makefile in a temporary
folder.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cpts_diag import batch

REPO = Path(__file__).resolve().parents[2]
CHECK = REPO / "tools" / "check_venv.sh"
FIXTURE_NB = REPO / "tests" / "fixtures" / "notebooks" / "fixture.ipynb"
needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="make absent")


# --- tools/check_venv.sh -----------------------------------------------------------------------

def _fake_venv(root: Path, python: str | None, marker: bool = True) -> Path:
    """A folder laid out like a venv whose bin/python is the shell script ``python``."""
    venv = root / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "lib").mkdir()
    if python is not None:
        exe = venv / "bin" / "python"
        exe.write_text("#!/bin/sh\n" + python, encoding="utf-8")
        exe.chmod(0o755)
    if marker:
        (venv / ".installed").write_text("")
    return venv


def _check(venv: Path, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["sh", str(CHECK), str(venv)], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


# A Python 3.10: fails the version test, prints its version.
PY310 = 'case "$*" in *version_info*) exit 1;; -V) echo "Python 3.10.13";; *) exit 0;; esac\n'
# A Python >= 3.11 (version test passes) whose import probe (run with -I) fails.
PY_BROKEN = ('case "$1" in -I) echo Traceback; echo "ModuleNotFoundError: No module named pandas"; exit 1;;'
             ' *) exit 0;; esac\n')


@pytest.mark.parametrize("python, marker, reason", [
    (None, True, "bin/python absent"),
    (PY310, True, "créé par Python 3.10.13, Python ≥ 3.11 requis"),
    ("exit 0\n", False, "installation interrompue : pas de"),
    (PY_BROKEN, True, "ne s'importe plus : ModuleNotFoundError: No module named pandas)"),
])
def test_broken_venv_is_removed_with_one_line(tmp_path, python, marker, reason):
    venv = _fake_venv(tmp_path, python, marker)
    res = _check(venv, tmp_path)
    assert res.returncode == 0, res.stderr
    assert not venv.exists()
    lines = res.stdout.splitlines()
    assert len(lines) == 1 and reason in lines[0] and "supprimé, réinstallation" in lines[0]
    assert res.stderr == ""


def test_no_venv_yet_is_left_to_make(tmp_path):
    res = _check(tmp_path / "venv", tmp_path)
    assert (res.returncode, res.stdout, res.stderr) == (0, "", "")


def _venv_running_this_python(tmp_path: Path) -> Path:
    """A marked venv whose python is the interpreter running the tests (cpts_diag installed)."""
    return _fake_venv(tmp_path, f'exec "{sys.executable}" "$@"\n')


def test_working_venv_is_kept(tmp_path):
    venv = _venv_running_this_python(tmp_path)
    res = _check(venv, REPO)  # run from this checkout, as make does
    assert (res.returncode, res.stdout, res.stderr) == (0, "", "")
    assert (venv / ".installed").exists()


def test_venv_bound_to_another_checkout_is_rebuilt(tmp_path):
    """Its cpts_diag is not the one of the checkout make runs in (a copied or moved checkout)."""
    venv = _venv_running_this_python(tmp_path)
    other = tmp_path / "autre-copie"
    other.mkdir()
    res = _check(venv, other)
    assert not venv.exists()
    assert f"ne s'importe plus : cpts_diag (celui de {REPO.resolve() / 'cpts_diag'})" in res.stdout


# --- Makefile ------------------------------------------------------------------------------------

def _touch(root: Path, *rels: str) -> None:
    for rel in rels:
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("x", encoding="utf-8")


@needs_make
def test_make_clean_removes_only_what_the_project_wrote(tmp_path):
    shutil.copy(REPO / "Makefile", tmp_path / "Makefile")
    shutil.copytree(REPO / "cpts_diag", tmp_path / "cpts_diag",
                    ignore=shutil.ignore_patterns("__pycache__"))
    package = {str(p.relative_to(tmp_path)) for p in (tmp_path / "cpts_diag").rglob("*") if p.is_file()}
    kept = {"data/.gitkeep", "data/cpts/cpts-a.yaml", "data/cpts/ma-cpts.yaml",
            "geo/.gitkeep", "outputs/.gitkeep", "outputs/notes.txt", "outputs/mon-etude/carte.png",
            "outputs/cpts-a/mes-notes.txt",  # the user's file in a report folder
            "outputs/ma-cpts/tableaux.xlsx"}  # a report file edited since the report was written
    removed = {".venv/bin/python", ".venv/.installed", "cpts_diag.egg-info/PKG-INFO",
               "data/README.md", "data/SHA256SUMS", "data/insee/population.csv",
               "data/.cache/population.parquet", "data/cpts/perimetres_sources.csv",
               "geo/communes_8dep.geojson", "outputs/cpts-a/rapport.html",
               "outputs/ma-cpts/figures/carte.png", "outputs/ma-cpts/rapport.html",
               "outputs/.build-cpts-a-0123abcd/rapport.ipynb", "outputs/.lock-cpts-a"}
    _touch(tmp_path, *kept, *removed)
    # ma-cpts has a manifest (sha256 of "x" for its two files); its workbook was edited since
    x = hashlib.sha256(b"x").hexdigest()
    (tmp_path / "outputs/ma-cpts/.cpts-diag-manifest.json").write_text(json.dumps({"format": 1, "files": [
        {"path": p, "size": 1, "sha256": x} for p in ("rapport.html", "figures/carte.png", "tableaux.xlsx")]}))
    (tmp_path / "outputs/ma-cpts/tableaux.xlsx").write_text("modifié à la main")
    (tmp_path / "outputs/index.html").write_text('<meta name="generator" content="cpts-diag">')
    res = subprocess.run(["make", "clean"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    left = {str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts}
    assert left == kept | package | {"Makefile", "outputs/ma-cpts/.cpts-diag-manifest.json"}
    assert not (tmp_path / "outputs" / "ma-cpts" / "figures").exists()  # emptied: removed
    assert not (tmp_path / ".venv").exists()
    # an index the user wrote is not the project's: kept
    (tmp_path / "outputs/index.html").write_text("<h1>mon index</h1>")
    res = subprocess.run(["make", "clean"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and (tmp_path / "outputs/index.html").exists()


@needs_make
def test_make_refuses_an_old_python_in_one_line(tmp_path):
    shutil.copy(REPO / "Makefile", tmp_path / "Makefile")
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(REPO / "tools", tmp_path / "tools")
    old = tmp_path / "python3.10"
    old.write_text("#!/bin/sh\n" + 'case "$*" in *platform*) echo "Python 3.10.13";; *) exit 1;; esac\n')
    old.chmod(0o755)
    res = subprocess.run(["make", "reports", f"PYTHON={old}"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=60)
    assert res.returncode != 0
    ours = [ln for ln in (res.stdout + res.stderr).splitlines() if not ln.startswith("make")]
    assert ours == [f"Python ≥ 3.11 requis ({old} : Python 3.10.13) : PYTHON=python3.11 make reports"]
    assert not (tmp_path / ".venv").exists()


# --- batch output in a pipe ----------------------------------------------------------------------

LINE = re.compile(r"^\[(\d+)/(\d+)\] (\S+) (OK|ÉCHEC) \((\d+,\d) s\)$")


def test_progress_prints_plain_lines_when_stderr_is_not_a_tty(monkeypatch):
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    progress = batch._Progress(2)
    progress.running(["cpts-a", "cpts-b"])
    progress.finished(batch.Outcome("cpts-b", False, 3.04, "boom"), ["cpts-a"])
    progress.finished(batch.Outcome("cpts-a", True, 1234.56), [])
    progress.close()
    assert err.getvalue() == "[1/2] cpts-b ÉCHEC (3,0 s)\n[2/2] cpts-a OK (1\u202f234,6 s)\n"


def test_progress_uses_the_bar_on_a_tty(monkeypatch):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    for enabled in (True, False):
        err = Tty()
        monkeypatch.setattr(sys, "stderr", err)
        progress = batch._Progress(1, enabled=enabled)
        progress.finished(batch.Outcome("cpts-a", True, 1.0), [])
        progress.close()
        if enabled:  # the tqdm bar, redrawn in place
            assert "Rapports" in err.getvalue() and "\r" in err.getvalue()
            assert "[1/1]" not in err.getvalue()
        else:  # progress=False (bench, tests): nothing at all
            assert err.getvalue() == ""


@pytest.mark.slow
def test_batch_in_a_pipe_writes_one_line_per_cpts(tmp_path):
    """`cpts-diag report` with stdout and stderr piped (as in `make reports > log 2>&1`)."""
    ids = ["ondaine-forez", "vallee-du-gier", "grand-saint-etienne"]
    env = {**os.environ, batch.NOTEBOOK_ENV: str(FIXTURE_NB)}
    res = subprocess.run([sys.executable, "-m", "cpts_diag.cli", "report", *ids, "--jobs", "2",
                          "--out", str(tmp_path / "out")], capture_output=True, text=True, env=env,
                         cwd=tmp_path, timeout=300)
    assert res.returncode == 0, res.stderr
    assert "\r" not in res.stderr and "\r" not in res.stdout
    lines = res.stderr.splitlines()
    matches = [LINE.match(ln) for ln in lines]
    assert all(matches), lines  # nothing else on stderr (no bar, no warning)
    assert sorted(m.group(3) for m in matches) == sorted(ids)  # one line per CPTS
    assert [m.group(1) for m in matches] == ["1", "2", "3"] and {m.group(2) for m in matches} == {"3"}
    assert {m.group(4) for m in matches} == {"OK"}
    assert res.stdout.startswith("3 rapport(s) produit(s) sur 3 en ")


def test_a_healthy_venv_given_by_a_relative_path_is_kept(tmp_path):
    """`make` passes `.venv` (relative): the import probe runs from `/`, so the interpreter must be
    called by its absolute path, or every second `make` deletes a working environment."""
    shutil.copytree(REPO / "tools", tmp_path / "tools")
    py = tmp_path / "v" / "bin" / "python"
    py.parent.mkdir(parents=True)
    py.write_text("#!/bin/sh\nexit 0\n")  # passes the version check and the probe
    py.chmod(0o755)
    (tmp_path / "v" / ".installed").write_text("")
    res = subprocess.run(["sh", "tools/check_venv.sh", "v"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=60)
    assert res.returncode == 0 and res.stdout == "" and res.stderr == ""
    assert py.exists()
