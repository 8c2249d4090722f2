"""Incremental regeneration: inputs fingerprint, « à jour » check, skipped reports, --rebuild.

Hashes are computed here by hand (hashlib on the bytes written by the test); the batch runs use
the fixture notebook of tests/fixtures/notebooks (one Jupyter kernel per built report). A rebuilt
report is a new folder swapped in place: its rapport.html has a new inode.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest

from cpts_diag import batch, inputs_fingerprint as fp, outputs

FIXTURE_NB = Path(__file__).resolve().parents[1] / "fixtures" / "notebooks" / "fixture.ipynb"
A, B = "ondaine-forez", "vallee-du-gier"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- fingerprint (pure) --------------------------------------------------------------------------

def test_parameters_hash_is_canonical_json():
    a = fp.common_inputs(FIXTURE_NB, {"b": 1, "a": [1, 2]}, False)
    b = fp.common_inputs(FIXTURE_NB, {"a": [1, 2], "b": 1}, False)
    assert a["parameters"] == b["parameters"] == _sha(b'{"a":[1,2],"b":1}')
    assert fp.common_inputs(FIXTURE_NB, {"a": [1, 2], "b": 2}, False)["parameters"] != a["parameters"]
    assert a["notebook"] == _sha(FIXTURE_NB.read_bytes())
    assert fp.common_inputs(FIXTURE_NB, None, True)["pdf"] is True
    assert fp.common_inputs(FIXTURE_NB, None, False)["parameters"] == _sha(b"{}")


def test_data_hash_is_the_sha256sums_file(tmp_path, monkeypatch):
    monkeypatch.setenv("CPTS_DIAG_DATA", str(tmp_path))
    assert fp.data_inputs() is None  # no snapshot installed: None, still compared
    (tmp_path / "SHA256SUMS").write_bytes(b"abc  cog/communes.csv\n")
    assert fp.data_inputs() == _sha(b"abc  cog/communes.csv\n")


def test_territory_hash_is_the_yaml_bytes_and_its_health_tables(tmp_path, monkeypatch):
    monkeypatch.setenv("CPTS_DIAG_PERIMETERS", str(tmp_path))
    text = b'id: zz-test\nname: "Z"\nhealth_tables: [t.csv]\nmembers:\n  communes: ["42187"]\n'
    (tmp_path / "zz-test.yaml").write_bytes(text)
    (tmp_path / "t.csv").write_bytes(b"x\n1\n")
    assert fp.territory_inputs("zz-test") == {"id": "zz-test", "yaml": _sha(text),
                                              "health_tables": {"t.csv": _sha(b"x\n1\n")}}
    (tmp_path / "t.csv").write_bytes(b"x\n2\n")
    assert fp.territory_inputs("zz-test")["health_tables"] == {"t.csv": _sha(b"x\n2\n")}


def test_territory_without_yaml_uses_the_spec_hook(monkeypatch):
    spec = {"id": "epci-200000000", "name": "E", "members": {"communes": ["42001", "42002"]}}
    monkeypatch.setattr(fp, "territory_spec", lambda cid: spec)
    want = _sha(b'{"id":"epci-200000000","members":{"communes":["42001","42002"]},"name":"E"}')
    assert fp.territory_inputs("epci-200000000") == {"id": "epci-200000000", "spec": want}


def test_package_files_cover_code_settings_and_templates():
    rels = {p.relative_to(fp.PACKAGE_DIR).as_posix() for p in fp.package_files()}
    assert {"batch.py", "inputs_fingerprint.py", "indicators.yaml"} <= rels
    assert any(r.endswith(".j2") for r in rels)
    assert not any("__pycache__" in r or r.endswith(".pyc") for r in rels)
    files = fp.package_inputs()["files"]
    assert files["batch.py"] == _sha((fp.PACKAGE_DIR / "batch.py").read_bytes())


def test_files_named_in_parameters_are_hashed(tmp_path):
    f = tmp_path / "scenario.yaml"
    f.write_bytes(b"departs: 1\n")
    assert fp.parameter_files({"scenario": str(f), "health_tables": [str(f)], "seuil": 3}) == \
        {str(f): _sha(b"departs: 1\n")}


# --- is_up_to_date -------------------------------------------------------------------------------

def _folder(tmp_path: Path, inputs) -> Path:
    d = tmp_path / "cpts-a"
    (d / "figures").mkdir(parents=True)
    (d / "rapport.html").write_text("<p>r</p>", encoding="utf-8")
    (d / "figures" / "f.png").write_bytes(b"png")
    outputs.write_manifest(d, "cpts-a", inputs)
    return d


def test_up_to_date_rules(tmp_path):
    inputs = {"notebook": "ab", "package": {"version": "0", "files": {"x.py": "cd"}}, "pdf": False}
    d = _folder(tmp_path, inputs)
    assert json.loads((d / outputs.MANIFEST_NAME).read_text())["inputs"] == inputs
    assert outputs.is_up_to_date(d, json.loads(json.dumps(inputs)))
    assert not outputs.is_up_to_date(d, {**inputs, "pdf": True})
    assert not outputs.is_up_to_date(d, None)
    (d / "figures" / "f.png").write_bytes(b"PNG")  # same size, other bytes
    assert outputs.is_up_to_date(d, inputs) and not outputs.is_up_to_date(d, inputs, verify_sha256=True)
    (d / "figures" / "f.png").write_bytes(b"png!")  # other size
    assert not outputs.is_up_to_date(d, inputs)
    (d / "figures" / "f.png").unlink()
    assert not outputs.is_up_to_date(d, inputs)


def test_old_manifest_without_inputs_is_unknown(tmp_path):
    d = _folder(tmp_path, None)
    assert "inputs" not in json.loads((d / outputs.MANIFEST_NAME).read_text())
    assert not outputs.is_up_to_date(d, {"notebook": "ab"})
    assert not outputs.is_up_to_date(tmp_path / "absent", {"notebook": "ab"})


# --- batch runs ----------------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def _frozen_package(request, monkeypatch):
    """Batch tests: the package hash is taken once, so that another edit of the working tree
    during the test (other engineers) does not rebuild; tests change it explicitly."""
    if request.node.get_closest_marker("slow"):
        frozen = fp.package_inputs()
        monkeypatch.setattr(fp, "package_inputs", lambda: frozen)


def _run(out, ids=(A,), **kw):
    kw.setdefault("notebook", FIXTURE_NB)
    code, outs = batch.run_batch_detailed(list(ids), out=out, progress=False, **kw)
    assert code == 0, [o.error for o in outs]
    return {o.cpts_id: o for o in outs}


def _inode(out: Path, cid: str = A) -> int:
    return (out / cid / "rapport.html").stat().st_ino


@pytest.mark.slow
def test_second_identical_run_skips_and_rebuild_forces(tmp_path, capsys):
    out = tmp_path / "out"
    first = _run(out, (A, B), jobs=2)
    assert not any(o.skipped for o in first.values())
    ino, idx = {c: _inode(out, c) for c in (A, B)}, (out / "index.html").stat().st_mtime_ns
    capsys.readouterr()
    second = _run(out, (A, B), jobs=2)
    assert all(o.ok and o.skipped and o.seconds < 1 for o in second.values())
    assert {c: _inode(out, c) for c in (A, B)} == ino
    assert (out / "index.html").stat().st_mtime_ns == idx  # nothing changed: index not rewritten
    text = capsys.readouterr().out
    assert f"{A} → {A}/rapport.html : à jour (inchangé)" in text and "2 à jour" in text
    third = _run(out, (A,), rebuild=True)
    assert not third[A].skipped and _inode(out, A) != ino[A]
    assert (out / "index.html").stat().st_mtime_ns != idx


@pytest.mark.slow
def test_a_changed_input_rebuilds(tmp_path, monkeypatch):
    out, data = tmp_path / "out", tmp_path / "data"
    data.mkdir()
    (data / "SHA256SUMS").write_text("aa  x.csv\n", encoding="utf-8")
    monkeypatch.setenv("CPTS_DIAG_DATA", str(data))
    nb = tmp_path / "nb.ipynb"
    shutil.copy(FIXTURE_NB, nb)
    _run(out, notebook=nb)
    assert _run(out, notebook=nb)[A].skipped

    def changed(**kw) -> bool:
        ino = _inode(out)
        rebuilt = not _run(out, **{"notebook": nb, **kw})[A].skipped
        assert rebuilt == (_inode(out) != ino)
        return rebuilt

    assert changed(parameters={"sleep_s": 0})
    assert not changed(parameters={"sleep_s": 0})
    assert changed()  # back to no parameters
    nb.write_text(nb.read_text(encoding="utf-8").replace("Rapport factice", "Rapport fictif"),
                  encoding="utf-8")
    assert changed()
    (data / "SHA256SUMS").write_text("bb  x.csv\n", encoding="utf-8")
    assert changed()
    real = fp.package_inputs()
    monkeypatch.setattr(fp, "package_inputs",
                        lambda: {**real, "files": {**real["files"], "batch.py": "0" * 64}})
    assert changed()
    assert not changed()


@pytest.mark.slow
def test_missing_file_or_manifest_without_inputs_rebuilds(tmp_path):
    out = tmp_path / "out"
    _run(out)
    (out / A / "indicators.json").unlink()
    assert not _run(out)[A].skipped and (out / A / "indicators.json").is_file()
    man = out / A / outputs.MANIFEST_NAME
    data = json.loads(man.read_text(encoding="utf-8"))
    del data["inputs"]  # as written by an earlier cpts-diag
    man.write_text(json.dumps(data), encoding="utf-8")
    assert not _run(out)[A].skipped
    assert "inputs" in json.loads(man.read_text(encoding="utf-8"))


@pytest.mark.slow
def test_resumed_batch_builds_only_what_is_missing(tmp_path, monkeypatch, capsys):
    from cpts_diag.cli import main

    out = tmp_path / "out"
    _run(out, (A,))
    ino = _inode(out, A)
    (out / f".build-{B}-dead0001").mkdir()  # left by the interrupted batch
    (out / "index.html").unlink()
    res = _run(out, (A, B), jobs=2)
    assert res[A].skipped and not res[B].skipped
    assert _inode(out, A) == ino and (out / B / "rapport.html").is_file()
    assert not (out / f".build-{B}-dead0001").exists()
    index = (out / "index.html").read_text(encoding="utf-8")  # missing: written again
    assert f"{A}/rapport.html" in index and f"{B}/rapport.html" in index
    monkeypatch.setenv(batch.NOTEBOOK_ENV, str(FIXTURE_NB))
    capsys.readouterr()
    assert main(["report", A, "--out", str(out), "--rebuild"]) == 0
    assert _inode(out, A) != ino and "à jour" not in capsys.readouterr().out
    assert os.path.isdir(out / B)
