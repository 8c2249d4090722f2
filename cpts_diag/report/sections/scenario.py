"""5.6 Scénario (only when a scenario is given): APL before / after GP departures or a new
practice, computed by the APL engine, added to the published APL."""
from __future__ import annotations

import pandas as pd

from .. import blocks as B
from ..figures import no_map
from ._titles import heading

TOP = 12
_DEC = {"Population": 0, "Médecins avant": 0, "Médecins après": 0, "APL après scénario": 2,
        "Variation simulée": 3}


def _tables(res, year: int, src: str) -> list:
    c = res.communes
    dec = {**_DEC, f"APL publiée {year}": 2}
    out = []
    for name, part, caption in (
            ("scenario_baisses", c[c["variation"] < -1e-9].sort_values("variation"),
             "Communes du territoire dont l'APL baisse le plus"),
            ("scenario_hausses", c[c["variation"] > 1e-9].sort_values("variation", ascending=False),
             "Communes du territoire dont l'APL augmente le plus")):
        if part.empty:
            continue
        top = part.head(TOP)
        df = pd.DataFrame({
            "Commune": top["nom"], "Population": top["population"],
            "Médecins avant": top["medecins_avant"], "Médecins après": top["medecins_apres"],
            f"APL publiée {year}": top["apl_publiee"], "APL après scénario": top["apl_publiee_apres"],
            "Variation simulée": top["variation"]})
        more = f" ({TOP} premières sur {len(part)})" if len(part) > TOP else ""
        out.append(B.Table(name, df, caption + more, src, decimals=dec))
    if len(res.outside):
        o = res.outside.head(TOP)
        df = pd.DataFrame({"Commune": o["nom"], "Département": o["dep"], "Population": o["population"],
                           f"APL publiée {year}": o["apl_publiee"],
                           "APL après scénario": o["apl_publiee_apres"], "Variation simulée": o["variation"]})
        more = f" ({TOP} premières sur {len(res.outside)})" if len(res.outside) > TOP else ""
        out.append(B.Table("scenario_hors_cpts", df, "Communes hors du territoire dont l'APL varie le plus"
                           + more, src, decimals=dec))
    return out


def build(ctx) -> list:
    """Nothing when the context has no scenario (the default)."""
    spec = getattr(ctx, "scenario", None)
    if spec in (None, "", {}):
        return []
    from ...apl_params import load_parameters
    from ...scenario import ScenarioSpec, run_spec

    spec = ScenarioSpec.coerce(spec, where="paramètre scenario")
    res = run_spec(ctx.territory, spec)
    title = f"5.6 Scénario : simulation de l'accessibilité aux {load_parameters(spec.year).label}"
    src = f"Drees, APL {spec.year} ; calcul cpts-diag (moteur APL) ; {res.sources['supply']}"
    return [heading("scenario", title),
            B.Text("Que deviendrait l'APL si des médecins partaient ou si un cabinet ouvrait ? cpts-diag "
                   "recalcule l'APL de toutes les communes de France métropolitaine avant et après le "
                   "changement (méthode de la Drees : offre de chaque commune rapportée à la demande "
                   "qu'elle attire à moins de 20 minutes, pondérée par la distance). L'écart simulé est "
                   "ajouté à l'APL publiée par la Drees. Il s'agit d'une hypothèse, pas d'une prévision."),
            B.Text(res.summary_text()),
            (B.Figure("carte_scenario", res.figure(ctx.geo, ctx.context_polygons),
                      {"title": "Scénario : variation simulée de l'APL", "kind": "carte de scénario",
                       "source": src, "vintage": str(spec.year)}) if ctx.mappable
             else no_map(ctx, "scénario")),
            *_tables(res, spec.year, src)]

