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
< 5 % of the first). Territories: EPCIs from all over metropolitan France, the sample of
bench/national.py (which also prints the Loire's EPCIs and the national extrapolation).

Step 0 measures the floor on this machine in the same run: papermill executing a notebook that only
starts a kernel and imports the libraries a report needs (pandas, geopandas, matplotlib, folium,
numpy, scipy); the single report is also printed as a multiple of it, a figure that moves less from
machine to machine than seconds.

Goals (issue 13), printed as ratios measured in the same run: one report (execution + HTML
export) ≤ 1,5 × the floor, with the gap to the floor itemised (kernel start, imports and national
data, each section, HTML export); in a batch of the known CPTS with ``--jobs`` 2 (warm workers:
one kernel per worker for all its reports), the amortised time per report (wall / n) ≤ 0,5 × the
mean single-report time of the same CPTS, each produced alone; each rapport.html ≤ 5 MB. The
output folder is a temporary one unless ``--out`` is given. Exit code 1 if a goal is missed or a
report fails. With ``--pdf`` the time goals are not checked (the PDF step is only timed).
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
sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/national.py
FLOOR_IMPORTS = "import pandas, geopandas, matplotlib, folium, numpy, scipy"

ONE_MAX_FLOOR_RATIO, AMORTISED_MAX_RATIO, HTML_MAX_MB = 1.5, 0.5, 5.0
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


def _gap_to_floor(o, floor: float) -> None:
    """What separates one report from the floor, step by step (seconds of this run)."""
    steps = o.steps or {}
    cells = {k: v or 0 for k, v in (steps.get("cells") or {}).items()}
    first = next((v for k, v in cells.items() if "Diagnostic" in k or k.startswith("2:")), 0.0)
    sections = sum(cells.values()) - first
    kernel = steps.get("execution", 0.0) - sum(cells.values())
    print(f"  écart au plancher, étape par étape : démarrage du noyau et papermill {kernel:.2f} s + "
          f"imports, données nationales et synthèse (1re cellule) {first:.2f} s + autres sections "
          f"{sections:.2f} s + export HTML {steps.get('export_html', 0.0):.2f} s + processus de "
          f"production {steps.get('worker_imports', 0.0):.2f} s ; plancher {floor:.2f} s")


def _alone(ids, out: Path, pdf: bool) -> dict:
    """Each of ``ids`` produced alone (a batch of one: its own worker and kernel), seconds."""
    from cpts_diag.batch import run_batch_detailed

    res = {}
    for cid in ids:
        code, outs = run_batch_detailed([cid], jobs=1, out=out, progress=False, summary=False,
                                        pdf=pdf, rebuild=True)
        res[cid] = outs[0] if outs else None
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
        print(f"\n1) Un rapport ({a.one}), seul")
        code, outs = run_batch_detailed([a.one], jobs=1, out=out, progress=False, summary=False,
                                         pdf=a.pdf, rebuild=True)  # fills the disk caches
        print(f"  mise en route (caches disque remplis si le code ou les données ont changé) : "
              f"{outs[0].seconds:.2f} s" if outs else "")
        t = time.monotonic()
        code, outs = run_batch_detailed([a.one], jobs=1, out=out, progress=False, summary=False,
                                         pdf=a.pdf, rebuild=True)
        wall = time.monotonic() - t
        for o in outs:
            _print_outcome(o)
            _print_cells(o)
        one = outs[0].seconds if outs else float("nan")
        print(f"  durée du rapport : {one:.2f} s = {one / floor:.2f} × le plancher (cible ≤ "
              f"{ONE_MAX_FLOOR_RATIO:g} ×) ; appel complet (index compris) : {wall:.2f} s")
        if outs:
            _gap_to_floor(outs[0], floor)
        if a.baseline:
            base = baseline_seconds(a.baseline, a.one, Path(tmp))
            print(f"  même rapport par {a.baseline} (même machine, même exécution, cache chaud) : "
                  + (f"{base:.2f} s = {base / floor:.1f} × le plancher ; rapport actuel / {a.baseline} "
                     f"= {one / base:.2f}" if base else "échec"))
        ok &= code == 0 and (a.pdf or one / floor <= ONE_MAX_FLOOR_RATIO)
        ids = [a.one]
        if not a.skip_all:
            ids = known_cpts()
            print(f"\n2) Les {len(ids)} CPTS connues : chacune seule, puis en lot --jobs {a.jobs}")
            alone = _alone(ids, out, a.pdf)
            mean_alone = sum(o.seconds for o in alone.values() if o) / max(1, len(alone))
            t = time.monotonic()
            code, outs = run_batch_detailed(ids, jobs=a.jobs, out=out, progress=False, summary=False,
                                             pdf=a.pdf, rebuild=True)
            wall = time.monotonic() - t
            for o in outs:
                _print_outcome(o)
                print(f"    seule : {alone[o.cpts_id].seconds:.2f} s" if alone.get(o.cpts_id) else "")
            amortised = wall / len(ids)
            print(f"  lot : {wall:.2f} s, soit {amortised:.2f} s par rapport ; seules : {mean_alone:.2f} s "
                  f"en moyenne ; amorti / seul = {amortised / mean_alone:.2f} (cible ≤ "
                  f"{AMORTISED_MAX_RATIO:g})")
            ok &= code == 0 and (a.pdf or amortised / mean_alone <= AMORTISED_MAX_RATIO)
        print("\n3) Taille des rapport.html (cible ≤ 5 Mo)")
        for cid, mb in _sizes(out, ids):
            print(f"  {cid:<22} {mb:6.2f} Mo")
            ok &= mb <= HTML_MAX_MB
    print("\nCibles atteintes." if ok else "\nAu moins une cible manquée ou un rapport en échec.")
    return 0 if ok else 1


# --- cost growth (--growth) ----------------------------------------------------------------------

def growth_ids(n: int) -> list[str]:
    """``n`` EPCIs from all over metropolitan France: the sample of bench/national.py
    (:func:`national.national_sample`), so both benches measure the same territories."""
    from national import metro_epci_ids, national_sample

    return national_sample(metro_epci_ids(), n)


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
        ids_all = growth_ids(max(sizes))
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
