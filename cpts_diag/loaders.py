"""Loaders: one function per source, each taking an explicit vintage (with a documented default).

Every loader returns a tidy pandas (or geopandas) frame keyed by ``code_commune`` (5-character
string, COG 2025 unless said otherwise) and carries its provenance in ``frame.attrs['source']``
(id, label, vintage, COG, publisher, licence, file). Missing values stay missing (``NaN``/``<NA>``),
never 0. The first load converts the file to parquet (see :mod:`cpts_diag.store`).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import drees_xlsx
from .professions import APL_LABELS
from .errors import ArgumentError, VintageError
from .sources import get_source
from .store import cached

CODE_COLS = ("code_commune", "code_commune_cog2025", "code_commune_source", "dep", "reg",
             "epci_siren", "code", "CODGEO", "finess", "code_postal", "code_arrondissement",
             "bv2022", "ze2020", "aav2020", "uu2020", "arr", "can", "typequ", "telephone")

APL_PROFESSIONS = APL_LABELS  # DREES profession id → French name (cpts_diag.professions)


def _read_csv(path: Path, **kw) -> pd.DataFrame:
    header = pd.read_csv(path, nrows=0).columns
    dtype = {c: "string" for c in header if c in CODE_COLS}
    return pd.read_csv(path, dtype=dtype, keep_default_na=False, na_values=[""], low_memory=False, **kw)


# --- COG -------------------------------------------------------------------------------------

def load_communes(cog: int = 2025) -> pd.DataFrame:
    """COG commune table (names, département, région, EPCI, zonings). Default: COG 2025."""
    return cached("cog_communes", cog, _read_csv)


def load_passage(cog: int = 2025) -> pd.DataFrame:
    """Passage table: any historical commune code → its COG ``cog`` commune (default 2025)."""
    return cached("cog_passage", cog, _read_csv)


def load_epcis(cog: int = 2025) -> pd.DataFrame:
    """EPCI à fiscalité propre of COG ``cog``: ``epci_siren``, ``epci_nom``, ``epci_nature``, ``n_communes``."""
    com = load_communes(cog)
    out = (com.groupby(["epci_siren", "epci_nom", "epci_nature"], dropna=False)
           .agg(n_communes=("code_commune", "size"), deps=("dep", lambda s: ";".join(sorted(set(s)))))
           .reset_index())
    out.attrs = com.attrs
    return out


# --- geometries -------------------------------------------------------------------------------

def _read_geo(path: Path):
    import geopandas as gpd

    gdf = gpd.read_file(path, engine="pyogrio")
    if gdf.crs is None:
        gdf = gdf.set_crs(4326)
    for c in gdf.columns:
        if c in CODE_COLS:
            gdf[c] = gdf[c].astype("string")
    return gdf


def load_commune_polygons(cog: int = 2025, detail: str = "8dep"):
    """Commune polygons, WGS84 (EPSG:4326), COG ``cog``.

    ``detail="8dep"``: detailed polygons of 03, 07, 38, 42, 43, 63, 69, 71 (for CPTS maps);
    ``detail="metro"``: simplified polygons of metropolitan France (national or regional maps).
    Use ``surface_km2_ign`` for densities; use :func:`to_lambert93` before measuring areas.
    """
    ids = {"8dep": "geo_communes_8dep", "metro": "geo_communes_metro"}
    if detail not in ids:
        raise ArgumentError(f"detail = {detail!r} : valeur inconnue. Correctif : donnez "
                            f"detail={' ou detail='.join(map(repr, ids))}.")
    return cached(ids[detail], cog, _read_geo, geo=True)


def load_territory_polygons(codes, context_m: float = 6000.0, cog: int = 2025):
    """Polygons (``code_commune``, ``geometry``, WGS84) for the map of a territory: its communes
    ``codes`` and, second, the neighbouring communes within ``context_m`` metres (drawn in grey).

    Detailed 8-département layer, completed by the simplified national layer when some of
    ``codes`` lie outside those départements."""
    from .geometry import context_communes

    codes = set(codes)
    polys = _polygon_layer(codes, cog)
    return polys[polys["code_commune"].isin(codes)], context_communes(polys, codes, buffer_m=context_m)


def load_commune_polygons_of(codes, cog: int = 2025):
    """Polygons (``code_commune``, ``geometry``, WGS84) of the communes ``codes``: detailed
    layer, completed by the simplified national layer for codes outside its 8 départements."""
    codes = set(codes)
    polys = _polygon_layer(codes, cog)
    return polys[polys["code_commune"].isin(codes)]


def _polygon_layer(codes: set, cog: int):
    """The detailed 8-département layer, plus the simplified national polygons of every other
    commune when some of ``codes`` lie outside it (``code_commune``, ``geometry``)."""
    import geopandas as gpd

    p8 = load_commune_polygons(cog, detail="8dep")
    polys = p8
    if not codes <= set(p8["code_commune"]):
        pm = load_commune_polygons(cog, detail="metro")
        polys = gpd.GeoDataFrame(pd.concat([p8, pm[~pm["code_commune"].isin(p8["code_commune"])]],
                                           ignore_index=True), crs=p8.crs)
    return polys[["code_commune", "geometry"]]


def load_epci_polygons(cog: int = 2025):
    """EPCI polygons (``code`` = SIREN), WGS84."""
    return cached("geo_epci", cog, _read_geo, geo=True)


def load_departement_polygons(cog: int = 2025):
    """Département polygons (``code``, ``reg``), WGS84."""
    return cached("geo_departements", cog, _read_geo, geo=True)


def to_lambert93(gdf):
    """Reproject to Lambert-93 (EPSG:2154), the projection in which areas are measured."""
    return gdf.to_crs(2154)


# --- INSEE ------------------------------------------------------------------------------------

def load_population(year: int = 2022) -> pd.DataFrame:
    """RP population per commune (COG 2025): ``pop_2022``, ``pop_2016``, ``pop_2011`` and age groups.

    Age groups are DERIVED estimates (IRIS shares × population, 0.1 person); see the data contract.
    """
    return cached("population", year, _read_csv)


def load_population_age_insee(year: int = 2022) -> pd.DataFrame:
    """INSEE's own age bands (``P22_POP0014`` …, ``P16_POP``, ``P11_POP``) for the Loire and
    Haute-Loire, with ``code_commune`` added (= ``CODGEO``) and ``P22_POP`` = sum of the bands."""
    def build(path):
        df = _read_csv(path)
        df.insert(0, "code_commune", df["CODGEO"])
        bands = [c for c in df.columns if c.startswith("P22_POP") and c != "P22_POP"]
        df["P22_POP"] = df[bands].sum(axis=1, min_count=len(bands))
        return df
    return cached("population_age_42_43", year, build)


def load_socio(year: int = 2022) -> pd.DataFrame:
    """Socio-economic rates per commune: unemployment 15–64 (RP 2022), poverty rate and median
    income (Filosofi 2021), socio-professional shares, 80+ living alone. Secret values are NaN."""
    return cached("socio", year, _read_csv)


def load_territory_aggregates(year: int = 2022) -> pd.DataFrame:
    """Département, région and France métropolitaine values published by PTOD (for rates that
    cannot be rebuilt from communes: poverty, median income)."""
    return cached("ptod_aggregates", year, _read_csv)


def load_bpe_health(year: int = 2024) -> pd.DataFrame:
    """BPE health counts per commune × type (long), with the French label and its status.

    A commune absent for a type has 0 of it (BPE lists only present equipment)."""
    def build(path):
        labels = load_bpe_labels(year)[["typequ", "libelle", "statut_libelle"]]
        return _read_csv(path).merge(labels, on="typequ", how="left", validate="many_to_one")
    return cached("bpe_sante", year, build)


def load_bpe_labels(year: int = 2024) -> pd.DataFrame:
    """BPE health type codes with their labels and how each label was verified."""
    return cached("bpe_typequ", year, _read_csv)


# --- DREES ------------------------------------------------------------------------------------

def load_apl(year: int | None = None, profession: str | None = None) -> pd.DataFrame:
    """DREES APL long table (all professions and vintages, or the one asked for).

    ``code_commune`` is the code as published for the vintage; ``code_commune_cog2025`` its COG
    2025 commune (several rows may share it: aggregate with ``pop_std`` weights). Vintages:
    2016, 2018, 2022, 2023.
    """
    if profession is not None and profession not in APL_PROFESSIONS:
        raise ArgumentError(f"profession = {profession!r} : profession inconnue. Correctif : "
                            f"donnez l'une de : {', '.join(APL_PROFESSIONS)}.")
    if year is not None:
        get_source("apl_long").file_for(year)  # raises VintageError listing the vintages
    df = cached("apl_long", None, lambda p: _read_csv(p).astype({"annee": "int64"}))
    if year is not None:
        df = df[df["annee"] == int(year)]
    if profession is not None:
        df = df[df["profession"] == profession]
    attrs = df.attrs
    df = df.reset_index(drop=True)
    df.attrs = attrs
    return df


def load_apl_workbook(profession: str = "medecin_generaliste", year: int = 2023,
                      harmonise: bool = False) -> pd.DataFrame:
    """APL read from the ORIGINAL DREES workbook (sheet ``APL <year>``).

    ``profession``: ``medecin_generaliste`` / ``medecin_generaliste_moins_65`` (GP workbook) or
    ``infirmier`` (nurse workbook). Codes are as published (APL 2022 ≈ COG 2023, APL 2023 ≈ COG
    2024, arrondissements for Paris/Lyon/Marseille); ``harmonise=True`` moves them to COG 2025
    (APL averaged with ``pop_std``, populations summed).
    """
    book = {"medecin_generaliste": "apl_mg_xlsx", "medecin_generaliste_moins_65": "apl_mg_xlsx",
            "infirmier": "apl_inf_xlsx"}
    if profession not in book:
        raise VintageError(
            f"profession = {profession!r} : pas de classeur original de la DREES pour cette "
            f"profession dans l'instantané (classeurs : {', '.join(book)}). Correctif : utilisez "
            "load_apl(profession=...) (table longue)."
        )
    df = cached(book[profession], year, lambda p: drees_xlsx.read_apl_sheet(p, year),
                variant=f"sheet{year}")
    attrs = df.attrs
    df = df[df["profession"] == profession].reset_index(drop=True)
    if harmonise:
        from .cog import harmonise_to_cog2025
        df, report = harmonise_to_cog2025(
            df, load_passage(), counts=["pop_tot"], rates={"apl": "pop_std"},
            first=["annee", "profession", "unite"], errors="warn", from_cog=year + 1)
        attrs = {**attrs, "harmonisation": report.summary()}
    df.attrs = attrs
    return df


# --- FINESS, CPTS ------------------------------------------------------------------------------

def load_hospitals(year: int = 2020) -> pd.DataFrame:
    """Hospitals (FINESS via Eurostat, reference date 06/03/2020) with their COG 2025 commune."""
    return cached("hospitals", year, _read_csv)


def load_cpts_sources(year: int = 2024) -> pd.DataFrame:
    """Publicly documented CPTS perimeters (one row per perimeter × commune or EPCI)."""
    return cached("cpts_sources", year, _read_csv)
