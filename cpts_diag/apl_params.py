"""APL parameters as versioned data: the DREES parameters and cpts-diag's default-input model.

Read from ``apl_parameters.yaml`` (package data, bounded ``yaml.safe_load`` of
:mod:`cpts_diag.safe_yaml`). DREES values come from the
« Paramètres » sheet of the original workbook; the ``model`` values (travel-time speed and detour,
activity per GP) are cpts-diag's own, tuned by ``bench/apl_validation.py``.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from importlib import resources

from .errors import APLInputError, VintageError

__all__ = ["APLParameters", "TravelModel", "load_parameters", "APL_GP_THRESHOLDS",
           "APL_GP_CLASS_LABELS", "APL_GP_CLASS_COLORS", "apl_gp_class"]

#: DREES thresholds of the GP APL (consultations per year per standardised inhabitant): under 2,5
#: a commune is under-served (« zone sous-dense »), 2,5 to 4 intermediate, 4 or more well served.
APL_GP_THRESHOLDS = (2.5, 4.0)
#: The three official classes, left-closed (DREES convention: a commune at exactly 2,5 is NOT
#: under-served, one at exactly 4,0 is in the top class). The one list of labels and colours used
#: by text, tables, static and interactive maps, legends, scenarios, validation and the index.
APL_GP_CLASS_LABELS = ("moins de 2,5", "de 2,5 à moins de 4", "4 ou plus")
APL_GP_CLASS_COLORS = ("#d7301f", "#fdae61", "#1a9850")


def apl_gp_class(values):
    """Official GP APL class of each value: 0 (< 2,5), 1 (2,5 ≤ APL < 4), 2 (≥ 4); NaN → -1."""
    import numpy as np

    v = np.asarray(values, dtype=float)
    out = np.digitize(v, APL_GP_THRESHOLDS, right=False)
    out[np.isnan(v)] = -1
    return out


@dataclass(frozen=True)
class TravelModel:
    """Default travel times: straight-line km × ``detour`` ÷ ``speed_kmh`` × 60 (self pair 0)."""

    detour: float
    speed_kmh: float
    tuning_departements: tuple[str, ...] = ()  # where speed and activity were tuned (not the Loire)

    def minutes(self, km):
        return km * self.detour / self.speed_kmh * 60.0

    def km_for(self, minutes: float) -> float:
        """Straight-line distance reached in ``minutes``."""
        return minutes / 60.0 * self.speed_kmh / self.detour


@dataclass(frozen=True)
class APLParameters:
    """Parameters of one APL vintage for one profession."""

    profession: str
    year: int
    label: str
    upper_minutes: tuple[float, ...]
    decay_weights: tuple[float, ...]
    zero_up_to: float
    floor: float
    cap: float
    new_practitioner: float
    age_band_lower: tuple[int, ...]
    age_weights: tuple[float, ...]
    population_year: int
    travel: TravelModel
    activity_per_gp: float
    bpe_typequ: str
    bpe_year: int

    @property
    def max_minutes(self) -> float:
        """Travel time beyond which the weight is 0."""
        return self.upper_minutes[-1]

    def decay_text(self) -> str:
        """French description of the decay, boundary convention included."""
        from .fmt import fmt_number

        parts, lo = [], None
        for up, w in zip(self.upper_minutes, self.decay_weights):
            frac = str(Fraction(w).limit_denominator(12))
            span = f"≤ {fmt_number(up, 0)} min" if lo is None else \
                f"> {fmt_number(lo, 0)} et ≤ {fmt_number(up, 0)} min"
            parts.append(f"{span} : {frac}")
            lo = up
        parts.append(f"> {fmt_number(lo, 0)} min : 0")
        return " ; ".join(parts)


def _fraction(v, where: str) -> float:
    try:
        return float(Fraction(str(v)))
    except (ValueError, ZeroDivisionError) as exc:
        raise APLInputError(f"apl_parameters.yaml, {where} : {v!r} n'est ni un nombre ni une "
                            "fraction. Correctif : écrivez p. ex. 0,5 sous la forme 0.5 ou 2/3.") from exc


@lru_cache(maxsize=None)
def _raw() -> dict:
    from .safe_yaml import PACKAGE_LIMITS, YamlFileError, load_yaml

    text = resources.files("cpts_diag").joinpath("apl_parameters.yaml").read_text(encoding="utf-8")
    try:  # bounded safe_load (size, alias expansion, no Python tags, no duplicate keys)
        data = load_yaml(text, "apl_parameters.yaml", PACKAGE_LIMITS)
    except YamlFileError as exc:
        raise APLInputError(str(exc)) from None
    if not isinstance(data, dict):
        raise APLInputError("apl_parameters.yaml : le fichier doit associer chaque profession à "
                            "ses paramètres. Correctif : restaurez le fichier du paquet.")
    return data


def load_parameters(year: int = 2023, profession: str = "medecin_generaliste") -> APLParameters:
    """DREES APL parameters of vintage ``year`` (2022 or 2023) with the default-input model."""
    raw = _raw()
    if profession not in raw:
        raise APLInputError(f"profession = {profession!r} : pas de paramètres APL. Correctif : "
                            f"donnez l'une de : {', '.join(raw)}.")
    p = raw[profession]
    drees, model = p["drees"], p["model"]
    if int(year) not in drees["vintages"]:
        raise VintageError(f"year = {year} : pas de paramètres APL pour ce millésime (millésimes "
                           f"disponibles : {', '.join(map(str, drees['vintages']))}). Correctif : "
                           f"donnez p. ex. year={drees['vintages'][-1]} (option --year).")
    decay = drees["decay"]
    if decay.get("closed") != "right":
        raise APLInputError("apl_parameters.yaml, decay.closed : seuls les intervalles fermés à "
                            "droite sont pris en charge. Correctif : écrivez closed: right.")
    ages = drees["age_weights"]
    weights = ages[int(year)]
    if len(weights) != len(ages["band_lower"]):
        raise APLInputError(f"apl_parameters.yaml, age_weights {year} : {len(weights)} poids "
                            f"d'âge pour {len(ages['band_lower'])} tranches. Correctif : donnez un "
                            "poids par tranche de band_lower.")
    act = drees["activity"]
    tt = model["travel_time"]
    sup = model["supply"]
    return APLParameters(
        profession=profession, year=int(year), label=p["label"],
        upper_minutes=tuple(float(x) for x in decay["upper_minutes"]),
        decay_weights=tuple(_fraction(x, "decay.weights") for x in decay["weights"]),
        zero_up_to=float(act["zero_up_to"]), floor=float(act["floor"]), cap=float(act["cap"]),
        new_practitioner=float(act["new_practitioner"]),
        age_band_lower=tuple(int(x) for x in ages["band_lower"]),
        age_weights=tuple(float(x) for x in weights),
        population_year=int(drees["populations"][int(year)]),
        travel=TravelModel(detour=float(tt["detour"]), speed_kmh=float(tt["speed_kmh"]),
                           tuning_departements=tuple(str(d) for d in tt["tuning_departements"])),
        activity_per_gp=float(sup["activity_per_gp"]), bpe_typequ=str(sup["bpe_typequ"]),
        bpe_year=int(sup["bpe_year"]),
    )
