"""Where cpts-diag finds its data.

Default layout (a clone of the repository, ``make setup`` done)::

    data/            tabular data of the installed snapshot (cog/, insee/, drees/, finess/, cpts/)
    data/cpts/*.yaml CPTS perimeter definitions (committed)
    geo/             geometries of the installed snapshot (*.geojson)
    data/.cache/     columnar (parquet) cache built on first load

Environment variables (all optional):

``CPTS_DIAG_DATA``
    a folder laid out like the open-data snapshot (``cog/``, ``insee/``, ..., ``geo/``,
    ``SHA256SUMS``), e.g. ``../shared/opendata``; used in place of ``data/`` and ``geo/``.
``CPTS_DIAG_CACHE``
    where the parquet cache and downloads go (default ``data/.cache``).
``CPTS_DIAG_PERIMETERS``
    extra folders of CPTS perimeter YAML files (several: separated by ``os.pathsep``, ``:`` on
    Linux), read after ``data/cpts/``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent


@dataclass(frozen=True)
class DataRoots:
    """The folders a session reads and writes data in."""

    tabular: Path
    geo: Path
    cache: Path
    perimeters: tuple[Path, ...]

    def path_of(self, kind: str, relpath: str) -> Path:
        """Absolute path of a snapshot file, ``kind`` being ``"tabular"`` or ``"geo"``."""
        if kind == "geo":
            return self.geo / Path(relpath).name
        return self.tabular / relpath


def data_roots() -> DataRoots:
    """Resolve the data roots from the environment (read at each call, never cached)."""
    env = os.environ.get("CPTS_DIAG_DATA")
    if env:
        base = Path(env).expanduser().resolve()
        tabular, geo = base, base / "geo"
    else:
        tabular, geo = REPO_DIR / "data", REPO_DIR / "geo"
    cache_env = os.environ.get("CPTS_DIAG_CACHE")
    cache = Path(cache_env).expanduser().resolve() if cache_env else REPO_DIR / "data" / ".cache"
    perimeters = [REPO_DIR / "data" / "cpts"]
    extra = os.environ.get("CPTS_DIAG_PERIMETERS")
    if extra:
        perimeters += [Path(p).expanduser().resolve() for p in extra.split(os.pathsep) if p]
    return DataRoots(tabular=tabular, geo=geo, cache=cache, perimeters=tuple(perimeters))


def default_snapshot_dir() -> Path:
    """The snapshot shipped beside the repository (``../shared/opendata``)."""
    return REPO_DIR.parent / "shared" / "opendata"
