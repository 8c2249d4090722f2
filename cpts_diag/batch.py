"""Batch production of CPTS diagnostic reports (``cpts-diag report``).

For each CPTS, the notebook ``notebooks/diagnostic.ipynb`` is executed by papermill in a worker
process (``jobs`` at a time), with its parameters ``cpts_id`` and ``output_dir``; the worker then
exports the executed notebook to HTML without code. Everything is built in a temporary folder
next to the target (``<out>/.build-<id>-…``) and renamed to ``<out>/<id>/`` only when complete, so a
failed or interrupted run never leaves a half-written report (the previous one stays in place).
``<out>/index.html`` (links and a comparison table of every report present,
:mod:`cpts_diag.index_page`) is rewritten the same way.

Per CPTS, ``<out>/<id>/`` holds ``rapport.html`` (self-contained, opens offline), with ``pdf``
``rapport.pdf`` (A4, printed by headless Chromium: :mod:`cpts_diag.pdf`), ``rapport.ipynb`` (executed), ``figures/*.png``, ``tables/*.csv``, ``tableaux.xlsx`` and
``indicators.json`` (= :func:`cpts_diag.catalogue.catalogue` of the territory).

Environment: ``CPTS_DIAG_NOTEBOOK`` overrides the notebook (tests use failing fixture notebooks).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from .config import REPO_DIR
from .errors import CptsDiagError, TerritoryError
from .index_page import (  # noqa: F401 - re-exported
    INDEX_COLUMNS,
    index_row,
    reference_row,
    render_index,
    write_index,
)

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


# --- parent side ---------------------------------------------------------------------------------

def default_out_dir() -> Path:
    return REPO_DIR / "outputs"


def notebook_path(notebook: str | os.PathLike | None = None) -> Path:
    """The notebook to run: ``notebook``, else ``$CPTS_DIAG_NOTEBOOK``, else notebooks/diagnostic.ipynb."""
    nb = Path(notebook or os.environ.get(NOTEBOOK_ENV) or DEFAULT_NOTEBOOK).expanduser()
    if not nb.is_file():
        raise CptsDiagError(
            f"Notebook {nb} not found. Fix: run from a checkout of cpts-diag (notebooks/diagnostic.ipynb) "
            f"or set {NOTEBOOK_ENV} to a notebook with a `parameters` cell (cpts_id, output_dir).")
    return nb.resolve()


def resolve_ids(cpts_ids, all_: bool = False) -> list[str]:
    """Requested ids, checked against the known perimeters before anything runs."""
    from .territory import known_cpts

    known = known_cpts()
    ids = list(dict.fromkeys([*(known if all_ else []), *(cpts_ids or [])]))
    if not ids:
        raise CptsDiagError(
            "Aucune CPTS demandée. Correctif : donnez un ou plusieurs identifiants "
            f"(cpts-diag report ondaine-forez) ou --all. CPTS connues : {', '.join(known) or '(aucune)'}.")
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise TerritoryError(
            f"CPTS inconnue(s) : {', '.join(unknown)}. CPTS connues : {', '.join(known) or '(aucune)'}. "
            "Correctif : utilisez l'un de ces identifiants (`cpts-diag perimeters` les décrit) ou "
            "ajoutez un fichier <id>.yaml dans data/cpts/.")
    return ids


def _kernel_dir(root: Path) -> Path:
    """A kernelspec ``python3`` bound to this interpreter, so the batch never picks another env."""
    kdir = root / "jupyter" / "kernels" / KERNEL_NAME
    kdir.mkdir(parents=True, exist_ok=True)
    spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Python 3 (cpts-diag)", "language": "python",
            "metadata": {"debugger": False}}
    (kdir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    return root / "jupyter"


def _kill_tree(proc: subprocess.Popen, grace: float = 3.0) -> None:
    """Stop a worker and its kernel: SIGTERM (the worker kills its children), then SIGKILL."""
    if proc.poll() is not None:
        return
    try:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        try:
            import psutil

            for child in psutil.Process(proc.pid).children(recursive=True):
                child.kill()
        except Exception:  # noqa: BLE001 - psutil missing or process gone
            pass
        proc.kill()
        proc.wait()


def _swap_into_place(build: Path, final: Path) -> None:
    """Replace ``final`` by the complete folder ``build`` (renames only, same file system)."""
    old = None
    if final.exists():
        old = final.with_name(f".old-{final.name}-{uuid.uuid4().hex[:8]}")
        os.rename(final, old)
    os.rename(build, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _short_error(text: str, limit: int = 600) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def run_batch(cpts_ids=(), all_: bool = False, jobs: int = 1, out=None, timeout: float = 600,
              notebook=None, parameters: dict | None = None, progress: bool = True,
              pdf: bool = False) -> int:
    """Produce the reports of ``cpts_ids`` (or every known CPTS with ``all_``) in ``out``.

    ``jobs`` notebooks run in parallel (one worker process each), each stopped after ``timeout``
    seconds. A failing CPTS does not stop the others; the function prints a summary and returns 0
    when every report was produced, 1 otherwise. Unknown ids raise :class:`TerritoryError`
    (listing the known ids) before anything runs. ``notebook`` (or ``$CPTS_DIAG_NOTEBOOK``)
    replaces the diagnostic notebook; ``parameters`` are extra papermill parameters. With ``pdf``,
    each report also gets ``rapport.pdf`` (:func:`cpts_diag.pdf.html_to_pdf`, headless Chromium);
    a PDF that fails fails its report. No Chromium: :class:`cpts_diag.pdf.PdfExportError` first.
    """
    code, _ = run_batch_detailed(cpts_ids, all_=all_, jobs=jobs, out=out, timeout=timeout,
                                 notebook=notebook, parameters=parameters, progress=progress, pdf=pdf)
    return code


def _remove_stale_builds(out_dir: Path, older_than: float) -> list[Path]:
    """Remove ``.build-*`` folders left by a batch that was killed (older than any live build)."""
    removed = []
    now = time.time()
    for d in out_dir.glob(".build-*"):
        try:
            if d.is_dir() and now - d.stat().st_mtime > older_than:
                shutil.rmtree(d, ignore_errors=True)
                removed.append(d)
        except OSError:
            pass
    return removed


def run_batch_detailed(cpts_ids=(), all_: bool = False, jobs: int = 1, out=None, timeout: float = 600,
                       notebook=None, parameters: dict | None = None, progress: bool = True,
                       summary: bool = True, pdf: bool = False) -> tuple[int, list[Outcome]]:
    """:func:`run_batch`, also returning one :class:`Outcome` per CPTS (times per step)."""
    from tqdm.auto import tqdm

    ids = resolve_ids(cpts_ids, all_)
    nb = notebook_path(notebook)
    if pdf:
        from .pdf import find_chromium

        find_chromium()  # no browser: say so before any notebook runs
    out_dir = Path(out).expanduser().resolve() if out else default_out_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    _remove_stale_builds(out_dir, older_than=2 * timeout)
    scratch = Path(tempfile.mkdtemp(prefix="cpts-diag-batch-"))
    t_start = time.monotonic()
    bar = tqdm(total=len(ids), desc="Rapports CPTS", unit="CPTS", disable=not progress,
               file=sys.stderr, dynamic_ncols=True)
    try:
        job = _Job(nb, out_dir, scratch, _worker_env(scratch), timeout, parameters or {}, pdf)
        outcomes = _run_all(ids, max(1, int(jobs or 1)), job, bar)
    finally:
        bar.close()
        shutil.rmtree(scratch, ignore_errors=True)
    index_error = None
    try:
        write_index(out_dir)
    except Exception as exc:  # noqa: BLE001 - reports are done; say what failed
        index_error = f"{exc.__class__.__name__}: {exc}"
    total = time.monotonic() - t_start
    ordered = [outcomes[i] for i in ids]
    return _summary(ordered, out_dir, total, index_error, printed=summary, pdf=pdf), ordered


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


def _worker_env(scratch: Path) -> dict:
    return {**os.environ, "JUPYTER_PATH": os.pathsep.join(
        [str(_kernel_dir(scratch)), *filter(None, [os.environ.get("JUPYTER_PATH")])]),
        "PYTHONWARNINGS": "ignore", "MPLBACKEND": "Agg"}


def _start(cid: str, job: _Job) -> tuple[subprocess.Popen, Path, float, Path]:
    """Start the worker of one CPTS in a fresh build folder: ``(process, build, start, log)``."""
    build = job.out_dir / f".build-{cid}-{uuid.uuid4().hex[:8]}"
    build.mkdir()
    log = job.scratch / f"{cid}.log"
    cmd = [sys.executable, "-m", "cpts_diag.batch", "--worker", cid, "--notebook", str(job.notebook),
           "--build-dir", str(build), "--timeout", str(job.timeout),
           "--params", json.dumps(job.parameters)] + (["--pdf"] if job.pdf else [])
    with open(log, "wb") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=job.env,
                                cwd=str(build), start_new_session=True)
    return proc, build, time.monotonic(), log


def _finish(cid: str, proc: subprocess.Popen, build: Path, t0: float, log: Path, job: _Job) -> Outcome:
    """Outcome of a worker that ended (or ran out of time); a complete report is swapped in place."""
    elapsed = time.monotonic() - t0
    if proc.poll() is None:
        _kill_tree(proc)
        outcome = Outcome(cid, False, elapsed,
                          f"délai dépassé : le notebook a tourné plus de {job.timeout:g} s "
                          "(correctif : --timeout plus grand, ou voir la cellule lente)")
    else:
        outcome = _collect(cid, proc.returncode, build, log, elapsed, pdf=job.pdf)
    if outcome.ok:
        try:
            _swap_into_place(build, job.out_dir / cid)
        except OSError as exc:
            outcome = Outcome(cid, False, elapsed, f"mise en place impossible : {exc}")
    shutil.rmtree(build, ignore_errors=True)
    return outcome


def _run_all(ids: list[str], jobs: int, job: _Job, bar) -> dict[str, Outcome]:
    """Run the workers, ``jobs`` at a time; an interruption stops them and leaves no build behind."""
    pending = list(ids)
    running: dict[str, tuple[subprocess.Popen, Path, float, Path]] = {}
    outcomes: dict[str, Outcome] = {}
    try:
        while pending or running:
            while pending and len(running) < jobs:
                cid = pending.pop(0)
                running[cid] = _start(cid, job)
                bar.set_postfix_str(", ".join(running), refresh=True)
            time.sleep(0.05)
            for cid, (proc, build, t0, log) in list(running.items()):
                if proc.poll() is None and time.monotonic() - t0 <= job.timeout:
                    continue
                outcomes[cid] = _finish(cid, proc, build, t0, log, job)
                del running[cid]
                bar.update(1)
                bar.set_postfix_str(", ".join(running), refresh=True)
    finally:
        for proc, build, _, _ in running.values():  # interrupted: leave nothing behind
            _kill_tree(proc)
            shutil.rmtree(build, ignore_errors=True)
    return outcomes


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
    tail = log.read_text(encoding="utf-8", errors="replace")[-1500:] if log.exists() else ""
    return Outcome(cid, False, elapsed, _short_error(
        f"le processus de production s'est arrêté (code {returncode}) : {tail or 'aucune sortie'}"))


def _summary(outcomes: list[Outcome], out_dir: Path, total: float, index_error: str | None,
             printed: bool = True, pdf: bool = False) -> int:
    ok = [o for o in outcomes if o.ok]
    bad = [o for o in outcomes if not o.ok]
    lines = [f"{len(ok)} rapport(s) produit(s) sur {len(outcomes)} en {total:.1f} s dans {out_dir}"]
    for o in ok:
        lines.append(f"  OK     {o.cpts_id} ({o.seconds:.1f} s) → {o.cpts_id}/rapport.html"
                     + (f", {o.cpts_id}/rapport.pdf" if pdf else ""))
    if bad:
        lines.append(f"ÉCHEC pour {len(bad)} CPTS : {', '.join(o.cpts_id for o in bad)}")
        for o in bad:
            lines.append(f"  ÉCHEC  {o.cpts_id} ({o.seconds:.1f} s) : {o.error}")
        lines.append("Les rapports précédents de ces CPTS (s'il y en avait) sont conservés tels quels.")
    if index_error:
        lines.append(f"ÉCHEC de l'index {out_dir / 'index.html'} : {index_error}")
    else:
        lines.append(f"Index : {out_dir / 'index.html'}")
    if printed:
        print("\n".join(lines), file=sys.stdout if not bad and not index_error else sys.stderr)
    return 0 if not bad and not index_error else 1


# --- worker side ---------------------------------------------------------------------------------

def _stop_on_sigterm() -> None:
    """On SIGTERM (timeout or interruption in the parent) kill the kernel and Chromium, then leave."""
    def on_term(signum, frame):
        try:
            import psutil

            for child in psutil.Process().children(recursive=True):
                child.kill()
        finally:
            os._exit(124)

    signal.signal(signal.SIGTERM, on_term)


def _warm_up() -> None:
    """Import the HTML exporter while the kernel computes (the worker only waits)."""
    try:
        from nbconvert import HTMLExporter  # noqa: F401
    except Exception:  # noqa: BLE001 - imported again (and reported) by export_html
        pass


def _report_title(build: Path) -> str | None:
    ij = build / "indicators.json"
    if ij.is_file():
        try:
            name = json.loads(ij.read_text(encoding="utf-8")).get("territory", {}).get("name")
            return f"Diagnostic territorial — {name}" if name else None
        except ValueError:
            pass
    return None


def _worker(cpts_id: str, notebook: Path, build: Path, timeout: float, params: dict,
            pdf: bool = False) -> int:
    """Run one notebook in ``build``, export it to HTML (and PDF); write the outcome to
    ``build/_batch_result.json``."""
    import threading

    _stop_on_sigterm()
    result: dict = {"ok": False, "steps": {}}
    steps = result["steps"]
    t0 = time.monotonic()
    warm = threading.Thread(target=_warm_up, daemon=True)
    # jsonschema (via nbformat) imports rfc3987_syntax only to validate the "iri" string format,
    # which notebooks never use; building its grammar costs ~0.7 s per report. Skip it here.
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
    try:
        import nbformat
        import papermill as pm

        from .atomic import write_atomic
        from .html_export import export_html

        steps["worker_imports"] = time.monotonic() - t0
        warm.start()
        nb_out = build / "rapport.ipynb"
        t = time.monotonic()
        executed = pm.execute_notebook(
            str(notebook), str(nb_out),
            parameters={"cpts_id": cpts_id, "output_dir": ".", **params},
            kernel_name=KERNEL_NAME, progress_bar=False, cwd=str(build),
            execution_timeout=int(timeout), log_output=False, report_mode=False)
        steps["execution"] = time.monotonic() - t
        steps["cells"] = {
            f"{i}:{c.source.splitlines()[0][:50] if c.source else ''}": c.metadata.get("papermill", {}).get("duration")
            for i, c in enumerate(executed.cells) if c.cell_type == "code"}
        warm.join()
        t = time.monotonic()
        executed.metadata.get("papermill", {}).update(
            {"input_path": notebook.name, "output_path": "rapport.ipynb", "cwd": None})
        nbformat.write(executed, str(nb_out))
        write_atomic(build / "rapport.html", export_html(executed, title=_report_title(build)))
        steps["export_html"] = time.monotonic() - t
        if pdf:
            from .pdf import html_to_pdf

            t = time.monotonic()
            html_to_pdf(build / "rapport.html", build / "rapport.pdf", timeout=PDF_TIMEOUT)
            steps["export_pdf"] = time.monotonic() - t
        result["ok"] = True
    except Exception as exc:  # noqa: BLE001 - reported to the parent
        result["error"] = _describe_error(exc)
    steps["total"] = time.monotonic() - t0
    (build / RESULT_FILE).write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
    return 0 if result["ok"] else 1


def _describe_error(exc: Exception) -> str:
    try:
        from papermill.exceptions import PapermillExecutionError
    except ImportError:  # pragma: no cover
        PapermillExecutionError = ()  # type: ignore[assignment]
    if PapermillExecutionError and isinstance(exc, PapermillExecutionError):
        where = f" (cellule {exc.exec_count})" if getattr(exc, "exec_count", None) else ""
        return _short_error(f"{exc.ename}: {exc.evalue}{where}")
    return _short_error(f"{exc.__class__.__name__}: {exc}")


def _worker_main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m cpts_diag.batch")
    ap.add_argument("--worker", required=True, metavar="CPTS_ID")
    ap.add_argument("--notebook", required=True, type=Path)
    ap.add_argument("--build-dir", required=True, type=Path)
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--params", default="{}")
    ap.add_argument("--pdf", action="store_true")
    a = ap.parse_args(argv)
    return _worker(a.worker, a.notebook, a.build_dir, a.timeout, json.loads(a.params), pdf=a.pdf)


if __name__ == "__main__":
    sys.exit(_worker_main())
