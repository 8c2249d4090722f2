"""Schema and expected coverage of every source, checked when a file is first loaded.

A SHA-256 check proves a file is the one listed in ``SHA256SUMS``; it proves nothing when the
list itself was regenerated (a bad copy, a truncated download, someone "fixing" the sums). So the
frame a loader builds from a file is also checked, once, before its parquet cache is written
(:func:`cpts_diag.store.cached`), against :data:`SCHEMAS`:

- **schema**: required columns and their types: commune codes are 5-character strings
  (``01001``, ``2A004``), other codes match their format (département, région, SIREN…), numeric
  columns are numeric (a stray text value makes the whole column text: refused), key columns are
  unique and non-empty;
- **coverage**: row count within the range of the data contract (``../shared/opendata/README.md``
  §2, about ±2 % around the published count for national tables), every metropolitan département
  present where the contract says so, totals within bounds (France métropolitaine population).

A failure raises :class:`~cpts_diag.errors.DataIntegrityError` naming the file, the problem and
the fix. Deliberately partial snapshots (test extracts) set the environment variable
``CPTS_DIAG_PARTIAL_DATA=1``: coverage failures then become warnings; schema failures stay errors.
"""
from __future__ import annotations

import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .errors import DataIntegrityError
from .fmt import fmt_number

__all__ = ["COMMUNE_CODE_RE", "METRO_DEPARTEMENTS", "Col", "Schema", "SCHEMAS", "check_frame",
           "PARTIAL_ENV"]

COMMUNE_CODE_RE = re.compile(r"^(\d{5}|2[AB]\d{3})$")
_DEP = r"^(\d{2}|2[AB]|97\d)$"
_SIREN = r"^\d{9}$"
#: the 96 départements of metropolitan France (COG 2025)
METRO_DEPARTEMENTS = tuple([f"{i:02d}" for i in range(1, 20)] + ["2A", "2B"]
                           + [f"{i:02d}" for i in range(21, 96)])
#: the 8 départements of the detailed commune polygons (data contract §3.4)
DEPS_8 = ("03", "07", "38", "42", "43", "63", "69", "71")
PARTIAL_ENV = "CPTS_DIAG_PARTIAL_DATA"


@dataclass(frozen=True)
class Col:
    """One required column: ``kind`` is ``"code"`` (text matching ``pattern``), ``"number"`` or
    ``"text"``; ``nullable=False`` refuses empty cells."""

    name: str
    kind: str = "text"
    pattern: str | None = None
    nullable: bool = True


def commune(name: str = "code_commune", nullable: bool = False) -> Col:
    return Col(name, "code", COMMUNE_CODE_RE.pattern, nullable)


def code(name: str, pattern: str, nullable: bool = False) -> Col:
    return Col(name, "code", pattern, nullable)


def num(*names: str, nullable: bool = True) -> list[Col]:
    return [Col(n, "number", None, nullable) for n in names]


def text(*names: str) -> list[Col]:
    return [Col(n, "text") for n in names]


@dataclass(frozen=True)
class Schema:
    """Columns of the frame built from a source file, and the coverage expected of it."""

    columns: tuple[Col, ...]
    rows: tuple[int, int | None]  # inclusive range; None: no upper bound
    unique: tuple[str, ...] = ()  # columns whose combination identifies a row
    metro_from: str | None = None  # column whose 2 first characters (or value) must cover METRO
    deps_exactly: tuple[str, ...] = ()  # the département codes (from metro_from) must be exactly these
    totals: dict[str, tuple[float, float]] = field(default_factory=dict)  # column sum ranges
    rows_per: str | None = None  # apply ``rows`` to each value of this column (e.g. profession)


_POP_COLS = ("pop_2022", "pop_2016", "pop_2011", "pop_0_14", "pop_15_24", "pop_25_54", "pop_55_64",
             "pop_65_79", "pop_80p", "pop_60p", "pop_65p", "pop_75p", "pop_0_19")
_SOCIO_COLS = ("chomage_1564_2022", "taux_pauvrete_2021", "revenu_median_2021", "csp_cadres_2022",
               "csp_ouvriers_2022", "csp_retraites_2022", "pct_80p_seuls_2022",
               "pct_menages_1pers_2022")
_APL_SHEET = Schema((commune(), *num("annee", "apl", "pop_std", "pop_tot"), *text("profession")),
                    rows=(34_000, 35_700), unique=("code_commune", "profession"), rows_per="profession")
_GEO_COMMUNES = (commune(), code("dep", _DEP), *num("surface_km2", "surface_km2_ign"))

SCHEMAS: dict[str, Schema] = {
    "cog_communes": Schema(
        (commune(), code("dep", _DEP), code("reg", r"^\d{2}$"), code("epci_siren", r"^(\d{9}|Z{9})$"),
         *text("nom", "nom_dep", "nom_reg", "epci_nom")),
        rows=(34_200, 35_600), unique=("code_commune",), metro_from="dep"),
    "cog_passage": Schema(
        (commune("code_commune_source"), commune("code_commune_cog2025"),
         *num("identite", nullable=False)),
        rows=(38_300, 40_000), unique=("code_commune_source",)),
    "population": Schema(
        (commune(), *num(*_POP_COLS), *num("complet_2022")),
        rows=(34_000, 35_500), unique=("code_commune",), metro_from="code_commune",
        totals={"pop_2022": (60e6, 72e6)}),
    "population_plm": Schema(
        (commune("code_arrondissement"), commune(), *num(*_POP_COLS)),
        rows=(45, 45), unique=("code_arrondissement",)),
    "population_age_42_43": Schema(
        (commune(), commune("CODGEO"), *num("P22_POP0014", "P22_POP1529", "P22_POP3044", "P22_POP4559",
                                            "P22_POP6074", "P22_POP7589", "P22_POP90P", "P22_POP",
                                            "P16_POP", "P11_POP")),
        rows=(560, 600), unique=("code_commune",), metro_from="code_commune", deps_exactly=("42", "43")),
    "socio": Schema(
        (commune(), *num(*_SOCIO_COLS), *num("complet_2022")),
        rows=(34_000, 35_500), unique=("code_commune",), metro_from="code_commune"),
    "ptod_aggregates": Schema(
        (code("code", r"^(FRM|\d{2}|2[AB])$"), *text("niveau", "libelle"),
         *num("pop_2022", "chomage_1564_2022", "revenu_median_2021", "taux_pauvrete_2021")),
        rows=(110, 110), unique=("niveau", "code")),
    "bpe_sante": Schema(
        (commune(), code("typequ", r"^D\d{3}$"), *num("nb", nullable=False)),
        rows=(74_000, 79_000), unique=("code_commune", "typequ"), metro_from="code_commune"),
    "bpe_typequ": Schema((code("typequ", r"^D\d{3}$"), *text("libelle", "statut_libelle")),
                         rows=(30, 80), unique=("typequ",)),
    "apl_long": Schema(
        (commune(), commune("code_commune_cog2025"), *num("annee", "apl", "pop_std", "pop_tot"),
         *text("profession", "unite", "source")),
        # no key check: 0.4 s on 661k rows, and the row range catches a duplicated block
        rows=(645_000, 680_000), metro_from="code_commune_cog2025"),
    "apl_mg_xlsx": _APL_SHEET,
    "apl_inf_xlsx": _APL_SHEET,
    "hospitals": Schema(
        (code("finess", r"^\d[0-9AB]\d{7}$"), commune(nullable=True), *num("lat", "lon"),
         *text("nom", "type")),
        rows=(5_200, 5_600), unique=("finess",)),
    "cpts_sources": Schema((code("cpts_id", r"^[a-z0-9][a-z0-9_-]*$"),
                            code("code", r"^(\d{5}|2[AB]\d{3}|\d{9})$"), *text("type", "cpts_nom")),
                           rows=(10, 5_000)),
    "geo_communes_8dep": Schema(_GEO_COMMUNES, rows=(3_000, 3_100), unique=("code_commune",),
                                metro_from="dep", deps_exactly=DEPS_8),
    "geo_communes_metro": Schema(_GEO_COMMUNES, rows=(34_000, 35_500), unique=("code_commune",),
                                 metro_from="dep"),
    "geo_epci": Schema((code("code", _SIREN), *text("nom")), rows=(1_150, 1_300), unique=("code",)),
    "geo_departements": Schema((code("code", _DEP), *text("nom")), rows=(96, 96), unique=("code",),
                               metro_from="code", deps_exactly=METRO_DEPARTEMENTS),
    # état de santé, contrat de données §7 (row counts as published there)
    "vaccination_spf": Schema(
        (code("code", r"^(\d{2}|2[AB]|97\d|FR)$"), *num("annee", "valeur", nullable=False),
         *text("niveau", "libelle", "indicateur", "unite")),
        rows=(9_460, 9_460), unique=("annee", "niveau", "code", "indicateur")),
    "mortality_standardised": Schema(
        (code("departement", _DEP), *num("annee", "valeur", nullable=False),
         *text("sexe", "cause", "unite")),
        rows=(6_864, 6_864), unique=("annee", "departement", "sexe", "cause"),
        metro_from="departement"),
    "mortality_crude": Schema(
        # 9,971 lines in the contract, one of them empty (dropped by the loader)
        (code("code", r"^(\d{2}|2[AB]|97\d|\d{9})$"), *text("niveau", "libelle", "periode"),
         *num("taux_mortalite_pour_1000")),
        rows=(9_970, 9_971), unique=("niveau", "code", "periode")),
    "cartosante_bv": Schema(
        # 977ZZ, 978ZZ: Saint-Barthélemy and Saint-Martin, pseudo-codes of CartoSanté
        (code("code_bv2022", r"^(\d{5}|2[AB]\d{3}|97[78]ZZ)$"),
         *text("libelle_bv", "cellules_secret_statistique"),
         *num("part_ald_2024", "part_benef_ophtalmo_2024", "apl_mg_2023", "densite_mg_lib_2024",
              "densite_infirmiers_lib_2024", "densite_sages_femmes_lib_2024",
              "densite_orthophonistes_lib_2024", "densite_pharmacies_2024")),
        rows=(1_709, 1_709), unique=("code_bv2022",)),
    "bv_local_stats": Schema(
        (code("code_bv2022", COMMUNE_CODE_RE.pattern), *text("libelle_bv"),
         *num("deces_domicilies_2024", "part_75p_2022", "taux_pauvrete_2021", "revenu_median_2021",
              "part_peu_diplomes_2022", "part_familles_monoparentales_2022", "part_moins_15_2022",
              "part_locataires_hlm_2022", "part_suroccupation_accentuee_2022")),
        rows=(1_707, 1_707), unique=("code_bv2022",)),
    # offre de soins, contrat de données §7 et §3.15
    "sae_2022": Schema(
        # DROM départements are written 9A–9F by the SAE; their COG 2025 commune is empty
        (code("finess", r"^\d[0-9AB]\d{7}$"), code("finess_entite_juridique", r"^\d[0-9AB]\d{7}$"),
         code("dep", r"^(\d{2}|2[AB]|9[A-F])$"), commune("code_commune_cog2025", nullable=True),
         code("categorie", r"^\d{3}$"), code("categorie_regroupee", r"^(PUB|PNL|PLU)\d+$"),
         *num("annee", nullable=False), *text("raison_sociale", "categorie_libelle_derive")),
        rows=(3_995, 3_995), unique=("finess",)),
    "nurses_age_drees": Schema(
        (*text("niveau", "sexe", "tranche_age"), *num("annee", "effectif", nullable=False)),
        rows=(45_984, 45_984), unique=("niveau", "reg", "dep", "sexe", "tranche_age", "annee")),
}


# --- checks -------------------------------------------------------------------------------------

def _uniques(df: pd.DataFrame, col: str, memo: dict) -> pd.Series:
    """Distinct non-empty values of a column, as text (computed once per check)."""
    if col not in memo:
        memo[col] = pd.Series(df[col].unique()).dropna().astype(str)
    return memo[col]


def _column_problems(df: pd.DataFrame, schema: Schema, memo: dict) -> list[str]:
    """Schema problems (missing column, wrong type, bad code, empty key): always errors."""
    out = []
    missing = [c.name for c in schema.columns if c.name not in df.columns]
    if missing:
        return [f"colonne(s) absente(s) : {', '.join(missing)}"]
    for c in schema.columns:
        s = df[c.name]
        if not c.nullable and s.isna().any():
            out.append(f"colonne {c.name} : {fmt_number(int(s.isna().sum()))} cellule(s) vide(s) "
                       f"(ligne {_first_row(s.isna())})")
        if c.kind == "number" and not (pd.api.types.is_numeric_dtype(s)
                                       and not pd.api.types.is_bool_dtype(s)) and s.notna().any():
            # a text column (one stray value makes the whole column text), or booleans
            bad = s.notna() & (pd.to_numeric(s, errors="coerce").isna()
                               | s.map(lambda x: isinstance(x, (str, bool))))
            bad = bad if bad.any() else s.notna()
            out.append(f"colonne {c.name} : valeurs non numériques (p. ex. « {s[bad].iloc[0]} », "
                       f"ligne {_first_row(bad)})")
        elif c.kind == "code":
            out += _code_problems(df, c, memo)
    if len(schema.unique) == 1:
        dup = df[schema.unique[0]].duplicated() if not df[schema.unique[0]].is_unique else None
    elif schema.unique:
        dup = df.duplicated(list(schema.unique))
    else:
        dup = None
    if dup is not None and dup.any():
        key = ", ".join(str(df.loc[dup.idxmax(), k]) for k in schema.unique)
        out.append(f"{fmt_number(int(dup.sum()))} ligne(s) en double sur "
                   f"({', '.join(schema.unique)}), p. ex. {key}")
    return out


def _code_problems(df: pd.DataFrame, c: Col, memo: dict) -> list[str]:
    s = df[c.name]
    if not (pd.api.types.is_string_dtype(s) or s.dtype == object):
        return [f"colonne {c.name} : codes lus comme des nombres ({s.dtype}), zéros initiaux perdus"]
    values = _uniques(df, c.name, memo)
    ok = values.str.fullmatch(c.pattern.strip("^$"))
    if ok.all():
        return []
    bad = values[~ok]
    what = "5 caractères, p. ex. 01001 ou 2A004" if c.pattern == COMMUNE_CODE_RE.pattern else c.pattern
    return [f"colonne {c.name} : {fmt_number(len(bad))} code(s) mal formé(s) (attendu : {what}), "
            f"p. ex. « {bad.iloc[0]} »"]


def _first_row(mask: pd.Series) -> str:
    pos = int(mask.to_numpy().argmax())
    return fmt_number(pos + 2)  # 1-based, after the header line


def _coverage_problems(df: pd.DataFrame, schema: Schema, memo: dict) -> list[str]:
    """Coverage problems (row count, départements, totals): errors unless the data are partial."""
    out = []
    lo, hi = schema.rows
    counts = (df[schema.rows_per].value_counts() if schema.rows_per in df.columns
              else pd.Series({"": len(df)}))
    for group, n in counts.items():
        if n < lo or (hi is not None and n > hi):
            rng = (fmt_number(lo) if hi == lo else f"{fmt_number(lo)} à {fmt_number(hi)}"
                   if hi is not None else f"au moins {fmt_number(lo)}")
            per = f" ({schema.rows_per} = {group})" if schema.rows_per else ""
            out.append(f"{fmt_number(n)} ligne{'s' if n > 1 else ''}{per} au lieu de {rng} "
                       "(contrat de données) : fichier tronqué, incomplet ou d'une autre nature")
    if schema.metro_from and schema.metro_from in df.columns:
        vals = _uniques(df, schema.metro_from, memo)
        deps = set(vals) if schema.metro_from in ("dep", "code") else set(vals.str[:2])
        expected = set(schema.deps_exactly or METRO_DEPARTEMENTS)
        absent = sorted(expected - deps)
        if absent:
            out.append(f"département(s) absent(s) : {_few(absent)} "
                       f"({len(absent)} sur {len(expected)})")
        extra = sorted(deps - expected - {"97"}) if schema.deps_exactly else []
        if extra:
            out.append(f"département(s) inattendu(s) : {_few(extra)}")
    for col, (tlo, thi) in schema.totals.items():
        if col in df.columns and pd.api.types.is_numeric_dtype(df[col]):
            total = float(df[col].sum())
            if not tlo <= total <= thi:
                out.append(f"total de {col} = {fmt_number(total)}, hors de l'intervalle attendu "
                           f"{fmt_number(tlo)} à {fmt_number(thi)}")
    return out


def _few(items: list[str], n: int = 12) -> str:
    return ", ".join(items[:n]) + (" …" if len(items) > n else "")


def partial_data_allowed() -> bool:
    """True when ``CPTS_DIAG_PARTIAL_DATA`` is set (a deliberately partial test snapshot)."""
    return os.environ.get(PARTIAL_ENV, "").strip().lower() in ("1", "true", "oui", "yes")


def check_frame(df: pd.DataFrame, source_id: str, path: Path | str,
                schema: Schema | None = None) -> None:
    """Check the frame built from ``path`` against the schema of ``source_id`` (or ``schema``).

    Raises :class:`DataIntegrityError` naming the file, every problem found and the fix. Coverage
    problems only warn when ``CPTS_DIAG_PARTIAL_DATA=1``."""
    schema = schema or SCHEMAS.get(source_id)
    if schema is None:
        return
    memo: dict = {}
    errors = _column_problems(df, schema, memo)
    coverage = _coverage_problems(df, schema, memo) if not errors else []
    if coverage and partial_data_allowed():
        warnings.warn(f"{path} (source « {source_id} ») : jeu partiel accepté ({PARTIAL_ENV}) : "
                      + " ; ".join(coverage), UserWarning, stacklevel=3)
        coverage = []
    problems = errors + coverage
    if problems:
        raise DataIntegrityError(
            f"{path} (source « {source_id} ») ne correspond pas au contrat de données : "
            + " ; ".join(problems) + ". Correctif : réinstallez le jeu de données avec "
            "`cpts-diag data install --from ../shared/opendata` (ou `cpts-diag data fetch`) ; "
            "si ce fichier vient d'une copie, recopiez-le en entier. Son SHA-256 ne suffit pas : "
            "SHA256SUMS peut avoir été régénéré avec lui.")
