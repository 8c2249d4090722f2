"""Classifications of the choropleths: :class:`Classes` and :func:`make_classes` (ad-hoc classes).

Every class is LEFT-CLOSED (DREES convention, one rule for every map of every report): a value
equal to a break belongs to the class that starts at it. Labels read « moins de x », « de x à moins
de y », « y ou plus », numbers in French format. Fixed classes per indicator, shared by every
territory, come from ``cpts_diag/map_classes.yaml`` (see :mod:`cpts_diag.maps.fixed`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from ..apl_params import APL_GP_CLASS_COLORS, APL_GP_CLASS_LABELS, APL_GP_THRESHOLDS
from ..errors import CptsDiagError
from ..fmt import fmt_number

__all__ = ["Classes", "MapClassesError", "make_classes", "class_labels", "bound_text", "nice_step",
           "fr_number", "MISSING_LABEL", "MISSING_COLOR", "DIRECTIONS", "SCHEMES"]

MISSING_LABEL = "Donnée manquante"
MISSING_COLOR = "#d9d9d9"

#: Official GP APL classes (DREES): the constants of :mod:`cpts_diag.apl_params`, re-exported.
APL_MG_BINS = APL_GP_THRESHOLDS
APL_MG_COLORS = APL_GP_CLASS_COLORS
APL_MG_LABELS = APL_GP_CLASS_LABELS
APL_MG_METHOD = "seuils officiels de la Drees (moins de 2,5 : sous-dotation)"

DIRECTIONS = ("higher_is_better", "lower_is_better", "neutral")
SCHEMES = ("quantiles", "natural_breaks", "fisher_jenks", "equal_interval", "apl_mg", "diverging",
           "user")


class MapClassesError(CptsDiagError, ValueError):
    """A classification (map_classes.yaml entry, breaks, labels, colours) is invalid or unknown."""


def fr_number(value, decimals: int = 1) -> str:
    """``1234.5`` → ``"1 234,5"`` (:func:`cpts_diag.fmt.fmt_number`); missing → ``"n.d."``."""
    return fmt_number(value, decimals)


def bound_text(x: float, decimals: int = 1, suffix: str = "", signed: bool = False) -> str:
    """A class bound in French, at most ``decimals`` digits, trailing zeros dropped: ``4.0`` → ``"4"``,
    ``2.5`` → ``"2,5"``, ``1234.5`` → ``"1 234,5"``; ``signed=True`` writes ``+0,05``."""
    s = fmt_number(x, decimals, signed=signed)
    if "," in s:
        s = s.rstrip("0").rstrip(",")
    if s in ("-0", "+0"):
        s = "0"
    return s + suffix


def class_labels(breaks: Sequence[float], decimals: int = 1, suffix: str = "",
                 signed: bool = False) -> list[str]:
    """Labels of left-closed classes: « moins de b0 », « de b0 à moins de b1 », …, « bn ou plus »."""
    f = lambda x: bound_text(x, decimals, suffix, signed)  # noqa: E731
    b = list(breaks)
    if not b:
        return ["toutes valeurs"]
    labels = [f"moins de {f(b[0])}"]
    labels += [f"de {f(b[i - 1])} à moins de {f(b[i])}" for i in range(1, len(b))]
    labels.append(f"{f(b[-1])} ou plus")
    return labels


@dataclass
class Classes:
    """A classification: exclusive upper bounds (last = +inf), French labels and colours, one per
    class, and what the classes mean (``method``, ``direction``, ``centre``). ``fixed=True`` for
    the classes of :func:`cpts_diag.maps.classes_for` (same breaks for every territory)."""

    bounds: list[float]
    labels: list[str]
    colors: list[str]
    indicator_id: str | None = None
    method: str = ""
    direction: str = "neutral"
    centre: float | None = None
    centre_source: str = ""
    fixed: bool = False

    def __post_init__(self):
        n = len(self.bounds)
        if len(self.labels) != n or len(self.colors) != n:
            raise MapClassesError(f"{n} classes mais {len(self.labels)} libellés et {len(self.colors)} "
                                  "couleurs : il faut un libellé et une couleur par classe.")
        if self.direction not in DIRECTIONS:
            raise MapClassesError(f"direction {self.direction!r} inconnue ; valeurs admises : "
                                  f"{', '.join(DIRECTIONS)}.")

    @property
    def breaks(self) -> list[float]:
        """The finite class bounds (each one opens a class: left-closed)."""
        return [float(b) for b in self.bounds[:-1]]

    def index(self, values) -> pd.Series:
        """Class number of each value (0-based, left-closed: a value equal to a break goes to the
        class above); ``-1`` for a missing value."""
        s = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype="object")
        v = pd.to_numeric(s, errors="coerce").astype(float)
        idx = np.searchsorted(np.asarray(self.breaks, dtype=float), v.to_numpy(), side="right")
        out = pd.Series(idx, index=s.index, dtype="int64")
        out[v.isna().to_numpy()] = -1
        return out

    def color_of(self, values) -> pd.Series:
        """Colour of each value (:data:`MISSING_COLOR` when missing)."""
        return self.index(values).map(lambda i: MISSING_COLOR if i < 0 else self.colors[i])

    def label_of(self, values) -> pd.Series:
        """Class label of each value (:data:`MISSING_LABEL` when missing)."""
        return self.index(values).map(lambda i: MISSING_LABEL if i < 0 else self.labels[i])

    def counts(self, values) -> list[int]:
        """Number of values in each class, then the number of missing values (``n + 1`` ints)."""
        idx = self.index(values).to_numpy()
        per = np.bincount(idx[idx >= 0], minlength=len(self.labels)) if (idx >= 0).any() \
            else np.zeros(len(self.labels), dtype=int)
        return [int(x) for x in per] + [int((idx < 0).sum())]


def _sample_cmap(cmap: str, n: int, lo: float = 0.12, hi: float = 0.92) -> list[str]:
    import matplotlib
    from matplotlib.colors import to_hex

    cm = matplotlib.colormaps[cmap]
    if n == 1:
        return [to_hex(cm(0.6))]
    return [to_hex(cm(lo + (hi - lo) * i / (n - 1))) for i in range(n)]


def official_apl_classes(indicator_id: str | None = None) -> Classes:
    """The three DREES classes of the GP APL (:mod:`cpts_diag.apl_params`), left-closed."""
    return Classes(list(APL_GP_THRESHOLDS) + [math.inf], list(APL_GP_CLASS_LABELS),
                   list(APL_GP_CLASS_COLORS), indicator_id=indicator_id, method=APL_MG_METHOD,
                   direction="higher_is_better", fixed=True)


def make_classes(values: Iterable, *, scheme: str = "quantiles", k: int = 5,
                 bounds: Sequence[float] | None = None, cmap: str = "YlOrRd", decimals: int = 1,
                 suffix: str = "", labels: Sequence[str] | None = None,
                 colors: Sequence[str] | None = None, direction: str = "neutral",
                 signed: bool = False) -> Classes:
    """Ad-hoc classes of ``values`` for a choropleth (fixed per-indicator classes: ``classes_for``).

    ``scheme``: ``"quantiles"``, ``"natural_breaks"``, ``"fisher_jenks"``, ``"equal_interval"``
    (``k`` classes, bounds rounded to ``decimals``), ``"apl_mg"`` (official DREES GP APL classes),
    ``"diverging"`` (symmetric bounds around 0, for a rate of change) or ``"user"`` (``bounds`` =
    the finite breaks). Classes are left-closed; ``suffix`` follows the numbers of the labels
    (e.g. ``" %"``), ``signed=True`` writes ``+x`` for positive bounds.
    """
    v = pd.to_numeric(pd.Series(list(values), dtype="object"), errors="coerce").dropna().astype(float)
    if scheme == "apl_mg":
        cl = official_apl_classes()
        if labels is not None or colors is not None:
            cl = Classes(cl.bounds, list(labels or cl.labels), list(colors or cl.colors),
                         method=cl.method, direction=cl.direction, fixed=True)
        return cl
    if scheme == "user":
        if not bounds:
            raise MapClassesError("scheme='user' : il faut donner bounds (les bornes des classes), "
                                  "par exemple bounds=[2.5, 4].")
        b = sorted(float(x) for x in bounds)
    elif scheme == "diverging":
        b = _diverging_bounds(v, decimals)
    else:
        b = _mapclassify_bounds(v, scheme, k, decimals)
    n = len(b) + 1
    if colors is None:
        if scheme == "diverging":
            colors = _diverging_colors(b, cmap if cmap != "YlOrRd" else "RdBu")
        else:
            colors = _sample_cmap(cmap, n)
    if labels is not None:
        lab = list(labels)
    elif not b:  # one class: every value equal (or no value at all)
        lab = [bound_text(v.iloc[0], decimals, suffix) if len(v) else MISSING_LABEL]
    else:
        lab = class_labels(b, decimals, suffix, signed)
    method = {"quantiles": f"{n} classes d'effectifs égaux (quantiles) des communes de la carte",
              "diverging": "classes symétriques autour de 0", "user": "bornes choisies"}.get(
        scheme, f"{n} classes ({scheme}) des communes de la carte")
    return Classes(b + [math.inf], lab, list(colors), method=method, direction=direction)


def _mapclassify_bounds(v: pd.Series, scheme: str, k: int, decimals: int) -> list[float]:
    """Inner breaks of ``k`` classes, rounded to ``decimals``, each strictly inside (min, max).

    ``quantiles`` and ``equal_interval`` follow mapclassify's definitions (computed with numpy, so
    the report does not pay mapclassify's import); ``natural_breaks`` and ``fisher_jenks`` use
    mapclassify.
    """
    if scheme not in SCHEMES:
        raise MapClassesError(f"Méthode de classes inconnue {scheme!r} (Unknown scheme) ; valeurs "
                              f"admises : {', '.join(SCHEMES)}.")
    uniq = np.unique(v.round(decimals))
    if len(uniq) <= 1:
        return []
    k = max(1, min(k, len(uniq)))
    y = v.to_numpy(dtype=float)
    if scheme == "quantiles":  # = mapclassify.Quantiles
        bins = np.percentile(y, np.linspace(100 / k, 100, k))
    elif scheme == "equal_interval":  # = mapclassify.EqualInterval
        bins = y.min() + (y.max() - y.min()) / k * np.arange(1, k + 1)
    else:
        import warnings

        import mapclassify

        klass = mapclassify.NaturalBreaks if scheme == "natural_breaks" else mapclassify.FisherJenks
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            bins = klass(y, k=k).bins
    b = sorted(set(round(float(x), decimals) for x in bins[:-1]))
    lo, top = float(v.min()), float(v.max())
    return [x for x in b if lo < x < top]


def _diverging_bounds(v: pd.Series, decimals: int) -> list[float]:
    """Symmetric bounds around 0 from the 90th percentile of |v|, rounded to a 'nice' step."""
    if v.empty:
        return [0.0]
    m = float(np.nanpercentile(np.abs(v), 90)) or float(np.abs(v).max()) or 1.0
    nice = max(nice_step(m / 2), 10 ** -decimals)
    return [round(x * nice, decimals) for x in (-2, -1, 0, 1, 2)]


def nice_step(step: float) -> float:
    """The round class width (1, 2, 2.5, 5 or 10 × 10^k) closest to ``step`` (> 0)."""
    mag = 10 ** math.floor(math.log10(step))
    return min((s * mag for s in (1, 2, 2.5, 5, 10)), key=lambda s: abs(s - step))


def _diverging_colors(bounds: list[float], cmap: str) -> list[str]:
    """Colours of a diverging classification: classes below 0 in the low end, above in the high."""
    n = len(bounds) + 1
    n_neg = sum(1 for b in bounds if b <= 0)  # classes entirely below 0
    n_pos = n - n_neg
    side = max(n_neg, n_pos)
    full = _sample_cmap(cmap, 2 * side, 0.08, 0.92)
    return full[side - n_neg: side] + full[side: side + n_pos]
