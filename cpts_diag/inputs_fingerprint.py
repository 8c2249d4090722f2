"""Inputs fingerprint of one report, so that ``cpts-diag report`` rebuilds only what changed.

:func:`fingerprint` returns a JSON-ready dict of hashes (SHA-256, hex) of everything a report is
made from; :mod:`cpts_diag.batch` records it under the key ``inputs`` of the report manifest
(:mod:`cpts_diag.outputs`) and skips a report whose recorded inputs equal the current ones
(:func:`cpts_diag.outputs.is_up_to_date`). Keys:

* ``territory``: the perimeter YAML's bytes (and those of the user health tables it names), or,
  for an id without YAML file (prefixed ids ``epci-…``, ``bv-…``, ``dep-…``), the canonical JSON of
  :func:`territory_spec` (id and sorted commune list);
* ``data``: the installed ``SHA256SUMS`` file of the data snapshot (None when absent);
* ``package``: the cpts_diag version and the hash of every ``.py`` / ``.yaml`` / ``.j2`` file of
  the package (a code change rebuilds);
* ``notebook``, ``parameters`` (canonical JSON), ``parameter_files`` (files named in the
  parameters by absolute path: scenario, health tables), ``pdf``.

Nothing here writes; a missing input hashes to None (it is still compared).
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

FINGERPRINT_FORMAT = 1
PACKAGE_DIR = Path(__file__).resolve().parent
#: Suffixes of the package files whose content makes a report (code, settings, templates).
PACKAGE_SUFFIXES = (".py", ".yaml", ".j2")
SKIPPED_DIRS = ("__pycache__",)


def canonical_json(obj) -> str:
    """One text per value: sorted keys, no spaces, UTF-8 kept."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str | None:
    """SHA-256 of a file's bytes; None if it does not exist or cannot be read."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    except OSError:
        return None
    return h.hexdigest()


def package_files(root: Path = PACKAGE_DIR) -> list[Path]:
    """The package files that make a report (:data:`PACKAGE_SUFFIXES`), sorted."""
    return sorted(p for p in Path(root).rglob("*")
                  if p.suffix in PACKAGE_SUFFIXES and p.is_file()
                  and not any(part in SKIPPED_DIRS for part in p.relative_to(root).parts))


def package_inputs(root: Path = PACKAGE_DIR) -> dict:
    """``{"version": …, "files": {relative path: sha256}}`` of the cpts_diag package."""
    from . import __version__

    return {"version": __version__,
            "files": {p.relative_to(root).as_posix(): sha256_file(p) for p in package_files(root)}}


def data_inputs() -> str | None:
    """SHA-256 of the installed snapshot's ``SHA256SUMS`` (which lists every data file's hash)."""
    from .config import data_roots

    return sha256_file(data_roots().tabular / "SHA256SUMS")


def territory_spec(cpts_id: str) -> dict:
    """Hook for ids without a perimeter file: the territory as a mapping (id, sorted communes…).
    Resolving the territory needs the data snapshot."""
    from .territory import Territory

    spec = Territory.load(cpts_id).to_spec()
    spec["members"] = {"communes": sorted(spec.get("members", {}).get("communes", []))}
    return spec


def _health_tables(path: Path, text: bytes) -> dict[str, str | None]:
    """Hashes of the user CSV files a perimeter YAML names (``health_tables``), if any."""
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return {}
    tables = data.get("health_tables") if isinstance(data, dict) else None
    if not isinstance(tables, list):
        return {}
    return {str(t): sha256_file(path.parent / str(t)) for t in tables}


def territory_inputs(cpts_id: str) -> dict:
    """The territory's definition hash: its YAML file, else :func:`territory_spec`."""
    from .territory import perimeter_files

    path = perimeter_files().get(cpts_id)
    if path is not None:
        text = Path(path).read_bytes()
        out = {"id": cpts_id, "yaml": sha256_bytes(text)}
        tables = _health_tables(Path(path), text)
        if tables:
            out["health_tables"] = tables
        return out
    return {"id": cpts_id, "spec": sha256_bytes(canonical_json(territory_spec(cpts_id)).encode("utf-8"))}


def parameter_files(parameters: dict | None) -> dict[str, str | None]:
    """Hashes of the files that parameters name by absolute path (``--scenario``, ``--health``):
    a changed scenario or health table rebuilds even if its path is the same."""
    values: list = []
    for v in (parameters or {}).values():
        values += v if isinstance(v, list) else [v]
    paths = {v for v in values if isinstance(v, str) and v.startswith("/") and Path(v).is_file()}
    return {p: sha256_file(Path(p)) for p in sorted(paths)}


def common_inputs(notebook: Path, parameters: dict | None, pdf: bool) -> dict:
    """The part of the fingerprint shared by every report of one batch."""
    return {"format": FINGERPRINT_FORMAT, "data": data_inputs(), "package": package_inputs(),
            "notebook": sha256_file(Path(notebook)),
            "parameters": sha256_bytes(canonical_json(parameters or {}).encode("utf-8")),
            "parameter_files": parameter_files(parameters), "pdf": bool(pdf)}


def fingerprint(cpts_id: str, notebook: Path, parameters: dict | None = None, pdf: bool = False,
                common: dict | None = None) -> dict:
    """The inputs fingerprint of the report of ``cpts_id`` (``common``: :func:`common_inputs`,
    computed once per batch)."""
    base = common if common is not None else common_inputs(notebook, parameters, pdf)
    return {**base, "territory": territory_inputs(cpts_id)}
