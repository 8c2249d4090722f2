"""Sensitivity of a scenario to the default travel-time speed (the least certain default).

Usage: python bench/scenario_sensitivity.py [CPTS_ID] [--spec FILE.yaml] [--speeds 45 55 65]

Runs the scenario (default: docs/scenarios/roannais-2024-exemple.yaml on roannais-2024) with the
default travel times at several speeds and prints, for each: the simulated change of the CPTS
mean APL, the population falling under / rising above 2,5, the number of communes whose APL
falls, and the time of the run. The shipped speed is marked.
"""
from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cpts_diag import apl_inputs as I  # noqa: E402
from cpts_diag.apl_params import TravelModel, load_parameters  # noqa: E402
from cpts_diag.fmt import fmt_number  # noqa: E402
from cpts_diag.scenario import ScenarioSpec, run_spec  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("cpts_id", nargs="?", default="roannais-2024")
    ap.add_argument("--spec", default=str(REPO / "docs" / "scenarios" / "roannais-2024-exemple.yaml"))
    ap.add_argument("--speeds", type=float, nargs="+", default=[45.0, 50.0, 55.0, 60.0, 65.0])
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    spec = ScenarioSpec.from_yaml(args.spec)
    p = load_parameters(spec.year)
    print(f"Scénario : {spec.title}\nCPTS : {args.cpts_id} ; détour {fmt_number(p.travel.detour, 2)}\n")
    print(f"{'vitesse':>9} {'Δ APL CPTS':>11} {'hab. sous 2,5':>14} {'hab. au-dessus':>15} "
          f"{'communes en baisse':>19} {'durée':>7}")
    for v in args.speeds:
        t0 = time.perf_counter()
        tt = I.default_travel_times(TravelModel(p.travel.detour, v), p.max_minutes)
        s = run_spec(args.cpts_id, spec, travel_times=tt).summary
        mark = " (livrée)" if v == p.travel.speed_kmh else ""
        print(f"{fmt_number(v, 1):>5} km/h {fmt_number(s['apl_change'], 3, signed=True):>11} "
              f"{fmt_number(s['pop_crossing_down'], 0):>14} {fmt_number(s['pop_crossing_up'], 0):>15} "
              f"{s['n_worse']:>19} {fmt_number(time.perf_counter() - t0, 1):>5} s{mark}")
    return 0



if __name__ == "__main__":
    sys.exit(main())
