"""Indicators of a CPTS diagnostic and their comparators, from commune-level data.

Every indicator is documented once, in ``indicators.yaml`` (label, unit, formula, source, vintage,
how it is aggregated); :data:`INDICATORS` is that registry. This module is the public entry point;
the work is split into:

- :mod:`cpts_diag.indicator_registry`: the registry (read by a YAML loader refusing duplicate
  ids), levels, age bands, tidy columns and other constants;
- :mod:`cpts_diag.commune_frame` (functional core): :func:`apl_by_commune`,
  :func:`bpe_by_commune`, :func:`areas_by_commune`, :func:`commune_base` build ONE national frame,
  one row per COG 2025 commune; :func:`commune_indicators` gives the per-commune values;
- :mod:`cpts_diag.aggregation` (functional core): :func:`aggregate` computes every indicator for
  any grouping of communes (ratios of sums, weighted means, growth rates, quantiles — never means
  of ratios); :func:`finalize` adds the published PTOD values, labels and notes and returns the
  tidy frame;
- :mod:`cpts_diag.national` (thin data layer): :func:`national_data` loads the sources once per
  process and data root (``functools.lru_cache``) and precomputes the départements, régions and
  France comparators;
- :mod:`cpts_diag.finess`: which FINESS entities provide care, and their category;
- here: :func:`compute_all`, :func:`age_structure`, :func:`commune_table`, :func:`commune_values`,
  :func:`hospitals`, :func:`hospitals_excluded` take a :class:`~cpts_diag.territory.Territory`.

Tidy columns: indicator_id, label, unit, source, vintage, theme, level, code, name, value,
value_same_basis, method, n_communes, n_missing, coverage, note. Levels: ``territory`` (the CPTS),
``epci`` (the part of each EPCI inside the CPTS), ``departement`` and ``region`` (whole),
``france_metro``, ``france``.

- ``coverage`` is the share (0–1) of the level's RP 2022 population living in the communes that
  enter the computation; ``n_missing`` counts the communes left out (no value: secret, source gap).
- ``method``: ``calculé``, ``publié (PTOD)`` (the département, région or France métropolitaine
  value is INSEE's published all-population aggregate), ``non couvert`` (metropolitan-only data,
  France entière), ``non calculable`` (e.g. a median over communes), ``publié (source)`` /
  ``non publié à ce niveau`` (``compute.kind: published``: vaccination coverage, standardised
  mortality, read from their source for the levels it publishes — département, région, France —
  and n.d. elsewhere, the CPTS and its EPCIs included) or ``estimé (bassins de vie)``
  (``compute.kind: bv_estimate``: population-weighted mean of the values of the bassins de vie).
- ``value_same_basis``: on ``publié (PTOD)`` rows only, the value computed from the communes
  exactly as the territory's is (over the communes where the data exist, same weights); compare
  the territory with it, not with the published value, when coverage is partial. ``n_missing`` and
  ``coverage`` of those rows describe that computation. NaN on every other row (territory, EPCI,
  and comparators whose ``value`` is already computed).
- Strict sums (populations 2011, 2016): n.d. at the territory / EPCI levels as soon as a commune
  lacks the value (partial sum in the note); at the comparator levels, the sum over the communes
  having it, with ``n_missing`` / ``coverage`` and a note.

Missing stays NaN, never 0 (BPE absence is 0 by definition of the BPE).
"""
from __future__ import annotations

import pandas as pd

from .aggregation import (_sort_tidy, aggregate, finalize, flag_frame, fmt_share,  # noqa: F401
                          published_values)
from .commune_frame import (_per_commune, apl_by_commune, areas_by_commune,  # noqa: F401
                            bpe_by_commune, bv_by_commune, commune_base, commune_indicators,
                            fill_past_populations)
from .finess import (HOSPITAL_CATEGORIES, NON_CARE_ENTITIES, care_hospitals, classify_hospitals,
                     excluded_hospitals)
from .indicator_registry import (AGE_BANDS, APL_PROFESSIONS_SHORT, BPE_ALL_CODES, BPE_CODES,
                                 BPE_STRUCTURE_CODES, COMPARATOR_LEVELS,
                                 FRANCE, FRANCE_METRO, INDICATORS, LEVELS, LOCAL_LEVELS,
                                 REGISTRY_PATH, THEMES, TIDY_COLUMNS, UniqueKeyLoader,
                                 load_registry, load_yaml_unique, registry_frame, registry_markdown)
from .national import (NationalData, _data_stamp, _national, national_data,  # noqa: F401
                       rows_of, territory_membership)

__all__ = [
    "INDICATORS", "LEVELS", "LOCAL_LEVELS", "COMPARATOR_LEVELS", "AGE_BANDS",
    "APL_PROFESSIONS_SHORT", "BPE_CODES", "BPE_STRUCTURE_CODES", "BPE_ALL_CODES", "TIDY_COLUMNS",
    "THEMES", "FRANCE", "FRANCE_METRO",
    "REGISTRY_PATH", "HOSPITAL_CATEGORIES", "NON_CARE_ENTITIES",
    "compute_all", "age_structure", "commune_table", "commune_values", "hospitals",
    "hospitals_excluded", "national_data", "NationalData", "aggregate", "commune_base",
    "commune_indicators", "apl_by_commune", "bpe_by_commune", "bv_by_commune", "areas_by_commune",
    "fill_past_populations", "finalize", "published_values", "load_registry", "load_yaml_unique",
    "UniqueKeyLoader", "registry_frame", "registry_markdown", "care_hospitals",
    "classify_hospitals", "excluded_hospitals",
]

# former private names, still imported by other modules and tests
_flags = flag_frame
_fmt_share = fmt_share
_rows = rows_of
_territory_membership = territory_membership


def _as_territory(territory):
    if isinstance(territory, str):
        from .territory import Territory
        return Territory.load(territory)
    return territory


def compute_all(territory) -> pd.DataFrame:
    """Every indicator for the territory, each EPCI part, its départements, régions, France
    métropolitaine and France entière (tidy; see the module docstring for the columns)."""
    territory = _as_territory(territory)
    nat = national_data()
    memb = territory_membership(nat, territory)
    agg = aggregate(nat.base, memb, missing_codes=True)
    local = finalize(agg, flags=flag_frame(nat.base, memb, list_codes=True))
    deps, regs = set(territory.departements), set(territory.regions)
    t = nat.tidy
    keep = ((t["level"].eq("departement") & t["code"].isin(deps))
            | (t["level"].eq("region") & t["code"].isin(regs))
            | t["level"].isin(["france_metro", "france"]))
    out = _sort_tidy(pd.concat([local, t[keep]], ignore_index=True), INDICATORS).reset_index(drop=True)
    # attrs stay tiny: pandas deep-copies them at every operation
    out.attrs = {"territory": territory.id}
    return out


def age_structure(territory, tidy: pd.DataFrame | None = None) -> pd.DataFrame:
    """Age structure 2022 for bars/pyramids: band, band_label, order, level, code, name,
    share (% of the six bands, summing to 100), population (DERIVED count).

    ``tidy``: the territory's :func:`compute_all` frame when the caller already has it."""
    t = compute_all(territory) if tidy is None else tidy
    rows = []
    for i, (b, lab) in enumerate(AGE_BANDS):
        s = t[t["indicator_id"] == f"share_age_{b}_2022"][["level", "code", "name", "value"]]
        p = t[t["indicator_id"] == f"pop_age_{b}_2022"][["level", "code", "value"]]
        m = s.merge(p.rename(columns={"value": "population"}), on=["level", "code"], how="left")
        rows.append(m.rename(columns={"value": "share"}).assign(band=b, band_label=lab, order=i))
    out = pd.concat(rows, ignore_index=True)
    out = out[out["level"] != "france"]  # no age data outside metropolitan France
    lorder = {k: i for i, k in enumerate(LEVELS)}
    out = out.assign(_l=out["level"].map(lorder)).sort_values(["_l", "code", "order"]).drop(columns="_l")
    return out[["band", "band_label", "order", "level", "code", "name", "share", "population"]].reset_index(drop=True)


def commune_values(codes) -> pd.DataFrame:
    """Per-commune values (:func:`commune_indicators`) of any list of COG 2025 codes, in the
    given order (unknown codes raise TerritoryError)."""
    nat = national_data()
    sub = nat.base.iloc[rows_of(nat, codes)].reset_index(drop=True)
    return commune_indicators(sub)


def commune_table(territory) -> pd.DataFrame:
    """One row per commune of the territory (sorted by code): name, EPCI, population 2022/2016,
    annual change 2016–2022 (%), area, density, ageing index, share 75+, APL (GP 2022/2023, GP ≤ 65,
    nurses, physiotherapists, midwives, dentists 2023), BPE counts, hospitals."""
    territory = _as_territory(territory)
    return commune_values(sorted(territory.communes))


def hospitals(territory) -> pd.DataFrame:
    """FINESS entities (March 2020) that provide care (:func:`cpts_diag.finess.care_hospitals`:
    no family-planning centre, prison unit, screening centre, emergency-team base or administrative
    entity) located in the territory's communes: finess, nom, site, type, ``categorie`` (French
    category of :data:`HOSPITAL_CATEGORIES`), statut (empty in the source → ``non renseigné``),
    code_commune, commune, adresse, lat, lon. Their count is ``n_hospitals_finess2020``."""
    return _hospitals_of(territory, care_hospitals)


def hospitals_excluded(territory) -> pd.DataFrame:
    """FINESS entities of the territory's communes left out of :func:`hospitals`, same columns
    plus ``exclusion`` (kind of entity) and ``motif`` (reason, French)."""
    return _hospitals_of(territory, excluded_hospitals)


def _hospitals_of(territory, select) -> pd.DataFrame:
    from .loaders import load_communes, load_hospitals

    territory = _as_territory(territory)
    h = load_hospitals()
    h = select(h[h["code_commune"].isin(territory.communes)])
    names = load_communes().set_index("code_commune")["nom"]
    out = pd.DataFrame({
        "finess": h["finess"], "nom": h["nom"], "site": h["site"], "type": h["type"],
        "categorie": h["categorie"],
        "statut": h["statut"].map({"public": "public", "prive": "privé"}).fillna("non renseigné"),
        "code_commune": h["code_commune"], "commune": h["code_commune"].map(names),
        "adresse": h["adresse"], "lat": h["lat"], "lon": h["lon"],
    })
    for c in ("exclusion", "motif"):
        if c in h.columns:
            out[c] = h[c]
    out = out.sort_values(["commune", "categorie", "nom"]).reset_index(drop=True)
    out.attrs = {"source": load_hospitals().attrs.get("source")}
    return out
