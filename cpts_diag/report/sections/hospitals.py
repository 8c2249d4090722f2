"""5.4 Établissements de soins: the sanitary establishments of the SAE 2022 (DREES) with their
category and status (public, privé non lucratif, privé lucratif), completed by the FINESS 2020
care entities absent from the SAE, on a map with those within 5 km of the territory."""
from __future__ import annotations

import pandas as pd

from ...fmt import fmt_number
from ...sae import FINESS_SOURCE, SAE_SOURCE, STATUSES
from .. import blocks as B
from ..figures import no_map
from ..text import esc, geo_caption, join_fr, plural
from ._titles import heading

SOURCE = "Ministère de la Santé, FINESS (mars 2020)"
SOURCE_SAE = "DREES, SAE 2022"
EXCLUDED = ("les centres de planification familiale, unités sanitaires en milieu pénitentiaire, bases "
            "de SMUR et entités administratives sont exclus, de même que les EHPAD, maisons et "
            "centres de santé (section 5.1 bis), absents de ces deux sources.")


def _sources_line(h: pd.DataFrame) -> str:
    """« DREES, SAE 2022 ; Ministère de la Santé, FINESS (mars 2020) » for the sources present."""
    used = set(h["source"]) if len(h) else set()
    parts = [SOURCE_SAE] if SAE_SOURCE in used or not used else []
    if FINESS_SOURCE in used or not used:
        parts.append(SOURCE)
    return " ; ".join(parts)


def hospitals_text(ctx) -> str:
    h = ctx.establishments
    has_sae = ctx.sae is not None
    if not len(h):
        return (f"Aucun établissement de soins de la SAE 2022 ni du répertoire FINESS (mars 2020) "
                f"n'est implanté dans {ctx.la} ; la carte montre les plus proches.")
    by = h["statut"].value_counts()
    parts = [plural(by.get(k, 0), one, many) for k, one, many in STATUSES if by.get(k, 0)]
    cats = h["categorie"].value_counts()
    communes = h["commune"].value_counts()
    n_sae = int((h["source"] == SAE_SOURCE).sum())
    if has_sae:
        origin = (f"{fmt_number(n_sae, 0)} d'après la statistique annuelle des établissements de santé "
                  "(Drees, SAE 2022)")
        if len(h) > n_sae:
            origin += (f", {fmt_number(len(h) - n_sae, 0)} du seul répertoire FINESS de mars 2020 "
                       "(entités absentes de la SAE, dont le statut n'y distingue pas le privé "
                       "lucratif du non lucratif)")
    else:
        origin = ("répertoire FINESS de mars 2020 seulement : la SAE 2022 n'est pas installée "
                  "(correctif : `cpts-diag data install --from ../shared/opendata`)")
    return (f"{ctx.La} compte **{plural(len(h), 'établissement de soins', 'établissements de soins')}** "
            f"({join_fr(parts)}) : {join_fr([f'{esc(c)} : {n}' for c, n in cats.items()])}. "
            f"Ils sont implantés dans {plural(len(communes), 'commune')} "
            f"({join_fr([f'{esc(c)} : {n}' for c, n in communes.items()])}). Sources : {origin}. "
            f"Chaque site géographique compte ; {EXCLUDED}")


def _map(ctx, title: str, source: str):
    from ... import maps

    near = ctx.nearby_hospitals
    at_centre = int((near["localisation"] == "centre de la commune").sum())
    note = (f"{plural(at_centre, 'établissement placé', 'établissements placés')} au centre de sa "
            "commune (la SAE ne donne pas d'adresse)." if at_centre else None)
    fig = maps.hospital_map(ctx.geo, near, title=title, source=source, context=ctx.context_polygons,
                            towns=ctx.towns(), note=note, la=ctx.la, noun=ctx.kind)
    return B.Figure("carte_hopitaux", fig, {"title": title, "kind": "carte des établissements",
                                            "source": source, "vintage": "2022" if ctx.sae is not None
                                            else "2020",
                                            "n_in_territory": int(near["dans_cpts"].sum()),
                                            "n_nearby": int((~near["dans_cpts"]).sum()),
                                            "n_at_commune_centre": at_centre})


def build(ctx) -> list:
    h = ctx.establishments
    sources = _sources_line(h)
    title = ("Établissements de soins, SAE 2022 et FINESS 2020" if ctx.sae is not None
             else "Établissements de soins, mars 2020")
    figure = _map(ctx, title, f"{sources} ; {geo_caption(ctx)}") if ctx.mappable else no_map(ctx, title)
    df = pd.DataFrame({"Établissement": h["nom"], "Site": h["site"], "Commune": h["commune"],
                       "Catégorie": h["categorie"], "Statut": h["statut"], "FINESS": h["finess"],
                       "Source": h["source"]})
    if df["Site"].isna().all():
        df = df.drop(columns="Site")
    return [heading("hopitaux"), B.Text(hospitals_text(ctx)),
            figure,
            B.Table("hopitaux", df, f"Établissements de soins {ctx.de_la}", sources)]
