"""Benchmark of territorial batches: every EPCI of the Loire, then a sample of EPCIs from all over
France, extrapolated to every EPCI of metropolitan France.

Usage::

    python bench/national.py                      # Loire EPCIs, then 1, 10, 100 EPCIs of France, --jobs 2
    python bench/national.py --sample 30 --skip-loire
    python bench/national.py --jobs 4 --out ../bench-national   # keep the reports

For each batch (a fresh output folder, warm workers of :mod:`cpts_diag.batch_pool`): wall time,
time per report (amortised: wall / n), peak RSS of one worker (worker + its kernel, sampled with
psutil; goal ≤ 700 MB), median and largest ``rapport.html`` and the time of a second identical
run (every report « à jour »; goal < 5 % of the first). The sample (:func:`national_sample`) takes
EPCIs evenly spread over the list sorted by département of their first commune and SIREN, so
every part of France is represented, small and large EPCIs alike; its time per report,
multiplied by the number of metropolitan EPCIs (COG 2025), gives the extrapolated national time
with the same number of workers. Sizes 1 and 10 are the first EPCIs of the sample: the cost
growth table (1, 10, 100) of the issue. Exit code 1 if a report fails or a goal is missed.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from report import RssSampler  # noqa: E402  (bench/report.py: same sampler)

RSS_MAX_MB, INCREMENTAL_MAX_SHARE = 700.0, 0.05
GROWTH = (1, 10)  # sizes below the sample size, cut from the sample


def metro_epci_ids() -> list[str]:
    """Prefixed ids of the EPCI of metropolitan France (COG 2025), sorted by the département of
    their first commune, then SIREN."""
    from cpts_diag.loaders import load_communes

    com = load_communes()
    com = com[~com["dep"].astype(str).str.startswith("97")
              & com["epci_siren"].astype(str).str.fullmatch(r"\d{9}").fillna(False)]  # ZZZZZZZZZ: no EPCI
    first_dep = com.sort_values("dep").groupby("epci_siren")["dep"].first()
    order = sorted(first_dep.items(), key=lambda kv: (str(kv[1]), str(kv[0])))
    return [f"epci-{siren}" for siren, _ in order]


def national_sample(ids: list[str], n: int) -> list[str]:
    """``n`` ids evenly spread over ``ids`` (every len/n-th, starting in the middle of the first
    stride), in that order."""
    if n >= len(ids):
        return list(ids)
    step = len(ids) / n
    return [ids[int(step * i + step / 2)] for i in range(n)]


def _fmt_s(x: float) -> str:
    return f"{x:.1f}".replace(".", ",")


def run_once(ids: list[str], jobs: int, out: Path) -> dict:
    """One batch of ``ids`` into ``out`` then the same batch again: timings, memory, sizes."""
    from cpts_diag.batch import run_batch_detailed

    with RssSampler() as rss:
        t = time.monotonic()
        code, outs = run_batch_detailed(ids, jobs=jobs, out=out, progress=False, summary=False)
        first = time.monotonic() - t
    t = time.monotonic()
    code2, outs2 = run_batch_detailed(ids, jobs=jobs, out=out, progress=False, summary=False)
    second = time.monotonic() - t
    sizes = [(out / i / "rapport.html").stat().st_size / 1e6 for i in ids if (out / i / "rapport.html").is_file()]
    return {"n": len(ids), "first": first, "second": second,
            "peak_mb": max(rss.peaks.values(), default=float("nan")) / 1e6,
            "html_median": statistics.median(sizes) if sizes else float("nan"),
            "html_max": max(sizes, default=float("nan")),
            "failed": [(o.cpts_id, o.error) for o in outs if not o.ok],
            "skipped": sum(o.skipped for o in outs2), "code": max(code, code2)}


HEADER = (f"  {'lot':<28} {'n':>4} {'durée (s)':>10} {'s / rapport':>12} {'RSS max / worker (Mo)':>22} "
          f"{'HTML médian / max (Mo)':>23} {'2e exécution':>13}")


def print_row(label: str, r: dict) -> bool:
    share = r["second"] / r["first"] if r["first"] else float("nan")
    print(f"  {label:<28} {r['n']:>4} {_fmt_s(r['first']):>10} {_fmt_s(r['first'] / r['n']):>12} "
          f"{r['peak_mb']:>22.0f} {r['html_median']:>11.2f} / {r['html_max']:<9.2f} "
          f"{_fmt_s(r['second']):>6} s ({share * 100:.1f} %)".replace(".", ","), flush=True)
    for cid, err in r["failed"]:
        print(f"       ÉCHEC {cid} : {err}")
    ok = r["code"] == 0 and r["skipped"] == r["n"] and share < INCREMENTAL_MAX_SHARE
    return ok and r["peak_mb"] <= RSS_MAX_MB


def main(argv=None) -> int:
    from cpts_diag.territory_kinds import ids_for

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--sample", type=int, default=100, help="EPCIs of the national sample (default 100)")
    ap.add_argument("--skip-loire", action="store_true")
    ap.add_argument("--out", type=Path, default=None, help="keep the reports there (default: temporary)")
    a = ap.parse_args(argv)
    every = metro_epci_ids()
    sample = national_sample(every, a.sample)
    print(f"EPCI de France métropolitaine (COG 2025) : {len(every)} ; échantillon : {len(sample)} ; "
          f"--jobs {a.jobs}\n" + HEADER)
    ok = True
    with tempfile.TemporaryDirectory(prefix="cpts-national-") as tmp:
        root = a.out or Path(tmp)
        if not a.skip_loire:
            loire = ids_for("epci", in_dep="42")
            ok &= print_row("EPCI de la Loire", run_once(loire, a.jobs, root / "loire"))
        results = {}
        for n in sorted({s for s in GROWTH if s < len(sample)} | {len(sample)}):
            results[n] = run_once(sample[:n], a.jobs, root / f"france-{n}")
            ok &= print_row(f"France, {n} EPCI", results[n])
    big = results[max(results)]
    per = big["first"] / big["n"]
    total = per * len(every)
    print(f"\nExtrapolation : {len(every)} EPCI × {_fmt_s(per)} s = {_fmt_s(total / 60)} min "
          f"({_fmt_s(total / 3600)} h) avec --jobs {a.jobs} sur cette machine ; une 2e exécution "
          f"sans changement : ≈ {_fmt_s(big['second'] / big['n'] * len(every))} s.")
    print("\nCibles atteintes." if ok else "\nAu moins une cible manquée ou un rapport en échec.")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
