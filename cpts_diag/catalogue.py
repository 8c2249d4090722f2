"""Indicator catalogue of a territory: a JSON-serialisable dict and a French terminal table.

Shape of :func:`catalogue` (stable; keys are only ever added)::

    {"territory": {"id", "name", "communes": [codes], "epcis": [...], "departements": [...],
                   "regions": [...]},
     "indicators": [{"id", "label", "unit", "source", "vintage",
                     "values": {"territory": v, "epci": {siren: v}, "departement": {code: v},
                                "region": {code: v}, "france_metro": v, "france": v},
                     "coverage": {"territory": c, "epci": {siren: c}, "departement": {code: c},
                                  "region": {code: c}, "france_metro": c, "france": c},
                     # only for indicators with a published comparator (registry ``published``):
                     "values_same_basis": {"departement": {code: v}, "region": {code: v},
                                           "france_metro": v},
                     # only for values published by their source at some levels only
                     # (compute.kind published): where they exist, e.g. « département »
                     "geography": "département, région, France"}]}

``c`` is ``{"communes": n, "communes_missing": k, "population_share": s}`` — the computation
rests on n − k of the level's n communes, holding the share s (0–1) of its RP 2022 population —
or ``None`` where the value is not computed from communes (not covered, not computable). For a
published comparator (``values`` = the PTOD all-population aggregate), ``coverage`` describes
the same-basis computation ``values_same_basis``: the aggregate over the communes where the data
exist, computed exactly as the territory's value.

Missing values (secret, no data, not covered) are ``None`` (``null`` in JSON), never 0. Labels,
units, formulas and sources come from the registry ``indicators.yaml``.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .aggregation import fmt_share
from .fmt import NNBSP, fmt_number, fmt_percent
from .indicators import INDICATORS, THEMES as _THEMES, _as_territory, compute_all

__all__ = ["catalogue", "catalogue_from_tidy", "catalogue_text"]

_MULTI = ("epci", "departement", "region")
_SINGLE = ("territory", "france_metro", "france")
_SAME_BASIS_LEVELS = ("departement", "region", "france_metro")  # where a value can be published


def _clean(v):
    """Python float (rounded to 6 decimals) or None for NaN/None."""
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    if math.isnan(f) or math.isinf(f):
        return None
    return round(f, 6)


def _coverage(n, k, share):
    """Coverage entry of one tidy row, or None when the value is not computed from communes."""
    if n != n or k != k:
        return None
    return {"communes": int(n), "communes_missing": int(k), "population_share": _clean(share)}


def _put(d: dict, lvl: str, code, v) -> None:
    if lvl in _MULTI:
        d.setdefault(lvl, {})[str(code)] = v
    elif lvl in _SINGLE:
        d[lvl] = v


def catalogue_from_tidy(tidy: pd.DataFrame, territory) -> dict:
    """Build the catalogue dict from a :func:`~cpts_diag.indicators.compute_all` frame (pure)."""
    head = {"id": territory.id, "name": territory.name, "communes": list(territory.communes),
            "epcis": list(territory.epcis), "departements": list(territory.departements),
            "regions": list(territory.regions)}
    cols = {c: tidy[c].to_numpy(dtype=object) for c in ("indicator_id", "level", "code", "label",
                                                          "unit", "source", "vintage")}
    num = {c: (tidy[c].to_numpy(dtype=float, na_value=float("nan")) if c in tidy.columns
               else np.full(len(tidy), np.nan))
           for c in ("value", "value_same_basis", "n_communes", "n_missing", "coverage")}
    by_id: dict[str, dict] = {}
    same: dict[str, dict] = {}
    for i, iid in enumerate(cols["indicator_id"]):
        if iid not in by_id:  # label, unit, source, vintage: from the registry, via finalize()
            by_id[iid] = {
                "id": iid, "label": cols["label"][i], "unit": cols["unit"][i],
                "source": cols["source"][i], "vintage": str(cols["vintage"][i]),
                "values": {"territory": None, "epci": {}, "departement": {}, "region": {},
                           "france_metro": None, "france": None},
                "coverage": {"territory": None, "epci": {}, "departement": {}, "region": {},
                             "france_metro": None, "france": None}}
        lvl, code, ind = cols["level"][i], cols["code"][i], by_id[iid]
        _put(ind["values"], lvl, code, _clean(num["value"][i]))
        _put(ind["coverage"], lvl, code,
             _coverage(num["n_communes"][i], num["n_missing"][i], num["coverage"][i]))
        vs = _clean(num["value_same_basis"][i])
        if vs is not None and lvl in _SAME_BASIS_LEVELS:
            _put(same.setdefault(iid, {"departement": {}, "region": {}, "france_metro": None}),
                 lvl, code, vs)
    for iid, d in same.items():
        by_id[iid]["values_same_basis"] = d
    for iid, ind in by_id.items():
        geo = INDICATORS.get(iid, {}).get("geography")
        if geo:
            ind["geography"] = geo
    return {"territory": head, "indicators": list(by_id.values())}


def catalogue(territory) -> dict:
    """Catalogue of every indicator of ``territory`` (a Territory or a CPTS id)."""
    territory = _as_territory(territory)
    return catalogue_from_tidy(compute_all(territory), territory)


PARTIAL_MARK = "*"  # the value rests on part of the level's communes
SAME_BASIS_MARK = "†"  # published value; a same-basis comparator exists
# the terminal marks a comparator's partial value when its communes hold less than this share of
# the level's population (a few empty communes of a région or of France would otherwise mark every
# cell); the territory's own value is marked whenever one of its communes is left out; the
# catalogue dict and the tidy notes keep every gap
MARK_COVERAGE_BELOW = 0.99


def _get(d: dict, lvl: str, code):
    v = d.get(lvl)
    return v.get(code) if code is not None and isinstance(v, dict) else (None if code is not None else v)


def _fmt_cell(ind: dict, v) -> str:
    meta = INDICATORS.get(ind["id"], {})
    unit, dec = meta.get("unit", ind.get("unit", "")), meta.get("decimals", 1)
    if unit.startswith("%"):
        return fmt_percent(v, dec, signed=unit.endswith("par an"))
    return fmt_number(v, dec)


def _coverage_text(c: dict) -> str:
    """« 8 communes sur 104, 50,0 % de la population » (communes having the value)."""
    n, k = c["communes"], c["communes_missing"]
    s = f"{fmt_number(n - k)} commune{'s' if n - k > 1 else ''} sur {fmt_number(n)}"
    share = c.get("population_share")
    if share is not None and k > 0 and share >= 0.9995:
        s += " (population des communes sans donnée inconnue)"
    elif share is not None:
        s += f", {fmt_share(share)} de la population"
    return s


def _mark(ind: dict, lvl: str, code) -> tuple[str, str | None]:
    """(mark, footnote part) of one cell: same-basis comparator, partial coverage or nothing."""
    if _get(ind["values"], lvl, code) is None:
        return "", None
    cov = _get(ind.get("coverage", {}), lvl, code)
    vs = _get(ind.get("values_same_basis", {}), lvl, code) if lvl in _SAME_BASIS_LEVELS else None
    if vs is not None:
        s = (f"valeur publiée (toute la population) ; sur les seules communes où la donnée est "
             f"publiée : {_fmt_cell(ind, vs)}")
        return SAME_BASIS_MARK, s + (f" (couverture : {_coverage_text(cov)})" if cov else "")
    share = (cov or {}).get("population_share")
    if cov and cov["communes_missing"] > 0 and (lvl == "territory" or share is None
                                                or share < MARK_COVERAGE_BELOW):
        return PARTIAL_MARK, f"couverture : {_coverage_text(cov)}"
    return "", None


def _table(cat: dict, columns, title: str, notes: list) -> list[str]:
    """Rows of one terminal table; footnotes of its marked cells are appended to ``notes``."""
    header = ["Indicateur", "Unité"] + [c[2] for c in columns]
    body, theme = [], None
    for ind in cat["indicators"]:
        meta = INDICATORS.get(ind["id"], {})
        if meta.get("theme") != theme:
            theme = meta.get("theme")
            body.append([f"[{_THEMES.get(theme, theme)}]"] + [""] * (len(header) - 1))
        label = meta.get("short_label", ind["label"])
        if len(label) > 64:
            label = label[:63] + "…"
        row, parts = [label, ind["unit"] if len(ind["unit"]) <= 18 else ind["unit"][:17] + "…"], []
        for lvl, code, name in columns:
            mark, part = _mark(ind, lvl, code)
            row.append(_fmt_cell(ind, _get(ind["values"], lvl, code)) + (mark or " "))
            if part:
                parts.append(f"{mark} {name} : {part}")
        body.append(row)
        if parts:
            notes.append(f"{label} — " + " ; ".join(parts))
    widths = [max(len(r[i]) for r in [header] + body) for i in range(len(header))]
    out = [title, "  ".join(h.ljust(widths[i]) if i < 2 else h.rjust(widths[i])
                            for i, h in enumerate(header))]
    out.append("  ".join("-" * w for w in widths))
    for r in body:
        out.append("  ".join(c.ljust(widths[i]) if i < 2 else c.rjust(widths[i])
                             for i, c in enumerate(r)).rstrip())
    return out


def _forms(cat: dict):
    """How the texts name the catalogue's territory (:data:`cpts_diag.territory_kinds.KINDS`)."""
    from .territory_kinds import KINDS, kind_of_id

    return KINDS.get(kind_of_id(str(cat.get("territory", {}).get("id", ""))), KINDS["cpts"])


def _geography_notes(cat: dict) -> list[str]:
    """Footnote of the values published only for some levels (n.d. for the CPTS, never computed)."""
    by_geo: dict[str, list[str]] = {}
    for ind in cat["indicators"]:
        if ind.get("geography"):
            label = INDICATORS.get(ind["id"], {}).get("short_label", ind["label"])
            by_geo.setdefault(ind["geography"], []).append(label)
    if not by_geo:
        return []
    return ["", f"n.d. pour {_forms(cat).la} et ses EPCI : valeurs publiées seulement à d'autres échelles, "
                "jamais recalculées :"] + [f"  publié par {g} : {' ; '.join(labels)}"
                                             for g, labels in by_geo.items()]


def catalogue_text(cat: dict, epcis: bool = True) -> str:
    """Readable French table of a catalogue for the terminal (n.d. = non disponible).

    Cells marked ``*`` rest on communes holding less than 99 % of the level's population (secret
    or missing data elsewhere), ``†`` are published all-population values; the footnotes give the
    coverage and the same-basis comparator."""
    terr = cat["territory"]
    deps, regs = terr["departements"], terr["regions"]
    forms = _forms(cat)
    cols = ([("territory", None, forms.noun)] + [("departement", d, f"Dép. {d}") for d in deps]
            + [("region", r, f"Rég. {r}") for r in regs]
            + [("france_metro", None, "France métro."), ("france", None, "France")])
    lines = [f"{terr['name']} ({terr['id']}) — {len(terr['communes'])} communes, "
             f"départements {', '.join(deps)}, régions {', '.join(regs)}, "
             f"{len(terr['epcis'])} EPCI", ""]
    notes: list[str] = []
    lines += _table(cat, cols, "Indicateurs et comparaisons", notes)
    if epcis and terr["epcis"]:
        ecols = [("epci", e, e) for e in terr["epcis"]]
        lines += ["", f"Parties des EPCI comprises dans {forms.la} (SIREN en colonne)"]
        lines += _table(cat, ecols, "", notes)[1:]
        try:
            from .loaders import load_epcis

            names = load_epcis().set_index("epci_siren")["epci_nom"]
            lines += [""] + [f"{e} : {names.get(e, '?')}" for e in terr["epcis"]]
        except Exception:  # names are a convenience: never fail the table for them
            pass
    if notes:
        lines += ["", f"{PARTIAL_MARK} valeur calculée sur une partie des communes seulement "
                      "(moins de 99 % de la population : secret statistique ou donnée absente "
                      "ailleurs) ; "
                      f"{SAME_BASIS_MARK} valeur publiée, à comparer à la valeur sur la même base "
                      f"de communes que {forms.la} :"] + [f"  {n}" for n in notes]
    lines += _geography_notes(cat)
    lines += ["", f"n.d. : non disponible (secret statistique, donnée absente ou non couverte). "
                  f"Séparateur de milliers : espace fine insécable (U+202F{NNBSP}). Formules et sources : "
                  "cpts_diag/indicators.yaml."]
    return "\n".join(lines)
