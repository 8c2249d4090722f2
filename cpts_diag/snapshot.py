"""The open-data snapshot: checksums, installation into the data roots, status."""
from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from .atomic import atomic_target
from .config import DataRoots, data_roots
from .errors import DataIntegrityError, DataNotInstalledError
from .sources import SOURCES

SUMS_NAME = "SHA256SUMS"


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def read_sums(path: Path) -> dict[str, str]:
    """Parse a ``sha256sum``-style file into ``{relative path: hex digest}``."""
    sums: dict[str, str] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split(maxsplit=1)
        if len(parts) != 2 or len(parts[0]) != 64:
            raise DataIntegrityError(
                f"{path}, line {n}: not a 'sha256  path' line: {line!r}. "
                "Fix: restore the snapshot's SHA256SUMS file."
            )
        sums[parts[1].strip().lstrip("*")] = parts[0].lower()
    return sums


def reference_sums(roots: DataRoots | None = None) -> dict[str, str]:
    """The SHA-256 sums of the installed snapshot (empty if it has none)."""
    roots = roots or data_roots()
    p = roots.tabular / SUMS_NAME
    return read_sums(p) if p.exists() else {}


def _atomic_copy(src: Path, dst: Path, link: bool) -> None:
    with atomic_target(dst) as tmp:
        if link:
            os.symlink(src.resolve(), tmp)
        else:
            shutil.copyfile(src, tmp)


def install_snapshot(src: Path, roots: DataRoots | None = None, link: bool = False,
                     progress: bool = True) -> list[Path]:
    """Verify the snapshot at ``src`` against its SHA256SUMS, then install it in the data roots.

    Tabular files go under ``roots.tabular`` keeping their relative paths, ``geo/*`` files under
    ``roots.geo``. ``link=True`` makes symbolic links instead of copies (saves ~100 MB, but the
    snapshot must then stay where it is). Files are written to a temporary name then renamed, so
    an interrupted install never leaves a half-written file under its real name.
    """
    roots = roots or data_roots()
    src = Path(src).expanduser().resolve()
    sums_path = src / SUMS_NAME
    if not src.is_dir():
        raise DataNotInstalledError(
            f"No snapshot folder at {src}. Fix: pass --from the folder that holds SHA256SUMS "
            "(e.g. ../shared/opendata), or use `cpts-diag data fetch`."
        )
    if not sums_path.exists():
        raise DataIntegrityError(
            f"{src} has no {SUMS_NAME}: cannot verify it. Fix: point --from at a complete snapshot."
        )
    sums = read_sums(sums_path)
    bad, missing = [], []
    items = list(sums.items())
    for rel, digest in tqdm(items, desc="Vérification du jeu de données", unit="fichier",
                            disable=not progress):
        f = src / rel
        if not f.exists():
            missing.append(rel)
        elif sha256_file(f) != digest:
            bad.append(rel)
    if missing or bad:
        raise DataIntegrityError(
            f"Snapshot {src} is not intact: missing {missing or 'none'}, hash mismatch {bad or 'none'}. "
            "Fix: restore those files from the original snapshot; nothing was installed."
        )
    installed = []
    for rel, _ in tqdm(items, desc="Installation", unit="fichier", disable=not progress):
        kind = "geo" if rel.startswith("geo/") else "tabular"
        dst = roots.path_of(kind, rel)
        if dst.resolve() == (src / rel).resolve():
            continue  # installing a snapshot onto itself
        _atomic_copy(src / rel, dst, link)
        installed.append(dst)
    if (roots.tabular / SUMS_NAME).resolve() != sums_path.resolve():
        _atomic_copy(sums_path, roots.tabular / SUMS_NAME, link=False)
    return installed


@dataclass
class StatusRow:
    source: str
    label: str
    vintages: str
    cog: str
    file: str
    present: bool
    hash_state: str  # "ok", "altéré", "absent", "non vérifié"
    required: bool

    @property
    def ok(self) -> bool:
        return self.hash_state in ("ok", "non vérifié") or (not self.required and not self.present)


def status(roots: DataRoots | None = None, check_hashes: bool = True) -> list[StatusRow]:
    """One row per source and file: presence and SHA-256 state against the snapshot's sums."""
    roots = roots or data_roots()
    try:
        sums = reference_sums(roots)
    except DataIntegrityError:
        sums = {}
    rows = []
    for s in SOURCES.values():
        for rel in sorted(set(s.files.values())):
            path = roots.path_of(s.kind, rel)
            present = path.exists()
            if not present:
                state = "absent"
            elif rel not in sums or not check_hashes:
                state = "non vérifié"
            else:
                state = "ok" if sha256_file(path) == sums[rel] else "altéré"
            vintages = ", ".join(str(v) for v, r in sorted(s.files.items()) if r == rel)
            rows.append(StatusRow(s.id, s.label, vintages, s.cog, rel, present, state, s.required))
    return rows
