"""Importers of the publishers' own file formats (INSEE, DREES, Etalab/IGN).

Each importer turns an official file into the frame that the matching snapshot loader of
:mod:`cpts_diag.loaders` returns (same columns, commune codes as 5-character strings under
``code_commune``), moved to COG 2025 with :func:`cpts_diag.cog.harmonise_to_cog2025` when the
file uses an older COG. Columns a publisher does not give are left missing, never estimated.
:mod:`cpts_diag.fetch` uses them to rebuild the snapshot from the official downloads. The DREES APL
importer lives in :mod:`cpts_diag.importers_drees` and is re-exported here.

Layouts are recognised by content, not by offsets: header rows of Excel sheets are searched for
their column names, zip members by their names, and the year of a census file is read from its
file name and its column names.
"""
from __future__ import annotations

import gzip
import io
import re
import zipfile
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from .cog import harmonise_to_cog2025
from .errors import HarmonisationError, WorkbookFormatError
from .importers_drees import APL_COLUMNS, read_apl_workbook  # noqa: F401  (re-exported)

HEADER_SCAN_ROWS = 30
# Arrondissements municipaux of Paris, Lyon and Marseille and their commune.
_ARM_RE = re.compile(r"^(751(0[1-9]|1\d|20)|6938[1-9]|132(0[1-9]|1[0-6]))$")
_ARM_PARENT = {"75": "75056", "69": "69123", "13": "13055"}
_BAND_RE = re.compile(r"^P(\d\d)_POP(\d\d)(\d\d|P)$")  # P22_POP1529, P22_POP90P
_TOTAL_RE = re.compile(r"^P(\d\d)_POP$")
# Age groups of load_population() and their bounds (None: open-ended).
POPULATION_GROUPS = {
    "pop_0_14": (0, 14), "pop_15_24": (15, 24), "pop_25_54": (25, 54), "pop_55_64": (55, 64),
    "pop_65_79": (65, 79), "pop_80p": (80, None), "pop_60p": (60, None), "pop_65p": (65, None),
    "pop_75p": (75, None), "pop_0_19": (0, 19),
}
COMMUNES_COLUMNS = ["code_commune", "nom", "dep", "nom_dep", "reg", "nom_reg", "epci_siren",
                    "epci_nom", "epci_nature", "bv2022", "lib_bv2022", "ze2020", "aav2020", "uu2020",
                    "arr", "can"]
POLYGON_COLUMNS = ["code_commune", "nom", "dep", "reg", "epci_siren", "surface_km2",
                   "surface_km2_ign", "geometry"]


# --- reading tables: CSV, zipped CSV/xlsx, xlsx with title rows --------------------------------

def _zip_member(path: Path, pattern: str) -> tuple[str, bytes]:
    """The bytes of the one member of a zip archive whose file name matches ``pattern``."""
    with zipfile.ZipFile(path) as zf:
        names = [n for n in zf.namelist() if not n.endswith("/") and "__MACOSX" not in n]
        hits = [n for n in names if re.search(pattern, Path(n).name, re.IGNORECASE)
                and not Path(n).name.lower().startswith("meta_")]
        if len(hits) != 1:
            raise WorkbookFormatError(
                f"{Path(path).name} : un seul fichier de l'archive doit correspondre à {pattern!r}, "
                f"trouvé : {', '.join(hits) or 'aucun'} parmi {', '.join(names)}. Correctif : "
                "téléchargez à nouveau l'archive du producteur, ou donnez le fichier extrait."
            )
        return hits[0], zf.read(hits[0])


def _read_csv_bytes(data: bytes, where: str) -> pd.DataFrame:
    """Parse an INSEE-style CSV (``;`` or ``,`` separated, UTF-8 or Latin-1) as text columns."""
    for enc in ("utf-8-sig", "latin-1"):
        try:
            text = data.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    first = text.split("\n", 1)[0]
    sep = ";" if first.count(";") > first.count(",") else ","
    df = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, na_values=[""])
    df.columns = [str(c).strip().strip('"') for c in df.columns]
    if df.shape[1] < 2:
        raise WorkbookFormatError(f"{where} : colonnes de ce CSV impossibles à séparer (ni « ; » ni "
                                  "« , »). Correctif : vérifiez qu'il s'agit du CSV du producteur.")
    return df


def _xlsx_table(source, required: set[str], where: str, sheet: str | None = None) -> pd.DataFrame:
    """Read the table of an Excel sheet whose header row holds all ``required`` names.

    Title rows above the header are skipped by searching for the header; the table ends at the
    first empty row. ``sheet``: sheet name (default: the first sheet that has such a header).
    """
    import openpyxl

    try:
        wb = openpyxl.load_workbook(source, read_only=True, data_only=True)
    except Exception as exc:
        raise WorkbookFormatError(f"{where} n'est pas un classeur Excel lisible ({exc}). "
                                  "Correctif : téléchargez à nouveau le fichier du producteur.") from exc
    try:
        # commune sheets (INSEE's COM_<year>) before the arrondissement ones (ARM_<year>)
        names = [sheet] if sheet else sorted(wb.sheetnames, key=lambda n: not n.upper().startswith("COM"))
        if sheet and sheet not in wb.sheetnames:
            raise WorkbookFormatError(f"{where} : pas de feuille « {sheet} » (feuilles : "
                                      f"{', '.join(wb.sheetnames)}). Correctif : vérifiez qu'il "
                                      "s'agit du classeur du producteur.")
        for name in names:
            rows = wb[name].iter_rows(values_only=True)
            header = None
            for n, row in enumerate(rows):
                cells = ["" if c is None else str(c).strip() for c in row]
                if required <= set(cells):
                    header = cells
                    break
                if n >= HEADER_SCAN_ROWS:
                    break
            if header is None:
                continue
            data = []
            for row in rows:
                if row is None or all(c is None or str(c).strip() == "" for c in row):
                    if data:
                        break
                    continue
                data.append(["" if c is None else str(c).strip() for c in row][:len(header)])
            keep = [i for i, h in enumerate(header) if h]
            df = pd.DataFrame([[r[i] if i < len(r) else "" for i in keep] for r in data],
                              columns=[header[i] for i in keep], dtype=str)
            return df.replace("", np.nan)
    finally:
        wb.close()
    raise WorkbookFormatError(
        f"{where} : aucune ligne d'en-tête avec les colonnes {', '.join(sorted(required))} dans les "
        f"{HEADER_SCAN_ROWS} premières lignes "
        f"{'de la feuille « ' + sheet + ' »' if sheet else 'des feuilles'}. Correctif : vérifiez "
        "qu'il s'agit du fichier du producteur."
    )


def read_official_table(path: Path | str, member: str = r"\.(csv|xlsx)$",
                        required: Iterable[str] = ("CODGEO",), sheet: str | None = None) -> pd.DataFrame:
    """Read a publisher's table as text columns, whatever its packaging.

    ``path`` may be a CSV (``;`` or ``,``), an ``.xlsx`` with title rows, or a ``.zip`` holding
    one of them (the member whose name matches the regex ``member``; ``meta_*`` files are
    skipped). ``required`` names the columns that identify the header row of a sheet.
    """
    path = Path(path)
    req = set(required)
    suffix = path.suffix.lower()
    if suffix == ".zip":
        name, data = _zip_member(path, member)
        where = f"{path.name}!{name}"
        if name.lower().endswith(".xlsx"):
            return _xlsx_table(io.BytesIO(data), req, where, sheet)
        df = _read_csv_bytes(data, where)
    elif suffix in (".xlsx", ".xlsm"):
        return _xlsx_table(path, req, path.name, sheet)
    else:
        opener = gzip.open if suffix == ".gz" else open
        with opener(path, "rb") as fh:
            df = _read_csv_bytes(fh.read(), path.name)
    missing = req - set(df.columns)
    if missing:
        raise WorkbookFormatError(f"{path.name} : colonne(s) absente(s) : {', '.join(sorted(missing))} "
                                  f"(trouvées : {', '.join(list(df.columns)[:12])}…). Correctif : "
                                  "vérifiez qu'il s'agit du fichier du producteur.")
    return df


def _codes(s: pd.Series, width: int = 5) -> pd.Series:
    """Commune-like codes as text, leading zeros restored (Excel may store them as numbers)."""
    s = s.astype("string").str.strip().str.replace(r"\.0$", "", regex=True)
    return s.where(~s.str.fullmatch(r"\d+").fillna(False), s.str.zfill(width))


def _numeric(df: pd.DataFrame, cols: Iterable[str]) -> pd.DataFrame:
    """Text columns → numbers with the dtypes ``read_csv`` would infer (int64 or float64)."""
    for c in cols:
        text = (df[c].astype("string").str.replace(",", ".", regex=False)
                .str.replace("\u00a0", "", regex=False).str.strip())
        df[c] = pd.to_numeric(pd.Series(text.to_numpy(dtype=object, na_value=np.nan), index=df.index),
                              errors="coerce")
    return df


def _fold_arrondissements(df: pd.DataFrame, code: str, counts: list[str]) -> pd.DataFrame:
    """Drop arrondissement rows when their commune has a row; else sum them into the commune."""
    arm = df[code].str.fullmatch(_ARM_RE).fillna(False)
    if not arm.any():
        return df
    present = set(df.loc[~arm, code])
    parent = df.loc[arm, code].str[:2].map(_ARM_PARENT)
    to_sum = df.loc[arm & ~parent.reindex(df.index).isin(present).fillna(False)].copy()
    rest = df.loc[~arm]
    if to_sum.empty:
        return rest.reset_index(drop=True)
    to_sum[code] = to_sum[code].str[:2].map(_ARM_PARENT)
    summed = to_sum.groupby(code, as_index=False)[counts].sum(min_count=1)
    return pd.concat([rest, summed], ignore_index=True)


# --- INSEE: RP « évolution et structure de la population » ----------------------------------------

def rp_cog(year: int) -> int:
    """COG vintage of INSEE's RP ``year`` commune files: published in June of year + 3 on the
    geography of 1 January of that year (RP 2022 → COG 2025)."""
    return int(year) + 3


def _rp_year(path: Path, columns: Iterable[str]) -> int:
    years = sorted({int(m.group(1)) for c in columns if (m := _TOTAL_RE.match(c) or _BAND_RE.match(c))})
    if not years:
        raise WorkbookFormatError(f"{path.name} : aucune colonne P<aa>_POP. Correctif : donnez le "
                                  "fichier base-cc-evol-struct-pop de l'Insee (CSV, zip ou xlsx).")
    col_year = 2000 + years[-1]
    m = re.search(r"(?<!\d)(20\d\d)(?!\d)", path.name)
    if m and int(m.group(1)) != col_year:
        raise WorkbookFormatError(
            f"{path.name} : le nom du fichier indique {m.group(1)} mais les colonnes de population "
            f"les plus récentes sont P{years[-1]:02d}_… ({col_year}). Correctif : renommez le "
            "fichier ou précisez year=."
        )
    return col_year


def read_insee_population_age(path: Path | str, year: int | None = None, cog: int | None = None,
                              passage: pd.DataFrame | None = None,
                              names: pd.DataFrame | None = None) -> pd.DataFrame:
    """INSEE ``base-cc-evol-struct-pop-<year>`` (CSV, zipped CSV or xlsx) → the frame of
    :func:`cpts_diag.loaders.load_population_age_insee`.

    Columns: ``code_commune``, ``CODGEO``, ``LIBGEO``, the age bands ``P<yy>_POP<band>`` of the
    census year, the totals of earlier censuses (``P16_POP``, ``P11_POP``, …), then
    ``P<yy>_POP``. ``year`` is read from the file name and columns unless given; ``cog`` defaults
    to :func:`rp_cog` (year + 3). When ``cog`` < 2025 the counts are moved to COG 2025 with
    ``passage`` (required then; merged communes are summed). ``names``: a COG 2025 commune frame
    (``code_commune``, ``nom``) to fill ``LIBGEO`` when the file has none. Arrondissements of
    Paris, Lyon, Marseille are dropped when their commune has a row (else summed into it).
    """
    path = Path(path)
    raw = read_official_table(path, member=r"^base-cc-.*\.(csv|xlsx)$", required=("CODGEO",))
    if year is None:
        year = _rp_year(path, raw.columns)
    yy = f"{int(year) % 100:02d}"
    bands = [c for c in raw.columns if (m := _BAND_RE.match(c)) and m.group(1) == yy]
    totals = sorted([c for c in raw.columns if (m := _TOTAL_RE.match(c)) and m.group(1) != yy],
                    reverse=True)
    main = f"P{yy}_POP"
    if main not in raw.columns and not bands:
        raise WorkbookFormatError(f"{path.name} : ni colonne {main} ni tranche d'âge de {year}. "
                                  "Correctif : vérifiez l'année (year=) ou le fichier.")
    df = pd.DataFrame({"CODGEO": _codes(raw["CODGEO"])})
    df["LIBGEO"] = (raw["LIBGEO"] if "LIBGEO" in raw else pd.Series(pd.NA, index=df.index)).astype("string")
    counts = bands + totals + ([main] if main in raw.columns else [])
    for c in counts:
        df[c] = raw[c]
    df = _numeric(df, counts)
    if main not in df.columns:
        df[main] = df[bands].sum(axis=1, min_count=len(bands))
    counts = bands + totals + [main]
    df = _fold_arrondissements(df, "CODGEO", counts)
    cog = rp_cog(int(year)) if cog is None else int(cog)
    if cog < 2025:
        if passage is None:
            raise HarmonisationError(
                f"{path.name} est sur le COG {cog} : le passer au COG 2025 demande la table de "
                "passage. Correctif : donnez passage=cpts_diag.loaders.load_passage() (installée "
                "par `cpts-diag data install --from ../shared/opendata`)."
            )
        df, report = harmonise_to_cog2025(df, passage, code_col="CODGEO", counts=counts,
                                          first=["LIBGEO"], from_cog=cog)
        changed = set(report.recoded.values()) | set(report.merged_into)
        df["LIBGEO"] = df["LIBGEO"].astype("string").where(~df["CODGEO"].isin(changed))
    if names is not None:
        nm = names.set_index("code_commune")["nom"]
        df["LIBGEO"] = df["LIBGEO"].astype("string").fillna(df["CODGEO"].map(nm).astype("string"))
    df.insert(0, "code_commune", df["CODGEO"].astype("string"))
    df["CODGEO"] = df["CODGEO"].astype("string")
    out = df[["code_commune", "CODGEO", "LIBGEO", *bands, *totals, main]].sort_values("code_commune")
    out = out.reset_index(drop=True)
    out.attrs = {"source": {"file": path.name, "year": int(year), "cog": cog, "cog_out": 2025}}
    return out


def _age_bands(columns: Iterable[str], yy: str) -> dict[str, tuple[int, int | None]]:
    out = {}
    for c in columns:
        m = _BAND_RE.match(c)
        if m and m.group(1) == yy:
            out[c] = (int(m.group(2)), None if m.group(3) == "P" else int(m.group(3)))
    return out


def _compose(lo: int, hi: int | None, bands: dict[str, tuple[int, int | None]]) -> list[str] | None:
    """Bands that exactly partition the ages ``lo``–``hi`` (None: open), or None if impossible."""
    for col, (b_lo, b_hi) in bands.items():
        if b_lo != lo:
            continue
        if b_hi == hi:
            return [col]
        if b_hi is not None and (hi is None or b_hi < hi):
            rest = _compose(b_hi + 1, hi, bands)
            if rest is not None:
                return [col, *rest]
    return None


def population_from_insee_age(age: pd.DataFrame, year: int | None = None) -> pd.DataFrame:
    """Map an INSEE age frame (:func:`read_insee_population_age`) to the shape of
    :func:`cpts_diag.loaders.load_population`.

    ``pop_<year>`` and the earlier totals (``pop_2016``, ``pop_2011``) are INSEE's. An age group
    of ``load_population`` (``pop_0_14``, ``pop_60p``, ``pop_75p``…) is filled only when INSEE's
    bands add up to it exactly (RP base-cc: 0–14, 60+, 75+); the others are NaN. INSEE's own bands
    are added as ``pop_15_29``, ``pop_30_44``, ``pop_45_59``, ``pop_60_74``, ``pop_75_89``,
    ``pop_90p``… ``n_iris`` is empty, ``source`` = ``insee_base_cc``.
    """
    if year is None:
        year = max(2000 + int(m.group(1)) for c in age.columns if (m := _TOTAL_RE.match(c)))
    yy = f"{int(year) % 100:02d}"
    bands = _age_bands(age.columns, yy)
    out = pd.DataFrame({"code_commune": age["code_commune"].astype("string")})
    out[f"pop_{year}"] = age[f"P{yy}_POP"].astype(float)
    for c in sorted((c for c in age.columns if _TOTAL_RE.match(c) and c != f"P{yy}_POP"), reverse=True):
        out[f"pop_{2000 + int(c[1:3])}"] = age[c].astype(float)
    for name, (lo, hi) in POPULATION_GROUPS.items():
        parts = _compose(lo, hi, bands)
        out[name] = (age[parts].sum(axis=1, min_count=len(parts)).round(1) if parts
                     else np.nan)
    for col, (lo, hi) in bands.items():
        name = f"pop_{lo}p" if hi is None else f"pop_{lo}_{hi}"
        if name not in out:
            out[name] = age[col].astype(float)
    out["n_iris"] = pd.array([pd.NA] * len(out), dtype="Int64")
    out["source"] = "insee_base_cc"
    out[f"complet_{year}"] = 1
    out["note"] = pd.Series(pd.NA, index=out.index, dtype="string")
    out.attrs = dict(age.attrs)
    return out


# --- INSEE: COG and intercommunalités ------------------------------------------------------------

def read_epci_composition(path: Path | str) -> pd.DataFrame:
    """INSEE ``Intercommunalite_Metropole_au_01-01-<year>`` (xlsx, or the zip INSEE ships) →
    ``code_commune``, ``epci_siren``, ``epci_nom``, ``epci_nature``, ``dep``, ``reg``.

    Reads sheet ``Composition_communale`` (header found by its content: CODGEO, LIBGEO, EPCI,
    LIBEPCI, DEP, REG) and, when present, sheet ``EPCI`` for ``NATURE_EPCI``.
    """
    path = Path(path)
    member = r"^intercommunalite.*\.xlsx$"
    src = io.BytesIO(_zip_member(path, member)[1]) if path.suffix.lower() == ".zip" else path
    comp = _xlsx_table(src, {"CODGEO", "EPCI", "LIBEPCI"}, path.name, sheet="Composition_communale")
    out = pd.DataFrame({
        "code_commune": _codes(comp["CODGEO"]),
        "epci_siren": _codes(comp["EPCI"], 9),
        "epci_nom": comp["LIBEPCI"].astype("string"),
        "dep": comp["DEP"].astype("string") if "DEP" in comp else pd.NA,
        "reg": _codes(comp["REG"], 2) if "REG" in comp else pd.NA,
    })
    try:
        if isinstance(src, io.BytesIO):
            src.seek(0)
        epci = _xlsx_table(src, {"EPCI", "NATURE_EPCI"}, path.name, sheet="EPCI")
        nature = dict(zip(_codes(epci["EPCI"], 9), epci["NATURE_EPCI"].astype("string")))
        out["epci_nature"] = out["epci_siren"].map(nature).astype("string")
    except WorkbookFormatError:
        out["epci_nature"] = pd.Series(pd.NA, index=out.index, dtype="string")
    # INSEE's « sans objet » EPCI of the island communes has no nature
    out.loc[out["epci_siren"] == "ZZZZZZZZZ", "epci_nature"] = pd.NA
    return out[["code_commune", "epci_siren", "epci_nom", "epci_nature", "dep", "reg"]]


def read_cog_communes(path: Path | str, epci: Path | str | pd.DataFrame | None = None,
                      departements: Path | str | None = None,
                      regions: Path | str | None = None) -> pd.DataFrame:
    """INSEE COG ``v_commune_<year>.csv`` → the frame of :func:`cpts_diag.loaders.load_communes`.

    Keeps ``TYPECOM == "COM"`` rows. Fills ``code_commune``, ``nom`` (LIBELLE), ``dep``, ``reg``,
    ``arr``, ``can``; ``nom_dep`` / ``nom_reg`` from ``v_departement_<year>.csv`` /
    ``v_region_<year>.csv`` and the EPCI columns from INSEE's intercommunalité workbook when given.
    Zonings (``bv2022``, ``ze2020``, ``aav2020``, ``uu2020``…) come from other INSEE tables and stay
    empty. The codes are those of the file's own COG (a COG file defines its vintage; no
    harmonisation), given in ``attrs['source']['cog']``.
    """
    path = Path(path)
    raw = read_official_table(path, member=r"commune.*\.csv$", required=("TYPECOM", "COM"))
    raw = raw[raw["TYPECOM"].str.strip() == "COM"].reset_index(drop=True)
    out = pd.DataFrame({c: pd.Series(pd.NA, index=raw.index, dtype="string") for c in COMMUNES_COLUMNS})
    out["code_commune"] = _codes(raw["COM"])
    out["nom"] = raw["LIBELLE"].astype("string")
    out["dep"] = raw["DEP"].astype("string")
    out["reg"] = _codes(raw["REG"], 2)
    out["arr"] = raw["ARR"].astype("string")
    out["can"] = raw["CAN"].astype("string")
    if departements is not None:
        d = read_official_table(departements, member=r"departement.*\.csv$", required=("DEP", "LIBELLE"))
        out["nom_dep"] = out["dep"].map(dict(zip(d["DEP"], d["LIBELLE"]))).astype("string")
    if regions is not None:
        r = read_official_table(regions, member=r"region.*\.csv$", required=("REG", "LIBELLE"))
        out["nom_reg"] = out["reg"].map(dict(zip(_codes(r["REG"], 2), r["LIBELLE"]))).astype("string")
    if epci is not None:
        e = epci if isinstance(epci, pd.DataFrame) else read_epci_composition(epci)
        e = e.set_index("code_commune")
        for c in ("epci_siren", "epci_nom", "epci_nature"):
            out[c] = out["code_commune"].map(e[c]).astype("string")
    m = re.search(r"(20\d\d)", path.name)
    out.attrs = {"source": {"file": path.name, "cog": int(m.group(1)) if m else None}}
    return out


# --- Etalab / IGN: commune contours ------------------------------------------------------------------

_PROP_ALIASES = {
    "code_commune": ("code", "codeCommune", "code_commune", "INSEE_COM", "insee_com"),
    "nom": ("nom", "NOM", "nom_commune", "NOM_COM"),
    "dep": ("departement", "codeDepartement", "dep", "INSEE_DEP", "code_departement"),
    "reg": ("region", "codeRegion", "reg", "INSEE_REG", "code_region"),
    "epci_siren": ("epci", "codeEpci", "epci_siren", "SIREN_EPCI", "siren_epci"),
}


def read_commune_contours(path: Path | str, cog: int = 2025, departements: Iterable[str] | None = None,
                          metro_only: bool = False, passage: pd.DataFrame | None = None,
                          communes: pd.DataFrame | None = None):
    """Etalab « contours administratifs » ``communes-<resolution>.geojson[.gz]`` (or any GeoJSON /
    GeoPackage of communes with IGN ``INSEE_COM`` or geo.api.gouv.fr property names) → the frame of
    :func:`cpts_diag.loaders.load_commune_polygons`.

    ``surface_km2`` is computed in Lambert-93 (EPSG:2154), km², 3 decimals; ``surface_km2_ign``
    (not in these files) is NaN; geometry in WGS84. ``departements`` / ``metro_only`` filter the
    communes. When ``cog`` < 2025, polygons are recoded with ``passage`` and dissolved into their
    COG 2025 commune; ``communes`` (a COG 2025 commune frame) then supplies names and codes.
    """
    import geopandas as gpd

    path = Path(path)
    src = f"/vsigzip/{path}" if path.suffix.lower() == ".gz" else str(path)
    gdf = gpd.read_file(src, engine="pyogrio")
    gdf = gdf.set_crs(4326) if gdf.crs is None else gdf.to_crs(4326)
    cols = {}
    for out, aliases in _PROP_ALIASES.items():
        hit = next((a for a in aliases if a in gdf.columns), None)
        cols[out] = gdf[hit].astype("string") if hit else pd.Series(pd.NA, index=gdf.index, dtype="string")
    if cols["code_commune"].isna().all():
        raise WorkbookFormatError(f"{path.name} : aucune propriété de code commune "
                                  f"({', '.join(_PROP_ALIASES['code_commune'])}). Correctif : "
                                  "donnez la couche des communes d'Etalab/IGN.")
    out = gpd.GeoDataFrame(cols, geometry=gdf.geometry.values, crs=4326)
    out["code_commune"] = _codes(out["code_commune"])
    if cog < 2025:
        if passage is None:
            raise HarmonisationError(f"{path.name} est sur le COG {cog} (table de passage requise). "
                                     "Correctif : donnez passage=cpts_diag.loaders.load_passage() "
                                     "pour le passer au COG 2025.")
        target = out["code_commune"].map(passage.set_index("code_commune_source")["code_commune_cog2025"])
        if target.isna().any():
            raise HarmonisationError(f"{path.name} : code(s) absent(s) de la table de passage : "
                                     f"{', '.join(sorted(out.loc[target.isna(), 'code_commune'])[:20])}. "
                                     "Correctif : installez une table de passage qui les couvre "
                                     "(`cpts-diag data install --from ../shared/opendata`).")
        out["code_commune"] = target.astype("string")
        out = out.dissolve(by="code_commune", aggfunc="first", as_index=False)
    if communes is not None:
        c = communes.set_index("code_commune")
        for col in ("nom", "dep", "reg", "epci_siren"):
            out[col] = out["code_commune"].map(c[col]).astype("string").fillna(out[col])
    if out["dep"].isna().any():
        guess = out["code_commune"].str[:2].where(~out["code_commune"].str.startswith("97"),
                                                   out["code_commune"].str[:3])
        out["dep"] = out["dep"].fillna(guess)
    if departements is not None:
        out = out[out["dep"].isin(list(departements))]
    if metro_only:
        out = out[~out["dep"].str.startswith("97")]
    out = out.copy()
    out["surface_km2"] = (out.geometry.to_crs(2154).area / 1e6).round(3)
    out["surface_km2_ign"] = np.nan
    out = out[POLYGON_COLUMNS].sort_values("code_commune").reset_index(drop=True)
    out.attrs = {"source": {"file": path.name, "cog": cog}}
    return out

