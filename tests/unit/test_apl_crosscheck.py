"""Cross-check of the E2SFCA engine against PySAL ``access`` on small synthetic grids.

The engine (:func:`cpts_diag.apl_engine.step_weights` + :func:`~cpts_diag.apl_engine.weight_matrix`
+ :func:`~cpts_diag.apl_engine.e2sfca`) and ``access.fca.two_stage_fca`` with
``access.weights.step_fn({10: 1, 15: 2/3, 20: 1/3})`` and ``max_cost=20`` must give the same APL
(to 1e-9) for every demand location. The travel times put many pairs exactly on 10, 15 and 20
minutes (right-closed steps: the bound belongs to the shorter band), a few a hair either side of
a bound, and some beyond 20 minutes (weight 0). Every supply location is reached by some demand,
so ``access`` (which divides supply by reached demand) gives finite values.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

access = pytest.importorskip("access")
from access.fca import two_stage_fca  # noqa: E402
from access.weights import step_fn  # noqa: E402

from cpts_diag import apl_engine  # noqa: E402
from cpts_diag.apl_params import load_parameters  # noqa: E402

MAX_COST = 20.0
ACCESS_STEPS = {10: 1, 15: 2 / 3, 20: 1 / 3}
SIDE = 6  # 6 × 6 grid, rows and columns 0..5; one grid step = 5 minutes

# Hand-chosen standardised population per grid point (row-major); one point has no demand.
DEMAND = np.array([
    [1200.0, 340.0, 85.5, 410.0, 2300.0, 150.0],
    [610.0, 0.0, 720.0, 95.0, 130.0, 4800.0],
    [75.0, 260.0, 15400.0, 530.0, 88.0, 310.0],
    [940.0, 120.0, 405.0, 2750.0, 66.0, 190.0],
    [230.0, 1870.0, 55.0, 360.0, 980.0, 47.25],
    [5100.0, 140.0, 620.0, 73.0, 415.0, 860.0],
]).ravel()

# Hand-chosen activity (consultations per year) per grid point; most points have none.
SUPPLY_SQUARE = np.array([
    [0.0, 0.0, 0.0, 0.0, 8320.0, 0.0],
    [0.0, 4160.0, 0.0, 0.0, 0.0, 12480.0],
    [0.0, 0.0, 41600.0, 0.0, 0.0, 0.0],
    [0.0, 0.0, 0.0, 20800.0, 0.0, 0.0],
    [0.0, 4160.0, 0.0, 0.0, 0.0, 0.0],
    [16640.0, 0.0, 0.0, 0.0, 0.0, 3900.0],
]).ravel()

# Rectangular case: five practices off the demand grid.
# (row, column, extra minutes added to 5 × Manhattan distance, activity)
PRACTICES = [
    (0, 0, 0.0, 12480.0),   # times 0, 5, 10, 15, 20, 25, ... : exact bounds
    (2, 3, 2.5, 37440.0),   # times 2.5, 7.5, 12.5, 17.5, 22.5, ...
    (5, 5, 0.0, 4160.0),
    (3, 1, 1e-9, 8320.0),   # a hair above each bound: 10+ → 2/3, 15+ → 1/3, 20+ → 0
    (1, 4, -1e-9, 20800.0),  # a hair below each bound: 10- → 1, 15- → 2/3, 20- → 2/3
]


def _grid_rc():
    rc = np.array([(r, c) for r in range(SIDE) for c in range(SIDE)])
    return rc[:, 0], rc[:, 1]


def _all_pairs(n_o: int, n_d: int):
    o, d = np.meshgrid(np.arange(n_o), np.arange(n_d), indexing="ij")
    return o.ravel(), d.ravel()


def _square_case():
    """Every grid point is both a demand and a supply location; t = 5 min × Manhattan distance."""
    r, c = _grid_rc()
    o, d = _all_pairs(SIDE * SIDE, SIDE * SIDE)
    minutes = 5.0 * (np.abs(r[o] - r[d]) + np.abs(c[o] - c[d]))
    codes = np.array([f"c{i:02d}" for i in range(SIDE * SIDE)])
    return codes, codes, o, d, minutes, DEMAND, SUPPLY_SQUARE


def _rectangular_case():
    """Demand on the grid, supply at PRACTICES; a few pairs with asymmetric hand-set times."""
    r, c = _grid_rc()
    pr = np.array([p[0] for p in PRACTICES])
    pc = np.array([p[1] for p in PRACTICES])
    extra = np.array([p[2] for p in PRACTICES])
    o, d = _all_pairs(SIDE * SIDE, len(PRACTICES))
    minutes = 5.0 * (np.abs(r[o] - pr[d]) + np.abs(c[o] - pc[d])) + extra[d]
    minutes = np.maximum(minutes, 0.0)  # the -1e-9 practice's own point
    # Hand-set times for a few pairs (one-way roads, a river crossing...).
    for row, col, practice, t in [(0, 5, 0, 10.0), (5, 0, 0, 15.0), (4, 4, 2, 20.0),
                                  (2, 2, 1, 20.0 + 1e-6), (0, 3, 4, 35.0), (3, 3, 3, 0.0)]:
        k = (o == row * SIDE + col) & (d == practice)
        assert k.sum() == 1
        minutes[k] = t
    demand_codes = np.array([f"d{i:02d}" for i in range(SIDE * SIDE)])
    supply_codes = np.array([f"s{j}" for j in range(len(PRACTICES))])
    supply = np.array([p[3] for p in PRACTICES])
    return demand_codes, supply_codes, o, d, minutes, DEMAND, supply


def _engine(o, d, minutes, demand, supply, n_o, n_d):
    params = load_parameters(2023)
    w = apl_engine.step_weights(minutes, params.upper_minutes, params.decay_weights)
    W = apl_engine.weight_matrix(o, d, w, n_o, n_d)
    return apl_engine.e2sfca(W, demand, supply), W


def _access(demand_codes, supply_codes, o, d, minutes, demand, supply) -> pd.Series:
    cost = pd.DataFrame({"origin": demand_codes[o], "dest": supply_codes[d], "cost": minutes})
    demand_df = pd.DataFrame({"demand": demand}, index=pd.Index(demand_codes, name="code"))
    supply_df = pd.DataFrame({"supply": supply}, index=pd.Index(supply_codes, name="code"))
    return two_stage_fca(demand_df, supply_df, cost, max_cost=MAX_COST,
                         demand_index=True, demand_name="demand",
                         supply_index=True, supply_name="supply",
                         cost_origin="origin", cost_dest="dest", cost_name="cost",
                         weight_fn=step_fn(ACCESS_STEPS))


CASES = {"square": _square_case, "rectangular": _rectangular_case}


def test_parameters_are_the_access_step_function():
    params = load_parameters(2023)
    assert params.upper_minutes == (10.0, 15.0, 20.0)
    assert params.decay_weights == (1.0, 2 / 3, 1 / 3)
    assert params.max_minutes == MAX_COST
    fn = step_fn(ACCESS_STEPS)
    t = np.array([0.0, 5.0, 10.0 - 1e-9, 10.0, 10.0 + 1e-9, 12.5, 15.0, 15.0 + 1e-9, 17.5,
                  20.0 - 1e-9, 20.0, 20.0 + 1e-9, 22.5, 60.0])
    got = apl_engine.step_weights(t, params.upper_minutes, params.decay_weights)
    assert got.tolist() == [fn(x) for x in t]  # exactly the same floats


@pytest.mark.parametrize("case", list(CASES))
def test_case_covers_the_bounds(case):
    """The synthetic case really exercises the right-closed bounds and the cut-off."""
    _, _, o, d, minutes, demand, supply = CASES[case]()
    for bound in (10.0, 15.0, 20.0):
        assert (minutes == bound).sum() >= 2, bound
    assert (minutes > MAX_COST).sum() >= 10
    res, W = _engine(o, d, minutes, demand, supply, len(demand), len(supply))
    assert (res.reached_demand > 0).all()  # access then gives finite values
    assert W.nnz == (minutes <= MAX_COST).sum()
    assert len(np.unique(np.round(res.apl, 9))) > 5  # not a degenerate, constant APL


@pytest.mark.parametrize("case", list(CASES))
def test_engine_equals_access(case):
    demand_codes, supply_codes, o, d, minutes, demand, supply = CASES[case]()
    res, _ = _engine(o, d, minutes, demand, supply, len(demand_codes), len(supply_codes))
    ref = _access(demand_codes, supply_codes, o, d, minutes, demand, supply)
    # Every demand location has a supply location within 20 minutes, so access returns them all.
    assert sorted(ref.index) == sorted(demand_codes)
    ref = ref.reindex(demand_codes).to_numpy(dtype=float)
    assert np.isfinite(ref).all()
    assert_allclose(res.apl, ref, rtol=0, atol=1e-9)
    # The engine's identity: the whole (reached) supply is distributed.
    assert res.unreached_supply == 0.0
    assert_allclose((demand * res.apl).sum(), supply.sum(), rtol=1e-12)


def test_unreached_supply_is_where_the_two_differ():
    """Documented differences: a practice reached only by a point without demand (reached demand
    0) gets ratio inf in access, so that point's APL is inf; the engine gives it ratio 0 and
    reports its supply as unreached. A point with no practice in reach is absent from access's
    result; the engine gives it APL 0. Every other APL still agrees."""
    demand_codes, supply_codes, o, d, minutes, demand, supply = _rectangular_case()
    empty = int(np.flatnonzero(demand == 0.0)[0])  # the grid point without demand
    minutes = minutes.copy()
    minutes[d == 2] = 100.0  # practice s2 out of everybody's reach...
    minutes[(d == 2) & (o == empty)] = 5.0  # ...but the point without demand
    res, W = _engine(o, d, minutes, demand, supply, len(demand_codes), len(supply_codes))
    assert res.reached_demand[2] == 0.0 and res.ratio[2] == 0.0
    assert res.unreached_supply == supply[2]
    assert np.isfinite(res.apl).all()
    assert_allclose((demand * res.apl).sum(), supply.sum() - supply[2], rtol=1e-12)
    ref = _access(demand_codes, supply_codes, o, d, minutes, demand, supply)
    in_reach = np.asarray(W.sum(axis=1)).ravel() > 0
    assert not in_reach.all()  # the grid corner where s2 was is now out of reach of any practice
    assert sorted(ref.index) == sorted(demand_codes[in_reach])
    assert (res.apl[~in_reach] == 0.0).all()
    ref = ref.reindex(demand_codes, fill_value=0.0).to_numpy(dtype=float)
    assert np.isposinf(ref[empty])
    others = np.arange(len(demand_codes)) != empty
    assert np.isfinite(ref[others]).all()
    assert_allclose(res.apl[others], ref[others], rtol=0, atol=1e-9)
