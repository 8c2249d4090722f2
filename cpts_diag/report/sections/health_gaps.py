"""What the open data do not give about the health of a territory's population, and where the
territory gets it: one list, shown as one box at the end of section 4 (« État de santé de la
population »).

Each entry: the indicator a territorial health diagnostic usually has, why it is not in the open
data at the territory's scale, and where the territory finds it. The list follows the data
contract of the bundle (README § 7, « Not found as open files »). Its texts are templates: a CPTS
reads « la CPAM de la CPTS » and « Rézone CPTS »; any other kind (EPCI, bassin de vie,
département, list of communes) reads « la CPAM du département » (a CPAM and a CAF serve one
département) and is told that Rézone CPTS is reserved to the CPTS (:func:`gap_forms`)."""
from __future__ import annotations

from .. import blocks as B

#: (indicator, where the territory gets it) — defined once; the box and the docs read it. The
#: ``{…}`` fields are filled by :func:`gap_forms` (:func:`not_in_open_data` gives the texts).
NOT_IN_OPEN_DATA = (
    ("Patients sans médecin traitant (part des 17 ans ou plus)",
     "{rezone_first} ; la CPAM {of_cpam}, à la commune ou au canton"),
    ("Affections de longue durée par pathologie (diabète, cancers, maladies cardio-neurovasculaires, "
     "troubles psychiatriques…)",
     "{rezone} ; la « cartographie des pathologies » de l'Assurance maladie (Data pathologies), "
     "au département ; la CPAM pour un découpage plus fin"),
    ("Passages aux urgences et hospitalisations évitables",
     "l'ARS (ATIH / PMSI, Scan Santé) ; {rezone} pour les passages non suivis d'hospitalisation"),
    ("Participation aux dépistages organisés des cancers (sein, côlon, col de l'utérus)",
     "Santé publique France (Géodes / Odissé), au département ; le centre régional de coordination "
     "des dépistages (CRCDC) pour {la}"),
    ("Consommation de médicaments (polymédication des 75 ans ou plus, antibiotiques, psychotropes)",
     "{rezone} ; l'Open Medic de l'Assurance maladie, à la région"),
    ("Couverture vaccinale ROR et des nourrissons",
     "Santé publique France (Géodes), au département ; la PMI du conseil départemental"),
    ("Naissances et décès par commune, causes de décès à la commune",
     "l'Insee (état civil, fichiers détaillés) ; le CépiDc-Inserm, au département"),
    ("Bénéficiaires de la complémentaire santé solidaire (C2S) et du RSA par commune",
     "la CPAM et la CAF {of_cpam}"),
    ("Âge des médecins {de_la} (départs en retraite à venir)",
     "l'Ordre des médecins ou le RPPS via l'ARS ; {rezone}"),
)

#: Where the territory finds these figures, said once (the sentence « … les obtient auprès de … »).
PORTALS = ("**Rézone CPTS** (Assurance maladie, réservé aux CPTS), **CartoSanté** (ARS, ATIH) "
           "et la **CPAM** {of_cpam}")
#: The same for a territory that is not a CPTS: Rézone CPTS is only open to the CPTS.
PORTALS_OTHER = ("la **CPAM** {of_cpam}, **CartoSanté** (ARS, ATIH) et les CPTS du territoire, "
                 "seules à accéder à **Rézone CPTS** (Assurance maladie, réservé aux CPTS)")
#: The report's opening words of the box, per case (a CPTS diagnostic, any other one).
DIAGNOSTIC_CPTS = "Un diagnostic de CPTS"
DIAGNOSTIC_OTHER = "Un diagnostic territorial de santé"
#: Rézone CPTS named for a territory that is not a CPTS (first mention, then the short form).
REZONE_OTHER_FIRST = ("Rézone CPTS (Assurance maladie, réservé aux CPTS : à demander à une CPTS du "
                      "territoire)")
REZONE_OTHER = "Rézone CPTS (réservé aux CPTS)"


def gap_forms(ctx) -> dict[str, str]:
    """The fields of the templates for the territory of ``ctx``: a CPTS keeps the texts written
    for it; another kind names the CPAM and the CAF of the département (one per département) and
    says that Rézone CPTS is reserved to the CPTS."""
    if getattr(ctx, "territory_kind", "cpts") == "cpts":
        return {"rezone_first": "Rézone CPTS (Assurance maladie)", "rezone": "Rézone CPTS",
                "of_cpam": ctx.de_la, "la": ctx.la, "de_la": ctx.de_la,
                "diagnostic": DIAGNOSTIC_CPTS, "portals": PORTALS.format(of_cpam=ctx.de_la),
                "who": f"{ctx.La} les obtient", "can": "et peut"}
    return {"rezone_first": REZONE_OTHER_FIRST, "rezone": REZONE_OTHER,
            "of_cpam": "du département", "la": ctx.la, "de_la": ctx.de_la,
            "diagnostic": DIAGNOSTIC_OTHER, "portals": PORTALS_OTHER.format(of_cpam="du département"),
            "who": "On les obtient", "can": "et on peut"}


def not_in_open_data(ctx) -> list[tuple[str, str]]:
    """:data:`NOT_IN_OPEN_DATA` written for the territory of ``ctx``: ``(indicator, where)``."""
    forms = gap_forms(ctx)
    return [(what.format(**forms), where.format(**forms)) for what, where in NOT_IN_OPEN_DATA]


def gaps_note(ctx) -> B.Note:
    """The box « Ce que les données ouvertes ne disent pas »."""
    forms = gap_forms(ctx)
    items = "\n".join(f"- {what} — *{where}*" for what, where in not_in_open_data(ctx))
    return B.Note(
        f"**Ce que les données ouvertes ne disent pas.** {forms['diagnostic']} comporte d'ordinaire les "
        "indicateurs ci-dessous ; ils ne sont pas publiés en données ouvertes à l'échelle "
        f"{ctx.de_la} (ni, pour la plupart, de la commune). {forms['who']} auprès de "
        f"{forms['portals']}, {forms['can']} les ajouter à ce rapport par un tableau de santé "
        "(`--health FICHIER.csv`, voir docs/health_tables.md) :\n\n" + items, kind="info")
