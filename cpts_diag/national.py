"""Thin data layer of the indicators: the national commune frame and the comparators
(départements, régions, France), loaded once per process and per set of data files
(``functools.lru_cache`` keyed on the files' path, size and mtime)."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from .aggregation import aggregate, finalize, flag_frame, published_values
from .commune_frame import (apl_by_commune, areas_by_commune, bpe_by_commune, commune_base,
                            fill_past_populations)
from .indicator_registry import FRANCE, FRANCE_METRO

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


@lru_cache(maxsize=2)
def _national(stamp: tuple) -> NationalData:
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
    base = commune_base(com, pop, soc, areas, bpe_by_commune(bpe, com["code_commune"]),
                        apl_by_commune(apl), hosp)
    memb = _national_membership(base)
    agg = aggregate(base, memb)
    tidy = finalize(agg, published_values(ptod), flags=flag_frame(base, memb, list_codes=False))
    row_of = pd.Series(np.arange(len(base)), index=base["code_commune"].astype(str))
    return NationalData(base=base, tidy=tidy, row_of=row_of)


_NATIONAL_SOURCES = (("cog_communes", None), ("population", None), ("population_age_42_43", None),
                     ("socio", None),
                     ("geo_communes_metro", None), ("bpe_sante", None), ("bpe_typequ", None),
                     ("apl_long", None), ("hospitals", None), ("ptod_aggregates", None))


def _data_stamp() -> tuple:
    """Identity of the input files (path, size, mtime): the cache key of :func:`national_data`.

    A missing file raises DataNotInstalledError (with the fix) before any work is done."""
    from .store import source_path

    out = []
    for sid, v in _NATIONAL_SOURCES:
        _, _, path = source_path(sid, v)
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

