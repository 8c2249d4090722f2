"""Batch production of CPTS diagnostic reports (``cpts-diag report``).

For each CPTS, the notebook ``notebooks/diagnostic.ipynb`` is executed by papermill in a worker
process (``jobs`` at a time), with its parameters ``cpts_id`` and ``output_dir``; the worker then
exports the executed notebook to HTML without code. Everything is built in a temporary folder
next to the target (``<out>/.build-<id>-…``) and renamed to ``<out>/<id>/`` only when complete, so a
failed or interrupted run never leaves a half-written report (the previous one stays in place).
``<out>/index.html`` (links and a comparison table of every report present) is rewritten the same way.

Per CPTS, ``<out>/<id>/`` holds ``rapport.html`` (self-contained, opens offline),
``rapport.ipynb`` (executed), ``figures/*.png``, ``tables/*.csv``, ``tableaux.xlsx`` and
``indicators.json`` (= :func:`cpts_diag.catalogue.catalogue` of the territory).

Environment: ``CPTS_DIAG_NOTEBOOK`` overrides the notebook (tests use failing fixture notebooks).
"""
from __future__ import annotations

import argparse
import datetime as _dt
import html
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

DEFAULT_NOTEBOOK = REPO_DIR / "notebooks" / "diagnostic.ipynb"
NOTEBOOK_ENV = "CPTS_DIAG_NOTEBOOK"
RESULT_FILE = "_batch_result.json"
REPORT_FILES = ("rapport.html", "rapport.ipynb", "indicators.json")
KERNEL_NAME = "python3"


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
              notebook=None, parameters: dict | None = None, progress: bool = True) -> int:
    """Produce the reports of ``cpts_ids`` (or every known CPTS with ``all_``) in ``out``.

    ``jobs`` notebooks run in parallel (one worker process each), each stopped after ``timeout``
    seconds. A failing CPTS does not stop the others; the function prints a summary and returns 0
    when every report was produced, 1 otherwise. Unknown ids raise :class:`TerritoryError`
    (listing the known ids) before anything runs. ``notebook`` (or ``$CPTS_DIAG_NOTEBOOK``)
    replaces the diagnostic notebook; ``parameters`` are extra papermill parameters.
    """
    code, _ = run_batch_detailed(cpts_ids, all_=all_, jobs=jobs, out=out, timeout=timeout,
                                 notebook=notebook, parameters=parameters, progress=progress)
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
                       notebook=None, parameters: dict | None = None,
                       progress: bool = True, summary: bool = True) -> tuple[int, list[Outcome]]:
    """:func:`run_batch`, also returning one :class:`Outcome` per CPTS (times per step)."""
    from tqdm.auto import tqdm

    ids = resolve_ids(cpts_ids, all_)
    nb = notebook_path(notebook)
    jobs = max(1, int(jobs or 1))
    out_dir = Path(out).expanduser().resolve() if out else default_out_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    _remove_stale_builds(out_dir, older_than=2 * timeout)
    scratch = Path(tempfile.mkdtemp(prefix="cpts-diag-batch-"))
    env = {**os.environ, "JUPYTER_PATH": os.pathsep.join(
        [str(_kernel_dir(scratch)), *filter(None, [os.environ.get("JUPYTER_PATH")])]),
        "PYTHONWARNINGS": "ignore", "MPLBACKEND": "Agg"}
    pending = list(ids)
    running: dict[str, tuple[subprocess.Popen, Path, float, Path]] = {}
    outcomes: dict[str, Outcome] = {}
    t_start = time.monotonic()
    bar = tqdm(total=len(ids), desc="Rapports CPTS", unit="CPTS", disable=not progress,
               file=sys.stderr, dynamic_ncols=True)
    try:
        while pending or running:
            while pending and len(running) < jobs:
                cid = pending.pop(0)
                build = out_dir / f".build-{cid}-{uuid.uuid4().hex[:8]}"
                build.mkdir()
                log = scratch / f"{cid}.log"
                cmd = [sys.executable, "-m", "cpts_diag.batch", "--worker", cid, "--notebook", str(nb),
                       "--build-dir", str(build), "--timeout", str(timeout),
                       "--params", json.dumps(parameters or {})]
                with open(log, "wb") as fh:
                    proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env,
                                            cwd=str(build), start_new_session=True)
                running[cid] = (proc, build, time.monotonic(), log)
                bar.set_postfix_str(", ".join(running), refresh=True)
            time.sleep(0.05)
            for cid, (proc, build, t0, log) in list(running.items()):
                elapsed = time.monotonic() - t0
                if proc.poll() is None and elapsed <= timeout:
                    continue
                if proc.poll() is None:
                    _kill_tree(proc)
                    outcome = Outcome(cid, False, elapsed,
                                      f"délai dépassé : le notebook a tourné plus de {timeout:g} s "
                                      "(correctif : --timeout plus grand, ou voir la cellule lente)")
                else:
                    outcome = _collect(cid, proc.returncode, build, log, elapsed)
                if outcome.ok:
                    try:
                        _swap_into_place(build, out_dir / cid)
                    except OSError as exc:
                        outcome = Outcome(cid, False, elapsed, f"mise en place impossible : {exc}")
                shutil.rmtree(build, ignore_errors=True)
                outcomes[cid] = outcome
                del running[cid]
                bar.update(1)
                bar.set_postfix_str(", ".join(running), refresh=True)
    finally:
        for cid, (proc, build, _, _) in running.items():  # interrupted: leave nothing behind
            _kill_tree(proc)
            shutil.rmtree(build, ignore_errors=True)
        bar.close()
        shutil.rmtree(scratch, ignore_errors=True)
    index_error = None
    try:
        write_index(out_dir)
    except Exception as exc:  # noqa: BLE001 - reports are done; say what failed
        index_error = f"{exc.__class__.__name__}: {exc}"
    total = time.monotonic() - t_start
    ordered = [outcomes[i] for i in ids]
    return _summary(ordered, out_dir, total, index_error, printed=summary), ordered


def _collect(cid: str, returncode: int, build: Path, log: Path, elapsed: float) -> Outcome:
    res_path = build / RESULT_FILE
    result = None
    if res_path.exists():
        try:
            result = json.loads(res_path.read_text(encoding="utf-8"))
        except ValueError:
            result = None
        res_path.unlink(missing_ok=True)
    if result and result.get("ok") and returncode == 0:
        missing = [f for f in REPORT_FILES if not (build / f).is_file()]
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
             printed: bool = True) -> int:
    ok = [o for o in outcomes if o.ok]
    bad = [o for o in outcomes if not o.ok]
    lines = [f"{len(ok)} rapport(s) produit(s) sur {len(outcomes)} en {total:.1f} s dans {out_dir}"]
    for o in ok:
        lines.append(f"  OK     {o.cpts_id} ({o.seconds:.1f} s) → {o.cpts_id}/rapport.html")
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


# --- index page ----------------------------------------------------------------------------------

#: Columns of the comparison table: (French header, unit, indicator id, decimals).
INDEX_COLUMNS = [
    ("Communes", "", "n_communes", 0),
    ("Population 2022", "hab.", "population_2022", 0),
    ("Évolution annuelle 2016–2022", "% par an", "pop_growth_2016_2022", 2),
    ("Densité de population 2022", "hab./km²", "density_2022", 1),
    ("Indice de vieillissement 2022", "65 ans ou plus pour 100 moins de 20 ans", "ageing_index_2022", 1),
    ("Part des 75 ans ou plus 2022", "%", "share_75p_2022", 1),
    ("APL médecins généralistes 2023", "consultations/an/hab. std", "apl_mg_2023", 2),
    ("Population en APL médecins généralistes < 2,5 (2023)", "%", "share_pop_apl_mg_lt_2_5_2023", 1),
    ("Médecins généralistes 2024", "pour 10 000 hab.", "density_gp_bpe2024", 1),
    ("Infirmiers 2024", "pour 10 000 hab.", "density_nurse_bpe2024", 1),
]


def _reports(out_dir: Path):
    """``(folder, catalogue)`` of every report in ``out_dir`` (indicators.json + rapport.html)."""
    for d in sorted(p for p in Path(out_dir).iterdir() if p.is_dir() and not p.name.startswith(".")):
        ij = d / "indicators.json"
        if not (ij.is_file() and (d / "rapport.html").is_file()):
            continue
        try:
            yield d, json.loads(ij.read_text(encoding="utf-8"))
        except ValueError:
            continue


def _value(cat: dict, iid: str, level: str = "territory") -> tuple[object, dict | None]:
    """``(value, indicator entry)`` of ``iid`` at ``level`` in a catalogue; ``(None, None)`` if absent."""
    ind = next((i for i in cat.get("indicators", []) if i.get("id") == iid), None)
    return (None, None) if ind is None else (ind["values"].get(level), ind)


def reference_row(cat: dict) -> dict:
    """France métropolitaine values of the index columns, from one report's catalogue."""
    cells = [(None if iid == "n_communes" else _value(cat, iid, "france_metro")[0], dec, None, None)
             for _, _, iid, dec in INDEX_COLUMNS]
    return {"id": None, "name": "France métropolitaine (référence)", "cells": cells}


def _replaced_by(cpts_id: str) -> str | None:
    """``replaced_by`` of a known perimeter (a historical CPTS perimeter), else None."""
    from .errors import CptsDiagError
    from .territory import perimeter_files, read_perimeter_yaml

    try:
        path = perimeter_files().get(cpts_id)
        return read_perimeter_yaml(path).get("replaced_by") if path else None
    except CptsDiagError:  # a broken perimeter file must not break the index
        return None


def index_row(folder: Path, cat: dict) -> dict:
    """One row of the index: the CPTS, its values (with source and vintage), the report date and,
    for a historical perimeter, the id of the perimeter that replaced it."""
    terr = cat.get("territory", {})
    row = {"id": folder.name, "name": terr.get("name") or folder.name,
           "replaced_by": _replaced_by(folder.name),
           "generated": _dt.datetime.fromtimestamp((folder / "rapport.html").stat().st_mtime)
           .strftime("%d/%m/%Y %H:%M"), "cells": []}
    for _, _, iid, dec in INDEX_COLUMNS:
        val, ind = _value(cat, iid)
        if val is None and iid == "n_communes":
            val = len(terr.get("communes", [])) or None
        row["cells"].append((val, dec, (ind or {}).get("source"), (ind or {}).get("vintage")))
    return row


def render_index(rows: list[dict], reference: dict | None = None) -> str:
    """The French HTML index page (self-contained: inline CSS, no script); ``reference``: the
    France métropolitaine row (:func:`reference_row`), shown last."""
    from .fmt import fmt_number

    esc = html.escape
    present = [i for i, _ in enumerate(INDEX_COLUMNS) if any(r["cells"][i][0] is not None for r in rows)]
    head = "".join(f"<th>{esc(INDEX_COLUMNS[i][0])}"
                   + (f"<br><small>{esc(INDEX_COLUMNS[i][1])}</small>" if INDEX_COLUMNS[i][1] else "")
                   + "</th>" for i in present)
    body = []
    for r in rows + ([reference] if reference and rows else []):
        if r.get("id") is None:  # reference row
            tds = "".join(f'<td class="num">{esc(fmt_number(r["cells"][i][0], r["cells"][i][1]))}</td>'
                          if r["cells"][i][0] is not None else '<td class="num"></td>' for i in present)
            body.append(f'<tr class="ref"><td>{esc(r["name"])}</td>{tds}<td></td><td></td></tr>')
            continue
        tds = []
        for i in present:
            val, dec, _, _ = r["cells"][i]
            tds.append(f'<td class="num">{esc(fmt_number(val, dec))}</td>')
        status = " <small>(périmètre historique)</small>" if r.get("replaced_by") else ""
        body.append(f'<tr><td><a href="{esc(r["id"])}/rapport.html">{esc(r["name"])}</a>{status}'
                    f'<br><small>{esc(r["id"])}</small></td>{"".join(tds)}'
                    f'<td><a href="{esc(r["id"])}/tableaux.xlsx">tableaux</a> · '
                    f'<a href="{esc(r["id"])}/indicators.json">indicateurs</a></td>'
                    f'<td><small>{esc(r["generated"])}</small></td></tr>')
    sources = sorted({f"{c[2]} ({c[3]})" if c[3] else str(c[2]) for r in rows for c in r["cells"] if c[2]})
    src_html = "".join(f"<li>{esc(s)}</li>" for s in sources)
    empty = "" if rows else "<p>Aucun rapport n'a encore été produit dans ce dossier.</p>"
    return f"""<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Diagnostics territoriaux des CPTS</title>
<style>
body{{font-family:"DejaVu Sans","Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:24px auto;max-width:1280px;
 padding:0 20px;color:#1f1f1f}}
h1{{color:#1b6ca8;border-bottom:3px solid #1b6ca8;padding-bottom:6px}}
.wrap{{overflow-x:auto}}
table{{border-collapse:collapse;font-size:12.5px;margin-top:10px}}
th,td{{border:1px solid #d5dde5;padding:5px 8px;vertical-align:top}}
th{{background:#eef3f8;text-align:left;vertical-align:bottom}}
td.num{{text-align:right;white-space:nowrap}}
td:first-child{{min-width:190px}}
tr.ref td{{background:#f6f6f6;font-style:italic}}
small{{color:#555}}
.note{{font-size:12.5px;color:#444;max-width:1000px}}
</style></head><body>
<h1>Diagnostics territoriaux des CPTS</h1>
<p>{len(rows)} rapport(s). Chaque rapport présente la démographie, la situation socio-économique,
l'offre de soins et l'accessibilité (APL) de la CPTS, comparées au département, à la région et à la France.</p>
{empty}
<div class="wrap"><table><thead><tr><th>CPTS</th>{head}<th>Fichiers</th><th>Produit le</th></tr></thead>
<tbody>{''.join(body)}</tbody></table></div>
<p class="note">n.d. : donnée non disponible. Valeurs de la CPTS entière, calculées par cpts-diag à partir
des données ouvertes ; dernière ligne : France métropolitaine, pour comparaison. Sources des indicateurs :</p>
<ul class="note">{src_html}</ul>
</body></html>
"""


def write_index(out_dir: Path) -> Path:
    """(Re)write ``<out_dir>/index.html`` atomically from the reports present."""
    from .atomic import write_atomic

    path = Path(out_dir) / "index.html"
    reports = list(_reports(Path(out_dir)))
    rows = [index_row(d, cat) for d, cat in reports]
    write_atomic(path, render_index(rows, reference_row(reports[0][1]) if reports else None))
    return path


# --- worker side ---------------------------------------------------------------------------------

def _worker(cpts_id: str, notebook: Path, build: Path, timeout: float, params: dict) -> int:
    """Run one notebook in ``build`` and export it; write the outcome to ``build/_batch_result.json``."""
    def on_term(signum, frame):  # stop the kernel too, then leave
        try:
            import psutil

            for child in psutil.Process().children(recursive=True):
                child.kill()
        finally:
            os._exit(124)

    signal.signal(signal.SIGTERM, on_term)
    result: dict = {"ok": False, "steps": {}}
    t0 = time.monotonic()

    def warm_up():  # import the HTML exporter while the kernel computes (the worker only waits)
        try:
            from nbconvert import HTMLExporter  # noqa: F401
        except Exception:  # noqa: BLE001 - imported again (and reported) by export_html
            pass

    import threading

    warm = threading.Thread(target=warm_up, daemon=True)
    # jsonschema (via nbformat) imports rfc3987_syntax only to validate the "iri" string format,
    # which notebooks never use; building its grammar costs ~0.7 s per report. Skip it here.
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
    try:
        import nbformat
        import papermill as pm

        from .atomic import write_atomic
        from .html_export import export_html

        result["steps"]["worker_imports"] = time.monotonic() - t0
        warm.start()

        nb_out = build / "rapport.ipynb"
        t = time.monotonic()
        executed = pm.execute_notebook(
            str(notebook), str(nb_out),
            parameters={"cpts_id": cpts_id, "output_dir": ".", **params},
            kernel_name=KERNEL_NAME, progress_bar=False, cwd=str(build),
            execution_timeout=int(timeout), log_output=False, report_mode=False)
        result["steps"]["execution"] = time.monotonic() - t
        result["steps"]["cells"] = {
            f"{i}:{c.source.splitlines()[0][:50] if c.source else ''}": c.metadata.get("papermill", {}).get("duration")
            for i, c in enumerate(executed.cells) if c.cell_type == "code"}
        warm.join()
        t = time.monotonic()
        executed.metadata.get("papermill", {}).update(
            {"input_path": notebook.name, "output_path": "rapport.ipynb", "cwd": None})
        nbformat.write(executed, str(nb_out))
        title = None
        ij = build / "indicators.json"
        if ij.is_file():
            try:
                name = json.loads(ij.read_text(encoding="utf-8")).get("territory", {}).get("name")
                title = f"Diagnostic territorial — {name}" if name else None
            except ValueError:
                pass
        write_atomic(build / "rapport.html", export_html(executed, title=title))
        result["steps"]["export_html"] = time.monotonic() - t
        result["ok"] = True
    except Exception as exc:  # noqa: BLE001 - reported to the parent
        result["error"] = _describe_error(exc)
    result["steps"]["total"] = time.monotonic() - t0
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
    a = ap.parse_args(argv)
    return _worker(a.worker, a.notebook, a.build_dir, a.timeout, json.loads(a.params))


if __name__ == "__main__":
    sys.exit(_worker_main())
