"""Perimeter files: parse and validate the YAML of one CPTS perimeter.

Parsing is ``yaml.safe_load`` bounded in size and alias expansion
(:func:`cpts_diag.safe_yaml.read_yaml`, ``USER_LIMITS``).

Pure checks on the parsed document (keys, types, ids, dates, code formats, the announced
population); the codes themselves are resolved against the COG in :mod:`cpts_diag.territory`.
Every problem raises :class:`~cpts_diag.errors.TerritoryError` naming the field and the fix.
"""
from __future__ import annotations

import datetime as _dt
import re
from pathlib import Path

from .errors import TerritoryError
from .safe_yaml import USER_LIMITS, YamlFileError, read_yaml
from .schemas import COMMUNE_CODE_RE

_ALLOWED_KEYS = {"id", "name", "source", "valid_from", "valid_to", "members", "supersedes",
                 "replaced_by", "notes", "announced_population", "health_tables"}
_ANNOUNCED_KEYS = {"value", "source", "year", "definition"}
POPULATION_DEFINITIONS = ("municipale", "totale", "non précisée")
_REQUIRED_KEYS = ("id", "name", "members")
_COMMUNE_RE = COMMUNE_CODE_RE
_SIREN_RE = re.compile(r"^\d{9}$")
_DATE_RE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def read_perimeter_yaml(path: Path) -> dict:
    """Parse (bounded, see :mod:`cpts_diag.safe_yaml`) and check the structure of one YAML file
    (codes are checked at :meth:`Territory._build`)."""
    where = f"fichier de périmètre {path}"
    try:
        data = read_yaml(path, USER_LIMITS, where=where)
    except YamlFileError as exc:
        hint = (" ; voir data/cpts/ondaine-forez.yaml pour un exemple"
                if "mal formé" in exc.reason else "")
        raise TerritoryError(f"{exc}{hint}.") from None
    return validate_perimeter_spec(data, where, expected_id=path.stem)


def validate_perimeter_spec(data, where: str, expected_id: str | None = None) -> dict:
    """Check keys and types of a parsed YAML perimeter and normalise it (pure function)."""
    if not isinstance(data, dict):
        raise TerritoryError(
            f"{where} : le document YAML doit être un dictionnaire (clés id, name, members…), "
            f"pas {type(data).__name__}. Correctif : voir data/cpts/ondaine-forez.yaml.")
    unknown = sorted(set(map(str, data)) - _ALLOWED_KEYS)
    if unknown:
        raise TerritoryError(
            f"{where} : clé(s) inconnue(s) {unknown}. Clés admises : {sorted(_ALLOWED_KEYS)}.")
    missing = [k for k in _REQUIRED_KEYS if data.get(k) in (None, "")]
    if missing:
        raise TerritoryError(f"{where} : clé(s) obligatoire(s) absente(s) ou vide(s) : {missing}.")
    cid = str(data["id"])
    if not _ID_RE.match(cid):
        raise TerritoryError(f"{where} : identifiant « {cid} » invalide (minuscules, chiffres, - et _).")
    if expected_id is not None and cid != expected_id:
        raise TerritoryError(
            f"{where} : l'identifiant « {cid} » diffère du nom du fichier « {expected_id} ». "
            f"Correctif : renommez le fichier en {cid}.yaml ou changez id.")
    members = data["members"]
    if not isinstance(members, dict):
        raise TerritoryError(
            f"{where} : members doit contenir les listes communes: [...] et/ou epcis: [...], "
            f"pas {type(members).__name__}.")
    bad = sorted(set(map(str, members)) - {"communes", "epcis"})
    if bad:
        raise TerritoryError(f"{where} : members : clé(s) inconnue(s) {bad} (admises : communes, epcis).")
    out_members = {}
    for key, kind in (("communes", "commune"), ("epcis", "epci")):
        vals = members.get(key) or []
        if not isinstance(vals, list):
            raise TerritoryError(f"{where} : members.{key} doit être une liste, pas {type(vals).__name__}.")
        out_members[key] = _norm_codes(vals, kind, where)
    out = {"id": cid, "name": _norm_text(data["name"], "name", where), "members": out_members}
    for k in ("source", "notes", "supersedes", "replaced_by"):
        out[k] = None if data.get(k) is None else _norm_text(data[k], k, where)
    for k in ("valid_from", "valid_to"):
        out[k] = _norm_date(data.get(k), f"{where} : {k}")
    if out["valid_from"] and out["valid_to"] and out["valid_to"] < out["valid_from"]:
        raise TerritoryError(f"{where} : valid_to ({out['valid_to']}) précède valid_from "
                             f"({out['valid_from']}). Correctif : corrigez l'une des deux dates.")
    out["announced_population"] = _norm_announced(data.get("announced_population"), where)
    out["health_tables"] = _norm_health_tables(data.get("health_tables"), where)
    return out


#: Most user health tables a perimeter may name (docs/health_tables.md).
MAX_HEALTH_TABLES = 20


def _norm_health_tables(v, where: str) -> list[str]:
    """``health_tables``: a list of CSV paths (relative to the YAML file), checked when read."""
    if v is None:
        return []
    if isinstance(v, str):
        v = [v]
    fix = "Correctif : health_tables: [\"sante/mes_indicateurs.csv\"] (chemins relatifs au fichier YAML)."
    if not isinstance(v, list) or not all(isinstance(p, str) and p.strip() for p in v):
        raise TerritoryError(f"{where} : health_tables doit être une liste de chemins de fichiers CSV. {fix}")
    if len(v) > MAX_HEALTH_TABLES:
        raise TerritoryError(f"{where} : health_tables : {len(v)} fichiers, au plus "
                             f"{MAX_HEALTH_TABLES}. {fix}")
    return [p.strip() for p in v]


def _norm_announced(v, where: str) -> dict | None:
    """Check ``announced_population`` (value: whole positive number, source required)."""
    if v is None:
        return None
    fix = ("Correctif : announced_population: {value: 84466, source: \"…\", year: 2023, "
           "definition: totale}.")
    if not isinstance(v, dict):
        raise TerritoryError(f"{where} : announced_population doit être un dictionnaire. {fix}")
    unknown = sorted(set(map(str, v)) - _ANNOUNCED_KEYS)
    if unknown:
        raise TerritoryError(f"{where} : announced_population : clé(s) inconnue(s) {unknown}. {fix}")
    value = v.get("value")
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise TerritoryError(f"{where} : announced_population.value doit être un nombre entier "
                             f"d'habitants positif, pas {value!r}. {fix}")
    source = v.get("source")
    if not isinstance(source, str) or not source.strip():
        raise TerritoryError(f"{where} : announced_population.source est obligatoire (où le chiffre "
                             f"est publié). {fix}")
    year = v.get("year")
    if year is not None and (isinstance(year, bool) or not isinstance(year, int)
                             or not 1990 <= year <= 2100):
        raise TerritoryError(f"{where} : announced_population.year doit être une année (ex. 2023), "
                             f"pas {year!r}. {fix}")
    definition = str(v.get("definition") or "non précisée").strip()
    if definition not in POPULATION_DEFINITIONS:
        raise TerritoryError(f"{where} : announced_population.definition « {definition} » inconnue ; "
                             f"valeurs admises : {', '.join(POPULATION_DEFINITIONS)}.")
    return {"value": int(value), "source": source.strip(), "year": year, "definition": definition}


#: Longest text accepted for a perimeter's name (titles, file names of partners' copies) and for
#: its other text fields (source, notes).
MAX_NAME_CHARS = 200
MAX_TEXT_CHARS = 4000


def _norm_text(v, key: str, where: str) -> str:
    """A text field: a string (numbers accepted as typed), stripped, of bounded length."""
    if isinstance(v, (dict, list, bool)):
        raise TerritoryError(f"{where} : {key} doit être un texte, pas {type(v).__name__}. "
                             f"Correctif : {key}: \"…\" (entre guillemets).")
    s = str(v).strip()
    limit = MAX_NAME_CHARS if key == "name" else MAX_TEXT_CHARS
    if len(s) > limit:
        raise TerritoryError(f"{where} : {key} trop long ({len(s)} caractères, au plus {limit}). "
                             f"Correctif : raccourcissez-le.")
    if key == "name" and not s:
        raise TerritoryError(f"{where} : name est vide. Correctif : name: \"CPTS du …\".")
    return s


def _norm_date(v, where: str) -> str | None:
    """``AAAA``, ``AAAA-MM`` or ``AAAA-MM-JJ`` of a date that exists (a YAML date too)."""
    if v is None or v == "":
        return None
    if isinstance(v, (_dt.date, _dt.datetime)):
        return v.isoformat()[:10]
    fix = "formats admis AAAA, AAAA-MM, AAAA-MM-JJ (date existante, entre guillemets)"
    if isinstance(v, bool):
        raise TerritoryError(f"{where} : {v!r} n'est pas une date ; {fix}.")
    s = str(v).strip()
    if not _DATE_RE.match(s):
        raise TerritoryError(f"{where} : date « {s} » invalide ; {fix}.")
    parts = [int(x) for x in s.split("-")] + [1, 1]
    try:
        _dt.date(parts[0], parts[1], parts[2])
    except ValueError:
        raise TerritoryError(f"{where} : la date « {s} » n'existe pas ; {fix}.") from None
    if not 1990 <= parts[0] <= 2100:
        raise TerritoryError(f"{where} : année {parts[0]} hors de 1990-2100 ; {fix}.")
    return s


def _norm_codes(vals: list, kind: str, where: str) -> list[str]:
    """Codes as stripped strings; ints accepted only when unambiguous (≥ 5 / 9 digits)."""
    width = 5 if kind == "commune" else 9
    label = "code commune" if kind == "commune" else "SIREN d'EPCI"
    out = []
    for v in vals:
        if isinstance(v, bool) or v is None or isinstance(v, float):
            raise TerritoryError(f"{where} : {label} « {v!r} » invalide. Correctif : écrivez-le "
                                 f"entre guillemets, sur {width} caractères.")
        if isinstance(v, int):
            if len(str(v)) != width:
                raise TerritoryError(
                    f"{where} : {label} {v} lu comme un nombre ({len(str(v))} chiffres) : un zéro "
                    f"initial a pu être perdu (YAML lit 01001 comme un nombre octal). Correctif : "
                    "écrivez les codes entre guillemets, p. ex. - \"01001\" (commune) ou - \"200035731\" (EPCI).")
            v = str(v)
        out.append(str(v).strip().upper())
    return out


# --- validation of codes (pure: frames in, codes out) --------------------------------------------
