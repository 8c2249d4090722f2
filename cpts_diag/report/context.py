"""One computed context per territory: everything the sections read, computed once.

:func:`build_context` loads the territory (an id, a perimeter YAML path or a
:class:`~cpts_diag.territory.Territory` built in Python), its indicator table with all comparators,
the commune table and the hospitals, and records the perimeter warnings. Geometries (the communes
and their neighbours) are loaded on first use and kept. :class:`ReportContext` also gives the value
accessors the sections share (``val``, ``num``, ``txt``, ``comparison``…), so that no section
reads the tidy frame by hand.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import cached_property

import pandas as pd

from ..fmt import ND, fmt_number, fmt_percent, fmt_value, is_missing
from .text import caption_of, esc

APL_YEARS = (2022, 2023)
NEAR_HOSPITALS_M = 5000.0
MAX_COMPARATOR_AREAS = 3  # a territory over more départements (régions) is compared with France only  # establishments within this distance of the territory are mapped
#: Units printed without their unit text (counts).
_COUNT_UNITS = ("hab.", "communes", "nombre")


class _KindForms:
    """How the texts name the territory, from ``territory_kinds.KINDS`` (set as ``forms``)."""

    @property
    def la(self) -> str:
        """« la CPTS », « l'EPCI », « le bassin de vie », « le département », « le territoire »."""
        return self.forms.la

    @property
    def La(self) -> str:  # noqa: N802 (the capitalised form, as written in the texts)
        return self.forms.la[:1].upper() + self.forms.la[1:]

    @property
    def de_la(self) -> str:
        """« de la CPTS », « de l'EPCI », « du bassin de vie », « du département »…"""
        return self.forms.de_la

    @property
    def a_la(self) -> str:
        """« à la CPTS », « à l'EPCI », « au bassin de vie », « au département »…"""
        return self.forms.a_la

    @property
    def Elle(self) -> str:  # noqa: N802
        """« Elle » (la CPTS) or « Il » (l'EPCI, le bassin de vie…), to start a sentence."""
        return self.forms.elle.capitalize()

    @property
    def Kind(self) -> str:  # noqa: N802
        """The short noun, capitalised for a column header (« CPTS », « Bassin de vie »)."""
        return self.kind[:1].upper() + self.kind[1:]


@dataclass
class ReportContext(_KindForms):
    """The territory, its indicators and comparators, its communes, computed once."""

    territory: object
    tidy: pd.DataFrame
    communes: pd.DataFrame
    hospitals: pd.DataFrame
    apl_year: int = 2023
    tiles: str | None = None
    perimeter_warnings: list[str] = field(default_factory=list)
    kind: str | None = None  # short noun of the territory's kind (« CPTS »; None: from territory.kind)
    scenario: object = None  # section 5.6: a scenario mapping or YAML path (None: no section)
    health_tables: list = field(default_factory=list)  # section 4: the user's health CSVs
    # Inputs loaded on first use from the data layer; a test passes its own (small fixtures).
    polygons: tuple | None = None  # (territory communes GeoDataFrame, neighbours GeoDataFrame)
    epci_sizes: pd.DataFrame | None = None  # epci_siren, n_communes (whole EPCI)
    all_hospitals: pd.DataFrame | None = None  # every FINESS entity (load_hospitals)
    all_sae: pd.DataFrame | None = None  # every SAE 2022 establishment (sae.load_sae); empty: absent
    bpe_health: pd.DataFrame | None = None  # BPE 2024 health counts (code_commune, typequ, nb)
    nurse_ages: pd.DataFrame | None = None  # liberal nurses by area and age (sae.load_nurse_ages)
    health_inputs: dict | None = None  # section 4's frames (health_status.load_inputs); None: loaded

    def __post_init__(self):
        from .. import indicators as ind

        from ..territory_kinds import KINDS

        self.registry = ind.INDICATORS
        self.territory_kind = getattr(self.territory, "kind", "cpts")
        self.forms = KINDS.get(self.territory_kind, KINDS["cpts"])
        if self.kind is None:
            self.kind = self.forms.noun
        self._by_key = self.tidy.set_index(["indicator_id", "level", "code"])
        dep_pop = self.communes.groupby("dep")["population_2022"].sum()
        self.all_deps = self.levels("departement")
        self.all_regions = self.levels("region")
        # comparators named in texts, tables and charts: the territory's départements and régions,
        # unless it spans more than MAX_COMPARATOR_AREAS of them (then France only)
        self.deps = self.all_deps if len(self.all_deps) <= MAX_COMPARATOR_AREAS else []
        if self.territory_kind == "dep":  # a département is compared with its région and France
            self.deps = []
        self.regions = self.all_regions if len(self.all_regions) <= MAX_COMPARATOR_AREAS else []
        self.main_dep = None
        if self.deps:
            self.main_dep = str(dep_pop.idxmax()) if len(dep_pop) and dep_pop.notna().any() else self.deps[0][0]

    # -- identity ----------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        """The territory's name, escaped for Markdown (it is user-supplied)."""
        return esc(self.territory.name)

    @property
    def has_dep(self) -> bool:
        """The territory has a main département to compare with (it spans at most 3)."""
        return self.main_dep is not None

    @property
    def main_dep_name(self) -> str:
        return dict(self.deps).get(self.main_dep, self.main_dep or "")

    def levels(self, level: str) -> list[tuple[str, str]]:
        t = self.tidy[self.tidy["level"] == level][["code", "name"]].drop_duplicates()
        return list(t.itertuples(index=False, name=None))

    def comparators(self, france: bool = False) -> list[tuple[str, str, str]]:
        """``(level, code, name)`` of the territory and its comparators, in display order."""
        out = [("territory", self.territory.id, self.Kind)]
        out += [("departement", c, n) for c, n in self.deps]
        out += [("region", c, n) for c, n in self.regions]
        out.append(("france_metro", "FRM", "France métropolitaine"))
        if france:
            out.append(("france", "FR", "France entière"))
        return out

    # -- values ------------------------------------------------------------------------------------
    def _code(self, level: str, code):
        if code is not None:
            return code
        return {"territory": self.territory.id, "departement": self.main_dep,
                "region": self.regions[0][0] if self.regions else None,
                "france_metro": "FRM", "france": "FR"}.get(level)

    def row(self, iid: str, level: str = "territory", code: str | None = None) -> dict:
        """The tidy row of ``iid`` at ``level`` (value, coverage, n_missing, note…), or ``{}``."""
        if iid not in self.registry:
            raise KeyError(f"Unknown indicator {iid!r}; see cpts_diag/indicators.yaml")
        try:
            r = self._by_key.loc[(iid, level, self._code(level, code))]
        except KeyError:
            return {}
        if isinstance(r, pd.DataFrame):
            r = r.iloc[0]
        return r.to_dict()

    def val(self, iid: str, level: str = "territory", code: str | None = None,
            column: str = "value") -> float:
        v = self.row(iid, level, code).get(column)
        return float(v) if not is_missing(v) else float("nan")

    def same_basis(self, iid: str, level: str, code: str | None = None) -> float:
        """A comparator computed on the same basis as the territory (communes where the data are
        published), when it differs from the published all-population value; else the value."""
        r = self.row(iid, level, code)
        v = r.get("value_same_basis")
        return float(v) if not is_missing(v) else self.val(iid, level, code)

    def dec(self, iid: str) -> int:
        return int(self.registry[iid].get("decimals", 1))

    def unit(self, iid: str) -> str:
        return str(self.registry[iid].get("unit", ""))

    def label(self, iid: str) -> str:
        return str(self.registry[iid]["label"])

    def caption(self, *iids: str) -> str:
        """« Insee, RP 2022 ; Drees, APL 2023 »: the short sources of some indicators."""
        from .text import join_captions

        return join_captions(caption_of(self.registry[i]) for i in iids)

    def fmt(self, value, iid: str, with_unit: bool = True, na: str = ND) -> str:
        u = self.unit(iid)
        if not with_unit or u in _COUNT_UNITS:
            return fmt_number(value, self.dec(iid), na=na)
        return fmt_value(value, u, self.dec(iid), na=na)

    def num(self, iid: str, level: str = "territory", code: str | None = None, na: str = ND) -> str:
        """French number without unit (« 87,2 »)."""
        return self.fmt(self.val(iid, level, code), iid, with_unit=False, na=na)

    def txt(self, iid: str, level: str = "territory", code: str | None = None, na: str = ND) -> str:
        """French number with its unit (« 12,3 % », « 248,2 hab./km² »)."""
        return self.fmt(self.val(iid, level, code), iid, na=na)

    def pct(self, iid: str, level: str = "territory", code: str | None = None) -> str:
        return fmt_percent(self.val(iid, level, code), self.dec(iid))

    def comparison(self, iid: str, with_unit: bool = False) -> str:
        """« Loire : 96,1 ; Auvergne-Rhône-Alpes : 86,4 ; France métropolitaine : 90,0 »."""
        f = self.txt if with_unit else self.num
        parts = [f"{n} : {f(iid, 'departement', c)}" for c, n in self.deps]
        parts += [f"{n} : {f(iid, 'region', c)}" for c, n in self.regions]
        parts.append(f"France métropolitaine : {f(iid, 'france_metro')}")
        return " ; ".join(parts)

    # -- geometry (loaded on first use) --------------------------------------------------------------
    @cached_property
    def _polygons(self):
        import geopandas as gpd

        if self.polygons is None:
            from ..loaders import load_territory_polygons

            self.polygons = load_territory_polygons(self.territory.communes)
        inside, context = self.polygons
        g = inside.merge(self.communes, on="code_commune", how="right")
        return gpd.GeoDataFrame(g, geometry="geometry", crs=inside.crs), context

    @cached_property
    def unmapped(self) -> list[str]:
        """Names of the communes that have no polygon in the bundle (e.g. overseas communes)."""
        g = self.geo
        missing = g.geometry.isna() | g.geometry.is_empty
        return [str(n) for n in g.loc[missing.to_numpy(), "nom"]]

    @property
    def mappable(self) -> bool:
        """At least one commune of the territory can be drawn."""
        return len(self.unmapped) < len(self.geo)

    def epcis(self) -> pd.DataFrame:
        """``epci_siren``, ``n_communes`` of every EPCI (COG 2025)."""
        if self.epci_sizes is None:
            from ..loaders import load_epcis

            self.epci_sizes = load_epcis()[["epci_siren", "n_communes"]]
        return self.epci_sizes

    def health(self) -> dict | None:
        """Section 4's input frames, loaded once; None when the health files of the data contract
        (§ 7) are not installed (an older snapshot): the section then says so."""
        if self.health_inputs is None:
            from ..errors import DataNotInstalledError
            from ..health_status import load_inputs

            try:
                self.health_inputs = load_inputs()
            except DataNotInstalledError:
                self.health_inputs = {}
        return self.health_inputs or None

    # -- care offer: establishments (SAE 2022 + FINESS 2020), BPE structures, nurses' age ----------
    def _optional(self, attr: str, load) -> pd.DataFrame | None:
        """An optional input frame, loaded once; None when its file is not installed (or empty)."""
        if getattr(self, attr) is None:
            from ..errors import DataNotInstalledError

            try:
                setattr(self, attr, load())
            except DataNotInstalledError:
                setattr(self, attr, pd.DataFrame())
        frame = getattr(self, attr)
        return frame if len(frame) else None

    @property
    def sae(self) -> pd.DataFrame | None:
        """Every SAE 2022 establishment; None when the file is not installed (older snapshot)."""
        from ..sae import load_sae

        return self._optional("all_sae", load_sae)

    @property
    def nurse_age_table(self) -> pd.DataFrame | None:
        """The DREES liberal-nurse age file; None when not installed."""
        from ..sae import load_nurse_ages

        return self._optional("nurse_ages", load_nurse_ages)

    @cached_property
    def all_establishments(self) -> pd.DataFrame:
        """Every care establishment of France: SAE 2022 where the SAE has it, else FINESS 2020
        (:func:`cpts_diag.sae.merge_with_finess`; columns :data:`~cpts_diag.sae.ESTABLISHMENT_COLUMNS`)."""
        from ..sae import establishments_of

        return establishments_of(lambda: self.sae, self.all_hospitals,
                                 installed=self.all_sae is None and self.all_hospitals is None)

    @cached_property
    def establishments(self) -> pd.DataFrame:
        """The territory's care establishments (:attr:`all_establishments` of its communes) with
        ``commune`` (name), sorted by commune, category and name."""
        e = self.all_establishments
        e = e[e["code_commune"].isin(self.territory.communes)].copy()
        e["commune"] = e["code_commune"].map(self.communes.set_index("code_commune")["nom"])
        return e.sort_values(["commune", "categorie", "nom"]).reset_index(drop=True)

    @cached_property
    def nearby_hospitals(self) -> pd.DataFrame:
        """Care establishments in the territory and within 5 km of it (``dans_cpts``), computed
        once for the static and the interactive map. An establishment without coordinates (SAE
        2022 only: the SAE gives no address) is placed at the centre of its commune when that
        commune is drawn (``localisation``: ``adresse`` or ``centre de la commune``)."""
        from .. import maps
        from ..sae import place_at_commune_centres

        polys = pd.concat([self.geo[["code_commune", "geometry"]],
                           self.context_polygons[["code_commune", "geometry"]]])
        h = maps.hospitals_frame(place_at_commune_centres(self.all_establishments, polys))
        zone = maps._to_l93(self.geo).geometry.union_all().buffer(NEAR_HOSPITALS_M)
        near = h[h.to_crs(maps.LAMBERT93).geometry.within(zone).to_numpy()].copy()
        near["dans_cpts"] = near["code_commune"].isin(self.territory.communes)
        return near

    @cached_property
    def structures(self) -> pd.DataFrame | None:
        """MSP and centres de santé recorded by the BPE 2024 per commune of the territory
        (``code_commune``, ``nom``, ``msp``, ``cds``); None when the BPE is not installed."""
        from ..loaders import load_bpe_health
        from ..sae import structures_by_commune

        bpe = self._optional("bpe_health", load_bpe_health)
        if bpe is None:
            return None
        s = structures_by_commune(bpe, self.territory.communes)
        return s.merge(self.communes[["code_commune", "nom"]], on="code_commune", how="left")

    @cached_property
    def nurse_ages_shares(self) -> pd.DataFrame | None:
        """Shares of liberal nurses aged 55+ and 60+ (:func:`cpts_diag.sae.nurse_age_shares`) in
        the territory's départements, régions and France; None when the file is not installed."""
        from ..sae import nurse_age_shares

        ages = self.nurse_age_table
        if ages is None:
            return None
        # the comparators of the report (none beyond MAX_COMPARATOR_AREAS: France only)
        deps = self.all_deps if self.territory_kind == "dep" else self.deps  # a département: itself
        return nurse_age_shares(ages, [c for c, _ in deps], [c for c, _ in self.regions])

    @property
    def geo(self):
        """The territory's communes (WGS84) with every column of the commune table."""
        return self._polygons[0]

    @property
    def context_polygons(self):
        """Neighbouring communes drawn in grey around the territory."""
        return self._polygons[1]

    def towns(self, n: int = 6):
        from .. import maps

        return maps.top_towns(self.geo, "population_2022", n)


def _load_territory(territory):
    from ..territory import Territory

    if isinstance(territory, Territory):
        return territory
    text = str(territory)
    if text.endswith((".yaml", ".yml")):
        return Territory.from_yaml(text)
    return Territory.load(text)


def build_context(territory, apl_year: int = 2023, tiles: str | None = None) -> ReportContext:
    """Everything a report needs for ``territory`` (an id, a YAML path or a Territory), once.

    Warnings raised while the perimeter is read (recoded merged communes, a commune listed twice…)
    are kept in ``perimeter_warnings`` and shown in the report, not lost."""
    from .. import indicators as ind
    from ..errors import VintageError

    try:
        year = int(apl_year)
    except (TypeError, ValueError):
        year = None
    if year not in APL_YEARS or isinstance(apl_year, bool):
        raise VintageError(f"apl_year={apl_year!r} : millésimes APL disponibles pour les cartes "
                           f"communales : {', '.join(map(str, APL_YEARS))}. Correctif : "
                           "choisissez l'un d'eux dans la cellule de paramètres.")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        terr = _load_territory(territory)
        tidy = ind.compute_all(terr)
        communes = ind.commune_table(terr)
        hospitals = ind.hospitals(terr)
    msgs = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    return ReportContext(terr, tidy, communes, hospitals, apl_year=year, tiles=tiles,
                         perimeter_warnings=list(dict.fromkeys(msgs)))
