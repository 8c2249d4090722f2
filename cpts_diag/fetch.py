"""Download the data from the official publishers and rebuild the snapshot layout from it.

:data:`REGISTRY` (defined in :mod:`cpts_diag.fetch_registry`, re-exported here) lists the official
files (INSEE, DREES, Etalab/IGN, data.gouv.fr): URL, vintage, publisher, licence, format, the
importer of :mod:`cpts_diag.importers` that reads it and the snapshot sources
(:data:`cpts_diag.sources.SOURCES`) rebuilt from it. :func:`fetch_all` (behind
``cpts-diag data fetch``) downloads them with ``pooch`` into ``<cache>/downloads`` (kept between
runs; SHA-256 checked when the registry knows it), converts them and writes the results into the
data roots under the snapshot's file names (temporary file, then rename), updating ``SHA256SUMS``
so the ordinary loaders read them.

None of the URLs could be opened from the machine this was written on (``verified_url=False``
everywhere): if a publisher has moved a file, the error names the page to look it up on.
Offline, :func:`fetch_all` fails at once with :class:`~cpts_diag.errors.OfflineError`.
"""
from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import socket
import sys
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path
from typing import Callable

import pandas as pd
from tqdm.auto import tqdm

from . import importers
from .atomic import atomic_target, write_atomic
from .config import data_roots, default_snapshot_dir
from .errors import CptsDiagError, DataIntegrityError, DataNotInstalledError, OfflineError
from .fetch_registry import REGISTRY, OfficialSource  # noqa: F401  (re-exported)
from .schemas import DEPS_8  # the 8 départements of the detailed contours, defined once
from .snapshot import SUMS_NAME, read_sums, sha256_file
from .sources import get_source

INSTALL_HINT = ("`cpts-diag data install --from ../shared/opendata` (ou CPTS_DIAG_DATA pointant vers "
                "un dossier d'instantané)")
PROVENANCE_NAME = "fetch_provenance.json"


# --- downloads -----------------------------------------------------------------------------------

def _file_downloader(url: str, output_file, pooch=None, check_only: bool = False):
    """pooch downloader for ``file://`` URLs (local mirrors, tests)."""
    src = Path(urllib.request.url2pathname(urllib.parse.urlsplit(url).path))
    if check_only:
        return src.exists()
    if not src.exists():
        raise DataNotInstalledError(f"{url} : fichier introuvable dans le miroir local. Correctif : "
                                    "vérifiez le dossier du miroir (URL file://).")
    if hasattr(output_file, "write"):
        with open(src, "rb") as fh:
            shutil.copyfileobj(fh, output_file)
    else:
        shutil.copyfile(src, output_file)
    return None


def _downloader(url: str, progress: bool, timeout: float):
    if url.startswith("file:"):
        return _file_downloader
    import pooch

    return pooch.HTTPDownloader(progressbar=progress, timeout=timeout)


def _offline_error(what: str) -> OfflineError:
    return OfflineError(
        f"Hors ligne : {what}. Aucune donnée officielle n'a été téléchargée ni écrite. "
        f"Correctif : installez un instantané avec {INSTALL_HINT}, ou relancez "
        "`cpts-diag data fetch` avec un accès à Internet."
    )


def _connect(host: str, port: int, timeout: float) -> None:
    socket.create_connection((host, port), timeout=timeout).close()


def check_online(urls: list[str], timeout: float = 3.0) -> None:
    """Open a TCP connection to each host (or its proxy) of ``urls``; raise
    :class:`OfflineError` at once, naming the install command, if any cannot be reached."""
    proxies = urllib.request.getproxies()
    targets: set[tuple[str, int]] = set()
    for u in urls:
        p = urllib.parse.urlsplit(u)
        if p.scheme not in ("http", "https") or not p.hostname:
            continue
        proxy = proxies.get(p.scheme)
        if proxy and not urllib.request.proxy_bypass(p.hostname):
            pp = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
            targets.add((pp.hostname, pp.port or 80))
        else:
            targets.add((p.hostname, p.port or (443 if p.scheme == "https" else 80)))
    if not targets:
        return
    pool = ThreadPoolExecutor(max_workers=min(8, len(targets)))
    futures = {pool.submit(_connect, h, port, timeout): (h, port) for h, port in sorted(targets)}
    done, _ = wait(futures, timeout=timeout + 0.5)
    pool.shutdown(wait=False)  # a hung DNS lookup must not hold us back
    failed = []
    for fut, (h, port) in futures.items():
        err = fut.exception() if fut in done else TimeoutError(f"pas de réponse en {timeout:.0f} s")
        if err is not None:
            failed.append(f"{h}:{port} ({err.__class__.__name__}: {err})")
    if failed:
        raise _offline_error("impossible de joindre " + ", ".join(failed))


def _cache_dir() -> Path:
    return data_roots().cache / "downloads"


def _is_cached(src: OfficialSource) -> bool:
    f = _cache_dir() / src.id / src.filename
    return f.exists() and (src.sha256 is None or sha256_file(f) == src.sha256.lower())


def download(src: OfficialSource, force: bool = False, progress: bool = True,
             timeout: float = 60.0) -> Path:
    """Download one official file into ``<cache>/downloads/<id>/`` with pooch and return its path.

    A file already in the cache is reused (and re-downloaded if it fails the known SHA-256);
    ``force`` downloads it again. Raises :class:`OfflineError` when the host cannot be reached,
    :class:`DataIntegrityError` when the download does not match ``src.sha256``.
    """
    import pooch
    import requests

    if src.importer is None or src.format == "page":
        raise CptsDiagError(
            f"« {src.id} » ({src.label}) n'a pas encore d'importeur : rien à télécharger. "
            f"Correctif : utilisez l'instantané ({INSTALL_HINT}) ; le fichier est décrit sur "
            f"{src.page or src.url}."
        )
    folder = _cache_dir() / src.id
    target = folder / src.filename
    if force and target.exists():
        target.unlink()
    fresh = not _is_cached(src)
    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel("WARNING")  # pooch's own advice names its API; ours follows
    try:
        path = pooch.retrieve(src.url, known_hash=f"sha256:{src.sha256}" if src.sha256 else None,
                              fname=src.filename, path=folder,
                              downloader=_downloader(src.url, progress, timeout))
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
        raise _offline_error(f"échec du téléchargement de {src.url} ({exc.__class__.__name__})") from exc
    except requests.exceptions.HTTPError as exc:
        raise CptsDiagError(
            f"{src.url} a répondu {exc}. L'URL de « {src.id} » n'a pas été vérifiée et le producteur "
            f"a pu déplacer le fichier. Correctif : trouvez le fichier actuel sur "
            f"{src.page or src.url}, ou utilisez l'instantané ({INSTALL_HINT})."
        ) from exc
    except ValueError as exc:
        if "hash" not in str(exc).lower():
            raise
        got = re.search(r"got ([0-9a-fA-F]{64})", str(exc))
        raise DataIntegrityError(
            f"Empreinte SHA-256 différente de celle attendue pour « {src.id} » téléchargé depuis "
            f"{src.url} (attendue {src.sha256}, obtenue {got.group(1) if got else 'inconnue'}). "
            f"Le fichier n'a pas été gardé. Correctif : le producteur a modifié "
            f"le fichier — vérifiez-le sur {src.page or src.url} et mettez à jour le sha256 attendu "
            f"dans cpts_diag/fetch_registry.py, ou utilisez l'instantané ({INSTALL_HINT})."
        ) from exc
    finally:
        logger.setLevel(level)
    if fresh and progress:
        _say(f"« {src.id} » téléchargé depuis {src.url} (SHA-256 {sha256_file(Path(path))}"
             + ("" if src.sha256 else " ; empreinte non connue du registre, non vérifiée") + ").")
    return Path(path)


# --- conversion into the snapshot layout ----------------------------------------------------------

class _Context:
    """Lazily loaded tables the conversions share (passage table, COG 2025 communes)."""

    def __init__(self) -> None:
        self._passage = None
        self._population_age: dict[Path, pd.DataFrame] = {}

    def population_age(self, src: OfficialSource, path: Path) -> pd.DataFrame:
        """INSEE's age file, parsed once for the two outputs built from it."""
        if path not in self._population_age:
            self._population_age[path] = importers.read_insee_population_age(
                path, year=src.vintage, cog=src.cog, passage=_passage_if_old(src, self),
                names=self.communes())
        return self._population_age[path]

    def passage(self) -> pd.DataFrame:
        if self._passage is None:
            from .loaders import load_passage

            self._passage = load_passage()
        return self._passage

    @staticmethod
    def communes() -> pd.DataFrame | None:
        from .loaders import load_communes

        try:
            return load_communes()
        except (DataNotInstalledError, DataIntegrityError):
            return None


Feeds = list[tuple[OfficialSource, Path, dict]]  # (source, downloaded file, needs: keyword -> path)


def _importer(src: OfficialSource) -> Callable:
    return getattr(importers, src.importer)


def _one(feeds: Feeds) -> tuple[OfficialSource, Path, dict]:
    if len(feeds) != 1:
        raise CptsDiagError(f"Un seul fichier officiel attendu pour cette conversion, reçu : "
                            f"{', '.join(f[0].id for f in feeds) or 'aucun'}. Correctif : "
                            "corrigez les sorties (outputs) de cpts_diag/fetch_registry.py.")
    return feeds[0]


def _passage_if_old(src: OfficialSource, ctx: _Context):
    return ctx.passage() if src.cog < 2025 else None


def _build_cog_communes(feeds: Feeds, ctx: _Context):
    src, path, needs = _one(feeds)
    return _importer(src)(path, **needs)


def _build_population_age(feeds: Feeds, ctx: _Context):
    src, path, _ = _one(feeds)
    age = ctx.population_age(src, path)
    age = age[age["code_commune"].str[:2].isin(["42", "43"])]  # the snapshot file covers 42 and 43
    return age.drop(columns=["code_commune", f"P{src.vintage % 100:02d}_POP"])


def _build_population(feeds: Feeds, ctx: _Context):
    src, path, _ = _one(feeds)
    return importers.population_from_insee_age(ctx.population_age(src, path), src.vintage)


def _build_apl_long(feeds: Feeds, ctx: _Context):
    frames = [importers.read_apl_workbook(path, ctx.passage()) for _, path, _ in feeds]
    return pd.concat(frames, ignore_index=True)


def _build_copy(feeds: Feeds, ctx: _Context):
    return _one(feeds)[1]


def _build_contours(departements=None, metro_only=False):
    def build(feeds: Feeds, ctx: _Context):
        src, path, _ = _one(feeds)
        return importers.read_commune_contours(path, cog=src.cog, departements=departements,
                                               metro_only=metro_only, passage=_passage_if_old(src, ctx))
    return build


# Snapshot source id -> how to build its file; order = build order (the COG first).
BUILDERS: dict[str, Callable] = {
    "cog_communes": _build_cog_communes,
    "population_age_42_43": _build_population_age,
    "population": _build_population,
    "apl_mg_xlsx": _build_copy,
    "apl_inf_xlsx": _build_copy,
    "apl_long": _build_apl_long,
    "geo_communes_metro": _build_contours(metro_only=True),
    "geo_communes_8dep": _build_contours(departements=DEPS_8),
}


def _atomic_write(obj, dst: Path) -> None:
    with atomic_target(dst) as tmp:
        if isinstance(obj, Path):
            shutil.copyfile(obj, tmp)
        elif hasattr(obj, "geometry") and dst.suffix == ".geojson":
            obj.to_file(tmp, driver="GeoJSON", engine="pyogrio", layer=dst.stem, COORDINATE_PRECISION=5)
        else:
            obj.to_csv(tmp, index=False)


def _record(written: dict[str, Path], origin: dict[str, list[OfficialSource]],
            download_sha256: dict[str, str]) -> None:
    """Update SHA256SUMS and fetch_provenance.json of the data root (atomically).

    ``download_sha256``: SHA-256 of each downloaded file, by source id."""
    roots = data_roots()
    sums_path = roots.tabular / SUMS_NAME
    sums = read_sums(sums_path) if sums_path.exists() else {}
    prov_path = roots.tabular / PROVENANCE_NAME
    prov = json.loads(prov_path.read_text(encoding="utf-8")) if prov_path.exists() else {}
    now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    for rel, path in written.items():
        sums[rel] = sha256_file(path)
        prov[rel] = {"sha256": sums[rel], "fetched_at": now, "sources": [
            {"id": s.id, "url": s.url, "vintage": s.vintage, "publisher": s.publisher,
             "licence": s.licence, "download_sha256": download_sha256[s.id],
             "verified_url": s.verified_url} for s in origin[rel]]}
    write_atomic(sums_path, "".join(f"{d}  {r}\n" for r, d in sorted(sums.items())))
    write_atomic(prov_path, json.dumps(prov, ensure_ascii=False, indent=1) + "\n")


# --- entry point --------------------------------------------------------------------------------------

def _select(only: list[str] | None, registry: dict[str, OfficialSource]) -> list[OfficialSource]:
    if not only:
        return list(registry.values())
    by_output: dict[str, list[OfficialSource]] = {}
    for s in registry.values():
        for o in s.outputs:
            by_output.setdefault(o, []).append(s)
    chosen: dict[str, OfficialSource] = {}
    for key in only:
        if key in registry:
            chosen[key] = registry[key]
        elif key in by_output:
            chosen.update({s.id: s for s in by_output[key]})
        else:
            raise CptsDiagError(
                f"--only : source inconnue « {key} » pour `cpts-diag data fetch`. Correctif : donnez "
                f"une source officielle ({', '.join(registry)}) ou une source de l'instantané "
                f"({', '.join(sorted(by_output))})."
            )
    # a file built from several downloads (apl_long) is rebuilt from all of them
    for s in list(chosen.values()):
        for o in s.outputs:
            chosen.update({x.id: x for x in by_output[o]})
    return [s for s in registry.values() if s.id in chosen]


def _say(msg: str) -> None:
    tqdm.write(msg, file=sys.stderr)


def fetch_all(only: list[str] | None = None, force: bool = False, *,
              registry: dict[str, OfficialSource] | None = None, progress: bool = True,
              probe_timeout: float = 3.0) -> list[Path]:
    """Download the official sources, convert them and write them into the data roots.

    ``only``: official source ids (:data:`REGISTRY`) or snapshot source ids (e.g. ``population``,
    ``apl_long``); default: everything. ``force``: download again even if cached. Returns the
    files written. Offline, raises :class:`OfflineError` before any download; sources without an
    importer are skipped with a message. Files built from codes of an older COG (DREES APL) need
    the passage table ``cog/passage_communes.csv`` in the data roots (from the snapshot).
    """
    registry = REGISTRY if registry is None else registry
    roots = data_roots()
    selected = _select(only, registry)  # a misspelt --only is named before anything else
    ref = default_snapshot_dir()
    if ref.exists() and roots.tabular.resolve() == ref.resolve():
        raise CptsDiagError(
            f"Le dossier de données est l'instantané de référence {ref} : le téléchargement "
            "l'écraserait. Correctif : retirez CPTS_DIAG_DATA (les données vont alors dans data/ "
            "et geo/) ou faites-le pointer vers un autre dossier."
        )
    for s in selected:
        if s.importer is None:
            _say(f"« {s.id} » ({s.label}) : pas d'importeur, ignoré. {s.note}. "
                 f"Utilisez l'instantané : {INSTALL_HINT}.")
    selected = [s for s in selected if s.importer is not None]
    if not selected:
        return []
    wanted = {s.id: s for s in selected}
    for s in selected:
        for _, dep in s.needs:
            wanted.setdefault(dep, registry[dep])
    outputs = [o for o in BUILDERS if any(o in s.outputs for s in selected)]
    check_online([s.url for s in wanted.values() if force or not _is_cached(s)], probe_timeout)
    if any(o == "apl_long" or s.cog < 2025 for s in selected for o in s.outputs):
        if not roots.path_of("tabular", get_source("cog_passage").file_for(None)[1]).exists():
            raise DataNotInstalledError(
                "La conversion des classeurs APL de la DREES (ou de fichiers sur un COG antérieur à "
                "2025) demande la table de passage cog/passage_communes.csv, qu'aucun importeur "
                f"officiel ne reconstruit encore. Correctif : installez d'abord l'instantané "
                f"({INSTALL_HINT}), ou ne téléchargez que d'autres sources (--only)."
            )

    downloads: dict[str, Path] = {}
    for s in tqdm(list(wanted.values()), desc="Téléchargement", unit="fichier", disable=not progress):
        downloads[s.id] = download(s, force=force, progress=progress)
    digests = {sid: sha256_file(p) for sid, p in downloads.items()}

    ctx, written = _Context(), {}
    for sid in tqdm(outputs, desc="Conversion", unit="fichier", disable=not progress):
        feeders = [s for s in selected if sid in s.outputs]
        feeds = [(s, downloads[s.id], {k: downloads[d] for k, d in s.needs}) for s in feeders]
        src = get_source(sid)
        _, rel = src.file_for(max(s.vintage for s in feeders))
        dst = roots.path_of(src.kind, rel)
        try:
            built = BUILDERS[sid](feeds, ctx)
        except CptsDiagError:
            raise
        except Exception as exc:  # a publisher changed its layout: name the file and the fix
            raise DataIntegrityError(
                f"Conversion impossible de {', '.join(s.url for s in feeders)} en {rel} : "
                f"{exc.__class__.__name__} : {exc}. Le producteur a pu modifier le fichier (URL et "
                f"format non vérifiés). Correctif : vérifiez-le sur "
                f"{feeders[0].page or feeders[0].url}, ou utilisez l'instantané ({INSTALL_HINT})."
            ) from exc
        _atomic_write(built, dst)
        used = feeders + [wanted[d] for s in feeders for _, d in s.needs]
        _record({rel: dst}, {rel: used}, digests)  # SHA256SUMS always matches what is written
        written[rel] = dst
    from .store import clear_memory

    clear_memory()
    return list(written.values())
