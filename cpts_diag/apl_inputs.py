"""Inputs of the APL engine, each pluggable: travel times, demand, supply; and the thin model class.

* Travel times — :class:`TravelTimes` (origin, destination, minutes on an index of COG 2025 codes):
  from a user CSV (:func:`read_travel_times`, e.g. OSRM or INSEE Metric output) or, by default,
  from commune representative points (:func:`default_travel_times`: straight-line distance ×
  detour ÷ speed, self pair 0).
* Demand — standardised population: DREES ``pop_std`` of the APL vintage
  (:func:`demand_pop_std`), or computed from RP population by age with the DREES age weights
  (:func:`demand_from_ages`).
* Supply — activity per commune: BPE 2024 GP counts × the calibrated activity per GP
  (:func:`supply_from_bpe`), or a user table (:func:`read_supply`).

:class:`APLModel` builds the sparse weight matrix once and computes the APL of any supply vector
with :func:`cpts_diag.apl_engine.e2sfca`.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from . import apl_engine
from .apl_params import APLParameters, TravelModel, load_parameters
from .errors import APLInputError
from .fmt import fmt_number
from .user_tables import line as _line, numeric as _numeric, read_table as _read_table
from .user_tables import refuse_rows as _refuse_rows, table_name as _table_name

__all__ = ["TravelTimes", "commune_points", "default_travel_times", "read_travel_times",
           "demand_pop_std", "demand_from_ages", "demand_table", "supply_from_bpe", "read_supply",
           "SupplyTable", "APLModel", "default_model", "harmonise_codes", "metro_codes"]

AGE_COLUMNS = {  # load_population(2022) columns → age band [lo, hi)
    "pop_0_14": (0, 15), "pop_15_24": (15, 25), "pop_25_54": (25, 55), "pop_55_64": (55, 65),
    "pop_65_79": (65, 80), "pop_80p": (80, None)}


# --- travel times -------------------------------------------------------------------------------

@dataclass(frozen=True)
class TravelTimes:
    """Origin–destination travel times (minutes) on an index of COG 2025 commune codes.

    ``origin``, ``dest`` are positions in ``codes``; one row per pair; a pair absent is out of reach.
    ``source`` says where the times come from (printed under figures). The builders of this module
    keep the pairs sorted by (origin, destination), which lets the engine build its sparse matrix
    without sorting (:func:`sorted_pairs`).
    """

    codes: np.ndarray
    origin: np.ndarray
    dest: np.ndarray
    minutes: np.ndarray
    source: str

    def __post_init__(self):
        if not (len(self.origin) == len(self.dest) == len(self.minutes)):
            raise APLInputError(
                f"TravelTimes : origin, dest et minutes doivent avoir la même longueur (reçu "
                f"{len(self.origin)}, {len(self.dest)} et {len(self.minutes)}). Correctif : "
                "construisez les trois tableaux ensemble, p. ex. avec sorted_pairs().")

    @property
    def n(self) -> int:
        return len(self.codes)

    def within(self, max_minutes: float) -> "TravelTimes":
        """The pairs of at most ``max_minutes``."""
        k = self.minutes <= max_minutes
        return TravelTimes(self.codes, self.origin[k], self.dest[k], self.minutes[k], self.source)

    def to_frame(self) -> pd.DataFrame:
        """``origin``, ``destination`` (codes) and ``minutes``, one row per pair."""
        return pd.DataFrame({"origin": self.codes[self.origin], "destination": self.codes[self.dest],
                             "minutes": self.minutes})


def sorted_pairs(codes, origin, dest, minutes, source: str) -> TravelTimes:
    """A :class:`TravelTimes` with its pairs sorted by (origin, destination)."""
    order = np.lexsort((dest, origin))
    return TravelTimes(np.asarray(codes), np.asarray(origin, dtype=np.int32)[order],
                       np.asarray(dest, dtype=np.int32)[order],
                       np.asarray(minutes, dtype=float)[order], source)


@lru_cache(maxsize=2)
def commune_points(cog: int = 2025) -> pd.DataFrame:
    """Representative point of every metropolitan commune (Lambert-93 metres): ``x``, ``y``.

    ``geometry.representative_point()`` of the COG polygons of ``geo/communes_metro.geojson``: a
    point guaranteed inside the commune (not its town hall, which the open data do not give).
    """
    from .loaders import load_commune_polygons, to_lambert93

    gdf = to_lambert93(load_commune_polygons(cog, detail="metro"))
    pts = gdf.geometry.representative_point()
    out = pd.DataFrame({"x": pts.x.to_numpy(), "y": pts.y.to_numpy()},
                       index=pd.Index(gdf["code_commune"].astype(str).to_numpy(), name="code_commune"))
    return out.sort_index()


def metro_codes(cog: int = 2025) -> np.ndarray:
    """The engine's default universe: the COG 2025 communes of metropolitan France (sorted)."""
    return commune_points(cog).index.to_numpy()


def default_travel_times(model: TravelModel | None = None, max_minutes: float = 20.0,
                         points: pd.DataFrame | None = None) -> TravelTimes:
    """Travel times from representative points: km × detour ÷ speed × 60, self pair 0.

    Only pairs within ``max_minutes`` are kept (the others weigh 0). ``points``: ``x``, ``y`` in
    metres indexed by commune code (default: :func:`commune_points`).
    """
    from scipy.spatial import cKDTree

    model = model or load_parameters().travel
    pts = commune_points() if points is None else points
    xy = pts[["x", "y"]].to_numpy(dtype=float)
    n = len(xy)
    radius_m = model.km_for(max_minutes) * 1000.0
    pairs = cKDTree(xy).query_pairs(radius_m, output_type="ndarray")
    dist_km = np.hypot(*(xy[pairs[:, 0]] - xy[pairs[:, 1]]).T) / 1000.0
    minutes = model.minutes(dist_km)
    idx = np.arange(n)
    origin = np.concatenate([idx, pairs[:, 0], pairs[:, 1]]).astype(np.int32)
    dest = np.concatenate([idx, pairs[:, 1], pairs[:, 0]]).astype(np.int32)
    mins = np.concatenate([np.zeros(n), minutes, minutes])
    keep = mins <= max_minutes
    src = (f"temps de trajet estimés : distance à vol d'oiseau entre points représentatifs des "
           f"communes × {fmt_number(model.detour, 2)} ÷ {fmt_number(model.speed_kmh, 0)} km/h")
    return sorted_pairs(pts.index.to_numpy(), origin[keep], dest[keep], mins[keep], src)


def harmonise_codes(codes: pd.Series, universe: np.ndarray, what: str,
                    line_of: Callable[[int], str] | None = None) -> pd.Series:
    """Map commune codes to the universe (COG 2025), through the passage table for old codes.

    Merged or renumbered communes and arrondissements municipaux are recoded with a warning;
    empty and unknown codes raise :class:`APLInputError` naming them (``what``: the table and
    column, or the option; ``line_of(position)``: where a row is, e.g. « ligne 3 »).
    """
    from .loaders import load_passage

    where = (lambda pos: f" ({line_of(pos)})") if line_of else (lambda pos: "")
    empty = codes.isna().to_numpy() | (codes.astype(str).str.strip() == "").to_numpy()
    if empty.any():
        raise APLInputError(f"{what} : code commune vide{where(int(np.flatnonzero(empty)[0]))}. "
                            "Correctif : renseignez le code INSEE (5 caractères) de chaque ligne.")
    codes = codes.astype(str).str.strip().str.zfill(5)
    known = pd.Index(universe)
    bad = ~codes.isin(known)
    if not bad.any():
        return codes
    passage = load_passage().set_index("code_commune_source")["code_commune_cog2025"]
    mapped = codes[bad].map(passage)
    unknown_mask = bad.copy()
    unknown_mask[bad] = (mapped.isna() | ~mapped.isin(known)).to_numpy()
    unknown = sorted(set(codes[unknown_mask]))
    if unknown:
        raise APLInputError(
            f"{what} : {len(unknown)} code(s) commune inconnu(s) du COG 2025 de France "
            f"métropolitaine : {', '.join(unknown[:8])}{' …' if len(unknown) > 8 else ''}"
            f"{where(int(np.flatnonzero(unknown_mask.to_numpy())[0]))}. Correctif : donnez des codes "
            "INSEE à 5 caractères (zéros de tête conservés, colonne lue comme du texte) ; les DROM "
            "ne sont pas couverts.")
    old = sorted(set(codes[bad]))
    warnings.warn(f"{what} : {len(old)} ancien(s) code(s) commune recodé(s) en COG 2025 "
                  f"({', '.join(old[:5])}{' …' if len(old) > 5 else ''})", stacklevel=3)
    out = codes.copy()
    out[bad] = mapped
    return out


def read_travel_times(path_or_frame, universe: np.ndarray | None = None,
                      max_minutes: float | None = 20.0) -> TravelTimes:
    """User origin–destination table → :class:`TravelTimes` on ``universe`` (default: metro COG 2025).

    CSV (comma or semicolon) with columns ``origin``, ``destination``, ``minutes`` (origin = where
    people live, destination = where the GPs practise; times need not be symmetric). Old codes are
    recoded to COG 2025 (keeping the shortest time when several pairs merge); a missing self pair
    gets 0 minutes; pairs beyond ``max_minutes`` are dropped (they weigh 0).
    """
    what = _table_name("Table des temps de trajet", path_or_frame)
    df = _read_table(path_or_frame, what)
    df.columns = [str(c).strip().lower() for c in df.columns]
    need = ["origin", "destination", "minutes"]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise APLInputError(f"{what} : colonne(s) absente(s) : {', '.join(missing)} (colonnes "
                            f"trouvées : {', '.join(df.columns)}). Correctif : donnez les colonnes "
                            f"{', '.join(need)} (origine, destination, durée en minutes).")
    if df.empty:
        raise APLInputError(f"{what} : aucune ligne de données. Correctif : une ligne par paire "
                            "origin, destination, minutes.")
    universe = metro_codes() if universe is None else np.asarray(universe)
    minutes = _numeric(df, "minutes", what)
    _refuse_rows(df, minutes.isna(), what, "minutes", "temps de trajet vide(s)",
                 "supprimez les paires hors d'atteinte au lieu de laisser la durée vide.")
    _refuse_rows(df, minutes < 0, what, "minutes", "temps de trajet négatif(s)",
                 "donnez des durées en minutes, positives ou nulles.")
    o = harmonise_codes(df["origin"], universe, f"{what}, colonne « origin »",
                        lambda i: _line(df, i))
    d = harmonise_codes(df["destination"], universe, f"{what}, colonne « destination »",
                        lambda i: _line(df, i))
    t = pd.DataFrame({"o": o.to_numpy(), "d": d.to_numpy(), "m": minutes.to_numpy()})
    n_rows = len(t)
    t = t.groupby(["o", "d"], sort=False, as_index=False)["m"].min()
    if len(t) < n_rows:
        warnings.warn(f"{what} : {n_rows - len(t)} paire(s) en double après recodage ; "
                      "le temps le plus court de chaque paire est gardé.", stacklevel=2)
    pos = pd.Index(universe)
    oi = pos.get_indexer(t["o"]).astype(np.int32)
    di = pos.get_indexer(t["d"]).astype(np.int32)
    mins = t["m"].to_numpy(dtype=float)
    missing_self = np.flatnonzero(~pos.isin(t.loc[t["o"] == t["d"], "o"])).astype(np.int32)
    oi = np.concatenate([oi, missing_self])
    di = np.concatenate([di, missing_self])
    mins = np.concatenate([mins, np.zeros(len(missing_self))])
    if max_minutes is not None:
        keep = mins <= max_minutes
        oi, di, mins = oi[keep], di[keep], mins[keep]
    name = Path(str(path_or_frame)).name if not isinstance(path_or_frame, pd.DataFrame) else None
    src = f"temps de trajet fournis ({name})" if name else "temps de trajet fournis"
    return sorted_pairs(universe, oi, di, mins, src)


# --- demand -------------------------------------------------------------------------------------

def demand_pop_std(year: int = 2023) -> pd.DataFrame:
    """DREES standardised population of APL vintage ``year`` on COG 2025 codes.

    Columns ``pop_std`` and ``pop_tot`` (DREES total population, 2021 for APL 2023), summed over
    the published codes of each COG 2025 commune (arrondissements, merged communes) by
    :func:`cpts_diag.indicators.apl_by_commune`, as for the report's indicators.
    """
    from .indicators import apl_by_commune
    from .loaders import load_apl

    apl = load_apl(year, "medecin_generaliste")
    wide = apl_by_commune(apl).set_index("code_commune")
    out = wide[[f"popstd_mg_{year}", f"poptot_mg_{year}"]].set_axis(["pop_std", "pop_tot"], axis=1)
    out.attrs["source"] = {**apl.attrs.get("source", {}),
                           "label": f"DREES, population standardisée de l'APL {year}"}
    return out


def demand_table(year: int = 2023, demand: str = "pop_std") -> pd.DataFrame:
    """The demand of the default model.

    ``"pop_std"``: the DREES standardised population where the DREES publishes it, otherwise
    (communes absent from the APL file) the standardised population computed from RP ages — the
    filled codes are listed in ``attrs["filled_from_ages"]``, and the source label says so when
    they have inhabitants (in COG 2025 only six uninhabited Meuse communes are filled).
    ``"ages"``: computed from RP ages for every commune (:func:`demand_from_ages`).
    """
    if demand not in ("pop_std", "ages"):
        raise APLInputError(f"demand = {demand!r} : valeur inconnue. Correctif : donnez "
                            "demand=\"pop_std\" (population standardisée DREES) ou demand=\"ages\".")
    ages = demand_from_ages(year)
    if demand == "ages":
        return ages
    dem = demand_pop_std(year)
    missing = ages.index[ages["pop_std"].notna()].difference(dem.index[dem["pop_std"].notna()])
    missing = missing[missing.isin(metro_codes())]
    out = pd.concat([dem[dem["pop_std"].notna()], ages.loc[missing]])
    out.attrs["source"] = dict(dem.attrs["source"])
    out.attrs["filled_from_ages"] = list(missing)
    if len(missing) and float(ages.loc[missing, "pop_tot"].sum()) > 0:  # inhabited: say it in figures
        out.attrs["source"]["label"] += (
            f" (complétée pour {len(missing)} commune{'s' if len(missing) > 1 else ''} par la "
            "population RP 2022 par âge × poids d'âge DREES)")
    return out


def demand_from_ages(year: int = 2023, population_year: int = 2022) -> pd.DataFrame:
    """Standardised population computed from RP population by age with the DREES age weights.

    The RP table has six age groups; each group's weight is the mean of the 5-year DREES weights it
    covers (:func:`cpts_diag.apl_engine.band_weights`). Columns ``pop_std`` and ``pop_tot``
    (= RP ``pop_<population_year>``). A commune with a missing age group gets a missing ``pop_std``.
    """
    from .loaders import load_population

    params = load_parameters(year)
    pop = load_population(population_year).set_index("code_commune")
    w = apl_engine.band_weights(params.age_band_lower, params.age_weights, list(AGE_COLUMNS.values()))
    std = apl_engine.standardise_population(pop[list(AGE_COLUMNS)].to_numpy(dtype=float), w)
    out = pd.DataFrame({"pop_std": std, "pop_tot": pop[f"pop_{population_year}"].astype(float)},
                       index=pop.index)
    out.attrs["source"] = {"label": f"INSEE RP {population_year} par âge × poids d'âge DREES {year}"}
    return out


# --- supply -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SupplyTable:
    """GP supply, one row per group of GPs: ``code_commune``, ``medecins``, ``activite`` (counted
    activity per GP, caps applied), ``age`` (may be missing). ``source`` for figures."""

    rows: pd.DataFrame
    source: str

    def activity_by_commune(self) -> pd.Series:
        r = self.rows
        return (r["medecins"] * r["activite"]).groupby(r["code_commune"]).sum()

    def gps_by_commune(self) -> pd.Series:
        return self.rows.groupby("code_commune")["medecins"].sum()

    def without_age(self, min_age: float) -> "SupplyTable":
        """The supply after every GP aged ``min_age`` or more has left (ages must be known)."""
        r = self.rows
        if r["age"].isna().all():
            raise APLInputError(
                f"Offre {self.source} : pas de colonne « age », un départ par âge (retire_age, "
                "--retire-age) ne peut pas être simulé ; les données ouvertes ne donnent pas l'âge "
                "des médecins. Correctif : donnez une table d'offre (option --supply, champ supply) "
                "avec une colonne age renseignée pour chaque ligne.")
        if r["age"].isna().any():
            first = r.loc[r["age"].isna(), "code_commune"].iloc[0]
            raise APLInputError(
                f"Offre {self.source} : colonne « age », {int(r['age'].isna().sum())} ligne(s) "
                f"sans âge, p. ex. une ligne de la commune {first} : un départ par âge ne peut pas "
                "être simulé. Correctif : renseignez l'âge de chaque ligne de la table d'offre "
                "(option --supply, champ supply).")
        return SupplyTable(r[r["age"] < min_age].reset_index(drop=True), self.source)


def supply_from_bpe(params: APLParameters | None = None,
                    universe: np.ndarray | None = None) -> SupplyTable:
    """BPE GP practice addresses per commune × the calibrated activity per GP.

    Only communes of ``universe`` (default: metropolitan France; the DROM have no polygons here).
    """
    from .loaders import load_bpe_health

    params = params or load_parameters()
    universe = metro_codes() if universe is None else np.asarray(universe)
    bpe = load_bpe_health(params.bpe_year)
    bpe = bpe[(bpe["typequ"] == params.bpe_typequ) & bpe["code_commune"].isin(universe)]
    g = bpe.groupby("code_commune")["nb"].sum()
    rows = pd.DataFrame({"code_commune": g.index.astype(str), "medecins": g.to_numpy(dtype=float),
                         "activite": params.activity_per_gp, "age": np.nan})
    src = (f"INSEE BPE {params.bpe_year} ({params.bpe_typequ}, médecins généralistes) × "
           f"{fmt_number(params.activity_per_gp, 0)} consultations par médecin et par an")
    return SupplyTable(rows, src)


def read_supply(path_or_frame, params: APLParameters | None = None,
                universe: np.ndarray | None = None) -> SupplyTable:
    """User supply table → :class:`SupplyTable`.

    CSV columns: ``code_commune`` (required); ``medecins`` (number of GPs in the row, default 1);
    ``activite`` (consultations + visits per year of EACH GP of the row, before the DREES caps;
    empty → the calibrated default activity); ``age`` (optional, years); ``centre_de_sante``
    (optional 0/1: the DREES caps are not applied to centres de santé).
    """
    what = _table_name("Table d'offre", path_or_frame)
    params = params or load_parameters()
    df = _read_table(path_or_frame, what)
    df.columns = [str(c).strip().lower() for c in df.columns]
    cols = "code_commune, medecins, activite, age, centre_de_sante"
    if "code_commune" not in df.columns:
        raise APLInputError(f"{what} : colonne « code_commune » obligatoire, absente (colonnes "
                            f"trouvées : {', '.join(df.columns)}). Correctif : ajoutez la colonne "
                            f"code_commune (code INSEE) ; colonnes reconnues : {cols}.")
    if not ({"medecins", "activite"} & set(df.columns)):
        raise APLInputError(f"{what} : ni colonne « medecins » (nombre de médecins) ni colonne "
                            "« activite » (consultations par médecin et par an). Correctif : "
                            f"ajoutez au moins l'une des deux ; colonnes reconnues : {cols}.")
    if df.empty:
        raise APLInputError(f"{what} : aucune ligne de données. Correctif : une ligne par "
                            "commune (ou groupe de médecins), sous la ligne d'en-tête.")
    universe = metro_codes() if universe is None else np.asarray(universe)
    codes = harmonise_codes(df["code_commune"], universe, f"{what}, colonne « code_commune »",
                            lambda i: _line(df, i))
    n = _numeric(df, "medecins", what).fillna(1.0) if "medecins" in df else pd.Series(1.0, df.index)
    _refuse_rows(df, n < 0, what, "medecins", "nombre(s) de médecins négatif(s)",
                 "donnez un nombre de médecins positif ou nul.")
    acts = _numeric(df, "activite", what) if "activite" in df else pd.Series(np.nan, df.index)
    _refuse_rows(df, acts < 0, what, "activite", "activité(s) négative(s)",
                 "donnez des consultations et visites par an, positives ou nulles (vide : "
                 "activité par défaut).")
    centre = (_numeric(df, "centre_de_sante", what).fillna(0) > 0) if "centre_de_sante" in df \
        else pd.Series(False, df.index)
    capped = pd.Series(apl_engine.cap_activity(acts.to_numpy(), params.zero_up_to, params.floor,
                                               params.cap), index=df.index)
    counted = capped.where(~centre, acts).fillna(params.activity_per_gp)
    age = _numeric(df, "age", what) if "age" in df else pd.Series(np.nan, df.index)
    _refuse_rows(df, (age < 0) | (age > 120), what, "age", "âge(s) hors de 0 à 120 ans",
                 "donnez l'âge du médecin en années.")
    rows = pd.DataFrame({"code_commune": codes.to_numpy(), "medecins": n.to_numpy(),
                         "activite": counted.to_numpy(), "age": age.to_numpy()})
    name = Path(str(path_or_frame)).name if not isinstance(path_or_frame, pd.DataFrame) else None
    return SupplyTable(rows, f"offre fournie ({name})" if name else "offre fournie")


# --- the model ----------------------------------------------------------------------------------

class APLModel:
    """Travel times + demand + parameters; computes the APL of any supply.

    The sparse weight matrix is built once; :meth:`compute` costs two sparse products.
    Communes of the universe without demand (absent from the demand table or missing) count as 0
    demand and are listed in ``missing_demand``; their own APL is still computed.
    """

    def __init__(self, travel_times: TravelTimes, demand: pd.DataFrame, params: APLParameters):
        self.params = params
        self.travel_times = travel_times
        self.codes = travel_times.codes
        self.index = pd.Index(self.codes, name="code_commune")
        w = apl_engine.step_weights(travel_times.minutes, params.upper_minutes, params.decay_weights)
        self.W = apl_engine.weight_matrix(travel_times.origin, travel_times.dest, w,
                                          len(self.codes), len(self.codes))
        d = demand.reindex(self.index)
        self.missing_demand = list(d.index[d["pop_std"].isna()])
        self.demand = d["pop_std"].fillna(0.0).to_numpy(dtype=float)
        self.population = d["pop_tot"]
        self.demand_source = demand.attrs.get("source", {}).get("label", "")

    def supply_vector(self, supply: SupplyTable | pd.Series) -> np.ndarray:
        s = supply.activity_by_commune() if isinstance(supply, SupplyTable) else supply
        outside = s.index.difference(self.index)
        if len(outside):
            raise APLInputError(
                f"Offre dans {len(outside)} commune(s) hors de la table des temps de trajet : {', '.join(map(str, outside[:8]))}{' …' if len(outside) > 8 else ''}. "
                "Correctif : retirez ces communes de la table d'offre, ou ajoutez-les à la table "
                "des temps de trajet (--od).")
        return s.reindex(self.index).fillna(0.0).to_numpy(dtype=float)

    def compute(self, supply: SupplyTable | pd.Series) -> pd.Series:
        """APL per commune of the universe (``consultations/an/hab. std`` for GPs)."""
        res = apl_engine.e2sfca(self.W, self.demand, self.supply_vector(supply))
        out = pd.Series(res.apl, index=self.index, name="apl")
        out.attrs["unreached_supply"] = res.unreached_supply
        return out


@lru_cache(maxsize=4)
def default_model(year: int = 2023, demand: str = "pop_std") -> APLModel:
    """The default model: metropolitan communes, travel times from points, DREES demand.

    ``demand="pop_std"`` (DREES standardised population of the vintage, completed from ages where
    the DREES has no value) or ``"ages"`` (RP 2022 population by age × DREES age weights); see
    :func:`demand_table`.
    """
    params = load_parameters(year)
    dem = demand_table(year, demand)
    return APLModel(default_travel_times(params.travel, params.max_minutes), dem, params)
