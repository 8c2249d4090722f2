"""Benchmark of the report production: time per step, HTML sizes.

Usage::

    python bench/report.py                 # one CPTS (ondaine-forez), then all with --jobs 2
    python bench/report.py --one vallee-du-gier --jobs 2 --out ../bench-outputs
    python bench/report.py --skip-all      # only the single report
    python bench/report.py --pdf           # also print rapport.pdf (headless Chromium), timed
    python bench/report.py --baseline 37abcb9   # the same single report by an earlier commit, side by side
    python bench/report.py --growth --growth-max 100   # cost growth: 1, 10, 100 territories

``--growth`` (alone) prints, for 1, 10 (and 100 with ``--growth-max 100``; sizes above the max are
cut, the max itself is added) territories produced with ``--jobs`` workers into a temporary
folder: wall time, time per report, peak RSS of one worker (worker + its kernel, sampled with
psutil), and the time of a second identical run (incremental: every report « à jour », target
< 5 % of the first). Territories: the EPCI of the Loire (``territory_kinds.ids_for``) when the
batch accepts them, else the known CPTS, then copies of their perimeter files under new ids.

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
GROWTH_SIZES, INCREMENTAL_MAX_SHARE = (1, 10, 100), 0.05


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
                f"c, o = r([{one!r}], out={str(scratch / 'baseline-out2')!r}, progress=False, summary=False); "
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
    ap.add_argument("--growth", action="store_true", help="only the cost growth table (1, 10… territories)")
    ap.add_argument("--growth-max", type=int, default=10, help="largest batch of --growth (default 10)")
    a = ap.parse_args(argv)
    if a.growth:
        return growth_main(a.jobs, a.growth_max, a.pdf)
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
                                             pdf=a.pdf, rebuild=True)
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


# --- cost growth (--growth) ----------------------------------------------------------------------

def growth_ids(n: int, scratch: Path) -> list[str]:
    """``n`` distinct territory ids: EPCI of the Loire if the batch takes them, else the known
    CPTS then copies of their perimeter files (``bench-NNN-<id>``, in a folder added to
    ``$CPTS_DIAG_PERIMETERS`` for this process and its workers)."""
    import re

    from cpts_diag.batch import resolve_ids
    from cpts_diag.errors import CptsDiagError
    from cpts_diag.territory import known_cpts, perimeter_files

    try:
        from cpts_diag.territory_kinds import ids_for

        ids = ids_for("epci", in_dep="42")
        if len(ids) >= n:
            return resolve_ids(ids[:n])
    except (ImportError, CptsDiagError):
        pass
    known = known_cpts()
    ids, files = known[:n], perimeter_files()
    folder = scratch / "perimetres"
    folder.mkdir(exist_ok=True)
    for i in range(len(ids), n):
        base = known[i % len(known)]
        new = f"bench-{i:03d}-{base}"
        text = files[base].read_text(encoding="utf-8")
        (folder / f"{new}.yaml").write_text(re.sub(r"^id: .*$", f"id: {new}", text, count=1,
                                                   flags=re.M), encoding="utf-8")
        ids.append(new)
    if n > len(known):
        extra = os.environ.get("CPTS_DIAG_PERIMETERS")
        os.environ["CPTS_DIAG_PERIMETERS"] = os.pathsep.join(filter(None, [extra, str(folder)]))
    return ids


class RssSampler:
    """Peak RSS (bytes) of each worker process tree (worker + kernel + Chromium), sampled every
    ``every`` seconds in a thread while the batch runs."""

    def __init__(self, every: float = 0.2):
        import threading

        import psutil

        self.me, self.every, self.peaks = psutil.Process(), every, {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        import psutil

        while not self.stop.wait(self.every):
            for worker in self.me.children():
                try:
                    tree = [worker, *worker.children(recursive=True)]
                    rss = sum(p.memory_info().rss for p in tree)
                except psutil.Error:
                    continue
                self.peaks[worker.pid] = max(self.peaks.get(worker.pid, 0), rss)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()
        return False


def growth_main(jobs: int, growth_max: int, pdf: bool = False) -> int:
    """The cost growth table; exit code 1 if a report fails or an incremental run is too slow."""
    from cpts_diag.batch import run_batch_detailed

    sizes = sorted({s for s in GROWTH_SIZES if s <= growth_max} | {growth_max})
    print(f"Croissance du coût : {', '.join(map(str, sizes))} territoire(s), --jobs {jobs}"
          + (", PDF" if pdf else ""))
    print(f"  {'n':>4} {'durée (s)':>10} {'s / rapport':>12} {'RSS max / worker (Mo)':>22} "
          f"{'2e exécution (s)':>17} {'2e / 1re':>9}")
    ok = True
    with tempfile.TemporaryDirectory(prefix="cpts-growth-") as tmp:
        ids_all = growth_ids(max(sizes), Path(tmp))
        for n in sizes:
            out = Path(tmp) / f"out-{n}"
            with RssSampler() as rss:
                t = time.monotonic()
                code, outs = run_batch_detailed(ids_all[:n], jobs=jobs, out=out, progress=False,
                                                summary=False, pdf=pdf)
                first = time.monotonic() - t
            t = time.monotonic()
            code2, outs2 = run_batch_detailed(ids_all[:n], jobs=jobs, out=out, progress=False,
                                              summary=False, pdf=pdf)
            second = time.monotonic() - t
            peak = max(rss.peaks.values(), default=float("nan")) / 1e6
            share = second / first
            print(f"  {n:>4} {first:>10.2f} {first / n:>12.2f} {peak:>22.0f} {second:>17.2f} "
                  f"{share * 100:>8.1f} %", flush=True)
            for o in outs:
                if not o.ok:
                    print(f"       ÉCHEC {o.cpts_id} : {o.error}")
            skipped = sum(o.skipped for o in outs2)
            if skipped != n:
                print(f"       2e exécution : {skipped} rapport(s) à jour sur {n} (attendu : tous)")
            ok &= code == 0 and code2 == 0 and skipped == n and share < INCREMENTAL_MAX_SHARE
    print("\nCibles atteintes." if ok else "\nAu moins un rapport en échec ou une 2e exécution trop lente.")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
