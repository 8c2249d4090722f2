"""The open-data snapshot: checksums, installation into the data roots, status."""
from __future__ import annotations

import hashlib
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath

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


_HEX = re.compile(r"^[0-9a-fA-F]{64}$")


def read_sums_lines(path: Path) -> list[tuple[int, str, str]]:
    """Parse a ``sha256sum``-style file into ``[(line number, relative path, hex digest)]``.

    Refuses (:class:`DataIntegrityError` naming the line and the fix) a line that is not
    ``<64 hex digits>  <path>``, a path that could leave the snapshot folder (absolute, ``..``,
    backslash, drive letter, control character) and a path listed twice."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataIntegrityError(f"{path} illisible ({exc}). Correctif : restaurez le fichier "
                                 "SHA256SUMS du jeu de données.") from None
    out, seen = [], {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split(maxsplit=1)
        if len(parts) != 2 or not _HEX.match(parts[0]):
            raise DataIntegrityError(
                f"{path}, ligne {n} : ligne mal formée {line!r} (attendu : « <empreinte SHA-256 de "
                "64 caractères hexadécimaux>  <chemin> »). Correctif : restaurez le fichier "
                "SHA256SUMS d'origine du jeu de données."
            )
        rel = parts[1].strip().lstrip("*")
        problem = unsafe_relpath(rel)
        if problem:
            raise DataIntegrityError(
                f"{path}, ligne {n} : chemin « {rel} » refusé ({problem}) : il sortirait du dossier "
                "du jeu de données. Correctif : n'utilisez que des chemins relatifs internes au jeu "
                "(p. ex. insee/population_communes_rp2022.csv) ; restaurez le SHA256SUMS d'origine.")
        if rel in seen:
            raise DataIntegrityError(
                f"{path}, ligne {n} : « {rel} » déjà listé ligne {seen[rel]}. Correctif : restaurez "
                "le SHA256SUMS d'origine (un chemin par ligne, une seule fois).")
        seen[rel] = n
        out.append((n, rel, parts[0].lower()))
    return out


def unsafe_relpath(rel: str) -> str | None:
    """Why ``rel`` is not a safe path inside a snapshot (French), or None if it is."""
    if not rel:
        return "chemin vide"
    if any(ord(ch) < 32 or ch == "\x7f" for ch in rel):
        return "caractère de contrôle"
    if "\\" in rel:
        return "barre oblique inversée"
    if rel.startswith("/") or PureWindowsPath(rel).drive or rel.startswith("~"):
        return "chemin absolu"
    if any(p in ("..", ".", "") for p in rel.split("/")):
        return "composant « .. », « . » ou vide"
    if rel == SUMS_NAME:
        return "SHA256SUMS ne peut pas se lister lui-même"
    return None


def read_sums(path: Path) -> dict[str, str]:
    """Parse a ``sha256sum``-style file into ``{relative path: hex digest}`` (see
    :func:`read_sums_lines` for what is refused)."""
    return {rel: digest for _, rel, digest in read_sums_lines(path)}


def sums_problem(roots: DataRoots | None = None) -> str | None:
    """Why the installed snapshot's integrity cannot be verified (French), or None."""
    roots = roots or data_roots()
    p = roots.tabular / SUMS_NAME
    fix = ("correctif : réinstallez le jeu avec cpts-diag data install --from ../shared/opendata "
           "(ou reconstruisez-le avec cpts-diag data fetch)")
    if not p.is_file():
        return (f"intégrité non vérifiable : SHA256SUMS absent ({p}) : aucun fichier ne peut être "
                f"comparé à son empreinte d'origine, un fichier tronqué ou modifié passerait "
                f"inaperçu ; {fix}")
    try:
        read_sums_lines(p)
    except DataIntegrityError as exc:
        return f"intégrité non vérifiable : SHA256SUMS mal formé ou dangereux : {exc} ; {fix}"
    return None


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
            f"--from : pas de dossier d'instantané à {src}. Correctif : donnez à --from le dossier "
            "qui contient SHA256SUMS (p. ex. ../shared/opendata), ou utilisez "
            "`cpts-diag data fetch`."
        )
    if not sums_path.exists():
        raise DataIntegrityError(
            f"--from : {src} n'a pas de fichier {SUMS_NAME}, son intégrité ne peut pas être "
            "vérifiée. Correctif : donnez à --from un instantané complet (avec SHA256SUMS)."
        )
    plan = plan_install(src, read_sums_lines(sums_path), roots)
    _verify(src, plan, progress)
    installed = []
    for _, rel, _, dst in tqdm(plan, desc="Installation", unit="fichier", disable=not progress):
        if dst.resolve() == (src / rel).resolve():
            continue  # installing a snapshot onto itself
        _atomic_copy(src / rel, dst, link)
        installed.append(dst)
    if (roots.tabular / SUMS_NAME).resolve() != sums_path.resolve():
        _atomic_copy(sums_path, roots.tabular / SUMS_NAME, link=False)
    return installed


def plan_install(src: Path, lines: list[tuple[int, str, str]],
                 roots: DataRoots) -> list[tuple[int, str, str, Path]]:
    """``[(line, relative path, digest, destination)]`` of an install, every path checked first.

    Refuses, naming the SHA256SUMS line and the fix, a file of the snapshot that is a symbolic
    link pointing outside the snapshot (or is not a regular file), and a destination whose folder
    resolves outside the data roots (a symbolic link in ``data/``) or is claimed by two lines.
    Nothing is written; :func:`install_snapshot` writes only after this and the hash checks."""
    src = Path(src).resolve()
    bases = {"tabular": roots.tabular.resolve(), "geo": roots.geo.resolve()}
    plan, problems, claimed = [], [], {}
    for n, rel, digest in lines:
        kind = "geo" if rel.startswith("geo/") else "tabular"
        dst = roots.path_of(kind, rel)
        f = src / rel
        real = f.resolve()
        if (f.exists() or f.is_symlink()) and not real.is_relative_to(src):
            problems.append(f"ligne {n} : {rel} est un lien symbolique qui pointe hors du jeu "
                            f"({real})")
        elif f.exists() and not real.is_file():
            problems.append(f"ligne {n} : {rel} n'est pas un fichier ordinaire")
        elif not dst.parent.resolve().is_relative_to(bases[kind]):
            problems.append(f"ligne {n} : {rel} serait écrit dans {dst.parent.resolve()}, hors du "
                            f"dossier de données {bases[kind]} (lien symbolique dans ce dossier ?)")
        elif dst in claimed:
            problems.append(f"ligne {n} : {rel} a la même destination ({dst}) que la ligne "
                            f"{claimed[dst]}")
        claimed.setdefault(dst, n)
        plan.append((n, rel, digest, dst))
    if problems:
        raise DataIntegrityError(
            f"{src / SUMS_NAME} : installation refusée, rien n'a été écrit : " + " ; ".join(problems)
            + ". Correctif : remplacez ces fichiers par de vrais fichiers du jeu d'origine (pas des "
            "liens vers l'extérieur) et installez dans un dossier de données sans lien symbolique "
            "vers l'extérieur ; ou réinstallez depuis ../shared/opendata.")
    return plan


def _verify(src: Path, plan: list, progress: bool) -> None:
    """Check every planned file exists and has its SHA-256 (nothing written)."""
    bad, missing = [], []
    for _, rel, digest, _ in tqdm(plan, desc="Vérification du jeu de données", unit="fichier",
                                  disable=not progress):
        f = src / rel
        if not f.exists():
            missing.append(rel)
        elif sha256_file(f) != digest:
            bad.append(rel)
    if missing or bad:
        raise DataIntegrityError(
            f"Instantané {src} non intègre : fichier(s) absent(s) : {', '.join(missing) or 'aucun'} ; "
            f"empreinte SHA-256 différente : {', '.join(bad) or 'aucun'}. Rien n'a été installé. "
            "Correctif : restaurez ces fichiers depuis l'instantané d'origine."
        )


@dataclass
class StatusRow:
    source: str
    label: str
    vintages: str
    cog: str
    file: str
    present: bool
    hash_state: str  # "ok", "altéré", "absent", "non listé" (absent from SHA256SUMS), "non vérifié"
    required: bool

    @property
    def ok(self) -> bool:
        return self.hash_state in ("ok", "non vérifié") or (not self.required and not self.present)


def status(roots: DataRoots | None = None, check_hashes: bool = True) -> list[StatusRow]:
    """One row per source and file: presence and SHA-256 state against the snapshot's sums.

    A missing or malformed SHA256SUMS leaves every row « non vérifié »: call
    :func:`sums_problem` to know whether integrity can be verified at all."""
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
            elif not check_hashes or not sums:  # no SHA256SUMS: see sums_problem()
                state = "non vérifié"
            elif rel not in sums:
                state = "non listé"
            else:
                state = "ok" if sha256_file(path) == sums[rel] else "altéré"
            vintages = ", ".join(str(v) for v, r in sorted(s.files.items()) if r == rel)
            rows.append(StatusRow(s.id, s.label, vintages, s.cog, rel, present, state, s.required))
    return rows
