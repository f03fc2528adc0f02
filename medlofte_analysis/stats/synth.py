"""Synthetic control with placebo-in-space inference.

Method
------
The synthetic control for a treated unit is the convex combination of donor units whose
pre-period outcome series is closest to the treated unit's (Abadie & Gardeazabal 2003;
Abadie, Diamond & Hainmueller 2010, "Synthetic control methods for comparative case
studies", JASA 105:493-505; Abadie 2021, "Using synthetic controls", JEL 59:391-425).
Here the only predictors are the pre-period outcomes themselves and the predictor weight
matrix V is fixed to the identity, so the weights solve the quadratic programme

    minimise ||y - A w||^2   subject to   w >= 0,  sum(w) = 1,

with ``y`` the treated unit's pre-period series (T,) and ``A`` the donors' (T, J).

Solver. :func:`fit_weights` uses an exact primal active-set method (the Lawson & Hanson 1974
NNLS algorithm adapted to the unit simplex): it starts from the single best donor, adds the
donor with the most negative reduced gradient, solves the equality-constrained least-squares
problem on the active set (null-space elimination of the sum-to-one constraint, solved with
``numpy.linalg.lstsq`` so that rank deficiency is harmless), and steps back to the boundary
when a weight would turn negative. It stops when the Karush-Kuhn-Tucker conditions hold:
the gradient ``g = A'(Aw - y)`` is equal on the support and no smaller off it (see
:func:`kkt_violation`). Generic solutions have at most T + 1 donors, so a fit takes a few
dozen small linear solves, independent of J except for one (T, J) mat-vec per step.

Weights need not be unique: when the treated unit lies inside the donors' convex hull many
combinations reproduce its pre-period exactly. The pre-period fitted series is always unique
(the objective is strictly convex in ``A w``); the post-period series is not, but then the
pre-period RMSPE is zero and the post/pre RMSPE ratio is infinite whichever solution is used.

Inference (placebo in space, Abadie et al. 2010 §2.3). Each donor in turn is treated as if
it had been treated, with the remaining donors (never the real target) as its donor pool.
The statistic is the ratio of post-period to pre-period root mean squared prediction error
(RMSPE); the p-value is the share of units, target included, whose ratio is at least the
target's. With J donors it cannot be smaller than 1 / (J + 1).

Conventions
-----------
* A pre-period RMSPE below ``1e-9 * (1 + mean |y_pre|)`` is treated as an exact fit (0): the
  ratio is then ``inf`` if the post-period RMSPE is positive and NaN (0/0) if it is zero.
  Units with NaN ratios are left out of the permutation distribution (and counted out of
  ``n_placebos``).
* The pre-period fit is called poor when ``pre_rmspe > 0.10 * mean(target pre-period)``
  (:data:`POOR_FIT_SHARE`). Abadie et al. (2010) discard placebos whose pre-period MSPE is
  several times the target's; for the target itself no universal threshold exists, so 10 % of
  its own level is a conservative, documented choice. When the counts are given, the limit is
  at least twice the target's own Poisson noise, ``2 * mean / sqrt(mean yearly count)``
  (:data:`POOR_FIT_NOISE`): with 5 events a year one year's rate varies by 45 % by chance, so
  no honest fit is within 10 %, and a closer one interpolates noise. The gap test's variance
  (from the placebos, fitted the same way) includes the fit's error, so this rule only keeps
  out counterfactuals that miss the target by more than its noise (``fit_limit``).
* Fewer than :data:`MIN_PRE_YEARS` (5) pre-period years or fewer than :data:`MIN_DONORS` (5)
  donors give a warning.

Fast evaluation of many targets
-------------------------------
:func:`fit_all_units` fits every unit once against all the other units. For a given target t
the placebo for unit j must exclude t from j's donors. If j's all-others weights put zero
weight on t those weights are still optimal when t is removed (they are feasible and the KKT
conditions only involve the remaining donors), so they are reused exactly; only units whose
weights touch t are refitted (warm-started from their previous support).
:func:`placebo_inference_all` does this for every target and returns the same ratios and
p-values as calling :func:`synthetic_control` for each target, up to the non-uniqueness noted
above.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from medlofte_analysis.stats.dispersion import PooledDispersion
from medlofte_analysis.stats.placebo_inference import (
    HALF,
    PlaceboCounts,
    PlaceboTest,
    log_poisson_variance,
    placebo_t_test,
    shock_prior,
)

__all__ = [
    "MIN_DONORS",
    "MIN_PRE_YEARS",
    "POOR_FIT_NOISE",
    "POOR_FIT_SHARE",
    "SynthResult",
    "UnitFits",
    "fit_all_units",
    "fit_weights",
    "gap_test",
    "kkt_violation",
    "placebo_inference_all",
    "placebo_ratios_all",
    "synthetic_control",
]

MIN_PRE_YEARS = 5
MIN_DONORS = 5
POOR_FIT_SHARE = 0.10
POOR_FIT_NOISE = 2.0
_EXACT_FIT_REL = 1e-9


# ---------------------------------------------------------------------------------------------
# Solver
# ---------------------------------------------------------------------------------------------


def _subproblem(A_S: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Minimise ||y - A_S z||^2 subject to sum(z) = 1 (no sign constraint).

    Null-space elimination: z_0 = 1 - sum(u), z_1.. = u, so the problem becomes the ordinary
    least squares ``(A_S[:, 1:] - a_0) u ~ y - a_0``; lstsq returns a minimum-norm solution
    when the columns are affinely dependent.
    """
    k = A_S.shape[1]
    if k == 1:
        return np.ones(1)
    a0 = A_S[:, :1]
    u = np.linalg.lstsq(A_S[:, 1:] - a0, y - a0[:, 0], rcond=None)[0]
    z = np.empty(k)
    z[0] = 1.0 - u.sum()
    z[1:] = u
    return z


def _inner(
    A: np.ndarray,
    y: np.ndarray,
    S: list[int],
    wS: np.ndarray,
    in_S: np.ndarray,
    j_new: int,
    zero_tol: float,
) -> tuple[list[int], np.ndarray, bool]:
    """Lawson-Hanson inner loop: move from feasible ``wS`` towards the optimum on ``S``.

    Steps to the boundary and drops donors whose weight reaches zero until the
    equality-constrained optimum on the remaining support is strictly positive. Returns the
    new support, weights and whether the entering donor ``j_new`` was dropped without any
    movement (a degenerate step). ``in_S`` is updated in place.
    """
    while True:
        z = _subproblem(A[:, S], y)
        neg = z <= zero_tol
        if not neg.any():
            return S, z, False
        d = wS - z
        ratios = np.full(len(S), np.inf)
        step = neg & (d > 0)
        ratios[step] = wS[step] / d[step]
        alpha = float(min(ratios.min(), 1.0))
        wS = wS + alpha * (z - wS)
        keep = wS > zero_tol
        if np.isfinite(ratios.min()):
            keep[int(np.argmin(ratios))] = False
        if not keep.any():  # cannot happen in exact arithmetic; stay feasible
            keep[int(np.argmax(wS))] = True
        dropped = [S[i] for i in range(len(S)) if not keep[i]]
        in_S[dropped] = False
        S = [S[i] for i in range(len(S)) if keep[i]]
        wS = wS[keep]
        wS = wS / wS.sum()
        if j_new in dropped and alpha == 0.0:
            return S, wS, True


def _solve_simplex_ls(
    A: np.ndarray,
    y: np.ndarray,
    start: np.ndarray | None = None,
    max_iter: int | None = None,
) -> np.ndarray:
    """Active-set solution of min ||y - A w||^2, w >= 0, sum(w) = 1 (see module docstring).

    ``start`` is an optional feasible warm start (J,), e.g. a previous solution with a donor
    removed and the rest renormalised.
    """
    T, J = A.shape
    if J == 1:
        return np.ones(1)
    col_sq = np.einsum("ij,ij->j", A, A)
    scale = max(float(y @ y), float(col_sq.max()), 1e-300)
    tol = 1e-11 * scale * max(T, 1)
    zero_tol = 1e-14
    if max_iter is None:
        max_iter = 20 * J + 100

    if start is None:
        # Best single donor: ||y - a_j||^2 = |y|^2 - 2 a_j'y + |a_j|^2.
        j0 = int(np.argmin(col_sq - 2.0 * (A.T @ y)))
        S = [j0]
        wS = np.ones(1)
    else:
        S = [int(j) for j in np.flatnonzero(start > 0)]
        wS = start[S].astype(float)
        wS = wS / wS.sum()

    in_S = np.zeros(J, dtype=bool)
    in_S[S] = True
    blocked = np.zeros(J, dtype=bool)
    if len(S) > 1:  # a warm start need not be optimal on its own support
        S, wS, _ = _inner(A, y, S, wS, in_S, -1, zero_tol)
    for _ in range(max_iter):
        r = A[:, S] @ wS - y
        g = A.T @ r
        lam = float(g[S].max())
        cand = np.where(in_S | blocked, np.inf, g)
        j_new = int(np.argmin(cand))
        if not cand[j_new] < lam - tol:
            break
        S.append(j_new)
        in_S[j_new] = True
        wS = np.append(wS, 0.0)
        S, wS, stuck = _inner(A, y, S, wS, in_S, j_new, zero_tol)
        if stuck:
            # Degenerate step: the entering donor cannot move; avoid cycling on it.
            blocked[j_new] = True
        else:
            blocked[:] = False
    w = np.zeros(J)
    w[S] = np.clip(wS, 0.0, None)
    return w / w.sum()


def _check_fit_inputs(target_pre: np.ndarray, donors_pre: np.ndarray) -> tuple[np.ndarray, ...]:
    y = np.asarray(target_pre, dtype=float)
    A = np.asarray(donors_pre, dtype=float)
    if y.ndim != 1:
        raise ValueError(f"target_pre must be a 1-d array (T,), got shape {y.shape}")
    if A.ndim != 2 or A.shape[0] != y.shape[0]:
        raise ValueError(
            f"donors_pre must be a 2-d array (T, J) with T = len(target_pre) = {y.shape[0]}, "
            f"got shape {A.shape}"
        )
    if A.shape[1] == 0:
        raise ValueError("donors_pre must have at least one donor column (J >= 1), got J = 0")
    if y.shape[0] == 0:
        raise ValueError("target_pre must have at least one pre-period value, got T = 0")
    if not (np.isfinite(y).all() and np.isfinite(A).all()):
        raise ValueError("target_pre and donors_pre must be finite (no NaN/inf)")
    return y, A


def fit_weights(target_pre: np.ndarray, donors_pre: np.ndarray) -> np.ndarray:
    """Synthetic-control weights with identity V (Abadie, Diamond & Hainmueller 2010).

    Solves ``min ||target_pre - donors_pre @ w||^2`` subject to ``w >= 0`` and ``sum(w) = 1``
    exactly with a primal active-set method (Lawson & Hanson 1974, adapted to the simplex).

    Parameters
    ----------
    target_pre : (T,) array, the treated unit's pre-period outcomes.
    donors_pre : (T, J) array, one column per donor.

    Returns
    -------
    (J,) array of weights, non-negative, summing to 1. Not necessarily unique when the
    target lies inside the donors' convex hull (compare losses or fitted series, not weights).
    """
    y, A = _check_fit_inputs(target_pre, donors_pre)
    return _solve_simplex_ls(A, y)


def kkt_violation(target_pre: np.ndarray, donors_pre: np.ndarray, w: np.ndarray) -> float:
    """Largest violation of the KKT conditions of the simplex-constrained least squares.

    With gradient ``g = A'(Aw - y)`` and multiplier ``lam = max_{w_j > 0} g_j``, optimality
    requires ``w >= 0``, ``sum(w) = 1``, ``g_j = lam`` on the support and ``g_j >= lam`` off it.
    Returns the largest of |sum(w) - 1|, max(-w), the spread of g on the support and
    max(lam - g_j) off it, the gradient terms divided by ``max(|y|^2, max_j |a_j|^2)``.
    """
    y, A = _check_fit_inputs(target_pre, donors_pre)
    w = np.asarray(w, dtype=float)
    g = A.T @ (A @ w - y)
    scale = max(float(y @ y), float(np.einsum("ij,ij->j", A, A).max()), 1e-300)
    support = w > 1e-12
    lam = float(g[support].max()) if support.any() else float(g.min())
    spread = float(lam - g[support].min()) if support.any() else 0.0
    off = float(max(0.0, (lam - g[~support]).max())) if (~support).any() else 0.0
    return max(abs(float(w.sum()) - 1.0), float(max(0.0, -w.min())), (spread + off) / scale)


# ---------------------------------------------------------------------------------------------
# Results and helpers
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SynthResult:
    """Result of :func:`synthetic_control`.

    Attributes
    ----------
    weights : donor weights (index = donor), summing to 1; empty when no fit was possible.
    pre_rmspe, post_rmspe : root mean squared prediction error (target - synthetic).
    rmspe_ratio : post_rmspe / pre_rmspe (inf for an exact pre-period fit, NaN for 0/0).
    gap_by_year : target - synthetic for every pre and post year.
    mean_post_gap : mean of the post-period gap (rate units).
    relative_post_gap : mean post gap / mean post-period synthetic value.
    p_value : placebo-in-space permutation p-value (NaN without placebos).
    n_placebos : number of placebo units in the permutation distribution (target excluded).
    placebo_ratios : post/pre RMSPE ratio of each placebo unit (index = unit).
    warning : '; '-separated warnings, '' when none.
    n_donors : size of the donor pool actually used.
    synthetic : synthetic series for every pre and post year.
    test : the follow-up count against the synthetic control's, tested against the donors'
        placebo gaps (:func:`gap_test`); None without counts or with fewer than 2 donors.
    fit_limit : pre_rmspe above this is a poor fit (module docstring, Conventions).
    """

    weights: pd.Series
    pre_rmspe: float
    post_rmspe: float
    rmspe_ratio: float
    gap_by_year: pd.Series
    mean_post_gap: float
    relative_post_gap: float
    p_value: float
    n_placebos: int
    placebo_ratios: pd.Series
    warning: str
    n_donors: int = 0
    synthetic: pd.Series | None = None
    test: PlaceboTest | None = None
    fit_limit: float = float("nan")


def _rmspe(gap: np.ndarray) -> float:
    return float(np.sqrt(np.mean(gap**2))) if gap.size else float("nan")


def _ratio(pre: float, post: float, y_pre: np.ndarray) -> tuple[float, float]:
    """Return (pre_rmspe with exact fits snapped to 0, post/pre ratio) per module conventions."""
    if pre <= _EXACT_FIT_REL * (1.0 + float(np.mean(np.abs(y_pre)))):
        pre = 0.0
        return pre, (float("inf") if post > 0 else float("nan"))
    return pre, post / pre


def _permutation_p(target_ratio: float, placebo: np.ndarray) -> tuple[float, int]:
    """p = #{units incl. target with ratio >= target's} / #units (NaN ratios left out)."""
    placebo = placebo[~np.isnan(placebo)]
    if np.isnan(target_ratio):
        return float("nan"), int(placebo.size)
    return float((1 + np.sum(placebo >= target_ratio)) / (1 + placebo.size)), int(placebo.size)


def _check_years(
    rates: pd.DataFrame, pre_years: Sequence[int], post_years: Sequence[int]
) -> tuple[list[int], list[int]]:
    if not isinstance(rates, pd.DataFrame):
        raise ValueError(f"rates must be a pandas DataFrame (index = year), got {type(rates)}")
    pre = [int(y) for y in pre_years]
    post = [int(y) for y in post_years]
    if not pre:
        raise ValueError("pre_years must contain at least one year")
    if not post:
        raise ValueError("post_years must contain at least one year")
    if set(pre) & set(post):
        raise ValueError(f"pre_years and post_years overlap: {sorted(set(pre) & set(post))}")
    if len(set(pre)) != len(pre) or len(set(post)) != len(post):
        raise ValueError("pre_years and post_years must not contain duplicate years")
    if not rates.index.is_unique:
        raise ValueError("rates must have one row per year (duplicate years in the index)")
    missing = [y for y in pre + post if y not in rates.index]
    if missing:
        raise ValueError(
            f"pre_years/post_years not in rates.index: {missing}; rates covers {list(rates.index)}"
        )
    return pre, post


def _complete_matrix(
    rates: pd.DataFrame, pre: list[int], post: list[int]
) -> tuple[np.ndarray, list[str], list[str]]:
    """(T_pre + T_post, N) float matrix of units with finite data in all years; dropped names."""
    sub = rates.loc[pre + post]
    if not all(pd.api.types.is_numeric_dtype(t) for t in sub.dtypes):
        sub = sub.apply(pd.to_numeric, errors="coerce")
    sub = sub.astype(float)  # a numeric frame (as the evaluation passes) skips the per-column parse
    ok = np.isfinite(sub.to_numpy()).all(axis=0)
    kept = [str(c) for c, k in zip(sub.columns, ok, strict=True) if k]
    dropped = [str(c) for c, k in zip(sub.columns, ok, strict=True) if not k]
    return sub.to_numpy()[:, ok], kept, dropped


def _nan_result(warning: str, years: list[int]) -> SynthResult:
    nan = float("nan")
    return SynthResult(
        weights=pd.Series(dtype=float),
        pre_rmspe=nan,
        post_rmspe=nan,
        rmspe_ratio=nan,
        gap_by_year=pd.Series(np.nan, index=pd.Index(years, name="year"), dtype=float),
        mean_post_gap=nan,
        relative_post_gap=nan,
        p_value=nan,
        n_placebos=0,
        placebo_ratios=pd.Series(dtype=float),
        warning=warning,
        n_donors=0,
        synthetic=pd.Series(np.nan, index=pd.Index(years, name="year"), dtype=float),
    )


# ---------------------------------------------------------------------------------------------
# All-units fits (shared by placebo inference and the many-targets path)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitFits:
    """Every unit fitted once against all the other units (see :func:`fit_all_units`).

    ``weights[i, j]`` is the weight of unit j in unit i's synthetic control (diagonal 0).
    ``data`` is the (T_pre + T_post, N) matrix, pre-period rows first.
    """

    units: tuple[str, ...]
    n_pre: int
    data: np.ndarray
    weights: np.ndarray
    pre_rmspe: np.ndarray
    post_rmspe: np.ndarray
    ratios: np.ndarray
    n_fits: int


def _fit_unit(
    X: np.ndarray, n_pre: int, i: int, allowed: np.ndarray, start: np.ndarray | None = None
) -> tuple[np.ndarray, float, float, float]:
    """Fit unit i on donor columns ``allowed``: (weights over allowed, pre, post, ratio)."""
    y_pre = X[:n_pre, i]
    w = _solve_simplex_ls(X[:n_pre, allowed], y_pre, start=start)
    synth = X[:, allowed] @ w
    gap = X[:, i] - synth
    pre, ratio = _ratio(_rmspe(gap[:n_pre]), _rmspe(gap[n_pre:]), y_pre)
    return w, pre, _rmspe(gap[n_pre:]), ratio


def _fit_all_matrix(X: np.ndarray, n_pre: int) -> tuple[np.ndarray, ...]:
    N = X.shape[1]
    W = np.zeros((N, N))
    pre = np.full(N, np.nan)
    post = np.full(N, np.nan)
    ratio = np.full(N, np.nan)
    if N < 2:
        return W, pre, post, ratio
    idx = np.arange(N)
    for i in range(N):
        allowed = idx != i
        w, pre[i], post[i], ratio[i] = _fit_unit(X, n_pre, i, allowed)
        W[i, allowed] = w
    return W, pre, post, ratio


def fit_all_units(
    rates: pd.DataFrame, pre_years: Sequence[int], post_years: Sequence[int]
) -> UnitFits:
    """Fit every unit with complete data once, all other complete units as donors.

    Units with a missing value in any pre or post year are left out (they are neither fitted
    nor used as donors).
    """
    pre, post = _check_years(rates, pre_years, post_years)
    X, units, _ = _complete_matrix(rates, pre, post)
    W, pre_r, post_r, ratio = _fit_all_matrix(X, len(pre))
    return UnitFits(
        units=tuple(units),
        n_pre=len(pre),
        data=X,
        weights=W,
        pre_rmspe=pre_r,
        post_rmspe=post_r,
        ratios=ratio,
        n_fits=len(units) if len(units) > 1 else 0,
    )


def placebo_ratios_all(
    rates: pd.DataFrame, pre_years: Sequence[int], post_years: Sequence[int]
) -> pd.Series:
    """Post/pre RMSPE ratio of every unit treated as the target, all other units as donors.

    Units with incomplete data in the pre/post years get NaN (and are not used as donors).
    For the placebo distribution of a particular target, use :func:`placebo_inference_all`,
    which removes the target from each placebo's donors, refitting only where needed.
    """
    fits = fit_all_units(rates, pre_years, post_years)
    out = pd.Series(np.nan, index=[str(c) for c in rates.columns], dtype=float, name="ratio")
    out.loc[list(fits.units)] = fits.ratios
    return out


def _placebo_ratios_for_target(fits: UnitFits, t: int) -> tuple[np.ndarray, int]:
    """Ratios of all units j != t with t removed from j's donors; reuse fits where w[j, t] = 0."""
    X, n_pre, W = fits.data, fits.n_pre, fits.weights
    N = X.shape[1]
    ratios = fits.ratios.copy()
    n_refit = 0
    idx = np.arange(N)
    for j in np.flatnonzero(W[:, t] > 0):
        if j == t:
            continue
        allowed = (idx != j) & (idx != t)
        if not allowed.any():
            ratios[j] = np.nan
            continue
        start = W[j, allowed]
        start = start / start.sum() if start.sum() > 0 else None
        _, _, _, ratios[j] = _fit_unit(X, n_pre, j, allowed, start=start)
        n_refit += 1
    ratios[t] = np.nan
    return ratios, n_refit


def placebo_inference_all(
    rates: pd.DataFrame,
    pre_years: Sequence[int],
    post_years: Sequence[int],
    fits: UnitFits | None = None,
) -> pd.DataFrame:
    """Placebo-in-space inference with every complete unit as the target in turn.

    Equivalent to :func:`synthetic_control` for each target (same donor pools, same
    placebo fits) but fits each unit once and refits unit j for target t only when j's
    all-others weights put positive weight on t (exact reuse otherwise; see module docstring).

    Returns a DataFrame indexed by unit with columns ``ratio`` (target's post/pre RMSPE ratio),
    ``p_value``, ``n_placebos`` and ``n_refits``. ``fits`` may be passed to reuse a previous
    :func:`fit_all_units` result for the same data.
    """
    if fits is None:
        fits = fit_all_units(rates, pre_years, post_years)
    N = len(fits.units)
    out = np.full((N, 4), np.nan)
    for t in range(N):
        placebo, n_refit = _placebo_ratios_for_target(fits, t)
        others = np.delete(placebo, t)
        p, n_pl = _permutation_p(float(fits.ratios[t]), others)
        out[t] = (fits.ratios[t], p, n_pl, n_refit)
    df = pd.DataFrame(
        out, index=list(fits.units), columns=["ratio", "p_value", "n_placebos", "n_refits"]
    )
    df["n_placebos"] = df["n_placebos"].astype(int)
    df["n_refits"] = df["n_refits"].astype(int)
    return df


# ---------------------------------------------------------------------------------------------
# Main entry point
# ---------------------------------------------------------------------------------------------


def synthetic_control(
    rates: pd.DataFrame,
    target: str,
    pre_years: Sequence[int],
    post_years: Sequence[int],
    placebo: bool = True,
    counts: pd.DataFrame | None = None,
    alpha: float = 0.05,
    shocks: PooledDispersion | None = None,
) -> SynthResult:
    """Synthetic control for ``target`` with placebo-in-space inference.

    Abadie, Diamond & Hainmueller (2010); Abadie (2021). Weights from :func:`fit_weights` on
    the pre-period rates (identity V). Inference: every donor in turn as the treated unit with
    the other donors (target excluded) as its pool; p = share of units, target included, with
    post/pre RMSPE ratio >= the target's (Abadie et al. 2010 §2.3).

    Parameters
    ----------
    rates : wide DataFrame, index = year, columns = units, values = rates per 100 000.
    target : column name of the treated unit.
    pre_years, post_years : years of the pre (fitting) and post (evaluation) periods.
    placebo : run the placebo permutation (J extra fits).
    counts : optional wide DataFrame like ``rates`` with the counts behind them: then
        ``test`` holds :func:`gap_test` at level ``alpha`` (the same placebo fits reused).
    shocks : the panel's pooled shock model, for the detectable change of ``test``
        (:func:`gap_test`).

    Donors are all other columns with finite values in every pre and post year; the others
    are dropped and named in ``warning``. Degenerate data (target with missing values, no
    donors) give a result with NaN fields and a ``warning``; malformed arguments raise
    ``ValueError``.
    """
    pre, post = _check_years(rates, pre_years, post_years)
    years = pre + post
    cols = [str(c) for c in rates.columns]
    if len(set(cols)) != len(cols):
        raise ValueError("rates must have unique column (unit) names")
    target = str(target)
    if target not in cols:
        raise ValueError(f"target {target!r} is not a column of rates (units: {cols[:10]}...)")
    rates = rates.set_axis(cols, axis=1)
    y_all = pd.to_numeric(rates.loc[years, target], errors="coerce").astype(float).to_numpy()
    if not np.isfinite(y_all).all():
        bad = [yr for yr, v in zip(years, y_all, strict=True) if not np.isfinite(v)]
        return _nan_result(
            f"target {target!r} has missing values in years {bad}: no synthetic control", years
        )
    X, units, dropped = _complete_matrix(rates.drop(columns=[target]), pre, post)
    warnings: list[str] = []
    if dropped:
        warnings.append(
            f"{len(dropped)} donor(s) dropped for missing data in pre/post years: "
            + ", ".join(dropped[:20])
            + (" ..." if len(dropped) > 20 else "")
        )
    J = len(units)
    if J == 0:
        return _nan_result("; ".join([*warnings, "empty donor pool: no synthetic control"]), years)
    if len(pre) < MIN_PRE_YEARS:
        warnings.append(
            f"only {len(pre)} pre-period year(s) (< {MIN_PRE_YEARS}): the fit can match noise"
        )
    if J < MIN_DONORS:
        warnings.append(
            f"only {J} donor(s) (< {MIN_DONORS}): the permutation p-value cannot be below "
            f"1/(J+1) = {1 / (J + 1):.3f}"
        )
    n_pre = len(pre)
    y_pre = y_all[:n_pre]
    w = _solve_simplex_ls(X[:n_pre], y_pre)
    synth = X @ w
    gap = y_all - synth
    post_rmspe = _rmspe(gap[n_pre:])
    pre_rmspe, ratio = _ratio(_rmspe(gap[:n_pre]), post_rmspe, y_pre)
    pre_mean = float(np.mean(y_pre))
    fit_limit = POOR_FIT_SHARE * abs(pre_mean)
    if counts is not None:
        mean_count = float(counts.loc[pre, target].mean())
        fit_limit = max(fit_limit, POOR_FIT_NOISE * abs(pre_mean) / np.sqrt(max(mean_count, 1.0)))
    if pre_rmspe == 0.0:
        warnings.append(
            "exact pre-period fit (target inside the donors' convex hull, weights not unique): "
            "the post/pre RMSPE ratio is "
            + ("infinite" if post_rmspe > 0 else "undefined (0/0)")
            + "; consider a smaller, more similar donor pool (Abadie 2021)"
        )
    elif pre_rmspe > fit_limit:
        warnings.append(
            f"poor pre-period fit: pre_rmspe {pre_rmspe:.3g} > {fit_limit / abs(pre_mean):.0%} "
            f"of the target's pre-period mean {pre_mean:.3g}; the synthetic control is not "
            "credible"
        )
    mean_post_gap = float(np.mean(gap[n_pre:]))
    synth_post_mean = float(np.mean(synth[n_pre:]))
    relative = mean_post_gap / synth_post_mean if synth_post_mean != 0 else float("nan")
    if synth_post_mean == 0:
        warnings.append("synthetic post-period mean is 0: relative_post_gap undefined")

    p_value = float("nan")
    n_placebos = 0
    placebo_ratios = pd.Series(dtype=float)
    test = None
    if placebo:
        if J < 2:
            warnings.append("fewer than 2 donors: no placebo fits possible, p_value is NaN")
            placebo_ratios = pd.Series(np.nan, index=units, dtype=float)
        else:
            W, _, _, pr = _fit_all_matrix(X, n_pre)
            placebo_ratios = pd.Series(pr, index=units, dtype=float)
            if counts is not None:
                test = gap_test(rates, counts, target, units, pre, post, w, W, alpha, shocks)
            p_value, n_placebos = _permutation_p(ratio, pr)
            if n_placebos < J:
                warnings.append(
                    f"{J - n_placebos} placebo(s) with undefined (0/0) RMSPE ratio left out"
                )
        if np.isnan(ratio):
            warnings.append("target RMSPE ratio undefined (0/0): p_value is NaN")
    year_index = pd.Index(years, name="year")
    return SynthResult(
        weights=pd.Series(w, index=pd.Index(units, name="unit"), name="weight"),
        pre_rmspe=pre_rmspe,
        post_rmspe=post_rmspe,
        rmspe_ratio=ratio,
        gap_by_year=pd.Series(gap, index=year_index, name="gap"),
        mean_post_gap=mean_post_gap,
        relative_post_gap=relative,
        p_value=p_value,
        n_placebos=n_placebos,
        placebo_ratios=placebo_ratios,
        warning="; ".join(warnings),
        n_donors=J,
        synthetic=pd.Series(synth, index=year_index, name="synthetic"),
        test=test,
        fit_limit=fit_limit,
    )


def gap_test(
    rates: pd.DataFrame,
    counts: pd.DataFrame,
    target: str,
    donors: list[str],
    pre: list[int],
    post: list[int],
    w: np.ndarray,
    W: np.ndarray,
    alpha: float,
    shocks: PooledDispersion | None = None,
) -> PlaceboTest:
    """The target's follow-up count against its synthetic control's, tested on placebo gaps.

    For a unit u with weights over its donor pool, the counterfactual follow-up count is
    ``sum over post years of synthetic rate x population / 100 000`` (population = count /
    rate x 100 000) and the gap is ``log((observed + 1/2) / (counterfactual + 1/2))``; its
    Poisson variance is that of the unit's own baseline (the fit follows it) and follow-up
    counts plus that of the counterfactual (the weighted donors' follow-up counts). The
    target's gap is tested against the donors' placebo gaps (each donor fitted on the other
    donors, ``W``, the target never among them) with
    :func:`~medlofte_analysis.stats.placebo_inference.placebo_t_test`: the statistic is the
    size of the follow-up gap, not the post/pre RMSPE ratio, so a close pre-period fit (or an
    interpolating one) cannot make it look significant (the problem Abadie 2021 §7 warns of).
    For the detectable change each placebo is described, like the target, by its baseline
    count, its counterfactual follow-up count and its synthetic control's Poisson variance
    (:class:`~medlofte_analysis.stats.placebo_inference.PlaceboCounts`). With ``shocks`` the
    truth for the detectable change is steadied by the pooled model's prediction: the
    synthetic control follows the target's pre-period level, so its gap keeps the shocks of
    the change from the pre-period mean to the follow-up, the target's own and its synthetic
    control's (the donors weighted by their shares of its follow-up count;
    :func:`~medlofte_analysis.stats.placebo_inference.shock_prior`).
    """
    years = pre + post
    n_pre = len(pre)
    c = counts.loc[years, [target, *donors]].to_numpy(dtype=float)
    r = rates.loc[years, [target, *donors]].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        population = np.where(r > 0, c / r * 1e5, np.nan)
    # A unit-year with rate 0 (count 0) takes the unit's population from its other years
    # (NaN for a unit without events in any year: it is left out below).
    known = np.isfinite(population)
    with np.errstate(divide="ignore", invalid="ignore"):
        fill = np.where(known, population, 0.0).sum(axis=0) / known.sum(axis=0)
    population = np.where(known, population, fill)
    X = r[:, 1:]
    synthetic = np.column_stack([X @ w, X @ W.T])  # target first, then every donor
    expected = (synthetic[n_pre:] * population[n_pre:] / 1e5).sum(axis=0)
    pre_count = c[:n_pre].sum(axis=0)
    post_count = c[n_pre:].sum(axis=0)
    gap = np.log((post_count + HALF) / (expected + HALF))
    # Poisson noise of the counterfactual itself: Var(rate) = rate x 100 000 / population for
    # each donor-year, weighted by the squared weights (a synthetic control leaning on one
    # small donor is noisy).
    weights2 = np.vstack([w, W]) ** 2  # (1 + J, J): target's weights, then each placebo's
    with np.errstate(divide="ignore", invalid="ignore"):
        donor_var = np.nan_to_num(X[n_pre:] * 1e5 / population[n_pre:, 1:])  # (years, J)
    synthetic_var = ((donor_var @ weights2.T) * (population[n_pre:] / 1e5) ** 2).sum(axis=0)
    v_synthetic = synthetic_var / (expected + HALF) ** 2
    v = log_poisson_variance(pre_count, post_count) + v_synthetic
    usable = np.isfinite(gap[1:])  # a donor with no events in any year has no population
    return placebo_t_test(
        float(gap[0]),
        float(v[0]),
        gap[1:][usable],
        v[1:][usable],
        alpha,
        pre_count[0],
        expected[0],
        float(v_synthetic[0]),
        PlaceboCounts(pre_count[1:][usable], expected[1:][usable], v_synthetic[1:][usable]),
        prior=shock_prior(shocks, pre, post, w * X[n_pre:].sum(axis=0)),
        placebos_noisier=True,
    )
