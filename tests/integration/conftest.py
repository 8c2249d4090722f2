"""Integration tests read the real open-data snapshot: ``../shared/opendata`` beside the repository
(as in CI), else the snapshot installed in ``data/`` and ``geo/``. They are skipped, with the
reason, only when neither exists. The session uses its own parquet cache."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import REPO, set_env

SHARED = REPO.parent / "shared" / "opendata"


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
    """Point the library at the real snapshot and a fresh cache for the integration session."""
    from cpts_diag import store

    data = str(SHARED) if _snapshot_dir() == SHARED else None  # None: data/ and geo/ of the repo
    old = set_env({"CPTS_DIAG_DATA": data, "CPTS_DIAG_CACHE": str(tmp_path_factory.mktemp("cache"))})
    store.clear_memory()
    yield
    set_env(old)
    store.clear_memory()
