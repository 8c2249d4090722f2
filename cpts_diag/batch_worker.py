"""The worker side of the batch (:mod:`cpts_diag.batch`).

``python -m cpts_diag.batch_worker --serve`` is a *warm* worker (:mod:`cpts_diag.batch_pool`):
it reads one job per line on stdin (JSON: ``id``, ``notebook``, ``build``, ``timeout``,
``params``, ``pdf``) and, for each, executes the notebook with papermill in ``build``
(parameters ``cpts_id`` and ``output_dir`` set last, so that user parameters cannot override
them), exports it to HTML (and PDF) and writes its outcome to ``build/_batch_result.json``
(atomically: the parent waits for that file). The jobs run one after the other in ONE kernel,
started once, so that the
kernel start, the imports and the national data loaded in memory (:func:`cpts_diag.store.cached`,
the indicators' caches) are paid once per worker instead of once per report. Each report first
moves the kernel into its own build folder (a setup cell removed from the saved notebook). The
kernel is restarted after a failed report and when it holds more than
:data:`WARM_KERNEL_MAX_MB` of memory, so a report never inherits a broken or bloated state.

On SIGTERM (timeout or interruption in the parent) the worker kills its kernel and Chromium and
leaves.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path

from .batch import KERNEL_NAME, PDF_TIMEOUT, RESULT_FILE, _short_error

#: A warm kernel holding more than this (resident memory, MB) is restarted before the next report.
WARM_KERNEL_MAX_MB = 900
#: Tag of the setup cell a warm worker puts first in each notebook (removed before saving).
SETUP_TAG = "cpts-diag-setup"
#: That cell: into the report's build folder; the previous report's figures closed and its freed
#: memory given back to the system (:func:`give_back_memory`, run in the kernel).
SETUP_SOURCE = """import os as _os
_os.chdir({build!r})
from cpts_diag.batch_worker import give_back_memory as _give_back
_give_back(close_figures=True)
del _os, _give_back"""


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
            pdf: bool, km) -> int:
    """Run one notebook in ``build`` in the kernel of ``km`` (kept across reports, started on
    first use), export it to HTML (and PDF); write the outcome to ``build/_batch_result.json``."""
    import threading

    result: dict = {"ok": False, "steps": {}}
    steps = result["steps"]
    t0 = time.monotonic()
    warm = threading.Thread(target=_warm_up, daemon=True)
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
            _with_setup_cell(nbformat.read(str(notebook), as_version=4), build), str(nb_out),
            parameters={**params, "cpts_id": cpts_id, "output_dir": "."},
            kernel_name=KERNEL_NAME, progress_bar=False, cwd=str(build),
            execution_timeout=max(1, int(timeout)), log_output=False, report_mode=False, km=km)
        executed.cells = [c for c in executed.cells if SETUP_TAG not in c.metadata.get("tags", [])]
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
        result["error"] = _describe_error(exc, build / "rapport.ipynb")
    steps["total"] = time.monotonic() - t0
    tmp = build / f".{RESULT_FILE}.tmp"
    tmp.write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, build / RESULT_FILE)  # the parent of a warm worker waits for this file
    return 0 if result["ok"] else 1


def _skip_iri_grammar() -> None:
    """jsonschema (via nbformat, nbclient) imports rfc3987_syntax only to validate the "iri"
    string format, which notebooks never use; building its grammar costs 0,7 to 2,5 s per
    process. Skip it in the worker (called before anything imports nbformat)."""
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]


def _with_setup_cell(nb, build: Path):
    """``nb`` with a first cell moving the (reused) kernel into ``build``: a warm kernel keeps the
    working directory of its first report otherwise."""
    import nbformat

    cell = nbformat.v4.new_code_cell(SETUP_SOURCE.format(build=str(build)))
    cell.metadata["tags"] = [SETUP_TAG]
    nb.cells.insert(0, cell)
    return nb


def _kernel_mb(km) -> float:
    """Resident memory of the kernel of ``km`` in MB (0 if unknown)."""
    try:
        import psutil

        pid = getattr(getattr(km, "provisioner", None), "pid", None)
        return psutil.Process(pid).memory_info().rss / 1e6 if pid else 0.0
    except Exception:  # noqa: BLE001 - psutil missing or kernel gone
        return 0.0


def give_back_memory(close_figures: bool = False) -> None:
    """Collect garbage and give the freed memory back to the system (glibc ``malloc_trim``; not
    glibc: the collection alone). ``close_figures``: first close every matplotlib figure (in the
    kernel, between two reports)."""
    import gc

    if close_figures and "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")
    gc.collect()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: the collection alone
        pass


def _manager(cls):
    """A kernel manager that remembers the kernel clients made from it (:func:`_close_clients`)."""
    km = cls(kernel_name=KERNEL_NAME)
    made, client = [], km.client

    def tracked_client(*args, **kwargs):
        kc = client(*args, **kwargs)
        made.append(kc)
        return kc

    km.client, km.cpts_diag_clients = tracked_client, made
    return km


def _close_clients(km) -> None:
    """Stop the channels of the report's kernel client: papermill leaves them open when it does not
    own the kernel, and an open client keeps receiving (and buffering) every later report's
    outputs, so a warm worker would grow by megabytes per report."""
    for kc in km.cpts_diag_clients:
        try:
            kc.stop_channels()
        except Exception:  # noqa: BLE001 - already stopped
            pass
    km.cpts_diag_clients.clear()


def _serve() -> int:
    """The warm worker: one job per stdin line, one kernel for all (see the module docstring)."""
    from jupyter_client.manager import AsyncKernelManager
    from nbclient.util import run_sync

    km = _manager(AsyncKernelManager)
    try:
        for line in sys.stdin:
            if not line.strip():
                continue
            job = json.loads(line)
            code = _worker(job["id"], Path(job["notebook"]), Path(job["build"]), float(job["timeout"]),
                           job.get("params") or {}, bool(job.get("pdf")), km)
            _close_clients(km)
            give_back_memory()  # this report's notebook and HTML, in the worker itself
            if km.has_kernel and (code != 0 or _kernel_mb(km) > WARM_KERNEL_MAX_MB):
                run_sync(km.shutdown_kernel)(now=True)  # its zmq context goes with it:
                km = _manager(AsyncKernelManager)  # the next report, a fresh one
    finally:
        if km.has_kernel:
            run_sync(km.shutdown_kernel)(now=True)
    return 0


def _code_cell_number(nb_out: Path, cell_index) -> int | None:
    """Rank (from 1) among the code cells of the executed notebook ``nb_out`` (parameters cell
    included, setup cell of a warm worker excluded) of the cell at ``cell_index``: the number a
    fresh kernel would have shown, whatever the reports run before in a warm kernel."""
    try:
        import nbformat

        cells = [c for c in nbformat.read(str(nb_out), as_version=4).cells  # papermill's error
                 if "papermill-error-cell-tag" not in c.metadata.get("tags", [])][: int(cell_index) + 1]
    except Exception:  # noqa: BLE001 - no notebook written: no number
        return None
    return sum(c.cell_type == "code" and SETUP_TAG not in c.metadata.get("tags", []) for c in cells) or None


def _describe_error(exc: Exception, nb_out: Path | None = None) -> str:
    try:
        from papermill.exceptions import PapermillExecutionError
    except ImportError:  # pragma: no cover
        PapermillExecutionError = ()  # type: ignore[assignment]
    if PapermillExecutionError and isinstance(exc, PapermillExecutionError):
        number = (_code_cell_number(nb_out, exc.cell_index) if nb_out is not None
                  and getattr(exc, "cell_index", None) is not None else None) or getattr(exc, "exec_count", None)
        where = f" (cellule {number})" if number else ""
        return _short_error(f"{exc.ename}: {exc.evalue}{where}")
    return _short_error(f"{exc.__class__.__name__}: {exc}")


def _worker_main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m cpts_diag.batch_worker")
    ap.add_argument("--serve", action="store_true", required=True,
                    help="warm worker: one job per line on stdin (started by cpts_diag.batch_pool)")
    ap.parse_args(argv)
    _stop_on_sigterm()
    _skip_iri_grammar()
    return _serve()


if __name__ == "__main__":
    sys.exit(_worker_main())
