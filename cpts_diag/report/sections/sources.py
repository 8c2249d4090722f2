"""6. Sources et millésimes: every dataset used (publisher, vintages, COG, licence, provenance and
derivation — said once here, not in every caption) and the reading conventions of the report."""
from __future__ import annotations

import re

import pandas as pd

from ...apl_params import APL_GP_CLASS_LABELS
from ...fmt import fmt_number
from .. import blocks as B
from ..readings import MIN_POPULATION_EXTREMES
from ._titles import heading


def sources_frame(ctx) -> pd.DataFrame:
    from ...sources import SOURCES

    used: dict[str, set] = {}
    for iid, d in ctx.registry.items():
        sid = d.get("source_id")
        if sid:
            used.setdefault(sid, set()).update(re.findall(r"\d{4}", str(d.get("vintage", ""))))
    if "population" in used:
        used.setdefault("socio", set())
    for sid in ("cog_communes", "geo_communes_8dep", "hospitals", "cpts_sources"):
        used.setdefault(sid, set())
    if ctx.sae is not None:  # section 5.4
        used.setdefault("sae_2022", set())
    if ctx.nurse_age_table is not None:  # section 5.1
        used.setdefault("nurses_age_drees", set())
    if ctx.health() is not None:  # section 4 read them
        from .health import SOURCE_IDS

        for sid in SOURCE_IDS:
            used.setdefault(sid, set())
    if "geo_communes_metro" in used:
        used["geo_communes_metro"] = {str(SOURCES["geo_communes_metro"].default_vintage)}
    rows = []
    for sid, years in used.items():
        s = SOURCES.get(sid)
        if s is None:
            continue
        vint = ", ".join(sorted(years)) if years else str(s.default_vintage)
        rows.append({"Donnée": s.label, "Producteur": s.publisher, "Millésime(s)": vint,
                     "Géographie des codes (COG)": s.cog, "Licence": s.licence,
                     "Provenance": s.provenance + (f" ({s.notes})" if s.notes else "")})
    return pd.DataFrame(rows)


def conventions() -> str:
    lo, mid, hi = APL_GP_CLASS_LABELS
    return "\n".join([
        "**Conventions de lecture**",
        "",
        "- *n.d.* : donnée non disponible (non publiée, ou publiée pour la seule France métropolitaine) ; "
        "*secret statistique* : valeur communale non diffusée par l'Insee. Une donnée manquante n'est "
        "jamais comptée comme zéro ; sur les cartes, les communes concernées sont hachurées (« Donnée manquante »).",
        "- Les valeurs du territoire et des EPCI sont recalculées à partir des communes (rapports de sommes, "
        "moyennes pondérées) ; celles des départements, régions et de la France proviennent des mêmes "
        "calculs nationaux ou, pour le taux de pauvreté et le niveau de vie médian, des agrégats publiés. "
        "Les couvertures vaccinales et la mortalité standardisée sont les valeurs publiées par leur "
        "source (départements, régions, France ; n.d. pour le territoire étudié et ses EPCI) ; la part de la "
        "population en ALD est une estimation par bassins de vie (section 4.3).",
        "- Un taux calculé sur une partie seulement des communes (secret statistique) est comparé à des "
        "valeurs calculées sur la même base (les communes où il est publié) ; la valeur publiée pour toute "
        "la population est donnée à côté, et la couverture (communes, part de la population) est indiquée.",
        "- Qualificatifs : « proche » pour un écart relatif de moins de 5 %, « supérieur / inférieur » de 5 à "
        "15 %, « nettement supérieur / inférieur » au-delà de 15 % (pour une évolution annuelle : 0,1 et "
        "0,3 point par an).",
        f"- Les valeurs extrêmes d'une commune de moins de {fmt_number(MIN_POPULATION_EXTREMES, 0)} habitants "
        "sont signalées comme fragiles : elles reposent sur peu de personnes.",
        "- Cartes : les classes sont fixées une fois pour toutes (seuils officiels, quintiles nationaux ou "
        "échelle centrée sur la valeur de la France), identiques dans tous les rapports ; pour l'offre de soins, "
        "tons chauds sous la France, tons froids au-dessus. Chaque carte a sa fiche figures/<nom>.json.",
        f"- APL aux médecins généralistes : classes de la Drees « {lo} » (sous-densité), « {mid} », « {hi} » "
        "consultations par an et par habitant standardisé.",
        "- BPE : les professionnels sont comptés par lieu d'exercice libéral recensé, pas par praticien.",
        "- Les effectifs par âge sont estimés à partir des parts publiées par IRIS (arrondis à 0,1 personne).",
        "- Géographie : communes au 1er janvier 2025 (code officiel géographique 2025).",
    ])


def build(ctx) -> list:
    return [heading("sources"),
            B.Text("Chaque tableau et chaque carte indique sa source et son millésime. Le tableau ci-dessous "
                   "récapitule les données utilisées, leur provenance et leur traitement."),
            B.Table("sources", sources_frame(ctx), "Sources et millésimes",
                    "registre des sources de cpts-diag (contrat de données du jeu ouvert)"),
            B.Text(conventions())]
