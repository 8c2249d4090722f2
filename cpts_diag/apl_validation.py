"""Validation of the recomputed APL against the published DREES APL, and calibration.

Pure functions on pandas objects: :func:`apl_class` (the official DREES classes, left-closed:
« moins de 2,5 », « de 2,5 à moins de 4 », « 4 ou plus »),
:func:`compare` (Pearson r, mean absolute error, class agreement, bias),
:func:`calibrate_activity_per_gp` (activity per GP that makes the recomputed mean APL of a set of
communes equal the published one). Used by ``bench/apl_validation.py`` and the tests.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .apl_params import apl_gp_class
from .errors import APLInputError

__all__ = ["apl_class", "compare", "calibrate_activity_per_gp", "published_apl"]


def apl_class(values) -> np.ndarray:
    """Official GP APL class per value (:func:`cpts_diag.apl_params.apl_gp_class`, left-closed):
    0 (< 2,5), 1 (2,5 ≤ APL < 4), 2 (≥ 4); NaN → -1."""
    return apl_gp_class(values)


def compare(recomputed: pd.Series, published: pd.Series) -> dict:
    """Agreement of two APL series on their common, non-missing index.

    ``n``, ``pearson_r``, ``mae`` (mean absolute error), ``bias`` (mean of recomputed − published),
    ``class_agreement`` (share of communes in the same official class).
    """
    df = pd.concat({"r": recomputed, "p": published}, axis=1).dropna()
    if len(df) < 2:
        raise APLInputError(f"Comparaison impossible : moins de deux communes en commun avec une "
                            f"valeur ({len(df)}). Correctif : comparez deux séries d'APL indexées "
                            "par les mêmes codes commune.")
    diff = df["r"] - df["p"]
    return {"n": len(df), "pearson_r": float(np.corrcoef(df["r"], df["p"])[0, 1]),
            "mae": float(diff.abs().mean()), "bias": float(diff.mean()),
            "class_agreement": float((apl_class(df["r"]) == apl_class(df["p"])).mean())}


def calibrate_activity_per_gp(published: pd.Series, demand: pd.Series, gps: pd.Series,
                              codes) -> float:
    """Activity per GP such that Σ demand × APL over ``codes`` equals Σ GPs × activity.

    The E2SFCA distributes all the supply: Σ_i P_i·APL_i = Σ_j S_j. With S_j = n_j × a, the
    activity ``a`` that reproduces the published ``pop_std``-weighted mean APL of ``codes`` is
    Σ P·APL_published / Σ n (exact when no supply or demand crosses the border of ``codes``).
    """
    idx = pd.Index(codes)
    num = (published.reindex(idx) * demand.reindex(idx)).sum(min_count=1)
    den = gps.reindex(idx).fillna(0).sum()
    if not np.isfinite(num) or den <= 0:
        raise APLInputError("Calibration impossible : aucune APL publiée ou aucun médecin dans les "
                            "communes de calibration. Correctif : choisissez des communes (codes) "
                            "qui ont une APL publiée et des médecins.")
    return float(num / den)


def published_apl(year: int = 2023, profession: str = "medecin_generaliste") -> pd.Series:
    """Published DREES APL on COG 2025 codes (``pop_std``-weighted where codes merged), from the
    same per-commune table as the report's indicators (:func:`cpts_diag.indicators.apl_by_commune`)."""
    from .indicators import APL_PROFESSIONS_SHORT, apl_by_commune
    from .loaders import load_apl

    wide = apl_by_commune(load_apl(year, profession)).set_index("code_commune")
    return wide[f"apl_{APL_PROFESSIONS_SHORT[profession]}_{year}"].rename("apl_publiee")
