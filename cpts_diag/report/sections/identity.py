"""1. Carte d'identité: population, area, communes, départements and EPCI, the EPCI map."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ...fmt import NNBSP, fmt_number, fmt_percent
from .. import blocks as B
from ..figures import no_map, unmapped_note
from ..text import esc, geo_caption, join_fr, mpl_safe, plural, verb
from ._titles import heading


MAX_CATEGORIES = 20  # colours a legend can still tell apart


def identity_text(ctx) -> str:
    c = ctx.communes
    pop = ctx.val("population_2022")
    top = c.dropna(subset=["population_2022"]).sort_values("population_2022", ascending=False).head(3)
    share3 = top["population_2022"].sum() / pop * 100 if pop else float("nan")
    small = int((c["population_2022"] < 1000).sum())
    deps = [n for _, n in ctx.all_deps]
    n_epci = len(c[["epci_siren"]].drop_duplicates())
    s = [f"{ctx.La} compte **{ctx.txt('population_2022')} habitants** (recensement de la "
         f"population 2022) répartis sur **{plural(len(ctx.territory.communes), 'commune')}** et "
         f"{ctx.txt('area_km2')}, soit une densité de **{ctx.txt('density_2022')}** "
         f"({ctx.comparison('density_2022')})."]
    s.append(f"{ctx.Elle} s'étend sur {plural(len(deps), 'département')} "
             f"{'(' + join_fr(deps) + ') ' if len(deps) <= 12 else ''}et "
             f"{plural(n_epci, 'EPCI', 'EPCI')} à fiscalité propre.")
    names = [f"{esc(r.nom)} ({fmt_number(r.population_2022, 0)} hab.)" for r in top.itertuples()]
    if names:
        s.append(f"Les communes les plus peuplées sont {join_fr(names)} : elles regroupent "
                 f"{fmt_percent(share3, 1)} de la population.")
    if small:
        s.append(f"{plural(small, 'commune')} {verb(small, 'compte', 'comptent')} moins de 1{NNBSP}000 "
                 "habitants.")
    elif c["population_2022"].notna().all():
        s.append(f"Aucune commune ne compte moins de 1{NNBSP}000 habitants.")
    miss = c[c["population_2022"].isna()]
    if len(miss):
        s.append(f"La population 2022 n'est pas disponible pour {join_fr([esc(n) for n in miss['nom']])} "
                 "(commune absente du recensement diffusé) : ces communes sont comptées comme non "
                 "renseignées, pas comme vides.")
    inc = c[c["complet_2022"] == 0]
    if len(inc):
        s.append(f"Attention : la population de {join_fr([esc(n) for n in inc['nom']])} est sous-estimée "
                 "(commune nouvelle du 1er janvier 2025 dont une partie manque dans les données diffusées).")
    return "\n\n".join(s)


def epci_frame(ctx) -> pd.DataFrame:
    c = ctx.communes
    e = ctx.epcis().rename(columns={"n_communes": "total"})
    g = (c.groupby(["epci_siren", "epci_nom"], dropna=False)
         .agg(n=("code_commune", "size"), pop=("population_2022", "sum")).reset_index()
         .merge(e, on="epci_siren", how="left"))
    tot = ctx.val("population_2022")
    return pd.DataFrame({
        "EPCI": g["epci_nom"], "SIREN": g["epci_siren"],
        f"Communes dans {ctx.la}": g["n"], "Communes de l'EPCI": g["total"],
        f"Population 2022 dans {ctx.la}": g["pop"],
        f"Part de la population {ctx.de_la} (%)": g["pop"] / tot * 100 if tot else np.nan,
    }).sort_values(f"Population 2022 dans {ctx.la}", ascending=False)


def build(ctx) -> list:
    from ... import maps

    title = f"{mpl_safe(ctx.territory.name)} : communes et EPCI"
    source = f"Insee, COG 2025 ; {geo_caption(ctx)}"
    g, column, legend = ctx.geo, "epci_nom", "EPCI (nombre de communes)"
    if g["epci_nom"].nunique() > MAX_CATEGORIES:  # too many EPCI for a legend: by département
        g = g.assign(departement=g["dep"].map(dict(ctx.all_deps)))
        column, legend, title = "departement", "Départements (nombre de communes)", title.replace("EPCI", "départements")
    if ctx.mappable and g[column].nunique() <= MAX_CATEGORIES:
        fig = maps.category_map(g, column, title=title, legend_title=legend,
                                source=source, context=ctx.context_polygons, towns=ctx.towns(8),
                                note=unmapped_note(ctx))
        figure = B.Figure("carte_identite_epci", fig, {"title": title, "kind": "carte des EPCI",
                                                       "source": source, "vintage": "2025"})
    elif ctx.mappable:
        figure = B.Note(f"Pas de carte des EPCI : le territoire en compte plus de {MAX_CATEGORIES}, "
                        "trop pour une légende lisible (voir le tableau ci-dessous).")
    else:
        figure = no_map(ctx, "communes et EPCI")
    df = epci_frame(ctx)
    la, de_la = ctx.la, ctx.de_la
    return [
        heading("identite"),
        B.Text(identity_text(ctx)),
        figure,
        B.Table("epci", df, f"EPCI du territoire (partie comprise dans {la})", "Insee, COG 2025 ; RP 2022",
                decimals={f"Communes dans {la}": 0, "Communes de l'EPCI": 0,
                          f"Population 2022 dans {la}": 0, f"Part de la population {de_la} (%)": 1},
                in_page=len(df) <= 100),
    ]
