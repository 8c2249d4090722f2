"""Which FINESS entities of ``finess/etablissements_sante.csv`` (contract §3.16) provide care.

The file lists the FINESS geographic entities that Eurostat classes as hospitals. Its ``type``
column (11 FINESS category labels) says what kind of hospital the entity belongs to, but some
entities of a hospital are not places of care: family-planning centres, units inside prisons,
screening centres, head offices, schools, emergency-team bases. ``type`` cannot tell them apart
(a family-planning centre of a CH is typed « Centre Hospitalier (C.H.) »), so they are recognised
by their name. Both lists are defined here, once:

- :data:`HOSPITAL_CATEGORIES`: the French category shown for each ``type`` (column ``categorie``);
- :data:`NON_CARE_ENTITIES`: the excluded kinds of entity, each with its name pattern and reason.
"""
from __future__ import annotations

import re

import pandas as pd

from .fmt import fold

__all__ = ["HOSPITAL_CATEGORIES", "NON_CARE_ENTITIES", "classify_hospitals", "care_hospitals",
           "excluded_hospitals"]

HOSPITAL_CATEGORIES = {  # FINESS type (as given by Eurostat) -> French category
    "Centre Hospitalier (C.H.)": "Centre hospitalier",
    "Centre hospitalier, ex Hôpital local": "Centre hospitalier (ex-hôpital local)",
    "Centre Hospitalier Régional (C.H.R.)": "Centre hospitalier régional ou universitaire",
    "Centre Hospitalier Spécialisé lutte Maladies Mentales": "Psychiatrie",
    "Etablissement de Soins Pluridisciplinaire": "Clinique (MCO)",
    "Etablissement de Soins Chirurgicaux": "Clinique (MCO)",
    "Etablissement de Soins Médicaux": "Clinique (MCO)",
    "Etablissement Soins Obstétriques Chirurgico-Gynécologiques": "Clinique (MCO)",
    "Etablissement de santé privé autorisé en SSR": "Soins de suite et de réadaptation",
    "Etablissement de Soins Longue Durée": "Soins de longue durée",
    "Centre de Lutte Contre Cancer": "Centre de lutte contre le cancer",
}

# (kind of entity, pattern on the folded name — lower-case ASCII, punctuation as spaces —, reason)
NON_CARE_ENTITIES = (
    ("Centre de planification familiale",
     r"\bplanif|education familiale|\bcpef\b",
     "consultations de contraception et de prévention, sans hospitalisation"),
    ("Unité sanitaire en milieu pénitentiaire",
     r"penitenti|\busmp\b|\bucsa\b|\buhsa\b|\bsmpr\b|maison d arret|maison centrale|centre de detention",
     "soins réservés aux personnes détenues, inaccessibles à la population"),
    ("Centre de dépistage ou de prévention",
     r"\bcdag\b|\bcegidd\b|\bciddist\b|depist\w* anonyme|depistage gratuit|centre gratuit d information"
     r"|information et de depistage|antituberc|phtisio|centre de vaccination",
     "dépistage (IST, VIH) ou lutte antituberculeuse et vaccination, sans soins hospitaliers"),
    ("Équipe mobile d'urgence (SMUR, SAMU)",
     r"\bsmur\b|\bsamu\b",
     "base d'une équipe mobile ou plate-forme de régulation, sans accueil de patients"),
    ("Entité administrative ou logistique",
     r"\bgcs\b|\bsiege\b|pharmacie centrale|ecole de formation|ecole inter ?hospitaliere|\bifsi\b"
     r"|lactarium|blanchisserie|tarification|information coordination",
     "siège, groupement de coopération, école, pharmacie centrale, lactarium ou coordination : "
     "pas un lieu de soins"),
)
_PATTERNS = [(kind, re.compile(p)) for kind, p, _ in NON_CARE_ENTITIES]


def classify_hospitals(h: pd.DataFrame) -> pd.DataFrame:
    """``h`` (columns ``nom``, ``type``) with two new columns (pure):

    ``categorie``: the French category of :data:`HOSPITAL_CATEGORIES` (an unknown ``type`` keeps
    its own label); ``exclusion``: the kind of non-care entity of :data:`NON_CARE_ENTITIES` whose
    pattern the name matches first, else None (the entity provides care)."""
    names = h["nom"].map(fold)
    excl = pd.Series(None, index=h.index, dtype=object)
    for kind, pat in _PATTERNS:
        hit = excl.isna() & names.map(lambda s, p=pat: bool(p.search(s)))
        excl[hit] = kind
    out = h.copy()
    out["categorie"] = h["type"].map(HOSPITAL_CATEGORIES).fillna(h["type"])
    out["exclusion"] = excl
    return out


def care_hospitals(h: pd.DataFrame) -> pd.DataFrame:
    """The entities that provide care, with their ``categorie`` (pure)."""
    c = classify_hospitals(h)
    return c[c["exclusion"].isna()].drop(columns="exclusion")


def excluded_hospitals(h: pd.DataFrame) -> pd.DataFrame:
    """The entities left out, with ``exclusion`` (kind) and ``motif`` (reason, French) (pure)."""
    c = classify_hospitals(h)
    c = c[c["exclusion"].notna()].copy()
    c["motif"] = c["exclusion"].map({k: r for k, _, r in NON_CARE_ENTITIES})
    return c
