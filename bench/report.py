"""Benchmark of the report production: time per step, HTML sizes.

Usage::

    python bench/report.py                 # one CPTS (ondaine-forez), then all with --jobs 2
    python bench/report.py --one vallee-du-gier --jobs 2 --out ../bench-outputs
    python bench/report.py --skip-all      # only the single report
    python bench/report.py --pdf           # also print rapport.pdf (headless Chromium), timed

Targets (2-core machine): one report (execution + HTML export) ≤ 10 s; every known CPTS ≤ 30 s
with 2 jobs; each rapport.html ≤ 5 MB. The output folder is a temporary one unless ``--out`` is
given. Exit code 1 if a target is missed or a report fails. With ``--pdf`` the time targets are not
checked (the PDF step is only timed: « PDF » in each line).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

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


def main(argv=None) -> int:
    from cpts_diag.batch import run_batch_detailed
    from cpts_diag.territory import known_cpts

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--one", default="ondaine-forez", help="CPTS of the single-report run")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--skip-all", action="store_true")
    ap.add_argument("--pdf", action="store_true", help="also produce and time rapport.pdf")
    a = ap.parse_args(argv)
    ok = True
    with tempfile.TemporaryDirectory(prefix="cpts-bench-") as tmp:
        out = a.out or Path(tmp) / "outputs"
        print(f"Dossier de sortie : {out}")
        print(f"\n1) Un rapport ({a.one}), 1 processus")
        t = time.monotonic()
        code, outs = run_batch_detailed([a.one], jobs=1, out=out, progress=False, summary=False,
                                         pdf=a.pdf)
        wall = time.monotonic() - t
        for o in outs:
            _print_outcome(o)
            _print_cells(o)
        one = outs[0].seconds if outs else float("nan")
        print(f"  durée du rapport : {one:.2f} s (cible ≤ {ONE_TARGET_S:g} s) ; appel complet "
              f"(index compris) : {wall:.2f} s")
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
