"""Indicator catalogue of a territory: a JSON-serialisable dict and a French terminal table.

Shape of :func:`catalogue` (stable)::

    {"territory": {"id", "name", "communes": [codes], "epcis": [...], "departements": [...],
                   "regions": [...]},
     "indicators": [{"id", "label", "unit", "source", "vintage",
                     "values": {"territory": v, "epci": {siren: v}, "departement": {code: v},
                                "region": {code: v}, "france_metro": v, "france": v}}]}

Missing values (secret, no data, not covered) are ``None`` (``null`` in JSON), never 0. Labels,
units, formulas and sources come from the registry ``indicators.yaml``.
"""
from __future__ import annotations

import math

import pandas as pd

from .fmt import NNBSP, fmt_number, fmt_percent
from .indicators import INDICATORS, THEMES as _THEMES, _as_territory, compute_all

__all__ = ["catalogue", "catalogue_from_tidy", "catalogue_text"]

_MULTI = ("epci", "departement", "region")
_SINGLE = ("territory", "france_metro", "france")


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


def catalogue_from_tidy(tidy: pd.DataFrame, territory) -> dict:
    """Build the catalogue dict from a :func:`~cpts_diag.indicators.compute_all` frame (pure)."""
    head = {"id": territory.id, "name": territory.name, "communes": list(territory.communes),
            "epcis": list(territory.epcis), "departements": list(territory.departements),
            "regions": list(territory.regions)}
    cols = {c: tidy[c].to_numpy(dtype=object) for c in ("indicator_id", "level", "code", "label",
                                                          "unit", "source", "vintage")}
    vals = tidy["value"].to_numpy(dtype=float, na_value=float("nan"))
    by_id: dict[str, dict] = {}
    for i, iid in enumerate(cols["indicator_id"]):
        if iid not in by_id:  # label, unit, source, vintage: from the registry, via finalize()
            by_id[iid] = {
                "id": iid, "label": cols["label"][i], "unit": cols["unit"][i],
                "source": cols["source"][i], "vintage": str(cols["vintage"][i]),
                "values": {"territory": None, "epci": {}, "departement": {}, "region": {},
                           "france_metro": None, "france": None}}
        lvl, v = cols["level"][i], _clean(vals[i])
        if lvl in _MULTI:
            by_id[iid]["values"][lvl][str(cols["code"][i])] = v
        elif lvl in _SINGLE:
            by_id[iid]["values"][lvl] = v
    inds = list(by_id.values())
    return {"territory": head, "indicators": inds}


def catalogue(territory) -> dict:
    """Catalogue of every indicator of ``territory`` (a Territory or a CPTS id)."""
    territory = _as_territory(territory)
    return catalogue_from_tidy(compute_all(territory), territory)


def catalogue_text(cat: dict, epcis: bool = True) -> str:
    """Readable French table of a catalogue for the terminal (n.d. = non disponible)."""
    terr = cat["territory"]
    deps, regs = terr["departements"], terr["regions"]
    cols = ([("territory", None, "CPTS")] + [("departement", d, f"Dép. {d}") for d in deps]
            + [("region", r, f"Rég. {r}") for r in regs]
            + [("france_metro", None, "France métro."), ("france", None, "France")])
    lines = [f"{terr['name']} ({terr['id']}) — {len(terr['communes'])} communes, "
             f"départements {', '.join(deps)}, régions {', '.join(regs)}, "
             f"{len(terr['epcis'])} EPCI", ""]

    def cell(ind, lvl, code):
        meta = INDICATORS.get(ind["id"], {})
        v = ind["values"][lvl] if code is None else ind["values"][lvl].get(code)
        unit, dec = meta.get("unit", ""), meta.get("decimals", 1)
        if unit.startswith("%"):
            return fmt_percent(v, dec, signed=unit.endswith("par an"))
        return fmt_number(v, dec)

    def table(columns, title):
        header = ["Indicateur", "Unité"] + [c[2] for c in columns]
        body = []
        theme = None
        for ind in cat["indicators"]:
            meta = INDICATORS.get(ind["id"], {})
            if meta.get("theme") != theme:
                theme = meta.get("theme")
                body.append([f"[{_THEMES.get(theme, theme)}]"] + [""] * (len(header) - 1))
            label = meta.get("short_label", ind["label"])
            if len(label) > 64:
                label = label[:63] + "…"
            body.append([label, ind["unit"] if len(ind["unit"]) <= 18 else ind["unit"][:17] + "…"]
                        + [cell(ind, lvl, code) for lvl, code, _ in columns])
        widths = [max(len(r[i]) for r in [header] + body) for i in range(len(header))]
        out = [title, "  ".join(h.ljust(widths[i]) if i < 2 else h.rjust(widths[i])
                                for i, h in enumerate(header))]
        out.append("  ".join("-" * w for w in widths))
        for r in body:
            out.append("  ".join(c.ljust(widths[i]) if i < 2 else c.rjust(widths[i])
                                 for i, c in enumerate(r)).rstrip())
        return out

    lines += table(cols, "Indicateurs et comparaisons")
    if epcis and terr["epcis"]:
        ecols = [("epci", e, e) for e in terr["epcis"]]
        lines += ["", "Parties des EPCI comprises dans la CPTS (SIREN en colonne)"]
        lines += table(ecols, "")[1:]
        try:
            from .loaders import load_epcis

            names = load_epcis().set_index("epci_siren")["epci_nom"]
            lines += [""] + [f"{e} : {names.get(e, '?')}" for e in terr["epcis"]]
        except Exception:  # names are a convenience: never fail the table for them
            pass
    lines += ["", f"n.d. : non disponible (secret statistique, donnée absente ou non couverte). "
                  f"Séparateur de milliers : espace fine insécable (U+202F{NNBSP}). Formules et sources : "
                  "cpts_diag/indicators.yaml."]
    return "\n".join(lines)


