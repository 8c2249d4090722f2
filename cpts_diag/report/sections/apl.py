"""5.2 and 5.3 Accessibility (APL): GPs with the DREES classes (« moins de 2,5 », « de 2,5 à moins
de 4 », « 4 ou plus »), a class table that agrees with the map, and the other professions."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ...apl_params import APL_GP_CLASS_LABELS, apl_gp_class
from ...fmt import fmt_number, fmt_percent, is_missing
from ...professions import OTHER_APL
from .. import blocks as B
from ..compare import compare_table
from ..figures import LEGEND_APL_GP, commune_map, map_source, no_map
from ..text import capitalize, plural, verb
from ._titles import heading, sub

CLASS_SHARE_IDS = ("share_pop_apl_mg_lt_2_5_{y}", "share_pop_apl_mg_2_5_4_{y}", "share_pop_apl_mg_ge_4_{y}")
APL_NOTE = ("Classes de la Drees : moins de 2,5 consultations par an et par habitant standardisé "
            "(sous-densité), de 2,5 à moins de 4, 4 ou plus. Une commune à exactement 2,5 n'est pas "
            "sous-dense.")


def class_frame(ctx) -> pd.DataFrame:
    """Communes, population and population share (DREES rule) of each GP APL class."""
    y = ctx.apl_year
    c = ctx.communes
    k = apl_gp_class(c[f"apl_mg_{y}"])
    rows = []
    for i, label in enumerate(APL_GP_CLASS_LABELS):
        rows.append({"Classe d'APL": label, "Communes": int((k == i).sum()),
                     "Population 2022": float(c.loc[k == i, "population_2022"].sum()),
                     "Part de la population (%, règle Drees)": ctx.val(CLASS_SHARE_IDS[i].format(y=y))})
    if (k < 0).any():
        rows.append({"Classe d'APL": "APL non publiée", "Communes": int((k < 0).sum()),
                     "Population 2022": float(c.loc[k < 0, "population_2022"].sum()),
                     "Part de la population (%, règle Drees)": np.nan})
    return pd.DataFrame(rows)


def gp_text(ctx) -> str:
    y = ctx.apl_year
    lt = f"share_pop_apl_mg_lt_2_5_{y}"
    k = apl_gp_class(ctx.communes[f"apl_mg_{y}"])
    n_lt, n_av = int((k == 0).sum()), int((k >= 0).sum())
    s = [f"L'accessibilité potentielle localisée (APL) aux médecins généralistes est de "
         f"**{ctx.num(f'apl_mg_{y}')} consultations par an et par habitant standardisé** en {y} "
         f"({ctx.comparison(f'apl_mg_{y}')}).",
         f"**{ctx.pct(lt)} de la population** vit dans une commune dont l'APL est de "
         f"{APL_GP_CLASS_LABELS[0]}, seuil de sous-densité de la Drees ({ctx.comparison(lt, True)}) ; "
         f"{plural(n_lt, 'commune')} sur {fmt_number(n_av, 0)} {verb(n_lt, 'est', 'sont')} dans ce cas.",
         f"En ne comptant que les médecins de 65 ans ou moins, l'APL descend à "
         f"{ctx.num(f'apl_mg_moins65_{y}')} ({ctx.comparison(f'apl_mg_moins65_{y}')}) et "
         f"{ctx.pct(f'share_pop_apl_mg_moins65_lt_2_5_{y}')} de la population vit dans une commune "
         f"dont l'APL est de {APL_GP_CLASS_LABELS[0]}."]
    if not is_missing(ctx.val("apl_mg_2018")):
        s.append(f"Pour mémoire, l'APL était de {ctx.num('apl_mg_2018')} en 2018 et de "
                 f"{ctx.num('apl_mg_2016')} en 2016 (millésimes comparables avec prudence : la Drees a "
                 "révisé plafonds d'activité et pondérations).")
    if n_av == 0:
        return (f"La Drees ne publie l'APL aux médecins généralistes pour aucune commune du territoire "
                f"(France métropolitaine : {ctx.txt(f'apl_mg_{y}', 'france_metro')}).")
    if len(k) - n_av:
        s.append(f"L'APL n'est pas publiée pour {plural(len(k) - n_av, 'commune')}"
                 + (" (hachurées sur les cartes)." if ctx.mappable else "."))
    return " ".join(s)


def gp_blocks(ctx) -> list:
    y = ctx.apl_year
    ids = [f"apl_mg_{yy}" for yy in (2016, 2018, 2022, 2023)] + \
          [f"apl_mg_moins65_{yy}" for yy in (2022, 2023)] + \
          [i.format(y=y) for i in CLASS_SHARE_IDS] + [f"share_pop_apl_mg_moins65_lt_2_5_{y}"]
    return [
        heading("apl"),
        B.Text("L'APL de la Drees mesure, pour chaque commune, l'offre de médecins accessible en tenant "
               "compte de l'activité des médecins, de la demande de soins (âge des habitants) et de la "
               "distance aux communes voisines."),
        B.Text(gp_text(ctx)),
        commune_map(ctx, f"apl_mg_{y}", f"APL aux médecins généralistes, {y}", LEGEND_APL_GP,
                    "carte_apl_mg", note=APL_NOTE),
        B.Table("apl_classes", class_frame(ctx), f"Communes et population par classe d'APL aux médecins "
                f"généralistes, {y}", f"{ctx.caption(f'apl_mg_{y}')} ; Insee, RP 2022",
                decimals={"Communes": 0, "Population 2022": 0, "Part de la population (%, règle Drees)": 1},
                note="Part de la population : règle de la Drees (population totale des communes où l'APL "
                     "est publiée) ; les communes par classe sont celles de la carte."),
        commune_map(ctx, f"apl_mg_moins65_{y}", f"APL aux médecins généralistes de 65 ans ou moins, {y}",
                    LEGEND_APL_GP, "carte_apl_mg_moins65", note=APL_NOTE),
        compare_table(ctx, ids, "apl_medecins_generalistes",
                      "Accessibilité potentielle localisée (APL) aux médecins généralistes", france=True),
    ]


def other_blocks(ctx) -> list:
    from ... import maps

    y = 2023
    dep = (lambda iid: f"{ctx.main_dep_name} : {ctx.num(iid, 'departement')} ; ") if ctx.has_dep else (lambda iid: "")
    parts = [f"{p.plural} : {ctx.txt(f'apl_{p.apl_key}_{y}')} ({dep(f'apl_{p.apl_key}_{y}')}France "
             f"métropolitaine : {ctx.num(f'apl_{p.apl_key}_{y}', 'france_metro')})"
             for p in OTHER_APL]
    panels, records = [], []
    for p in OTHER_APL:
        col = f"apl_{p.apl_key}_{y}"
        cl = maps.classes_for(col)
        panels.append((col, f"{capitalize(p.plural)} (ETP/100 000 hab. std)", cl))
        records.append(maps.figure_record(col, capitalize(p.plural), col, map_source(ctx, col), str(y),
                                          cl, ctx.geo[col]))
    title = f"APL aux autres professionnels de santé, {y}"
    ids = [f"apl_{p.apl_key}_{yy}" for p in OTHER_APL for yy in (2022, 2023)]
    text = B.Text(f"Pour les autres professions, l'APL {y} s'exprime en équivalents temps plein (ETP) "
                  "accessibles pour 100 000 habitants standardisés : " + " ; ".join(parts) + ". *La Drees a "
                  "changé de méthode en 2022 pour ces professions : les valeurs ne sont pas comparables aux "
                  "millésimes antérieurs.*")
    table = compare_table(ctx, ids, "apl_autres_professions",
                          "APL aux autres professionnels de santé (ETP pour 100 000 hab. standardisés)", france=True)
    if not ctx.mappable:
        return [sub("5.3 Accessibilité aux autres professionnels de santé"), text, no_map(ctx, title), table]
    fig = maps.small_multiples(ctx.geo, panels, title=title, source=map_source(ctx, panels[0][0]),
                               context=ctx.context_polygons,
                               note="Classes fixes, les mêmes dans tous les rapports, centrées sur la valeur "
                                    "de la France métropolitaine : tons chauds en dessous, tons froids au-dessus.")
    return [sub("5.3 Accessibilité aux autres professionnels de santé"), text,
            B.Figure("carte_apl_autres_professions", fig, {"title": title, "kind": "petits multiples",
                                                            "panels": records}),
            table]


def build(ctx) -> list:
    return [*gp_blocks(ctx), *other_blocks(ctx)]
