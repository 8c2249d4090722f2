"""Printable PDF of a report: headless Chromium prints ``rapport.html`` to ``rapport.pdf``.

The page layout (A4, margins, « page N / M » in the bottom-right margin box, table and figure
breaks, interactive map hidden) is the ``@page`` / ``@media print`` CSS of the report template
(``templates/rapport.html.j2``); this module only drives the browser. Chromium is found as
``$CPTS_DIAG_CHROMIUM``, else the first of :data:`CHROMIUM_NAMES` on the ``PATH`` (Debian:
``apt-get install chromium``). Each run uses a fresh, throw-away browser profile, is stopped after
``timeout`` seconds and writes the PDF atomically (temporary name, then rename).
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from .errors import CptsDiagError

CHROMIUM_ENV = "CPTS_DIAG_CHROMIUM"
#: Executable names tried on the PATH, in order (Debian package ``chromium`` first).
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--disable-extensions", "--hide-scrollbars",
                  "--no-pdf-header-footer")
INSTALL_HINT = ("installez le paquet Debian/Ubuntu « chromium » (apt-get install chromium) ou "
                f"indiquez le navigateur dans la variable d'environnement {CHROMIUM_ENV}")


class PdfExportError(CptsDiagError):
    """The PDF of a report could not be produced (browser missing, failing or too slow)."""


def find_chromium() -> str:
    """Path of the Chromium executable; :class:`PdfExportError` (with the fix) if there is none."""
    forced = os.environ.get(CHROMIUM_ENV)
    if forced:
        path = shutil.which(forced)
        if path is None:
            raise PdfExportError(
                f"PDF impossible : {CHROMIUM_ENV}={forced!r} ne désigne pas un exécutable. "
                f"Correctif : {INSTALL_HINT}.")
        return path
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    raise PdfExportError(
        f"PDF impossible : Chromium est introuvable (cherché : {', '.join(CHROMIUM_NAMES)}). "
        f"Correctif : {INSTALL_HINT}.")


def _stop(proc: subprocess.Popen) -> None:
    """Kill the browser and every process it started (its own session)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
    proc.wait()


def _tail(text: bytes, limit: int = 400) -> str:
    lines = [ln for ln in text.decode("utf-8", "replace").splitlines()
             if ln.strip() and "dbus" not in ln and "unexpected operator" not in ln]
    out = " ".join(" ".join(lines[-4:]).split())
    return out[-limit:] or "aucune sortie"


def html_to_pdf(html_path, pdf_path, timeout: float = 120) -> Path:
    """Print the HTML page ``html_path`` to ``pdf_path`` with headless Chromium; returns ``pdf_path``.

    Raises :class:`PdfExportError` when Chromium is missing, fails, or runs longer than
    ``timeout`` seconds; ``pdf_path`` is then left as it was (never half-written).
    """
    from .atomic import atomic_target

    html_path, pdf_path = Path(html_path).resolve(), Path(pdf_path)
    if not html_path.is_file():
        raise PdfExportError(f"PDF impossible : la page {html_path.name} n'existe pas. "
                             "Correctif : produisez d'abord le rapport HTML.")
    exe = find_chromium()
    with tempfile.TemporaryDirectory(prefix="cpts-diag-chromium-") as profile, \
            atomic_target(pdf_path) as tmp:
        cmd = [exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--print-to-pdf={tmp}",
               html_path.as_uri()]
        env = {**os.environ, "HOME": profile}  # nothing written to the user's real profile
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        try:
            output, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _stop(proc)
            raise PdfExportError(
                f"PDF de {html_path.name} : délai dépassé, Chromium a tourné plus de {timeout:g} s. "
                "Correctif : relancez, ou augmentez le délai (html_to_pdf(..., timeout=…)).") from None
        except BaseException:
            _stop(proc)
            raise
        if proc.returncode != 0 or not tmp.is_file() or tmp.read_bytes()[:5] != b"%PDF-":
            raise PdfExportError(
                f"PDF de {html_path.name} : Chromium n'a pas produit de PDF (code {proc.returncode}) : "
                f"{_tail(output)}. Correctif : vérifiez que « {exe} --headless --print-to-pdf » "
                "fonctionne sur cette machine.")
    return pdf_path
