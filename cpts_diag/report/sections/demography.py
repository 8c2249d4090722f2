"""2. Démographie: age structure, ageing, population change and density."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ...fmt import NNBSP, fmt_number, is_missing
from .. import blocks as B
from ..compare import compare_table, level_table
from ..figures import bars, commune_map
from ..readings import MIN_POPULATION_EXTREMES, qualifier, small_commune_flag
from ..text import esc, mpl_safe, plural, verb
from ._titles import heading, sub


def age_blocks(ctx) -> list:
    from ... import indicators as ind

    s = (f"Les moins de 15 ans représentent {ctx.pct('share_age_0_14_2022')} de la population et les "
         f"15-24 ans {ctx.pct('share_age_15_24_2022')}. Les 65 ans ou plus en représentent "
         f"**{ctx.pct('share_65p_2022')}** ({ctx.comparison('share_65p_2022')}), dont "
         f"{ctx.pct('share_75p_2022')} de 75 ans ou plus ({ctx.comparison('share_75p_2022')}).")
    a = ind.age_structure(ctx.territory, ctx.tidy)
    series = []
    for lv, cd, nm in ctx.comparators():
        d = a[(a["level"] == lv) & (a["code"] == cd)].sort_values("order")
        label = mpl_safe(ctx.territory.name) if lv == "territory" else nm
        series.append((label, d["share"].to_numpy(dtype=float)))
    bands = [lab for _, lab in ind.AGE_BANDS]
    ids = [f"share_age_{b}_2022" for b, _ in ind.AGE_BANDS if f"share_age_{b}_2022" in ctx.registry]
    tab = pd.DataFrame({"Tranche d'âge": bands,
                        **{label.replace("\\$", "$") + " (%)": vals for label, vals in series}})
    return [sub("2.1 Structure par âge"), B.Text(s + "\n\n*Effectifs par âge estimés à partir des "
                                                 "parts publiées par IRIS (voir Sources).*"),
            bars(ctx, "structure_age", bands, series, title="Structure par âge de la population en 2022",
                 unit="Part de la population (%)", ids=ids or ["share_65p_2022"]),
            B.Table("structure_age", tab, "Structure par âge en 2022 (part de la population, %)",
                    ctx.caption("share_65p_2022"), decimals={c: 1 for c in tab.columns[1:]})]


def extremes_text(ctx, column: str, decimals: int = 1) -> str:
    """Lowest and highest commune values, small communes flagged."""
    c = ctx.communes.dropna(subset=[column])
    if len(c) < 2:
        return ""
    lo, hi = c.loc[c[column].idxmin()], c.loc[c[column].idxmax()]
    s = (f"Selon les communes, il va de {fmt_number(lo[column], decimals)} ({esc(lo.nom)}"
         f"{small_commune_flag(lo.population_2022)}) à {fmt_number(hi[column], decimals)} "
         f"({esc(hi.nom)}{small_commune_flag(hi.population_2022)}).")
    big = c[c["population_2022"] >= MIN_POPULATION_EXTREMES]
    if len(big) >= 2 and len(big) < len(c):
        blo, bhi = big.loc[big[column].idxmin()], big.loc[big[column].idxmax()]
        s += (f" Parmi les communes de {fmt_number(MIN_POPULATION_EXTREMES, 0)} habitants ou plus, "
              f"il va de {fmt_number(blo[column], decimals)} ({esc(blo.nom)}) à "
              f"{fmt_number(bhi[column], decimals)} ({esc(bhi.nom)}).")
    if small_commune_flag(lo.population_2022) or small_commune_flag(hi.population_2022):
        s += (f" Une valeur « fragile » est celle d'une commune de moins de "
              f"{fmt_number(MIN_POPULATION_EXTREMES, 0)} habitants : elle repose sur peu de personnes.")
    return s


def ageing_blocks(ctx) -> list:
    iid = "ageing_index_2022"
    word = qualifier(ctx.val(iid), ctx.val(iid, "departement"), ctx.unit(iid), feminine=True)
    s = [f"L'indice de vieillissement atteint **{ctx.num(iid)}** personnes de 65 ans ou plus pour "
         f"100 jeunes de moins de 20 ans ({ctx.comparison(iid)})."]
    if word:
        s.append(f"Cette valeur est {word} {'de' if word == 'proche' else 'à'} celle du département "
                 f"({ctx.main_dep_name}).")
    s.append(extremes_text(ctx, iid))
    nmiss = int(ctx.communes[iid].isna().sum())
    if nmiss:
        s.append(f"L'indice n'est pas disponible pour {plural(nmiss, 'commune')} (hachurées sur la carte).")
    s.append(f"Les 80 ans ou plus vivant seuls représentent {ctx.txt('share_80p_alone_2022')} des "
             f"80 ans ou plus ({ctx.comparison('share_80p_alone_2022', with_unit=True)}).")
    return [sub("2.2 Vieillissement"),
            B.Text("L'indice de vieillissement rapporte le nombre de personnes de 65 ans ou plus à "
                   "celui des moins de 20 ans (× 100) : au-delà de 100, les aînés sont plus nombreux "
                   "que les jeunes."),
            B.Text(" ".join(x for x in s if x)),
            commune_map(ctx, iid, "Indice de vieillissement par commune, 2022",
                        "Personnes de 65 ans ou plus\npour 100 de moins de 20 ans", "carte_indice_vieillissement"),
            level_table(ctx, [iid, "share_75p_2022", "share_80p_alone_2022"], "vieillissement_epci",
                        f"Vieillissement par EPCI (partie dans {ctx.la}) et territoires de comparaison")]


def population_text(ctx) -> str:
    g = ctx.val("pop_growth_2016_2022")
    c = ctx.communes.dropna(subset=["pop_growth_2016_2022"])
    up, down = int((c["pop_growth_2016_2022"] > 0).sum()), int((c["pop_growth_2016_2022"] < 0).sum())
    if is_missing(g):
        s = [f"L'évolution de la population entre 2016 et 2022 n'est pas calculable pour {ctx.la} "
             "(population 2016 non diffusée pour ses communes)."]
    else:
        how = "augmenté" if g > 0 else ("diminué" if g < 0 else "stagné")
        word = qualifier(g, ctx.val("pop_growth_2016_2022", "france_metro"), "% par an", feminine=True)
        s = [f"Entre 2016 et 2022, la population {ctx.de_la} a {how} de "
             f"**{fmt_number(abs(g), 2)}{NNBSP}% par an** en moyenne (en % par an : "
             f"{ctx.comparison('pop_growth_2016_2022')}), pour atteindre {ctx.txt('population_2022')} "
             "habitants" + (f" contre {ctx.txt('population_2016')} en 2016." if not is_missing(
                 ctx.val("population_2016")) else ".")]
        if word:
            s.append(f"Cette évolution est {word} {'de' if word == 'proche' else 'à'} celle de la "
                     "France métropolitaine.")
    s.append(f"{plural(up, 'commune')} {verb(up, 'gagne', 'gagnent')} des habitants et "
             f"{plural(down, 'commune')} en {verb(down, 'perd', 'perdent')}.")
    r = ctx.row("pop_growth_2016_2022")
    if r and not is_missing(r.get("n_missing")) and r["n_missing"] > 0:
        s.append(f"L'évolution n'est pas calculable pour {plural(int(r['n_missing']), 'commune')} "
                 "(population 2016 non diffusée sur le territoire actuel de la commune) : elles sont "
                 "exclues du calcul et hachurées sur la carte.")
    return " ".join(s)


def build(ctx) -> list:
    ids = ["population_2011", "population_2016", "population_2022", "pop_growth_2011_2016",
           "pop_growth_2016_2022", "density_2022"]
    return [heading("demographie"), *age_blocks(ctx), *ageing_blocks(ctx),
            sub("2.3 Évolution et répartition de la population"),
            B.Text(population_text(ctx)),
            compare_table(ctx, ids, "population", "Population et évolution",
                          note="Évolutions en % par an (taux annuel moyen)."),
            commune_map(ctx, "pop_growth_2016_2022", "Évolution annuelle moyenne de la population, 2016-2022",
                        "Taux annuel moyen (% par an)", "carte_evolution_population"),
            commune_map(ctx, "density_2022", "Densité de population, 2022", "Habitants par km²",
                        "carte_densite")]
