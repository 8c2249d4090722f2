"""Registry of the data sources of a CPTS diagnostic.

One entry per source: its identifier, the vintages it provides, the COG vintage of its commune
codes, the file of the snapshot that holds it, publisher, licence and provenance. Loaders,
``cpts-diag data status`` and the reports' "Sources et millésimes" section all read this table,
so a figure can always be traced back to a file.
"""
from __future__ import annotations

from dataclasses import dataclass

from .errors import CptsDiagError, VintageError


@dataclass(frozen=True)
class Source:
    id: str
    label: str  # French label shown in reports
    kind: str  # "tabular" or "geo"
    files: dict[int, str]  # vintage -> path relative to the snapshot root
    default_vintage: int
    cog: str  # COG vintage of the commune codes
    publisher: str
    licence: str
    provenance: str
    required: bool = True
    notes: str = ""

    @property
    def vintages(self) -> list[int]:
        return sorted(self.files)

    def file_for(self, vintage: int | None) -> tuple[int, str]:
        """Return ``(vintage, relpath)``; raise :class:`VintageError` listing the available ones."""
        v = self.default_vintage if vintage is None else int(vintage)
        if v not in self.files:
            raise VintageError(
                f"Source « {self.id} » ({self.label}) : millésime {v} indisponible. "
                f"Millésimes disponibles : {', '.join(map(str, self.vintages))}. "
                f"Correctif : demandez l'un de ces millésimes (par défaut {self.default_vintage})."
            )
        return v, self.files[v]

    def describe(self, vintage: int | None = None) -> dict:
        """Metadata carried by every frame a loader returns (``DataFrame.attrs['source']``)."""
        v, rel = self.file_for(vintage)
        return {
            "id": self.id,
            "label": self.label,
            "vintage": v,
            "cog": self.cog,
            "publisher": self.publisher,
            "licence": self.licence,
            "provenance": self.provenance,
            "file": rel,
        }


_INSEE_LO = "Licence Ouverte / Open Licence (Etalab)"
_PTOD = "indicateurs calculés par l'observatoire PTOD (dépôt sans licence déclarée)"

SOURCES: dict[str, Source] = {
    s.id: s
    for s in [
        Source(
            "cog_communes", "Code officiel géographique, communes et EPCI", "tabular",
            {2025: "cog/communes.csv"}, 2025, "2025", "Insee", _INSEE_LO,
            "COG 2025 via MaelTheuliere/COGiter v0.0.15",
        ),
        Source(
            "cog_passage", "Table de passage des codes communes vers le COG 2025", "tabular",
            {2025: "cog/passage_communes.csv"}, 2025, "toutes → 2025", "Insee", _INSEE_LO,
            "historique des communes du COG via COGiter",
        ),
        Source(
            "geo_communes_8dep", "Contours détaillés des communes (03, 07, 38, 42, 43, 63, 69, 71)", "geo",
            {2025: "geo/communes_8dep.geojson"}, 2025, "2025", "IGN", "Licence Ouverte (Etalab)",
            "ADMIN EXPRESS COG 2018 (gregoiredavid/france-geojson), recodé COG 2025",
        ),
        Source(
            "geo_communes_metro", "Contours simplifiés des communes, France métropolitaine", "geo",
            {2025: "geo/communes_metro.geojson"}, 2025, "2025", "IGN", "Licence Ouverte (Etalab)",
            "ADMIN EXPRESS COG CARTO 2025 simplifié (COGiter)",
        ),
        Source(
            "geo_epci", "Contours des EPCI", "geo",
            {2025: "geo/epci_metro.geojson"}, 2025, "2025", "IGN", "Licence Ouverte (Etalab)",
            "COGiter (dissous des communes simplifiées)",
        ),
        Source(
            "geo_departements", "Contours des départements", "geo",
            {2025: "geo/departements_metro.geojson"}, 2025, "2025", "IGN", "Licence Ouverte (Etalab)",
            "COGiter (dissous des communes simplifiées)",
        ),
        Source(
            "population", "Recensement de la population (RP), population par âge", "tabular",
            {2022: "insee/population_communes_rp2022.csv"}, 2022, "2025", "Insee", _INSEE_LO,
            "RP 2011, 2016, 2022 (IRIS) " + _PTOD, notes="tranches d'âge DÉRIVÉES des parts IRIS",
        ),
        Source(
            "population_plm", "RP, arrondissements municipaux de Paris, Lyon, Marseille", "tabular",
            {2022: "insee/population_arrondissements_plm_rp2022.csv"}, 2022, "arrondissements",
            "Insee", _INSEE_LO, "RP 2022 (IRIS) " + _PTOD, required=False,
        ),
        Source(
            "population_age_42_43", "RP, population par tranche d'âge (dossier complet), Loire et Haute-Loire",
            "tabular", {2022: "insee/population_age_rp2022_dep42_43.csv"}, 2022, "2025", "Insee",
            _INSEE_LO, "dossier complet Insee (transcrit)",
        ),
        Source(
            "socio", "RP et Filosofi, indicateurs socio-économiques", "tabular",
            {2022: "insee/socio_communes.csv"}, 2022, "2025", "Insee", _INSEE_LO,
            "RP 2022, Filosofi 2021 " + _PTOD,
            notes="chômage et CSP : RP 2022 ; pauvreté et revenu médian : Filosofi 2021",
        ),
        Source(
            "ptod_aggregates", "Indicateurs des départements, régions et France (PTOD)", "tabular",
            {2022: "insee/indicateurs_territoires_ptod.csv"}, 2022, "—", "Insee", _INSEE_LO, _PTOD,
        ),
        Source(
            "bpe_sante", "Base permanente des équipements (BPE), domaine santé", "tabular",
            {2024: "insee/bpe2024_sante.csv"}, 2024, "2025 (harmonisé)", "Insee", _INSEE_LO,
            "BPE 2024 via ThomasSonzogni/MediAcces",
        ),
        Source(
            "bpe_typequ", "BPE, libellés des types d'équipements de santé", "tabular",
            {2024: "insee/bpe2024_typequ.csv"}, 2024, "—", "Insee", _INSEE_LO,
            "nomenclature BPE (libellés vérifiés ou inférés, voir statut_libelle)",
        ),
        Source(
            "apl_long", "Accessibilité potentielle localisée (APL), table longue", "tabular",
            {y: "drees/apl_communes.csv" for y in (2016, 2018, 2022, 2023)}, 2023, "publié + COG 2025", "Drees",
            "Licence Ouverte (non vérifiable hors ligne)",
            "classeurs Drees, MediAcces, dataprep_fracture_numerique_sante",
            notes="millésimes 2016, 2018, 2022, 2023 ; rupture de méthode 2022 hors médecins",
        ),
        Source(
            "apl_mg_xlsx", "APL aux médecins généralistes (classeur Drees original)", "tabular",
            {y: "drees/apl_medecins_generalistes_2022_2023.xlsx" for y in (2022, 2023)}, 2023, "2022 ≈ COG 2023, 2023 ≈ COG 2024",
            "Drees", "Licence Ouverte (non vérifiable hors ligne)", "classeur Drees original",
            notes="feuilles APL 2022 et APL 2023",
        ),
        Source(
            "apl_inf_xlsx", "APL aux infirmières (classeur Drees original)", "tabular",
            {y: "drees/apl_infirmieres_2022_2023.xlsx" for y in (2022, 2023)}, 2023, "2022 ≈ COG 2023, 2023 ≈ COG 2024",
            "Drees", "Licence Ouverte (non vérifiable hors ligne)", "classeur Drees original",
            notes="feuilles APL 2022 et APL 2023",
        ),
        Source(
            "hospitals", "Établissements hospitaliers (FINESS)", "tabular",
            {2020: "finess/etablissements_sante.csv"}, 2020, "2025", "Ministère de la Santé (FINESS), Eurostat GISCO",
            "Licence Ouverte (FINESS sur data.gouv.fr, non vérifiable hors ligne)",
            "eurostat/healthcare-services, date de référence 06/03/2020",
        ),
        Source(
            "cpts_sources", "Périmètres des CPTS (sources publiques)", "tabular",
            {2024: "cpts/perimetres_sources.csv"}, 2024, "2025", "ARS Auvergne-Rhône-Alpes, CPAM Loire, CPTS du Roannais",
            "non déclarée (faits tirés de documents publics)", "communiqués et projets de santé publics",
        ),
    ]
}


def get_source(source_id: str) -> Source:
    try:
        return SOURCES[source_id]
    except KeyError:
        raise CptsDiagError(
            f"Source inconnue « {source_id} ». Correctif : donnez l'une des sources connues : "
            f"{', '.join(SOURCES)}."
        ) from None
