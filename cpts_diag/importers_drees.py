"""Importer of DREES's APL workbooks (« Accessibilité potentielle localisée »).

:func:`read_apl_workbook` turns a DREES workbook into the long table of
:func:`cpts_diag.loaders.load_apl`. Re-exported by :mod:`cpts_diag.importers`, like the other
importers of the publishers' file formats.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import drees_xlsx
from .errors import HarmonisationError

APL_COLUMNS = ["code_commune", "cog_code", "code_commune_cog2025", "annee", "profession", "apl",
               "unite", "pop_std", "pop_tot", "source", "note"]
_APL_SOURCE = {"medecin_generaliste": "drees_xlsx_mg", "infirmier": "drees_xlsx_inf",
               "masseur_kinesitherapeute": "drees_xlsx_mk", "sage_femme": "drees_xlsx_sf",
               "chirurgien_dentiste": "drees_xlsx_cd"}


def read_apl_workbook(path: Path | str, passage: pd.DataFrame, source: str | None = None,
                      cog_lag: int = 1) -> pd.DataFrame:
    """Every ``APL <year>`` sheet of a DREES APL workbook → the long table of
    :func:`cpts_diag.loaders.load_apl`.

    Sheets are read with :func:`cpts_diag.drees_xlsx.read_apl_sheets`. ``code_commune`` stays as
    published; ``cog_code`` = vintage + ``cog_lag`` (DREES's APL N uses the COG of 1 January
    N + 1, inferred from the mergers present); ``code_commune_cog2025`` comes from ``passage``;
    ``note`` flags codes whose territory was split after that COG
    (``territoire_scinde_<year>(<COG 2025 codes>)``). ``source`` defaults to ``drees_xlsx_mg``,
    ``drees_xlsx_inf``… after the profession of the workbook.
    """
    path = Path(path)
    df = drees_xlsx.read_apl_sheets(path)
    df["cog_code"] = (df["annee"] + cog_lag).astype("int64")
    table = passage.set_index("code_commune_source")
    df["code_commune_cog2025"] = df["code_commune"].map(table["code_commune_cog2025"]).astype("string")
    unplaced = sorted(df.loc[df["code_commune_cog2025"].isna(), "code_commune"].unique())
    if unplaced:
        raise HarmonisationError(
            f"{path.name} : {len(unplaced)} code(s) commune absent(s) de la table de passage : "
            f"{', '.join(unplaced[:20])}. Correctif : installez une table de passage qui les couvre "
            "(`cpts-diag data install --from ../shared/opendata`)."
        )
    split = table.reindex(df["code_commune"])
    sdate = pd.to_datetime(split["scission_date"].to_numpy(), errors="coerce")
    later = sdate > pd.to_datetime(df["cog_code"].astype(str) + "-01-01").to_numpy()
    note = pd.Series(pd.NA, index=df.index, dtype="string")
    note[later] = [f"territoire_scinde_{d.year}({c})" for d, c in
                   zip(sdate[later], split["scission_communes_cog2025"].to_numpy()[later])]
    df["note"] = note
    if source is None:
        prof = next((p for p in df["profession"].unique() if p in _APL_SOURCE), None)
        source = _APL_SOURCE.get(prof, "drees_xlsx")
    df["source"] = source
    df["code_commune"] = df["code_commune"].astype("string")
    out = df[APL_COLUMNS].reset_index(drop=True)
    out.attrs = {"source": {"file": path.name, "vintages": sorted(df["annee"].unique().tolist())}}
    return out
