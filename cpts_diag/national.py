"""Thin data layer of the indicators: the national commune frame and the comparators
(départements, régions, France), loaded once per process and per set of data files
(``functools.lru_cache`` keyed on the files' path, size and mtime).

The two frames are also kept on disk (``<cache>/national-<key>-{base,tidy}.parquet``), so that a
new process — each report of a batch — reads them in a fraction of a second instead of rebuilding
them. The key hashes the input files' identity and the code that computes the frames
(:data:`_CODE_FILES`): a changed file or a new version of the code builds them again."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from .aggregation import aggregate, finalize, flag_frame, published_values, source_values
from .commune_frame import (apl_by_commune, areas_by_commune, bpe_by_commune, bv_by_commune,
                            commune_base, fill_past_populations)
from .indicator_registry import FRANCE, FRANCE_METRO, bv_columns

__all__ = ["NationalData", "national_data", "territory_membership", "rows_of"]


@dataclass(frozen=True)
class NationalData:
    """The national commune frame and the precomputed comparators (départements, régions, France)."""

    base: pd.DataFrame
    tidy: pd.DataFrame  # finalize()d, levels departement, region, france_metro, france
    row_of: pd.Series  # code_commune -> position in base


def _national_membership(base: pd.DataFrame) -> pd.DataFrame:
    """Every commune in its département, région, France métropolitaine (metro) and France."""
    n = len(base)
    rows = np.arange(n)
    metro = base["metro"].to_numpy()
    parts = [
        pd.DataFrame({"row": rows, "level": "departement", "code": base["dep"].astype(str),
                      "name": base["nom_dep"].astype(str)}),
        pd.DataFrame({"row": rows, "level": "region", "code": base["reg"].astype(str),
                      "name": base["nom_reg"].astype(str)}),
        pd.DataFrame({"row": rows[metro], "level": "france_metro", "code": FRANCE_METRO[0],
                      "name": FRANCE_METRO[1]}),
        pd.DataFrame({"row": rows, "level": "france", "code": FRANCE[0], "name": FRANCE[1]}),
    ]
    return pd.concat(parts, ignore_index=True)


#: The package files whose content shapes the national frames (part of the disk-cache key).
_CODE_FILES = ("aggregation.py", "commune_frame.py", "national.py", "finess.py", "indicators.yaml",
               "indicator_registry.py", "professions.py", "cog.py", "loaders.py", "importers.py",
               "loaders_health.py", "health_status.py")


def _cache_key(stamp: tuple) -> str:
    import hashlib
    from pathlib import Path

    h = hashlib.sha256(repr(stamp).encode())
    here = Path(__file__).resolve().parent
    for name in _CODE_FILES:
        h.update((here / name).read_bytes())
    return h.hexdigest()[:16]


def _cache_files(stamp: tuple):
    from .config import data_roots

    d = data_roots().cache
    key = _cache_key(stamp)
    return d, d / f"national-{key}-base.parquet", d / f"national-{key}-tidy.parquet"


def _object_columns(path):
    """The file listing the ``object`` (not ``str``) columns of a cached frame."""
    return path.with_suffix(".object-columns.json")


def _read_cached(stamp: tuple) -> NationalData | None:
    _, base_pq, tidy_pq = _cache_files(stamp)
    if not (base_pq.exists() and tidy_pq.exists()):
        return None
    try:
        base, tidy = (_as_built(pd.read_parquet(p), _object_columns(p)) for p in (base_pq, tidy_pq))
    except (OSError, ValueError, KeyError):
        return None  # unreadable: rebuilt below
    row_of = pd.Series(np.arange(len(base)), index=base["code_commune"].astype(str))
    return NationalData(base=base, tidy=tidy, row_of=row_of)


def _as_built(df: pd.DataFrame, listing) -> pd.DataFrame:
    """Columns that were ``object`` when built back to ``object`` (parquet reads text as ``str``)."""
    import json

    for c in json.loads(listing.read_text(encoding="utf-8")):
        df[c] = df[c].astype(object)
    return df


def _write_cached(stamp: tuple, nat: NationalData) -> None:
    import json

    from .atomic import atomic_target, write_atomic

    d, base_pq, tidy_pq = _cache_files(stamp)
    try:
        d.mkdir(parents=True, exist_ok=True)
        for frame, path in ((nat.base, base_pq), (nat.tidy, tidy_pq)):
            objects = [str(c) for c in frame.columns if frame[c].dtype == object]
            write_atomic(_object_columns(path), json.dumps(objects))
            with atomic_target(path) as tmp:
                frame.to_parquet(tmp, index=False)
        keep = {base_pq, tidy_pq, _object_columns(base_pq), _object_columns(tidy_pq)}
        for old in d.glob("national-*"):  # frames of older data or code
            if old not in keep:
                old.unlink(missing_ok=True)
    except OSError:
        pass  # a read-only cache folder only costs speed


@lru_cache(maxsize=2)
def _national(stamp: tuple) -> NationalData:
    cached = _read_cached(stamp)
    if cached is not None:
        return cached
    nat = _build_national()
    _write_cached(stamp, nat)
    return nat


def _build_national() -> NationalData:
    from . import loaders as L

    com = L.load_communes()
    pop = fill_past_populations(L.load_population(), L.load_population_age_insee())
    soc = L.load_socio()
    polys = L.load_commune_polygons(detail="metro")
    areas = areas_by_commune(pd.DataFrame(polys.drop(columns="geometry")))
    bpe = L.load_bpe_health()
    apl = L.load_apl()
    hosp = L.load_hospitals()
    ptod = L.load_territory_aggregates()
    health = _health_tables()
    bv = (bv_by_commune(com, health["cartosante"], bv_columns())
          if health["cartosante"] is not None else None)
    base = commune_base(com, pop, soc, areas, bpe_by_commune(bpe, com["code_commune"]),
                        apl_by_commune(apl), hosp, bv)
    memb = _national_membership(base)
    agg = aggregate(base, memb)
    tidy = finalize(agg, published_values(ptod), flags=flag_frame(base, memb, list_codes=False),
                    sourced=source_values(health))
    row_of = pd.Series(np.arange(len(base)), index=base["code_commune"].astype(str))
    return NationalData(base=base, tidy=tidy, row_of=row_of)


def _health_tables() -> dict:
    """The optional health-status tables (data contract §7) read by the registry: ``vaccination``
    (SPF 2024), ``mortality`` (standardised, 2023), ``cartosante`` (bassins de vie 2024); ``None``
    where the snapshot lacks the file (its indicators are then n.d. at every level)."""
    from . import loaders_health as H
    from .errors import DataNotInstalledError

    out = {}
    for key, load in (("vaccination", H.load_vaccination), ("mortality", H.load_standardised_mortality),
                      ("cartosante", H.load_cartosante_bv)):
        try:
            out[key] = load()
        except DataNotInstalledError:
            out[key] = None
    return out


#: optional sources of the registry (§7 of the data contract): absent files leave n.d. values
_OPTIONAL_SOURCES = (("vaccination_spf", None), ("mortality_standardised", None),
                     ("cartosante_bv", None))
_NATIONAL_SOURCES = (("cog_communes", None), ("population", None), ("population_age_42_43", None),
                     ("socio", None),
                     ("geo_communes_metro", None), ("bpe_sante", None), ("bpe_typequ", None),
                     ("apl_long", None), ("hospitals", None), ("ptod_aggregates", None))


def _data_stamp() -> tuple:
    """Identity of the input files (path, size, mtime): the cache key of :func:`national_data`.

    A missing file raises DataNotInstalledError (with the fix) before any work is done, except
    the optional health-status files (:data:`_OPTIONAL_SOURCES`), noted ``absent``."""
    from .store import source_path

    from .errors import DataNotInstalledError

    out = []
    for sid, v in _NATIONAL_SOURCES + _OPTIONAL_SOURCES:
        try:
            _, _, path = source_path(sid, v)
        except DataNotInstalledError:
            if (sid, v) not in _OPTIONAL_SOURCES:
                raise
            out.append((sid, "absent"))
            continue
        st = path.stat()
        out.append((str(path), st.st_size, st.st_mtime_ns))
    return tuple(out)


def national_data() -> NationalData:
    """National frames for the current data files (built once per process and per set of files;
    rebuilt if a file changes or the data root moves)."""
    return _national(_data_stamp())


def rows_of(nat: NationalData, codes) -> np.ndarray:
    """Positions of ``codes`` in the national frame; unknown codes raise TerritoryError."""
    rows = nat.row_of.reindex([str(c) for c in codes])
    if rows.isna().any():
        from .errors import TerritoryError
        raise TerritoryError("Codes communes inconnus du COG 2025 : "
                             + ", ".join(rows.index[rows.isna()]) + ". Correctif : passez des "
                             "codes du COG 2025 (Territory.from_codes recode les anciens).")
    return rows.to_numpy(dtype=int)


def territory_membership(nat: NationalData, territory) -> pd.DataFrame:
    """Membership of the territory (level ``territory``) and of each EPCI part (level ``epci``)."""
    rows = rows_of(nat, territory.communes)
    b = nat.base
    t = pd.DataFrame({"row": rows, "level": "territory", "code": territory.id,
                      "name": territory.name})
    e = pd.DataFrame({"row": rows, "level": "epci", "code": b["epci_siren"].to_numpy()[rows],
                      "name": b["epci_nom"].to_numpy()[rows]})
    e["code"] = e["code"].astype(str)
    e["name"] = e["name"].astype(str)
    return pd.concat([t, e.sort_values(["code", "row"])], ignore_index=True)

