"""Territories beyond the CPTS: EPCI, bassin de vie 2022, département, list of communes.

An EPCI, a bassin de vie or a département is named by a *prefixed id*, resolved from the COG 2025
commune table (``cog/communes.csv``, :func:`cpts_diag.loaders.load_communes`) without any YAML::

    epci-200035731      # EPCI by SIREN (9 digits)      → « CA Roannais Agglomération »
    bv-42187            # bassin de vie 2022 by code     → « Bassin de vie de Roanne »
    dep-42, dep-2A      # département by code           → « Loire (42) »

A list of communes is a perimeter whose id starts with :data:`COMMUNES_ID_PREFIX`
(``territoire-…``): the report calls it « le territoire ». Everything else is a CPTS.
:data:`KINDS` gives, for each kind, the French forms the report uses (« l'EPCI », « du bassin de
vie », « au département »…).
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

import pandas as pd

from .errors import TerritoryError
from .fmt import fold

__all__ = ["Kind", "KINDS", "PREFIXED_KINDS", "COMMUNES_ID_PREFIX", "parse_kind_id", "kind_of_id",
           "territory_for", "canonical_id", "ids_for"]


@dataclass(frozen=True)
class Kind:
    """How the texts name a kind of territory: short noun and French article forms."""

    noun: str   # « Couverture (EPCI) », column headers
    la: str     # « l'EPCI compte … »
    de_la: str  # « la population de l'EPCI »
    a_la: str   # « propre à l'EPCI »
    elle: str   # the pronoun: « elle s'étend » (la CPTS), « il s'étend » (l'EPCI)
    plural: str  # heading of a list of them (index page): « Bassins de vie »


#: Every kind of territory, defined once (``cpts``: a perimeter file; ``communes``: a commune list).
KINDS: dict[str, Kind] = {
    "cpts": Kind("CPTS", "la CPTS", "de la CPTS", "à la CPTS", "elle", "CPTS"),
    "epci": Kind("EPCI", "l'EPCI", "de l'EPCI", "à l'EPCI", "il", "EPCI"),
    "bv": Kind("bassin de vie", "le bassin de vie", "du bassin de vie", "au bassin de vie", "il",
               "Bassins de vie"),
    "dep": Kind("département", "le département", "du département", "au département", "il",
                "Départements"),
    "communes": Kind("territoire", "le territoire", "du territoire", "au territoire", "il",
                     "Territoires (listes de communes)"),
}

#: Kinds named by a prefixed id ``<kind>-<code>``: (COG column of the code, of the name, format
#: of the code, French label, example).
PREFIXED_KINDS: dict[str, tuple[str, str, str, str, str]] = {
    "epci": ("epci_siren", "epci_nom", r"\d{9}", "d'EPCI (SIREN à 9 chiffres)", "epci-200035731"),
    "bv": ("bv2022", "lib_bv2022", r"[0-9][0-9AB]\d{3}", "de bassin de vie 2022 (5 caractères)",
           "bv-42187"),
    "dep": ("dep", "nom_dep", r"\d{2,3}|2[AB]", "de département", "dep-42, dep-2A ou dep-974"),
}

#: Ids of perimeters that are lists of communes (« le territoire »), e.g. ``territoire-nord``.
COMMUNES_ID_PREFIX = "territoire-"

_PREFIX_RE = re.compile(r"^(epci|bv|dep)-([0-9A-Za-z]{1,12})$", re.IGNORECASE)


def parse_kind_id(text) -> tuple[str, str] | None:
    """``("epci", "200035731")`` for ``"epci-200035731"`` (prefix case-insensitive, code
    upper-cased: ``dep-2a`` → ``("dep", "2A")``); None when ``text`` is not a prefixed id. The
    code is not checked here (:func:`territory_for` does)."""
    m = _PREFIX_RE.match(str(text).strip()) if isinstance(text, str) else None
    return (m.group(1).lower(), m.group(2).upper()) if m else None


def kind_of_id(cpts_id: str) -> str:
    """The kind of the territory of id ``cpts_id`` (a key of :data:`KINDS`)."""
    parsed = parse_kind_id(cpts_id)
    if parsed:
        return parsed[0]
    return "communes" if str(cpts_id).startswith(COMMUNES_ID_PREFIX) else "cpts"


def _com(com: pd.DataFrame | None) -> pd.DataFrame:
    if com is not None:
        return com
    from .loaders import load_communes

    return load_communes()


def _of_name(name: str) -> str:
    """« de Roanne », « d'Ambérieu-en-Bugey », « du Puy-en-Velay », « des Sables-d'Olonne »."""
    if name.startswith("Le "):
        return "du " + name[3:]
    if name.startswith("Les "):
        return "des " + name[4:]
    if fold(name[:1]) in tuple("aeiouy"):
        return "d'" + name
    return "de " + name


def _unknown(kind: str, code: str, com: pd.DataFrame) -> TerritoryError:
    """A French error for an unknown code, with the closest codes (by code or by name)."""
    col, name_col, fmt, label, example = PREFIXED_KINDS[kind]
    names = com.drop_duplicates(col).set_index(col)[name_col].dropna()
    if re.fullmatch(fmt, code):
        close = difflib.get_close_matches(code, [str(c) for c in names.index], n=3, cutoff=0.6)
    else:
        simple = {fold(v): k for k, v in names.items()}
        close = [simple[s] for s in difflib.get_close_matches(fold(code), list(simple), n=3, cutoff=0.5)]
    hint = (" Codes proches : " + ", ".join(f"{kind}-{c} ({names[c]})" for c in close) + "."
            if close else "")
    return TerritoryError(
        f"Territoire « {kind}-{code} » inconnu : aucune commune du COG 2025 n'a « {code} »"
        f" comme code {label} (colonne {col} de cog/communes.csv).{hint} Correctif : donnez un code "
        f"existant, p. ex. {example}.")


def canonical_id(text, com: pd.DataFrame | None = None) -> str:
    """The prefixed id ``text`` checked against the COG (``dep-2a`` → ``dep-2A``); raises
    :class:`TerritoryError` (French, with close codes) when it is not a prefixed id of an existing
    EPCI, bassin de vie or département."""
    parsed = parse_kind_id(text)
    if parsed is None:
        raise TerritoryError(f"« {text} » n'est pas un identifiant de territoire (epci-SIREN, "
                             "bv-CODE ou dep-CODE). Correctif : p. ex. epci-200035731, bv-42187, "
                             "dep-42.")
    kind, code = parsed
    com = _com(com)
    if not (com[PREFIXED_KINDS[kind][0]] == code).any():
        raise _unknown(kind, code, com)
    return f"{kind}-{code}"


def territory_for(kind: str, code, com: pd.DataFrame | None = None):
    """The :class:`~cpts_diag.territory.Territory` of every COG 2025 commune of the EPCI
    (``kind="epci"``), bassin de vie 2022 (``"bv"``) or département (``"dep"``) ``code``; its id
    is the prefixed id, its name comes from the COG. Raises :class:`TerritoryError` when the code
    is unknown (French, with close codes)."""
    from .territory import Territory

    if kind not in PREFIXED_KINDS:
        raise TerritoryError(f"Type de territoire « {kind} » inconnu. Correctif : l'un de "
                             f"{', '.join(PREFIXED_KINDS)}.")
    code = str(code).strip().upper()
    com = _com(com)
    col, name_col = PREFIXED_KINDS[kind][:2]
    sub = com[com[col] == code]
    if sub.empty:
        raise _unknown(kind, code, com)
    name = str(sub[name_col].iloc[0])
    name = {"epci": name, "bv": f"Bassin de vie {_of_name(name)}", "dep": f"{name} ({code})"}[kind]
    communes = sorted(sub["code_commune"])
    src = (com.attrs.get("source") or {})
    return Territory(
        id=f"{kind}-{code}", name=name, communes=communes,
        members={"communes": [] if kind == "epci" else communes,
                 "epcis": [code] if kind == "epci" else []},
        epcis=sorted(set(sub["epci_siren"].dropna())), departements=sorted(set(sub["dep"].dropna())),
        regions=sorted(set(sub["reg"].dropna())), kind=kind,
        source=f"{src.get('publisher', 'Insee')}, {src.get('label', 'Code officiel géographique')} "
               f"{src.get('vintage', 2025)} (colonne {col})")


def ids_for(kind: str, in_dep: str | None = None, com: pd.DataFrame | None = None) -> list[str]:
    """Sorted prefixed ids of every EPCI / bassin de vie / département, or, with ``in_dep``,
    of those with at least one commune in that département (one that straddles départements is
    listed once)."""
    if kind not in PREFIXED_KINDS:
        raise TerritoryError(f"Type de territoire « {kind} » inconnu. Correctif : l'un de "
                             f"{', '.join(PREFIXED_KINDS)}.")
    com = _com(com)
    if in_dep is not None:
        dep = canonical_id(f"dep-{str(in_dep).strip()}", com)[4:]
        com = com[com["dep"] == dep]
    col = PREFIXED_KINDS[kind][0]
    return [f"{kind}-{c}" for c in sorted(set(com[col].dropna().astype(str)))]
