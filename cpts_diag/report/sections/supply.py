"""4.1 Professionnels de santé libéraux: places of practice counted by the BPE, said for what
they are, with their densities against the comparators."""
from __future__ import annotations

import numpy as np

from ...fmt import NNBSP, fmt_number
from ...professions import PROFESSIONS
from .. import blocks as B
from ..compare import compare_table
from ..figures import bars
from ..text import de, join_fr, mpl_safe
from ._titles import heading, sub

BPE_NOTE = (
    "La base permanente des équipements (BPE) recense des **lieux d'exercice** libéral, pas des "
    "praticiens : un professionnel qui exerce à plusieurs adresses y est compté à chacune, et la BPE "
    "ne dit ni son temps de travail, ni son âge, ni s'il accepte de nouveaux patients ; les salariés "
    "(hôpital, centres de santé) n'y figurent pas. Les effectifs de praticiens publiés par "
    "l'Assurance maladie (Rézone CPTS, données du SNDS) ou par la Drees sont donc en général plus "
    "faibles : pour mesurer une pénurie, utilisez ces effectifs et l'APL (section 4.2), qui tient "
    "compte de l'activité des médecins et de la demande.")


def supply_text(ctx) -> str:
    gp = ctx.val("count_gp_bpe2024")
    s = [f"La BPE recense **{fmt_number(gp, 0)} lieux d'exercice de médecins généralistes** dans la "
         f"{ctx.kind} en 2024, soit **{ctx.num('density_gp_bpe2024')} pour 10{NNBSP}000 habitants** "
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
    return [heading("offre"), sub("4.1 Professionnels de santé libéraux (lieux d'exercice, BPE)"),
            B.Text(supply_text(ctx)),
            B.Note(BPE_NOTE),
            bars(ctx, "densites_professionnels", [p.chart_label for p in PROFESSIONS], series,
                 title="Lieux d'exercice libéral recensés par la BPE, pour 10 000 habitants, 2024",
                 unit="Pour 10 000 habitants", ids=[f"density_{p.key}_bpe2024" for p in PROFESSIONS]),
            compare_table(ctx, ids, "offre_bpe",
                          "Lieux d'exercice des professionnels de santé libéraux et pharmacies (BPE 2024)")]
