"""File resolution and the columnar cache shared by every loader.

The first load of a source checks the file's SHA-256 against the snapshot's sums, parses it,
checks the frame against its schema and expected coverage (:mod:`cpts_diag.schemas`: a truncated
file whose SHA256SUMS was regenerated is refused) and writes a parquet copy to the cache, with a
JSON description holding the source's SHA-256 and the parquet's own SHA-256. Later loads read the
parquet copy as long as the source file keeps its size, modification time and listed SHA-256, and
the parquet still has its recorded SHA-256 (a modified cache is rebuilt, with a warning). Frames
are also kept in memory for the session.
"""
from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path
from typing import Callable

import pandas as pd

from .atomic import atomic_target, write_atomic
from .config import data_roots
from .errors import CptsDiagError, DataIntegrityError, DataNotInstalledError
from .schemas import check_frame
from .snapshot import reference_sums, sha256_file
from .sources import Source, get_source

# Bump when a loader's output changes so old caches are rebuilt.
CACHE_VERSION = 2  # 2: the JSON holds the source's and the parquet's SHA-256

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
            f"Source « {src.id} » ({src.label} {v}) non installée : {path} est absent (dossier de "
            f"données {root}). Correctif : lancez `make setup` ou "
            "`cpts-diag data install --from ../shared/opendata` (ou faites pointer CPTS_DIAG_DATA "
            "vers un dossier d'instantané) ; `cpts-diag data status` liste ce qui est présent."
        )
    return src, v, path


def _expected_sum(rel: str) -> str | None:
    """The SHA-256 of ``rel`` in the snapshot's SHA256SUMS (None: no sums, or not listed)."""
    return reference_sums().get(rel)


def _check_hash(src: Source, rel: str, path: Path, expected: str | None) -> str:
    """SHA-256 of the source file, checked against SHA256SUMS when it is listed there."""
    digest = sha256_file(path)
    if expected is None:
        warnings.warn(
            f"Intégrité de {path} non vérifiable (source « {src.id} ») : le fichier n'est pas "
            "listé dans SHA256SUMS (ou SHA256SUMS est absent) ; seuls son format et sa couverture sont "
            "contrôlés. Correctif : réinstallez le jeu avec `cpts-diag data install --from "
            "../shared/opendata`.", UserWarning, stacklevel=4)
    elif digest != expected:
        raise DataIntegrityError(
            f"{path} : empreinte SHA-256 différente de celle de SHA256SUMS (source « {src.id} ») : "
            "le fichier est corrompu ou a été modifié. Correctif : réinstallez-le avec "
            "`cpts-diag data install --from ../shared/opendata` (ou `cpts-diag data fetch`)."
        )
    return digest


def cached(source: Source | str, vintage: int | None, build: Callable[[Path], pd.DataFrame],
           variant: str = "", geo: bool = False) -> pd.DataFrame:
    """Return the frame ``build(path)`` of a source file, through the parquet cache.

    ``variant`` distinguishes several frames built from one file (e.g. two sheets of a workbook).
    The returned frame carries ``attrs['source']`` (id, vintage, COG, publisher, licence, file).
    The first load checks the file's SHA-256 and the frame's schema and coverage
    (:mod:`cpts_diag.schemas`); the cache is keyed to the file's SHA-256 and its own SHA-256 is
    checked on every read (a modified cache is rebuilt, with a warning).
    """
    src, v, path = source_path(source, vintage)
    rel = src.files[v]
    st = path.stat()
    expected = _expected_sum(rel)
    stamp = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "version": CACHE_VERSION,
             "path": str(path), "source_sha256": expected}
    key = (src.id, v, variant, str(path), st.st_size, st.st_mtime_ns, expected)
    if key in _MEMORY:
        return _with_attrs(_MEMORY[key].copy(deep=False), src, v, variant)

    cache_dir = data_roots().cache
    name = f"{src.id}-{v}{'-' + variant if variant else ''}"
    pq, meta = cache_dir / f"{name}.parquet", cache_dir / f"{name}.json"
    df = _read_cache(pq, meta, stamp, geo, path)
    if df is None:
        digest = _check_hash(src, rel, path, expected)
        try:
            df = build(path)
        except CptsDiagError:  # already says what is wrong and how to fix it
            raise
        except Exception as exc:  # parsing failed: name the file and the fix
            raise DataIntegrityError(
                f"Lecture impossible de {path} (source « {src.id} ») : {exc.__class__.__name__} : "
                f"{exc}. Correctif : réinstallez le fichier avec "
                "`cpts-diag data install --from ../shared/opendata`."
            ) from exc
        check_frame(df, src.id, path)
        _write_cache(df, pq, meta, {**stamp, "source_sha256": digest}, geo)
    _MEMORY[key] = df
    return _with_attrs(df.copy(deep=False), src, v, variant)


def _read_cache(pq: Path, meta: Path, stamp: dict, geo: bool, source: Path) -> pd.DataFrame | None:
    """The cached frame, or None when there is none, it is stale, or it was modified."""
    if not (pq.exists() and meta.exists()):
        return None
    try:
        saved = json.loads(meta.read_text(encoding="utf-8"))
        if not isinstance(saved, dict):
            raise ValueError("pas un dictionnaire")
    except (OSError, ValueError):
        _warn_cache(meta, source, "fichier de description illisible")
        return None
    if any(saved.get(k) != v for k, v in stamp.items() if k != "source_sha256"):
        return None  # the source file changed, or an older cache format: rebuild
    if stamp["source_sha256"] is not None and saved.get("source_sha256") != stamp["source_sha256"]:
        return None  # SHA256SUMS now lists another file: rebuild (and check it)
    try:
        data = pq.read_bytes()
    except OSError:
        return None
    if hashlib.sha256(data).hexdigest() != saved.get("parquet_sha256"):
        _warn_cache(pq, source, "modifié après son écriture (SHA-256 différent de celui "
                                "enregistré)")
        return None
    try:
        return _read_parquet(data, geo)
    except Exception:  # noqa: BLE001 - any unreadable cache is rebuilt
        _warn_cache(pq, source, "illisible")
        return None


def _warn_cache(path: Path, source: Path, what: str) -> None:
    warnings.warn(f"Cache {path} {what} : il est reconstruit depuis {source}.", UserWarning,
                  stacklevel=4)


def _with_attrs(df: pd.DataFrame, src: Source, v: int, variant: str) -> pd.DataFrame:
    desc = src.describe(v)
    if variant:
        desc["variant"] = variant
    df.attrs = {"source": desc}
    return df


def _read_parquet(data: bytes, geo: bool) -> pd.DataFrame:
    import pyarrow as pa

    if geo:
        import geopandas as gpd

        return gpd.read_parquet(pa.BufferReader(data))
    return pd.read_parquet(pa.BufferReader(data))


def _write_cache(df: pd.DataFrame, pq: Path, meta: Path, stamp: dict, geo: bool) -> None:
    """Write the parquet copy, then its description (stamp, source and parquet SHA-256)."""
    try:
        df = df.copy(deep=False)
        df.attrs = {}
        with atomic_target(pq) as tmp:
            df.to_parquet(tmp, index=False)
            digest = sha256_file(tmp)
        write_atomic(meta, json.dumps({**stamp, "parquet_sha256": digest}))
    except OSError:
        pass  # a read-only cache folder only costs speed


def clear_memory() -> None:
    """Forget the frames kept in memory (tests use it to measure cold loads)."""
    _MEMORY.clear()
