"""Unit tests of the pure E2SFCA core (:mod:`cpts_diag.apl_engine`).

Every expected value is computed by hand in the test (closed-form arithmetic with a comment), never
produced by the code under test. The DREES GP parameters are written out by hand below and checked
once against ``apl_parameters.yaml``.
"""
from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import sparse

from cpts_diag.apl_engine import (band_weights, cap_activity, e2sfca, standardise_population,
                                  step_weights, weight_matrix)
from cpts_diag.apl_params import load_parameters

# DREES GP parameters, copied by hand from the documentation (right-closed steps).
UPPER = (10.0, 15.0, 20.0)
WEIGHTS = (1.0, 2.0 / 3.0, 1.0 / 3.0)
ZERO_UP_TO, FLOOR, CAP = 250.0, 3600.0, 6000.0
AGE_LOWER = (0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60, 65, 70, 75, 80, 85, 90)
AGE_W_2023 = (1.12, 0.58, 0.51, 0.6, 0.75, 0.79, 0.82, 0.85, 0.89, 0.93, 1.03, 1.15, 1.18, 1.23,
              1.46, 1.57, 1.63, 1.89, 2.26)


def _w(minutes) -> np.ndarray:
    return step_weights(minutes, UPPER, WEIGHTS)


def _matrix(pairs, n_origin, n_dest):
    """W from (origin, dest, minutes) triples, through the engine's decay and sparse builder."""
    o, d, t = (np.array(x) for x in zip(*pairs))
    return weight_matrix(o.astype(int), d.astype(int), _w(t.astype(float)), n_origin, n_dest)


def test_hand_parameters_match_the_yaml():
    p = load_parameters(2023)
    assert p.upper_minutes == UPPER
    assert_allclose(p.decay_weights, WEIGHTS, rtol=0, atol=1e-15)
    assert (p.zero_up_to, p.floor, p.cap) == (ZERO_UP_TO, FLOOR, CAP)
    assert p.age_band_lower == AGE_LOWER
    assert p.age_weights == AGE_W_2023


# --- closed forms -------------------------------------------------------------------------------

def test_one_supply_two_demand_closed_form():
    # P1 reaches S in 5 min (weight 1), P2 in 12 min (weight 2/3).
    P1, P2, S = 1200.0, 900.0, 5000.0
    W = _matrix([(0, 0, 5.0), (1, 0, 12.0)], 2, 1)
    res = e2sfca(W, [P1, P2], [S])
    # reached demand = 1200 + 2/3 × 900 = 1800; ratio = 5000 / 1800 = 25/9
    ratio = S / (P1 + 2.0 / 3.0 * P2)
    assert ratio == pytest.approx(25.0 / 9.0, rel=1e-15)
    assert_allclose(res.reached_demand, [1800.0], rtol=1e-14)
    assert_allclose(res.ratio, [25.0 / 9.0], rtol=1e-14)
    # APL1 = 1 × ratio = 25/9 ; APL2 = 2/3 × ratio = 50/27
    assert_allclose(res.apl, [25.0 / 9.0, 50.0 / 27.0], rtol=1e-14)
    assert res.unreached_supply == 0.0


def test_two_supply_three_demand_solved_by_hand():
    # Demand P = (1000, 2000, 3000); supply S = (9000, 4000).
    # Times (minutes → weight):
    #   P1→S1 8 → 1      P1→S2 18 → 1/3
    #   P2→S1 14 → 2/3   P2→S2 10 → 1
    #   P3→S1 25 → 0     P3→S2 20 → 1/3
    W = _matrix([(0, 0, 8.0), (0, 1, 18.0), (1, 0, 14.0), (1, 1, 10.0), (2, 0, 25.0), (2, 1, 20.0)],
                3, 2)
    res = e2sfca(W, [1000.0, 2000.0, 3000.0], [9000.0, 4000.0])
    # D1 = 1000 + 2/3 × 2000 = 7000/3          → R1 = 9000 / (7000/3) = 27/7
    # D2 = 1/3 × 1000 + 2000 + 1/3 × 3000 = 10000/3 → R2 = 4000 / (10000/3) = 6/5
    assert_allclose(res.reached_demand, [7000.0 / 3.0, 10000.0 / 3.0], rtol=1e-14)
    assert_allclose(res.ratio, [27.0 / 7.0, 6.0 / 5.0], rtol=1e-14)
    # APL1 = 27/7 + 1/3 × 6/5 = 149/35
    # APL2 = 2/3 × 27/7 + 6/5 = 132/35
    # APL3 = 0 × 27/7 + 1/3 × 6/5 = 2/5
    assert_allclose(res.apl, [149.0 / 35.0, 132.0 / 35.0, 2.0 / 5.0], rtol=1e-14)
    # check of the hand arithmetic: 1000·149/35 + 2000·132/35 + 3000·2/5 = 13000 = 9000 + 4000
    assert 1000 * 149 / 35 + 2000 * 132 / 35 + 3000 * 2 / 5 == pytest.approx(13000.0)
    assert res.unreached_supply == 0.0


# --- step decay boundaries ----------------------------------------------------------------------

@pytest.mark.parametrize("minutes, expected", [
    (0.0, 1.0),
    (10.0, 1.0),
    (10.000001, 2.0 / 3.0),
    (15.0, 2.0 / 3.0),
    (15.000001, 1.0 / 3.0),
    (20.0, 1.0 / 3.0),
    (20.000001, 0.0),
    (45.0, 0.0),
])
def test_step_weight_boundaries(minutes, expected):
    assert _w([minutes])[0] == pytest.approx(expected, rel=0, abs=1e-15)
    assert _w(minutes) == pytest.approx(expected, rel=0, abs=1e-15)  # scalar input too


def test_step_weights_vectorised():
    t = [0, 10, 10.000001, 15, 15.000001, 20, 20.000001]
    assert_allclose(_w(t), [1, 1, 2 / 3, 2 / 3, 1 / 3, 1 / 3, 0], rtol=0, atol=1e-15)


@pytest.mark.parametrize("bad, message", [([-0.5], "1 travel time.s. are negative"),
                                          ([5.0, -1.0], "1 travel time.s. are negative"),
                                          ([np.nan], "1 travel time.s. are missing"),
                                          ([3.0, np.nan], "1 travel time.s. are missing")])
def test_step_weights_reject_negative_or_missing(bad, message):
    with pytest.raises(ValueError, match=message):
        _w(bad)


@pytest.mark.parametrize("upper, weights, message", [
    ((10, 10, 20), WEIGHTS, "must increase strictly"),
    ((20, 15, 10), WEIGHTS, "must increase strictly"),
    ((10, 15), WEIGHTS, "non-empty lists of the same length"),
    ((), (), "non-empty lists of the same length"),
])
def test_step_weights_reject_bad_parameters(upper, weights, message):
    with pytest.raises(ValueError, match=message):
        step_weights([5.0], upper, weights)


# --- activity caps ------------------------------------------------------------------------------

@pytest.mark.parametrize("acts, expected", [
    (0, 0.0),        # no activity → 0
    (250, 0.0),      # « moins de 250 » (acts are whole numbers: 250 counts 0)
    (251, 3600.0),   # 251–3 600 → 3 600
    (3600, 3600.0),
    (3601, 3601.0),  # 3 601–6 000 → as counted
    (6000, 6000.0),
    (6001, 6000.0),  # > 6 000 → 6 000
])
def test_cap_activity(acts, expected):
    assert cap_activity([acts], ZERO_UP_TO, FLOOR, CAP)[0] == expected


def test_cap_activity_keeps_missing_and_rejects_negative():
    out = cap_activity([np.nan, 4000.0, 7000.0], ZERO_UP_TO, FLOOR, CAP)
    assert np.isnan(out[0])
    assert out[1:].tolist() == [4000.0, 6000.0]
    with pytest.raises(ValueError, match="activity must be >= 0"):
        cap_activity([100.0, -1.0], ZERO_UP_TO, FLOOR, CAP)


# --- age bands ----------------------------------------------------------------------------------

def test_band_weights_by_hand():
    out = band_weights(AGE_LOWER, AGE_W_2023, [(0, 15), (80, None), (15, 25), (90, None)])
    # [0, 15) covers 0–4, 5–9, 10–14: (1.12 + 0.58 + 0.51) / 3 = 2.21 / 3
    # [80, +∞) covers 80–84, 85–89, 90+: (1.63 + 1.89 + 2.26) / 3 = 5.78 / 3
    # [15, 25) covers 15–19, 20–24: (0.6 + 0.75) / 2 = 0.675
    # [90, +∞) is the last 5-year band alone: 2.26
    assert_allclose(out, [2.21 / 3, 5.78 / 3, 0.675, 2.26], rtol=1e-14)


@pytest.mark.parametrize("band", [(0, 12), (3, 15), (80, 97), (15, 15)])
def test_band_weights_reject_bands_off_the_5_year_bounds(band):
    with pytest.raises(ValueError, match="does not fall on the 5-year bands"):
        band_weights(AGE_LOWER, AGE_W_2023, [band])


def test_standardise_population_by_hand():
    counts = [[100.0, 50.0], [0.0, 10.0], [np.nan, 10.0]]
    out = standardise_population(counts, [0.5, 2.0])
    # 100 × 0.5 + 50 × 2 = 150 ; 0 × 0.5 + 10 × 2 = 20 ; unknown band → unknown row
    assert out[:2].tolist() == [150.0, 20.0]
    assert np.isnan(out[2])
    with pytest.raises(ValueError, match=r"counts must be n × 2, got shape \(1, 3\)"):
        standardise_population([[1.0, 2.0, 3.0]], [0.5, 2.0])


# --- zero demand / zero supply ------------------------------------------------------------------

def test_supply_without_demand_in_reach_gives_ratio_zero():
    # Supply 0 reached by demand 0 at 5 min; supply 1 reached by nobody (only at 30 min);
    # supply 2 reached only by demand 1, whose population is 0.
    W = _matrix([(0, 0, 5.0), (0, 1, 30.0), (1, 2, 3.0)], 2, 3)
    res = e2sfca(W, [400.0, 0.0], [800.0, 1000.0, 250.0])
    # R0 = 800 / 400 = 2 ; R1 = R2 = 0 (nobody to serve)
    assert res.ratio.tolist() == [2.0, 0.0, 0.0]
    assert res.reached_demand.tolist() == [400.0, 0.0, 0.0]
    # unreached supply = 1000 + 250
    assert res.unreached_supply == 1250.0
    # APL0 = 1 × 2 ; APL1 = 1 × R2 = 0
    assert res.apl.tolist() == [2.0, 0.0]
    for arr in (res.apl, res.ratio, res.reached_demand):
        assert np.isfinite(arr).all()


def test_demand_without_supply_in_reach_gets_zero_and_demand_zero_gets_its_apl():
    # Demand 0 (pop 300) and demand 1 (pop 0) both reach supply 0 at 8 and 12 minutes;
    # demand 2 (pop 500) only reaches supply 0 at 21 minutes (weight 0) and supply 1 at 4 minutes,
    # which has no activity.
    W = _matrix([(0, 0, 8.0), (1, 0, 12.0), (2, 0, 21.0), (2, 1, 4.0)], 3, 2)
    res = e2sfca(W, [300.0, 0.0, 500.0], [900.0, 0.0])
    # D0 = 300 × 1 + 0 × 2/3 = 300 → R0 = 900/300 = 3 ; D1 = 500 → R1 = 0/500 = 0
    assert_allclose(res.ratio, [3.0, 0.0], rtol=1e-15)
    # APL0 = 3 ; APL1 (no demand, but reaches S0 at 2/3) = 2/3 × 3 = 2 ; APL2 = 0
    assert_allclose(res.apl, [3.0, 2.0, 0.0], rtol=1e-15)
    assert res.unreached_supply == 0.0
    for arr in (res.apl, res.ratio, res.reached_demand):
        assert not np.isnan(arr).any()
        assert np.isfinite(arr).all()


def test_empty_weight_matrix_gives_zero_everywhere():
    W = sparse.csr_matrix((3, 2))
    res = e2sfca(W, [10.0, 20.0, 30.0], [100.0, 50.0])
    assert res.apl.tolist() == [0.0, 0.0, 0.0]
    assert res.ratio.tolist() == [0.0, 0.0]
    assert res.unreached_supply == 150.0


# --- invariants on random instances -------------------------------------------------------------

def _random_instance(seed: int, n_dem: int = 40, n_sup: int = 25):
    """Random sparse instance: ~30 % of the pairs, times 0–30 min with many exactly on the bounds."""
    rng = np.random.default_rng(seed)
    mask = rng.random((n_dem, n_sup)) < 0.3
    o, d = np.nonzero(mask)
    t = rng.uniform(0, 30, size=o.size)
    on_bound = rng.random(o.size) < 0.2
    t[on_bound] = rng.choice([10.0, 15.0, 20.0], size=on_bound.sum())
    W = weight_matrix(o, d, _w(t), n_dem, n_sup)
    P = rng.uniform(0, 5000, n_dem) * (rng.random(n_dem) > 0.1)  # some zero demand
    S = rng.uniform(0, 20000, n_sup) * (rng.random(n_sup) > 0.4)  # sparse supply
    return rng, W, P, S


SEEDS = [1, 7, 42, 2025, 31415]


@pytest.mark.parametrize("seed", SEEDS)
def test_supply_is_conserved(seed):
    _, W, P, S = _random_instance(seed)
    res = e2sfca(W, P, S)
    reached = np.asarray(W.T @ P).ravel() > 0  # supply points that some demand reaches
    # Σ_i P_i · APL_i = Σ_j S_j over reached supply; the rest is reported as unreached
    assert float(P @ res.apl) == pytest.approx(float(S[reached].sum()), rel=1e-12)
    assert res.unreached_supply == pytest.approx(float(S[~reached].sum()), rel=1e-12, abs=1e-9)
    assert np.isfinite(res.apl).all() and np.isfinite(res.ratio).all()


@pytest.mark.parametrize("seed", SEEDS)
def test_no_supply_gives_zero_apl(seed):
    _, W, P, S = _random_instance(seed)
    res = e2sfca(W, P, np.zeros_like(S))
    assert (res.apl == 0).all()
    assert (res.ratio == 0).all()
    assert res.unreached_supply == 0.0


@pytest.mark.parametrize("seed", SEEDS)
def test_adding_supply_never_lowers_apl(seed):
    rng, W, P, S = _random_instance(seed)
    base = e2sfca(W, P, S).apl
    for _ in range(5):
        extra = rng.uniform(0, 3000, S.size) * (rng.random(S.size) < 0.2)
        more = e2sfca(W, P, S + extra).apl
        assert (more >= base - 1e-12 * max(1.0, base.max())).all()
    # a single extra GP anywhere
    j = int(rng.integers(S.size))
    bump = S.copy()
    bump[j] += 3600.0
    assert (e2sfca(W, P, bump).apl >= base - 1e-12 * max(1.0, base.max())).all()


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("k", [0.5, 2.0, 3.7])
def test_scaling_supply_scales_apl(seed, k):
    _, W, P, S = _random_instance(seed)
    assert_allclose(e2sfca(W, P, k * S).apl, k * e2sfca(W, P, S).apl, rtol=1e-12, atol=1e-15)


# --- input validation ---------------------------------------------------------------------------

def test_weight_matrix_by_hand_and_dropping_zero_weights():
    W = weight_matrix([0, 1, 1], [1, 0, 1], [1.0, 2 / 3, 0.0], 2, 2)
    assert W.nnz == 2
    assert_allclose(W.toarray(), [[0.0, 1.0], [2 / 3, 0.0]], rtol=0, atol=0)


def test_weight_matrix_rejects_duplicated_pair():
    with pytest.raises(ValueError, match="more than once"):
        weight_matrix([0, 1, 0], [1, 1, 1], [1.0, 1.0, 2 / 3], 2, 2)


@pytest.mark.parametrize("origin, dest", [([0, 2], [0, 0]), ([0, -1], [0, 0]),
                                          ([0, 1], [0, 2]), ([0, 1], [-1, 0])])
def test_weight_matrix_rejects_out_of_range_indices(origin, dest):
    with pytest.raises(ValueError, match="out of range"):
        weight_matrix(origin, dest, [1.0, 1.0], 2, 2)


def test_weight_matrix_rejects_length_mismatch():
    with pytest.raises(ValueError, match="must have the same length"):
        weight_matrix([0, 1], [0], [1.0, 1.0], 2, 2)


@pytest.mark.parametrize("demand, supply, message", [
    ([np.nan, 1.0], [1.0], "1 demand value.s. are missing or infinite"),
    ([-1.0, 1.0], [1.0], "1 demand value.s. are negative"),
    ([np.inf, 1.0], [1.0], "1 demand value.s. are missing or infinite"),
    ([1.0, 1.0], [np.nan], "1 supply value.s. are missing or infinite"),
    ([1.0, 1.0], [-5.0], "1 supply value.s. are negative"),
    ([1.0, 1.0], [np.inf], "1 supply value.s. are missing or infinite"),
])
def test_e2sfca_rejects_missing_or_negative_values(demand, supply, message):
    W = _matrix([(0, 0, 5.0), (1, 0, 12.0)], 2, 1)
    with pytest.raises(ValueError, match=message):
        e2sfca(W, demand, supply)


@pytest.mark.parametrize("demand, supply", [
    ([1.0], [1.0]),                 # demand too short
    ([1.0, 1.0, 1.0], [1.0]),       # demand too long
    ([1.0, 1.0], [1.0, 1.0]),       # supply too long
    ([1.0, 1.0], []),               # supply empty
    ([[1.0, 1.0]], [1.0]),          # demand 2-D
    ([1.0, 1.0], [[1.0]]),          # supply 2-D
])
def test_e2sfca_rejects_wrong_shapes(demand, supply):
    W = _matrix([(0, 0, 5.0), (1, 0, 12.0)], 2, 1)
    with pytest.raises(ValueError, match="demand must have 2 values and supply 1"):
        e2sfca(W, demand, supply)

