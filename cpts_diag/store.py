"""File resolution and the columnar cache shared by every loader.

The first load of a source checks the file's SHA-256 against the snapshot's sums, parses it and
writes a parquet copy to the cache; later loads read the parquet copy as long as the source file
keeps its size and modification time. Frames are also kept in memory for the session.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import pandas as pd

from .atomic import atomic_target, write_atomic
from .config import data_roots
from .errors import CptsDiagError, DataIntegrityError, DataNotInstalledError
from .snapshot import reference_sums, sha256_file
from .sources import Source, get_source

# Bump when a loader's output changes so old caches are rebuilt.
CACHE_VERSION = 1

_MEMORY: dict[tuple, pd.DataFrame] = {}


def source_path(source: Source | str, vintage: int | None = None) -> tuple[Source, int, Path]:
    """Resolve the file of ``source`` at ``vintage``; raise a clear error if it is not installed."""
    src = get_source(source) if isinstance(source, str) else source
    v, rel = src.file_for(vintage)
    roots = data_roots()
    path = roots.path_of(src.kind, rel)
    if not path.exists():
        root = roots.geo if src.kind == "geo" else roots.tabular
        raise DataNotInstalledError(
            f"Source « {src.id} » ({src.label} {v}) is not installed: {path} is missing "
            f"(data root {root}). Fix: run `make setup` or "
            "`cpts-diag data install --from ../shared/opendata` (or set CPTS_DIAG_DATA to a snapshot "
            "folder); `cpts-diag data status` lists what is present."
        )
    return src, v, path


def _check_hash(src: Source, rel: str, path: Path) -> str | None:
    sums = reference_sums()
    if rel not in sums:
        return None
    digest = sha256_file(path)
    if digest != sums[rel]:
        raise DataIntegrityError(
            f"{path} fails its SHA-256 check (source « {src.id} »): the file is corrupt or was "
            "modified. Fix: reinstall it with `cpts-diag data install --from ../shared/opendata` "
            "(or `cpts-diag data fetch`)."
        )
    return digest


def cached(source: Source | str, vintage: int | None, build: Callable[[Path], pd.DataFrame],
           variant: str = "", geo: bool = False) -> pd.DataFrame:
    """Return the frame ``build(path)`` of a source file, through the parquet cache.

    ``variant`` distinguishes several frames built from one file (e.g. two sheets of a workbook).
    The returned frame carries ``attrs['source']`` (id, vintage, COG, publisher, licence, file).
    """
    src, v, path = source_path(source, vintage)
    rel = src.files[v]
    st = path.stat()
    stamp = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "version": CACHE_VERSION}
    key = (src.id, v, variant, str(path), st.st_size, st.st_mtime_ns)
    if key in _MEMORY:
        return _with_attrs(_MEMORY[key].copy(deep=False), src, v, variant)

    cache_dir = data_roots().cache
    name = f"{src.id}-{v}{'-' + variant if variant else ''}"
    pq, meta = cache_dir / f"{name}.parquet", cache_dir / f"{name}.json"
    df = None
    if pq.exists() and meta.exists():
        try:
            saved = json.loads(meta.read_text())
            if {k: saved.get(k) for k in stamp} == stamp and saved.get("path") == str(path):
                df = _read_parquet(pq, geo)
        except (OSError, ValueError):
            df = None  # unreadable cache: rebuild it
    if df is None:
        digest = _check_hash(src, rel, path)
        try:
            df = build(path)
        except CptsDiagError:  # already says what is wrong and how to fix it
            raise
        except Exception as exc:  # parsing failed: name the file and the fix
            raise DataIntegrityError(
                f"Could not read {path} (source « {src.id} »): {exc.__class__.__name__}: {exc}. "
                "Fix: reinstall the file with `cpts-diag data install --from ../shared/opendata`."
            ) from exc
        _write_cache(df, pq, meta, {**stamp, "path": str(path), "sha256": digest}, geo)
    _MEMORY[key] = df
    return _with_attrs(df.copy(deep=False), src, v, variant)


def _with_attrs(df: pd.DataFrame, src: Source, v: int, variant: str) -> pd.DataFrame:
    desc = src.describe(v)
    if variant:
        desc["variant"] = variant
    df.attrs = {"source": desc}
    return df


def _read_parquet(pq: Path, geo: bool) -> pd.DataFrame:
    if geo:
        import geopandas as gpd

        return gpd.read_parquet(pq)
    return pd.read_parquet(pq)


def _write_cache(df: pd.DataFrame, pq: Path, meta: Path, stamp: dict, geo: bool) -> None:
    try:
        df = df.copy(deep=False)
        df.attrs = {}
        with atomic_target(pq) as tmp:
            df.to_parquet(tmp, index=False)
        write_atomic(meta, json.dumps(stamp))
    except OSError:
        pass  # a read-only cache folder only costs speed


def clear_memory() -> None:
    """Forget the frames kept in memory (tests use it to measure cold loads)."""
    _MEMORY.clear()
