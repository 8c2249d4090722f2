"""Figures shared by several sections: a commune map of one indicator with fixed national classes,
and grouped bars, each with its sidecar record (title, indicator, source, vintage, classes)."""
from __future__ import annotations

from . import blocks as B
from .charts import grouped_bars
from .text import geo_caption

LEGEND_APL_GP = "APL (consultations par an\net par habitant standardisé)"


def map_source(ctx, iid: str) -> str:
    return f"{ctx.caption(iid)} ; {geo_caption(ctx)}"


def no_map(ctx, title: str) -> B.Note:
    """What replaces a map when none of the territory's communes can be drawn."""
    return B.Note(f"Carte « {title} » non disponible : le jeu de données ne contient pas les contours "
                  f"des communes de ce territoire (contours disponibles : France métropolitaine).",
                  kind="warning")


def unmapped_note(ctx) -> str | None:
    """A map note naming the communes that could not be drawn (no polygon), if any."""
    names = ctx.unmapped
    if not names:
        return None
    shown = ", ".join(names[:8]) + (" …" if len(names) > 8 else "")
    return f"Non dessinées, faute de contour : {len(names)} commune(s) ({shown})."


def commune_map(ctx, iid: str, title: str, legend_title: str, name: str,
                note: str | None = None) -> B.Figure | B.Note:
    """Choropleth of the commune column ``iid`` with the classes fixed for every territory (a note
    instead when the territory cannot be drawn)."""
    from .. import maps

    if not ctx.mappable:
        return no_map(ctx, title)
    note = " ".join(n for n in (note, unmapped_note(ctx)) if n) or None

    classes = maps.classes_for(iid)
    source = map_source(ctx, iid)
    fig = maps.choropleth(ctx.geo, iid, title=title, legend_title=legend_title, classes=classes,
                          source=source, context=ctx.context_polygons, towns=ctx.towns(), note=note)
    record = maps.figure_record(name, title, iid, source, str(ctx.registry[iid]["vintage"]),
                                classes, ctx.geo[iid])
    return B.Figure(name, fig, record)


def bars(ctx, name: str, categories, series, *, title: str, unit: str, ids, decimals: int = 1) -> B.Figure:
    """Grouped bars (one group per category, one bar per territory) with its record."""
    source = ctx.caption(*ids)
    fig = grouped_bars(categories, series, title=title, unit=unit, source=source, decimals=decimals)
    record = {"title": title, "kind": "barres groupées", "indicator_ids": list(ids), "source": source,
              "vintage": ", ".join(dict.fromkeys(str(ctx.registry[i]["vintage"]) for i in ids)),
              "series": [label for label, _ in series], "categories": list(categories)}
    return B.Figure(name, fig, record)
