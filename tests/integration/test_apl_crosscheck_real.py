"""Cross-check of the E2SFCA engine against PySAL ``access`` on the real Loire (42) inputs.

The default model's inputs, restricted to the Loire: travel times from the commune representative
points (:func:`cpts_diag.apl_inputs.default_travel_times`, pairs of at most 20 minutes) whose origin
AND destination are in the Loire, DREES standardised population of APL 2023, BPE GP activity.
The engine and ``access.fca.two_stage_fca`` (same cost table, ``step_fn({10: 1, 15: 2/3, 20: 1/3})``,
``max_cost=20``) must agree to 1e-9 on every Loire commune.
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
from cpts_diag.apl_inputs import default_travel_times, demand_pop_std, supply_from_bpe  # noqa: E402
from cpts_diag.apl_params import load_parameters  # noqa: E402

pytestmark = pytest.mark.integration

DEP = "42"
N_LOIRE = 320  # communes of the Loire in COG 2025


@pytest.fixture(scope="module")
def loire(snapshot_dir):
    """Travel times, demand and supply of the default model restricted to the Loire."""
    params = load_parameters(2023)
    tt = default_travel_times(params.travel, params.max_minutes)  # as in default_model()
    codes = tt.codes.astype(str)
    in_dep = np.char.startswith(codes, DEP)
    keep = in_dep[tt.origin] & in_dep[tt.dest]
    position = np.full(len(codes), -1, dtype=np.int64)  # all-communes position → Loire position
    position[in_dep] = np.arange(in_dep.sum())
    dep_codes = codes[in_dep]
    origin, dest = position[tt.origin[keep]], position[tt.dest[keep]]
    minutes = tt.minutes[keep]

    dem = demand_pop_std(2023).reindex(pd.Index(dep_codes, name="code_commune"))
    demand = dem["pop_std"].fillna(0.0).to_numpy(dtype=float)  # as APLModel does
    activity = supply_from_bpe(params).activity_by_commune()
    activity = activity[activity.index.astype(str).str.startswith(DEP)]
    assert activity.index.isin(dep_codes).all()
    supply = activity.reindex(dep_codes).fillna(0.0).to_numpy(dtype=float)
    return {"params": params, "codes": dep_codes, "origin": origin, "dest": dest,
            "minutes": minutes, "demand": demand, "supply": supply,
            "missing_demand": int(dem["pop_std"].isna().sum())}


@pytest.fixture(scope="module")
def engine(loire):
    p = loire["params"]
    w = apl_engine.step_weights(loire["minutes"], p.upper_minutes, p.decay_weights)
    n = len(loire["codes"])
    W = apl_engine.weight_matrix(loire["origin"], loire["dest"], w, n, n)
    return apl_engine.e2sfca(W, loire["demand"], loire["supply"])


@pytest.fixture(scope="module")
def access_apl(loire):
    codes = loire["codes"]
    cost = pd.DataFrame({"origin": codes[loire["origin"]], "dest": codes[loire["dest"]],
                         "cost": loire["minutes"]})
    demand_df = pd.DataFrame({"demand": loire["demand"]}, index=pd.Index(codes, name="code"))
    supply_df = pd.DataFrame({"supply": loire["supply"]}, index=pd.Index(codes, name="code"))
    return two_stage_fca(demand_df, supply_df, cost, max_cost=20,
                         demand_index=True, demand_name="demand",
                         supply_index=True, supply_name="supply",
                         cost_origin="origin", cost_dest="dest", cost_name="cost",
                         weight_fn=step_fn({10: 1, 15: 2 / 3, 20: 1 / 3}))


def test_loire_inputs(loire):
    assert len(loire["codes"]) == N_LOIRE
    assert loire["missing_demand"] == 0
    assert (loire["demand"] > 0).all()
    assert loire["supply"].sum() > 0 and (loire["supply"] > 0).sum() >= 50
    assert len(loire["minutes"]) > 5 * N_LOIRE
    assert loire["minutes"].max() <= 20.0
    # one self pair (0 minutes) per commune
    self_pairs = loire["origin"] == loire["dest"]
    assert self_pairs.sum() == N_LOIRE and (loire["minutes"][self_pairs] == 0).all()


def test_engine_equals_access_on_the_loire(loire, engine, access_apl):
    codes = loire["codes"]
    # every commune reaches itself at 0 minutes, so access returns all of them, finite
    assert sorted(access_apl.index) == sorted(codes)
    ref = access_apl.reindex(codes).to_numpy(dtype=float)
    assert np.isfinite(ref).all()
    assert (engine.reached_demand > 0).all()
    assert_allclose(engine.apl, ref, rtol=0, atol=1e-9)
    assert engine.apl.max() > 0


def test_engine_distributes_the_reached_supply(loire, engine):
    reached = loire["supply"].sum() - engine.unreached_supply
    assert engine.unreached_supply == 0.0  # every Loire commune has demand, reached by itself
    assert_allclose((loire["demand"] * engine.apl).sum(), reached, rtol=1e-6)
