"""Scenarios on GP supply: what happens to the APL if GPs leave or a new practice opens.

:func:`scenario` recomputes the GP APL of every metropolitan commune with the engine
(:mod:`cpts_diag.apl_engine`) before and after a change of supply, and returns a
:class:`ScenarioResult` for one territory: APL per commune before / after, the population crossing
the 2,5 threshold, the communes outside the territory that are affected, a map of the change.

The engine's own APL is an approximation of the DREES one (see ``bench/apl_validation.py``), so
the headline « after » value of a commune is **the published APL + the simulated change**; the
engine's before / after values are given too. A scenario is a hypothesis: ``remove_gps`` /
``add_gps`` are numbers of GPs, each with the mean activity of the commune's GPs (removal) or the
calibrated activity per GP (addition). GP ages are not in the open data: a departure by age
(``retire_age``) needs a user supply table with an ``age`` column.

Scenario files (YAML, bounded safe load; :class:`~cpts_diag.scenario_spec.ScenarioSpec`)::

    title: "Départ de 4 médecins à Roanne, ouverture d'une MSP de 3 médecins à Riorges"
    remove_gps: {"42187": 4}        # commune code (quoted) → number of GPs leaving
    add_gps: {"42184": 3}           # commune code → number of GPs arriving
    retire_age: 60                  # optional: every GP aged 60+ leaves (needs `supply` with ages)
    supply: offre.csv               # optional user supply table (path relative to this file)
    travel_times: temps.csv         # optional origin–destination table (origin,destination,minutes)
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import apl_inputs as I
from .apl_params import load_parameters
from .errors import APLInputError
from .fmt import csv_fr, fmt_number
from .apl_params import APL_GP_THRESHOLDS
from .scenario_spec import OPTIONS, ScenarioSpec, show_number

__all__ = ["ScenarioSpec", "ScenarioResult", "scenario", "run_spec", "THRESHOLD"]

THRESHOLD = APL_GP_THRESHOLDS[0]  # 2,5 consultations/an/hab. std: a commune is under-served below it
# (strictly, as in the report's indicator « part de la population sous 2,5 »)
MIN_CHANGE = 0.005           # |change| below which a commune outside the territory is not listed


# --- result -------------------------------------------------------------------------------------

@dataclass
class ScenarioResult:
    """APL before / after for one territory (see :func:`scenario`)."""

    territory: object
    spec: ScenarioSpec
    communes: pd.DataFrame      # one row per commune of the territory
    outside: pd.DataFrame       # communes outside the territory whose APL changes
    changes: pd.DataFrame       # the supply changes, per commune
    summary: dict
    sources: dict

    def summary_text(self) -> str:
        """French summary (Markdown); the scenario title and the territory name are escaped
        (:func:`cpts_diag.report.text.esc`) so that they are shown literally."""
        from .report.text import esc

        from .territory_kinds import KINDS

        s = self.summary
        t = self.territory
        forms = KINDS.get(getattr(t, "kind", "cpts"), KINDS["cpts"])
        f2 = lambda x: fmt_number(x, 2)  # noqa: E731
        what = esc(self.spec.title) if self.spec.title else describe_changes(self.changes)
        lines = [f"**Scénario : {what}** — {esc(t.name)}.", ""]
        lines.append(
            f"- Médecins généralistes dans {forms.la} : {fmt_number(s['gps_before'], 0)} avant, "
            f"{fmt_number(s['gps_after'], 0)} après ({self.sources['supply_short']}).")
        lines.append(
            f"- APL moyenne {forms.de_la} (consultations par an et par habitant standardisé) : "
            f"{f2(s['apl_published'])} publiée par la DREES, {f2(s['apl_published_after'])} après "
            f"le scénario (variation simulée {fmt_number(s['apl_change'], 2, signed=True)}).")
        nd, nu = s["n_crossing_down"], s["n_crossing_up"]
        cross = (f"**{fmt_number(s['pop_crossing_down'], 0)} habitants** de {nd} commune"
                 f"{'s' if nd > 1 else ''} passent sous le seuil" if nd else
                 "aucune commune ne passe sous le seuil")
        if nu:
            cross += (f", {fmt_number(s['pop_crossing_up'], 0)} habitants de {nu} commune"
                      f"{'s' if nu > 1 else ''} repassent au-dessus")
        lines.append(
            f"- Population des communes dont l'APL est inférieure à {fmt_number(THRESHOLD, 1)} : "
            f"{fmt_number(s['pop_under_before'], 0)} habitants avant, "
            f"{fmt_number(s['pop_under_after'], 0)} après ; {cross}.")
        lines.append(
            f"- Communes dont l'APL baisse : {s['n_worse']} ; dont elle augmente : {s['n_better']} "
            f"(sur {len(self.communes)}).")
        if s["n_outside"]:
            lines.append(
                f"- Hors {forms.de_la}, {s['n_outside']} commune{'s' if s['n_outside'] > 1 else ''} "
                f"({fmt_number(s['pop_outside'], 0)} habitants) voient aussi leur APL varier "
                f"d'au moins {fmt_number(MIN_CHANGE, 3)}.")
        lines += ["", f"*{self.method_note()}*"]
        return "\n".join(lines)

    def method_note(self) -> str:
        src = self.sources
        return (f"Méthode : APL recalculée par cpts-diag (E2SFCA, paramètres DREES {self.spec.year} : "
                f"{src['decay']}) ; offre : {src['supply']} ; demande : {src['demand']} ; "
                f"{src['travel']}. Valeur « après » = APL publiée par la DREES + variation simulée. "
                f"Population : {src['population']}. Seuil de sous-densité : APL < {fmt_number(THRESHOLD, 1)}."
                + (" Avec des temps de trajet estimés, les effectifs qui franchissent le seuil sont "
                   "des ordres de grandeur (ils varient selon la vitesse retenue)."
                   if src["travel"].startswith("temps de trajet estimés") else ""))

    def figure(self, geo=None, context=None):
        """Map of the simulated change of APL over the territory's communes (the scenario title
        and commune names are shown as text: ``$`` never starts mathtext)."""
        from . import maps
        from .report.text import mpl_safe

        if geo is None or context is None:
            from .loaders import load_territory_polygons

            geo, context = load_territory_polygons(self.territory.communes)
        g = geo[["code_commune", "geometry"]].merge(
            self.communes[["code_commune", "nom", "variation", "population"]], on="code_commune",
            how="left")
        cl = change_classes(g["variation"])
        fig = maps.choropleth(
            g, "variation", title=f"Variation simulée de l'APL aux {load_parameters(self.spec.year).label}",
            legend_title="Consultations par an\net par habitant standardisé", classes=cl,
            source=f"Calcul cpts-diag, moteur APL ; {self.sources['supply']} ; fond : IGN",
            context=context, towns=maps.top_towns(g, "population", 6),
            note="Scénario : " + mpl_safe(self.spec.title or describe_changes(self.changes)))
        self._mark_changes(fig.axes[0])
        return fig

    def _mark_changes(self, ax):
        """Label the communes whose number of GPs changes (« −2 », « +3 ») on the map."""
        pts = I.commune_points().reindex(self.changes["code_commune"])
        for (_, r), (x, y) in zip(self.changes.iterrows(), pts[["x", "y"]].to_numpy()):
            if not (np.isfinite(x) and np.isfinite(y)):
                continue
            d = r["medecins_apres"] - r["medecins_avant"]
            txt = ("+" if d > 0 else "\u2212") + fmt_number(abs(d), 0 if float(d).is_integer() else 1)
            ax.annotate(f"{txt} méd.", (x, y), xytext=(0, 9), textcoords="offset points",
                        ha="center", fontsize=7.5, fontweight="bold", zorder=6,
                        color="#08306b" if d > 0 else "#67000d",
                        bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8})
            ax.plot([x], [y], marker="^" if d > 0 else "v", ms=6, zorder=6,
                    color="#08306b" if d > 0 else "#67000d")

    def save(self, out_dir) -> dict[str, Path]:
        """Write ``scenario_communes.csv``, ``scenario_hors_cpts.csv``, ``scenario_resume.md`` and
        ``scenario_carte.png`` into ``out_dir`` (each written to a temporary file, then renamed)."""
        from .atomic import write_atomic
        from .maps import figure_png

        out = _output_folder(out_dir)
        paths = {"communes": out / "scenario_communes.csv", "outside": out / "scenario_hors_cpts.csv",
                 "summary": out / "scenario_resume.md", "map": out / "scenario_carte.png"}
        fig = self.figure()
        png = figure_png(fig)
        for key, df in (("communes", self.communes), ("outside", self.outside)):
            write_atomic(paths[key], csv_fr(df))
        write_atomic(paths["summary"], self.summary_text() + "\n")
        write_atomic(paths["map"], png)
        return paths


def _output_folder(out_dir) -> Path:
    """The folder of :meth:`ScenarioResult.save` (created), refused if it is a file."""
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        what = "est un fichier, pas un dossier" if out.is_file() else f"ne peut pas être créé ({exc})"
        raise APLInputError(
            f"Dossier de sortie du scénario (--out) {out} : {what}. Correctif : donnez le chemin "
            "d'un dossier (nouveau ou existant), p. ex. --out sorties/scenario.") from None
    return out


def _nice_step(abs_values) -> float:
    """A round class width (at least 0,01) from half the 90th percentile of the values."""
    from .maps import nice_step

    m = float(np.percentile(abs_values, 90)) if len(abs_values) else 0.02
    return max(nice_step(max(m / 2, 0.01)), 0.01)


def change_classes(values):
    """Classes of an APL change, left-closed like every map: a neutral « quasi nulle » class
    (|change| < MIN_CHANGE) between three decreasing (warm) and three increasing (cool) classes,
    each side with its own round width; labels « moins de −x », « de x à moins de y », « y ou plus »."""
    from . import maps

    v = pd.to_numeric(pd.Series(values), errors="coerce").dropna()
    neg, pos = _nice_step(-v[v <= -MIN_CHANGE]), _nice_step(v[v >= MIN_CHANGE])
    b = [-2 * neg, -neg, -MIN_CHANGE, MIN_CHANGE, pos, 2 * pos]
    labels = maps.class_labels(b, decimals=3, signed=True)
    labels[3] += " — quasi nulle"
    colors = ["#b2182b", "#ef8a62", "#fddbc7", "#f7f7f7", "#d1e5f0", "#67a9cf", "#2166ac"]
    cl = maps.make_classes(values, scheme="user", bounds=b, labels=labels, colors=colors,
                           direction="higher_is_better")
    cl.method = (f"variation simulée de l'APL : classe « quasi nulle » sous {fmt_number(MIN_CHANGE, 3)} "
                 "en valeur absolue, trois classes de baisse et trois de hausse de largeur ronde")
    cl.centre, cl.centre_source = 0.0, "aucune variation"
    return cl


def describe_changes(changes: pd.DataFrame) -> str:
    """« retrait de 3 médecins à Roanne ; ajout de 2 médecins à Mably »."""
    parts = []
    for _, r in changes.iterrows():
        d = r["medecins_apres"] - r["medecins_avant"]
        if abs(d) < 1e-9:
            continue
        n = fmt_number(abs(d), 0 if float(abs(d)).is_integer() else 1)
        parts.append(f"{'retrait' if d < 0 else 'ajout'} de {n} médecin{'s' if abs(d) > 1 else ''}"
                     f" à {r['nom']}")
    return " ; ".join(parts) or "aucun changement"


# --- the computation ----------------------------------------------------------------------------

def _changed_codes(spec: ScenarioSpec, key: str, universe, territory) -> pd.Series:
    """The COG 2025 codes of ``spec.<key>`` (``remove_gps`` / ``add_gps``), each checked to be a
    commune of the universe and of the territory's perimeter (``territory``: None skips it)."""
    label = f"{key} / {OPTIONS[key]}"
    codes = I.harmonise_codes(pd.Series(list(getattr(spec, key))), universe, label)
    if territory is not None:
        outside = [c for c in dict.fromkeys(codes) if c not in set(territory.communes)]
        if outside:
            raise APLInputError(
                f"{label} : commune(s) {', '.join(outside)} hors du périmètre de "
                f"{territory.name} ({territory.id}, {len(territory.communes)} communes) : un "
                "scénario ne modifie que l'offre des communes de son périmètre. Correctif : donnez "
                f"des communes du périmètre (liste : cpts-diag indicators {territory.id}), ou "
                "simulez sur le territoire qui contient ces communes.")
    return codes


def _apply_changes(base: I.SupplyTable, spec: ScenarioSpec, params, universe,
                   territory=None) -> I.SupplyTable:
    """The supply after the scenario's departures (by age, then by commune) and arrivals."""
    rows = base.rows.copy()
    if spec.retire_age is not None:
        rows = base.without_age(spec.retire_age).rows.copy()
    if spec.remove_gps:
        codes = _changed_codes(spec, "remove_gps", universe, territory)
        n_by = pd.Series(list(spec.remove_gps.values()), index=codes.to_numpy()).groupby(level=0).sum()
        have = rows.groupby("code_commune")["medecins"].sum()
        for code, n in n_by.items():
            avail = float(have.get(code, 0.0))
            if n > avail + 1e-9:
                raise APLInputError(
                    f"remove_gps / --remove : la commune {code} compte {show_number(avail)} "
                    f"médecin(s) dans l'offre ({base.source})"
                    f"{' après les départs par âge' if spec.retire_age is not None else ''} : "
                    f"impossible d'en retirer {show_number(n)}. "
                    f"Correctif : retirez au plus {show_number(avail)} médecin(s), ou donnez une "
                    "table d'offre (--supply, champ supply) avec l'effectif réel.")
            k = rows["code_commune"] == code
            rows.loc[k, "medecins"] = rows.loc[k, "medecins"] * ((avail - n) / avail)
    if spec.add_gps:
        codes = _changed_codes(spec, "add_gps", universe, territory)
        add = pd.DataFrame({"code_commune": codes.to_numpy(), "medecins": list(spec.add_gps.values()),
                            "activite": params.activity_per_gp, "age": np.nan})
        rows = pd.concat([rows, add], ignore_index=True)
    return I.SupplyTable(rows, base.source)


def _check_retire_age_supply(spec: ScenarioSpec, supply) -> None:
    """A departure by age needs the user's supply table: the open data have no GP ages."""
    if spec.retire_age is not None and supply is None:
        raise APLInputError(
            f"retire_age / --retire-age = {show_number(spec.retire_age)} : un départ par âge "
            "demande une table d'offre avec une colonne « age » (option --supply de la ligne de "
            "commande, champ supply du fichier de scénario, argument supply= en Python) ; les "
            "données ouvertes (BPE) ne donnent pas l'âge des médecins. Correctif : donnez "
            "--supply offre.csv (colonnes code_commune, medecins, activite, age), ou indiquez les "
            "départs par commune avec --remove CODE:N (remove_gps).")


def scenario(territory, remove_gps: dict | None = None, add_gps: dict | None = None, *,
             retire_age: float | None = None, supply=None, travel_times=None, year: int = 2023,
             title: str = "", demand: str = "pop_std") -> ScenarioResult:
    """Simulate a change of GP supply and return the APL before / after for ``territory``.

    ``territory``: a CPTS id or a :class:`~cpts_diag.territory.Territory`. ``remove_gps`` /
    ``add_gps``: ``{"42187": 3}`` (commune code → number of GPs). ``retire_age``: every GP of that
    age or older leaves (needs ``supply`` with ages). ``supply``: a user supply table (CSV path or
    :class:`~cpts_diag.apl_inputs.SupplyTable`; default BPE 2024 × calibrated activity).
    ``travel_times``: a user origin–destination CSV or :class:`~cpts_diag.apl_inputs.TravelTimes`
    (default: from commune points). The computation covers all of metropolitan France, so effects
    across the CPTS border are counted.
    """
    spec = ScenarioSpec.from_mapping(
        {"title": title, "remove_gps": remove_gps, "add_gps": add_gps, "retire_age": retire_age,
         "year": year}, where="scenario")
    return _run(territory, spec, supply=supply, travel_times=travel_times, demand=demand)


def run_spec(territory, spec, demand: str = "pop_std", travel_times=None) -> ScenarioResult:
    """Run a scenario on ``territory``: a :class:`ScenarioSpec`, a mapping (the keys of a scenario
    file) or the path of a scenario YAML file.

    ``travel_times`` (a :class:`~cpts_diag.apl_inputs.TravelTimes` or CSV path) overrides the
    spec's own (e.g. for a sensitivity analysis)."""
    spec = ScenarioSpec.coerce(spec)
    return _run(territory, spec, supply=spec.supply, demand=demand,
                travel_times=travel_times if travel_times is not None else spec.travel_times)


def _run(territory, spec: ScenarioSpec, supply=None, travel_times=None,
         demand: str = "pop_std") -> ScenarioResult:
    from .apl_validation import published_apl
    from .loaders import load_communes
    from .territory import Territory

    terr = Territory.load(territory) if isinstance(territory, str) else territory
    if not (spec.remove_gps or spec.add_gps or spec.retire_age is not None):
        raise APLInputError("Scénario vide : aucun départ ni arrivée de médecin. Correctif : donnez "
                            "remove_gps (--remove), add_gps (--add) ou retire_age (--retire-age), "
                            'p. ex. remove_gps: {"42187": 3} ou --remove 42187:3.')
    _check_retire_age_supply(spec, supply)
    params = load_parameters(spec.year)
    model = _model(spec, params, travel_times, demand)
    universe = model.codes
    outside_universe = sorted(set(terr.communes) - set(universe))
    if outside_universe:
        raise APLInputError(
            f"Table des temps de trajet (travel_times / --od) : {len(outside_universe)} commune(s) "
            f"de {terr.id} n'y figurent pas : {', '.join(outside_universe[:8])}"
            f"{' …' if len(outside_universe) > 8 else ''}. Correctif : ajoutez ces communes "
            "(origin, destination) à la table, ou retirez l'option --od pour les temps estimés.")
    base = _base_supply(supply, params, universe)
    after = _apply_changes(base, spec, params, universe, terr)

    before_apl = model.compute(base)
    after_apl = model.compute(after)
    change = (after_apl - before_apl).where(lambda s: s.abs() > 1e-12, 0.0)
    pub = published_apl(spec.year).reindex(model.index)
    apl = {"apl_publiee": pub, "apl_moteur_avant": before_apl, "apl_moteur_apres": after_apl,
           "variation": change, "apl_publiee_apres": (pub + change).clip(lower=0.0)}

    com = load_communes().set_index("code_commune")
    codes = pd.Index(terr.communes)
    gps_b = base.gps_by_commune().reindex(model.index).fillna(0.0)
    gps_a = after.gps_by_commune().reindex(model.index).fillna(0.0)
    pop = model.population.reindex(model.index)
    table = _territory_table(codes, com, pop, gps_b, gps_a, apl)
    outside = _outside_table(model.index, codes, com, pop, apl)
    changed = (gps_a - gps_b).abs() > 1e-9
    ch = model.index[changed]
    changes = pd.DataFrame({"code_commune": ch, "nom": com["nom"].reindex(ch).to_numpy(),
                            "medecins_avant": gps_b[changed].to_numpy(),
                            "medecins_apres": gps_a[changed].to_numpy()})
    w = pd.Series(model.demand, index=model.index).reindex(codes)
    summary = _summary(table, outside, apl, gps_b.reindex(codes), gps_a.reindex(codes), w,
                       terr.id, spec.year)
    sources = {"decay": params.decay_text(), "supply": after.source,
               "supply_short": (f"adresses d'exercice, BPE {params.bpe_year}" if supply is None
                                else "table d'offre fournie"),
               "demand": model.demand_source or "population standardisée DREES",
               "travel": model.travel_times.source,
               "population": (f"population totale DREES {params.population_year}" if demand == "pop_std"
                              else "population RP 2022")}
    return ScenarioResult(terr, spec, table, outside.reset_index(drop=True), changes, summary, sources)


def _model(spec: ScenarioSpec, params, travel_times, demand: str):
    """The APL model of ``spec.year``: the default one, or one on the user's travel times."""
    if travel_times is None:
        return I.default_model(spec.year, demand)
    tt = travel_times if isinstance(travel_times, I.TravelTimes) else \
        I.read_travel_times(travel_times, max_minutes=params.max_minutes)
    return I.APLModel(tt, I.demand_table(spec.year, demand), params)


def _base_supply(supply, params, universe) -> I.SupplyTable:
    """The supply before the scenario: the user's table (or CSV path), else BPE × activity."""
    if isinstance(supply, I.SupplyTable):
        return supply
    if supply is not None:
        return I.read_supply(supply, params, universe)
    return I.supply_from_bpe(params, universe)


def _by_abs_variation(df: pd.DataFrame) -> pd.DataFrame:
    """Rows sorted by decreasing |variation| (stable: ties keep their order)."""
    return df.iloc[np.argsort(-df["variation"].abs().to_numpy(), kind="stable")]


def _territory_table(codes: pd.Index, com: pd.DataFrame, pop: pd.Series, gps_b: pd.Series,
                     gps_a: pd.Series, apl: dict[str, pd.Series]) -> pd.DataFrame:
    """One row per commune of the territory, most affected first (decrease or increase)."""
    table = pd.DataFrame({
        "code_commune": codes, "nom": com["nom"].reindex(codes).to_numpy(),
        "population": pop.reindex(codes).to_numpy(),
        "medecins_avant": gps_b.reindex(codes).to_numpy(), "medecins_apres": gps_a.reindex(codes).to_numpy(),
        **{k: apl[k].reindex(codes).to_numpy() for k in
           ("apl_publiee", "apl_moteur_avant", "apl_moteur_apres", "variation", "apl_publiee_apres")}})
    return _by_abs_variation(table).reset_index(drop=True)


def _outside_table(index: pd.Index, codes: pd.Index, com: pd.DataFrame, pop: pd.Series,
                   apl: dict[str, pd.Series]) -> pd.DataFrame:
    """Communes outside the territory whose APL changes by at least MIN_CHANGE."""
    oc = index[(apl["variation"].abs() >= MIN_CHANGE) & ~index.isin(codes)]
    outside = pd.DataFrame({
        "code_commune": oc, "nom": com["nom"].reindex(oc).to_numpy(),
        "dep": com["dep"].reindex(oc).to_numpy(), "population": pop.reindex(oc).to_numpy(),
        **{k: apl[k].reindex(oc).to_numpy() for k in ("apl_publiee", "variation", "apl_publiee_apres")}})
    return _by_abs_variation(outside)


def _summary(table: pd.DataFrame, outside: pd.DataFrame, apl: dict[str, pd.Series], gps_b: pd.Series,
             gps_a: pd.Series, w: pd.Series, terr_id: str, year: int) -> dict:
    """Headline figures of the territory (``w``: demand weights of its communes)."""
    codes = w.index
    wmean = lambda s: float((s.reindex(codes) * w).sum() / w.sum()) if w.sum() > 0 else np.nan  # noqa: E731
    t = table.dropna(subset=["apl_publiee"])
    if len(t) < len(table):
        warnings.warn(f"{len(table) - len(t)} commune(s) de {terr_id} sans APL publiée {year} : "
                      "elles sont exclues des effectifs sous le seuil.", stacklevel=3)
    under_b = t["apl_publiee"] < THRESHOLD
    under_a = t["apl_publiee_apres"] < THRESHOLD
    down, up = ~under_b & under_a, under_b & ~under_a
    eng_down = (t["apl_moteur_avant"] >= THRESHOLD) & (t["apl_moteur_apres"] < THRESHOLD)
    return {
        "gps_before": float(gps_b.sum()), "gps_after": float(gps_a.sum()),
        "apl_published": wmean(apl["apl_publiee"]), "apl_published_after": wmean(apl["apl_publiee_apres"]),
        "apl_engine_before": wmean(apl["apl_moteur_avant"]),
        "apl_engine_after": wmean(apl["apl_moteur_apres"]), "apl_change": wmean(apl["variation"]),
        "pop_under_before": float(t.loc[under_b, "population"].sum()),
        "pop_under_after": float(t.loc[under_a, "population"].sum()),
        "pop_crossing_down": float(t.loc[down, "population"].sum()), "n_crossing_down": int(down.sum()),
        "pop_crossing_up": float(t.loc[up, "population"].sum()), "n_crossing_up": int(up.sum()),
        "pop_crossing_down_engine": float(t.loc[eng_down, "population"].sum()),
        "n_worse": int((table["variation"] < -1e-9).sum()), "n_better": int((table["variation"] > 1e-9).sum()),
        "n_outside": len(outside), "pop_outside": float(outside["population"].sum()),
    }
