"""5.1 Professionnels de santé libéraux: places of practice counted by the BPE, said for what
they are, with their densities against the comparators."""
from __future__ import annotations

import numpy as np

import pandas as pd

from ...fmt import NNBSP, fmt_number, fmt_percent
from ...professions import PROFESSIONS
from ...sae import STRUCTURE_TYPES
from .. import blocks as B
from ..compare import compare_table
from ..context import MAX_COMPARATOR_AREAS as MAX_AREAS
from ..figures import bars, no_map
from ..text import de, esc, geo_caption, join_fr, mpl_safe, plural
from ._titles import heading, sub

BPE_SOURCE = "Insee, BPE 2024"
NURSE_SOURCE = "Drees, effectifs d'infirmières libérales actives (SNDS)"
#: registry ids of the MSP / centre de santé counts, read when another module defines them
STRUCTURE_IDS = {"msp": "count_msp_bpe2024", "cds": "count_cds_bpe2024"}
MAX_COMMUNES_LISTED = 8  # beyond, the text refers to the table
STRUCTURES_NOTE = (
    "Lieux recensés par la BPE : une maison de santé pluriprofessionnelle (MSP) ou un centre de "
    "santé y est compté à chaque adresse où il est enregistré, sans sa taille ni les professions "
    "qui y exercent ; la carte place chaque lieu au centre de sa commune, la BPE n'étant lue ici "
    "qu'à la commune. Les MSP et centres de santé ne figurent ni dans la SAE ni dans l'extrait "
    "FINESS de la section 5.4.")
PHYSICIAN_AGE_NOTE = (
    "Les données ouvertes du jeu de données ne donnent pas l'âge des médecins : le fichier de la "
    "Drees (RPPS) par département et spécialité réunit tous les âges. Une CPTS ou une collectivité "
    "peut obtenir la pyramide des âges de ses médecins auprès de l'ARS (données du RPPS et de "
    "l'Ordre des médecins).")

BPE_NOTE = (
    "La base permanente des équipements (BPE) recense des **lieux d'exercice** libéral, pas des "
    "praticiens : un professionnel qui exerce à plusieurs adresses y est compté à chacune, et la BPE "
    "ne dit ni son temps de travail, ni son âge, ni s'il accepte de nouveaux patients ; les salariés "
    "(hôpital, centres de santé) n'y figurent pas. Les effectifs de praticiens publiés par "
    "l'Assurance maladie (Rézone CPTS, données du SNDS) ou par la Drees sont donc en général plus "
    "faibles : pour mesurer une pénurie, utilisez ces effectifs et l'APL (section 5.2), qui tient "
    "compte de l'activité des médecins et de la demande.")


def supply_text(ctx) -> str:
    gp = ctx.val("count_gp_bpe2024")
    s = [f"La BPE recense **{fmt_number(gp, 0)} lieux d'exercice de médecins généralistes** dans "
         f"{ctx.la} en 2024, soit **{ctx.num('density_gp_bpe2024')} pour 10{NNBSP}000 habitants** "
         f"({ctx.comparison('density_gp_bpe2024')})."]
    others = []
    for p in PROFESSIONS[1:]:
        noun = "pharmacies" if p.key == "pharmacy" else f"lieux d'exercice {de(p.plural)}"
        ref = (f" ; {ctx.main_dep_name} : {ctx.num(f'density_{p.key}_bpe2024', 'departement')}"
               if ctx.has_dep else "")
        others.append(f"{fmt_number(ctx.val(f'count_{p.key}_bpe2024'), 0)} {noun} "
                      f"({ctx.num(f'density_{p.key}_bpe2024')} pour 10{NNBSP}000 hab.{ref})")
    s.append("Elle compte aussi " + join_fr(others) + ".")
    return " ".join(s)


def build(ctx) -> list:
    ids = [f"{k}_{p.key}_bpe2024" for p in PROFESSIONS for k in ("count", "density")]
    comps = [c for c in ctx.comparators() if c[0] in ("territory", "departement", "region", "france_metro")]
    series = [(mpl_safe(ctx.territory.name) if lv == "territory" else nm,
               np.array([ctx.val(f"density_{p.key}_bpe2024", lv, cd) for p in PROFESSIONS]))
              for lv, cd, nm in comps]
    return [heading("offre"), sub("5.1 Professionnels de santé libéraux (lieux d'exercice, BPE)"),
            B.Text(supply_text(ctx)),
            B.Note(BPE_NOTE),
            bars(ctx, "densites_professionnels", [p.chart_label for p in PROFESSIONS], series,
                 title="Lieux d'exercice libéral recensés par la BPE, pour 10 000 habitants, 2024",
                 unit="Pour 10 000 habitants", ids=[f"density_{p.key}_bpe2024" for p in PROFESSIONS]),
            compare_table(ctx, ids, "offre_bpe",
                          "Lieux d'exercice des professionnels de santé libéraux et pharmacies (BPE 2024)"),
            *age_blocks(ctx), *structure_blocks(ctx)]


# --- age of the professions (département level) ---------------------------------------------------

def age_text(ctx, shares: pd.DataFrame) -> str:
    """The nurses' 55+ (60+) shares of the territory's départements, with région and France."""
    year = int(shares["annee"].iloc[0])
    deps = shares[shares["niveau"] == "departement"]
    others = shares[shares["niveau"] != "departement"]

    def one(r) -> str:
        return (f"{esc(r.nom)} : **{fmt_percent(r.part_55p)}** ({fmt_percent(r.part_60p)} "
                f"à 60 ans ou plus)")

    where = join_fr([one(r) for r in deps.itertuples()]) or (
        f"non disponible pour le département {ctx.de_la}" if ctx.deps else
        f"non détaillée, {ctx.la} s'étendant sur plus de {MAX_AREAS} départements")
    comp = join_fr([f"{esc(r.nom)} : {fmt_percent(r.part_55p)}" for r in others.itertuples()])
    return (f"Part des infirmières et infirmiers libéraux actifs âgés de **55 ans ou plus** en "
            f"{year}, à l'échelle **départementale** (la Drees ne publie pas ces effectifs par "
            f"commune) : {where}. Pour comparaison : {comp}. La part propre {ctx.a_la} n'est pas "
            "connue par ces données.")


def age_blocks(ctx) -> list:
    """Section 5.1: share of liberal nurses aged 55+ / 60+ by département (DREES), and why
    nothing is said of the physicians' age."""
    shares = ctx.nurse_ages_shares
    out = [sub("Âge des professionnels (données départementales)")]
    if shares is None or not len(shares):
        out.append(B.Note("Le fichier de la Drees sur l'âge des infirmières libérales n'est pas "
                          "installé. Correctif : réinstallez le jeu de données avec "
                          "`cpts-diag data install --from ../shared/opendata`."))
    else:
        year = int(shares["annee"].iloc[0])
        level = shares["niveau"].map({"departement": "Département", "region": "Région",
                                      "france_hors_mayotte": "France"})
        df = pd.DataFrame({"Territoire": shares["nom"], "Niveau": level,
                           "Infirmiers libéraux actifs": shares["effectif"],
                           "Dont 55 ans ou plus": shares["effectif_55p"],
                           "Part des 55 ans ou plus (%)": shares["part_55p"],
                           "Part des 60 ans ou plus (%)": shares["part_60p"]})
        out += [B.Text(age_text(ctx, shares)),
                B.Table("age_infirmiers", df, f"Infirmiers libéraux actifs selon l'âge, {year}",
                        f"{NURSE_SOURCE}, {year}",
                        decimals={"Part des 55 ans ou plus (%)": 1, "Part des 60 ans ou plus (%)": 1,
                                  "Infirmiers libéraux actifs": 0, "Dont 55 ans ou plus": 0})]
    out.append(B.Note(PHYSICIAN_AGE_NOTE))
    return out


# --- 5.1 bis: MSP and centres de santé (BPE D113, D108) ------------------------------------------

def structures_text(ctx, st: pd.DataFrame) -> str:
    """Counts of MSP and centres de santé in the territory; the comparators when the indicator
    registry has them, else the territory's figure only, commune by commune."""
    n = {k: int(st[k].sum()) for k in STRUCTURE_TYPES}  # counted in the BPE frame
    for k, iid in STRUCTURE_IDS.items():  # the registry's figure when it has one
        if iid in ctx.registry and not np.isnan(ctx.val(iid)):
            n[k] = ctx.val(iid)
    msp = plural(n["msp"], "maison de santé pluriprofessionnelle", "maisons de santé pluriprofessionnelles")
    cds = plural(n["cds"], "centre de santé", "centres de santé")
    s = f"La BPE recense **{msp}** (MSP) et **{cds}** dans {ctx.la} en 2024."
    comps = [f"{STRUCTURE_TYPES[k][1]} : {ctx.comparison(iid)}" for k, iid in STRUCTURE_IDS.items()
             if iid in ctx.registry]
    if comps:
        s += " Pour comparaison, " + " ; ".join(comps) + "."
    else:  # no registry indicator: the territory's figure only, counted in the BPE file
        s += " Les mêmes comptes pour le département, la région et la France ne sont pas calculés ici."
    where = st[(st["msp"] > 0) | (st["cds"] > 0)]
    if 0 < len(where) <= MAX_COMMUNES_LISTED:
        s += " Communes concernées : " + join_fr(
            [f"{esc(r.nom)} ({r.msp} MSP, {plural(r.cds, 'centre de santé', 'centres de santé')})"
             for r in where.itertuples()]) + "."
    elif len(where):
        s += f" Ils se trouvent dans {plural(len(where), 'commune')} (tableau ci-dessous)."
    return s


def structure_blocks(ctx) -> list:
    """Section 5.1 bis: MSP (D113) and centres de santé (D108) of the BPE, text, table and map."""
    out = [sub("5.1 bis Maisons de santé pluriprofessionnelles et centres de santé (BPE)")]
    st = ctx.structures
    if st is None:
        return out + [B.Note("La BPE n'est pas installée : les MSP et centres de santé ne peuvent "
                             "pas être comptés. Correctif : `cpts-diag data install --from "
                             "../shared/opendata`.")]
    title = "Maisons de santé et centres de santé recensés par la BPE, 2024"
    source = f"{BPE_SOURCE} ; {geo_caption(ctx)}"
    out += [B.Text(structures_text(ctx, st)), B.Note(STRUCTURES_NOTE)]
    if ctx.mappable:
        from ... import maps

        g = ctx.geo.merge(st[["code_commune", *STRUCTURE_TYPES]], on="code_commune", how="left")
        fig = maps.commune_symbols_map(
            g, [(k, lab) for k, (_, lab) in STRUCTURE_TYPES.items()], title=title, source=source,
            legend_title="Lieux recensés par la BPE\n(au centre de la commune)",
            context=ctx.context_polygons, towns=ctx.towns())
        out.append(B.Figure("carte_msp_centres_sante", fig, {
            "title": title, "kind": "carte des lieux recensés par la BPE", "source": source,
            "vintage": "2024", **{f"n_{k}": int(st[k].sum()) for k in STRUCTURE_TYPES}}))
    else:
        out.append(no_map(ctx, title))
    df = pd.DataFrame({"Commune": st["nom"], "MSP": st["msp"], "Centres de santé": st["cds"]})
    df = df[(df["MSP"] > 0) | (df["Centres de santé"] > 0)].reset_index(drop=True)
    out.append(B.Table("msp_centres_sante", df,
                       f"Maisons de santé pluriprofessionnelles et centres de santé {ctx.de_la}",
                       f"{BPE_SOURCE} (D113, D108)", printed=False))
    return out
