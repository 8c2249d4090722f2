"""4.4 Établissements de soins: the FINESS establishments that provide care, with their category
and status, on a map with those within 5 km of the territory."""
from __future__ import annotations

import pandas as pd

from ...fmt import fmt_number
from .. import blocks as B
from ..figures import no_map
from ..text import GEO_CAPTION, esc, join_fr, plural
from ._titles import heading

SOURCE = "Ministère de la Santé, FINESS (mars 2020)"


def hospitals_text(ctx) -> str:
    h = ctx.hospitals
    if not len(h):
        return (f"Aucun établissement de soins du répertoire FINESS (mars 2020) n'est implanté dans la "
                f"{ctx.kind} ; la carte montre les plus proches.")
    by = h["statut"].value_counts()
    parts = [f"{fmt_number(by.get(k, 0), 0)} {lab}" for k, lab in
             (("public", "publics"), ("privé", "privés"), ("non renseigné", "de statut non renseigné"))
             if by.get(k, 0)]
    cats = h["categorie"].value_counts()
    communes = h["commune"].value_counts()
    return (f"La {ctx.kind} compte **{plural(len(h), 'établissement de soins', 'établissements de soins')}** "
            f"({join_fr(parts)}) : {join_fr([f'{esc(c)} : {n}' for c, n in cats.items()])}. "
            f"Ils sont implantés dans {plural(len(communes), 'commune')} "
            f"({join_fr([f'{esc(c)} : {n}' for c, n in communes.items()])}). Chaque site géographique "
            "compte ; les centres de planification familiale, unités sanitaires en milieu pénitentiaire et "
            "entités administratives sont exclus, de même que les EHPAD, maisons et centres de santé, "
            "absents de ce répertoire.")


def build(ctx) -> list:
    from ... import maps

    title = "Établissements de soins, mars 2020"
    source = f"{SOURCE} ; {GEO_CAPTION}"
    if ctx.mappable:
        near = ctx.nearby_hospitals
        fig = maps.hospital_map(ctx.geo, near, title=title, source=source, context=ctx.context_polygons,
                                towns=ctx.towns())
        figure = B.Figure("carte_hopitaux", fig, {"title": title, "kind": "carte des établissements",
                                                  "source": source, "vintage": "2020",
                                                  "n_in_territory": int(near["dans_cpts"].sum()),
                                                  "n_nearby": int((~near["dans_cpts"]).sum())})
    else:
        figure = no_map(ctx, title)
    h = ctx.hospitals
    df = pd.DataFrame({"Établissement": h["nom"], "Site": h["site"], "Commune": h["commune"],
                       "Catégorie": h["categorie"], "Statut": h["statut"], "FINESS": h["finess"]})
    if df["Site"].isna().all():
        df = df.drop(columns="Site")
    return [heading("hopitaux"), B.Text(hospitals_text(ctx)),
            figure,
            B.Table("hopitaux", df, f"Établissements de soins de la {ctx.kind}", SOURCE)]
