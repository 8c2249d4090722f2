"""Benchmark of the indicator layer: every indicator × every comparator for each known CPTS.

Usage: python bench/indicators.py [--repeat N]

Prints the first (cold-in-process) build of the national frames — sources read from the parquet
cache, or parsed on a first run — then, for each known CPTS, the median warm time of
``indicators.compute_all`` + ``catalogue.catalogue`` (goal: ≤ 1 s) and a few headline values.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cpts_diag import catalogue, indicators  # noqa: E402
from cpts_diag.fmt import fmt_number  # noqa: E402
from cpts_diag.territory import Territory, known_cpts  # noqa: E402

GOAL_WARM_S = 1.0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5, help="warm repetitions (median reported)")
    args = ap.parse_args()

    t0 = time.perf_counter()
    indicators.national_data()
    cold = time.perf_counter() - t0
    print(f"Construction des tableaux nationaux (1er appel du processus) : {cold:.2f} s\n")
    print(f"{'CPTS':<22} {'communes':>8} {'pop. 2022':>10} {'IV 2022':>8} {'APL MG 2023':>11} "
          f"{'indic.':>6} {'à chaud (médiane)':>18}")
    worst = 0.0
    for cid in known_cpts():
        terr = Territory.load(cid)
        times = []
        for _ in range(max(args.repeat, 1)):
            t = time.perf_counter()
            tidy = indicators.compute_all(terr)
            catalogue.catalogue(terr)
            times.append(time.perf_counter() - t)
        warm = statistics.median(times)
        worst = max(worst, warm)
        v = tidy[tidy["level"] == "territory"].set_index("indicator_id")["value"]
        print(f"{cid:<22} {len(terr.communes):>8} {fmt_number(v['population_2022']):>10} "
              f"{fmt_number(v['ageing_index_2022'], 1):>8} {fmt_number(v['apl_mg_2023'], 2):>11} "
              f"{tidy['indicator_id'].nunique():>6} {warm * 1000:>15.0f} ms")
    ok = worst <= GOAL_WARM_S
    print(f"\nPire temps à chaud : {worst * 1000:.0f} ms — objectif ≤ {GOAL_WARM_S:.0f} s : "
          f"{'atteint' if ok else 'NON atteint'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
