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


@dataclass
class ReportContext:
    """The territory, its indicators and comparators, its communes, computed once."""

    territory: object
    tidy: pd.DataFrame
    communes: pd.DataFrame
    hospitals: pd.DataFrame
    apl_year: int = 2023
    tiles: str | None = None
    perimeter_warnings: list[str] = field(default_factory=list)
    kind: str = "CPTS"  # how the text names the territory (« la CPTS »)
    scenario: object = None  # section 4.6: a scenario mapping or YAML path (None: no section)
    # Inputs loaded on first use from the data layer; a test passes its own (small fixtures).
    polygons: tuple | None = None  # (territory communes GeoDataFrame, neighbours GeoDataFrame)
    epci_sizes: pd.DataFrame | None = None  # epci_siren, n_communes (whole EPCI)
    all_hospitals: pd.DataFrame | None = None  # every FINESS entity (load_hospitals)

    def __post_init__(self):
        from .. import indicators as ind

        self.registry = ind.INDICATORS
        self._by_key = self.tidy.set_index(["indicator_id", "level", "code"])
        dep_pop = self.communes.groupby("dep")["population_2022"].sum()
        self.all_deps = self.levels("departement")
        self.all_regions = self.levels("region")
        # comparators named in texts, tables and charts: the territory's départements and régions,
        # unless it spans more than MAX_COMPARATOR_AREAS of them (then France only)
        self.deps = self.all_deps if len(self.all_deps) <= MAX_COMPARATOR_AREAS else []
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
        out = [("territory", self.territory.id, self.kind)]
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

    @cached_property
    def nearby_hospitals(self) -> pd.DataFrame:
        """Care establishments in the territory and within 5 km of it (``dans_cpts``), computed
        once for the static and the interactive map."""
        from .. import maps
        from ..finess import care_hospitals

        if self.all_hospitals is None:
            from ..loaders import load_hospitals

            self.all_hospitals = load_hospitals()
        h = maps.hospitals_frame(care_hospitals(self.all_hospitals))
        zone = maps._to_l93(self.geo).geometry.union_all().buffer(NEAR_HOSPITALS_M)
        near = h[h.to_crs(maps.LAMBERT93).geometry.within(zone).to_numpy()].copy()
        near["dans_cpts"] = near["code_commune"].isin(self.territory.communes)
        return near

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
