"""Fixed class breaks per mapped indicator, shared by every territory (``map_classes.yaml``).

The breaks were computed ONCE from the national commune table and written in the YAML file
(package data, read with ``yaml.safe_load`` and validated on load); nothing is computed at run
time, so two reports on two territories draw the same indicator with the same classes.
"""
from __future__ import annotations

import math
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import yaml

from ..apl_params import APL_GP_CLASS_COLORS, APL_GP_THRESHOLDS
from .classes import DIRECTIONS, Classes, MapClassesError, _sample_cmap, class_labels, \
    official_apl_classes

__all__ = ["MAP_CLASSES_FILE", "load_map_classes", "classes_for", "figure_record", "SCALES"]

MAP_CLASSES_FILE = "map_classes.yaml"
SCALES = ("sequential", "diverging", "official")
_KEYS = {"method", "scale", "breaks", "colors", "cmap", "direction", "decimals", "centre",
         "centre_source", "centre_level", "relative_steps", "official"}
_REQUIRED = ("method", "scale", "breaks", "direction")
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


def _fail(where: str, msg: str, fix: str):
    raise MapClassesError(f"{MAP_CLASSES_FILE}, {where} : {msg}. Corriger : {fix}.")


def _number(x, where: str) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(float(x)):
        _fail(where, f"{x!r} n'est pas un nombre fini", "écrire un nombre, avec un point décimal (2.5)")
    return float(x)


def _check_colors(spec: dict, n: int, where: str) -> None:
    if ("colors" in spec) == ("cmap" in spec):
        _fail(where, "il faut soit colors (liste de couleurs), soit cmap (nom de palette matplotlib)",
              "garder une seule des deux clés")
    if "colors" in spec:
        cols = spec["colors"]
        if not isinstance(cols, list) or len(cols) != n:
            _fail(f"{where}.colors", f"{n} classes mais {len(cols) if isinstance(cols, list) else 0} "
                  "couleurs", f"donner {n} couleurs (une de plus que de bornes)")
        bad = [c for c in cols if not isinstance(c, str) or not _HEX.match(c)]
        if bad:
            _fail(f"{where}.colors", f"couleur(s) invalide(s) {bad}", "écrire des codes #rrggbb")
    else:
        import matplotlib

        if spec["cmap"] not in matplotlib.colormaps:
            _fail(f"{where}.cmap", f"palette {spec['cmap']!r} inconnue de matplotlib",
                  "utiliser un nom de matplotlib.colormaps (ex. PuBu)")


def _check_centre(spec: dict, b: list[float], where: str) -> None:
    if spec["scale"] != "diverging":
        if "centre" in spec:
            _fail(f"{where}.centre", "un centre n'a de sens que pour scale: diverging",
                  "retirer centre ou passer scale à diverging")
        return
    if "centre" not in spec or not str(spec.get("centre_source") or "").strip():
        _fail(where, "une échelle divergente doit donner centre et centre_source",
              "écrire la valeur centrale (valeur France ou 0) et sa source")
    c = _number(spec["centre"], f"{where}.centre")
    if not b[0] <= c <= b[-1]:
        _fail(f"{where}.centre", f"le centre {c} est hors des bornes [{b[0]} ; {b[-1]}]",
              "recalculer les bornes autour du centre")


def _validate_entry(iid: str, spec) -> dict:
    where = f"indicators.{iid}"
    if not isinstance(spec, dict):
        _fail(where, "chaque indicateur doit être un dictionnaire", "voir l'en-tête du fichier")
    unknown = set(spec) - _KEYS
    missing = [k for k in _REQUIRED if k not in spec]
    if unknown or missing:
        _fail(where, f"clés inconnues {sorted(unknown)}, clés manquantes {missing}",
              f"utiliser seulement {sorted(_KEYS)}")
    if spec["scale"] not in SCALES:
        _fail(f"{where}.scale", f"{spec['scale']!r} inconnu", f"choisir parmi {', '.join(SCALES)}")
    if spec["direction"] not in DIRECTIONS:
        _fail(f"{where}.direction", f"{spec['direction']!r} inconnue", f"choisir parmi {', '.join(DIRECTIONS)}")
    if not isinstance(spec["breaks"], list) or not spec["breaks"]:
        _fail(f"{where}.breaks", "il faut une liste non vide de bornes", "écrire breaks: [a, b, …]")
    b = [_number(x, f"{where}.breaks") for x in spec["breaks"]]
    if any(y <= x for x, y in zip(b, b[1:])):
        _fail(f"{where}.breaks", f"les bornes {b} ne sont pas strictement croissantes",
              "les trier et supprimer les doublons")
    _check_colors(spec, len(b) + 1, where)
    _check_centre(spec, b, where)
    dec = spec.get("decimals", 1)
    if isinstance(dec, bool) or not isinstance(dec, int) or not 0 <= dec <= 4:
        _fail(f"{where}.decimals", f"{dec!r} n'est pas un entier de 0 à 4", "écrire decimals: 1")
    if spec["scale"] == "official" and (tuple(b) != APL_GP_THRESHOLDS
                                        or tuple(spec.get("colors", ())) != APL_GP_CLASS_COLORS):
        _fail(where, "scale: official doit reprendre les seuils et couleurs Drees de apl_params.py "
              f"({list(APL_GP_THRESHOLDS)})", "recopier APL_GP_THRESHOLDS et APL_GP_CLASS_COLORS")
    return {**spec, "breaks": b, "decimals": dec}


def parse_map_classes(data, where: str = MAP_CLASSES_FILE) -> dict[str, dict]:
    """Validated entries ``{indicator_id: spec}`` of a parsed map_classes document."""
    if not isinstance(data, dict) or not isinstance(data.get("indicators"), dict):
        raise MapClassesError(f"{where} : le fichier doit contenir une clé « indicators » "
                              "(dictionnaire identifiant d'indicateur → classes). Corriger le fichier.")
    return {str(iid): _validate_entry(str(iid), spec) for iid, spec in data["indicators"].items()}


@lru_cache(maxsize=4)
def load_map_classes(path: str | None = None) -> dict[str, dict]:
    """The validated entries of ``map_classes.yaml`` (package data) or of the file ``path``."""
    if path is None:
        text = resources.files("cpts_diag").joinpath(MAP_CLASSES_FILE).read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise MapClassesError(f"{MAP_CLASSES_FILE} : YAML mal formé ({exc}). Corriger la syntaxe.") from exc
    return parse_map_classes(data)


def classes_for(indicator_id: str, path: str | None = None) -> Classes:
    """The fixed :class:`Classes` of ``indicator_id`` (same breaks for every territory)."""
    entries = load_map_classes(path)
    if indicator_id not in entries:
        raise MapClassesError(
            f"Pas de classes fixes pour l'indicateur {indicator_id!r} dans {MAP_CLASSES_FILE} "
            f"(indicateurs connus : {', '.join(sorted(entries))}). Corriger : ajouter une entrée au "
            "fichier, ou utiliser make_classes() pour une carte ponctuelle.")
    s = entries[indicator_id]
    b = s["breaks"]
    if s["scale"] == "official":
        cl = official_apl_classes(indicator_id)
        cl.method = s["method"]
        return cl
    colors = list(s["colors"]) if "colors" in s else _sample_cmap(s["cmap"], len(b) + 1)
    return Classes(b + [math.inf], class_labels(b, s["decimals"]), colors, indicator_id=indicator_id,
                   method=s["method"], direction=s["direction"],
                   centre=float(s["centre"]) if "centre" in s else None,
                   centre_source=str(s.get("centre_source") or ""), fixed=True)


def _plain(x):
    """A JSON-serialisable plain Python value (numpy scalars → float/int, NaN → None)."""
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return None if not math.isfinite(float(x)) else float(x)
    return x


def figure_record(name: str, title: str, indicator_id: str | None, source: str, vintage,
                  classes: Classes, values) -> dict:
    """The sidecar of a map figure: what it shows and how it is classified (JSON-serialisable).

    Keys: ``name``, ``title``, ``indicator_id``, ``source``, ``vintage``, ``method``, ``fixed``,
    ``closed`` (« left »), ``breaks``, ``labels``, ``colors``, ``direction``, ``centre``,
    ``centre_source``, ``counts`` (communes per class) and ``n_missing``.
    """
    counts = classes.counts(values)
    return {"name": str(name), "title": str(title),
            "indicator_id": None if indicator_id is None else str(indicator_id),
            "source": str(source), "vintage": None if vintage is None else str(vintage),
            "method": classes.method, "fixed": bool(classes.fixed), "closed": "left",
            "breaks": [_plain(b) for b in classes.breaks], "labels": [str(x) for x in classes.labels],
            "colors": [str(c) for c in classes.colors], "direction": classes.direction,
            "centre": _plain(classes.centre), "centre_source": classes.centre_source,
            "counts": counts[:-1], "n_missing": counts[-1]}
