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
_NO_LICENCE = "non déclarée par le dépôt (licence de l'éditeur non vérifiable hors ligne)"

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
        # --- état de santé (contrat de données §7): optional, an older snapshot lacks them ---
        Source(
            "vaccination_spf", "Couvertures vaccinales des adolescents et adultes", "tabular",
            {2024: "sante/couverture_vaccinale_spf.csv"}, 2024, "départements, régions 2016",
            "Santé publique France", _NO_LICENCE,
            "open data SPF (Géodes / Odissé) via diegogalfre8/Hackathon_DataLab",
            required=False, notes="années 2011 à 2024 selon l'indicateur",
        ),
        Source(
            "mortality_standardised", "Taux standardisés de mortalité par département", "tabular",
            {2023: "sante/mortalite_standardisee_departement.csv"}, 2023, "départements",
            "non nommé (format des exports CépiDc-Inserm / Odissé)", _NO_LICENCE,
            "jjchabutDataCRM/sante-territoires", required=False,
            notes="toutes causes 2010 à 2023 ; 18 causes × sexe en 2023 ; ni région ni France",
        ),
        Source(
            "mortality_crude", "Taux brut de mortalité par période intercensitaire", "tabular",
            {2018: "insee/mortalite_brute_1968_2018.csv"}, 2018, "EPCI 2018, régions 2016",
            "Insee", _NO_LICENCE, "séries historiques du RP via aubryprieur/streamlit_data_territoire",
            required=False, notes="périodes 1968-1975 à 2013-2018 ; pas de ligne France",
        ),
        Source(
            "cartosante_bv", "CartoSanté par bassin de vie (ALD, APL, densités de professionnels)",
            "tabular", {2024: "sante/cartosante_bassins_de_vie_2024.csv"}, 2024, "bassins de vie 2022",
            "CartoSanté", _NO_LICENCE,
            "export CartoSanté via louiselize/Data_Analysis_Lattitudes_Sante_et_Territoires",
            required=False, notes="ALD 2024, APL 2023, densités 2024 (SNDS/RPPS) ; secret statistique vide",
        ),
        Source(
            "bv_local_stats", "Statistiques locales par bassin de vie", "tabular",
            {2024: "insee/statistiques_locales_bassins_de_vie.csv"}, 2024, "bassins de vie 2022",
            "Insee", _NO_LICENCE,
            "Statistiques locales Insee via louiselize/Data_Analysis_Lattitudes_Sante_et_Territoires",
            required=False, notes="décès domiciliés 2024 ; RP 2022 ; Filosofi 2021",
        ),
        # --- offre de soins (contrat de données §7 et §3.15): optional, an older snapshot lacks them ---
        Source(
            "sae_2022", "Établissements sanitaires de la SAE (statistique annuelle des établissements)",
            "tabular", {2022: "drees/sae2022_etablissements.csv"}, 2022, "2025 (dérivé de COMINSEE)",
            "Drees", _NO_LICENCE, "SAE 2022, bordereau d'identification (copie d'un dépôt public)",
            required=False, notes="établissements sanitaires seulement : ni EHPAD, ni MSP, ni centre de santé",
        ),
        Source(
            "nurses_age_drees", "Infirmières libérales actives par département, sexe et âge", "tabular",
            {2023: "drees/infirmiers_liberaux_departement_age_2012_2023.csv"}, 2023, "départements, régions 2016",
            "Drees (SNDS)", _NO_LICENCE,
            "Drees, « Effectifs d'infirmières libérales actives » (mars 2025) via Courgetteeee/Projet_Sante_Publique_R",
            required=False, notes="années 2012 à 2023 ; tranches d'âge de 5 ans ; France hors Mayotte",
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
