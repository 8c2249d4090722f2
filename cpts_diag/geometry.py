"""Small geometry helpers shared by the data layer and the maps (no drawing, no data loading).

:func:`context_communes` (the neighbouring communes drawn in grey around a territory),
:func:`outline_of` (the union of a territory's communes) and :func:`to_l93` (reprojection to
Lambert-93, where distances are in metres). :mod:`cpts_diag.loaders` uses them without importing
:mod:`cpts_diag.maps`; the maps re-export them.
"""
from __future__ import annotations

from typing import Iterable

__all__ = ["LAMBERT93", "WGS84", "to_l93", "outline_of", "context_communes"]

LAMBERT93 = 2154
WGS84 = 4326


def to_l93(gdf):
    """``gdf`` in Lambert-93 (EPSG:2154); a frame without CRS is taken as WGS84; ``None`` stays None."""
    if gdf is None:
        return None
    if gdf.crs is None:
        gdf = gdf.set_crs(WGS84)
    return gdf.to_crs(LAMBERT93) if gdf.crs.to_epsg() != LAMBERT93 else gdf


def outline_of(gdf):
    """The CPTS outline: the union of its communes (a one-row GeoDataFrame, same CRS)."""
    import geopandas as gpd

    geom = gdf.geometry.union_all() if hasattr(gdf.geometry, "union_all") else gdf.geometry.unary_union
    return gpd.GeoDataFrame({"nom": ["CPTS"]}, geometry=[geom], crs=gdf.crs)


def context_communes(all_communes, codes: Iterable[str], buffer_m: float = 8000.0,
                     code_column: str = "code_commune"):
    """Communes of ``all_communes`` outside ``codes`` within ``buffer_m`` metres of them (context)."""
    codes = set(codes)
    inside = all_communes[all_communes[code_column].isin(codes)]
    if inside.empty:
        return all_communes.iloc[0:0]
    l93 = to_l93(all_communes)
    zone = to_l93(inside).geometry.union_all().buffer(buffer_m)
    xmin, ymin, xmax, ymax = zone.bounds
    cand = l93.cx[xmin:xmax, ymin:ymax]
    cand = cand[~cand[code_column].isin(codes)]
    keep = cand.index[cand.geometry.intersects(zone)]
    return all_communes.loc[keep]
