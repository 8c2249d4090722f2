"""Benchmark of the data layer: cold (parse source files) vs warm (parquet cache) loads.

Usage: python bench/load_data.py [--repeat N]
Uses a temporary cache folder, so the project's own cache is left alone.
Goal (2-core machine): warm load of population + socio + APL long table + BPE + 8-département
polygons together ≤ 1 s.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cpts_diag import loaders, store  # noqa: E402

TABLES = {
    "population RP2022": loaders.load_population,
    "socio-économie": loaders.load_socio,
    "APL table longue": loaders.load_apl,
    "BPE 2024 santé": loaders.load_bpe_health,
}
GEO = {"polygones 8 départements": lambda: loaders.load_commune_polygons(detail="8dep")}
GOAL_WARM_S = 1.0


def _time_all(funcs) -> dict[str, float]:
    out = {}
    for name, f in funcs.items():
        t = time.perf_counter()
        f()
        out[name] = time.perf_counter() - t
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5, help="warm repetitions (median reported)")
    args = ap.parse_args()
    funcs = {**TABLES, **GEO}
    with tempfile.TemporaryDirectory() as cache:
        os.environ["CPTS_DIAG_CACHE"] = cache
        store.clear_memory()
        cold = _time_all(funcs)
        warm_runs = []
        for _ in range(args.repeat):
            store.clear_memory()  # as in a new process: read the parquet cache
            warm_runs.append(_time_all(funcs))
        warm = {k: statistics.median(r[k] for r in warm_runs) for k in funcs}
        store.clear_memory()
    print(f"{'source':<28}{'froid (s)':>11}{'chaud (s)':>11}{'ratio':>9}")
    for k in funcs:
        print(f"{k:<28}{cold[k]:>11.3f}{warm[k]:>11.3f}{cold[k] / warm[k]:>8.1f}x")
    tc, tw = sum(cold.values()), sum(warm.values())
    print(f"{'TOTAL':<28}{tc:>11.3f}{tw:>11.3f}{tc / tw:>8.1f}x")
    print(f"objectif chaud ≤ {GOAL_WARM_S:.1f} s : {'atteint' if tw <= GOAL_WARM_S else 'NON atteint'} "
          f"({tw:.3f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
