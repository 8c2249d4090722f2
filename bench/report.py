"""Benchmark of the report production: time per step, HTML sizes.

Usage::

    python bench/report.py                 # one CPTS (ondaine-forez), then all with --jobs 2
    python bench/report.py --one vallee-du-gier --jobs 2 --out ../bench-outputs
    python bench/report.py --skip-all      # only the single report
    python bench/report.py --pdf           # also print rapport.pdf (headless Chromium), timed
    python bench/report.py --baseline 37abcb9   # the same single report by an earlier commit, side by side

Step 0 measures the floor on this machine in the same run: papermill executing a notebook that only
starts a kernel and imports the libraries a report needs (pandas, geopandas, matplotlib, folium,
numpy, scipy); the single report is also printed as a multiple of it, a figure that moves less from
machine to machine than seconds.

Targets (2-core machine): one report (execution + HTML export) ≤ 10 s; every known CPTS ≤ 30 s
with 2 jobs; each rapport.html ≤ 5 MB. The output folder is a temporary one unless ``--out`` is
given. Exit code 1 if a target is missed or a report fails. With ``--pdf`` the time targets are not
checked (the PDF step is only timed: « PDF » in each line).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FLOOR_IMPORTS = "import pandas, geopandas, matplotlib, folium, numpy, scipy"

ONE_TARGET_S, ALL_TARGET_S, HTML_MAX_MB = 10.0, 30.0, 5.0


def _print_outcome(o) -> None:
    steps = o.steps or {}
    print(f"  {o.cpts_id:<22} {'OK' if o.ok else 'ÉCHEC':<6} {o.seconds:6.2f} s (worker total "
          f"{steps.get('total', float('nan')):.2f} s : imports {steps.get('worker_imports', float('nan')):.2f}, "
          f"exécution {steps.get('execution', float('nan')):.2f}, export HTML "
          f"{steps.get('export_html', float('nan')):.2f}"
          + (f", PDF {steps['export_pdf']:.2f}" if "export_pdf" in steps else "") + ")"
          + ("" if o.ok else f" — {o.error}"))


def _print_cells(o) -> None:
    cells = (o.steps or {}).get("cells") or {}
    if not cells:
        return
    total = sum(v or 0 for v in cells.values())
    print(f"    cellules du notebook ({total:.2f} s ; le reste de l'exécution = démarrage du noyau) :")
    for name, d in cells.items():
        print(f"      {d or 0:6.2f} s  {name}")


def _sizes(out: Path, ids) -> list[tuple[str, float]]:
    res = []
    for cid in ids:
        p = out / cid / "rapport.html"
        if p.exists():
            res.append((cid, p.stat().st_size / 1e6))
    return res


def floor_seconds(scratch: Path) -> float:
    """papermill executing a notebook that only imports the report's libraries (same kernel)."""
    import nbformat
    import papermill as pm

    from cpts_diag.batch import _worker_env

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = [nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell(FLOOR_IMPORTS)]
    src, dst = scratch / "floor.ipynb", scratch / "floor-out.ipynb"
    nbformat.write(nb, str(src))
    env = _worker_env(scratch)
    old = dict(os.environ)
    os.environ.update(env)
    try:
        t = time.monotonic()
        pm.execute_notebook(str(src), str(dst), kernel_name="python3", progress_bar=False,
                            parameters={"x": 2})
        return time.monotonic() - t
    finally:
        os.environ.clear()
        os.environ.update(old)


def baseline_seconds(rev: str, one: str, scratch: Path) -> float | None:
    """The single report produced by commit ``rev`` (a temporary git worktree), same machine,
    same run; None if that commit cannot produce it."""
    wt = scratch / "baseline"
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "-q", "--detach", str(wt), rev], check=True)
    try:
        from cpts_diag.config import default_snapshot_dir

        data = os.environ.get("CPTS_DIAG_DATA") or str(default_snapshot_dir())  # the worktree has no data/
        env = {**os.environ, "PYTHONPATH": str(wt), "CPTS_DIAG_DATA": data,
               "CPTS_DIAG_CACHE": str(scratch / "baseline-cache")}
        code = ("import time, sys; from cpts_diag.batch import run_batch_detailed as r; "
                f"r([{one!r}], out={str(scratch / 'baseline-out')!r}, progress=False, summary=False); "
                "t = time.monotonic(); "
                f"c, o = r([{one!r}], out={str(scratch / 'baseline-out')!r}, progress=False, summary=False); "
                "print(o[0].seconds if c == 0 else 'nan')")
        out = subprocess.run([sys.executable, "-c", code], env=env, cwd=str(wt), capture_output=True,
                             text=True, timeout=900)
        value = float(out.stdout.strip().splitlines()[-1]) if out.stdout.strip() else float("nan")
        return None if value != value else value
    finally:
        subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(wt)], check=False)


def main(argv=None) -> int:
    from cpts_diag.batch import run_batch_detailed
    from cpts_diag.territory import known_cpts

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--one", default="ondaine-forez", help="CPTS of the single-report run")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--skip-all", action="store_true")
    ap.add_argument("--pdf", action="store_true", help="also produce and time rapport.pdf")
    ap.add_argument("--baseline", metavar="REV", help="also time the single report of commit REV")
    a = ap.parse_args(argv)
    ok = True
    with tempfile.TemporaryDirectory(prefix="cpts-bench-") as tmp:
        out = a.out or Path(tmp) / "outputs"
        print(f"Dossier de sortie : {out}")
        floor = floor_seconds(Path(tmp))
        print(f"\n0) Plancher : noyau + imports ({FLOOR_IMPORTS}) par papermill : {floor:.2f} s")
        print(f"\n1) Un rapport ({a.one}), 1 processus")
        t = time.monotonic()
        code, outs = run_batch_detailed([a.one], jobs=1, out=out, progress=False, summary=False,
                                         pdf=a.pdf)
        wall = time.monotonic() - t
        for o in outs:
            _print_outcome(o)
            _print_cells(o)
        one = outs[0].seconds if outs else float("nan")
        print(f"  durée du rapport : {one:.2f} s (cible ≤ {ONE_TARGET_S:g} s) = {one / floor:.1f} × le "
              f"plancher ; appel complet (index compris) : {wall:.2f} s")
        if a.baseline:
            base = baseline_seconds(a.baseline, a.one, Path(tmp))
            print(f"  même rapport par {a.baseline} (même machine, même exécution, cache chaud) : "
                  + (f"{base:.2f} s = {base / floor:.1f} × le plancher ; rapport actuel / {a.baseline} "
                     f"= {one / base:.2f}" if base else "échec"))
        ok &= code == 0 and (a.pdf or one <= ONE_TARGET_S)
        ids = [a.one]
        if not a.skip_all:
            ids = known_cpts()
            print(f"\n2) Toutes les CPTS connues ({len(ids)}), --jobs {a.jobs}")
            t = time.monotonic()
            code, outs = run_batch_detailed(ids, jobs=a.jobs, out=out, progress=False, summary=False,
                                             pdf=a.pdf)
            wall = time.monotonic() - t
            for o in outs:
                _print_outcome(o)
            print(f"  durée totale : {wall:.2f} s (cible ≤ {ALL_TARGET_S:g} s)")
            ok &= code == 0 and (a.pdf or wall <= ALL_TARGET_S)
        print("\n3) Taille des rapport.html (cible ≤ 5 Mo)")
        for cid, mb in _sizes(out, ids):
            print(f"  {cid:<22} {mb:6.2f} Mo")
            ok &= mb <= HTML_MAX_MB
    print("\nCibles atteintes." if ok else "\nAu moins une cible manquée ou un rapport en échec.")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
