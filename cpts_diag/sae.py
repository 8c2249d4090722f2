"""Care-offer files of the data contract not covered by the indicator registry (§7, §3.11, §3.15).

- **SAE 2022** (``drees/sae2022_etablissements.csv``): every sanitary establishment that filed the
  DREES annual statistics of 2022. :func:`sae_establishments` gives each one its French category
  and its status (public / privé non lucratif / privé lucratif, from ``categorie_regroupee``);
  :func:`merge_with_finess` puts it together with the FINESS 2020 extract (§3.16): the SAE row
  replaces the FINESS row of the same FINESS géographique number; a FINESS care entity absent
  from the SAE is kept; each row names its source (column ``source``).
- **MSP and centres de santé** (BPE 2024, D113 and D108): :func:`structures_by_commune`.
- **Age of liberal nurses** (DREES, SNDS, 2012–2023): :func:`nurse_age_shares`. The bundle has
  no age for physicians (``drees/medecins_departement_specialite_2012_2025.csv`` keeps all ages
  together): nothing is computed for them.

Loaders name their vintage; the other functions are pure (frames in, frames out).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .finess import HOSPITAL_CATEGORIES, classify_hospitals
from .store import cached

__all__ = ["SAE_SOURCE", "FINESS_SOURCE", "STATUS_BY_GROUP", "STATUSES", "CATEGORY_FROM_CONTRACT",
           "ESTABLISHMENT_COLUMNS", "STRUCTURE_TYPES", "NURSE_AGE_BANDS", "load_sae",
           "load_nurse_ages", "category_labels", "sae_establishments", "finess_establishments",
           "merge_with_finess", "place_at_commune_centres", "structures_by_commune", "nurse_age_shares"]

SAE_SOURCE = "DREES, SAE 2022"
FINESS_SOURCE = "FINESS 2020"
#: SAE grouping (first letters of ``categorie_regroupee``) -> status shown in the report
STATUS_BY_GROUP = {"PUB": "public", "PNL": "privé non lucratif", "PLU": "privé lucratif"}
#: every status a merged row can have, in display order, with its singular and plural for the text
STATUSES = (("public", "public", "publics"),
            ("privé non lucratif", "privé non lucratif", "privés non lucratifs"),
            ("privé lucratif", "privé lucratif", "privés lucratifs"),
            ("privé", "privé (FINESS 2020, sans précision)", "privés (FINESS 2020, sans précision)"),
            ("non renseigné", "de statut non renseigné", "de statut non renseigné"))
#: FINESS category codes whose meaning the data contract states but the file does not label
CATEGORY_FROM_CONTRACT = {"127": "Hospitalisation à domicile"}
#: columns of the merged establishment frame (territory frames add ``commune``)
ESTABLISHMENT_COLUMNS = ("finess", "nom", "site", "type", "categorie", "categorie_code", "statut",
                         "entite_juridique", "code_commune", "adresse", "lat", "lon", "source")
#: BPE 2024 types counted in section 5.1 bis: column name -> (TYPEQU, French label)
STRUCTURE_TYPES = {"msp": ("D113", "Maisons de santé pluriprofessionnelles"),
                   "cds": ("D108", "Centres de santé")}
#: age bands of the DREES nurse file summed for each share (key: lower age bound)
NURSE_AGE_BANDS = {55: ("Entre 55 et 59 ans", "Entre 60 et 64 ans", "65 ans et plus"),
                   60: ("Entre 60 et 64 ans", "65 ans et plus")}
_ALL = "Ensemble"


# --- loaders ----------------------------------------------------------------------------------------

def _read(codes: tuple[str, ...]):
    def read(path) -> pd.DataFrame:
        return pd.read_csv(path, dtype={c: "string" for c in codes}, keep_default_na=False,
                           na_values=[""], low_memory=False)
    return read


def load_sae(vintage: int = 2022) -> pd.DataFrame:
    """DREES SAE 2022 establishments (contract §7), one row per FINESS géographique.

    Columns as in the file: ``finess``, ``raison_sociale``, ``finess_entite_juridique``,
    ``statut_juridique``, ``categorie`` (FINESS category code), ``categorie_regroupee`` (PUB / PNL /
    PLU + class number), ``dep``, ``reg``, ``code_commune_cog2025`` (DERIVED, empty for DROM),
    ``categorie_libelle_derive`` (DERIVED from FINESS 2020, often empty). Optional source: raises
    :class:`~cpts_diag.errors.DataNotInstalledError` on a snapshot without it."""
    codes = ("finess", "finess_entite_juridique", "statut_juridique", "statut_juridique_regroupe",
             "categorie", "categorie_regroupee", "dep", "reg", "code_commune_source",
             "code_commune_cog2025")
    return cached("sae_2022", vintage, _read(codes))


def load_nurse_ages(vintage: int = 2023) -> pd.DataFrame:
    """Active liberal nurses by département / région / France, sex and 5-year age band, 2012–2023
    (DREES, SNDS; contract §3.15). Columns ``niveau`` (departement, region, france_hors_mayotte),
    ``reg``, ``nom_reg``, ``dep``, ``nom_dep``, ``sexe``, ``tranche_age`` (« Ensemble » = total),
    ``annee``, ``effectif``. Optional source (DataNotInstalledError when absent)."""
    return cached("nurses_age_drees", vintage, _read(("reg", "dep")))


# --- SAE and FINESS -----------------------------------------------------------------------------------

def category_labels(sae: pd.DataFrame) -> dict[str, str]:
    """FINESS category code -> French category (pure): the most frequent derived FINESS 2020 label
    of the code in ``sae``, in the words of :data:`HOSPITAL_CATEGORIES`; else the label stated by
    the data contract (:data:`CATEGORY_FROM_CONTRACT`); else « Autre catégorie FINESS (code …) »."""
    out = {}
    for code, labels in sae.groupby("categorie", sort=True)["categorie_libelle_derive"]:
        lab = labels.dropna().mode()
        if len(lab):
            out[code] = HOSPITAL_CATEGORIES.get(lab.iloc[0], lab.iloc[0])
        else:
            out[code] = CATEGORY_FROM_CONTRACT.get(code, f"Autre catégorie FINESS (code {code})")
    return out


def sae_establishments(sae: pd.DataFrame | None, communes=None) -> pd.DataFrame:
    """The SAE establishments (of ``communes``, COG 2025 codes, if given; none if ``sae`` is None)
    with the columns of
    :data:`ESTABLISHMENT_COLUMNS` (pure). ``statut`` comes from ``categorie_regroupee``
    (:data:`STATUS_BY_GROUP`; another code: « non renseigné »); ``type`` is the category label;
    ``site``, ``adresse``, ``lat``, ``lon`` are empty (the SAE has no address); ``source`` is
    :data:`SAE_SOURCE`. Category labels are computed on the whole ``sae`` before the selection."""
    if sae is None:  # not installed: no SAE row
        return pd.DataFrame(columns=list(ESTABLISHMENT_COLUMNS))
    labels = category_labels(sae)
    s = sae if communes is None else sae[sae["code_commune_cog2025"].isin(list(communes))]
    group = s["categorie_regroupee"].astype("string").str.extract(r"^([A-Z]+)", expand=False)
    cat = s["categorie"].map(labels)
    out = pd.DataFrame({
        "finess": s["finess"], "nom": s["raison_sociale"], "site": None, "type": cat,
        "categorie": cat, "categorie_code": s["categorie"],
        "statut": group.map(STATUS_BY_GROUP).fillna("non renseigné"),
        "entite_juridique": s["finess_entite_juridique"], "code_commune": s["code_commune_cog2025"],
        "adresse": None, "lat": np.nan, "lon": np.nan, "source": SAE_SOURCE})
    return out.reset_index(drop=True)


def finess_establishments(finess: pd.DataFrame) -> pd.DataFrame:
    """FINESS 2020 rows (columns of ``finess/etablissements_sante.csv``) with the columns of
    :data:`ESTABLISHMENT_COLUMNS` (pure): ``categorie`` as in :func:`cpts_diag.finess.classify_hospitals`,
    ``statut`` public / privé / non renseigné, ``source`` :data:`FINESS_SOURCE`."""
    c = classify_hospitals(finess)
    statut = c["statut"].astype("string").str.strip().str.lower().map(
        {"public": "public", "prive": "privé", "privé": "privé"}).fillna("non renseigné")
    out = pd.DataFrame({
        "finess": c["finess"], "nom": c["nom"], "site": c.get("site"), "type": c["type"],
        "categorie": c["categorie"], "categorie_code": None, "statut": statut,
        "entite_juridique": None, "code_commune": c["code_commune"], "adresse": c.get("adresse"),
        "lat": c["lat"], "lon": c["lon"], "source": FINESS_SOURCE})
    return out.reset_index(drop=True)


def merge_with_finess(sae_est: pd.DataFrame, finess: pd.DataFrame) -> pd.DataFrame:
    """SAE establishments (:func:`sae_establishments`) and FINESS 2020 entities (raw rows), merged
    (pure). An SAE row replaces the FINESS row of the same ``finess`` number and takes its site,
    address and coordinates; a FINESS entity absent from the SAE is kept. Entities that are not
    places of care (:data:`cpts_diag.finess.NON_CARE_ENTITIES`, matched on the name) are then left
    out, whatever their source. Columns: :data:`ESTABLISHMENT_COLUMNS`."""
    fin = finess_establishments(finess)
    where = fin.drop_duplicates("finess").set_index("finess")
    s = sae_est.copy()
    for col in ("site", "adresse", "lat", "lon"):
        s[col] = s["finess"].map(where[col])
    kept = fin[~fin["finess"].isin(s["finess"])]
    parts = [p for p in (s, kept) if len(p)]
    out = (pd.concat(parts, ignore_index=True) if parts else s)[list(ESTABLISHMENT_COLUMNS)]
    care = classify_hospitals(out)["exclusion"].isna()
    return out[care.to_numpy()].reset_index(drop=True)


#: :func:`national_establishments` of the installed files, keyed by their paths, sizes and dates.
_NATIONAL: dict[tuple, pd.DataFrame] = {}


def national_establishments() -> pd.DataFrame:
    """:func:`merge_with_finess` of the installed SAE 2022 and FINESS 2020 files, computed once per
    process for the same files (a warm batch kernel or a notebook session reuses it; a changed
    file gives a new key). Raises :class:`cpts_diag.errors.DataNotInstalledError` when the SAE
    file is missing (the caller falls back to FINESS alone)."""
    from .loaders import load_hospitals
    from .store import source_path

    key = tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns)
                for p in (source_path("sae_2022", 2022)[2], source_path("hospitals", 2020)[2]))
    if key not in _NATIONAL:
        _NATIONAL.clear()
        _NATIONAL[key] = merge_with_finess(sae_establishments(load_sae()), load_hospitals())
    return _NATIONAL[key].copy(deep=False)


def establishments_of(sae_frame, hospitals: pd.DataFrame | None, installed: bool) -> pd.DataFrame:
    """Every care establishment: with ``installed`` (no frame given, the installed files),
    :func:`national_establishments` (cached); else :func:`merge_with_finess` of ``sae_frame()``
    (the given SAE frame, or None when it is absent or empty) and ``hospitals`` (default: the
    installed FINESS file)."""
    from .errors import DataNotInstalledError
    from .loaders import load_hospitals

    if installed:
        try:
            return national_establishments()
        except DataNotInstalledError:  # no SAE file: FINESS alone, below
            pass
    return merge_with_finess(sae_establishments(sae_frame()),
                             hospitals if hospitals is not None else load_hospitals())


def place_at_commune_centres(est: pd.DataFrame, polygons) -> pd.DataFrame:
    """``est`` with ``localisation``: ``adresse`` where it has ``lat``/``lon``, else ``centre de
    la commune`` and the coordinates (WGS84) of a point inside its commune's polygon, taken from
    ``polygons`` (GeoDataFrame ``code_commune``, ``geometry``); a commune without a polygon
    leaves the coordinates empty (pure)."""
    from .geometry import LAMBERT93, WGS84

    p = polygons[polygons.geometry.notna() & ~polygons.geometry.is_empty]
    p = p.drop_duplicates("code_commune")
    pts = p.to_crs(LAMBERT93).geometry.representative_point().to_crs(WGS84)
    lon = pd.Series(pts.x.to_numpy(), index=p["code_commune"].to_numpy())
    lat = pd.Series(pts.y.to_numpy(), index=p["code_commune"].to_numpy())
    out = est.copy()
    todo = out["lat"].isna() | out["lon"].isna()
    out["localisation"] = np.where(todo, "centre de la commune", "adresse")
    for col, where in (("lon", lon), ("lat", lat)):
        placed = pd.to_numeric(out["code_commune"].map(where), errors="coerce")
        out[col] = pd.to_numeric(out[col], errors="coerce").where(~todo, placed)
    return out


# --- BPE: MSP and centres de santé ------------------------------------------------------------------

def structures_by_commune(bpe: pd.DataFrame, communes) -> pd.DataFrame:
    """MSP (D113) and centres de santé (D108) recorded by the BPE in each of ``communes`` (pure).

    ``bpe``: long frame ``code_commune``, ``typequ``, ``nb``. Returns one row per commune:
    ``code_commune``, ``msp``, ``cds`` (a commune absent for a type has 0 of it: the BPE lists only
    present equipment)."""
    codes = list(dict.fromkeys(communes))
    out = pd.DataFrame({"code_commune": codes})
    for col, (typequ, _) in STRUCTURE_TYPES.items():
        b = bpe[(bpe["typequ"] == typequ) & bpe["code_commune"].isin(codes)]
        out[col] = out["code_commune"].map(b.groupby("code_commune")["nb"].sum()).fillna(0).astype(int)
    return out


# --- age of liberal nurses --------------------------------------------------------------------------

def nurse_age_shares(ages: pd.DataFrame, deps=(), regions=(), year: int | None = None) -> pd.DataFrame:
    """Share of liberal nurses aged 55 or more and 60 or more, both sexes, in ``year`` (default:
    the latest of the file), for the départements ``deps``, the régions ``regions`` and France
    (hors Mayotte) (pure). Returns ``niveau``, ``code``, ``nom``, ``annee``, ``effectif`` (all
    ages), ``effectif_55p``, ``effectif_60p``, ``part_55p``, ``part_60p`` (%, NaN if no total);
    an area absent from the file has no row."""
    a = ages[ages["sexe"] == _ALL]
    year = int(a["annee"].max()) if year is None else int(year)
    a = a[a["annee"] == year]
    wanted = ([("departement", "dep", "nom_dep", str(c)) for c in deps]
              + [("region", "reg", "nom_reg", str(c)) for c in regions]
              + [("france_hors_mayotte", None, None, "FR")])
    rows = []
    for niveau, col, name_col, code in wanted:
        sel = a[a["niveau"] == niveau]
        if col is not None:
            sel = sel[sel[col] == code]
        total = sel.loc[sel["tranche_age"] == _ALL, "effectif"]
        if not len(total):
            continue
        n = float(total.iloc[0])
        row = {"niveau": niveau, "code": code, "annee": year, "effectif": n,
               "nom": str(sel[name_col].iloc[0]) if name_col else "France (hors Mayotte)"}
        for low, bands in NURSE_AGE_BANDS.items():
            k = float(sel.loc[sel["tranche_age"].isin(bands), "effectif"].sum())
            row[f"effectif_{low}p"] = k
            row[f"part_{low}p"] = 100.0 * k / n if n > 0 else np.nan
        rows.append(row)
    cols = ["niveau", "code", "nom", "annee", "effectif", "effectif_55p", "effectif_60p",
            "part_55p", "part_60p"]
    return pd.DataFrame(rows, columns=cols)
