"""The indicator registry (``indicators.yaml``) and the constants shared by the indicator layer.

``indicators.yaml`` is the one place documenting every indicator id (label, unit, formula, source,
vintage, how it is aggregated). It is read through :mod:`cpts_diag.safe_yaml` (size and alias
limits of its own, ``REGISTRY_LIMITS``) with :class:`UniqueKeyLoader`, a ``yaml.SafeLoader`` that
refuses duplicate keys: plain ``yaml.safe_load`` keeps the last of two entries with the same id
without a word.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from .professions import APL_SHORT, BPE_CODES  # noqa: F401 (re-exported)
from .safe_yaml import (REGISTRY_LIMITS, UniqueKeyLoader, load_yaml, parse_yaml,  # noqa: F401
                        read_yaml)

__all__ = [
    "REGISTRY_PATH", "LEVELS", "LOCAL_LEVELS", "COMPARATOR_LEVELS", "PUBLISHED_LEVELS",
    "FRANCE_METRO", "FRANCE", "AGE_BANDS", "APL_PROFESSIONS_SHORT", "BPE_CODES", "TIDY_COLUMNS",
    "THEMES", "UniqueKeyLoader", "load_yaml_unique", "load_registry", "INDICATORS",
    "registry_frame", "registry_markdown", "BPE_STRUCTURE_CODES", "BPE_ALL_CODES",
    "PUBLISHED_DATASETS", "GEOGRAPHIES", "bv_columns",
]

REGISTRY_PATH = Path(__file__).with_name("indicators.yaml")
LEVELS = ("territory", "epci", "departement", "region", "france_metro", "france")
LOCAL_LEVELS = ("territory", "epci")  # the CPTS and its EPCI parts
COMPARATOR_LEVELS = ("departement", "region", "france_metro", "france")
PUBLISHED_LEVELS = ("departement", "region", "france_metro")  # where PTOD publishes aggregates
FRANCE_METRO = ("FRM", "France métropolitaine")
FRANCE = ("FR", "France entière")
AGE_BANDS = (("0_14", "0-14 ans"), ("15_24", "15-24 ans"), ("25_54", "25-54 ans"),
             ("55_64", "55-64 ans"), ("65_79", "65-79 ans"), ("80p", "80 ans ou plus"))
APL_PROFESSIONS_SHORT = APL_SHORT  # defined once, in cpts_diag.professions
TIDY_COLUMNS = ["indicator_id", "label", "unit", "source", "vintage", "theme", "level", "code",
                "name", "value", "value_same_basis", "method", "n_communes", "n_missing",
                "coverage", "note"]
THEMES = {"population": "Population", "age": "Âges", "socio": "Situation socio-économique",
          "acces_soins": "Accessibilité aux soins (APL)", "offre": "Offre de soins",
          "sante": "État de santé"}
#: BPE codes of care structures (not professions), key used in the indicator ids (``count_msp_…``)
BPE_STRUCTURE_CODES = {"D113": "msp", "D108": "cds"}
#: every BPE code carried by the commune frame (``bpe_<code>`` columns): professions, pharmacies,
#: care structures
BPE_ALL_CODES = {**BPE_CODES, **BPE_STRUCTURE_CODES}
#: datasets of ``compute.kind: published`` (values published for départements / régions / France
#: only): ``match`` maps each compute key to the column it selects; ``level`` is the column naming
#: the level (None: every row is a département) and ``code`` the column of the code
PUBLISHED_DATASETS = {
    "vaccination": {"match": {"indicator": "indicateur", "year": "annee"}, "level": "niveau",
                    "code": "code"},
    "mortality": {"match": {"cause": "cause", "sexe": "sexe", "year": "annee"}, "level": None,
                  "code": "departement"},
}
#: words allowed in the ``geography`` field of a published indicator (levels where it exists)
GEOGRAPHIES = ("département", "région", "France")
_KINDS = {"sum", "ratio", "wmean", "growth", "quantile", "none", "published", "bv_estimate"}
_FLAGS = {"incomplete_2025", "polygon_area"}  # automatic notes, see aggregation._notes()
_REQUIRED = {"label", "unit", "formula", "source", "source_id", "vintage", "decimals", "theme",
             "coverage", "compute"}


def load_yaml_unique(text: str):
    """Parse YAML text safely and within the registry's bounds (:mod:`cpts_diag.safe_yaml`),
    refusing duplicate keys (``yaml.constructor.ConstructorError``)."""
    return parse_yaml(text, REGISTRY_LIMITS, unique_keys=True)


def load_registry(path: Path = REGISTRY_PATH, text: str | None = None) -> dict[str, dict]:
    """Read ``indicators.yaml`` (or ``text``, a YAML string) and check every entry.

    Raises ``ValueError`` (French message naming the indicator and the field) on a missing field,
    an unknown ``compute.kind``, coverage or flag, and on an indicator id given twice."""
    where = "texte YAML" if text is not None else str(path)
    if text is None:
        reg = read_yaml(path, REGISTRY_LIMITS, where=where)  # YamlFileError is a ValueError
    else:
        reg = load_yaml(text, where, REGISTRY_LIMITS)
    if not isinstance(reg, dict):
        raise ValueError(f"{where} : le registre doit être un dictionnaire « identifiant: "
                         "{label: …, unit: …} », pas " + type(reg).__name__)
    for iid, d in reg.items():
        miss = _REQUIRED - set(d)
        if miss:
            raise ValueError(f"{where} : l'indicateur {iid} n'a pas les champs {sorted(miss)} ; "
                             "ajoutez-les (voir l'en-tête du registre)")
        kind = d["compute"].get("kind")
        if kind not in _KINDS:
            raise ValueError(f"{where} : indicateur {iid} : compute.kind {kind!r} inconnu ; "
                             f"valeurs possibles : {', '.join(sorted(_KINDS))}")
        if kind == "published":
            _check_published(iid, d, where)
        elif kind == "bv_estimate" and not d["compute"].get("column"):
            raise ValueError(f"{where} : indicateur {iid} : compute.column manque (colonne de "
                             "cpts_diag.health_status.BV_ESTIMABLE_COLUMNS, p. ex. part_ald_2024)")
        if d["coverage"] not in ("metro", "france"):
            raise ValueError(f"{where} : indicateur {iid} : coverage doit valoir metro ou france")
        d["vintage"] = str(d["vintage"])
        d.setdefault("note", None)
        d.setdefault("geography", None)
        d.setdefault("short_label", d["label"])
        d["flags"] = list(d.get("flags") or [])
        if set(d["flags"]) - _FLAGS:
            raise ValueError(f"{where} : indicateur {iid} : flags inconnus "
                             f"{sorted(set(d['flags']) - _FLAGS)} ; valeurs possibles : {sorted(_FLAGS)}")
    return reg


def _check_published(iid: str, d: dict, where: str) -> None:
    """A ``published`` entry names a known dataset, every key selecting its rows, and where the
    values exist (``geography``)."""
    c = d["compute"]
    ds = PUBLISHED_DATASETS.get(c.get("dataset"))
    if ds is None:
        raise ValueError(f"{where} : indicateur {iid} : compute.dataset {c.get('dataset')!r} "
                         f"inconnu ; valeurs possibles : {', '.join(PUBLISHED_DATASETS)}")
    miss = [k for k in ds["match"] if k not in c]
    if miss:
        raise ValueError(f"{where} : indicateur {iid} : compute.{', compute.'.join(miss)} manque ; "
                         f"le jeu {c['dataset']} demande : {', '.join(ds['match'])}")
    geo = [g.strip() for g in str(d.get("geography") or "").split(",") if g.strip()]
    if not geo or set(geo) - set(GEOGRAPHIES):
        raise ValueError(f"{where} : indicateur {iid} : le champ geography doit lister les niveaux "
                         f"publiés parmi : {', '.join(GEOGRAPHIES)} (p. ex. « département, région, "
                         "France »)")


def bv_columns(registry: dict[str, dict] | None = None) -> list[str]:
    """Bassin-de-vie columns (CartoSanté / INSEE) estimated by the registry (``bv_estimate``);
    the commune frame carries each as ``bv_<column>``."""
    registry = INDICATORS if registry is None else registry
    return list(dict.fromkeys(d["compute"]["column"] for d in registry.values()
                              if d["compute"]["kind"] == "bv_estimate"))


INDICATORS: dict[str, dict] = load_registry()


def registry_frame(ids=None) -> pd.DataFrame:
    """The registry as a table (id, theme, label, unit, formula, source, vintage, coverage, note,
    geography — where a ``published`` value exists, empty otherwise)
    for the reports' and README's « définitions des indicateurs »."""
    ids = list(INDICATORS) if ids is None else list(ids)
    rows = [{"id": i, "theme": INDICATORS[i]["theme"], "label": INDICATORS[i]["label"],
             "unit": INDICATORS[i]["unit"], "formula": INDICATORS[i]["formula"],
             "source": INDICATORS[i]["source"], "vintage": INDICATORS[i]["vintage"],
             "coverage": INDICATORS[i]["coverage"], "note": INDICATORS[i]["note"] or "",
             "geography": INDICATORS[i]["geography"] or ""}
            for i in ids]
    return pd.DataFrame(rows)


def registry_markdown(ids=None) -> str:
    """Markdown table of the registry (French headers), one row per indicator id."""
    f = registry_frame(ids)
    esc = lambda s: str(s).replace("|", "\\|").replace("\n", " ")  # noqa: E731
    lines = ["| identifiant | indicateur | unité | formule | source | millésime |",
             "|---|---|---|---|---|---|"]
    for r in f.itertuples(index=False):
        geo = f" — publié seulement par : {esc(r.geography)}" if r.geography else ""
        lines.append(f"| `{r.id}` | {esc(r.label)} | {esc(r.unit)} | {esc(r.formula)}{geo}"
                     f"{' — ' + esc(r.note) if r.note else ''} | {esc(r.source)} | {r.vintage} |")
    return "\n".join(lines)
