"""Ownership of the output folder of ``cpts-diag report``: a run replaces only the files it wrote.

* Every report folder ``<out>/<id>/`` carries a manifest, ``.cpts-diag-manifest.json``, written into
  the build before the swap: the files the run wrote (relative path, size, SHA-256).
  :func:`foreign_files` lists what is in a report folder and not in its manifest (for a folder of an
  older version, without manifest: what does not match :data:`REPORT_LAYOUT`).
  The manifest also records the report's inputs fingerprint (key ``inputs``,
  :mod:`cpts_diag.inputs_fingerprint`); :func:`is_up_to_date` compares it (absent: « unknown »).
* :func:`swap_into_place` refuses a folder holding foreign files, a file or a symlink; with
  ``force`` the foreign files are moved into the new folder (never deleted; a name taken by the new
  report gets the suffix ``.avant-cpts-diag``). Renames only: an interrupted run keeps the previous
  report.
* :func:`take_lock` takes ``<out>/.lock-<id>`` (``flock``) for the whole build and swap of one CPTS;
  build folders (``.build-<id>-<8hex>``, ``.old-<id>-<8hex>``) are removed only under that lock
  (:func:`remove_stale`), never by age. ``<out>/index.html`` is written under ``.lock-index`` and
  only over an index written by cpts-diag (:func:`claim_index`).
* :class:`SignalGuard` turns SIGINT/SIGTERM into :class:`BatchInterrupted` during a batch (never in
  the middle of a swap); the batch options are checked at the door by :mod:`cpts_diag.door_checks`.
* :func:`remove_own_files` (``make clean``, ``python -m cpts_diag.outputs --clean DIR``) removes
  the files a report wrote and that nobody changed since, and nothing else.
"""
from __future__ import annotations

import datetime as _dt
import errno
import fcntl
import hashlib
import json
import os
import re
import shutil
import signal
import time
import uuid
from contextlib import contextmanager
from fnmatch import fnmatch
from pathlib import Path

from .errors import CptsDiagError

MANIFEST_NAME = ".cpts-diag-manifest.json"
MANIFEST_FORMAT = 1
#: Files of a report folder written by cpts-diag before manifests existed (``cpts-diag report
#: roannais-2024`` writes exactly these): exact names, or (sub-folder, file pattern).
REPORT_LAYOUT = ("rapport.html", "rapport.pdf", "rapport.ipynb", "indicators.json", "tableaux.xlsx",
                 ("figures", "*.png"), ("figures", "*.json"), ("tables", "*.csv"))
KEPT_SUFFIX = ".avant-cpts-diag"
FORCE_FIX = "relancez avec --force (force=True en Python)"
WORK_DIR = re.compile(r"^\.(build|old)-(?P<id>.+)-[0-9a-f]{8}$")


class OutputOwnershipError(CptsDiagError):
    """A report folder or index holds files that cpts-diag did not write, or is not a folder."""


class ReportBusyError(CptsDiagError):
    """Another process is producing the same report (or writing the index)."""


class BatchInterrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM during a batch; ``done``: reports finished before it."""

    def __init__(self, signum: int, done: int = 0):
        super().__init__(signum)
        self.signum, self.done = signum, done

    @property
    def exit_code(self) -> int:
        return 128 + self.signum

    def __str__(self) -> str:
        return (f"interrompu ({signal.Signals(self.signum).name}) : {self.done} rapport(s) terminé(s), "
                "en cours abandonnés, rapports précédents conservés")


# --- manifest and foreign files ------------------------------------------------------------------

def _entries(folder: Path) -> list[str]:
    """Relative POSIX paths of the files (and symlinks, never followed) under ``folder``."""
    out = []
    for root, dirs, files in os.walk(folder):
        rel_root = Path(root).relative_to(folder)
        out += [(rel_root / d).as_posix() for d in dirs if os.path.islink(os.path.join(root, d))]
        out += [(rel_root / f).as_posix() for f in files]
    return sorted(out)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_manifest(build: Path, cpts_id: str, inputs: dict | None = None) -> Path:
    """Write ``build/.cpts-diag-manifest.json``: every file of ``build`` (size, SHA-256) and, when
    given, the report's inputs fingerprint (:mod:`cpts_diag.inputs_fingerprint`) under ``inputs``."""
    from . import __version__
    from .atomic import write_atomic

    build = Path(build)
    files = [{"path": rel, "size": (build / rel).lstat().st_size,
              "sha256": None if (build / rel).is_symlink() else _sha256(build / rel)}
             for rel in _entries(build) if rel != MANIFEST_NAME]
    manifest = {"format": MANIFEST_FORMAT, "cpts_id": cpts_id, "cpts_diag_version": __version__,
                "written_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                "files": files}
    if inputs is not None:
        manifest["inputs"] = inputs
    path = build / MANIFEST_NAME
    write_atomic(path, json.dumps(manifest, ensure_ascii=False, indent=1) + "\n")
    return path


def read_manifest(folder: Path) -> dict | None:
    """The manifest of a report folder; None if absent or unreadable (then :data:`REPORT_LAYOUT`)."""
    path = Path(folder) / MANIFEST_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
        return data if isinstance(data, dict) and isinstance(data.get("files"), list) else None
    except (OSError, ValueError):
        return None


def is_up_to_date(folder: Path, inputs: dict | None, verify_sha256: bool = False) -> bool:
    """Whether the report folder ``folder`` was made from exactly ``inputs`` and is complete: its
    manifest records the same ``inputs`` (a manifest without them, from an older version, means
    « unknown »: False) and every file it lists is there with its size (and, with
    ``verify_sha256``, its SHA-256). A symlinked or missing folder is never up to date."""
    folder = Path(folder)
    if inputs is None or folder.is_symlink() or not folder.is_dir():
        return False
    manifest = read_manifest(folder)
    if manifest is None or manifest.get("inputs") != inputs:
        return False
    for f in manifest["files"]:
        if not isinstance(f, dict) or not isinstance(f.get("path"), str):
            return False
        p = folder / f["path"]
        try:
            if p.lstat().st_size != f.get("size"):
                return False
        except OSError:
            return False
        if verify_sha256 and not p.is_symlink() and _sha256(p) != f.get("sha256"):
            return False
    return True


def _in_layout(rel: str) -> bool:
    parts = rel.split("/")
    return any((rel == rule) if isinstance(rule, str)
               else (len(parts) == 2 and parts[0] == rule[0] and fnmatch(parts[1], rule[1]))
               for rule in REPORT_LAYOUT)


def foreign_files(folder: Path) -> list[str]:
    """Files of an existing report folder that cpts-diag did not write (relative paths)."""
    folder = Path(folder)
    if not folder.is_dir() or folder.is_symlink():
        return []
    manifest = read_manifest(folder)
    if manifest is None:
        ours = _in_layout
    else:
        listed = {f.get("path") for f in manifest["files"] if isinstance(f, dict)}
        ours = listed.__contains__
    return [rel for rel in _entries(folder) if rel != MANIFEST_NAME and not ours(rel)]


def _free_name(path: Path) -> Path:
    """``path``, else ``<path>.avant-cpts-diag``, ``<path>.avant-cpts-diag-2``… (first free)."""
    cand, n = path, 1
    while cand.exists() or cand.is_symlink():
        n += 1
        cand = path.with_name(path.name + KEPT_SUFFIX + ("" if n == 2 else f"-{n - 1}"))
    return cand


def carry(src: Path, dst: Path, rels: list[str]) -> list[tuple[str, str]]:
    """Move the files ``rels`` of ``src`` into ``dst`` (renames; a taken name gets
    :data:`KEPT_SUFFIX`); returns ``(old path, new path)`` pairs; on failure moves them back."""
    moved: list[tuple[str, str]] = []
    try:
        for rel in rels:
            target = dst / rel
            parent = target.parent
            while parent != dst and not parent.is_dir():  # a file where a folder is needed
                target = _free_name(parent) / target.relative_to(parent)
                parent = parent.parent
            target = _free_name(target)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.rename(src / rel, target)
            moved.append((rel, target.relative_to(dst).as_posix()))
    except BaseException:
        carry_back(src, dst, moved)
        raise
    return moved


def carry_back(src: Path, dst: Path, moved: list[tuple[str, str]]) -> None:
    """Undo :func:`carry`."""
    for rel, new in reversed(moved):
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        os.rename(dst / new, _free_name(src / rel))


# --- swap ----------------------------------------------------------------------------------------

def check_target(final: Path, force: bool = False) -> list[str]:
    """Refuse a report target that is a file or a symlink, or that holds foreign files (unless
    ``force``); returns the foreign files."""
    final = Path(final)
    if final.is_symlink() or (final.exists() and not final.is_dir()):
        kind = "un lien symbolique" if final.is_symlink() else "un fichier"
        raise OutputOwnershipError(
            f"{final} est {kind}, pas un dossier de rapport : cpts-diag n'y écrit pas. "
            f"Correctif : déplacez ou renommez {final.name}, puis relancez.")
    foreign = foreign_files(final)
    if foreign and not force:
        shown = ", ".join(foreign[:5]) + (f" (et {len(foreign) - 5} autre(s))" if len(foreign) > 5 else "")
        raise OutputOwnershipError(
            f"le dossier {final} contient {len(foreign)} fichier(s) que cpts-diag n'a pas écrit(s) : "
            f"{shown}. Correctif : déplacez-les, ou {FORCE_FIX} : ils seront conservés à côté du "
            "nouveau rapport.")
    return foreign


def swap_into_place(build: Path, final: Path, force: bool = False) -> list[str]:
    """Replace the report folder ``final`` by the complete folder ``build`` (renames, same file
    system); foreign files of ``final`` are refused, or moved into the new folder with ``force``.
    Returns where the foreign files now are (relative to ``final``)."""
    build, final = Path(build), Path(final)
    moved = carry(final, build, check_target(final, force))
    old = None
    try:
        if final.exists():
            old = final.with_name(f".old-{final.name}-{uuid.uuid4().hex[:8]}")
            os.rename(final, old)
        try:
            os.rename(build, final)
        except BaseException:
            if old is not None:
                os.rename(old, final)
            raise
    except BaseException:
        carry_back(final, build, moved)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return [new for _, new in moved]


# --- locks and stale work folders ----------------------------------------------------------------

def take_lock(out_dir: Path, name: str, wait: float = 0.0) -> int:
    """Take ``<out_dir>/.lock-<name>`` (exclusive ``flock``), waiting at most ``wait`` seconds;
    returns the file descriptor (:func:`release_lock`). Held elsewhere: :class:`ReportBusyError`."""
    path = Path(out_dir) / f".lock-{name}"
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise ReportBusyError(f"verrou {path} impossible à ouvrir ({exc.strerror}). Correctif : "
                              "supprimez ce fichier s'il n'est pas un fichier ordinaire.") from None
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES) or time.monotonic() >= deadline:
                os.close(fd)
                what = "l'index" if name == "index" else f"rapport {name}"
                raise ReportBusyError(
                    f"{what} déjà en cours de production par un autre processus (verrou {path}) ; "
                    "correctif : attendez sa fin, puis relancez.") from None
            time.sleep(0.1)


def release_lock(fd: int | None) -> None:
    if fd is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


@contextmanager
def locked(out_dir: Path, name: str, wait: float = 0.0):
    fd = take_lock(out_dir, name, wait)
    try:
        yield fd
    finally:
        release_lock(fd)


def work_dirs(out_dir: Path, cpts_id: str) -> list[Path]:
    """``.old-<id>-<8hex>`` then ``.build-<id>-<8hex>`` folders of exactly this id."""
    found = [p for p in Path(out_dir).iterdir() if (m := WORK_DIR.match(p.name)) and m["id"] == cpts_id]
    return sorted(found, key=lambda p: (not p.name.startswith(".old-"), p.name))


def remove_stale(out_dir: Path, cpts_id: str) -> list[Path]:
    """Under the lock of ``cpts_id`` (so no live run owns them): put back a previous report left
    in ``.old-…`` by a killed run, hand back to ``<out>/<id>/`` the user files found in a work
    folder, and remove the work folders. Returns the folders removed or restored."""
    final = Path(out_dir) / cpts_id
    done = []
    for d in work_dirs(out_dir, cpts_id):
        if d.is_symlink() or not d.is_dir():
            continue
        if d.name.startswith(".old-") and not (final.exists() or final.is_symlink()):
            os.rename(d, final)  # killed between the two renames of a swap
        else:
            manifest = read_manifest(d)
            keep = foreign_files(d) if d.name.startswith(".old-") or manifest else []
            if keep and final.is_dir() and not final.is_symlink():
                carry(d, final, keep)
            elif keep:
                continue  # nowhere safe to put them: left in place
            shutil.rmtree(d, ignore_errors=True)
        done.append(d)
    return done


# --- index ---------------------------------------------------------------------------------------

_GENERATOR = re.compile(r"<meta\s+name=[\"']generator[\"']\s+content=[\"']cpts-diag", re.I)


def claim_index(path: Path, force: bool = False) -> Path | None:
    """Make way for cpts-diag's ``index.html``: an absent one or one cpts-diag wrote is fine; any
    other is refused, or with ``force`` renamed ``index.html.avant-cpts-diag`` (returned)."""
    path = Path(path)
    if not (path.exists() or path.is_symlink()):
        return None
    if path.is_file() and not path.is_symlink():
        with open(path, "rb") as fh:
            if _GENERATOR.search(fh.read(8192).decode("utf-8", "replace")):
                return None
    if not force:
        raise OutputOwnershipError(
            f"{path} n'a pas été écrit par cpts-diag : il n'est pas remplacé. Correctif : déplacez-le, "
            f"ou {FORCE_FIX} : il sera renommé {path.name}{KEPT_SUFFIX}.")
    kept = _free_name(path)
    os.rename(path, kept)
    return kept


# --- signals -------------------------------------------------------------------------------------

class SignalGuard:
    """For the duration of a batch (``with SignalGuard() as guard``), SIGINT and SIGTERM raise
    :class:`BatchInterrupted` in the main thread, except inside ``guard.critical()`` (a swap), where
    they are held until its end; the previous handlers are restored on exit. Outside the main
    thread it does nothing (Python only runs signal handlers there)."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self):
        self.previous: dict = {}
        self.pending: int | None = None
        self.depth = 0
        self.stopping = False

    def _handle(self, signum, frame):
        if self.depth or self.stopping:  # in a swap, or already cleaning up: later (or never)
            self.pending = self.pending or signum
            return
        self.stopping = True
        raise BatchInterrupted(signum)

    def __enter__(self):
        try:
            for sig in self.SIGNALS:
                self.previous[sig] = signal.signal(sig, self._handle)
        except ValueError:  # not the main thread
            pass
        return self

    def __exit__(self, *exc):
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)
        self.previous.clear()
        return False

    @contextmanager
    def critical(self):
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1
            if not self.depth and self.pending and not self.stopping:
                self.stopping = True
                raise BatchInterrupted(self.pending)


# --- cleaning ------------------------------------------------------------------------------------

def remove_own_files(folder: Path) -> tuple[list[str], list[str]]:
    """Remove what a report wrote in ``folder`` and nobody changed since: ``(removed, kept)``.

    With a manifest: its files whose SHA-256 still matches (a report file edited by hand is kept);
    without (older versions): the files of :data:`REPORT_LAYOUT`. Everything else is kept; empty
    sub-folders and the folder itself are removed when nothing is left."""
    folder = Path(folder)
    if not folder.is_dir() or folder.is_symlink():
        return [], []
    manifest = read_manifest(folder)
    if manifest is None:
        ours = {rel: None for rel in _entries(folder) if _in_layout(rel)}
    else:
        ours = {f["path"]: f.get("sha256") for f in manifest["files"]
                if isinstance(f, dict) and isinstance(f.get("path"), str)}
    removed, kept = [], []
    for rel in _entries(folder):
        p = folder / rel
        if rel == MANIFEST_NAME:
            continue
        same = rel in ours and (ours[rel] is None or p.is_symlink() or _sha256(p) == ours[rel])
        if same and not WORK_DIR.match(rel.split("/")[0]):
            p.unlink()
            removed.append(rel)
        else:
            kept.append(rel)
    if not kept:
        (folder / MANIFEST_NAME).unlink(missing_ok=True)
    for d in sorted((d for d in folder.rglob("*") if d.is_dir() and not d.is_symlink()),
                    key=lambda d: len(d.parts), reverse=True):
        if not any(d.iterdir()):
            d.rmdir()
    if not any(folder.iterdir()):
        folder.rmdir()
    return removed, kept


def _clean_main(argv: list[str]) -> int:
    """``python -m cpts_diag.outputs --clean FOLDER…`` (used by ``make clean``)."""
    import sys

    if not argv or argv[0] != "--clean":
        print("usage : python -m cpts_diag.outputs --clean DOSSIER_DE_RAPPORT…", file=sys.stderr)
        return 2
    for arg in argv[1:]:
        removed, kept = remove_own_files(Path(arg))
        if kept:
            print(f"{arg} : {len(removed)} fichier(s) du rapport effacé(s) ; conservé(s), car non "
                  f"écrit(s) par cpts-diag ou modifié(s) depuis : {', '.join(kept[:5])}"
                  + (" …" if len(kept) > 5 else ""))
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(_clean_main(sys.argv[1:]))
