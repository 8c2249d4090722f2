"""Ownership of the output folder (cpts_diag.outputs): manifest, foreign files, swap with and
without force, locks, stale work folders, index.html, signals and the door checks of a batch.

Tiny folders under tmp_path only; no notebook, no data."""
from __future__ import annotations

import hashlib
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cpts_diag import door_checks, outputs
from cpts_diag.errors import CptsDiagError
from cpts_diag.outputs import (
    MANIFEST_NAME,
    BatchInterrupted,
    OutputOwnershipError,
    ReportBusyError,
    SignalGuard,
)


pytestmark = pytest.mark.adversarial  # hostile inputs (see tests/adversarial)


def _write(folder: Path, files: dict) -> None:
    for rel, text in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text, encoding="utf-8")


def _tree(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _report(folder: Path, cid: str = "cpts-a", tag: str = "v1", manifest: bool = True) -> Path:
    _write(folder, {"rapport.html": f"<html>{tag}</html>", "indicators.json": "{}",
                    "figures/carte.png": tag, "tables/communes.csv": tag})
    if manifest:
        outputs.write_manifest(folder, cid)
    return folder


# --- manifest and foreign files ------------------------------------------------------------------

def test_manifest_lists_every_file_with_size_and_sha256(tmp_path):
    build = _report(tmp_path / "b", "cpts-a")
    data = json.loads((build / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert data["format"] == outputs.MANIFEST_FORMAT == 1 and data["cpts_id"] == "cpts-a"
    from cpts_diag import __version__

    assert data["cpts_diag_version"] == __version__
    assert data["written_at"][:4].isdigit() and "T" in data["written_at"]  # ISO 8601
    paths = [f["path"] for f in data["files"]]
    assert paths == ["figures/carte.png", "indicators.json", "rapport.html", "tables/communes.csv"]
    html = next(f for f in data["files"] if f["path"] == "rapport.html")
    assert html["size"] == len(b"<html>v1</html>")
    assert html["sha256"] == hashlib.sha256(b"<html>v1</html>").hexdigest()
    assert outputs.read_manifest(build)["files"] == data["files"]


def test_foreign_files_with_a_manifest_are_those_it_does_not_list(tmp_path):
    folder = _report(tmp_path / "r")
    _write(folder, {"notes.txt": "à moi", "figures/ma-carte.png": "perso", "rapport.pdf": "%PDF"})
    # rapport.pdf is a report name, but this run did not write it: the manifest decides
    assert outputs.foreign_files(folder) == ["figures/ma-carte.png", "notes.txt", "rapport.pdf"]


def test_foreign_files_without_manifest_use_the_report_layout(tmp_path):
    folder = tmp_path / "ancien"
    real_layout = ["rapport.html", "rapport.pdf", "rapport.ipynb", "indicators.json", "tableaux.xlsx",
                   "figures/carte_apl_mg.png", "figures/carte_apl_mg.json", "tables/communes.csv"]
    _write(folder, {rel: "x" for rel in real_layout})
    _write(folder, {"notes.txt": "u", "figures/lisez-moi.txt": "u", "tables/sous/t.csv": "u",
                    ".cache": "u", "rapport.html.bak": "u"})
    assert outputs.foreign_files(folder) == [".cache", "figures/lisez-moi.txt", "notes.txt",
                                             "rapport.html.bak", "tables/sous/t.csv"]
    assert outputs.foreign_files(tmp_path / "absent") == []


def test_unreadable_manifest_falls_back_to_the_layout(tmp_path):
    folder = _report(tmp_path / "r", manifest=False)
    (folder / MANIFEST_NAME).write_text("{pas du json", encoding="utf-8")
    _write(folder, {"notes.txt": "u"})
    assert outputs.read_manifest(folder) is None
    assert outputs.foreign_files(folder) == ["notes.txt"]


# --- swap ----------------------------------------------------------------------------------------

def _build(tmp_path: Path, tag: str = "v2") -> Path:
    return _report(tmp_path / f".build-cpts-a-{'0' * 8}", tag=tag)


def test_swap_replaces_the_previous_report_files(tmp_path):
    final = _report(tmp_path / "cpts-a", tag="v1")
    _write(final, {"rapport.pdf": "ancien pdf"})  # written by the previous run (listed below)
    outputs.write_manifest(final, "cpts-a")
    assert outputs.swap_into_place(_build(tmp_path), final) == []
    tree = _tree(final)
    assert tree["rapport.html"] == "<html>v2</html>" and "rapport.pdf" not in tree
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cpts-a"]  # no .build-/.old- left


def test_swap_refuses_a_folder_with_foreign_files_and_changes_nothing(tmp_path):
    final = _report(tmp_path / "cpts-a", tag="v1")
    _write(final, {f"note{i}.txt": "u" for i in range(7)})
    before = _tree(final)
    build = _build(tmp_path)
    with pytest.raises(OutputOwnershipError) as exc:
        outputs.swap_into_place(build, final)
    msg = str(exc.value)
    assert "7 fichier(s)" in msg and "note0.txt, note1.txt, note2.txt, note3.txt, note4.txt" in msg
    assert "note5.txt" not in msg and "(et 2 autre(s))" in msg
    assert "déplacez-les, ou relancez avec --force" in msg
    assert "ils seront conservés à côté du nouveau rapport" in msg
    assert _tree(final) == before and build.is_dir()


def test_swap_with_force_keeps_foreign_files_and_renames_a_collision(tmp_path):
    final = _report(tmp_path / "cpts-a", tag="v1")  # with its manifest; then the user adds:
    _write(final, {"notes.txt": "mes notes", "figures/perso/plan.png": "plan", "annexe.md": "annexe"})
    build = _build(tmp_path)
    _write(build, {"annexe.md": "nouvelle annexe du rapport"})
    outputs.write_manifest(build, "cpts-a")
    kept = outputs.swap_into_place(build, final, force=True)
    assert sorted(kept) == ["annexe.md.avant-cpts-diag", "figures/perso/plan.png", "notes.txt"]
    tree = _tree(final)
    assert tree["annexe.md"] == "nouvelle annexe du rapport"
    assert tree["annexe.md.avant-cpts-diag"] == "annexe"
    assert tree["notes.txt"] == "mes notes" and tree["figures/perso/plan.png"] == "plan"
    assert tree["rapport.html"] == "<html>v2</html>"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cpts-a"]


def test_swap_into_an_absent_folder(tmp_path):
    build = _build(tmp_path)
    assert outputs.swap_into_place(build, tmp_path / "cpts-a") == []
    assert _tree(tmp_path / "cpts-a")["rapport.html"] == "<html>v2</html>" and not build.exists()


@pytest.mark.parametrize("kind", ["file", "symlink"])
def test_swap_refuses_a_file_or_a_symlink_target(tmp_path, kind):
    final = tmp_path / "cpts-a"
    elsewhere = _report(tmp_path / "ailleurs", tag="autre")
    if kind == "file":
        final.write_text("un fichier", encoding="utf-8")
    else:
        final.symlink_to(elsewhere, target_is_directory=True)
    build = _build(tmp_path)
    for force in (False, True):
        with pytest.raises(OutputOwnershipError, match="fichier|lien symbolique") as exc:
            outputs.swap_into_place(build, final, force=force)
        assert "Correctif" in str(exc.value)
    assert (final.read_text(encoding="utf-8") == "un fichier") if kind == "file" else final.is_symlink()
    assert _tree(elsewhere)["rapport.html"] == "<html>autre</html>" and build.is_dir()


def test_failed_swap_keeps_the_previous_report_and_the_user_files(tmp_path, monkeypatch):
    final = _report(tmp_path / "cpts-a", tag="v1")
    _write(final, {"notes.txt": "mes notes"})
    before = _tree(final)
    build = _build(tmp_path)
    real_rename = os.rename

    def rename(src, dst):
        if Path(src) == build and Path(dst) == final:
            raise OSError(28, "No space left on device")
        return real_rename(src, dst)

    monkeypatch.setattr(outputs.os, "rename", rename)
    with pytest.raises(OSError):
        outputs.swap_into_place(build, final, force=True)
    assert _tree(final) == before  # previous report and the user's notes, in place
    assert "notes.txt" not in _tree(build)
    assert sorted(p.name for p in tmp_path.iterdir()) == [build.name, "cpts-a"]


# --- locks and stale work folders ----------------------------------------------------------------

def test_lock_is_exclusive_between_two_descriptors(tmp_path):
    fd = outputs.take_lock(tmp_path, "cpts-a")
    try:
        with pytest.raises(ReportBusyError) as exc:
            outputs.take_lock(tmp_path, "cpts-a")
        assert "rapport cpts-a déjà en cours de production par un autre processus" in str(exc.value)
        assert "correctif : attendez sa fin" in str(exc.value)
        outputs.release_lock(outputs.take_lock(tmp_path, "cpts-b"))  # another CPTS is free
    finally:
        outputs.release_lock(fd)
    outputs.release_lock(outputs.take_lock(tmp_path, "cpts-a"))  # released: free again
    assert (tmp_path / ".lock-cpts-a").is_file()


def test_lock_held_by_another_process(tmp_path):
    code = ("import sys, time; from pathlib import Path; from cpts_diag import outputs; "
            "outputs.take_lock(Path(sys.argv[1]), 'cpts-a'); print('pris', flush=True); time.sleep(30)")
    proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout.readline().strip() == "pris"
        with pytest.raises(ReportBusyError):
            outputs.take_lock(tmp_path, "cpts-a")
        t = time.monotonic()
        with pytest.raises(ReportBusyError):  # waits, then gives up
            outputs.take_lock(tmp_path, "cpts-a", wait=0.3)
        assert time.monotonic() - t >= 0.3
    finally:
        proc.kill()
        proc.wait()
    outputs.release_lock(outputs.take_lock(tmp_path, "cpts-a"))  # the dead process held nothing


def test_remove_stale_touches_only_the_work_folders_of_that_id(tmp_path):
    fresh = tmp_path / ".build-cpts-a-0123abcd"  # just created: age does not matter
    other = tmp_path / ".build-cpts-a-b-0123abcd"  # id "cpts-a-b", not "cpts-a"
    odd = tmp_path / ".build-cpts-a-pasunhex"
    for d in (fresh, other, odd):
        _write(d, {"rapport.html": "x"})
    _report(tmp_path / "cpts-a")
    assert outputs.remove_stale(tmp_path, "cpts-a") == [fresh]
    assert not fresh.exists() and other.exists() and odd.exists() and (tmp_path / "cpts-a").exists()


def test_remove_stale_restores_a_report_left_aside_by_a_killed_swap(tmp_path):
    old = _report(tmp_path / ".old-cpts-a-0000beef", tag="v1")
    build = _build(tmp_path)  # complete, manifest written, holding a user file being carried
    _write(build, {"notes.txt": "mes notes"})
    assert outputs.remove_stale(tmp_path, "cpts-a") == [old, build]
    tree = _tree(tmp_path / "cpts-a")
    assert tree["rapport.html"] == "<html>v1</html>" and tree["notes.txt"] == "mes notes"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cpts-a"]


# --- index ---------------------------------------------------------------------------------------

def _fake_report_for_index(out: Path) -> None:
    _write(out / "cpts-a", {"rapport.html": "<html></html>", "indicators.json": json.dumps(
        {"territory": {"id": "cpts-a", "name": "CPTS A"}, "indicators": []})})


def test_index_written_by_someone_else_is_not_overwritten(tmp_path):
    from cpts_diag.index_page import write_index

    _fake_report_for_index(tmp_path)
    index = tmp_path / "index.html"
    index.write_text("<html>mon sommaire</html>", encoding="utf-8")
    with pytest.raises(OutputOwnershipError) as exc:
        write_index(tmp_path)
    assert str(index) in str(exc.value) and "--force" in str(exc.value)
    assert index.read_text(encoding="utf-8") == "<html>mon sommaire</html>"
    write_index(tmp_path, force=True)
    assert 'content="cpts-diag' in index.read_text(encoding="utf-8")
    assert (tmp_path / "index.html.avant-cpts-diag").read_text(encoding="utf-8") == "<html>mon sommaire</html>"
    write_index(tmp_path)  # ours now: rewritten without force
    assert outputs.claim_index(index) is None


def test_index_write_waits_for_the_index_lock(tmp_path, monkeypatch):
    from cpts_diag import index_page

    monkeypatch.setattr(index_page, "INDEX_LOCK_WAIT", 0.2)
    with outputs.locked(tmp_path, "index"):
        with pytest.raises(ReportBusyError, match="l'index déjà en cours"):
            index_page.write_index(tmp_path)
        assert not (tmp_path / "index.html").exists()
    assert index_page.write_index(tmp_path).is_file()


# --- signals -------------------------------------------------------------------------------------

def test_signal_guard_raises_defers_and_restores():
    before = signal.getsignal(signal.SIGTERM)
    with SignalGuard() as guard:
        with pytest.raises(BatchInterrupted) as exc:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(1)
        assert exc.value.exit_code == 143
        assert str(exc.value).startswith("interrompu (SIGTERM) : 0 rapport(s) terminé(s)")
    assert signal.getsignal(signal.SIGTERM) is before
    reached = []
    with SignalGuard() as guard:
        with pytest.raises(BatchInterrupted) as exc:
            with guard.critical():
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.2)
                reached.append("fin de la section")  # not cut in the middle
        assert exc.value.exit_code == 130 and reached == ["fin de la section"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


# --- door checks ---------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [0, -1, 33, True, 2.0, "abc", "", None])
def test_check_jobs_refuses(value):
    with pytest.raises(CptsDiagError, match="--jobs .*entre 1 et 32.*Correctif"):
        door_checks.check_jobs(value, "--jobs")


def test_check_jobs_and_timeout_accept():
    assert door_checks.check_jobs("4", "--jobs") == 4 and door_checks.check_jobs(32) == 32
    assert door_checks.check_timeout("90,5") == 90.5 and door_checks.check_timeout(1) == 1.0


@pytest.mark.parametrize("value", [0, -5, math.nan, math.inf, True, "abc", "0", None])
def test_check_timeout_refuses(value):
    with pytest.raises(CptsDiagError, match="timeout=.*supérieur à 0.*Correctif : timeout=600"):
        door_checks.check_timeout(value)


@pytest.mark.parametrize("params,key", [
    ({"cpts_id": "vallee-du-gier"}, "'cpts_id'"), ({"output_dir": "/tmp"}, "'output_dir'"),
    ({"x": {1, 2}}, "'x'"), ({"x": object()}, "'x'"), ({"x": math.nan}, "'x'"),
    ({"mon-param": 1}, "'mon-param'"), ({3: 1}, "3")])
def test_check_parameters_refuses(params, key):
    with pytest.raises(CptsDiagError) as exc:
        door_checks.check_parameters(params)
    assert f"parameters[{key}]" in str(exc.value) and "Correctif" in str(exc.value)


def test_check_parameters_accepts_json_values():
    params = {"apl_year": 2023, "scenario": "/x.yaml", "t": [1, {"a": None}]}
    assert door_checks.check_parameters(params) == params and door_checks.check_parameters(None) == {}


def test_check_out_dir(tmp_path):
    a_file = tmp_path / "fichier"
    a_file.write_text("x", encoding="utf-8")
    for bad, what in [("", "est vide"), ("  ", "est vide"), (a_file, "est un fichier"),
                      (a_file / "sous-dossier", "un élément du chemin est un fichier")]:
        with pytest.raises(CptsDiagError, match=what):
            door_checks.check_out_dir(bad, "--out")
    new = door_checks.check_out_dir(tmp_path / "a" / "b", "--out")
    assert new.is_dir() and list(new.iterdir()) == []  # the probe file is gone


def test_remove_own_files_keeps_user_and_edited_files(tmp_path):
    """By hand: a report folder with a manifest listing rapport.html and figures/a.png (both as
    written), tableaux.xlsx (edited since) and a user's notes.txt: only the first two go."""
    import hashlib
    import json

    d = tmp_path / "cpts-a"
    (d / "figures").mkdir(parents=True)
    for rel, text in (("rapport.html", "r"), ("figures/a.png", "p"), ("tableaux.xlsx", "t"),
                      ("notes.txt", "à moi")):
        (d / rel).write_text(text)
    files = [{"path": rel, "sha256": hashlib.sha256(t.encode()).hexdigest()}
             for rel, t in (("rapport.html", "r"), ("figures/a.png", "p"), ("tableaux.xlsx", "t0"))]
    (d / outputs.MANIFEST_NAME).write_text(json.dumps({"format": 1, "files": files}))
    removed, kept = outputs.remove_own_files(d)
    assert sorted(removed) == ["figures/a.png", "rapport.html"]
    assert sorted(kept) == ["notes.txt", "tableaux.xlsx"]
    assert not (d / "figures").exists() and (d / "notes.txt").read_text() == "à moi"
    # without manifest (older version): the report layout only; then the empty folder goes
    e = tmp_path / "cpts-b"
    (e / "tables").mkdir(parents=True)
    (e / "rapport.html").write_text("r")
    (e / "tables" / "t.csv").write_text("c")
    assert outputs.remove_own_files(e) == (["rapport.html", "tables/t.csv"], [])
    assert not e.exists()
