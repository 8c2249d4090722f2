"""Loaders of the health-status add-on of the snapshot (data contract §7), one per source.

Each takes an explicit vintage (with a documented default), reads its file through the checked
parquet cache (:func:`cpts_diag.store.cached`: SHA-256, schema of :data:`cpts_diag.schemas.SCHEMAS`,
row count of the contract) and carries its provenance in ``frame.attrs['source']``. Values are
copied as published: missing cells (INSEE *secret statistique*, « N/A ») stay ``NaN``, never 0.
Codes (département, région, EPCI SIREN, bassin de vie) are read as text.

These sources are optional (``required=False`` in :mod:`cpts_diag.sources`): on an older snapshot
without them the loaders raise :class:`~cpts_diag.errors.DataNotInstalledError` with the fix.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from .store import cached

__all__ = ["load_vaccination", "load_standardised_mortality", "load_crude_mortality",
           "load_cartosante_bv", "load_bv_local_stats"]


def _reader(codes: tuple[str, ...], ints: tuple[str, ...] = (), blank_if_empty: tuple[str, ...] = ()):
    """A CSV reader keeping ``codes`` as text (leading zeros) and ``ints`` as integers; empty
    cells are missing. A line whose ``blank_if_empty`` columns (default: all) are all empty is a
    blank record and is dropped."""
    def read(path: Path) -> pd.DataFrame:
        df = pd.read_csv(path, dtype={c: "string" for c in codes}, keep_default_na=False,
                         na_values=[""], low_memory=False)
        df = df.dropna(how="all", subset=list(blank_if_empty) or None).reset_index(drop=True)
        for c in ints:
            df[c] = df[c].astype("int64")
        return df
    return read


def load_vaccination(vintage: int = 2024) -> pd.DataFrame:
    """Santé publique France vaccination coverage of adolescents and adults (long table).

    Columns ``annee, niveau (departement|region|france), code, libelle, indicateur, valeur, unite``;
    ``code`` is the 2-character département (3 for DROM), the région code (2016 régions, same
    codes as COG 2025) or ``FR``; ``valeur`` in %. Vintage 2024 (years 2011–2024, each indicator
    from its first publication year). No ROR nor infant méningocoque C coverage in this file.
    """
    return cached("vaccination_spf", vintage, _reader(("code",), ("annee",)))


def load_standardised_mortality(vintage: int = 2023) -> pd.DataFrame:
    """Age- and sex-standardised death rates per 100 000 by département.

    Columns ``annee, departement, sexe (Hommes|Femmes|Tous sexes), cause, valeur, unite``. « Toutes
    causes » tous sexes for 2010–2023; 18 causes (« 1. Maladies infectieuses… » to « 18. Covid-19… »)
    × sexe for 2023 only. Vintage 2023. No région nor France rows (compute none: the standard
    population and the age structure are not in the file). Publisher not named by the copy
    (layout of the CépiDc-Inserm / Odissé exports).
    """
    return cached("mortality_standardised", vintage, _reader(("departement",), ("annee",)))


def load_crude_mortality(vintage: int = 2018) -> pd.DataFrame:
    """INSEE crude death rate per 1 000 by inter-censal period (« séries historiques » of the RP).

    Columns ``niveau (departement|region|epci), code, libelle, periode, taux_mortalite_pour_1000``.
    Vintage 2018: periods 1968-1975 … 2013-2018 (départements and régions also 1999-2007,
    2007-2012, 2012-2017). EPCI codes are those of the 2018 geography; région codes are the 2016
    ones. No France row. The blank last line of the file (``epci,,,,``) is dropped.
    """
    blank = ("code", "libelle", "periode", "taux_mortalite_pour_1000")
    return cached("mortality_crude", vintage, _reader(("code",), blank_if_empty=blank))


def load_cartosante_bv(vintage: int = 2024) -> pd.DataFrame:
    """CartoSanté export by bassin de vie 2022 (``code_bv2022`` = code of its pole commune).

    Columns ``libelle_bv, part_ald_2024, part_benef_ophtalmo_2024`` (%), ``apl_mg_2023`` (APL to
    GPs, consultations per inhabitant), ``densite_*_lib_2024`` (liberal practitioners per 10 000,
    SNDS/RPPS: practitioners, not practice addresses), ``densite_pharmacies_2024``,
    ``cellules_secret_statistique`` (names of the columns left empty for secrecy, as listed).
    Vintage 2024.
    """
    return cached("cartosante_bv", vintage, _reader(("code_bv2022",)))


def load_bv_local_stats(vintage: int = 2024) -> pd.DataFrame:
    """INSEE « Statistiques locales » by bassin de vie 2022.

    Columns ``code_bv2022, libelle_bv, deces_domicilies_2024`` (count), ``part_75p_2022``,
    ``taux_pauvrete_2021``, ``revenu_median_2021`` (€), ``part_peu_diplomes_2022``,
    ``part_familles_monoparentales_2022``, ``part_moins_15_2022``, ``part_locataires_hlm_2022``,
    ``part_suroccupation_accentuee_2022`` (%). Vintage 2024 (deaths 2024, RP 2022, Filosofi 2021).
    """
    return cached("bv_local_stats", vintage, _reader(("code_bv2022",)))
