"""The worker side of the batch (:mod:`cpts_diag.batch`): one process per CPTS report.

``python -m cpts_diag.batch_worker --worker ID --notebook NB --build-dir DIR`` executes the
notebook with papermill in ``DIR`` (parameters ``cpts_id`` and ``output_dir`` set last, so that
user parameters cannot override them), exports it to HTML (and PDF) and writes its outcome to
``DIR/_batch_result.json`` for the parent. On SIGTERM (timeout or interruption in the parent)
it kills its kernel and Chromium and leaves.
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
            parameters={**params, "cpts_id": cpts_id, "output_dir": "."},
            kernel_name=KERNEL_NAME, progress_bar=False, cwd=str(build),
            execution_timeout=max(1, int(timeout)), log_output=False, report_mode=False)
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
    ap = argparse.ArgumentParser(prog="python -m cpts_diag.batch_worker")
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
