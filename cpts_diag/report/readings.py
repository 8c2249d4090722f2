"""Interpretation rules of the report: how a value is qualified against a comparator, which
indicators the « Points saillants » compare, and the caveats on small communes.

The rules are pure functions, documented here and in ``docs/report.md``:

* the gap is relative (``x / ref − 1``) for levels and shares; for rates of change (unit
  « % par an ») it is absolute, in points per year;
* a gap below the first step is « proche », from the first step « supérieur / inférieur », from the
  second « nettement supérieur / inférieur » (:data:`RELATIVE_STEPS`, :data:`ABSOLUTE_STEPS`);
* the « Points saillants » compare the territory with the département and France métropolitaine on
  each indicator of :data:`SYNTHESIS`, ordered by how far the territory stands from France
  (gap ÷ its second step), and keep at most :data:`MAX_POINTS` of them;
* a commune of fewer than :data:`MIN_POPULATION_EXTREMES` inhabitants is flagged wherever its value
  is quoted as an extreme (its rates rest on a few people).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..fmt import fmt_number, fmt_percent, is_missing

#: Relative gap from which a value is « supérieur » (first) and « nettement supérieur » (second).
RELATIVE_STEPS = (0.05, 0.15)
#: Absolute steps for units where a relative gap means nothing (rates of change around 0).
ABSOLUTE_STEPS = {"% par an": (0.1, 0.3)}
MIN_POPULATION_EXTREMES = 500
MIN_POINTS, MAX_POINTS = 5, 8

_WORDS = {  # rank → (masculine, feminine)
    -2: ("nettement inférieur", "nettement inférieure"), -1: ("inférieur", "inférieure"),
    0: ("proche", "proche"), 1: ("supérieur", "supérieure"), 2: ("nettement supérieur", "nettement supérieure"),
}


def steps_of(unit: str) -> tuple[tuple[float, float], bool]:
    """``(steps, relative)`` of a unit."""
    if unit in ABSOLUTE_STEPS:
        return ABSOLUTE_STEPS[unit], False
    return RELATIVE_STEPS, True


def gap(x, ref, unit: str = "") -> float:
    """Gap of ``x`` to ``ref``: relative (``x / ref − 1``) or absolute (see :func:`steps_of`);
    NaN when either is missing or a relative gap has a zero reference."""
    if is_missing(x) or is_missing(ref):
        return float("nan")
    _, relative = steps_of(unit)
    if relative:
        return float("nan") if float(ref) == 0 else float(x) / float(ref) - 1
    return float(x) - float(ref)


def rank(x, ref, unit: str = "") -> int | None:
    """-2 … 2 (nettement inférieur … nettement supérieur), None if not comparable."""
    g = gap(x, ref, unit)
    if g != g:
        return None
    (s1, s2), _ = steps_of(unit)
    a = round(abs(g), 9)  # 115 / 100 − 1 is 0.1499999… in binary: read it as 15 %
    r = 0 if a < s1 else (1 if a < s2 else 2)
    return r if g > 0 else -r


def qualifier(x, ref, unit: str = "", feminine: bool = False) -> str:
    """« nettement supérieure », « proche »… ('' when not comparable)."""
    r = rank(x, ref, unit)
    return "" if r is None else _WORDS[r][int(feminine)]


def versus(x, ref, unit: str, feminine: bool, ref_name: str, ref_text: str) -> str:
    """« nettement supérieure à celle de la Loire (12,3 %) » / « proche de celui de … »."""
    r = rank(x, ref, unit)
    if r is None:
        return ""
    pron = "celle" if feminine else "celui"
    word = _WORDS[r][int(feminine)]
    link = "de" if r == 0 else "à"
    return f"{word} {link} {pron} {ref_name} ({ref_text})"


def strength(x, ref, unit: str = "") -> float:
    """How far ``x`` stands from ``ref``, in units of the second step (comparable across units)."""
    g = gap(x, ref, unit)
    (_, s2), _ = steps_of(unit)
    return abs(g) / s2 if g == g else float("nan")


@dataclass(frozen=True)
class Point:
    """One indicator of the synthesis: its id (``{y}``: the APL year) and how to name it."""

    indicator: str
    subject: str  # « la part des 75 ans ou plus »
    feminine: bool
    same_basis: bool = False  # compare on the communes where the data are published


#: The indicators the « Points saillants » may quote, each with its French subject.
SYNTHESIS = (
    Point("share_75p_2022", "la part des 75 ans ou plus", True),
    Point("ageing_index_2022", "l'indice de vieillissement", False),
    Point("pop_growth_2016_2022", "l'évolution annuelle moyenne de la population entre 2016 et 2022", True),
    Point("density_2022", "la densité de population", True),
    Point("unemployment_1564_2022", "le taux de chômage des 15-64 ans", False),
    Point("poverty_rate_2021", "le taux de pauvreté", False, same_basis=True),
    Point("apl_mg_{y}", "l'accessibilité potentielle localisée (APL) aux médecins généralistes", True),
    Point("share_pop_apl_mg_lt_2_5_{y}", "la part de la population vivant dans une commune où "
          "l'APL aux médecins généralistes est de moins de 2,5", True),
    Point("density_gp_bpe2024", "la densité de lieux d'exercice de médecins généralistes recensés "
          "par la BPE", True),
    Point("apl_inf_2023", "l'APL aux infirmiers", True),
    Point("apl_kine_2023", "l'APL aux masseurs-kinésithérapeutes", True),
)


#: Units written after a number in a sentence; longer units are left to the tables.
SHORT_UNITS = ("%", "% par an", "hab./km²")


def short_fmt(ctx, value, iid: str) -> str:
    return ctx.fmt(value, iid, with_unit=ctx.unit(iid) in SHORT_UNITS)


def _dep_phrase(ctx, iid, p: Point, x) -> str:
    ref = ctx.same_basis(iid, "departement") if p.same_basis else ctx.val(iid, "departement")
    return versus(x, ref, ctx.unit(iid), p.feminine, "du département",
                  f"{ctx.main_dep_name} : {short_fmt(ctx, ref, iid)}")


def point_sentence(ctx, p: Point) -> tuple[float, str] | None:
    """``(strength vs France, sentence)`` for one synthesis point, None if not comparable."""
    iid = p.indicator.format(y=ctx.apl_year)
    if iid not in ctx.registry:
        return None
    x = ctx.val(iid)
    fr = ctx.same_basis(iid, "france_metro") if p.same_basis else ctx.val(iid, "france_metro")
    unit = ctx.unit(iid)
    vs_fr = versus(x, fr, unit, p.feminine, "de la France métropolitaine", short_fmt(ctx, fr, iid))
    if not vs_fr:
        return None
    subject = p.subject[:1].upper() + p.subject[1:]
    basis = ""
    cov = ctx.row(iid).get("coverage")
    if p.same_basis and not is_missing(cov) and cov < 0.999:
        basis = (f" (calculé sur les communes où il est publié, {fmt_percent(100 * cov, 0)} de la "
                 "population, et comparé sur la même base)")
    s = f"{subject}{basis} ({short_fmt(ctx, x, iid)}) est {vs_fr}"
    dep = _dep_phrase(ctx, iid, p, x)
    s += (f" et {dep}." if dep else ".")
    return strength(x, fr, unit), s


def points_saillants(ctx) -> list[str]:
    """5 to 8 sentences, the indicators where the territory stands furthest from France first."""
    scored = [r for p in SYNTHESIS if (r := point_sentence(ctx, p)) is not None]
    scored.sort(key=lambda t: -t[0])
    return [s for _, s in scored[:MAX_POINTS]]


def small_commune_flag(population) -> str:
    """« , 185 habitants : valeur fragile » for a commune under :data:`MIN_POPULATION_EXTREMES`
    inhabitants (to put inside the parentheses that name the commune), else ''."""
    if is_missing(population) or population >= MIN_POPULATION_EXTREMES:
        return ""
    return f", {fmt_number(population, 0)} habitants : valeur fragile"
