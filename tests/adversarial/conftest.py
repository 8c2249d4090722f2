"""The adversarial suite: hostile or careless inputs over the CLI, the Python API, perimeter
files, data roots, caches, batch outputs, scenarios and user tables.

Every case asserts three things: the exit code (or the exception type), a French message that
names the problem (never a traceback), and that nothing outside the run's own files changed
(:func:`tree_state` of the watched folders before and after). The suite reads the real snapshot
(like ``tests/integration``): a perimeter is resolved against the real COG."""
from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO, set_env
from tests.integration.conftest import SHARED, _snapshot_dir, snapshot_dir  # noqa: F401


@pytest.fixture(scope="session", autouse=True)
def _session_data_env(tmp_path_factory):
    from cpts_diag import store

    data = str(SHARED) if _snapshot_dir() == SHARED else None
    old = set_env({"CPTS_DIAG_DATA": data, "CPTS_DIAG_CACHE": str(tmp_path_factory.mktemp("cache")),
                   "CPTS_DIAG_PERIMETERS": None})
    store.clear_memory()
    yield
    set_env(old)
    store.clear_memory()


def tree_state(*roots: Path) -> dict[str, str]:
    """``{path: sha256}`` of every file under ``roots`` (missing roots are empty)."""
    out = {}
    for root in roots:
        root = Path(root)
        if root.is_file():
            out[str(root)] = hashlib.sha256(root.read_bytes()).hexdigest()
            continue
        if not root.is_dir():
            continue
        for p in sorted(root.rglob("*")):
            if p.is_file() and not p.is_symlink():
                out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    """A working folder for one case: perimeters in ``per/`` (CPTS_DIAG_PERIMETERS), the run's
    output in ``out/``; after the case, nothing else under the workspace, the repository's
    ``outputs/`` and ``data/cpts/`` or the snapshot may have changed."""
    from cpts_diag import store

    per = tmp_path / "per"
    per.mkdir()
    monkeypatch.setenv("CPTS_DIAG_PERIMETERS", str(per))
    monkeypatch.chdir(tmp_path)
    ws = Workspace(tmp_path, per)
    yield ws
    store.clear_memory()


class Workspace:
    def __init__(self, root: Path, per: Path):
        self.root, self.per = root, per
        self.out = root / "out"

    def perimeter(self, cid: str, text: str | bytes) -> Path:
        p = self.per / f"{cid}.yaml"
        (p.write_bytes if isinstance(text, bytes) else p.write_text)(text)
        return p

    def file(self, name: str, text: str | bytes) -> Path:
        p = self.root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        (p.write_bytes if isinstance(text, bytes) else p.write_text)(text)
        return p

    def watched(self) -> tuple[Path, ...]:
        roots = [self.root, REPO / "outputs", REPO / "data" / "cpts"]
        snap = _snapshot_dir()
        if snap is not None:
            roots.append(snap / "SHA256SUMS")
        return tuple(roots)


def run_cli(ws: Workspace, argv: list[str], capsys) -> tuple[int, str, str, dict]:
    """Run ``cpts-diag argv`` in process: ``(exit code, stdout, stderr, files changed)``.

    argparse's own exits are caught; any other exception fails the case (a traceback)."""
    from cpts_diag import cli

    before = tree_state(*ws.watched())
    try:
        code = cli.main(argv)
    except SystemExit as exc:  # argparse
        code = exc.code if isinstance(exc.code, int) else 2
    out, err = capsys.readouterr()
    after = tree_state(*ws.watched())
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    return code, out, err, changed


def assert_refused(code, out, err, needles, *, expect_code=2):
    text = out + err
    assert "Traceback" not in text, text
    assert code == expect_code, (code, text[-800:])
    for n in needles:
        assert n.lower() in text.lower(), (n, text[-800:])


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/adversarial/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.adversarial)
