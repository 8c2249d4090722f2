"""The official files that :func:`cpts_diag.fetch.fetch_all` downloads: :data:`REGISTRY`.

Each :class:`OfficialSource` gives the URL, vintage, publisher, licence and format of one file
published by INSEE, DREES, Etalab/IGN or data.gouv.fr, the importer of :mod:`cpts_diag.importers`
that reads it and the snapshot sources (:data:`cpts_diag.sources.SOURCES`) rebuilt from it.
None of the URLs could be opened from the machine this was written on (``verified_url=False``
everywhere). Both names are re-exported by :mod:`cpts_diag.fetch`.
"""
from __future__ import annotations

from dataclasses import dataclass

_EXT = {"csv": ".csv", "zip": ".zip", "xlsx": ".xlsx", "geojson": ".geojson", "geojson.gz": ".geojson.gz"}


@dataclass(frozen=True)
class OfficialSource:
    """One file published by an official producer."""

    id: str
    label: str
    vintage: int
    publisher: str
    licence: str
    url: str
    format: str  # csv, zip, xlsx, geojson, geojson.gz, page
    importer: str | None  # function of cpts_diag.importers reading it; None: no importer yet
    outputs: tuple[str, ...] = ()  # ids of cpts_diag.sources.SOURCES rebuilt from it
    needs: tuple[tuple[str, str], ...] = ()  # (importer keyword, official source id) also read
    cog: int = 2025  # COG vintage of its commune codes
    sha256: str | None = None  # expected SHA-256 of the download, when known
    page: str = ""  # where to look the file up by hand
    verified_url: bool = False  # True once the URL was opened and the file checked
    note: str = ""

    @property
    def filename(self) -> str:
        return f"{self.id}{_EXT.get(self.format, '')}"


_LO = "Licence Ouverte / Open Licence 2.0 (Etalab)"
_LO_UNVERIFIED = "Licence Ouverte 2.0 (annoncée par le producteur, non vérifiée hors ligne)"
_INSEE_COG = "https://www.insee.fr/fr/statistiques/fichier/8377162/"
_DREES_APL = ("https://data.drees.solidarites-sante.gouv.fr/api/datasets/1.0/"
              "530_l-accessibilite-potentielle-localisee-apl/attachments/")
_DREES_PAGE = ("https://data.drees.solidarites-sante.gouv.fr/explore/dataset/"
               "530_l-accessibilite-potentielle-localisee-apl/information/")
_ETALAB = "https://etalab-datasets.geo.data.gouv.fr/contours-administratifs/2025/geojson/"
_APL_NOTE = ("le classeur en ligne peut contenir d'autres millésimes que 2022–2023 (APL 2024…) : "
             "sources.py ne déclare que 2022 et 2023")


def _apl(pid: str, label: str, slug: str, outputs: tuple[str, ...]) -> OfficialSource:
    return OfficialSource(
        pid, f"APL aux {label} (classeur Drees)", 2023, "Drees", _LO_UNVERIFIED,
        f"{_DREES_APL}indicateur_d_accessibilite_potentielle_localisee_apl_aux_{slug}_xlsx/", "xlsx",
        "read_apl_workbook", outputs, cog=2024, page=_DREES_PAGE, note=_APL_NOTE)


REGISTRY: dict[str, OfficialSource] = {s.id: s for s in [
    OfficialSource(
        "insee_cog_communes_2025", "COG 2025, liste des communes", 2025, "Insee", _LO,
        _INSEE_COG + "v_commune_2025.csv", "csv", "read_cog_communes", ("cog_communes",),
        needs=(("epci", "insee_epci_2025"), ("departements", "insee_cog_departements_2025"),
               ("regions", "insee_cog_regions_2025")),
        page="https://www.insee.fr/fr/information/8377162",
        note="zonages (bassins de vie, zones d'emploi, AAV, unités urbaines) absents : autres tables Insee"),
    OfficialSource(
        "insee_cog_departements_2025", "COG 2025, liste des départements", 2025, "Insee", _LO,
        _INSEE_COG + "v_departement_2025.csv", "csv", "read_cog_communes",
        page="https://www.insee.fr/fr/information/8377162", note="lu avec v_commune_2025 (nom_dep)"),
    OfficialSource(
        "insee_cog_regions_2025", "COG 2025, liste des régions", 2025, "Insee", _LO,
        _INSEE_COG + "v_region_2025.csv", "csv", "read_cog_communes",
        page="https://www.insee.fr/fr/information/8377162", note="lu avec v_commune_2025 (nom_reg)"),
    OfficialSource(
        "insee_epci_2025", "Intercommunalités au 1er janvier 2025 (composition communale)", 2025, "Insee",
        _LO, "https://www.insee.fr/fr/statistiques/fichier/2510634/Intercommunalite_Metropole_au_01-01-2025.zip",
        "zip", "read_epci_composition", page="https://www.insee.fr/fr/information/2510634",
        note="zip contenant un classeur xlsx (feuilles EPCI et Composition_communale)"),
    OfficialSource(
        "insee_rp2022_evol_struct_pop", "RP 2022, évolution et structure de la population (communes)", 2022,
        "Insee", _LO,
        "https://www.insee.fr/fr/statistiques/fichier/8581696/base-cc-evol-struct-pop-2022_csv.zip", "zip",
        "read_insee_population_age", ("population_age_42_43", "population"),
        page="https://www.insee.fr/fr/statistiques/8581696",
        note="tranches Insee 0-14…90+ : pop_15_24, pop_25_54, pop_55_64, pop_65_79, pop_80p, pop_65p, "
             "pop_0_19 restent vides (non publiées à la commune dans ce fichier)"),
    _apl("drees_apl_medecins_generalistes", "médecins généralistes", "medecins_generalistes",
         ("apl_mg_xlsx", "apl_long")),
    _apl("drees_apl_infirmieres", "infirmières", "infirmieres", ("apl_inf_xlsx", "apl_long")),
    _apl("drees_apl_kinesitherapeutes", "masseurs-kinésithérapeutes", "kinesitherapeutes", ("apl_long",)),
    _apl("drees_apl_sages_femmes", "sages-femmes", "sages_femmes", ("apl_long",)),
    _apl("drees_apl_chirurgiens_dentistes", "chirurgiens-dentistes", "chirurgiens_dentistes", ("apl_long",)),
    OfficialSource(
        "etalab_communes_100m_2025", "Contours administratifs 2025, communes (généralisés 100 m)", 2025,
        "Etalab (d'après IGN ADMIN EXPRESS)", _LO_UNVERIFIED, _ETALAB + "communes-100m.geojson", "geojson",
        "read_commune_contours", ("geo_communes_metro",),
        page="https://www.data.gouv.fr/fr/datasets/contours-administratifs/",
        note="surface_km2_ign absente (non publiée dans ce fichier)"),
    OfficialSource(
        "etalab_communes_50m_2025", "Contours administratifs 2025, communes (généralisés 50 m)", 2025,
        "Etalab (d'après IGN ADMIN EXPRESS)", _LO_UNVERIFIED, _ETALAB + "communes-50m.geojson.gz",
        "geojson.gz", "read_commune_contours", ("geo_communes_8dep",),
        page="https://www.data.gouv.fr/fr/datasets/contours-administratifs/",
        note="filtré sur 03, 07, 38, 42, 43, 63, 69, 71 ; surface_km2_ign absente"),
    OfficialSource(
        "insee_bpe_2025", "Base permanente des équipements 2025", 2025, "Insee", _LO,
        "https://www.insee.fr/fr/statistiques/fichier/8217527/DS_BPE_CSV_FR.zip", "zip", None,
        page="https://www.insee.fr/fr/statistiques/8217527",
        note="format DS_BPE (GEO, FACILITY_TYPE, OBS_VALUE) ; l'instantané fournit BPE 2024"),
    OfficialSource(
        "finess_etablissements", "FINESS, extraction du fichier des établissements", 2025,
        "Ministère de la Santé (FINESS)", _LO_UNVERIFIED,
        "https://www.data.gouv.fr/fr/datasets/finess-extraction-du-fichier-des-etablissements/", "page", None,
        page="https://www.data.gouv.fr/fr/datasets/finess-extraction-du-fichier-des-etablissements/",
        note="la ressource datée change à chaque mise à jour ; l'instantané fournit "
             "les hôpitaux FINESS via Eurostat (2020)"),
]}
