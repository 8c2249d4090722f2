"""The national frames kept on disk: read back equal to a fresh build, rebuilt when unreadable."""
from __future__ import annotations

import pandas.testing as pt
import pytest

pytestmark = pytest.mark.integration


def test_disk_cache_equals_a_fresh_build_and_survives_corruption(snapshot_dir, tmp_path, monkeypatch):
    from cpts_diag import national, store

    monkeypatch.setenv("CPTS_DIAG_CACHE", str(tmp_path))
    store.clear_memory()
    national._national.cache_clear()
    built = national.national_data()  # builds and writes the cache
    files = sorted(p.name for p in tmp_path.glob("national-*"))
    assert len(files) == 4  # base and tidy, each with its list of object columns
    national._national.cache_clear()
    read = national.national_data()  # from disk
    fresh = national._build_national()
    pt.assert_frame_equal(read.base, fresh.base)
    pt.assert_frame_equal(read.tidy, fresh.tidy)
    assert read.base is not built.base
    # Roanne's population read back from the cache equals the raw file's
    assert read.base.set_index("code_commune").loc["42187", "pop_2022"] == 35365
    next(tmp_path.glob("national-*-base.parquet")).write_bytes(b"not a parquet file")
    national._national.cache_clear()
    again = national.national_data()  # unreadable cache: rebuilt, not an error
    pt.assert_frame_equal(again.tidy, fresh.tidy)
    national._national.cache_clear()
    store.clear_memory()
