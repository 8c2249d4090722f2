"""The specification of a scenario (:class:`ScenarioSpec`) and the checks of its fields.

A scenario comes from a YAML file (``cpts-diag scenario --spec``, ``report --scenario``), from the
command line (``cpts-diag scenario --remove/--add/--retire-age``, read with ``where="options"``)
or from Python (:func:`cpts_diag.scenario.scenario`). Every refusal is an
:class:`~cpts_diag.errors.APLInputError` in French naming the field as the user wrote it (the
option ``--remove`` on the command line, the key ``remove_gps`` in a file) and the fix.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from numbers import Real
from pathlib import Path

from .errors import APLInputError
from .fmt import fmt_number

__all__ = ["ScenarioSpec", "field_label", "SPEC_KEYS", "RETIRE_AGE_RANGE"]

SPEC_KEYS = ("title", "remove_gps", "add_gps", "retire_age", "supply", "travel_times", "year")
OPTIONS = {"title": "--title", "remove_gps": "--remove", "add_gps": "--add",
           "retire_age": "--retire-age", "supply": "--supply", "travel_times": "--od",
           "year": "--year"}
RETIRE_AGE_RANGE = (20, 100)  # a departure age, in years (negative or > 120 is never an age)
CLI_WHERE = "options"  # ``where`` of the specs built from the command line (cli._cmd_scenario)


def field_label(key: str, where: str = "") -> str:
    """The field as the user wrote it: « --remove (remove_gps) » on the command line, else
    « remove_gps »."""
    return f"{OPTIONS[key]} ({key})" if where == CLI_WHERE and key in OPTIONS else key


def show_number(x) -> str:
    """A number in French format (« 2,5 », « 100 000 »), or the value as written if it is none."""
    try:
        xf = float(x) if not isinstance(x, (bool, str)) else float("nan")
    except (TypeError, ValueError):
        return f"« {x} »"
    if not math.isfinite(xf):
        return f"« {x} »"
    return fmt_number(xf, 0 if xf.is_integer() else 2)


def _gp_count(n, key: str, code: str, where: str) -> float:
    """A number of GPs: a finite number > 0 (not a boolean, not text)."""
    label = f"{where} : {field_label(key, where)}, commune {code}"
    example = (f"{OPTIONS[key]} {code}:2" if where == CLI_WHERE else f'{key}: {{"{code}": 2}}')
    x = None
    if not isinstance(n, bool):
        try:
            x = float(n)
        except (TypeError, ValueError):
            pass
    if x is None:
        raise APLInputError(f"{label} : {show_number(n)} n'est pas un nombre de médecins. "
                            f"Correctif : donnez un nombre de médecins, p. ex. {example}.")
    if not math.isfinite(x):
        raise APLInputError(f"{label} : {show_number(n)} n'est pas un nombre fini de médecins "
                            f"(NaN ou infini refusé). Correctif : donnez un nombre, p. ex. {example}.")
    if x <= 0:
        arrivals = f" ({field_label('add_gps', where)} pour des arrivées)" if key == "remove_gps" else ""
        raise APLInputError(f"{label} : {show_number(n)} médecin(s) ; le nombre de médecins doit "
                            f"être strictement positif. Correctif : donnez un nombre > 0, p. ex. "
                            f"{example}{arrivals}.")
    return x


def _gp_mapping(value, key: str, where: str) -> dict[str, float]:
    """``{code: number of GPs}`` (codes padded to 5 characters, repeats summed)."""
    if value is None or (isinstance(value, dict) and not value):
        return {}
    label = f"{where} : {field_label(key, where)}"
    if not isinstance(value, dict):
        raise APLInputError(f"{label} doit associer un code commune à un nombre de médecins "
                            f"(reçu : {type(value).__name__}). Correctif : écrivez p. ex. "
                            f'{key}: {{"42187": 3}}.')
    out: dict[str, float] = {}
    for code, n in value.items():
        c = str(code).strip()
        if not isinstance(code, str) or not c.isalnum():
            raise APLInputError(f"{label} : code commune {code!r} invalide : un code INSEE s'écrit "
                                'en texte, entre guillemets (p. ex. "42187" ; YAML lit 01001 comme '
                                'le nombre 1001). Correctif : écrivez le code entre guillemets, '
                                'p. ex. "01001".')
        x = _gp_count(n, key, c.zfill(5), where)
        out[c.zfill(5)] = out.get(c.zfill(5), 0.0) + x
    return out


def _retire_age(age, where: str):
    lo, hi = RETIRE_AGE_RANGE
    ok = isinstance(age, Real) and not isinstance(age, bool) and math.isfinite(age) and lo <= age <= hi
    if age is not None and not ok:
        raise APLInputError(
            f"{where} : {field_label('retire_age', where)} = {show_number(age)} n'est pas un âge de "
            f"départ : il doit être un nombre d'années entre {lo} et {hi}. Correctif : donnez p. ex. "
            f"{'--retire-age 65' if where == CLI_WHERE else 'retire_age: 65'}.")
    return age


def _year(value, where: str) -> int:
    if value is None:
        return 2023
    y = None
    if not isinstance(value, bool):
        try:
            y = int(str(value).strip())
        except ValueError:
            pass
    if y is None:
        raise APLInputError(f"{where} : {field_label('year', where)} = « {value} » n'est pas un "
                            "millésime. Correctif : donnez une année entière, p. ex. 2023.")
    return y


def _path_field(value, key: str, where: str, base: Path | None) -> str | None:
    """A path of the spec (``supply``, ``travel_times``), relative to the spec file."""
    if value is None or value == "":
        return None
    if not isinstance(value, (str, Path)):
        raise APLInputError(f"{where} : {field_label(key, where)} doit être le chemin d'un fichier "
                            f"CSV (reçu : {type(value).__name__}). Correctif : écrivez p. ex. "
                            f"{key}: {'offre.csv' if key == 'supply' else 'temps.csv'}.")
    return str(base / value) if base is not None and not Path(value).is_absolute() else str(value)


MAX_TITLE_CHARS = 200


def _title(value, where: str) -> str:
    """The scenario's title: a text (a number is kept as typed) of at most 200 characters."""
    if value is None:
        return ""
    if isinstance(value, (dict, list, bool)):
        raise APLInputError(f"{where} : {field_label('title', where)} doit être un texte, pas "
                            f"{type(value).__name__}. Correctif : title: \"Départ de 3 médecins\".")
    text = str(value).strip()
    if len(text) > MAX_TITLE_CHARS:
        raise APLInputError(f"{where} : {field_label('title', where)} trop long ({len(text)} "
                            f"caractères, au plus {MAX_TITLE_CHARS}). Correctif : raccourcissez-le.")
    return text


@dataclass
class ScenarioSpec:
    """A scenario: supply changes and optional user inputs."""

    title: str = ""
    remove_gps: dict[str, float] = field(default_factory=dict)
    add_gps: dict[str, float] = field(default_factory=dict)
    retire_age: float | None = None
    supply: str | None = None
    travel_times: str | None = None
    year: int = 2023

    @classmethod
    def from_mapping(cls, data, where: str = "scenario", base: Path | None = None) -> "ScenarioSpec":
        """Check and normalise a mapping of the keys of a scenario file (``where`` names its
        origin in the messages: a file name, ``"options"`` for the command line…)."""
        if not isinstance(data, dict):
            raise APLInputError(
                f"{where} : un scénario doit être un dictionnaire de clés (title, remove_gps, "
                f"add_gps…), reçu : {type(data).__name__}. Correctif : écrivez p. ex. "
                'remove_gps: {"42187": 3}.')
        unknown = sorted(map(str, set(data) - set(SPEC_KEYS)))
        if unknown:
            raise APLInputError(
                f"{where} : clé(s) inconnue(s) : {', '.join(unknown)}. Correctif : n'utilisez que "
                f"les clés admises : {', '.join(SPEC_KEYS)}.")
        return cls(title=_title(data.get("title"), where),
                   remove_gps=_gp_mapping(data.get("remove_gps"), "remove_gps", where),
                   add_gps=_gp_mapping(data.get("add_gps"), "add_gps", where),
                   retire_age=_retire_age(data.get("retire_age"), where),
                   supply=_path_field(data.get("supply"), "supply", where, base),
                   travel_times=_path_field(data.get("travel_times"), "travel_times", where, base),
                   year=_year(data.get("year"), where))

    @classmethod
    def coerce(cls, spec, where: str = "scenario") -> "ScenarioSpec":
        """A :class:`ScenarioSpec` from itself, a mapping or the path of a scenario YAML file."""
        if isinstance(spec, cls):
            return spec
        if isinstance(spec, (str, Path)):
            return cls.from_yaml(spec)
        return cls.from_mapping(spec, where=where)

    @classmethod
    def from_yaml(cls, path) -> "ScenarioSpec":
        """Read a scenario YAML file (bounded safe load; paths relative to the file)."""
        path = Path(path)
        if not path.is_file():
            raise APLInputError(f"Fichier de scénario introuvable : {path}. Correctif : vérifiez le "
                                "chemin (exemple : docs/scenarios/roannais-2024-exemple.yaml).")
        from .safe_yaml import USER_LIMITS, YamlFileError, read_yaml

        try:  # bounded safe_load: size, alias expansion, no Python tags, no duplicate keys
            data = read_yaml(path, USER_LIMITS, where=path.name)
        except YamlFileError as exc:
            if "mal formé" not in exc.reason:
                raise APLInputError(str(exc)) from None
            raise APLInputError(f'{exc} ; les codes s\'écrivent entre guillemets, p. ex. '
                                'remove_gps: {"42187": 3}') from None
        return cls.from_mapping(data, where=path.name, base=path.parent)
