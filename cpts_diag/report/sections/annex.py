"""Annexe: every indicator per commune (secret statistique said in words, small communes marked)."""
from __future__ import annotations

import pandas as pd

from ...fmt import SECRET
from .. import blocks as B
from ..readings import MIN_POPULATION_EXTREMES
from ._titles import heading

#: Columns of the annex: (French header, commune-table column, decimals, secret?); ``{y}``: APL year.
COLUMNS = (
    ("Population 2022", "population_2022", 0, False),
    ("Population 2016", "population_2016", 0, False),
    ("Évolution 2016-2022 (% par an)", "pop_growth_2016_2022", 2, False),
    ("Superficie (km²)", "area_km2", 1, False),
    ("Densité (hab./km²)", "density_2022", 1, False),
    ("Indice de vieillissement", "ageing_index_2022", 1, False),
    ("Part des 75 ans ou plus (%)", "share_75p_2022", 1, False),
    ("Taux de chômage 15-64 ans (%)", "unemployment_1564_2022", 1, True),
    ("Taux de pauvreté (%)", "poverty_rate_2021", 1, True),
    ("Niveau de vie médian (€/an)", "median_income_2021", 0, True),
    ("APL médecins généralistes {y}", "apl_mg_{y}", 2, False),
    ("APL médecins de 65 ans ou moins {y}", "apl_mg_moins65_{y}", 2, False),
    ("Lieux d'exercice de médecins généralistes (BPE)", "count_gp_bpe2024", 0, False),
    ("Lieux d'exercice d'infirmiers (BPE)", "count_nurse_bpe2024", 0, False),
    ("Établissements de soins", "n_hospitals_finess2020", 0, False),
)
SMALL = f"Moins de {MIN_POPULATION_EXTREMES} hab."
MAX_ROWS_IN_PAGE = 1000  # a longer annex goes to the workbook and the CSV only
MAX_ROWS_PRINTED = 60  # a longer annex is on screen, not in the PDF (a printed line says where)


def commune_frame(ctx) -> tuple[pd.DataFrame, dict, dict]:
    c = ctx.communes
    y = ctx.apl_year
    df = pd.DataFrame({"Code": c["code_commune"], "Commune": c["nom"], "EPCI": c["epci_nom"]})
    dec, na = {}, {}
    for head, col, d, secret in COLUMNS:
        head, col = head.format(y=y), col.format(y=y)
        df[head] = c[col]
        dec[head] = d
        if secret:
            na[head] = SECRET
    df[SMALL] = (c["population_2022"] < MIN_POPULATION_EXTREMES).map({True: "oui", False: ""})
    return df, dec, na


def build(ctx) -> list:
    df, dec, na = commune_frame(ctx)
    return [heading("annexe"),
            B.Table("communes", df, "Indicateurs par commune",
                    "Insee, RP 2016 et 2022, Filosofi 2021, BPE 2024 ; Drees, APL ; FINESS 2020 ; IGN",
                    decimals=dec, na=na, in_page=len(df) <= MAX_ROWS_IN_PAGE,
                    printed=len(df) <= MAX_ROWS_PRINTED,
                    note="secret statistique : valeur non diffusée par l'Insee pour cette commune ; n.d. : "
                         f"non disponible ; « oui » en dernière colonne : commune de moins de "
                         f"{MIN_POPULATION_EXTREMES} habitants, dont les taux sont fragiles.")]
