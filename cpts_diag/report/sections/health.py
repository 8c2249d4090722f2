"""4. État de santé de la population: what the open data give, each at the geography where it is
published (said in the text), the CPTS's own tables, and one box with what the open data do not
give and where a CPTS gets it.

- 4.1 vaccination coverage (Santé publique France) of the CPTS's département(s), région(s), France;
- 4.2 standardised mortality of the département(s) (no région / France rows in the source);
- 4.3 bassins de vie overlapping the CPTS: share of the CPTS population in each, ALD share, deaths,
  practitioner densities (CartoSanté: practitioners, beside the BPE's places of practice); a
  CPTS-level estimate only where the bassins de vie cover the CPTS well;
- 4.4 crude mortality of the EPCIs (INSEE, 2013-2018);
- 4.5 the CPTS's own tables (small numbers protected); the box.
Data: :mod:`cpts_diag.health_status` (pure functions over :mod:`cpts_diag.loaders_health`)."""
from __future__ import annotations

import pandas as pd

from ... import health_status as H
from ...fmt import fmt_number, fmt_percent, fmt_signed
from .. import blocks as B
from ..text import esc, join_fr
from ._titles import heading, sub
from .health_gaps import gaps_note
from .health_user import build_user_tables

SRC_VACC = "Santé publique France, couvertures vaccinales des adolescents et adultes (Géodes / Odissé), 2011-2024"
SRC_MORT = "CépiDc-Inserm / Odissé, taux standardisés de mortalité par département, 2010-2023"
SRC_BV = ("ARS / ATIH, CartoSanté, indicateurs par bassin de vie 2024 ; Insee, statistiques locales "
          "par bassin de vie ; Insee, RP 2022 et COG 2025 (bassins de vie 2022)")
SRC_CRUDE = "Insee, séries historiques du recensement et état civil, taux brut de mortalité 2013-2018"
#: The data sources of this section (cpts_diag.sources ids), listed in « Sources et millésimes ».
SOURCE_IDS = ("vaccination_spf", "mortality_standardised", "mortality_crude", "cartosante_bv",
              "bv_local_stats")
#: A CPTS-level estimate from the bassins de vie needs this share of its population in bassins de
#: vie whose population lives mostly (more than half) in the CPTS.
MIN_FIT = 0.8
FLU_65 = "Grippe, 65 ans et plus"


def _intro(ctx) -> B.Text:
    return B.Text(
        "Les données ouvertes sur l'état de santé ne descendent pas à la commune. Cette section les "
        "donne à l'échelle où elles sont publiées, et le dit à chaque fois : le **département** "
        "(couverture vaccinale, mortalité standardisée), le **bassin de vie** (affections de longue "
        "durée, décès, densités de praticiens), l'**EPCI** (mortalité brute). Aucune de ces valeurs "
        f"n'est celle {ctx.de_la}, sauf l'estimation signalée comme telle en 4.3.")


def _vaccination(ctx) -> list:
    table = H.vaccination_for(ctx.territory, ctx.health())
    if table.empty:
        return [sub("4.1 Couverture vaccinale"), B.Note("Couverture vaccinale : n.d. (aucun "
                                                           f"département {ctx.de_la} dans la source).")]
    latest = H.vaccination_latest(table)
    names = latest.attrs["territoires"]
    keys = list(names)
    df = latest[["libelle", "annee", *keys]].rename(columns={"libelle": "Indicateur", "annee": "Année",
                                                             **names})
    df["Année"] = df["Année"].astype("Int64").astype(str)
    first = keys[0]
    df[f"Évolution sur 5 ans, {names[first]} (points)"] = latest[f"evol_{first}"]
    df = df[[c for c in df.columns if c != "Année"] + ["Année"]]  # the year last: a label column
    flu = latest[latest["libelle"] == FLU_65]
    text = ""
    if len(flu):
        r = flu.iloc[0]
        others = join_fr([f"{esc(names[k])} : {fmt_percent(r[k])}" for k in keys[1:]])
        evo = r[f"evol_{first}"]
        trend = ("" if pd.isna(evo) else
                 f", soit {fmt_signed(evo, 1)} point{'s' if abs(evo) >= 2 else ''} en 5 ans")
        n = esc(names[first])
        where = {"departement": f"dans le département ({n})", "region": f"dans la région ({n})"}.get(
            first.split("_")[0], f"en {n}")
        text = (f"En {int(r['annee'])}, **{fmt_percent(r[first])}** des personnes de 65 ans ou plus "
                f"étaient vaccinées contre la grippe {where}{trend} ; {others}. ")
    text += ("Ces couvertures sont celles des départements et régions "
             f"{ctx.de_la}, publiées par Santé publique France : il n'en existe aucune à l'échelle de la "
             f"commune ni {ctx.de_la}. L'objectif de santé publique pour la grippe est de 75 % (OMS).")
    return [sub("4.1 Couverture vaccinale (département, région, France)"), B.Text(text),
            _flu_chart(table),
            B.Table("sante_vaccination", df, "Couverture vaccinale, dernière année publiée (%)",
                    SRC_VACC, decimals={c: 1 for c in df.columns if c not in ("Indicateur", "Année")})]


def _flu_chart(table: pd.DataFrame) -> B.Figure:
    from matplotlib.figure import Figure

    from ..charts import PALETTE
    from ..text import mpl_safe

    flu = table[table["libelle"] == FLU_65]
    fig = Figure(figsize=(8.6, 3.6), dpi=100)
    ax = fig.add_axes((0.08, 0.16, 0.62, 0.72))
    for k, (name, g) in enumerate(flu.groupby("territoire", sort=False)):
        g = g.sort_values("annee")
        ax.plot(g["annee"], g["valeur"], marker="o", ms=3, color=PALETTE[k % len(PALETTE)],
                label=mpl_safe(name))
    ax.axhline(75, color="#999999", lw=0.8, ls="--")
    ax.text(ax.get_xlim()[0], 75.6, "objectif 75 %", fontsize=7, color="#666666")
    ax.set_ylabel("% des 65 ans ou plus vaccinés", fontsize=8)
    ax.set_title("Couverture vaccinale contre la grippe des 65 ans ou plus", fontsize=10, loc="left")
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1))
    ax.tick_params(labelsize=7)
    fig.text(0.01, 0.01, f"Source : {mpl_safe(SRC_VACC)}", fontsize=6.5, color="#555555")
    return B.Figure("sante_grippe_65", fig, {"title": "Couverture vaccinale grippe 65 ans et plus",
                                              "source": SRC_VACC, "vintage": "2011-2024",
                                              "geography": "département, région, France"})


def _mortality(ctx) -> list:
    m = H.mortality_for(ctx.territory, ctx.health())
    if m.empty:
        return [sub("4.2 Mortalité"), B.Note("Mortalité standardisée : n.d. pour ces départements.")]
    deps = dict(ctx.levels("departement"))
    wide = m.pivot(index="annee", columns="departement", values="valeur").sort_index()
    last = int(wide.index.max())
    parts = [f"{esc(deps.get(d, d))} : **{fmt_number(wide.at[last, d], 1)}**" for d in wide.columns]
    first = int(wide.index.min())
    trend = join_fr([f"{esc(deps.get(d, d))} : {fmt_number(wide.at[first, d], 1)} en {first}"
                     for d in wide.columns if not pd.isna(wide.at[first, d])])
    text = (f"Taux standardisé de mortalité toutes causes en {last}, pour 100 000 habitants "
            f"(département{'s' if len(parts) > 1 else ''}) : {join_fr(parts)} ({trend} ; série "
            "annuelle dans les tableaux du rapport). Le taux standardisé neutralise les différences "
            "de structure par âge. " + H.NOTE_MORTALITY_AGGREGATES)
    wide.columns = [deps.get(c, c) for c in wide.columns]
    wide = wide.reset_index().rename(columns={"annee": "Année"})
    wide["Année"] = wide["Année"].astype(str)
    causes = H.mortality_by_cause_for(ctx.territory, last, ctx.health())
    causes = causes[causes["sexe"] == "Tous sexes"].drop(columns=["numero", "sexe"])
    causes = causes.rename(columns={"cause": "Cause de décès", **deps})
    return [sub("4.2 Mortalité standardisée (département)"), B.Text(text),
            B.Table("sante_mortalite", wide, "Taux standardisé de mortalité toutes causes, pour "
                    "100 000 habitants", SRC_MORT, decimals={c: 1 for c in wide.columns[1:]},
                    in_page=False),
            B.Table("sante_mortalite_causes", causes, f"Taux standardisé de mortalité par cause en "
                    f"{last}, tous sexes, pour 100 000 habitants", SRC_MORT,
                    decimals={c: 1 for c in causes.columns[1:]}, printed=False)]


def bv_fit(overlap: pd.DataFrame) -> float:
    """Share of the CPTS population living in bassins de vie whose population lives mostly
    (more than half) in the CPTS (0–1)."""
    total = overlap["population_cpts"].sum()
    inside = overlap.loc[overlap["part_bv_dans_cpts"] > 50, "population_cpts"].sum()
    return float(inside / total) if total else float("nan")


def _bv(ctx) -> list:
    ov = H.bv_overlap_for(ctx.territory, ctx.health())
    if ov.empty:
        return []
    fit = bv_fit(ov)
    est = H.bv_estimate(ov, "part_ald_2024")
    ok = est["value"] is not None and not pd.isna(est["value"]) and fit >= MIN_FIT
    fit_txt = (f"{fmt_percent(100 * fit)} de la population {ctx.de_la} vit dans un bassin de vie "
               f"majoritairement inclus dans {ctx.la}")
    if ok:
        ald = (f"Estimation pour {ctx.la} : **{fmt_percent(est['value'])}** de la population en "
               f"ALD en 2024 ({esc(est['method'])} ; {fit_txt}).")
    else:
        ald = (f"Pas d'estimation de la part en ALD pour {ctx.la} : les bassins de vie la couvrent "
               f"mal ({fit_txt} ; au moins {fmt_percent(100 * MIN_FIT, 0)} requis).")
    gp = ctx.val("density_gp_bpe2024")
    gp_est = H.bv_estimate(ov, "densite_mg_lib_2024")
    dens = ""
    if ok and not pd.isna(gp_est["value"]):
        dens = (f" La densité de **médecins généralistes libéraux** (praticiens, CartoSanté) des bassins "
                f"de vie, pondérée de la même façon, est de {fmt_number(gp_est['value'], 1)} pour 10 000 "
                f"habitants, à rapprocher des {fmt_number(gp, 1)} **lieux d'exercice** pour 10 000 "
                "habitants recensés par la BPE (section 5.1) : un praticien peut exercer en plusieurs "
                "lieux, et un lieu réunir plusieurs praticiens.")
    text = (f"{ctx.La} s'étend sur {len(ov)} bassins de vie ; le tableau donne la part de sa "
            "population qui vit dans chacun et la part de chaque bassin de vie qui est dans "
            f"{ctx.la}. Les valeurs sont celles du bassin de vie **entier**. {ald}{dens} "
            + H.NOTE_BV_ESTIMATE)
    cols = {"libelle_bv": "Bassin de vie", "communes_cpts": f"Communes {ctx.de_la}",
            "part_population_cpts": f"Part de la population {ctx.de_la} (%)",
            "part_bv_dans_cpts": f"Part du bassin de vie dans {ctx.la} (%)",
            "part_ald_2024": "Part de la population en ALD 2024 (%)",
            "deces_2024": "Décès domiciliés 2024",
            "densite_mg_lib_2024": "Médecins généralistes libéraux pour 10 000 hab. 2024",
            "densite_infirmiers_lib_2024": "Infirmiers libéraux pour 10 000 hab. 2024",
            "apl_mg_2023": "APL médecins généralistes 2023"}
    cols = {k: v for k, v in cols.items() if k in ov.columns}
    df = ov[list(cols)].rename(columns=cols)
    secret = ov.loc[ov["secret"].fillna("").astype(str).str.len() > 0, ["libelle_bv", "secret"]]
    label = {k: v.split(" (")[0] for k, v in cols.items()}
    notes = [f"{r.libelle_bv} : " + ", ".join(label.get(c.strip(), c.strip()) for c in r.secret.split(","))
             + " sous secret statistique (n.d.)." for r in secret.itertuples()]
    dec = {v: (0 if k in ("communes_cpts", "deces_2024") else 1) for k, v in cols.items() if k != "libelle_bv"}
    return [sub("4.3 Bassins de vie : affections de longue durée, décès, praticiens"), B.Text(text),
            B.Table("sante_bassins_de_vie", df, f"Bassins de vie {ctx.de_la} (valeurs du bassin de "
                    "vie entier)", SRC_BV, decimals=dec, notes=notes)]


def _crude(ctx) -> list:
    cr = H.crude_mortality_for(ctx.territory, ctx.health())
    if cr.empty:
        return []
    levels = {"epci": "EPCI", "departement": "Département", "region": "Région"}
    df = pd.DataFrame({"Territoire": cr["libelle"], "Niveau": cr["niveau"].map(levels),
                       "Période": cr["periode"],
                       "Taux brut de mortalité (pour 1 000 hab. par an)": cr["taux_mortalite_pour_1000"]})
    missing = cr.attrs.get("epci_sans_correspondance") or []
    notes = [H.NOTE_CRUDE_MORTALITY] + ([f"EPCI absents de la source (codes 2018) : {', '.join(missing)}."]
                                        if missing else [])
    return [sub("4.4 Mortalité brute des EPCI"),
            B.Text("Le taux brut (décès rapportés à la population, sans correction de l'âge) est plus "
                   "élevé là où la population est plus âgée : il décrit la charge de décès du territoire, "
                   "pas un risque ; le comparer d'un EPCI à l'autre demande de regarder l'indice de "
                   "vieillissement (section 2.2)."),
            B.Table("sante_mortalite_epci", df, "Taux brut de mortalité, 2013-2018", SRC_CRUDE,
                    decimals={df.columns[-1]: 1}, notes=notes)]


def build(ctx) -> list:
    if ctx.health() is None:
        open_data = [B.Note("Les fichiers de santé du jeu de données (couverture vaccinale, mortalité, "
                            "bassins de vie : contrat de données, § 7) ne sont pas installés : parties "
                            "4.1 à 4.4 n.d. Correctif : cpts-diag data install --from ../shared/opendata.",
                            kind="warning")]
    else:
        open_data = [_intro(ctx), *_vaccination(ctx), *_mortality(ctx), *_bv(ctx), *_crude(ctx)]
    return [heading("sante"), *open_data, *build_user_tables(ctx), gaps_note(ctx)]


__all__ = ["build", "bv_fit", "MIN_FIT"]
