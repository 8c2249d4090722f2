"""Validation of the APL engine's defaults against the published DREES GP APL 2023.

Usage: python bench/apl_validation.py [--year 2023] [--no-tune]

1. Tuning (on départements OTHER than the Loire: 03, 07, 38, 43, 63, 69, 71). The activity per
   GP practice address is calibrated on them (Σ pop_std × published APL ÷ Σ BPE GPs), then the
   speed of the default travel-time model (km × detour ÷ speed, detour fixed) is chosen on a grid
   by the smallest mean absolute error over their communes. The values shipped in
   ``cpts_diag/apl_parameters.yaml`` are compared with the tuned ones.
2. Validation with the shipped defaults: per département (the Loire is the held-out test),
   Pearson r, mean absolute error (MAE), bias and agreement of the official DREES classes
   (« moins de 2,5 » / « de 2,5 à moins de 4 » / « 4 ou plus », left-closed) between the
   recomputed and the published APL of each commune; then the
   same for the five CPTS (pop_std-weighted APL of the perimeter), and for the demand computed
   from RP 2022 ages instead of the DREES pop_std.
"""
from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cpts_diag import apl_inputs as I  # noqa: E402
from cpts_diag.apl_params import TravelModel, load_parameters  # noqa: E402
from cpts_diag.apl_validation import calibrate_activity_per_gp, compare, published_apl  # noqa: E402
from cpts_diag.fmt import fmt_number as _fmt  # noqa: E402
from cpts_diag.loaders import load_communes  # noqa: E402
from cpts_diag.territory import Territory, known_cpts  # noqa: E402

TEST_DEP = "42"
SPEEDS = np.arange(35.0, 75.1, 2.5)


def _row(label: str, s: dict) -> str:
    return (f"{label:<34} {s['n']:>6} {_fmt(s['pearson_r'], 3):>7} {_fmt(s['mae'], 3):>7} "
            f"{_fmt(s['bias'], 3):>7} {_fmt(100 * s['class_agreement'], 1):>8} %")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--year", type=int, default=2023)
    ap.add_argument("--no-tune", action="store_true", help="skip the tuning grid")
    args = ap.parse_args()
    warnings.simplefilter("ignore")

    params = load_parameters(args.year)
    tuning_deps = list(params.travel.tuning_departements)  # from apl_parameters.yaml
    t0 = time.perf_counter()
    pub = published_apl(args.year)
    demand = I.demand_pop_std(args.year)
    supply = I.supply_from_bpe(params)
    gps = supply.gps_by_commune()
    codes = I.metro_codes()
    dep = pd.Series(codes, index=codes).str[:2]
    tuning = dep.index[dep.isin(tuning_deps)]
    loire = dep.index[dep == TEST_DEP]
    print(f"APL {args.year} des médecins généralistes publiée par la DREES, communes COG 2025 "
          f"({len(pub.dropna())} valeurs) ; entrées chargées en {_fmt(time.perf_counter() - t0, 1)} s\n")

    # --- 1. tuning on other départements than the Loire -------------------------------------
    act = calibrate_activity_per_gp(pub, demand["pop_std"], gps, tuning)
    print(f"Réglage sur {', '.join(tuning_deps)} ({len(tuning)} communes ; la Loire est exclue)")
    print(f"  activité par adresse de médecin (BPE {params.bpe_year}) calibrée : {_fmt(act, 0)} "
          f"consultations/an (valeur livrée : {_fmt(params.activity_per_gp, 0)})")
    tuned_speed = params.travel.speed_kmh
    if not args.no_tune:
        sup_t = I.SupplyTable(supply.rows.assign(activite=act), supply.source)
        print(f"  détour fixé à {_fmt(params.travel.detour, 2)} ; vitesse (km/h) → r, MAE sur "
              "les communes de réglage")
        best = None
        for v in SPEEDS:
            tm = TravelModel(params.travel.detour, float(v))
            model = I.APLModel(I.default_travel_times(tm, params.max_minutes), demand, params)
            s = compare(model.compute(sup_t).reindex(tuning), pub)
            if best is None or s["mae"] < best[1]:
                best = (float(v), s["mae"])
            print(f"    {_fmt(v, 1):>5} km/h : r = {_fmt(s['pearson_r'], 3)}  MAE = {_fmt(s['mae'], 3)}")
        tuned_speed = best[0]
        print(f"  vitesse retenue (MAE minimale) : {_fmt(tuned_speed, 1)} km/h "
              f"(valeur livrée : {_fmt(params.travel.speed_kmh, 1)} km/h)")
        if abs(tuned_speed - params.travel.speed_kmh) > 1e-9 or \
                abs(round(act) - params.activity_per_gp) > 0.5:
            print("  !! les valeurs livrées dans apl_parameters.yaml diffèrent du réglage ci-dessus")
    print()

    # --- 2. validation with the shipped defaults ----------------------------------------------
    t1 = time.perf_counter()
    model = I.default_model(args.year)
    rec = model.compute(supply)
    print(f"Validation avec les paramètres livrés (vitesse {_fmt(params.travel.speed_kmh, 1)} km/h,"
          f" détour {_fmt(params.travel.detour, 2)}, {_fmt(params.activity_per_gp, 0)} consultations"
          f" par médecin) — calcul France métropolitaine en {_fmt(time.perf_counter() - t1, 1)} s")
    head = f"{'communes de':<34} {'n':>6} {'r':>7} {'MAE':>7} {'biais':>7} {'classes':>10}"
    print(head)
    names = load_communes().drop_duplicates("dep").set_index("dep")["nom_dep"]
    print(_row("Loire (42) — test, non réglée", compare(rec.reindex(loire), pub)))
    for d in tuning_deps:
        print(_row(f"{names[d]} ({d}) — réglage", compare(rec.reindex(dep.index[dep == d]), pub)))
    print(_row(f"{len(tuning_deps)} départements de réglage", compare(rec.reindex(tuning), pub)))
    print(_row("France métropolitaine", compare(rec, pub)))

    ages = I.default_model(args.year, demand="ages")
    rec_ages = ages.compute(supply)
    print(_row("Loire, demande calculée par âge", compare(rec_ages.reindex(loire), pub)))
    print()

    print("Territoires CPTS : APL moyenne pondérée par la population standardisée DREES")
    print(f"{'CPTS':<22} {'publiée':>8} {'recalculée':>11} {'écart':>7}")
    w = demand["pop_std"]
    for cid in known_cpts():
        c = pd.Index(Territory.load(cid).communes)
        p = float((pub.reindex(c) * w.reindex(c)).sum() / w.reindex(c).sum())
        r = float((rec.reindex(c) * w.reindex(c)).sum() / w.reindex(c).sum())
        print(f"{cid:<22} {_fmt(p, 2):>8} {_fmt(r, 2):>11} {_fmt(r - p, 2):>7}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
