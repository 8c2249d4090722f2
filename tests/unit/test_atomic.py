"""Atomic writes: the target holds the old content or the new one, never a half-written file."""
import pytest

from cpts_diag.atomic import atomic_target, write_atomic


def test_write_replaces_whole_file(tmp_path):
    f = tmp_path / "sub" / "rapport.html"
    write_atomic(f, "première version")
    write_atomic(f, "seconde version é")
    assert f.read_text(encoding="utf-8") == "seconde version é"
    write_atomic(f, b"\x00\x01")
    assert f.read_bytes() == b"\x00\x01"
    assert [p.name for p in f.parent.iterdir()] == ["rapport.html"]


def test_failure_keeps_previous_content_and_leaves_no_temp(tmp_path):
    f = tmp_path / "indicators.json"
    f.write_text("ancien")
    with pytest.raises(RuntimeError):
        with atomic_target(f) as tmp:
            tmp.write_text("à moitié")
            raise RuntimeError("interrompu")
    assert f.read_text() == "ancien"
    assert [p.name for p in tmp_path.iterdir()] == ["indicators.json"]
