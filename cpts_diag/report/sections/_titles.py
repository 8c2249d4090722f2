"""Section titles and anchors, defined once (headings and the table of contents use them)."""
from __future__ import annotations

from ..blocks import Heading

#: id → (title, anchor). The order is the reading order of the report.
TITLES = {
    "synthese": ("Points saillants", "synthese"),
    "identite": ("1. Carte d'identité du territoire", "identite"),
    "demographie": ("2. Démographie", "demographie"),
    "socio": ("3. Situation socio-économique", "socio"),
    "sante": ("4. État de santé de la population", "sante"),
    "offre": ("5. Offre de soins", "offre"),
    "apl": ("5.2 Accessibilité aux professionnels de santé (APL)", "apl"),
    "hopitaux": ("5.4 Établissements de soins", "hopitaux"),
    "carte": ("5.5 Carte interactive des indicateurs", "carte"),
    "scenario": ("5.6 Scénario", "scenario"),
    "sources": ("6. Sources et millésimes", "sources"),
    "annexe": ("Annexe : indicateurs par commune", "annexe"),
}


def heading(section_id: str, title: str | None = None) -> Heading:
    """The heading of a section (level 2 for « 1. », 3 for « 5.2 »)."""
    t, anchor = TITLES[section_id]
    first = t.split(" ")[0].rstrip(".")
    level = 3 if first[:1].isdigit() and "." in first else 2
    return Heading(title or t, level, anchor)


def sub(text: str) -> Heading:
    """A sub-heading inside a section (not in the table of contents)."""
    return Heading(text, 3)
