"""5.5 The interactive map: one layer per mapped indicator, with the same fixed classes as the
static maps; self-contained (Leaflet inlined), not printed in the PDF."""
from __future__ import annotations

import html

from ...professions import OTHER_APL
from .. import blocks as B
from ..figures import no_map
from ._titles import heading

#: Layers of the interactive map: (indicator id, French label, unit, decimals); ``{y}``: APL year.
LAYERS = (
    ("ageing_index_2022", "Indice de vieillissement 2022", "", 0),
    ("density_2022", "Densité de population 2022", "hab./km²", 0),
    ("pop_growth_2016_2022", "Évolution annuelle 2016-2022", "% par an", 2),
    ("apl_mg_{y}", "APL médecins généralistes {y}", "consultations/an/hab. std", 2),
    ("apl_mg_moins65_{y}", "APL médecins généralistes de 65 ans ou moins {y}", "consultations/an/hab. std", 2),
    *((f"apl_{p.apl_key}_2023", f"APL {p.plural} 2023", "ETP/100 000 hab. std", 1) for p in OTHER_APL),
)


MAX_COMMUNES = 1500  # above, the page would weigh tens of megabytes
HELP = ("Carte interactive : choisissez l'indicateur en haut à droite ; survolez une commune pour lire "
        "sa valeur. Les communes grises n'ont pas de donnée. Les classes sont celles des cartes "
        "statiques. Cette carte n'est pas reprise dans la version PDF.")


def build(ctx, height: int = 580) -> list:
    from ... import maps

    if not ctx.mappable:
        return [heading("carte"), no_map(ctx, "carte interactive")]
    if len(ctx.territory.communes) > MAX_COMMUNES:
        return [heading("carte"), B.Note(
            f"Pas de carte interactive au-delà de {MAX_COMMUNES} communes (ce territoire en compte "
            f"{len(ctx.territory.communes)}) : la page deviendrait trop lourde. Les cartes statiques et "
            "le tableau par commune (tableaux.xlsx) donnent les mêmes valeurs.")]
    g = ctx.geo
    layers = []
    for col, label, unit, dec in LAYERS:
        col, label = col.format(y=ctx.apl_year), label.format(y=ctx.apl_year)
        if col in g.columns:
            layers.append(maps.Layer(col, label, unit, maps.classes_for(col), dec,
                                     source=ctx.caption(col)))
    m = maps.interactive_map(g, layers, context=ctx.context_polygons, hospitals=ctx.nearby_hospitals,
                             tiles=ctx.tiles, attribution="Insee, Drees, IGN, FINESS",
                             outline_name=f"Contour {ctx.de_la}")
    h = heading("carte")
    # heading, help and map in one block: none of it is printed in the PDF (class cpts-interactive)
    return [B.Html(f'<h{h.level}><a id="{h.anchor}"></a>{html.escape(h.text)}</h{h.level}>'
                   f"<p>{html.escape(HELP)}</p>{maps.iframe_html(m, height=height)}",
                   css_class="cpts-interactive")]
