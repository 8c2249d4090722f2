"""Door checks of the batch options (``cpts-diag report``, :func:`cpts_diag.batch.run_batch`,
:func:`cpts_diag.report.write.write_report`): each refuses a bad value with a French message naming
the option (``--jobs '0'`` on the command line, ``jobs=0`` in Python) and the fix."""
from __future__ import annotations

import errno
import json
import math
import os
import re
import tempfile
from pathlib import Path

from .errors import CptsDiagError

MAX_JOBS = 32


def _opt(option: str, value) -> str:
    """``--jobs '0'`` for a command-line option, ``jobs=0`` for a Python argument."""
    return f"{option} {value!r}" if option.startswith("-") else f"{option}={value!r}"


def check_int(value, option: str, minimum: int, maximum: int | None = None, example=None) -> int:
    """``value`` (an int, or its text from the command line) as an int in [minimum, maximum]."""
    raw = value
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
        value = int(value)
    bounds = f"entre {minimum} et {maximum}" if maximum is not None else f"supérieur ou égal à {minimum}"
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum or (
            maximum is not None and value > maximum):
        raise CptsDiagError(f"{_opt(option, raw)} : un nombre entier {bounds} est attendu. "
                            f"Correctif : {_opt(option, minimum if example is None else example)}.")
    return value


def check_jobs(value, option: str = "jobs") -> int:
    """Notebooks run at once: 1 to :data:`MAX_JOBS`."""
    return check_int(value, option, 1, MAX_JOBS, example=2)


def check_timeout(value, option: str = "timeout") -> float:
    """A number of seconds > 0 (``600``, ``90.5``; text ``"90,5"`` from the command line)."""
    number = value
    if isinstance(value, str):
        try:
            number = float(value.strip().replace(",", "."))
        except ValueError:
            number = None
    if isinstance(number, bool) or not isinstance(number, (int, float)) or not math.isfinite(number) \
            or number <= 0:
        raise CptsDiagError(f"{_opt(option, value)} : un nombre de secondes supérieur à 0 est attendu. "
                            f"Correctif : {_opt(option, 600)} (dix minutes par notebook).")
    return float(number)


RESERVED_PARAMETERS = ("cpts_id", "output_dir")


def check_parameters(parameters) -> dict:
    """Extra notebook parameters: a dict of identifiers to JSON values, never ``cpts_id`` or
    ``output_dir`` (set by the batch for each CPTS)."""
    if parameters is None:
        return {}
    if not isinstance(parameters, dict):
        raise CptsDiagError(f"parameters : un dict est attendu, pas {type(parameters).__name__}. "
                            "Correctif : parameters={\"apl_year\": 2023}.")
    for key in parameters:
        if key in RESERVED_PARAMETERS:
            raise CptsDiagError(
                f"parameters[{key!r}] : ce paramètre est fixé par cpts-diag pour chaque CPTS (le "
                "rapport serait rangé sous un autre nom). Correctif : retirez cette clé ; choisissez "
                "les CPTS par leurs identifiants et le dossier par out=.")
        if not isinstance(key, str) or not key.isidentifier():
            raise CptsDiagError(f"parameters[{key!r}] : le nom d'un paramètre doit être un identifiant "
                                "Python (lettres, chiffres, _). Correctif : renommez cette clé.")
        try:
            json.dumps(parameters[key], allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise CptsDiagError(
                f"parameters[{key!r}] : valeur non sérialisable en JSON ({exc}). Correctif : passez "
                "un nombre, un texte, un booléen, None, ou une liste / un dict de ces valeurs.") from None
    return dict(parameters)


_OS_REASONS = {errno.EACCES: "droits insuffisants", errno.EPERM: "opération non permise",
               errno.EROFS: "système de fichiers en lecture seule", errno.ENOSPC: "disque plein",
               errno.ENOTDIR: "un élément du chemin est un fichier", errno.ENOENT: "chemin introuvable",
               errno.EEXIST: "un fichier porte déjà ce nom"}


def check_out_dir(out, option: str = "out") -> Path:
    """The output folder: not empty, not a file; created if needed and writable (checked by
    writing a temporary file there, removed at once)."""
    if out is None or not str(out).strip():
        raise CptsDiagError(f"{option} est vide. Correctif : {option} outputs (ou un autre dossier).")
    path = Path(out).expanduser()
    if path.exists() and not path.is_dir():
        raise CptsDiagError(f"{option} {path} est un fichier, pas un dossier. Correctif : donnez un "
                            "dossier (il est créé s'il n'existe pas).")
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".cpts-diag-probe-", dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        reason = _OS_REASONS.get(exc.errno, exc.strerror or str(exc))
        raise CptsDiagError(f"{option} {path} : impossible d'y créer un fichier ({reason}). "
                            "Correctif : choisissez un dossier où vous pouvez écrire, ou corrigez ses "
                            "droits.") from None
    return path.resolve()
