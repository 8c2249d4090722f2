"""Top of the report: title, perimeter (with the population the territory announces, reconciled),
table of contents, « Points saillants » and the key-figures table."""
from __future__ import annotations

import datetime as _dt
import re

from ...fmt import fmt_number, fmt_percent, is_missing
from .. import blocks as B
from ..compare import compare_table
from ..readings import MIN_POINTS, points_saillants
from ..text import date_fr, esc, plural
from ._titles import TITLES, heading
from .health_user import user_points

_PATH = re.compile(r"(?:[A-Za-z]:)?(?:[\\/][^\s\\/:«»\"']+)+[\\/]([^\s\\/«»\"']+)")


def strip_paths(text: str) -> str:
    """A message without machine paths: every absolute path is reduced to its file name."""
    return _PATH.sub(lambda m: m.group(1), str(text))


def key_figure_ids(ctx) -> list[str]:
    y = ctx.apl_year
    return ["population_2022", "pop_growth_2016_2022", "density_2022", "share_75p_2022",
            "ageing_index_2022", "unemployment_1564_2022", "poverty_rate_2021", f"apl_mg_{y}",
            f"share_pop_apl_mg_lt_2_5_{y}", "density_gp_bpe2024", "density_nurse_bpe2024"]


def reconciliation(ctx) -> str:
    """One sentence setting the population the territory announces against the report's."""
    a = ctx.territory.announced_population
    pop = ctx.val("population_2022")
    if not a or is_missing(pop):
        return ""
    year = f" en {a['year']}" if a.get("year") else ""
    definition = {"municipale": "population municipale", "totale": "population totale"}.get(
        a.get("definition"), "population dont la définition n'est pas précisée")
    diff = (pop / a["value"] - 1) * 100
    return (f"{ctx.La} annonce **{fmt_number(a['value'], 0)} habitants**{year} ({definition} ; "
            f"source : {esc(a['source'])}) ; ce rapport en compte {fmt_number(pop, 0)} (population "
            f"municipale du recensement 2022, sur les {fmt_number(len(ctx.territory.communes), 0)} communes "
            f"du périmètre au code officiel géographique 2025), soit un écart de "
            f"{fmt_percent(diff, 1, signed=True)} qui peut tenir au millésime, à la définition (la "
            "population totale ajoute les personnes comptées à part, comme les étudiants ou les "
            "internes) ou au périmètre retenu.")


def _title_text(ctx) -> str:
    t = ctx.territory
    when = _dt.date.today().strftime("%d/%m/%Y")
    lines = [f"# Diagnostic territorial de santé — {ctx.name}", "",
             f"*Rapport produit le {when} par cpts-diag à partir des données ouvertes de l'Insee, de la "
             "Drees, de l'IGN et du ministère de la Santé. Chaque tableau et chaque carte indique sa "
             "source et son millésime ; le détail est en fin de rapport.*", ""]
    per = f"Périmètre retenu : {plural(len(t.communes), 'commune')}"
    valid = date_fr(t.valid_from)
    if valid:
        per += f", en vigueur depuis {'le ' if len(str(t.valid_from)) == 10 else ''}{valid}"
    if t.replaced_by:
        per += f" ; **périmètre historique**, remplacé par « {esc(t.replaced_by)} »"
    if t.source:
        per += f". Source du périmètre : {esc(t.source)}"
    lines.append(per + ".")
    rec = reconciliation(ctx)
    if rec:
        lines += ["", rec]
    return "\n".join(lines)


def toc(ctx) -> str:
    """Links to the numbered sections (the scenario only when the report has one)."""
    items = [f"[{title}](#{anchor})" for sid, (title, anchor) in TITLES.items()
             if sid not in ("synthese",) and (sid != "scenario" or getattr(ctx, "scenario", None))]
    return "**Sommaire** : " + " · ".join(items)  # one paragraph: the key figures fit on page 1


def build(ctx) -> list:
    out: list = [B.Text(_title_text(ctx))]
    for w in ctx.perimeter_warnings:
        out.append(B.Note(f"Sur le périmètre : {esc(strip_paths(w))}", kind="warning"))
    out.append(heading("synthese"))
    points = points_saillants(ctx)
    versus_dep = f"le département ({ctx.main_dep_name}) et " if ctx.has_dep else ""
    intro = (f"Comparaison {ctx.de_la} avec {versus_dep}la France "
             "métropolitaine ; les indicateurs où l'écart à la France est le plus grand viennent "
             "en premier. « Nettement » : écart relatif d'au moins 15 % (0,3 point par an pour une "
             "évolution) ; « proche » : moins de 5 % (0,1 point par an).")
    out.append(B.Text(intro + "\n\n" + "\n".join(f"- {p}" for p in points)))
    mine = user_points(ctx)
    if mine:
        out.append(B.Text(f"D'après les indicateurs fournis par {ctx.la} (section 4.5) :\n\n"
                          + "\n".join(f"- {p}" for p in mine)))
    if len(points) < MIN_POINTS:
        out.append(B.Note("Trop peu d'indicateurs sont disponibles pour ce territoire pour une "
                          "synthèse complète (données manquantes ou non publiées)."))
    out.append(B.Heading("Chiffres clés", 3))
    out.append(compare_table(
        ctx, key_figure_ids(ctx), "chiffres_cles",
        f"Chiffres clés {ctx.de_la} et de ses territoires de comparaison",
        note="n.d. : non disponible (donnée non publiée ou limitée à la France métropolitaine)."))
    out.append(B.Text(toc(ctx)))  # after the synthesis and key figures: page 1 says what matters
    return out
