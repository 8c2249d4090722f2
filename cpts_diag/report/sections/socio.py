"""3. Situation socio-économique: unemployment, poverty (compared on the same basis when Filosofi
publishes it for part of the communes only), median income, socio-professional categories."""
from __future__ import annotations

import numpy as np

from ...fmt import NNBSP, fmt_number, fmt_percent, is_missing
from .. import blocks as B
from ..compare import compare_table, coverage_text
from ..figures import bars
from ..readings import versus
from ..text import mpl_safe, plural
from ._titles import heading

CSP = (("csp_agriculteurs_2022", "Agriculteurs"), ("csp_artisans_commercants_2022", "Artisans, commerçants"),
       ("csp_cadres_2022", "Cadres"), ("csp_prof_intermediaires_2022", "Prof. intermédiaires"),
       ("csp_employes_2022", "Employés"), ("csp_ouvriers_2022", "Ouvriers"),
       ("csp_retraites_2022", "Retraités"), ("csp_autres_inactifs_2022", "Autres inactifs"))
SOCIO_IDS = ["unemployment_1564_2022", "poverty_rate_2021", "median_income_2021",
             *[i for i, _ in CSP], "share_80p_alone_2022"]
POVERTY = "poverty_rate_2021"


def _same_basis_list(ctx, iid: str) -> str:
    parts = [f"{n} : {ctx.fmt(ctx.same_basis(iid, 'departement', c), iid)}" for c, n in ctx.deps]
    parts += [f"{n} : {ctx.fmt(ctx.same_basis(iid, 'region', c), iid)}" for c, n in ctx.regions]
    parts.append(f"France métropolitaine : {ctx.fmt(ctx.same_basis(iid, 'france_metro'), iid)}")
    return " ; ".join(parts)


def poverty_text(ctx) -> str:
    """The poverty rate, honest about its coverage: compared on the same basis, published values
    shown beside and labelled."""
    pov = ctx.val(POVERTY)
    if is_missing(pov):
        return (f"Le taux de pauvreté n'est publié pour aucune commune {ctx.de_la} (secret statistique "
                f"de Filosofi pour les petites communes) : il n'est pas disponible pour {ctx.la} "
                f"(valeurs publiées : {ctx.comparison(POVERTY, True)}).")
    cov = coverage_text(ctx, POVERTY)
    if not cov:
        return (f"Le taux de pauvreté (seuil de 60 % du niveau de vie médian) est de **{ctx.pct(POVERTY)}** "
                f"({ctx.comparison(POVERTY, True)}).")
    if ctx.has_dep:
        ref = ctx.same_basis(POVERTY, "departement")
        word = versus(pov, ref, "%", False, f"des communes du département ({ctx.main_dep_name}) où il est "
                      "publié", ctx.fmt(ref, POVERTY))
    else:
        ref = ctx.same_basis(POVERTY, "france_metro")
        word = versus(pov, ref, "%", False, "des communes de France métropolitaine où il est publié",
                      ctx.fmt(ref, POVERTY))
    return (f"Filosofi ne publie le taux de pauvreté (seuil de 60 % du niveau de vie médian) que pour "
            f"{cov} {ctx.de_la} (secret statistique pour les petites communes). **Sur ces communes, "
            f"il est de {ctx.pct(POVERTY)}.** Pour comparer à base égale, les territoires de comparaison "
            f"sont calculés de la même façon, sur leurs seules communes où le taux est publié "
            f"({_same_basis_list(ctx, POVERTY)}) : la valeur {ctx.de_la} est "
            f"{word or 'non comparable'}. Les taux publiés pour toute la population "
            f"({ctx.comparison(POVERTY, True)}) portent aussi sur les petites communes, dont le taux peut "
            "être très différent : ils ne se comparent pas directement à la valeur "
            f"{ctx.de_la}.")


def income_text(ctx) -> str:
    lo, hi = ctx.val("median_income_2021_communes_min"), ctx.val("median_income_2021_communes_max")
    med = ctx.val("median_income_2021_communes_med")
    s = (f"Le niveau de vie médian {ctx.de_la} n'est pas calculable à partir des communes (une "
         "moyenne de médianes n'est pas une médiane)")
    if is_missing(lo):
        s += " et aucune médiane communale n'est publiée (secret statistique)."
    else:
        s += (f" ; les médianes communales publiées vont de {fmt_number(lo, 0)}{NNBSP}€ à "
              f"{fmt_number(hi, 0)}{NNBSP}€ par an (médiane des communes : {fmt_number(med, 0)}{NNBSP}€), "
              + (f"contre {ctx.txt('median_income_2021', 'departement')} pour le département "
                 f"({ctx.main_dep_name})." if ctx.has_dep else
                 f"contre {ctx.txt('median_income_2021', 'france_metro')} pour la France métropolitaine."))
    n = int(ctx.communes["median_income_2021"].isna().sum())
    if n:
        s += f" Le niveau de vie médian est couvert par le secret statistique pour {plural(n, 'commune')}."
    return s


def build(ctx) -> list:
    s = [f"Le taux de chômage des 15-64 ans (au sens du recensement) est de "
         f"**{ctx.pct('unemployment_1564_2022')}** ({ctx.comparison('unemployment_1564_2022', True)}).",
         poverty_text(ctx), income_text(ctx),
         f"Parmi les 15 ans ou plus, les ouvriers représentent {ctx.pct('csp_ouvriers_2022')} "
         f"({ctx.comparison('csp_ouvriers_2022', True)}), les cadres {ctx.pct('csp_cadres_2022')} et "
         f"les retraités {ctx.pct('csp_retraites_2022')}."]
    comps = [c for c in ctx.comparators() if c[0] in ("territory", "departement", "france_metro")]
    series = [(mpl_safe(ctx.territory.name) if lv == "territory" else nm,
               np.array([ctx.val(i, lv, cd) for i, _ in CSP])) for lv, cd, nm in comps]
    return [heading("socio"),
            B.Text("Chômage, pauvreté, niveau de vie et catégories socioprofessionnelles : des "
                   "déterminants de l'état de santé et du recours aux soins."),
            B.Text(" ".join(s)),
            compare_table(ctx, SOCIO_IDS, "socio_economie", "Indicateurs socio-économiques",
                          note="Niveau de vie médian : non calculable pour le territoire (voir le texte)."),
            bars(ctx, "csp", [lab for _, lab in CSP], series,
                 title="Catégories socioprofessionnelles des 15 ans ou plus, 2022",
                 unit="Part des 15 ans ou plus (%)", ids=[i for i, _ in CSP])]
