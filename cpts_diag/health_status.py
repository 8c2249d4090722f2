"""Health status of a CPTS from open data (issue 10): pure functions, frames in, frames out.

Four families, each read from one source of the data contract §7 (loaders in
:mod:`cpts_diag.loaders_health`):

- vaccination coverage (Santé publique France, 2011–2024): :func:`vaccination_table`,
  :func:`vaccination_latest`: départements and régions of the CPTS, and France; no commune or CPTS
  value exists;
- standardised mortality (per 100 000, 2010–2023, by département only): :func:`mortality_table`,
  :func:`mortality_by_cause`;
- crude mortality (INSEE, per 1 000, inter-censal periods to 2013-2018, EPCI 2018):
  :func:`crude_mortality_epci`;
- bassins de vie 2022 overlapping the CPTS (CartoSanté 2024 and INSEE Statistiques locales):
  :func:`bv_overlap`, :func:`bv_estimate` (population-weighted estimate of a share or density).

The ``*_for(territory)`` wrappers load the sources and call the pure functions. Every text meant
for the reader (labels, notes, method sentences) is French; missing values stay ``NaN``.
"""
from __future__ import annotations

import math
from typing import Iterable, Mapping

import pandas as pd

from .errors import ArgumentError, CptsDiagError, TerritoryError
from .fmt import fmt_percent

__all__ = ["VACCINATION_INDICATORS", "LEVELS", "CHANGE_YEARS", "NOTE_VACCINATION",
           "NOTE_MORTALITY_AGGREGATES", "NOTE_CRUDE_MORTALITY", "NOTE_BV_ESTIMATE", "MIN_COVERAGE",
           "BV_ESTIMABLE_COLUMNS", "BV_COUNT_COLUMNS", "vaccination_table", "vaccination_latest",
           "mortality_table", "mortality_by_cause", "crude_mortality_epci", "bv_overlap",
           "bv_estimate", "vaccination_for", "mortality_for", "mortality_by_cause_for",
           "crude_mortality_for", "bv_overlap_for"]

#: SPF indicators kept (label as published → short French label), in display order
VACCINATION_INDICATORS: dict[str, str] = {
    "Grippe 65 ans et plus": "Grippe, 65 ans et plus",
    "Grippe 65-74 ans": "Grippe, 65-74 ans",
    "Grippe 75 ans et plus": "Grippe, 75 ans et plus",
    "Grippe moins de 65 ans à risque": "Grippe, moins de 65 ans à risque",
    "HPV filles 1 dose à 15 ans": "HPV, filles, 1 dose à 15 ans",
    "HPV filles 2 doses à 16 ans": "HPV, filles, 2 doses à 16 ans",
    "HPV garçons 1 dose à 15 ans": "HPV, garçons, 1 dose à 15 ans",
    "HPV garçons 2 doses à 16 ans": "HPV, garçons, 2 doses à 16 ans",
    "Méningocoque C 10-14 ans": "Méningocoque C, 10-14 ans",
    "Méningocoque C 15-19 ans": "Méningocoque C, 15-19 ans",
    "Méningocoque C 20-24 ans": "Méningocoque C, 20-24 ans",
    "Covid-19 65 ans et plus": "Covid-19, 65 ans et plus",
}
#: geographic levels of the SPF and INSEE tables, in display order
LEVELS = ("departement", "region", "france")
#: span of the change shown beside the latest vaccination coverage (years)
CHANGE_YEARS = 5
NOTE_VACCINATION = (
    "Couvertures vaccinales publiées par Santé publique France pour les départements, les régions et "
    "la France : aucune valeur n'existe à l'échelle des communes ni du territoire étudié. Évolution en points "
    f"de pourcentage sur {CHANGE_YEARS} ans, lorsque l'année de comparaison est publiée.")
NOTE_MORTALITY_AGGREGATES = (
    "Taux standardisés de mortalité publiés par département uniquement : la source ne donne ni la "
    "région ni la France, et aucun taux n'est recalculé ici (population type et effectifs par âge "
    "absents de la source).")
NOTE_CRUDE_MORTALITY = (
    "Taux brut de mortalité (Insee : décès annuels moyens de la période / population moyenne × 1 000) : "
    "non standardisé, il reflète d'abord la structure par âge. Les EPCI sont ceux de la géographie "
    "2018, rapprochés des EPCI actuels par leur code SIREN : un EPCI sans correspondance est listé "
    "sans valeur, et un EPCI dont le périmètre a changé depuis 2018 garde sa valeur de 2018. "
    "La source ne donne pas de valeur France.")
NOTE_BV_ESTIMATE = (
    "Les bassins de vie débordent du territoire étudié : seuls une part ou une densité peuvent être estimées "
    "par une moyenne des bassins de vie pondérée par la population du territoire qui y vit. Un effectif "
    "(décès, nombre de professionnels) ne se répartit pas ainsi : il est donné par bassin de vie.")
#: minimum share of the CPTS population (0–1) living in BVs with a value, for an estimate
MIN_COVERAGE = 0.8
#: columns of :func:`bv_overlap` that are shares, rates or densities (estimable by weighting)
BV_ESTIMABLE_COLUMNS = (
    "part_ald_2024", "part_benef_ophtalmo_2024", "apl_mg_2023", "densite_mg_lib_2024",
    "densite_infirmiers_lib_2024", "densite_sages_femmes_lib_2024",
    "densite_orthophonistes_lib_2024", "densite_pharmacies_2024", "part_75p_2022",
    "taux_pauvrete_2021", "part_peu_diplomes_2022", "part_familles_monoparentales_2022",
    "part_moins_15_2022", "part_locataires_hlm_2022", "part_suroccupation_accentuee_2022")
#: columns of :func:`bv_overlap` that are counts (or a median): never apportioned to the CPTS
BV_COUNT_COLUMNS = ("communes_cpts", "population_cpts", "population_bv", "deces_2024",
                    "revenu_median_2021")
_BV_RENAME = {"deces_domicilies_2024": "deces_2024", "cellules_secret_statistique": "secret"}
_ALL_CAUSES, _ALL_SEXES = "Toutes causes", "Tous sexes"
_SEXES = ("Tous sexes", "Femmes", "Hommes")


def _require(df: pd.DataFrame, cols: Iterable[str], what: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise CptsDiagError(
            f"{what} : colonne(s) absente(s) : {', '.join(missing)}. Correctif : passez la table "
            "renvoyée par le chargeur de cpts_diag.loaders_health (ou une table de mêmes colonnes).")


def _codes(values: Iterable[str]) -> list[str]:
    return [str(v) for v in values]


# --- vaccination ---------------------------------------------------------------------------------

def vaccination_table(vacc: pd.DataFrame, deps: Iterable[str], regions: Iterable[str]) -> pd.DataFrame:
    """Vaccination coverage of the CPTS's départements, régions and France, every year (long).

    ``vacc``: :func:`cpts_diag.loaders_health.load_vaccination` (SPF, vintage 2024). Only the
    indicators of :data:`VACCINATION_INDICATORS` are kept. Returns ``indicateur`` (SPF label),
    ``libelle`` (short French label), ``annee``, ``niveau`` (:data:`LEVELS`), ``code``,
    ``territoire`` (name as published), ``valeur`` (%), sorted by indicator, level, code, year.
    ``attrs['codes_absents']`` lists the requested départements/régions the file lacks.
    """
    _require(vacc, ("annee", "niveau", "code", "libelle", "indicateur", "valeur"),
             "Table des couvertures vaccinales")
    deps, regions = _codes(deps), _codes(regions)
    lvl, code = vacc["niveau"], vacc["code"].astype(str)
    keep = vacc["indicateur"].isin(list(VACCINATION_INDICATORS)) & (
        ((lvl == "departement") & code.isin(deps)) | ((lvl == "region") & code.isin(regions))
        | (lvl == "france"))
    out = vacc.loc[keep].rename(columns={"libelle": "territoire"})
    out = out.assign(code=out["code"].astype(str),
                     libelle=out["indicateur"].map(VACCINATION_INDICATORS),
                     _i=out["indicateur"].map({k: i for i, k in enumerate(VACCINATION_INDICATORS)}),
                     _l=out["niveau"].map({k: i for i, k in enumerate(LEVELS)}))
    out = out.sort_values(["_i", "_l", "code", "annee"])
    cols = ["indicateur", "libelle", "annee", "niveau", "code", "territoire", "valeur"]
    out = out[cols].reset_index(drop=True)
    present = set(out["code"])
    out.attrs = {"codes_absents": [c for c in deps + regions if c not in present],
                 "note": NOTE_VACCINATION}
    return out


def vaccination_latest(table: pd.DataFrame) -> pd.DataFrame:
    """One row per indicator: the latest year published for every territory of ``table``, its
    values and their change over :data:`CHANGE_YEARS` years.

    ``table``: :func:`vaccination_table`. Columns: ``indicateur, libelle, annee`` (latest year in
    which every territory has a value; if none, the latest year of any), one column per territory
    keyed ``<niveau>_<code>`` (e.g. ``departement_42``, ``region_84``, ``france_FR``, in %), then
    ``evol_<key>`` (change in percentage points since ``annee - CHANGE_YEARS``; NaN where that year
    is not published) and ``annee_comparaison``. ``attrs['territoires']`` maps each key to the
    territory's name.
    """
    _require(table, ("indicateur", "libelle", "annee", "niveau", "code", "territoire", "valeur"),
             "Table issue de vaccination_table")
    t = table.assign(cle=table["niveau"] + "_" + table["code"].astype(str))
    keys = list(dict.fromkeys(t["cle"]))
    rows = []
    for ind, g in t.groupby("indicateur", sort=False):
        wide = g.pivot_table(index="annee", columns="cle", values="valeur", aggfunc="first")
        wide = wide.reindex(columns=keys)
        common = wide.dropna(how="any").index
        year = int(common.max() if len(common) else wide.index.max())
        ref = year - CHANGE_YEARS
        row = {"indicateur": ind, "libelle": g["libelle"].iloc[0], "annee": year}
        row.update({k: wide.at[year, k] for k in keys})
        for k in keys:
            row[f"evol_{k}"] = (wide.at[year, k] - wide.at[ref, k]) if ref in wide.index else math.nan
        row["annee_comparaison"] = ref if ref in wide.index else pd.NA
        rows.append(row)
    out = pd.DataFrame(rows, columns=["indicateur", "libelle", "annee", *keys,
                                      *(f"evol_{k}" for k in keys), "annee_comparaison"])
    out["annee_comparaison"] = out["annee_comparaison"].astype("Int64")
    out.attrs = {"territoires": dict(zip(t["cle"], t["territoire"])), "note": NOTE_VACCINATION}
    return out


# --- standardised mortality ----------------------------------------------------------------------

def mortality_table(mort: pd.DataFrame, deps: Iterable[str]) -> pd.DataFrame:
    """Standardised death rate, all causes, both sexes, 2010–2023, for the départements ``deps``.

    ``mort``: :func:`cpts_diag.loaders_health.load_standardised_mortality` (vintage 2023). Returns
    ``departement, annee, valeur`` (deaths per 100 000, age- and sex-standardised), ``unite``. No
    région nor France value exists in the source and none is computed
    (:data:`NOTE_MORTALITY_AGGREGATES`, also in ``attrs['note']``).
    """
    _require(mort, ("annee", "departement", "sexe", "cause", "valeur"), "Table de mortalité standardisée")
    deps = _codes(deps)
    keep = ((mort["cause"] == _ALL_CAUSES) & (mort["sexe"] == _ALL_SEXES)
            & mort["departement"].astype(str).isin(deps))
    cols = ["departement", "annee", "valeur"] + (["unite"] if "unite" in mort.columns else [])
    out = mort.loc[keep, cols].astype({"departement": str})
    out = out.sort_values(["departement", "annee"]).reset_index(drop=True)
    out.attrs = {"note": NOTE_MORTALITY_AGGREGATES}
    return out


def mortality_by_cause(mort: pd.DataFrame, deps: Iterable[str], year: int = 2023) -> pd.DataFrame:
    """Standardised death rate by cause (18 chapters) and sex in ``year`` for the départements.

    ``mort``: :func:`cpts_diag.loaders_health.load_standardised_mortality` (causes published for
    2023 only). Returns one row per cause × sex: ``numero`` (chapter number), ``cause`` (label
    without its number), ``sexe`` (Tous sexes, Femmes, Hommes), then one column per département
    code (deaths per 100 000, standardised). Raises :class:`ArgumentError` for a year without
    causes.
    """
    _require(mort, ("annee", "departement", "sexe", "cause", "valeur"), "Table de mortalité standardisée")
    deps = _codes(deps)
    causes = mort[mort["cause"] != _ALL_CAUSES]
    if not (causes["annee"] == int(year)).any():
        years = ", ".join(str(y) for y in sorted(causes["annee"].unique()))
        raise ArgumentError(f"year = {year} : pas de mortalité par cause cette année-là. "
                            f"Correctif : donnez l'une des années publiées : {years}.")
    sel = causes[(causes["annee"] == int(year)) & causes["departement"].astype(str).isin(deps)]
    parts = sel["cause"].str.extract(r"^\s*(\d+)\.\s*(.*)$")
    sel = sel.assign(numero=pd.to_numeric(parts[0]).astype("Int64"), cause=parts[1].fillna(sel["cause"]),
                     departement=sel["departement"].astype(str))
    wide = sel.pivot_table(index=["numero", "cause", "sexe"], columns="departement", values="valeur",
                           aggfunc="first").reset_index()
    wide.columns.name = None
    wide["_s"] = wide["sexe"].map({s: i for i, s in enumerate(_SEXES)})
    wide = wide.sort_values(["numero", "_s"]).drop(columns="_s").reset_index(drop=True)
    return wide[["numero", "cause", "sexe", *[d for d in deps if d in wide.columns]]]


# --- crude mortality -----------------------------------------------------------------------------

def _period_end(period: str) -> int:
    try:
        return int(str(period).split("-")[-1])
    except ValueError:
        return -1


def crude_mortality_epci(brute: pd.DataFrame, epci_codes: Iterable[str], deps: Iterable[str] = (),
                         regions: Iterable[str] = (),
                         names: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Crude death rate of the CPTS's EPCIs in the latest period, with their départements and régions.

    ``brute``: :func:`cpts_diag.loaders_health.load_crude_mortality` (INSEE, vintage 2018; EPCI codes
    of 2018). EPCIs are matched on their SIREN code only; an EPCI of ``epci_codes`` absent from the
    file is LISTED with an empty rate and ``correspondance = False`` (its name from ``names``,
    e.g. the COG 2025 EPCI names). The period is the latest one published for the matched EPCIs
    (2013-2018); département and région rows of the same period are added where present (no France
    row in the source). Columns: ``niveau, code, libelle, periode, taux_mortalite_pour_1000,
    correspondance``; ``attrs['epci_sans_correspondance']`` lists the unmatched codes.
    """
    _require(brute, ("niveau", "code", "libelle", "periode", "taux_mortalite_pour_1000"),
             "Table de mortalité brute")
    epcis, deps, regions = _codes(epci_codes), _codes(deps), _codes(regions)
    names = dict(names or {})
    b = brute.assign(code=brute["code"].astype(str))
    e = b[(b["niveau"] == "epci") & b["code"].isin(epcis)]
    pool = e if len(e) else b[b["niveau"].isin(["departement", "region"])]
    period = max(pool["periode"].dropna().unique(), key=_period_end, default=None)
    cur = b[b["periode"] == period].drop_duplicates(["niveau", "code"]).set_index(["niveau", "code"])
    rows, unmatched = [], []
    for c in epcis:
        found = c in set(e["code"])
        if not found:
            unmatched.append(c)
        hit = ("epci", c) in cur.index
        rows.append({"niveau": "epci", "code": c,
                     "libelle": cur.at[("epci", c), "libelle"] if hit else names.get(c, pd.NA),
                     "periode": period,
                     "taux_mortalite_pour_1000": cur.at[("epci", c), "taux_mortalite_pour_1000"]
                     if hit else math.nan, "correspondance": found})
    for lvl, codes in (("departement", deps), ("region", regions)):
        for c in codes:
            if (lvl, c) in cur.index:
                rows.append({"niveau": lvl, "code": c, "libelle": cur.at[(lvl, c), "libelle"],
                             "periode": period, "taux_mortalite_pour_1000":
                             cur.at[(lvl, c), "taux_mortalite_pour_1000"], "correspondance": True})
    out = pd.DataFrame(rows, columns=["niveau", "code", "libelle", "periode",
                                      "taux_mortalite_pour_1000", "correspondance"])
    out.attrs = {"epci_sans_correspondance": unmatched, "note": NOTE_CRUDE_MORTALITY}
    return out


# --- bassins de vie ------------------------------------------------------------------------------

def _sum_all(s: pd.Series) -> float:
    """Sum that is NaN as soon as one value is missing (a partial total is not a total)."""
    return float(s.sum()) if s.notna().all() else math.nan


def bv_overlap(communes: pd.DataFrame, population: pd.DataFrame, cps_communes: Iterable[str],
               carto: pd.DataFrame, stats: pd.DataFrame) -> pd.DataFrame:
    """One row per bassin de vie 2022 overlapping the CPTS, with its CartoSanté and INSEE values.

    ``communes``: COG 2025 commune table (``code_commune, bv2022, lib_bv2022``); ``population``:
    ``code_commune, pop_2022`` (RP 2022); ``cps_communes``: the CPTS's COG 2025 codes; ``carto``:
    :func:`~cpts_diag.loaders_health.load_cartosante_bv`; ``stats``:
    :func:`~cpts_diag.loaders_health.load_bv_local_stats`. Columns: ``code_bv2022, libelle_bv,
    communes_cpts`` (CPTS communes in the BV), ``population_cpts`` (CPTS population living in the
    BV), ``population_bv`` (whole BV), ``part_population_cpts`` (% of the CPTS population),
    ``part_bv_dans_cpts`` (% of the BV population inside the CPTS), the CartoSanté values
    (``part_ald_2024``, ``apl_mg_2023``, ``densite_*``…), the INSEE values (``deces_2024`` = deaths
    domiciled in the whole BV in 2024, ``part_75p_2022``…) and ``secret`` (CartoSanté cells under
    statistical secrecy, as listed; "" when none, NaN when the BV is not in CartoSanté). Sorted by
    ``population_cpts`` (descending). BV values describe the whole BV, not its CPTS part. A
    population total with a missing commune population is NaN (never a partial sum).
    """
    _require(communes, ("code_commune", "bv2022", "lib_bv2022"), "Table des communes")
    _require(population, ("code_commune", "pop_2022"), "Table de population")
    _require(carto, ("code_bv2022", "cellules_secret_statistique"), "Table CartoSanté")
    _require(stats, ("code_bv2022",), "Table des statistiques locales")
    cps = set(_codes(cps_communes))
    com = communes[["code_commune", "bv2022", "lib_bv2022"]].astype(
        {"code_commune": str, "bv2022": str}).merge(
        population[["code_commune", "pop_2022"]].astype({"code_commune": str}), how="left",
        on="code_commune")
    unknown = sorted(cps - set(com["code_commune"]))
    if unknown:
        raise TerritoryError(
            f"Commune(s) du territoire absente(s) de la table des communes : {', '.join(unknown[:10])}. "
            "Correctif : donnez des codes communes du COG 2025 (Territory.load les recode).")
    com["in_cpts"] = com["code_commune"].isin(cps)
    touched = com.loc[com["in_cpts"], "bv2022"].unique()
    com = com[com["bv2022"].isin(touched)]
    inside = com[com["in_cpts"]]
    out = pd.DataFrame({
        "libelle_bv": com.groupby("bv2022")["lib_bv2022"].first(),
        "communes_cpts": inside.groupby("bv2022").size(),
        "population_cpts": inside.groupby("bv2022")["pop_2022"].agg(_sum_all),
        "population_bv": com.groupby("bv2022")["pop_2022"].agg(_sum_all),
    }).rename_axis("code_bv2022").reset_index()
    total = _sum_all(out["population_cpts"])
    out["part_population_cpts"] = out["population_cpts"] / total * 100
    out["part_bv_dans_cpts"] = out["population_cpts"] / out["population_bv"] * 100
    c = carto.drop(columns=[x for x in ("libelle_bv",) if x in carto.columns]).rename(columns=_BV_RENAME)
    c = c.assign(code_bv2022=c["code_bv2022"].astype(str), secret=c["secret"].astype(object).fillna(""))
    s = stats.drop(columns=[x for x in ("libelle_bv",) if x in stats.columns]).rename(columns=_BV_RENAME)
    s = s.assign(code_bv2022=s["code_bv2022"].astype(str))
    out = out.merge(c.drop(columns="secret"), how="left", on="code_bv2022", validate="one_to_one")
    out = out.merge(s, how="left", on="code_bv2022", validate="one_to_one")
    out = out.merge(c[["code_bv2022", "secret"]], how="left", on="code_bv2022")
    out = out.sort_values(["population_cpts", "code_bv2022"], ascending=[False, True])
    out = out.reset_index(drop=True)
    out.attrs = {"note": NOTE_BV_ESTIMATE}
    return out


def bv_estimate(overlap: pd.DataFrame, column: str, min_coverage: float = MIN_COVERAGE) -> dict:
    """Estimate a share or density for the CPTS from the bassins de vie that overlap it.

    ``value`` = mean of the BV values of ``column`` weighted by the CPTS population living in each
    BV (``population_cpts`` of :func:`bv_overlap`), over the BVs with a value; ``coverage`` (0–1) =
    share of the CPTS population living in those BVs; ``value`` is NaN when ``coverage <
    min_coverage`` (default :data:`MIN_COVERAGE`). ``method``: the French sentence saying how (or
    why not). Only :data:`BV_ESTIMABLE_COLUMNS` are accepted: a count (:data:`BV_COUNT_COLUMNS`,
    e.g. deaths) is not apportioned to the CPTS. Returns ``{"column", "value", "coverage", "method"}``.
    """
    if column in BV_COUNT_COLUMNS:
        raise ArgumentError(
            f"column = {column!r} : un effectif (ou une médiane) ne s'estime pas par moyenne pondérée : "
            "il n'est pas réparti entre le territoire et le reste du bassin de vie. Correctif : présentez "
            "la valeur de chaque bassin de vie (bv_overlap) ou choisissez une part ou une densité : "
            f"{', '.join(BV_ESTIMABLE_COLUMNS)}.")
    if column not in BV_ESTIMABLE_COLUMNS:
        raise ArgumentError(f"column = {column!r} : colonne inconnue. Correctif : choisissez l'une "
                            f"de : {', '.join(BV_ESTIMABLE_COLUMNS)}.")
    if not 0 <= min_coverage <= 1:
        raise ArgumentError(f"min_coverage = {min_coverage} : hors de [0, 1]. Correctif : donnez une "
                            f"part, p. ex. {MIN_COVERAGE}.")
    _require(overlap, ("population_cpts", column), "Table issue de bv_overlap")
    w, v = overlap["population_cpts"].astype(float), overlap[column].astype(float)
    total = float(w.sum()) if w.notna().all() else math.nan
    has = v.notna() & w.notna()
    covered = float(w[has].sum())
    coverage = covered / total if total and total > 0 else math.nan
    threshold = fmt_percent(min_coverage * 100, 0)
    if not coverage >= min_coverage or covered <= 0:
        return {"column": column, "value": math.nan, "coverage": coverage,
                "method": ("non estimé : les bassins de vie renseignés ne couvrent que "
                           f"{fmt_percent(coverage * 100)} de la population du territoire "
                           f"(seuil : {threshold})")}
    value = float((w[has] * v[has]).sum() / covered)
    return {"column": column, "value": value, "coverage": coverage,
            "method": ("estimation : moyenne des bassins de vie pondérée par la population de la "
                       f"CPTS qui y vit ; couverture {fmt_percent(coverage * 100)}")}


# --- wrappers: load the sources for a territory ----------------------------------------------------

def load_inputs() -> dict:
    """Every input frame of the wrappers below, loaded once (a report context may inject the same
    dict, e.g. in tests; vintages: SPF 2024, mortality 2023, INSEE
    crude mortality 2018, CartoSanté 2024, INSEE BV statistics 2024, COG 2025, RP 2022)."""
    from .loaders import load_communes, load_population
    from .loaders_health import (load_bv_local_stats, load_cartosante_bv, load_crude_mortality,
                                 load_standardised_mortality, load_vaccination)

    return {"vaccination": load_vaccination(), "mortality": load_standardised_mortality(),
            "crude": load_crude_mortality(), "cartosante": load_cartosante_bv(),
            "bv_stats": load_bv_local_stats(), "communes": load_communes(),
            "population": load_population(2022)}


def _inputs(inputs: dict | None, *keys: str) -> list:
    if inputs is None:
        inputs = load_inputs()
    return [inputs[k] for k in keys]


def vaccination_for(territory, inputs: dict | None = None) -> pd.DataFrame:
    """:func:`vaccination_table` of ``territory`` (its départements and régions), SPF vintage 2024."""
    (vacc,) = _inputs(inputs, "vaccination")
    return vaccination_table(vacc, territory.departements, territory.regions)


def mortality_for(territory, inputs: dict | None = None) -> pd.DataFrame:
    """:func:`mortality_table` of the départements of ``territory`` (vintage 2023)."""
    (mort,) = _inputs(inputs, "mortality")
    return mortality_table(mort, territory.departements)


def mortality_by_cause_for(territory, year: int = 2023, inputs: dict | None = None) -> pd.DataFrame:
    """:func:`mortality_by_cause` of the départements of ``territory``."""
    (mort,) = _inputs(inputs, "mortality")
    return mortality_by_cause(mort, territory.departements, year)


def crude_mortality_for(territory, inputs: dict | None = None) -> pd.DataFrame:
    """:func:`crude_mortality_epci` of the EPCIs (COG 2025) of ``territory``, its départements and
    régions (INSEE, vintage 2018); unmatched EPCIs carry their COG 2025 name."""
    brute, com = _inputs(inputs, "crude", "communes")
    frame = com[com["code_commune"].isin(territory.communes)]
    names = dict(zip(frame["epci_siren"].astype(str), frame["epci_nom"]))
    return crude_mortality_epci(brute, territory.epcis, territory.departements,
                                territory.regions, names)


def bv_overlap_for(territory, inputs: dict | None = None) -> pd.DataFrame:
    """:func:`bv_overlap` of ``territory`` (COG 2025, RP 2022, CartoSanté 2024, INSEE 2024)."""
    com, pop, carto, stats = _inputs(inputs, "communes", "population", "cartosante", "bv_stats")
    return bv_overlap(com, pop, territory.communes, carto, stats)
