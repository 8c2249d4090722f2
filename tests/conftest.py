"""Fixtures shared by every test.

``tests/unit`` needs no data: its own conftest points the library at an EMPTY data root, so a
unit test that starts reading the real snapshot fails instead of passing silently.
``tests/integration`` reads the real snapshot (``tests/integration/conftest.py``).
"""
from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


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
