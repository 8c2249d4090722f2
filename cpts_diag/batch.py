"""Batch production of CPTS diagnostic reports (``cpts-diag report``).

Per CPTS, a warm worker (:mod:`cpts_diag.batch_pool`: ``jobs`` processes, each keeping one
kernel from report to report) runs ``notebooks/diagnostic.ipynb`` with papermill (parameters
``cpts_id``, ``output_dir``) in ``<out>/.build-<id>-…``, exports it to HTML without code
(and PDF: :mod:`cpts_diag.pdf`), then the folder is renamed ``<out>/<id>/``, all under the lock
``<out>/.lock-<id>``: a run replaces only the files it wrote (:mod:`cpts_diag.outputs`), and
``<out>/index.html`` is rewritten (:mod:`cpts_diag.index_page`). ``CPTS_DIAG_NOTEBOOK`` overrides
the notebook (tests use fixture notebooks).

Incremental: the manifest of each report records its inputs fingerprint
(:mod:`cpts_diag.inputs_fingerprint`); a report whose folder holds the same fingerprint and every
file of its manifest (sizes checked, not SHA-256) is « à jour » and not rebuilt, unless ``rebuild``.
An interrupted batch run again rebuilds only what is missing or stale; the index is rewritten
only when a report changed (or when it is missing).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from .config import REPO_DIR
from . import door_checks, outputs
from .errors import CptsDiagError, TerritoryError
from .fmt import fmt_number
from .index_page import INDEX_COLUMNS, index_row, reference_row, render_index, write_index  # noqa: F401
from .index_page import try_write_index
from .inputs_fingerprint import common_inputs, fingerprint
from .outputs import BatchInterrupted, SignalGuard
from .batch_pool import WorkerPool

DEFAULT_NOTEBOOK = REPO_DIR / "notebooks" / "diagnostic.ipynb"
NOTEBOOK_ENV = "CPTS_DIAG_NOTEBOOK"
RESULT_FILE = "_batch_result.json"
REPORT_FILES = ("rapport.html", "rapport.ipynb", "indicators.json")
KERNEL_NAME = "python3"
PDF_TIMEOUT = 120  # seconds for Chromium to print one report


@dataclass
class Outcome:
    cpts_id: str
    ok: bool
    seconds: float
    error: str | None = None
    steps: dict | None = None
    kept: list[str] | None = None  # foreign files carried into the new folder (force)
    skipped: bool = False  # up to date (same inputs fingerprint): not rebuilt


# --- parent side ---------------------------------------------------------------------------------

def default_out_dir() -> Path:
    return REPO_DIR / "outputs"


def notebook_path(notebook: str | os.PathLike | None = None) -> Path:
    """The notebook to run: ``notebook``, else ``$CPTS_DIAG_NOTEBOOK``, else notebooks/diagnostic.ipynb."""
    nb = Path(notebook or os.environ.get(NOTEBOOK_ENV) or DEFAULT_NOTEBOOK).expanduser()
    if not nb.is_file():
        raise CptsDiagError(
            f"Notebook {nb} introuvable. Correctif : lancez depuis une copie de cpts-diag "
            f"(notebooks/diagnostic.ipynb) ou donnez dans {NOTEBOOK_ENV} un notebook avec une "
            "cellule `parameters` (cpts_id, output_dir).")
    return nb.resolve()


def resolve_ids(cpts_ids, all_: bool = False) -> list[str]:
    """Requested ids, checked against the known perimeters before anything runs; a prefixed id
    (``epci-SIREN``, ``bv-CODE``, ``dep-CODE``) is checked against the COG and returned in its
    canonical form (``dep-2a`` → ``dep-2A``)."""
    from .territory import known_cpts
    from .territory_kinds import parse_kind_id

    known = known_cpts()
    ids = list(dict.fromkeys([*(known if all_ else []), *(cpts_ids or [])]))
    if not ids:
        raise CptsDiagError(
            "Aucune CPTS demandée. Correctif : donnez un ou plusieurs identifiants "
            f"(cpts-diag report ondaine-forez) ou --all. CPTS connues : {', '.join(known) or '(aucune)'}.")
    ids = list(dict.fromkeys(_kind_id(i) if i not in known else i for i in ids))
    unknown = [i for i in ids if i not in known and parse_kind_id(i) is None]
    if unknown:
        raise TerritoryError(
            f"CPTS inconnue(s) : {', '.join(unknown)}. CPTS connues : {', '.join(known) or '(aucune)'}. "
            "Correctif : utilisez l'un de ces identifiants (`cpts-diag perimeters` les décrit) ou "
            "ajoutez un fichier <id>.yaml dans data/cpts/.")
    return ids


def _kind_id(cid):
    """A prefixed id checked against the COG (French error if its code is unknown), else as is."""
    from .territory_kinds import canonical_id, parse_kind_id

    return canonical_id(cid) if parse_kind_id(cid) else cid


def _kernel_dir(root: Path) -> Path:
    """A kernelspec ``python3`` bound to this interpreter, so the batch never picks another env."""
    kdir = root / "jupyter" / "kernels" / KERNEL_NAME
    kdir.mkdir(parents=True, exist_ok=True)
    spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Python 3 (cpts-diag)", "language": "python",
            "metadata": {"debugger": False}}
    (kdir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    return root / "jupyter"


def _short_error(text: str, limit: int = 600) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def run_batch(cpts_ids=(), all_: bool = False, jobs: int = 1, out=None, timeout: float = 600,
              notebook=None, parameters: dict | None = None, progress: bool = True,
              pdf: bool = False, force: bool = False, rebuild: bool = False) -> int:
    """Produce the reports of ``cpts_ids`` (or every known CPTS with ``all_``) in ``out``.

    ``jobs`` notebooks run in parallel (one worker process each), each stopped after ``timeout``
    seconds. A failing CPTS does not stop the others; the function prints a summary and returns 0
    when every report was produced, 1 otherwise. Unknown ids raise :class:`TerritoryError`
    (listing the known ids) before anything runs. ``notebook`` (or ``$CPTS_DIAG_NOTEBOOK``)
    replaces the diagnostic notebook; ``parameters`` are extra papermill parameters (never
    ``cpts_id`` or ``output_dir``). With ``pdf``, each report also gets ``rapport.pdf``
    (:func:`cpts_diag.pdf.html_to_pdf`); no Chromium: :class:`cpts_diag.pdf.PdfExportError` first.
    A report folder (or ``index.html``) holding files cpts-diag did not write fails its CPTS (or
    the index), unless ``force``: they are then kept beside the new report. SIGINT/SIGTERM stop
    the workers, keep the previous reports and raise :class:`cpts_diag.outputs.BatchInterrupted`.
    A report whose inputs did not change since it was produced is skipped (« à jour »), unless
    ``rebuild``; ``force`` keeps its meaning (foreign files).
    """
    code, _ = run_batch_detailed(cpts_ids, all_=all_, jobs=jobs, out=out, timeout=timeout,
                                 notebook=notebook, parameters=parameters, progress=progress, pdf=pdf,
                                 force=force, rebuild=rebuild)
    return code


def run_batch_detailed(cpts_ids=(), all_: bool = False, jobs: int = 1, out=None, timeout: float = 600,
                       notebook=None, parameters: dict | None = None, progress: bool = True,
                       summary: bool = True, pdf: bool = False,
                       force: bool = False, rebuild: bool = False) -> tuple[int, list[Outcome]]:
    """:func:`run_batch`, also returning one :class:`Outcome` per CPTS (times per step)."""
    ids = resolve_ids(cpts_ids, all_)
    nb = notebook_path(notebook)
    jobs, timeout = door_checks.check_jobs(jobs), door_checks.check_timeout(timeout)
    parameters = door_checks.check_parameters(parameters)
    if pdf:
        from .pdf import find_chromium

        find_chromium()  # no browser: say so before any notebook runs
    out_dir = door_checks.check_out_dir(out if out is not None else default_out_dir())
    t_start = time.monotonic()
    outcomes: dict[str, Outcome] = {}
    with SignalGuard() as guard:
        scratch = Path(tempfile.mkdtemp(prefix="cpts-diag-batch-"))
        try:
            bar = _Progress(len(ids), enabled=progress)
            try:
                env = _worker_env(scratch)
                job = _Job(nb, out_dir, scratch, env, timeout, parameters, pdf, force,
                           rebuild, common_inputs(nb, parameters, pdf), WorkerPool(env, scratch))
                _run_all(ids, jobs, job, bar, guard, outcomes)
            finally:
                bar.close()
            index_error = None
            if _index_needed(out_dir, outcomes.values()):
                with guard.critical():
                    index_error = try_write_index(out_dir, force)
        except BatchInterrupted as exc:
            exc.done = sum(o.ok for o in outcomes.values())
            if any(o.ok and not o.skipped for o in outcomes.values()):  # the index lists them
                try_write_index(out_dir, force)
            raise
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    total = time.monotonic() - t_start
    ordered = [outcomes[i] for i in ids]
    return _summary(ordered, out_dir, total, index_error, printed=summary, pdf=pdf), ordered


def _index_needed(out_dir: Path, outcomes) -> bool:
    """Rewrite ``index.html`` only when a report was (re)built or when it is missing."""
    return any(o.ok and not o.skipped for o in outcomes) or not (out_dir / "index.html").exists()


def stderr_is_tty() -> bool:
    """Whether stderr is a terminal (progress bars there; plain lines in logs and pipes)."""
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # replaced or closed stream
        return False


class _Progress:
    """Batch progress on stderr: the tqdm bar on a terminal; when stderr is a file or a pipe (logs,
    CI), one plain line per finished CPTS, ``[2/5] ondaine-forez OK (15,2 s)``, and no bar."""

    def __init__(self, total: int, enabled: bool = True):
        from tqdm.auto import tqdm

        self.total, self.done = total, 0
        self.lines = enabled and not stderr_is_tty()
        self.bar = tqdm(total=total, desc="Rapports", unit="rapport", file=sys.stderr,
                        disable=not enabled or self.lines, dynamic_ncols=True)

    def running(self, ids) -> None:
        self.bar.set_postfix_str(", ".join(ids), refresh=True)

    def finished(self, outcome: Outcome, running) -> None:
        self.done += 1
        self.bar.update(1)
        self.running(running)
        if self.lines:
            state = "à jour (inchangé)" if outcome.skipped else "OK" if outcome.ok else "ÉCHEC"
            print(f"[{self.done}/{self.total}] {outcome.cpts_id} {state} ({_seconds(outcome.seconds)})",
                  file=sys.stderr, flush=True)

    def close(self) -> None:
        self.bar.close()


def _noun(ids) -> str:
    """« CPTS » when every id is a CPTS (perimeter file), else « territoires »."""
    from .territory_kinds import kind_of_id

    return "CPTS" if all(kind_of_id(i) == "cpts" for i in ids) else "territoires"


def _seconds(x: float) -> str:
    return f"{fmt_number(x, 1)} s"


@dataclass
class _Job:
    """What every worker of one batch shares."""
    notebook: Path
    out_dir: Path
    scratch: Path
    env: dict
    timeout: float
    parameters: dict
    pdf: bool
    force: bool = False
    rebuild: bool = False
    common: dict | None = None  # inputs fingerprint part shared by every report
    pool: WorkerPool | None = None  # the warm workers (batch_pool)


class _Run(NamedTuple):
    """One CPTS in production: its worker, build folder, start time, log and lock."""
    proc: subprocess.Popen
    build: Path
    t0: float
    log: Path
    lock: int
    inputs: dict | None = None  # recorded in the manifest


def _worker_env(scratch: Path) -> dict:
    return {**os.environ, "JUPYTER_PATH": os.pathsep.join(
        [str(_kernel_dir(scratch)), *filter(None, [os.environ.get("JUPYTER_PATH")])]),
        "PYTHONWARNINGS": "ignore", "MPLBACKEND": "Agg"}


def _start(cid: str, job: _Job) -> _Run | Outcome:
    """Take the lock of one CPTS, clear what a killed run left, check the target and start the
    worker in a fresh build folder; a refusal is an :class:`Outcome` at once."""
    t0 = time.monotonic()
    try:
        lock = outputs.take_lock(job.out_dir, cid)
    except CptsDiagError as exc:
        return Outcome(cid, False, 0.0, str(exc))
    build = job.out_dir / f".build-{cid}-{uuid.uuid4().hex[:8]}"
    task = {"id": cid, "notebook": str(job.notebook), "build": str(build), "timeout": job.timeout,
            "params": job.parameters, "pdf": job.pdf}
    try:
        outputs.remove_stale(job.out_dir, cid)  # under the lock: nobody else's
        inputs = _fingerprint(cid, job)
        if not job.rebuild and outputs.is_up_to_date(job.out_dir / cid, inputs):
            outputs.release_lock(lock)
            return Outcome(cid, True, time.monotonic() - t0, skipped=True)
        outputs.check_target(job.out_dir / cid, job.force)  # fail now rather than after the build
        build.mkdir()
        proc = job.pool.submit(task)
    except (CptsDiagError, OSError) as exc:
        shutil.rmtree(build, ignore_errors=True)
        outputs.release_lock(lock)
        text = str(exc) if isinstance(exc, CptsDiagError) else f"mise en place impossible : {exc}"
        return Outcome(cid, False, time.monotonic() - t0, text)
    return _Run(proc, build, time.monotonic(), job.pool.log_of(proc), lock, inputs)


def _fingerprint(cid: str, job: _Job) -> dict | None:
    """The inputs fingerprint of one report; None (unknown: always rebuilt, nothing recorded) if
    its territory cannot be read here (the worker then reports the error)."""
    if job.common is None:
        return None
    try:
        return fingerprint(cid, job.notebook, job.parameters, job.pdf, common=job.common)
    except (CptsDiagError, OSError):
        return None


def _finish(cid: str, run: _Run, job: _Job) -> Outcome:
    """Outcome of a worker that ended (or ran out of time); a complete report is swapped in place."""
    elapsed = time.monotonic() - run.t0
    try:
        if _done(run):
            outcome = _collect(cid, 0 if run.proc.poll() is None else run.proc.returncode, run.build,
                               run.log, elapsed, pdf=job.pdf)
            job.pool.release(run.proc)  # a live worker takes the next report
        else:
            job.pool.discard(run.proc)
            outcome = Outcome(cid, False, elapsed,
                              f"délai dépassé : le notebook a tourné plus de {job.timeout:g} s "
                              "(correctif : --timeout plus grand, ou voir la cellule lente)")
        if outcome.ok:
            try:
                outputs.write_manifest(run.build, cid, run.inputs)
                outcome.kept = outputs.swap_into_place(run.build, job.out_dir / cid, job.force)
            except CptsDiagError as exc:
                outcome = Outcome(cid, False, elapsed, str(exc))
            except OSError as exc:
                outcome = Outcome(cid, False, elapsed, f"mise en place impossible : {exc}")
        shutil.rmtree(run.build, ignore_errors=True)
    finally:
        outputs.release_lock(run.lock)
    return outcome


def _run_all(ids: list[str], jobs: int, job: _Job, bar: _Progress, guard: SignalGuard,
             outcomes: dict[str, Outcome]) -> None:
    """Run the workers, ``jobs`` at a time, filling ``outcomes``; an interruption stops them and
    leaves no build of this run behind (starts and swaps are never cut in the middle)."""
    pending = list(ids)
    running: dict[str, _Run] = {}
    try:
        while pending or running:
            while pending and len(running) < jobs:
                cid = pending.pop(0)
                with guard.critical():
                    started = _start(cid, job)
                    if isinstance(started, Outcome):
                        outcomes[cid] = started
                        bar.finished(started, running)
                    else:
                        running[cid] = started
                bar.running(running)
            time.sleep(0.05)
            for cid, run in list(running.items()):
                if not _done(run) and time.monotonic() - run.t0 <= job.timeout:
                    continue
                with guard.critical():
                    outcomes[cid] = _finish(cid, run, job)
                    del running[cid]
                bar.finished(outcomes[cid], running)
    finally:
        for run in running.values():  # interrupted: leave nothing of this run behind
            try:
                job.pool.discard(run.proc)
                shutil.rmtree(run.build, ignore_errors=True)
            finally:
                outputs.release_lock(run.lock)
        job.pool.close(graceful=not running)


def _done(run: _Run) -> bool:
    """The worker of ``run`` wrote its result, or died."""
    return (run.build / RESULT_FILE).exists() or run.proc.poll() is not None


def _collect(cid: str, returncode: int, build: Path, log: Path, elapsed: float,
             pdf: bool = False) -> Outcome:
    res_path = build / RESULT_FILE
    result = None
    if res_path.exists():
        try:
            result = json.loads(res_path.read_text(encoding="utf-8"))
        except ValueError:
            result = None
        res_path.unlink(missing_ok=True)
    if result and result.get("ok") and returncode == 0:
        missing = [f for f in REPORT_FILES + (("rapport.pdf",) if pdf else ()) if not (build / f).is_file()]
        if missing:
            return Outcome(cid, False, elapsed, f"fichiers absents après exécution : {', '.join(missing)} "
                           "(le notebook doit écrire indicators.json quand output_dir est donné)")
        return Outcome(cid, True, elapsed, steps=result.get("steps"))
    if result and result.get("error"):
        return Outcome(cid, False, elapsed, result["error"])
    tail = log.read_text(encoding="utf-8", errors="replace")[-1500:] if log and log.exists() else ""
    return Outcome(cid, False, elapsed, _short_error(
        f"le processus de production s'est arrêté (code {returncode}) : {tail or 'aucune sortie'}"))


def _summary(outcomes: list[Outcome], out_dir: Path, total: float, index_error: str | None,
             printed: bool = True, pdf: bool = False) -> int:
    ok = [o for o in outcomes if o.ok and not o.skipped]
    same = [o for o in outcomes if o.skipped]
    bad = [o for o in outcomes if not o.ok]
    lines = [f"{len(ok)} rapport(s) produit(s)" + (f", {len(same)} à jour (inchangé(s))" if same else "")
             + f" sur {len(outcomes)} en {_seconds(total)} dans {out_dir}"]
    for o in same:
        lines.append(f"  À JOUR {o.cpts_id} → {o.cpts_id}/rapport.html : à jour (inchangé)")
    for o in ok:
        lines.append(f"  OK     {o.cpts_id} ({_seconds(o.seconds)}) → {o.cpts_id}/rapport.html"
                     + (f", {o.cpts_id}/rapport.pdf" if pdf else ""))
        if o.kept:
            lines.append(f"         fichiers d'autres que cpts-diag conservés : {', '.join(o.kept)}")
    if bad:
        noun = _noun([o.cpts_id for o in bad])
        lines.append(f"ÉCHEC pour {len(bad)} {noun} : {', '.join(o.cpts_id for o in bad)}")
        for o in bad:
            lines.append(f"  ÉCHEC  {o.cpts_id} ({_seconds(o.seconds)}) : {o.error}")
        lines.append(f"Les rapports précédents de ces {noun} (s'il y en avait) sont conservés tels quels.")
    if same and not ok and not bad:
        lines.append("Rien à refaire : --rebuild (rebuild=True) force la production.")
    if index_error:
        lines.append(f"ÉCHEC de l'index {out_dir / 'index.html'} : {index_error}")
    else:
        lines.append(f"Index : {out_dir / 'index.html'}")
    if printed:
        print("\n".join(lines), file=sys.stdout if not bad and not index_error else sys.stderr)
    return 0 if not bad and not index_error else 1
