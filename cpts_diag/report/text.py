"""French text helpers of the report: lists, plurals, dates, escaping, short captions.

Pure functions, no data access. Every string that comes from a user or a data file (perimeter
name, source, notes, scenario title, commune / EPCI / establishment names) is escaped for where
it goes:

* Markdown / HTML: :func:`esc` — HTML special characters are escaped and Markdown syntax
  characters are backslash-escaped, so a name is always shown as text, never interpreted; the
  renderer also neutralises any raw ``<`` left in a Markdown block (:func:`no_raw_html`);
* matplotlib text: :func:`mpl_safe` — ``$`` would start mathtext.
"""
from __future__ import annotations

import html
import re

from ..fmt import fmt_number

MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
          "octobre", "novembre", "décembre")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~$:])")  # ':' too: no autolink of a URL in a name


_LINE_BREAKS = re.compile(r"[\r\n\v\f\u0085\u2028\u2029]+")


def esc(text) -> str:
    """A user-supplied string, safe inside Markdown and HTML (shown literally, on one line: a line
    break would let the rest of the string start a Markdown list, heading or code block).

    ``&``, ``<`` and ``>`` become entities; quotes stay (harmless in Markdown text, and an entity
    such as ``&#x27;`` would have its ``#`` backslash-escaped and show as « &#x27; »)."""
    s = html.escape(_LINE_BREAKS.sub(" ", "" if text is None else str(text)), quote=False)
    return _MD_SPECIAL.sub(r"\\\1", s)


def join_fr(items) -> str:
    """``["a", "b", "c"]`` → ``"a, b et c"`` (empty items dropped)."""
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " et " + items[-1]


def plural(n, singular: str, plural_form: str | None = None) -> str:
    """``3, "commune"`` → ``"3 communes"`` (French: 0 and 1 are singular)."""
    n = int(n)
    return f"{fmt_number(n, 0)} {singular if n in (0, 1) else (plural_form or singular + 's')}"


def verb(n, singular: str, plural_form: str) -> str:
    return singular if int(n) <= 1 else plural_form


def date_fr(s) -> str | None:
    """``"2023-12-13"`` → ``"13 décembre 2023"``; ``"2024-12"`` → ``"décembre 2024"``."""
    if not s:
        return None
    parts = str(s).split("-")
    if len(parts) == 3:
        return f"{int(parts[2])} {MONTHS[int(parts[1]) - 1]} {parts[0]}"
    if len(parts) == 2:
        return f"{MONTHS[int(parts[1]) - 1]} {parts[0]}"
    return parts[0]


def de(noun: str) -> str:
    """« de » with elision: ``de("infirmiers")`` → « d'infirmiers »."""
    return ("d'" if noun[:1].lower() in "aeéèêiîoôuhy" else "de ") + noun


def capitalize(s: str) -> str:
    return s[:1].upper() + s[1:]


# --- short captions ----------------------------------------------------------------------------------
#: Publisher and dataset of each source id, as a caption names them (« Insee, RP 2022 »). The
#: derivation and mirror details (PTOD, COGiter, derived columns, licence doubts) are given once, in
#: the « Sources et millésimes » section.
CAPTION_DATASETS = {
    "population": "Insee, RP",
    "population_age_42_43": "Insee, RP",
    "bpe_sante": "Insee, BPE",
    "apl_long": "Drees, APL",
    "hospitals": "Ministère de la Santé, FINESS",
    "cog_communes": "Insee, COG",
    "geo_communes_metro": "IGN, surfaces",
    "ptod_aggregates": "Insee",
}
GEO_CAPTION = "fond communal IGN, Admin Express"
#: Added to :data:`GEO_CAPTION` when some communes are drawn from the simplified national layer
#: (``geo_communes_metro``), i.e. lie outside the départements of the detailed layer.
GEO_SIMPLIFIED = ("contours simplifiés (Admin Express COG CARTO 2025, COGiter) hors des "
                  "départements {deps}")


def dep_of_commune(code) -> str:
    """Département of a commune code: its first 2 characters, 3 for an overseas code (``97…``)."""
    code = str(code)
    return code[:3] if code.startswith("97") else code[:2]


def drawn_simplified(codes) -> bool:
    """Whether some of the communes ``codes`` lie outside the départements of the detailed layer
    (``schemas.DEPS_8``), i.e. are drawn with the simplified national polygons."""
    from ..schemas import DEPS_8

    return not all(dep_of_commune(c) in DEPS_8 for c in codes)


def geo_caption(ctx) -> str:
    """Map-background caption for the territory of ``ctx``: :data:`GEO_CAPTION` when every commune
    lies in a département of the detailed layer (``schemas.DEPS_8``; the grey neighbours are then
    drawn from that layer too, :func:`cpts_diag.loaders.load_territory_polygons`), else it also says
    that the polygons are simplified outside those départements."""
    from ..schemas import DEPS_8

    if not drawn_simplified(ctx.territory.communes):
        return GEO_CAPTION
    return f"{GEO_CAPTION} ; " + GEO_SIMPLIFIED.format(deps=join_fr(DEPS_8))


def caption_of(entry: dict) -> str:
    """Short caption source of one registry entry: « Insee, RP 2022 », « Drees, APL 2023 »."""
    sid, vintage = entry.get("source_id"), str(entry.get("vintage", "")).strip()
    if sid == "socio":
        name = "Insee, Filosofi" if "Filosofi" in str(entry.get("source", "")) else "Insee, RP"
    elif sid == "hospitals":
        return "Ministère de la Santé, FINESS (mars 2020)"
    else:
        name = CAPTION_DATASETS.get(sid)
    if name is None:
        return str(entry.get("source", "")).split(" — ")[0].split(" (")[0]
    extra = " ; population Insee, RP 2022" if sid == "bpe_sante" and "population" in str(
        entry.get("source", "")) else ""
    return f"{name} {vintage}".strip() + extra


def join_captions(captions) -> str:
    """Distinct captions, each once, in order (« Insee, RP 2022 ; Drees, APL 2023 »)."""
    parts = [p.strip() for c in captions if c for p in str(c).split(" ; ")]
    return " ; ".join(dict.fromkeys(p for p in parts if p))


_UNESCAPED_DOLLAR = re.compile(r"(?<!\\)\$")


def mpl_safe(text) -> str:
    """A user string safe in matplotlib text: every ``$`` (which would start mathtext) escaped.

    Idempotent (an already escaped ``\\$`` is left alone), so a label escaped by a section and
    again by the map that draws it shows one ``$``."""
    return _UNESCAPED_DOLLAR.sub(r"\\$", "" if text is None else str(text))


def no_raw_html(markdown: str) -> str:
    """Package Markdown with every raw ``<`` written ``&lt;``: a block never carries live HTML,
    even if a label was inserted without :func:`esc` (the escaped text is unchanged)."""
    return str(markdown).replace("<", "&lt;")
