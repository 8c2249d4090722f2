"""Unit tests need no data: the library is pointed at an EMPTY data root for the whole session,
so a unit test that starts reading the real snapshot fails (DataNotInstalledError) instead of
silently depending on it. Tests that need the real data belong in ``tests/integration``."""
from __future__ import annotations

import pytest

from tests.helpers import set_env


@pytest.fixture(scope="session", autouse=True)
def _no_snapshot(tmp_path_factory):
    from cpts_diag import national, store

    empty = tmp_path_factory.mktemp("no-snapshot")
    old = set_env({"CPTS_DIAG_DATA": str(empty), "CPTS_DIAG_CACHE": str(tmp_path_factory.mktemp("cache"))})
    store.clear_memory()
    national._national.cache_clear()
    yield empty
    set_env(old)
    store.clear_memory()
    national._national.cache_clear()
