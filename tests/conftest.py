"""Shared fixtures.

Integration tests read the real open-data snapshot: ``../shared/opendata`` beside the repository
(as in CI), else the snapshot installed in ``data/`` and ``geo/``. They are skipped, with the
reason, only when neither exists. Each test session uses its own parquet cache.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "opendata"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _snapshot_dir() -> Path | None:
    if (SHARED / "SHA256SUMS").exists():
        return SHARED
    if (REPO / "data" / "SHA256SUMS").exists():
        return REPO / "data"
    return None


@pytest.fixture(scope="session")
def snapshot_dir() -> Path:
    d = _snapshot_dir()
    if d is None:
        pytest.skip("no open-data snapshot: put it at ../shared/opendata or run `make setup`")
    return d


@pytest.fixture(scope="session", autouse=True)
def _session_data_env(tmp_path_factory):
    """Point the library at the real snapshot and a fresh cache for the whole session."""
    old = {k: os.environ.get(k) for k in ("CPTS_DIAG_DATA", "CPTS_DIAG_CACHE")}
    if _snapshot_dir() == SHARED:
        os.environ["CPTS_DIAG_DATA"] = str(SHARED)
    else:  # the snapshot installed in data/ and geo/ (or none: integration tests skip)
        os.environ.pop("CPTS_DIAG_DATA", None)
    os.environ["CPTS_DIAG_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    yield
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture
def isolated_data(tmp_path, monkeypatch):
    """An empty data root and cache, for error-path tests."""
    from cpts_diag import store

    root = tmp_path / "snapshot"
    root.mkdir()
    monkeypatch.setenv("CPTS_DIAG_DATA", str(root))
    monkeypatch.setenv("CPTS_DIAG_CACHE", str(tmp_path / "cache"))
    store.clear_memory()
    yield root
    store.clear_memory()
