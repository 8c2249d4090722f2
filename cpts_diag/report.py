"""Helpers of the diagnostic notebook: French narrative, tables, figures, sources section.

The notebook ``notebooks/diagnostic.ipynb`` only calls these helpers: one :class:`Diagnostic`
per CPTS computes everything once (indicators, commune table, geometry), then each ``show_*``
method displays one element (Markdown narrative, French table, map) and, when the notebook runs
with an ``output_dir`` (batch mode), saves it (``figures/*.png``, ``tables/*.csv``);
:meth:`Diagnostic.finish` writes ``tableaux.xlsx`` and ``indicators.json``. Without
``output_dir`` (JupyterLab, nbval) nothing is written.

Every number of the narrative comes from :func:`cpts_diag.indicators.compute_all` (or the
commune table): nothing is typed in the text. A missing value is said in words (« non
disponible », « secret statistique »), never shown as 0.
"""
from __future__ import annotations

import datetime as _dt
import html
import io
import json
import math
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from . import maps
from .apl_params import APL_GP_THRESHOLDS
from .atomic import write_atomic
from .fmt import ND, NNBSP, SECRET, csv_fr, fmt_number, fmt_percent, fmt_value, is_missing

GEO_SOURCE = "IGN, ADMIN EXPRESS COG (contours 2018 recodés au COG 2025)"
APL_YEARS = (2022, 2023)
OTHER_PROFESSIONS = [  # APL professions other than GPs: (short id of the indicators, French plural)
    ("inf", "infirmières et infirmiers"),
    ("kine", "masseurs-kinésithérapeutes"),
    ("sf", "sages-femmes"),
    ("dent", "chirurgiens-dentistes"),
]


# --- small formatting helpers ------------------------------------------------------------------------

def _join_fr(items: list[str]) -> str:
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " et " + items[-1]


def _plural(n: int, singular: str, plural: str | None = None) -> str:
    return f"{fmt_number(n, 0)} {singular if n in (0, 1) else (plural or singular + 's')}"


def _date_fr(s: str | None) -> str | None:
    if not s:
        return None
    parts = str(s).split("-")
    months = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
              "octobre", "novembre", "décembre"]
    if len(parts) == 3:
        return f"{int(parts[2])} {months[int(parts[1]) - 1]} {parts[0]}"
    if len(parts) == 2:
        return f"{months[int(parts[1]) - 1]} {parts[0]}"
    return parts[0]


def _compare_word(x, ref, tol: float = 0.02, more: str = "supérieur", less: str = "inférieur",
                  same: str = "proche") -> str:
    """« supérieur / inférieur / proche » of ``x`` vs ``ref`` (relative tolerance ``tol``)."""
    if is_missing(x) or is_missing(ref) or ref == 0:
        return ""
    r = x / ref - 1
    return same if abs(r) <= tol else (more if r > 0 else less)


# --- the diagnostic ------------------------------------------------------------------------------------

class Diagnostic:
    """Everything the notebook shows for one CPTS, computed once.

    ``cpts_id``: a known perimeter (``cpts-diag perimeters``). ``output_dir``: where figures,
    tables, the workbook and ``indicators.json`` go (``None``: write nothing). ``apl_year``: APL
    vintage of the maps and narrative (2022 or 2023). ``tiles``: basemap of the interactive map
    (``None``: none, no network needed).
    """

    def __init__(self, cpts_id: str, output_dir=None, apl_year: int = 2023, tiles: str | None = None,
                 display_outputs: bool = True):
        from . import indicators as ind
        from .territory import Territory

        if int(apl_year) not in APL_YEARS:
            from .errors import VintageError

            raise VintageError(f"apl_year={apl_year} : millésimes APL disponibles pour les cartes "
                               f"communales : {', '.join(map(str, APL_YEARS))}. Correctif : "
                               "choisissez l'un d'eux dans la cellule de paramètres.")
        self.apl_year = int(apl_year)
        self.tiles = tiles
        self.display_outputs = display_outputs
        self.out = Path(output_dir) if output_dir not in (None, "") else None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            self.territory = Territory.load(cpts_id)
            self.tidy = ind.compute_all(self.territory)
            self.communes = ind.commune_table(self.territory)
            self.hospitals = ind.hospitals(self.territory)
        self.perimeter_warnings = [str(w.message) for w in caught
                                   if issubclass(w.category, UserWarning)]
        self.registry = ind.INDICATORS
        self._tables: dict[str, dict] = {}
        self._figures: list[str] = []
        self._geo = None
        self._ctx = None
        self._near: dict[float, pd.DataFrame] = {}
        self._by_key = self.tidy.set_index(["indicator_id", "level", "code"])["value"]
        dep_pop = self.communes.groupby("dep")["population_2022"].sum()
        self.main_dep = str(dep_pop.idxmax()) if len(dep_pop) else None
        self.deps = self._levels("departement")
        self.regions = self._levels("region")
        if self.out is not None:
            (self.out / "figures").mkdir(parents=True, exist_ok=True)
            (self.out / "tables").mkdir(parents=True, exist_ok=True)

    # -- access to values ------------------------------------------------------------------------
    def _levels(self, level: str) -> list[tuple[str, str]]:
        t = self.tidy[self.tidy["level"] == level][["code", "name"]].drop_duplicates()
        return list(t.itertuples(index=False, name=None))

    def comparators(self, france: bool = False) -> list[tuple[str, str, str]]:
        """``(level, code, name)`` of the CPTS and its comparators, in display order."""
        out = [("territory", self.territory.id, "CPTS")]
        out += [("departement", c, n) for c, n in self.deps]
        out += [("region", c, n) for c, n in self.regions]
        out.append(("france_metro", "FRM", "France métropolitaine"))
        if france:
            out.append(("france", "FR", "France entière"))
        return out

    def val(self, iid: str, level: str = "territory", code: str | None = None) -> float:
        """Value of indicator ``iid`` at ``level`` (``code`` defaults to the CPTS / main dep / its région)."""
        if code is None:
            code = {"territory": self.territory.id, "departement": self.main_dep,
                    "region": self.regions[0][0] if self.regions else None,
                    "france_metro": "FRM", "france": "FR"}.get(level)
        try:
            v = self._by_key.loc[(iid, level, code)]
        except KeyError:
            if iid not in self.registry:
                raise KeyError(f"Unknown indicator {iid!r}; see cpts_diag/indicators.yaml") from None
            return float("nan")
        return float(v) if not is_missing(v) else float("nan")

    def row(self, iid: str, level: str = "territory", code: str | None = None) -> dict:
        code = code or (self.territory.id if level == "territory" else None)
        t = self.tidy
        r = t[(t["indicator_id"] == iid) & (t["level"] == level) & (t["code"] == code)]
        return r.iloc[0].to_dict() if len(r) else {}

    def dec(self, iid: str) -> int:
        return int(self.registry[iid].get("decimals", 1))

    def unit(self, iid: str) -> str:
        return str(self.registry[iid].get("unit", ""))

    def num(self, iid: str, level: str = "territory", code: str | None = None, na: str = ND) -> str:
        """French number without unit (« 87,2 »)."""
        return fmt_number(self.val(iid, level, code), self.dec(iid), na=na)

    def txt(self, iid: str, level: str = "territory", code: str | None = None, na: str = ND) -> str:
        """French number with its unit (« 12,3 % », « 248,2 hab./km² »)."""
        u = self.unit(iid)
        if u in ("hab.", "communes", "nombre"):
            return fmt_number(self.val(iid, level, code), self.dec(iid), na=na)
        return fmt_value(self.val(iid, level, code), u, self.dec(iid), na=na)

    def pct(self, iid, level="territory", code=None) -> str:
        return fmt_percent(self.val(iid, level, code), self.dec(iid))

    def comparison(self, iid: str, with_unit: bool = False) -> str:
        """« Loire : 96,1 ; Auvergne-Rhône-Alpes : 86,4 ; France métropolitaine : 90,0 »."""
        f = self.txt if with_unit else self.num
        parts = [f"{n} : {f(iid, 'departement', c)}" for c, n in self.deps]
        parts += [f"{n} : {f(iid, 'region', c)}" for c, n in self.regions]
        parts.append(f"France métropolitaine : {f(iid, 'france_metro')}")
        return " ; ".join(parts)

    @property
    def name(self) -> str:
        return self.territory.name

    @property
    def main_dep_name(self) -> str:
        return dict(self.deps).get(self.main_dep, self.main_dep or "")

    # -- display / save primitives ---------------------------------------------------------------
    def _display(self, obj):
        """Display ``obj`` in the notebook; without display (tests), return it instead."""
        if self.display_outputs:
            from IPython.display import display

            display(obj)
            return None
        return obj

    def md(self, text: str):
        """Display French Markdown (the notebook's narrative)."""
        from IPython.display import Markdown

        return self._display(Markdown(text))

    def _html(self, text: str):
        from IPython.display import HTML

        return self._display(HTML(text))

    def show_figure(self, fig, name: str):
        """Display a matplotlib Figure as PNG and save it as ``figures/<name>.png`` (batch mode)."""
        from IPython.display import Image

        png = maps.figure_png(fig)
        if self.out is not None:
            write_atomic(self.out / "figures" / f"{name}.png", png)
        self._figures.append(name)
        return self._display(Image(data=png, format="png"))

    def show_table(self, df: pd.DataFrame, name: str, caption: str, source: str,
                   decimals: dict | None = None, na: dict | None = None, units: dict | None = None,
                   note: str | None = None):
        """Display a French table and save it (``tables/<name>.csv`` and the workbook).

        ``df`` holds raw values (numbers stay numbers in the CSV/xlsx); ``decimals`` / ``units``
        per column drive the French display; ``na`` per column gives the text of a missing value
        (default « n.d. »).
        """
        decimals, na, units = decimals or {}, na or {}, units or {}
        self._save_table(df, name, caption, source, decimals)
        return self._html(html_table(df, caption, source, decimals, na, units, note))

    def _save_table(self, df, name, caption, source, decimals):
        """Keep the table for the workbook and, in batch mode, write ``tables/<name>.csv``."""
        self._tables[name] = {"df": df, "caption": caption, "source": source, "decimals": decimals}
        if self.out is not None:
            write_atomic(self.out / "tables" / f"{name}.csv", csv_fr(df))

    # -- geometry ---------------------------------------------------------------------------------
    @property
    def geo(self):
        """CPTS communes (WGS84) with every column of the commune table."""
        if self._geo is None:
            self._load_geo()
        return self._geo

    @property
    def context(self):
        if self._ctx is None:
            self._load_geo()
        return self._ctx

    def _load_geo(self):
        import geopandas as gpd

        from .loaders import load_territory_polygons

        inside, self._ctx = load_territory_polygons(self.territory.communes)
        g = inside.merge(self.communes, on="code_commune", how="right")
        self._geo = gpd.GeoDataFrame(g, geometry="geometry", crs=inside.crs)

    def towns(self, n: int = 6):
        return maps.top_towns(self.geo, "population_2022", n)

    def _map_source(self, iid: str) -> str:
        r = self.registry[iid]
        return f"{r['source']} ; fond communal : {GEO_SOURCE}"

    # === 0. Title and key figures =================================================================
    def show_title(self):
        t = self.territory
        when = _dt.date.today().strftime("%d/%m/%Y")
        valid = _date_fr(t.valid_from)
        lines = [f"# Diagnostic territorial de santé — {t.name}", ""]
        lines.append(f"*Rapport produit le {when} par cpts-diag à partir des données ouvertes de l'Insee, "
                     "de la Drees, de l'IGN et du ministère de la Santé (FINESS). Les sources et millésimes "
                     "de chaque indicateur sont détaillés en fin de rapport.*")
        lines.append("")
        per = f"Périmètre retenu : {_plural(len(t.communes), 'commune')}"
        if valid:
            per += f", en vigueur depuis le {valid}" if len(str(t.valid_from)) == 10 else f", en vigueur depuis {valid}"
        if t.replaced_by:
            per += f" ; **périmètre historique**, remplacé par « {t.replaced_by} »"
        if t.source:
            per += f". Source du périmètre : {t.source}"
        lines.append(per + ".")
        self.md("\n".join(lines))
        self.show_key_figures()

    def _key_figure_ids(self) -> list[str]:
        y = self.apl_year
        return ["population_2022", "pop_growth_2016_2022", "density_2022", "share_75p_2022",
                "ageing_index_2022", "unemployment_1564_2022", f"apl_mg_{y}",
                f"share_pop_apl_mg_lt_2_5_{y}", "density_gp_bpe2024", "density_nurse_bpe2024"]

    def key_figures_frame(self) -> pd.DataFrame:
        return self._compare_frame(self._key_figure_ids())

    def _compare_frame(self, ids: list[str], france: bool | None = None) -> pd.DataFrame:
        """Indicators (rows) × CPTS and comparators (columns), raw values."""
        comps = self.comparators(france=True)
        rows = []
        for iid in ids:
            r = {"Indicateur": self.registry[iid]["label"], "Unité": self.unit(iid)}
            for level, code, name in comps:
                col = "CPTS" if level == "territory" else name
                r[col] = self.val(iid, level, code)
            r["Millésime"] = str(self.registry[iid]["vintage"])
            rows.append(r)
        df = pd.DataFrame(rows)
        if france is False or (france is None and df["France entière"].isna().all()):
            df = df.drop(columns=["France entière"])
        df.attrs["decimals"] = [self.dec(i) for i in ids]
        df.attrs["ids"] = ids
        return df

    def _show_compare(self, ids, name, caption, source=None, note=None, france=None):
        df = self._compare_frame(ids, france=france)
        srcs = source or _join_sources([self.registry[i]["source"] for i in ids])
        return self._html_compare(df, name, caption, srcs, note)

    def _html_compare(self, df, name, caption, source, note=None):
        self._save_table(df, name, caption, source, {})
        return self._html(html_compare_table(df, caption, source, note, self.tidy, self.territory.id))

    def show_key_figures(self):
        self.md("## Chiffres clés")
        return self._show_compare(
            self._key_figure_ids(), "chiffres_cles",
            f"Chiffres clés de la {self.name} et de ses territoires de comparaison",
            note="n.d. : non disponible (donnée non publiée ou limitée à la France métropolitaine).")

    # === 1. Carte d'identité =======================================================================
    def show_identity(self):
        t, c = self.territory, self.communes
        n = len(t.communes)
        pop = self.val("population_2022")
        top = c.sort_values("population_2022", ascending=False).dropna(subset=["population_2022"])
        top3 = top.head(3)
        share3 = top3["population_2022"].sum() / pop * 100 if pop else float("nan")
        small = int((c["population_2022"] < 1000).sum())
        deps = [n_ for _, n_ in self.deps]
        epcis = c[["epci_siren", "epci_nom"]].drop_duplicates()
        s = [f"La {self.name} compte **{self.txt('population_2022')} habitants** (recensement de la "
             f"population 2022) répartis sur **{_plural(n, 'commune')}** et "
             f"{self.txt('area_km2')}, soit une densité de **{self.txt('density_2022')}** "
             f"({self.comparison('density_2022')})."]
        s.append(f"Elle s'étend sur {_plural(len(deps), 'département')} ({_join_fr(deps)}) et "
                 f"{_plural(len(epcis), 'EPCI', 'EPCI')} à fiscalité propre.")
        names = [f"{r.nom} ({fmt_number(r.population_2022, 0)} hab.)" for r in top3.itertuples()]
        s.append(f"Les communes les plus peuplées sont {_join_fr(names)} : elles regroupent "
                 f"{fmt_percent(share3, 1)} de la population. "
                 + (f"{_plural(small, 'commune')} {'compte' if small == 1 else 'comptent'} moins de "
                    f"1{NNBSP}000 habitants." if small else "Aucune commune ne compte moins de "
                    f"1{NNBSP}000 habitants."))
        miss = c[c["population_2022"].isna()]
        if len(miss):
            s.append(f"La population 2022 n'est pas disponible pour {_join_fr(list(miss['nom']))} "
                     "(commune absente du recensement diffusé) : ces communes sont comptées comme "
                     "non renseignées, pas comme vides.")
        inc = c[c["complet_2022"] == 0]
        if len(inc):
            s.append(f"Attention : la population de {_join_fr(list(inc['nom']))} est sous-estimée "
                     "(commune nouvelle du 1er janvier 2025 dont une partie manque dans les données "
                     "diffusées).")
        for w in self.perimeter_warnings:
            s.append(f"Note sur le périmètre : {w}")
        self.md("\n\n".join(s))

    def show_identity_map(self):
        g = self.geo.copy()
        fig = maps.category_map(
            g, "epci_nom", title=f"{self.name} : communes et EPCI", legend_title="EPCI (nombre de communes)",
            source=f"Insee, code officiel géographique 2025 ; fond communal : {GEO_SOURCE}",
            context=self.context, towns=self.towns(8))
        return self.show_figure(fig, "carte_identite_epci")

    def epci_frame(self) -> pd.DataFrame:
        from .loaders import load_epcis

        c = self.communes
        e = load_epcis()[["epci_siren", "n_communes"]].rename(columns={"n_communes": "total"})
        g = (c.groupby(["epci_siren", "epci_nom"], dropna=False)
             .agg(n=("code_commune", "size"), pop=("population_2022", "sum")).reset_index()
             .merge(e, on="epci_siren", how="left"))
        tot = self.val("population_2022")
        return pd.DataFrame({
            "EPCI": g["epci_nom"], "SIREN": g["epci_siren"],
            "Communes dans la CPTS": g["n"], "Communes de l'EPCI": g["total"],
            "Population 2022 dans la CPTS": g["pop"],
            "Part de la population de la CPTS (%)": g["pop"] / tot * 100 if tot else np.nan,
        }).sort_values("Population 2022 dans la CPTS", ascending=False)

    def show_epci_table(self):
        return self.show_table(
            self.epci_frame(), "epci", "EPCI du territoire (partie comprise dans la CPTS)",
            "Insee, code officiel géographique 2025 ; recensement de la population 2022",
            decimals={"Communes dans la CPTS": 0, "Communes de l'EPCI": 0,
                      "Population 2022 dans la CPTS": 0, "Part de la population de la CPTS (%)": 1})

    # === 2. Démographie =============================================================================
    def show_age_text(self):
        s = (f"Les moins de 15 ans représentent {self.pct('share_age_0_14_2022')} de la population et les "
             f"15-24 ans {self.pct('share_age_15_24_2022')}. Les 65 ans ou plus en représentent "
             f"**{self.pct('share_65p_2022')}** ({self.comparison('share_65p_2022')}), dont "
             f"{self.pct('share_75p_2022')} de 75 ans ou plus ({self.comparison('share_75p_2022')}).")
        self.md(s + "\n\n*Effectifs par âge estimés à partir des parts publiées par IRIS (voir Sources).*")

    def show_age_chart(self):
        from . import indicators as ind

        a = ind.age_structure(self.territory, self.tidy)
        comps = [(lv, cd, nm) for lv, cd, nm in self.comparators() if lv != "france"]
        series = []
        for lv, cd, nm in comps:
            d = a[(a["level"] == lv) & (a["code"] == cd)].sort_values("order")
            label = self.name if lv == "territory" else nm
            series.append((label, d["share"].to_numpy(dtype=float)))
        bands = [lab for _, lab in ind.AGE_BANDS]
        fig = grouped_bars(bands, series, title="Structure par âge de la population en 2022",
                           unit="Part de la population (%)", decimals=1,
                           source=self.registry["share_age_0_14_2022"]["source"])
        self.show_figure(fig, "structure_age")
        tab = pd.DataFrame({"Tranche d'âge": bands})
        for label, vals in series:
            tab[label + " (%)"] = vals
        return self.show_table(tab, "structure_age", "Structure par âge en 2022 (part de la population, %)",
                               self.registry["share_age_0_14_2022"]["source"],
                               decimals={c: 1 for c in tab.columns[1:]})

    def show_ageing_text(self):
        iv = self.val("ageing_index_2022")
        ref = self.val("ageing_index_2022", "departement")
        word = _compare_word(iv, ref, more="plus âgée", less="plus jeune", same="aussi âgée")
        c = self.communes.dropna(subset=["ageing_index_2022"])
        s = [f"L'indice de vieillissement atteint **{self.num('ageing_index_2022')}** personnes de 65 ans "
             f"ou plus pour 100 jeunes de moins de 20 ans ({self.comparison('ageing_index_2022')})."]
        if word:
            s.append(f"Au regard de cet indice, la population de la CPTS est {word} que celle du "
                     f"département ({self.main_dep_name}).")
        if len(c) >= 2:
            lo, hi = c.loc[c["ageing_index_2022"].idxmin()], c.loc[c["ageing_index_2022"].idxmax()]
            s.append(f"Selon les communes, il va de {fmt_number(lo.ageing_index_2022, 1)} ({lo.nom}) à "
                     f"{fmt_number(hi.ageing_index_2022, 1)} ({hi.nom}).")
        nmiss = int(self.communes["ageing_index_2022"].isna().sum())
        if nmiss:
            s.append(f"L'indice n'est pas disponible pour {_plural(nmiss, 'commune')} (hachurées sur la carte).")
        s.append(f"Les 80 ans ou plus vivant seuls représentent {self.txt('share_80p_alone_2022')} des "
                 f"80 ans ou plus ({self.comparison('share_80p_alone_2022', with_unit=True)}).")
        self.md(" ".join(s))

    def show_ageing_map(self):
        return self._commune_map("ageing_index_2022", "Indice de vieillissement par commune, 2022",
                                 "Personnes de 65 ans ou plus\npour 100 de moins de 20 ans",
                                 self._classes("ageing_index_2022"),
                                 "carte_indice_vieillissement")

    def show_ageing_epci_table(self):
        ids = ["ageing_index_2022", "share_75p_2022", "share_80p_alone_2022"]
        return self._show_level_table(ids, "vieillissement_epci",
                                      "Vieillissement par EPCI (partie dans la CPTS) et territoires de comparaison")

    def _show_level_table(self, ids, name, caption):
        rows = []
        for level, code, nm in [("territory", self.territory.id, self.name)] + \
                [("epci", c, n) for c, n in self._levels("epci")] + \
                [(lv, cd, n) for lv, cd, n in self.comparators() if lv != "territory"]:
            r = {"Territoire": nm if level != "epci" else f"{nm} (partie CPTS)"}
            for iid in ids:
                r[f"{self.registry[iid]['label']} ({self.unit(iid)})"] = self.val(iid, level, code)
            rows.append(r)
        df = pd.DataFrame(rows)
        dec = {f"{self.registry[i]['label']} ({self.unit(i)})": self.dec(i) for i in ids}
        return self.show_table(df, name, caption, _join_sources([self.registry[i]["source"] for i in ids]),
                               decimals=dec)

    def show_population_text(self):
        g = self.val("pop_growth_2016_2022")
        c = self.communes.dropna(subset=["pop_growth_2016_2022"])
        up, down = int((c["pop_growth_2016_2022"] > 0).sum()), int((c["pop_growth_2016_2022"] < 0).sum())
        if is_missing(g):
            s = ["L'évolution de la population entre 2016 et 2022 n'est pas calculable pour la CPTS "
                 "(population 2016 non diffusée pour ses communes)."]
        else:
            verb = "augmenté" if g > 0 else ("diminué" if g < 0 else "stagné")
            s = [f"Entre 2016 et 2022, la population de la CPTS a {verb} de "
                 f"**{fmt_number(abs(g), 2)}{NNBSP}% par an** en moyenne "
                 f"(en % par an : {self.comparison('pop_growth_2016_2022')}), pour atteindre "
                 f"{self.txt('population_2022')} habitants"
                 + (f" contre {self.txt('population_2016')} en 2016." if not is_missing(
                     self.val("population_2016")) else ".")]
        s.append(f"{_plural(up, 'commune')} {'gagne' if up == 1 else 'gagnent'} des habitants et "
                 f"{_plural(down, 'commune')} en {'perd' if down == 1 else 'perdent'}.")
        r = self.row("pop_growth_2016_2022")
        if r and r.get("n_missing"):
            s.append(f"L'évolution n'est pas calculable pour {_plural(int(r['n_missing']), 'commune')} "
                     "(population 2016 non diffusée sur le territoire actuel de la commune) : "
                     "elles sont exclues du calcul et hachurées sur la carte.")
        self.md(" ".join(s))

    def show_population_table(self):
        ids = ["population_2011", "population_2016", "population_2022", "pop_growth_2011_2016",
               "pop_growth_2016_2022", "density_2022"]
        return self._show_compare(ids, "population", "Population et évolution",
                                  note="Évolutions en % par an (taux annuel moyen).")

    def show_growth_map(self):
        return self._commune_map("pop_growth_2016_2022",
                                 "Évolution annuelle moyenne de la population, 2016-2022",
                                 "Taux annuel moyen (% par an)", self._classes("pop_growth_2016_2022"),
                                 "carte_evolution_population")

    def show_density_map(self):
        return self._commune_map("density_2022", "Densité de population, 2022", "Habitants par km²",
                                 self._classes("density_2022"), "carte_densite")

    def _classes(self, column: str):
        """Classes of a commune column, the same on the static maps and the interactive map."""
        if column.startswith("apl_mg"):
            return maps.make_classes(self.geo[column], scheme="apl_mg")  # official thresholds
        kw = {"ageing_index_2022": {"k": 5, "decimals": 0},
              "density_2022": {"k": 5, "decimals": 0, "cmap": "PuBu"},
              "pop_growth_2016_2022": {"scheme": "diverging", "decimals": 1, "suffix": " %",
                                       "cmap": "RdBu"},
              }.get(column, {"k": 4, "decimals": 0, "cmap": "GnBu"})  # APL of other professions
        return maps.make_classes(self.geo[column], **kw)

    def _commune_map(self, column, title, legend_title, classes, name, source_id=None, note=None):
        """Choropleth of one commune column with the CPTS outline, context, towns and source."""
        fig = maps.choropleth(
            self.geo, column, title=title, legend_title=legend_title, classes=classes,
            source=self._map_source(source_id or column), context=self.context, towns=self.towns(),
            note=note)
        return self.show_figure(fig, name)

    # === 3. Socio-économie ==========================================================================
    SOCIO_IDS = ["unemployment_1564_2022", "poverty_rate_2021", "median_income_2021",
                 "csp_agriculteurs_2022", "csp_artisans_commercants_2022", "csp_cadres_2022",
                 "csp_prof_intermediaires_2022", "csp_employes_2022", "csp_ouvriers_2022",
                 "csp_retraites_2022", "csp_autres_inactifs_2022", "share_80p_alone_2022"]

    def show_socio_text(self):
        s = [f"Le taux de chômage des 15-64 ans (au sens du recensement) est de "
             f"**{self.pct('unemployment_1564_2022')}** ({self.comparison('unemployment_1564_2022', True)})."]
        r = self.row("poverty_rate_2021")
        n = len(self.communes)
        pov = self.val("poverty_rate_2021")
        nmiss = int(r.get("n_missing") or 0) if r else 0
        if is_missing(pov):
            s.append("Le taux de pauvreté n'est publié pour aucune commune de la CPTS (secret statistique "
                     "de Filosofi pour les petites communes) : il n'est pas disponible pour la CPTS "
                     f"({self.comparison('poverty_rate_2021', True)}).")
        else:
            cov = r.get("coverage")
            s.append(f"Le taux de pauvreté (seuil de 60 % du niveau de vie médian) est de "
                     f"**{self.pct('poverty_rate_2021')}** ({self.comparison('poverty_rate_2021', True)}).")
            if nmiss:
                s.append(f"Filosofi ne publie ce taux que pour {fmt_number(n - nmiss, 0)} des {fmt_number(n, 0)} "
                         f"communes (secret statistique pour les autres) : la valeur de la CPTS ne décrit que "
                         f"les communes où il est publié, soit {fmt_percent(100 * cov, 1)} de la population.")
        lo = self.val("median_income_2021_communes_min")
        hi = self.val("median_income_2021_communes_max")
        med = self.val("median_income_2021_communes_med")
        s.append("Le niveau de vie médian de la CPTS n'est pas calculable à partir des communes (une "
                 "moyenne de médianes n'est pas une médiane)"
                 + (f" ; les médianes communales publiées vont de {fmt_number(lo, 0)}{NNBSP}€ à "
                    f"{fmt_number(hi, 0)}{NNBSP}€ par an (médiane des communes : {fmt_number(med, 0)}{NNBSP}€), "
                    f"contre {self.txt('median_income_2021', 'departement')} pour le département "
                    f"({self.main_dep_name})." if not is_missing(lo) else
                    " et aucune médiane communale n'est publiée (secret statistique)."))
        nm_inc = int(self.communes["median_income_2021"].isna().sum())
        if nm_inc:
            s.append(f"Le niveau de vie médian est couvert par le secret statistique pour "
                     f"{_plural(nm_inc, 'commune')}.")
        s.append(f"Parmi les 15 ans ou plus, les ouvriers représentent {self.pct('csp_ouvriers_2022')} "
                 f"({self.comparison('csp_ouvriers_2022', True)}), les cadres {self.pct('csp_cadres_2022')} "
                 f"et les retraités {self.pct('csp_retraites_2022')}.")
        self.md(" ".join(s))

    def show_socio_table(self):
        return self._show_compare(
            self.SOCIO_IDS, "socio_economie", "Indicateurs socio-économiques",
            note="Taux de pauvreté de la CPTS : moyenne pondérée des seules communes où Filosofi le publie. "
                 "Niveau de vie médian : non calculable pour la CPTS (voir le texte).")

    def show_csp_chart(self):
        ids = ["csp_agriculteurs_2022", "csp_artisans_commercants_2022", "csp_cadres_2022",
               "csp_prof_intermediaires_2022", "csp_employes_2022", "csp_ouvriers_2022",
               "csp_retraites_2022", "csp_autres_inactifs_2022"]
        labels = ["Agriculteurs", "Artisans, commerçants", "Cadres", "Prof. intermédiaires", "Employés",
                  "Ouvriers", "Retraités", "Autres inactifs"]
        comps = [(lv, cd, nm) for lv, cd, nm in self.comparators() if lv in ("territory", "departement", "france_metro")]
        series = [(self.name if lv == "territory" else nm, np.array([self.val(i, lv, cd) for i in ids]))
                  for lv, cd, nm in comps]
        fig = grouped_bars(labels, series, title="Catégories socioprofessionnelles des 15 ans ou plus, 2022",
                           unit="Part des 15 ans ou plus (%)", decimals=1,
                           source=self.registry["csp_cadres_2022"]["source"])
        return self.show_figure(fig, "csp")

    # === 4. Offre de soins ============================================================================
    def show_supply_text(self):
        gp = self.val("count_gp_bpe2024")
        s = [f"La base permanente des équipements recense **{fmt_number(gp, 0)} médecins généralistes** "
             f"dans la CPTS en 2024, soit **{self.num('density_gp_bpe2024')} pour 10{NNBSP}000 habitants** "
             f"({self.comparison('density_gp_bpe2024')})."]
        others = []
        for key, lab in (("nurse", "infirmiers"), ("physio", "masseurs-kinésithérapeutes"),
                         ("dentist", "chirurgiens-dentistes"), ("midwife", "sages-femmes"),
                         ("pharmacy", "pharmacies")):
            others.append(f"{fmt_number(self.val(f'count_{key}_bpe2024'), 0)} {lab} "
                          f"({self.num(f'density_{key}_bpe2024')} pour 10{NNBSP}000 hab. ; "
                          f"{self.main_dep_name} : {self.num(f'density_{key}_bpe2024', 'departement')})")
        s.append("On y compte aussi " + _join_fr(others) + ".")
        s.append("*Les professionnels sont comptés par adresse d'exercice libéral recensée par la BPE ; "
                 "les salariés (hôpital, centres de santé) n'y figurent pas.*")
        self.md(" ".join(s))

    def show_supply_table(self):
        ids = [f"{k}_{p}_bpe2024" for p in ("gp", "nurse", "physio", "dentist", "midwife", "pharmacy")
               for k in ("count", "density")]
        return self._show_compare(ids, "offre_bpe", "Professionnels de santé libéraux et pharmacies (BPE 2024)")

    def show_supply_chart(self):
        keys = [("gp", "Médecins\ngénéralistes"), ("nurse", "Infirmiers"), ("physio", "Masseurs-\nkinésithérapeutes"),
                ("dentist", "Chirurgiens-\ndentistes"), ("midwife", "Sages-femmes"), ("pharmacy", "Pharmacies")]
        comps = [(lv, cd, nm) for lv, cd, nm in self.comparators() if lv in ("territory", "departement", "region", "france_metro")]
        series = [(self.name if lv == "territory" else nm,
                   np.array([self.val(f"density_{k}_bpe2024", lv, cd) for k, _ in keys])) for lv, cd, nm in comps]
        fig = grouped_bars([l for _, l in keys], series, title="Densité de professionnels de santé libéraux, 2024",
                           unit="Pour 10 000 habitants", decimals=1,
                           source=self.registry["density_gp_bpe2024"]["source"])
        return self.show_figure(fig, "densites_professionnels")

    def show_apl_text(self):
        y = self.apl_year
        lt = f"share_pop_apl_mg_lt_2_5_{y}"
        n_lt = int((self.communes[f"apl_mg_{y}"] < APL_GP_THRESHOLDS[0]).sum())
        n_av = int(self.communes[f"apl_mg_{y}"].notna().sum())
        s = [f"L'accessibilité potentielle localisée (APL) aux médecins généralistes est de "
             f"**{self.num(f'apl_mg_{y}')} consultations par an et par habitant standardisé** en {y} "
             f"({self.comparison(f'apl_mg_{y}')})."]
        s.append(f"**{self.pct(lt)} de la population** vit dans une commune dont l'APL est inférieure à 2,5, "
                 f"seuil de sous-densité retenu par la Drees ({self.comparison(lt, True)}) ; "
                 f"{_plural(n_lt, 'commune')} sur {fmt_number(n_av, 0)} {'est' if n_lt <= 1 else 'sont'} dans ce cas.")
        s.append(f"En ne comptant que les médecins de 65 ans ou moins, l'APL descend à "
                 f"{self.num(f'apl_mg_moins65_{y}')} ({self.comparison(f'apl_mg_moins65_{y}')}) et "
                 f"{self.pct(f'share_pop_apl_mg_moins65_lt_2_5_{y}')} de la population est sous le seuil de 2,5.")
        old = self.val("apl_mg_2018")
        if not is_missing(old):
            s.append(f"Pour mémoire, l'APL était de {self.num('apl_mg_2018')} en 2018 et de "
                     f"{self.num('apl_mg_2016')} en 2016 (millésimes comparables avec prudence : la Drees a "
                     "révisé plafonds d'activité et pondérations).")
        nmiss = len(self.communes) - n_av
        if nmiss:
            s.append(f"L'APL n'est pas publiée pour {_plural(nmiss, 'commune')} (hachurées).")
        self.md(" ".join(s))

    def _apl_map(self, column, title, name, source_id):
        return self._commune_map(
            column, title, "APL (consultations par an\net par habitant standardisé)",
            self._classes(column), name, source_id=source_id,
            note="Classes officielles : 2,5 et 4 consultations par an et par habitant standardisé "
                 "(2,5 : seuil de sous-densité de la Drees).")

    def show_apl_gp_map(self):
        y = self.apl_year
        return self._apl_map(f"apl_mg_{y}", f"APL aux médecins généralistes, {y}", "carte_apl_mg", f"apl_mg_{y}")

    def show_apl_gp65_map(self):
        y = self.apl_year
        return self._apl_map(f"apl_mg_moins65_{y}", f"APL aux médecins généralistes de 65 ans ou moins, {y}",
                             "carte_apl_mg_moins65", f"apl_mg_moins65_{y}")

    def show_apl_gp_table(self):
        ids = [f"apl_mg_{y}" for y in (2016, 2018, 2022, 2023)] + \
              [f"apl_mg_moins65_{y}" for y in (2022, 2023)] + \
              [f"share_pop_apl_mg_lt_2_5_{self.apl_year}", f"share_pop_apl_mg_2_5_4_{self.apl_year}",
               f"share_pop_apl_mg_ge_4_{self.apl_year}", f"share_pop_apl_mg_moins65_lt_2_5_{self.apl_year}"]
        return self._show_compare(ids, "apl_medecins_generalistes",
                                  "Accessibilité potentielle localisée (APL) aux médecins généralistes",
                                  france=True)

    def show_apl_other_text(self):
        y = 2023
        parts = []
        for p, lab in OTHER_PROFESSIONS:
            iid = f"apl_{p}_{y}"
            parts.append(f"{lab} : {self.txt(iid)} ({self.main_dep_name} : {self.num(iid, 'departement')} ; "
                         f"France : {self.num(iid, 'france')})")
        self.md(f"Pour les autres professions, l'APL {y} s'exprime en équivalents temps plein (ETP) accessibles "
                "pour 100 000 habitants standardisés : " + " ; ".join(parts) + ". "
                "*La Drees a changé de méthode en 2022 pour ces professions : les valeurs ne sont pas "
                "comparables aux millésimes antérieurs.*")

    def show_apl_other_maps(self):
        g = self.geo
        panels = []
        for p, lab in OTHER_PROFESSIONS:
            col = f"apl_{p}_2023"
            if col not in g.columns:
                continue
            panels.append((col, f"{lab[0].upper() + lab[1:]} (ETP/100 000 hab. std)", self._classes(col)))
        fig = maps.small_multiples(
            g, panels, title="APL aux autres professionnels de santé, 2023",
            source=f"Drees, accessibilité potentielle localisée (APL) 2023 ; fond communal : {GEO_SOURCE}",
            context=self.context, note="Classes : quartiles des communes de la CPTS.")
        return self.show_figure(fig, "carte_apl_autres_professions")

    def show_apl_other_table(self):
        ids = [f"apl_{p}_{y}" for p, _ in OTHER_PROFESSIONS for y in (2022, 2023)]
        return self._show_compare(ids, "apl_autres_professions",
                                  "APL aux autres professionnels de santé (ETP pour 100 000 hab. standardisés)",
                                  france=True)

    def nearby_hospitals(self, buffer_m: float = 5000):
        """Hospitals in the CPTS and within ``buffer_m`` of it (map), with ``dans_cpts``
        (computed once per buffer; the static and the interactive maps share it)."""
        if buffer_m not in self._near:
            from .loaders import load_hospitals

            h = maps.hospitals_frame(load_hospitals())
            zone = maps._to_l93(self.geo).geometry.union_all().buffer(buffer_m)
            near = h[h.to_crs(maps.LAMBERT93).geometry.within(zone).to_numpy()].copy()
            near["dans_cpts"] = near["code_commune"].isin(self.territory.communes)
            self._near[buffer_m] = near
        return self._near[buffer_m]

    def show_hospitals_text(self):
        h = self.hospitals
        if not len(h):
            self.md("Aucun établissement hospitalier (au sens du répertoire FINESS diffusé par Eurostat, "
                    "mars 2020) n'est implanté dans la CPTS ; la carte montre les plus proches.")
            return
        by = h["statut"].value_counts()
        parts = [f"{fmt_number(by.get(k, 0), 0)} {lab}" for k, lab in
                 (("public", "publics"), ("privé", "privés"), ("non renseigné", "de statut non renseigné"))
                 if by.get(k, 0)]
        communes = h["commune"].value_counts()
        self.md(f"La CPTS compte **{_plural(len(h), 'site hospitalier', 'sites hospitaliers')}** "
                f"({_join_fr(parts)}) répartis dans {_plural(len(communes), 'commune')} "
                f"({_join_fr([f'{c} : {n}' for c, n in communes.items()])}). "
                "*Source : FINESS (mars 2020) ; chaque site géographique compte ; ni EHPAD, ni maisons "
                "de santé, ni centres de santé.*")

    def show_hospitals_map(self):
        fig = maps.hospital_map(
            self.geo, self.nearby_hospitals(), title="Établissements hospitaliers, mars 2020",
            source=f"{self.registry['n_hospitals_finess2020']['source']} ; fond communal : {GEO_SOURCE}",
            context=self.context, towns=self.towns())
        return self.show_figure(fig, "carte_hopitaux")

    def show_hospitals_table(self):
        h = self.hospitals
        df = pd.DataFrame({"Établissement": h["nom"], "Site": h["site"], "Commune": h["commune"],
                           "Type": h["type"], "Statut": h["statut"], "FINESS": h["finess"]})
        if df["Site"].isna().all():  # the source gives no site name here: no empty column
            df = df.drop(columns="Site")
        return self.show_table(df, "hopitaux", "Établissements hospitaliers de la CPTS",
                               self.registry["n_hospitals_finess2020"]["source"])

    def show_interactive_map(self, height: int = 580):
        """The folium map (one layer per indicator), self-contained (Leaflet inlined)."""
        y = self.apl_year
        g = self.geo
        specs = [
            ("ageing_index_2022", "Indice de vieillissement 2022", "", 0),
            ("density_2022", "Densité de population 2022", "hab./km²", 0),
            ("pop_growth_2016_2022", "Évolution annuelle 2016-2022", "% par an", 2),
            (f"apl_mg_{y}", f"APL médecins généralistes {y}", "consultations/an/hab. std", 2),
            (f"apl_mg_moins65_{y}", f"APL médecins généralistes ≤ 65 ans {y}", "consultations/an/hab. std", 2),
        ]
        specs += [(f"apl_{p}_2023", f"APL {lab} 2023", "ETP/100 000 hab. std", 1)
                  for p, lab in OTHER_PROFESSIONS if f"apl_{p}_2023" in g.columns]
        layers = [maps.Layer(col, label, unit, self._classes(col), dec,
                             source=self.registry[col]["source"] if col in self.registry else "")
                  for col, label, unit, dec in specs]
        m = maps.interactive_map(g, layers, context=self.context, hospitals=self.nearby_hospitals(),
                                 tiles=self.tiles, attribution="Insee, Drees, IGN, FINESS")
        self.md("Carte interactive : choisissez l'indicateur en haut à droite ; survolez une commune pour "
                "lire sa valeur. Les communes hachurées ou grises n'ont pas de donnée.")
        return self._html(maps.iframe_html(m, height=height))

    # === 4.6 Scénarios (off by default) ===============================================================
    def show_scenario(self, spec=None):
        """Section « 4.6 Scénarios » when ``spec`` is given (the notebook parameter ``scenario``):
        a mapping (``title``, ``remove_gps``, ``add_gps``, ``retire_age``, ``supply``,
        ``travel_times``) or the path of a scenario YAML file. ``None`` (default): nothing shown."""
        if spec in (None, "", {}):
            return None
        from .apl_params import load_parameters
        from .scenario import ScenarioSpec, run_spec

        spec = ScenarioSpec.coerce(spec, where="paramètre scenario")
        res = run_spec(self.territory, spec)
        self.md(f"### 4.6 Scénario : simulation de l'accessibilité aux {load_parameters(spec.year).label}\n\n"
                "Que deviendrait l'APL si des médecins partaient ou si un cabinet ouvrait ? cpts-diag "
                "recalcule l'APL de toutes les communes de France métropolitaine avant et après le "
                "changement (méthode de la Drees : offre de chaque commune rapportée à la demande "
                "qu'elle attire à moins de 20 minutes, pondérée par la distance). L'écart simulé est "
                "ajouté à l'APL publiée par la Drees. Il s'agit d'une hypothèse, pas d'une prévision.")
        self.md(res.summary_text())
        self.show_figure(res.figure(self.geo, self.context), "carte_scenario")
        src = (f"Drees, APL {spec.year} ; calcul cpts-diag (moteur APL) ; {res.sources['supply']}")
        dec = {"Population": 0, "Médecins avant": 0, "Médecins après": 0, f"APL publiée {spec.year}": 2,
               "APL après scénario": 2, "Variation simulée": 3}
        c = res.communes
        for name, part, caption in (
                ("scenario_baisses", c[c["variation"] < -1e-9].sort_values("variation"),
                 "Communes de la CPTS dont l'APL baisse le plus"),
                ("scenario_hausses", c[c["variation"] > 1e-9].sort_values("variation", ascending=False),
                 "Communes de la CPTS dont l'APL augmente le plus")):
            if part.empty:
                continue
            top = part.head(12)
            df = pd.DataFrame({
                "Commune": top["nom"], "Population": top["population"],
                "Médecins avant": top["medecins_avant"], "Médecins après": top["medecins_apres"],
                f"APL publiée {spec.year}": top["apl_publiee"], "APL après scénario": top["apl_publiee_apres"],
                "Variation simulée": top["variation"]})
            more = f" (12 premières sur {len(part)})" if len(part) > 12 else ""
            self.show_table(df, name, caption + more, src, decimals=dec)
        if len(res.outside):
            o = res.outside.head(12)
            df = pd.DataFrame({"Commune": o["nom"], "Département": o["dep"], "Population": o["population"],
                               f"APL publiée {spec.year}": o["apl_publiee"],
                               "APL après scénario": o["apl_publiee_apres"], "Variation simulée": o["variation"]})
            more = f" (12 premières sur {len(res.outside)})" if len(res.outside) > 12 else ""
            self.show_table(df, "scenario_hors_cpts", "Communes hors CPTS dont l'APL varie le plus" + more, src,
                            decimals=dec)
        return None

    # === 5. Sources ===================================================================================
    def sources_frame(self) -> pd.DataFrame:
        from .sources import SOURCES

        used: dict[str, set] = {}
        for iid, d in self.registry.items():
            sid = d.get("source_id")
            if sid:
                used.setdefault(sid, set()).update(re.findall(r"\d{4}", str(d.get("vintage", ""))))
        if "population" in used:
            used.setdefault("socio", set())
        for sid in ("cog_communes", "geo_communes_8dep", "hospitals", "cpts_sources"):
            used.setdefault(sid, set())
        if "geo_communes_metro" in used:
            used["geo_communes_metro"] = {str(SOURCES["geo_communes_metro"].default_vintage)}
        rows = []
        for sid, years in used.items():
            s = SOURCES.get(sid)
            if s is None:
                continue
            vint = ", ".join(sorted(years)) if years else str(s.default_vintage)
            rows.append({"Donnée": s.label, "Producteur": s.publisher, "Millésime(s)": vint,
                         "Géographie des codes (COG)": s.cog, "Licence": s.licence,
                         "Provenance": s.provenance + (f" ({s.notes})" if s.notes else "")})
        return pd.DataFrame(rows)

    def show_sources(self):
        self.md("Chaque tableau et chaque carte indique sa source et son millésime. Le tableau ci-dessous "
                "récapitule les données utilisées.")
        self.show_table(self.sources_frame(), "sources", "Sources et millésimes",
                        "registre des sources de cpts-diag (contrat de données du jeu ouvert)")
        self.md("\n".join([
            "**Conventions de lecture**",
            "",
            "- *n.d.* : donnée non disponible (non publiée, ou publiée pour la seule France métropolitaine) ; "
            "*secret statistique* : valeur communale non diffusée par l'Insee. Une donnée manquante n'est "
            "jamais comptée comme zéro ; sur les cartes, les communes concernées sont hachurées (« Donnée manquante »).",
            "- Les valeurs de la CPTS et des EPCI sont recalculées à partir des communes (rapports de sommes, "
            "moyennes pondérées) ; celles des départements, régions et de la France proviennent des mêmes "
            "calculs nationaux ou, pour le taux de pauvreté et le niveau de vie médian, des agrégats publiés.",
            "- Les effectifs par âge sont estimés à partir des parts publiées par IRIS (arrondis à 0,1 personne).",
            "- APL : indicateur de la Drees tenant compte de l'offre et de la demande des communes voisines ; "
            "seuil de sous-densité des médecins généralistes : 2,5 consultations par an et par habitant standardisé.",
            "- BPE : les professionnels sont comptés par adresse d'exercice libéral recensée.",
            "- Géographie : communes au 1er janvier 2025 (code officiel géographique 2025).",
        ]))

    # === annex ====================================================================================
    def commune_frame(self) -> pd.DataFrame:
        c = self.communes
        y = self.apl_year
        return pd.DataFrame({
            "Code": c["code_commune"], "Commune": c["nom"], "EPCI": c["epci_nom"],
            "Population 2022": c["population_2022"], "Population 2016": c["population_2016"],
            "Évolution 2016-2022 (% par an)": c["pop_growth_2016_2022"],
            "Superficie (km²)": c["area_km2"], "Densité (hab./km²)": c["density_2022"],
            "Indice de vieillissement": c["ageing_index_2022"], "Part des 75 ans ou plus (%)": c["share_75p_2022"],
            "Taux de chômage 15-64 ans (%)": c["unemployment_1564_2022"],
            "Taux de pauvreté (%)": c["poverty_rate_2021"],
            "Niveau de vie médian (€/an)": c["median_income_2021"],
            f"APL médecins généralistes {y}": c[f"apl_mg_{y}"],
            f"APL médecins ≤ 65 ans {y}": c[f"apl_mg_moins65_{y}"],
            "Médecins généralistes (BPE)": c["count_gp_bpe2024"],
            "Infirmiers (BPE)": c["count_nurse_bpe2024"],
            "Sites hospitaliers": c["n_hospitals_finess2020"],
        })

    def show_commune_table(self):
        df = self.commune_frame()
        y = self.apl_year
        dec = {"Population 2022": 0, "Population 2016": 0, "Évolution 2016-2022 (% par an)": 2,
               "Superficie (km²)": 1, "Densité (hab./km²)": 1, "Indice de vieillissement": 1,
               "Part des 75 ans ou plus (%)": 1, "Taux de chômage 15-64 ans (%)": 1, "Taux de pauvreté (%)": 1,
               "Niveau de vie médian (€/an)": 0, f"APL médecins généralistes {y}": 2,
               f"APL médecins ≤ 65 ans {y}": 2, "Médecins généralistes (BPE)": 0, "Infirmiers (BPE)": 0,
               "Sites hospitaliers": 0}
        na = {"Taux de chômage 15-64 ans (%)": SECRET, "Taux de pauvreté (%)": SECRET,
              "Niveau de vie médian (€/an)": SECRET}
        return self.show_table(
            df, "communes", "Indicateurs par commune",
            "Insee (RP 2016 et 2022, Filosofi 2021, BPE 2024), Drees (APL), FINESS 2020, IGN (surfaces)",
            decimals=dec, na=na,
            note="secret statistique : valeur non diffusée par l'Insee pour cette commune ; n.d. : non disponible.")

    # === outputs ====================================================================================
    def finish(self):
        """Batch mode: write ``tableaux.xlsx`` (every table) and ``indicators.json`` (the catalogue)."""
        if self.out is None:
            return None
        write_atomic(self.out / "tableaux.xlsx", workbook_bytes(self._tables))
        from .catalogue import catalogue_from_tidy

        cat = catalogue_from_tidy(self.tidy, self.territory)  # = catalogue(territory), no recomputation
        data = json.dumps(cat, ensure_ascii=False, indent=1, allow_nan=False, default=_json_default)
        write_atomic(self.out / "indicators.json", data.encode("utf-8"))
        return None


# --- HTML tables ----------------------------------------------------------------------------------------

def _cell(v, decimals: int | None, na: str, unit: str | None = None) -> tuple[str, bool]:
    if isinstance(v, str):
        return html.escape(v), False
    if is_missing(v) and not isinstance(v, (str,)):
        return html.escape(na), True
    if isinstance(v, (int, float, np.integer, np.floating)):
        d = 0 if decimals is None and float(v).is_integer() else (1 if decimals is None else decimals)
        return html.escape(fmt_number(v, d) + (NNBSP + unit if unit else "")), True
    return html.escape(str(v)), False


def html_table(df: pd.DataFrame, caption: str, source: str, decimals: dict | None = None,
               na: dict | None = None, units: dict | None = None, note: str | None = None) -> str:
    """French HTML table (numbers formatted, missing values in words) with caption and source."""
    decimals, na, units = decimals or {}, na or {}, units or {}
    head = "".join(f'<th style="text-align:left">{html.escape(str(c))}</th>' for c in df.columns)
    body = []
    for row in df.itertuples(index=False):
        tds = []
        for col, v in zip(df.columns, row):
            text, is_num = _cell(v, decimals.get(col), na.get(col, ND), units.get(col))
            tds.append(f'<td class="num" style="text-align:right">{text}</td>' if is_num
                       else f'<td style="text-align:left">{text}</td>')
        body.append("<tr>" + "".join(tds) + "</tr>")
    return _wrap_table(caption, head, body, source, note)


def _wrap_table(caption: str, head: str, body: list[str], source: str, note: str | None,
                extra_notes: list[str] = ()) -> str:
    """Caption, scrollable table and « Source : … » line (with the note and any extra notes)."""
    note_html = f" {html.escape(note)}" if note else ""
    extra = "".join(f"<br>{html.escape(n)}" for n in extra_notes)
    return (f'<div class="cpts-caption">{html.escape(caption)}</div>'
            f'<div style="overflow-x:auto"><table class="cpts-table"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>'
            f'<div class="cpts-source">Source : {html.escape(source)}.{note_html}{extra}</div>')


def html_compare_table(df: pd.DataFrame, caption: str, source: str, note: str | None,
                       tidy: pd.DataFrame | None = None, territory_id: str | None = None) -> str:
    """Indicators × territories table: each row formatted with its own decimals and unit."""
    decs = df.attrs.get("decimals", [1] * len(df))
    ids = df.attrs.get("ids", [None] * len(df))
    value_cols = [c for c in df.columns if c not in ("Indicateur", "Unité", "Millésime")]
    head = "".join(f'<th style="text-align:left">{html.escape(c)}</th>'
                   for c in ["Indicateur", *value_cols, "Unité", "Millésime"])
    notes = []
    body = []
    for (_, r), d, iid in zip(df.iterrows(), decs, ids):
        cells = [f'<td style="text-align:left">{html.escape(str(r["Indicateur"]))}</td>']
        for c in value_cols:
            v = r[c]
            text = ND if is_missing(v) else fmt_number(v, d)
            cells.append(f'<td class="num" style="text-align:right">{html.escape(text)}</td>')
        cells.append(f'<td style="text-align:left">{html.escape(str(r["Unité"]))}</td>'
                     f'<td style="text-align:left">{html.escape(str(r["Millésime"]))}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
        if tidy is not None and iid:
            t = tidy[(tidy["indicator_id"] == iid) & (tidy["level"] == "territory")]
            if len(t) and isinstance(t.iloc[0]["note"], str) and t.iloc[0]["note"]:
                notes.append(f"{r['Indicateur']} (CPTS) : {t.iloc[0]['note']}")
    return _wrap_table(caption, head, body, source, note, notes)


def _join_sources(sources: list[str]) -> str:
    """Distinct sources, each once (a source string may itself list several, « ; »-separated)."""
    parts = [p.strip() for s in sources if s for p in str(s).split(" ; ")]
    return " ; ".join(dict.fromkeys(p for p in parts if p))


# --- charts ---------------------------------------------------------------------------------------------

PALETTE = ["#1b6ca8", "#f28e2b", "#59a14f", "#b07aa1", "#9c755f", "#76b7b2", "#e15759"]


def grouped_bars(categories: list[str], series: list[tuple[str, np.ndarray]], *, title: str, unit: str,
                 source: str, decimals: int = 1):
    """Horizontal grouped bars (one group per category, one bar per territory) → Figure.

    Missing values are written « n.d. » at the bar's place, never drawn as 0.
    """
    from matplotlib.figure import Figure

    n_cat, n_ser = len(categories), len(series)
    h = 0.8 / max(n_ser, 1)
    top_in, bottom_in = 0.5, 0.85
    fig_h = max(3.0, 0.16 * n_cat * n_ser + 0.12 * n_cat + top_in + bottom_in)
    fig = Figure(figsize=(9.6, fig_h), dpi=100)
    ax = fig.add_axes((0.2, bottom_in / fig_h, 0.56, 1 - (top_in + bottom_in) / fig_h))
    y = np.arange(n_cat)
    vmax = np.nanmax([np.nanmax(v) if np.isfinite(v).any() else 0 for _, v in series] + [1])
    for k, (label, vals) in enumerate(series):
        pos = y - 0.4 + h * (k + 0.5)
        vals = np.asarray(vals, dtype=float)
        ok = np.isfinite(vals)
        ax.barh(pos[ok], vals[ok], height=h * 0.92, color=PALETTE[k % len(PALETTE)], label=label)
        for p, v, good in zip(pos, vals, ok):
            ax.text((v if good else 0) + vmax * 0.01, p, fmt_number(v, decimals) if good else ND,
                    va="center", fontsize=7, color="#333333")
    ax.set_yticks(y, categories, fontsize=8.5)
    ax.invert_yaxis()
    ax.set_xlabel(unit, fontsize=8.5)
    ax.set_xlim(0, vmax * 1.15)
    ax.xaxis.set_major_formatter(__import__("matplotlib").ticker.FuncFormatter(
        lambda x, _: fmt_number(x, 0 if vmax >= 10 else 1)))
    ax.tick_params(axis="x", labelsize=8)
    for s in ("top", "right"):
        ax.spines[s].set_visible(False)
    ax.grid(axis="x", color="#e5e5e5", linewidth=0.6)
    ax.set_axisbelow(True)
    fig.legend(loc="upper left", bbox_to_anchor=(0.78, 1 - top_in / fig_h), fontsize=8.5, frameon=False)
    fig.text(0.015, 1 - 0.12 / fig_h, title, ha="left", va="top", fontsize=12, fontweight="bold")
    import textwrap

    fig.text(0.015, 0.06 / fig_h, textwrap.fill(f"Source : {source}", 140), ha="left", va="bottom",
             fontsize=7.5, color="#333333")
    return fig


# --- files ------------------------------------------------------------------------------------------------

def _json_default(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return None if math.isnan(o) else float(o)
    if isinstance(o, (np.bool_,)):
        return bool(o)
    if isinstance(o, (pd.Timestamp, _dt.date)):
        return o.isoformat()
    if o is pd.NA:
        return None
    return str(o)


def workbook_bytes(tables: dict[str, dict]) -> bytes:
    """One xlsx workbook: a « Sommaire » sheet (title, source of each table), then one sheet per table.

    Numbers stay numbers (Excel shows them with the reader's French separators); missing values
    are empty cells, never 0.
    """
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="xlsxwriter") as xw:
        wb = xw.book
        bold = wb.add_format({"bold": True})
        wrap = wb.add_format({"text_wrap": True, "valign": "top"})
        summary = pd.DataFrame([{"Feuille": _sheet_name(n, i), "Tableau": t["caption"], "Source": t["source"]}
                                for i, (n, t) in enumerate(tables.items())])
        summary.to_excel(xw, sheet_name="Sommaire", index=False)
        ws = xw.sheets["Sommaire"]
        ws.set_column(0, 0, 28)
        ws.set_column(1, 1, 70, wrap)
        ws.set_column(2, 2, 90, wrap)
        for i, (name, t) in enumerate(tables.items()):
            sheet = _sheet_name(name, i)
            df = t["df"].copy()
            df = df.astype(object).where(pd.notna(df), None)
            df.to_excel(xw, sheet_name=sheet, index=False, startrow=1)
            ws = xw.sheets[sheet]
            ws.write(0, 0, t["caption"], bold)
            ws.write(len(df) + 3, 0, f"Source : {t['source']}")
            for j, col in enumerate(df.columns):
                width = min(max(len(str(col)), 10) + 2, 60)
                d = t["decimals"].get(col)
                fmt = wb.add_format({"num_format": "#,##0" if d == 0 else "#,##0." + "0" * d}) \
                    if d is not None else None
                ws.set_column(j, j, width, fmt)
    return buf.getvalue()


def _sheet_name(name: str, i: int) -> str:
    s = re.sub(r"[\[\]:*?/\\]", "_", name)[:28]
    return s or f"tableau_{i}"
