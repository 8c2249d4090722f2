"""Functional core of the APL engine: enhanced two-step floating catchment area (E2SFCA).

Pure numpy / scipy.sparse functions, no I/O and no Python loop over communes. They reproduce the
form of the DREES *accessibilité potentielle localisée* (APL):

* step 1 — for each supply commune *j*, the demand that can reach it,
  ``D_j = Σ_i w(t_ij) · P_i``, and its supply-to-demand ratio ``R_j = S_j / D_j``;
* step 2 — for each demand commune *i*, ``APL_i = Σ_j w(t_ij) · R_j``;

with ``P`` the standardised population (age-weighted), ``S`` the activity offered (consultations
per year for GPs), ``t_ij`` the road time in minutes and ``w`` the DREES step decay. A supply
commune that no demand reaches (``D_j = 0``) has ratio 0: its supply is reported by
:func:`e2sfca` (``unreached_supply``), never turned into NaN or infinity.

Identity used by the tests: ``Σ_i P_i · APL_i = Σ_j S_j`` over supply reached by some demand
(the engine distributes the whole supply).

The thin object API (parameters, inputs from the open data, scenarios) lives in
:mod:`cpts_diag.apl_params`, :mod:`cpts_diag.apl_inputs` and :mod:`cpts_diag.scenario`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy import sparse

__all__ = ["step_weights", "cap_activity", "band_weights", "standardise_population",
           "E2SFCAResult", "e2sfca", "weight_matrix"]


def step_weights(minutes, upper: Sequence[float], weights: Sequence[float]) -> np.ndarray:
    """Step decay, intervals closed on the right.

    ``minutes <= upper[0]`` → ``weights[0]``; ``upper[k-1] < minutes <= upper[k]`` → ``weights[k]``;
    ``minutes > upper[-1]`` → 0. With the DREES GP parameters (10, 15, 20 → 1, 2/3, 1/3): exactly
    10 minutes weighs 1, exactly 15 weighs 2/3, exactly 20 weighs 1/3, 20.001 weighs 0.
    ``inf`` (unreachable) weighs 0; negative or missing times raise ``ValueError``.
    """
    t = np.asarray(minutes, dtype=float)
    up = np.asarray(upper, dtype=float)
    w = np.asarray(weights, dtype=float)
    if up.ndim != 1 or up.shape != w.shape or up.size == 0:
        raise ValueError("upper and weights must be two non-empty lists of the same length")
    if np.any(np.diff(up) <= 0):
        raise ValueError(f"step bounds must increase strictly, got {list(up)}")
    if np.isnan(t).any():
        raise ValueError(f"{int(np.isnan(t).sum())} travel time(s) are missing; drop those pairs "
                         "(a pair absent from the table is out of reach) or give their minutes")
    if (t < 0).any():
        raise ValueError(f"{int((t < 0).sum())} travel time(s) are negative; times are minutes >= 0")
    idx = np.zeros(t.shape, dtype=np.intp)  # number of bounds strictly below t
    for bound in up:  # a loop over the (three) bounds, vectorised over the pairs
        idx += t > bound
    return np.append(w, 0.0)[idx]


def cap_activity(acts, zero_up_to: float, floor: float, cap: float) -> np.ndarray:
    """DREES activity counting for one GP per element: ``acts <= zero_up_to`` → 0; up to ``floor``
    → ``floor``; between ``floor`` and ``cap`` → as counted; above ``cap`` → ``cap``.

    With the GP parameters (250, 3 600, 6 000): 250 → 0, 251 → 3 600, 4 000 → 4 000, 7 000 → 6 000.
    Missing activity stays missing (NaN): the caller decides (e.g. the new-practitioner value).
    """
    a = np.asarray(acts, dtype=float)
    if (a[~np.isnan(a)] < 0).any():
        raise ValueError("activity must be >= 0")
    out = np.clip(a, floor, cap)
    out[a <= zero_up_to] = 0.0
    return out


def band_weights(lower: Sequence[float], weights: Sequence[float],
                 bands: Sequence[tuple[float, float | None]]) -> np.ndarray:
    """Weight of coarse age bands from the DREES 5-year weights.

    ``lower``: lower bounds of the 5-year bands (last one open); ``bands``: ``(lo, hi)`` with ``hi``
    exclusive, ``None`` for an open band. A coarse band's weight is the plain mean of the 5-year
    weights it covers — exact if people are spread evenly over its 5-year bands, an approximation
    otherwise (documented in docs/apl_engine.md). Bounds must fall on 5-year bounds.
    """
    lo5 = np.asarray(lower, dtype=float)
    w5 = np.asarray(weights, dtype=float)
    hi5 = np.append(lo5[1:], np.inf)
    out = []
    for lo, hi in bands:
        hi = np.inf if hi is None else float(hi)
        inside = (lo5 >= lo) & (hi5 <= hi)
        if lo not in lo5 or (np.isfinite(hi) and hi not in lo5) or not inside.any():
            raise ValueError(f"age band [{lo}, {hi}) does not fall on the 5-year bands {list(lo5)}")
        out.append(w5[inside].mean())
    return np.asarray(out)


def standardise_population(counts, weights) -> np.ndarray:
    """Standardised population ``Σ_band weight × count`` per row of ``counts`` (n × k).

    A missing count makes the row missing (NaN): the standardised population of a commune with an
    unknown age band is unknown, not smaller.
    """
    c = np.asarray(counts, dtype=float)
    w = np.asarray(weights, dtype=float)
    if c.ndim != 2 or c.shape[1] != w.size:
        raise ValueError(f"counts must be n × {w.size}, got shape {c.shape}")
    return c @ w


def weight_matrix(origin, dest, weight, n_origin: int, n_dest: int) -> sparse.csr_matrix:
    """Sparse matrix ``W[i, j] = w(t_ij)`` of the pairs with a positive weight.

    Raises ``ValueError`` on out-of-range indices or on a pair of positive weight given twice (a
    duplicate would be counted twice by the sparse sum; pairs of weight 0 are dropped first).
    """
    o = np.asarray(origin)
    d = np.asarray(dest)
    w = np.asarray(weight, dtype=float)
    if not (o.shape == d.shape == w.shape):
        raise ValueError("origin, dest and weight must have the same length")
    if o.size and (o.min() < 0 or o.max() >= n_origin or d.min() < 0 or d.max() >= n_dest):
        raise ValueError("pair index out of range")
    keep = w > 0
    o, d, w = o[keep], d[keep], w[keep]
    key = o.astype(np.int64) * n_dest + d
    if o.size < 2 or bool(np.all(key[1:] > key[:-1])):
        # fast path: pairs sorted by (origin, destination) and unique, as TravelTimes keeps them
        indptr = np.zeros(n_origin + 1, dtype=np.int64)
        np.cumsum(np.bincount(o, minlength=n_origin), out=indptr[1:])
        return sparse.csr_matrix((w, d, indptr), shape=(n_origin, n_dest))
    m = sparse.csr_matrix((w, (o, d)), shape=(n_origin, n_dest))
    if m.nnz != o.size:
        raise ValueError(f"{o.size - m.nnz} origin–destination pair(s) appear more than once; "
                         "keep one travel time per pair (e.g. the shortest)")
    return m


@dataclass(frozen=True)
class E2SFCAResult:
    """Output of :func:`e2sfca`, arrays aligned on the demand (``apl``) or supply index."""

    apl: np.ndarray            # per demand location: Σ_j w_ij R_j
    ratio: np.ndarray          # per supply location: S_j / D_j (0 where D_j = 0)
    reached_demand: np.ndarray  # per supply location: D_j = Σ_i w_ij P_i
    unreached_supply: float    # Σ S_j over supply locations that no demand reaches


def e2sfca(W: sparse.spmatrix, demand, supply) -> E2SFCAResult:
    """E2SFCA on a weight matrix ``W`` (demand × supply), demand ``P`` and supply ``S``.

    No NaN or infinity can come out: a supply location with no demand in reach gets ratio 0 and is
    counted in ``unreached_supply``; a demand location with no supply in reach gets APL 0.
    Missing or negative demand or supply raise ``ValueError`` (fill or drop them first).
    """
    P = np.asarray(demand, dtype=float)
    S = np.asarray(supply, dtype=float)
    n_o, n_d = W.shape
    if P.shape != (n_o,) or S.shape != (n_d,):
        raise ValueError(f"demand must have {n_o} values and supply {n_d}, got {P.shape} and {S.shape}")
    for name, v in (("demand", P), ("supply", S)):
        if not np.isfinite(v).all():
            raise ValueError(f"{int((~np.isfinite(v)).sum())} {name} value(s) are missing or infinite")
        if (v < 0).any():
            raise ValueError(f"{int((v < 0).sum())} {name} value(s) are negative")
    D = W.T @ P
    ratio = np.zeros_like(S)
    np.divide(S, D, out=ratio, where=D > 0)
    apl = W @ ratio
    return E2SFCAResult(apl=apl, ratio=ratio, reached_demand=D,
                        unreached_supply=float(S[D <= 0].sum()))
