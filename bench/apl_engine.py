"""Benchmark of the APL engine (E2SFCA) against PySAL ``access`` on all metropolitan communes.

Usage: python bench/apl_engine.py [--repeat N]

Builds the default inputs once (commune representative points, travel times of at most 20 minutes
from those points — about 1.5 million origin–destination pairs —, DREES standardised population of
APL 2023, BPE GP activity) and times them apart. Then times:

* the engine, from the ``TravelTimes`` arrays to the APL (``step_weights`` + ``weight_matrix`` +
  ``e2sfca``), best of N runs; and ``e2sfca`` alone on the prebuilt weight matrix, best of N;
* ``access.fca.two_stage_fca`` (``step_fn({10: 1, 15: 2/3, 20: 1/3})``, ``max_cost=20``) on the
  same pairs as a pandas DataFrame of codes, one run (tens of seconds).

Checks that both give the same APL (max absolute difference over the communes where ``access`` is
finite) and prints whether the goals are met: engine ≥ 50× faster than ``access`` and ≤ 2 s.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cpts_diag import apl_engine  # noqa: E402
from cpts_diag.apl_inputs import (APLModel, commune_points, default_travel_times,  # noqa: E402
                                  demand_pop_std, supply_from_bpe)
from cpts_diag.apl_params import load_parameters  # noqa: E402

GOAL_RATIO = 50.0
GOAL_ENGINE_S = 2.0
AGREE_ATOL = 1e-9


def _best(f, repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(max(repeat, 1)):
        t = time.perf_counter()
        out = f()
        best = min(best, time.perf_counter() - t)
    return best, out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5, help="engine repetitions (best reported)")
    args = ap.parse_args()
    params = load_parameters(2023)

    # --- one-off input building ---------------------------------------------------------------
    t = time.perf_counter()
    points = commune_points()
    t_points = time.perf_counter() - t
    t = time.perf_counter()
    tt = default_travel_times(params.travel, params.max_minutes, points=points)
    t_tt = time.perf_counter() - t
    t = time.perf_counter()
    dem = demand_pop_std(2023)
    activity = supply_from_bpe(params).activity_by_commune()
    t_ds = time.perf_counter() - t
    codes = tt.codes.astype(str)
    index = pd.Index(codes, name="code_commune")
    demand = dem["pop_std"].reindex(index).fillna(0.0).to_numpy(dtype=float)  # as APLModel does
    supply = activity.reindex(index).fillna(0.0).to_numpy(dtype=float)
    n, n_pairs = len(codes), len(tt.minutes)
    print(f"Communes : {n}   paires ≤ {params.max_minutes:.0f} min (dont {n} paires à soi-même) : "
          f"{n_pairs}")
    print("Construction des entrées (une fois) :")
    print(f"  points représentatifs des communes (polygones) : {t_points:8.3f} s")
    print(f"  temps de trajet depuis les points (KD-tree)    : {t_tt:8.3f} s")
    print(f"  demande DREES + offre BPE                      : {t_ds:8.3f} s")

    # --- the engine ---------------------------------------------------------------------------
    def engine():
        w = apl_engine.step_weights(tt.minutes, params.upper_minutes, params.decay_weights)
        W = apl_engine.weight_matrix(tt.origin, tt.dest, w, n, n)
        return apl_engine.e2sfca(W, demand, supply), W

    t_engine, (res, W) = _best(engine, args.repeat)
    t_e2sfca, _ = _best(lambda: apl_engine.e2sfca(W, demand, supply), args.repeat)
    t_steps, w = _best(lambda: apl_engine.step_weights(tt.minutes, params.upper_minutes,
                                                       params.decay_weights), args.repeat)
    t_matrix, _ = _best(lambda: apl_engine.weight_matrix(tt.origin, tt.dest, w, n, n), args.repeat)
    model_apl = APLModel(tt, dem, params).compute(activity).to_numpy()
    same_as_model = bool(np.array_equal(model_apl, res.apl))

    # --- access -------------------------------------------------------------------------------
    from access.fca import two_stage_fca
    from access.weights import step_fn

    t = time.perf_counter()
    cost = pd.DataFrame({"origin": codes[tt.origin], "dest": codes[tt.dest], "cost": tt.minutes})
    demand_df = pd.DataFrame({"demand": demand}, index=pd.Index(codes, name="code"))
    supply_df = pd.DataFrame({"supply": supply}, index=pd.Index(codes, name="code"))
    t_frames = time.perf_counter() - t
    steps = dict(zip(params.upper_minutes, params.decay_weights))
    t = time.perf_counter()
    ref = two_stage_fca(demand_df, supply_df, cost, max_cost=params.max_minutes,
                        demand_index=True, demand_name="demand",
                        supply_index=True, supply_name="supply",
                        cost_origin="origin", cost_dest="dest", cost_name="cost",
                        weight_fn=step_fn(steps))
    t_access = time.perf_counter() - t

    ref = ref.reindex(codes).to_numpy(dtype=float)
    finite = np.isfinite(ref)
    diff = float(np.abs(res.apl[finite] - ref[finite]).max())
    ratio = t_access / t_engine

    print(f"\nMoteur (step_weights + weight_matrix + e2sfca, meilleur de {args.repeat}) : "
          f"{t_engine:8.3f} s")
    print(f"  étapes seules (meilleur de {args.repeat}) : step_weights {t_steps:.3f} s, "
          f"weight_matrix {t_matrix:.3f} s, e2sfca {t_e2sfca:.3f} s")
    print(f"  matrice : {W.nnz} poids > 0 ; offre non atteinte : {res.unreached_supply:,.0f} "
          f"consultations ; identique à APLModel.compute : {'oui' if same_as_model else 'NON'}")
    print(f"PySAL access two_stage_fca (1 exécution) : {t_access:8.3f} s "
          f"(+ {t_frames:.3f} s pour construire ses DataFrames)")
    print(f"  communes où access n'est pas fini (absentes, NaN ou inf) : {int((~finite).sum())}")
    print(f"\nÉcart absolu maximal moteur / access ({int(finite.sum())} communes) : {diff:.3e} "
          f"({'accord' if diff <= AGREE_ATOL else 'DÉSACCORD'} à {AGREE_ATOL:.0e} près)")
    print(f"Rapport de vitesse access / moteur : {ratio:.1f}× "
          f"(access / e2sfca seul sur matrice construite : {t_access / t_e2sfca:.0f}×)")
    ok_ratio, ok_time = ratio >= GOAL_RATIO, t_engine <= GOAL_ENGINE_S
    print(f"objectif ≥ {GOAL_RATIO:.0f}× plus rapide : {'atteint' if ok_ratio else 'NON atteint'} "
          f"({ratio:.1f}×)")
    print(f"objectif moteur ≤ {GOAL_ENGINE_S:.0f} s : {'atteint' if ok_time else 'NON atteint'} "
          f"({t_engine:.3f} s)")
    return 0 if (ok_ratio and ok_time and diff <= AGREE_ATOL and same_as_model) else 1


if __name__ == "__main__":
    sys.exit(main())
