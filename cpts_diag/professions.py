"""Health professions, defined once: their BPE code and key, their APL key, their French names.

The report (texts, tables, charts, maps, the interactive map's layers) and the indicator ids
(``count_<bpe>_bpe2024``, ``density_<bpe>_bpe2024``, ``apl_<apl>_<year>``) are built from
:data:`PROFESSIONS`; the BPE counts are *lieux d'exercice* (places of practice), not practitioners.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Profession:
    key: str                 # short id of the BPE indicators (count_<key>_bpe2024)
    bpe_code: str            # BPE equipment type
    plural: str              # « médecins généralistes »
    chart_label: str         # label on charts (may hold a line break)
    apl_key: str | None = None  # short id of the APL indicators (apl_<apl_key>_<year>), if any
    drees_id: str | None = None  # profession id of the DREES APL files (apl_communes.csv)
    apl_label: str | None = None  # how the DREES names the profession in its APL files


PROFESSIONS = (
    Profession("gp", "D265", "médecins généralistes", "Médecins\ngénéralistes", "mg",
               "medecin_generaliste", "médecins généralistes"),
    Profession("nurse", "D281", "infirmiers", "Infirmiers", "inf", "infirmier", "infirmières"),
    Profession("physio", "D279", "masseurs-kinésithérapeutes", "Masseurs-\nkinésithérapeutes", "kine",
               "masseur_kinesitherapeute", "masseurs-kinésithérapeutes"),
    Profession("dentist", "D277", "chirurgiens-dentistes", "Chirurgiens-\ndentistes", "dent",
               "chirurgien_dentiste", "chirurgiens-dentistes"),
    Profession("midwife", "D278", "sages-femmes", "Sages-femmes", "sf", "sage_femme", "sages-femmes"),
    Profession("pharmacy", "D307", "pharmacies", "Pharmacies"),
)
#: The DREES also publishes the GP APL counting only GPs aged 65 or less.
GP_UNDER_65 = ("medecin_generaliste_moins_65", "mg_moins65", "médecins généralistes de 65 ans ou moins")
#: DREES profession id → short id of the indicators (``apl_<short>_<year>``).
APL_SHORT = {**{p.drees_id: p.apl_key for p in PROFESSIONS if p.drees_id}, GP_UNDER_65[0]: GP_UNDER_65[1]}
#: DREES profession id → French name used by the DREES.
APL_LABELS = {**{p.drees_id: p.apl_label for p in PROFESSIONS if p.drees_id}, GP_UNDER_65[0]: GP_UNDER_65[2]}
#: BPE equipment code → short id of the indicators (``count_<key>_bpe2024``).
BPE_CODES = {p.bpe_code: p.key for p in PROFESSIONS}
#: APL professions other than GPs (their APL is in FTE per 100 000 standardised inhabitants).
OTHER_APL = tuple(p for p in PROFESSIONS if p.apl_key and p.key != "gp")


def by_key(key: str) -> Profession:
    return next(p for p in PROFESSIONS if p.key == key)
