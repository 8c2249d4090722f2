"""What the open data do not give about the health of a CPTS's population, and where a CPTS gets
it: one list, shown as one box at the end of section 4 (« État de santé de la population »).

Each entry: the indicator a CPTS diagnostic usually has, why it is not in the open data at the
CPTS's scale, and where the CPTS finds it. The list follows the data contract of the bundle
(README § 7, « Not found as open files »)."""
from __future__ import annotations

from .. import blocks as B

#: (indicator, where a CPTS gets it) — defined once; the box and the docs read it.
NOT_IN_OPEN_DATA = (
    ("Patients sans médecin traitant (part des 17 ans ou plus)",
     "Rézone CPTS (Assurance maladie) ; la CPAM de la CPTS, à la commune ou au canton"),
    ("Affections de longue durée par pathologie (diabète, cancers, maladies cardio-neurovasculaires, "
     "troubles psychiatriques…)",
     "Rézone CPTS ; la « cartographie des pathologies » de l'Assurance maladie (Data pathologies), "
     "au département ; la CPAM pour un découpage plus fin"),
    ("Passages aux urgences et hospitalisations évitables",
     "l'ARS (ATIH / PMSI, Scan Santé) ; Rézone CPTS pour les passages non suivis d'hospitalisation"),
    ("Participation aux dépistages organisés des cancers (sein, côlon, col de l'utérus)",
     "Santé publique France (Géodes / Odissé), au département ; le centre régional de coordination "
     "des dépistages (CRCDC) pour la CPTS"),
    ("Consommation de médicaments (polymédication des 75 ans ou plus, antibiotiques, psychotropes)",
     "Rézone CPTS ; l'Open Medic de l'Assurance maladie, à la région"),
    ("Couverture vaccinale ROR et des nourrissons",
     "Santé publique France (Géodes), au département ; la PMI du conseil départemental"),
    ("Naissances et décès par commune, causes de décès à la commune",
     "l'Insee (état civil, fichiers détaillés) ; le CépiDc-Inserm, au département"),
    ("Bénéficiaires de la complémentaire santé solidaire (C2S) et du RSA par commune",
     "la CPAM et la CAF de la CPTS"),
    ("Âge des médecins de la CPTS (départs en retraite à venir)",
     "l'Ordre des médecins ou le RPPS via l'ARS ; Rézone CPTS"),
)

#: Where a CPTS finds these figures, said once.
PORTALS = ("**Rézone CPTS** (Assurance maladie, réservé aux CPTS), **CartoSanté** (ARS, ATIH) "
           "et la **CPAM** de la CPTS")


def gaps_note(ctx) -> B.Note:
    """The box « Ce que les données ouvertes ne disent pas »."""
    items = "\n".join(f"- {what} — *{where}*" for what, where in NOT_IN_OPEN_DATA)
    return B.Note(
        "**Ce que les données ouvertes ne disent pas.** Un diagnostic de CPTS comporte d'ordinaire les "
        "indicateurs ci-dessous ; ils ne sont pas publiés en données ouvertes à l'échelle "
        f"{ctx.de_la} (ni, pour la plupart, de la commune). {ctx.La} les obtient auprès de "
        f"{PORTALS}, et peut les ajouter à ce rapport par un tableau de santé "
        "(`--health FICHIER.csv`, voir docs/health_tables.md) :\n\n" + items, kind="info")
