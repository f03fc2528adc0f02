"""Year-to-year overdispersion of counts, pooled across a panel of municipalities.

One municipality's few years cannot tell its extra-Poisson variation apart from noise, so
the variation is pooled across the panel (the comparison units, and the target itself, over
the pre-period): "borrowing strength" in the sense of empirical-Bayes pooling of a variance
component. The model is the lognormal-Poisson with autocorrelated shocks (Zeger 1988,
*Biometrika* 75, 621-629)::

    y_it ~ Poisson(mu_it * exp(u_it)),  Var(u_it) = sigma2,  Corr(u_it, u_is) = rho^|t-s|
    Var(y_it) = mu_it + kappa * mu_it^2,  kappa = exp(sigma2) - 1

Per unit the mean ``mu_it`` is the exposure times a constant rate (``trend=False``) or a
log-linear trend in the year (``trend=True``), fitted by Poisson maximum likelihood (IRLS).
``kappa`` and ``rho`` come from method-of-moments equations on the residuals that account
exactly (to first order) for the fitted mean, the Poisson noise and the autocorrelation, so
short series do not bias them the way a plain lag-1 autocorrelation is biased
(``E[rho_hat] ~ rho - (1 + 3 rho)/T``, Marriott & Pope 1954): see :func:`pooled_dispersion`.
``rho`` is searched in [0, 0.9].

``df`` is the pooled residual degrees of freedom ``sum_i (T_i - p)``, used for the t/F
allowance of the methods that plug the estimate in.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "BOOTSTRAP_DRAWS",
    "MIN_BOOTSTRAP_MEDIAN",
    "bootstrap_contrast_variances",
    "median_unbiased_spread",
    "common_shock_share",
    "PooledDispersion",
    "contrast_shock_df",
    "contrast_variance",
    "gap_shock_variance",
    "pooled_dispersion",
    "shock_correlation",
    "variance_scales",
]

MAX_RHO = 0.9


@dataclass(frozen=True)
class PooledDispersion:
    """Pooled shock variance ``sigma2`` (log scale), lag-1 autocorrelation ``rho``, pooled
    residual df and the number of units used; ``note`` says what was (not) estimable."""

    sigma2: float
    rho: float
    df: int
    n_units: int
    note: str = ""
    leave_one_out: tuple[tuple[float, float], ...] = ()
    #: The units fitted with a constant rate (the panel's grid of years and each unit's
    #: counts, exposures and years), for :func:`bootstrap_contrast_variances`.
    fitted: tuple = field(default=(), compare=False, repr=False)

    @property
    def kappa(self) -> float:
        """``exp(sigma2) - 1``: the NB2-type coefficient, ``Var(y) = mu + kappa mu^2``."""
        return math.expm1(self.sigma2)


def shock_correlation(years: np.ndarray, rho: float) -> np.ndarray:
    """AR(1) correlation matrix ``rho^|t - s|`` of the shocks in the given years."""
    years = np.asarray(years, dtype=float)
    return rho ** np.abs(years[:, None] - years[None, :])


def contrast_variance(sigma2: float, rho: float, years: np.ndarray, weights: np.ndarray) -> float:
    """Shock variance ``sigma2 w' R(rho) w`` of the contrast ``sum_t w_t u_t`` of the yearly
    log-scale shocks (e.g. follow-up minus baseline period, exposure-weighted)."""
    weights = np.asarray(weights, dtype=float)
    return float(sigma2 * (weights @ shock_correlation(years, rho) @ weights))


@functools.lru_cache(maxsize=256)
def variance_scales(df: float, points: int) -> np.ndarray:
    """``chi2_df / df`` at ``points`` equally likely points (the middles of equal-probability
    strata): how an estimated variance with ``df`` degrees of freedom varies in repeated
    samples, for power averaged over it as in the power of Student's t-test. Shared; do not
    modify the result."""
    return stats.chi2.ppf((np.arange(points) + 0.5) / points, df) / df


def _fit_unit(y: np.ndarray, e: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Poisson MLE of log E[y] = x b + log e by IRLS; returns the fitted means."""
    rate = max(y.sum(), 0.5) / e.sum()
    if x.shape[1] == 1:
        return e * rate
    beta = np.zeros(x.shape[1])
    beta[0] = math.log(rate)
    for _ in range(25):
        mu = e * np.exp(x @ beta)
        grad = x.T @ (y - mu)
        hess = x.T @ (x * mu[:, None])
        step = np.linalg.solve(hess, grad)
        beta += step
        if np.max(np.abs(step)) < 1e-10:
            break
    return e * np.exp(x @ beta)


def _unit_series(
    frame: pd.DataFrame, years: tuple[int, ...] | list[int], p: int
) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray, np.ndarray]]]:
    """The panel's grid of years and each usable unit's (counts, exposures, years) in year
    order, units in sorted order (see :func:`pooled_dispersion` for "usable")."""
    rows = frame.loc[frame["year"].isin(list(years))].dropna(subset=["count", "exposure"])
    grid = np.array(sorted(set(rows["year"].astype(int))), dtype=float)
    # Each unit's rows in year order, units in sorted order (as groupby(sort=True) on the
    # year-sorted rows gives them), split with numpy instead of a pandas group per unit.
    codes, _ = pd.factorize(rows["unit"], sort=True)
    years_all = rows["year"].to_numpy(dtype=float)
    order = np.lexsort((years_all, codes))
    order = order[codes[order] >= 0]  # groupby drops a missing unit
    counts_all = rows["count"].to_numpy(dtype=float)[order]
    exposures_all = rows["exposure"].to_numpy(dtype=float)[order]
    years_all, codes = years_all[order], codes[order]
    starts = np.flatnonzero(np.diff(codes, prepend=-1))
    series = [
        (y, e, t)
        for y, e, t in zip(
            np.split(counts_all, starts[1:]),
            np.split(exposures_all, starts[1:]),
            np.split(years_all, starts[1:]),
            strict=True,
        )
        if y.size >= p + 2 and y.sum() > 0 and not np.any(e <= 0)
    ]
    return grid, series


@functools.lru_cache(maxsize=8192)
def _unit_moments(y: bytes, e: bytes, t: bytes, grid: bytes, p: int) -> dict:
    """One unit's contribution to :func:`pooled_dispersion` (counts ``y``, exposures ``e``
    in years ``t``, placed on the panel's ``grid`` of years; float64 bytes). Cached on these
    exact inputs: the national evaluation meets each municipality's series in the panel of
    every municipality that compares with it. The result is shared: never modify it."""
    y, e, t, grid_years = (np.frombuffer(b, dtype=float) for b in (y, e, t, grid))
    position = {int(v): k for k, v in enumerate(grid_years)}
    x = np.column_stack([np.ones_like(t), t - t.mean()])[:, :p]
    mu = _fit_unit(y, e, x)
    # y - mu_hat ~ M (y - mu), M = I - D X (X'DX)^-1 X' (Poisson ML, log link)
    m_proj = np.eye(y.size) - (x * mu[:, None]) @ np.linalg.solve(x.T @ (x * mu[:, None]), x.T)
    embed = np.zeros((grid_years.size, y.size))
    embed[[position[int(v)] for v in t], np.arange(y.size)] = 1.0
    resid = embed @ (y - mu)
    a = embed @ m_proj @ np.diag(mu) @ embed.T  # A = E M D E'
    c0 = embed @ m_proj @ np.diag(mu) @ m_proj.T @ embed.T  # Poisson part M D M'
    df = y.size - p
    return {
        "df": df,
        "m": float(mu.mean()),
        "phi": float(np.sum((y - mu) ** 2 / mu) / df),
        "s2": float(resid @ resid),
        "s1": float(resid[1:] @ resid[:-1]),
        **_moment_matrices(a, c0),
    }


def _moment_matrices(a: np.ndarray, c0: np.ndarray) -> dict:
    """The expected-moment terms of a unit from ``A = E M D E'`` and ``C0 = E M D M' E'``:
    traces of the Poisson part (squares, lag-1 products) and the shock part's matrices."""
    return {
        "t0": float(np.trace(c0)),
        "l0": float(np.trace(c0[1:, :-1])),
        "ga": a.T @ a,
        "h": a[1:, :].T @ a[:-1, :],
    }


def pooled_dispersion(
    frame: pd.DataFrame,
    years: tuple[int, ...] | list[int],
    *,
    trend: bool = False,
    jackknife: bool = False,
) -> PooledDispersion:
    """Pool the shock variance and autocorrelation over the units of ``frame``.

    ``frame`` has columns ``unit, year, count, exposure`` (long); only ``years`` are used,
    rows with a missing count or exposure are dropped. Units need ``p + 2`` usable years
    (``p`` = 1 for a constant rate, 2 with a trend) and a positive total. With no usable unit
    the result has ``sigma2 = nan`` and a note.

    Moments (exact to first order in the fitted mean, the Poisson noise and the
    autocorrelation, so short series do not bias them the way they bias a lag-1
    autocorrelation; the search over ``rho >= 0`` still errs upwards, i.e. conservatively,
    when the counts are small):
    unit i's residuals are ``r = M (y - mu)``, ``M = I - D X (X'DX)^-1 X'``, with
    ``E[r r'] = M D M' + kappa M D R(rho) D M'`` (``D = diag(mu)``). Matching the weighted sums
    over units of ``sum_t r_t^2`` and of the lag-1 products ``sum_t r_t r_t-1`` gives
    ``kappa(rho)`` from the first and ``rho`` on a grid of 0.01 from the second; weights
    ``1 / (1 + kappa0 m_i)^2`` (information on kappa over its variance; ``m_i`` the unit's
    mean count, ``kappa0`` from a first Pearson-based pass).
    """
    p = 2 if trend else 1
    grid, series = _unit_series(frame, years, p)
    units = [
        _unit_moments(y.tobytes(), e.tobytes(), t.tobytes(), grid.tobytes(), p)
        for y, e, t in series
    ]
    if not units:
        return PooledDispersion(math.nan, 0.0, 0, 0, "no unit with enough years to pool")
    df = sum(u["df"] for u in units)
    sigma2, rho = _pool(units, grid)
    leave_one_out: tuple[tuple[float, float], ...] = ()
    if jackknife and len(units) >= 3:
        leave_one_out = tuple(_pool(units[:i] + units[i + 1 :], grid) for i in range(len(units)))
    return PooledDispersion(
        sigma2=sigma2, rho=rho, df=int(df), n_units=len(units), note="",
        leave_one_out=leave_one_out, fitted=() if trend else (grid, tuple(series)),
    )  # fmt: skip


def _pool(units: list[dict], grid: np.ndarray) -> tuple[float, float]:
    """``(sigma2, rho)`` from the units' moments (:func:`pooled_dispersion`)."""
    m = np.array([u["m"] for u in units])
    kappa0 = max(0.0, float(np.mean((np.array([u["phi"] for u in units]) - 1.0) / m)))
    w = 1.0 / (1.0 + kappa0 * m) ** 2
    w /= w.sum()
    s2 = float(sum(wi * u["s2"] for wi, u in zip(w, units, strict=True)))
    s1 = float(sum(wi * u["s1"] for wi, u in zip(w, units, strict=True)))
    t0 = float(sum(wi * u["t0"] for wi, u in zip(w, units, strict=True)))
    l0 = float(sum(wi * u["l0"] for wi, u in zip(w, units, strict=True)))
    ga = sum(wi * u["ga"] for wi, u in zip(w, units, strict=True))
    h = sum(wi * u["h"] for wi, u in zip(w, units, strict=True))
    sigma2, rho = _solve(
        np.array([s2]), np.array([s1]), np.array([t0]), np.array([l0]), ga[None], h[None], grid
    )
    return float(sigma2[0]), float(rho[0])


def _solve(
    s2: np.ndarray,
    s1: np.ndarray,
    t0: np.ndarray,
    l0: np.ndarray,
    ga: np.ndarray,
    h: np.ndarray,
    grid: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """``(sigma2, rho)`` from pooled moments, one per row (``ga``, ``h``: (rows, G, G))."""
    corr = _RHOS[:, None, None] ** np.abs(grid[:, None] - grid[None, :])[None, :, :]
    return _solve_sums(
        s2, s1, t0, l0, np.einsum("rgh,bgh->br", corr, ga), np.einsum("rgh,bgh->br", corr, h)
    )


def _solve_sums(
    s2: np.ndarray,
    s1: np.ndarray,
    t0: np.ndarray,
    l0: np.ndarray,
    ga_r: np.ndarray,
    h_r: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The grid search over rho, every rho at once (``ga_r``, ``h_r``: (rows, rhos), the sums
    of ``rho^|t - s|`` times the pooled matrices): ``kappa(rho)`` from the squares, the
    first rho with the smallest miss of the lag-1 products wins (NaN misses never do; none
    finite -> rho = kappa = 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = (s2 - t0)[:, None] / ga_r
        kappas = np.where(ratio > 0.0, ratio, 0.0)
        misses = np.abs((s1 - l0)[:, None] - kappas * h_r)
    misses = np.where(misses < math.inf, misses, math.inf)
    best = np.argmin(misses, axis=1)
    rows = np.arange(best.size)
    found = misses[rows, best] < math.inf
    kappa = np.where(found, kappas[rows, best], 0.0)
    rho = np.where(found & (kappa != 0.0), _RHOS[best], 0.0)
    return np.log1p(kappa), rho


_RHOS = np.arange(0.0, MAX_RHO + 1e-9, 0.01)


def contrast_shock_df(
    pooled: PooledDispersion, years: np.ndarray, weights: np.ndarray, max_df: float
) -> float:
    """Degrees of freedom of the estimated shock variance of a contrast ``sum_t w_t u_t``.

    ``omega = sigma2 w' R(rho) w`` is estimated with ``sigma2`` and ``rho`` together, and
    ``rho`` from a short series is noisy: the estimate varies far more than ``chi2_df / df``
    with the pooled residual df (coefficient of variation 0.3-0.7 instead of 0.2-0.25 on
    simulated panels shaped like the Dalarna data). The variance of ``omega`` is estimated
    by the leave-one-unit-out jackknife (Efron & Stein 1981; Shao & Tu 1995, ch. 2) over the
    units of :func:`pooled_dispersion` (``jackknife=True``), and turned into
    Satterthwaite's ``nu = 2 omega^2 / Var(omega)`` (Satterthwaite 1946), kept within
    ``[2, max_df]``. Without jackknife values (fewer than 3 units) ``max_df``.
    """
    if not pooled.leave_one_out or not pooled.sigma2 > 0:
        return float(max_df)
    values = np.array([contrast_variance(s2, r, years, weights) for s2, r in pooled.leave_one_out])
    estimate = contrast_variance(pooled.sigma2, pooled.rho, years, weights)
    return _jackknife_df(estimate, values, max_df)


def _jackknife_df(estimate: float, leave_one_out: np.ndarray, max_df: float) -> float:
    """Satterthwaite's ``2 estimate^2 / Var`` with the leave-one-unit-out jackknife variance
    ``(n - 1) / n sum (value_i - mean)^2``, kept within ``[2, max_df]``; ``max_df`` when the
    jackknife shows no variation."""
    n = leave_one_out.size
    variance = (n - 1) / n * float(np.sum((leave_one_out - leave_one_out.mean()) ** 2))
    if variance <= 0:
        return float(max_df)
    return float(np.clip(2.0 * estimate**2 / variance, 2.0, max_df))


def gap_shock_variance(
    pooled: PooledDispersion,
    baseline_years: np.ndarray,
    followup_years: np.ndarray,
    max_df: float,
    median_unbiased: bool = False,
) -> tuple[float, float]:
    """The shock variance of one unit's change from baseline to follow-up that a comparison
    group does not remove, predicted by the pooled model, and its degrees of freedom.

    A comparison group (difference-in-differences, synthetic control) removes the year
    shocks common to every unit, so the part of a unit's change it leaves is
    ``(1 - lambda) sigma2 w' R(rho) w``: the unit's own share of the shocks
    (:func:`common_shock_share`) over the contrast ``w`` of the follow-up mean less the
    baseline mean (:func:`contrast_variance`). Its degrees of freedom are Satterthwaite's
    ``2 estimate^2 / Var`` with the variance from the leave-one-unit-out jackknife of the
    whole quantity, ``lambda`` included, as in :func:`contrast_shock_df`; kept within
    ``[2, max_df]``. ``(nan, 0)`` without a constant-rate fit or shocks; ``max_df`` without
    jackknife values.

    With ``median_unbiased`` the estimate is divided by the median of its parametric
    bootstrap over itself (:func:`bootstrap_gap_variances`, ``lambda`` re-estimated on every
    drawn panel), as the before–after test's contrast variance is
    (:func:`median_unbiased_spread`; not when that median is below
    :data:`MIN_BOOTSTRAP_MEDIAN`). Why: the product of three estimates is skewed; on
    simulated panels shaped like the Dalarna data (14 comparison units, 100 events a year,
    6 + 2 years; true 0.0224) its median was 0.0192 (mean 0.0207), 0.0216 median-unbiased
    (:func:`~medlofte_analysis.stats.placebo_inference.shock_prior` says which methods use
    it). Only when the fit is inside its parameter space (``0 < lambda < 0.95`` and
    ``0 < rho < MAX_RHO``): at a bound the parametric bootstrap does not reproduce the
    estimator's distribution (Andrews 2000, *Econometrica* 68:399-405; redrawn estimates can
    move away from the bound only), and at 5 events a year, where four fits in five
    estimate ``lambda = 0`` or ``rho`` at 0 or 0.9, it inflated the prediction (14 units,
    6 + 1 years; true 0.0274: median 0.0327 plain, 0.0389 corrected at every fit, 0.0331
    at interior fits only; at 100 events and 6 + 2 years 0.0216 against 0.0217 at every fit).

    At a bound the degrees of freedom are :data:`MIN_BOUND_DF`, not the jackknife's: the
    jackknife too needs an estimator smooth at the truth (Shao & Tu 1995, ch. 2), and a fit
    on its bound mostly stays there when one unit is left out, so the leave-one-out values
    vary too little and the prediction looks surer than it is. On simulated panels (7 units,
    100 events a year, 6 + 2 years, 600 panels) the fits with ``rho`` at 0 (15 %) predict a
    median of 0.46 times the target's true shock variance, yet their jackknife df had a median
    of 13.9 (88 % of their leave-one-out fits at 0 too) against 7.4 at interior fits (median
    prediction 0.99 times the truth); at ``rho`` = 0.9, 1.42 times with df 8.0.
    """
    if not pooled.fitted or len(pooled.fitted[1]) < 2 or not pooled.sigma2 > 0:
        return math.nan, 0.0
    sigma2s, rhos, shares = _jackknife_shares(pooled)
    values = (1.0 - shares) * sigma2s * _gap_contrasts(baseline_years, followup_years, rhos)
    estimate = float(values[0])
    interior = _interior(float(shares[0]), float(rhos[0]))
    if not interior:
        df = min(MIN_BOUND_DF, float(max_df))
    elif not pooled.leave_one_out:
        df = float(max_df)
    else:
        df = _jackknife_df(estimate, values[1:], max_df)
    if median_unbiased and estimate > 0 and interior:
        drawn = bootstrap_gap_variances(pooled, baseline_years, followup_years) / estimate
        found = median_unbiased_spread(drawn, 1)
        if found is not None:
            estimate /= found[0]
    return estimate, df


#: Degrees of freedom of the pooled model's prediction when its fit lies on a bound of its
#: parameter space (:func:`gap_shock_variance`): the floor of :func:`_jackknife_df`, so the
#: placebos' estimate carries the weight there.
MIN_BOUND_DF = 2.0


def _interior(share: float, rho: float) -> bool:
    """Whether a fit's common share and autocorrelation lie strictly inside their bounds
    (``(0, 0.95)`` and ``(0, MAX_RHO)``): where the bootstrap's median bias is trusted."""
    return 0.0 < share < _MAX_COMMON_SHARE and 0.0 < rho < MAX_RHO


#: The last pooled fit whose common shares were jackknifed, and its result: the
#: difference-in-differences and the synthetic control of one indicator share the fit.
_LAST_SHARES: list = []


def _jackknife_shares(pooled: PooledDispersion) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``sigma2``, ``rho`` and the common share of ``pooled`` and of each leave-one-unit-out
    fit (first row: all units); remembered for the same ``pooled`` object."""
    if _LAST_SHARES and _LAST_SHARES[0] is pooled:
        return _LAST_SHARES[1]
    grid, series = pooled.fitted
    fits = [(float(pooled.sigma2), float(pooled.rho)), *pooled.leave_one_out]
    sigma2s = np.array([max(s2, 0.0) for s2, _ in fits])
    rhos = np.array([r for _, r in fits])
    left_out = [None, *range(len(pooled.leave_one_out))]
    result = sigma2s, rhos, _common_shares(grid, series, sigma2s, rhos, left_out)
    _LAST_SHARES[:] = [pooled, result]
    return result


#: Draws of the parametric bootstrap of the contrast's shock variance, and its seed (fixed:
#: the same panel always gives the same detectable change).
BOOTSTRAP_DRAWS = 128
_BOOTSTRAP_SEED = 20261127


def bootstrap_contrast_variances(
    pooled: PooledDispersion,
    contrast_years: np.ndarray,
    weights: np.ndarray,
    draws: int = BOOTSTRAP_DRAWS,
) -> np.ndarray:
    """Parametric bootstrap of the estimated shock variance of a contrast (constant rate).

    Panels are drawn from the fit of :func:`pooled_dispersion` (``trend=False``): every
    usable unit keeps its exposures and fitted rate, its counts are
    ``Poisson(mu exp(u - sigma2/2))`` with AR(1) shocks ``u`` (``sigma2``, ``rho`` of
    ``pooled``), a share ``lambda`` of them common to every unit
    (:func:`common_shock_share`: ``u_it = sqrt(lambda) c_t + sqrt(1 - lambda) a_it``, ``c``
    and ``a`` AR(1) with the same ``rho``, so each unit's own law is the fitted one), and the
    pooled estimate is recomputed on every draw exactly as
    :func:`pooled_dispersion` computes it (Efron & Tibshirani 1993, *An Introduction to the
    Bootstrap*, ch. 6). Returns the ``draws`` estimates of ``sigma2 w' R(rho) w`` for the
    contrast ``weights`` over ``contrast_years`` (:func:`contrast_variance`): how the estimate
    varies in repeated samples, with its skew and its bias, when the truth is the estimate.
    All NaN without a constant-rate fit.

    Why the common share: year shocks shared by every unit (a year of more crime
    everywhere) do not average out over the units, so with them the estimate is further
    below the truth than independent units make it look. On panels shaped like the Dalarna
    data (7 comparison units, 100 events a year, 6 + 2 years) its median is 0.89 of the
    true contrast variance; with independent units the bootstrap corrected it only to 0.93
    (without year shocks the estimate's median is 0.97 and corrected 1.04), and the change
    reported as detectable was too small; with the common share it is corrected to 0.977.

    With a constant rate the fit is linear in the counts (``r = y - e sum(y) / sum(e)``) and
    the moment matrices scale with the fitted rate, so every draw is a few array operations;
    seeded, so the result is the same for the same panel.
    """
    if not pooled.fitted or not pooled.fitted[1]:
        return np.full(draws, math.nan)
    sigma2s, rhos = _bootstrap_draws(pooled, draws)
    lags = np.abs(np.subtract.outer(contrast_years, contrast_years))
    return sigma2s * np.einsum("g,bgh,h->b", weights, rhos[:, None, None] ** lags[None], weights)


#: The last pooled fit bootstrapped and its draws: the before–after test and the trend
#: projection of one indicator share the pooled fit, so the panels are drawn once.
_LAST_DRAWS: list = []


def _bootstrap_draws(pooled: PooledDispersion, draws: int) -> tuple[np.ndarray, np.ndarray]:
    """``(sigma2*, rho*)`` of ``draws`` bootstrap panels of ``pooled`` (see
    :func:`bootstrap_contrast_variances`)."""
    _, sigma2s, rhos = _bootstrap_panels(pooled, draws)
    return sigma2s, rhos


def _bootstrap_panels(
    pooled: PooledDispersion, draws: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The drawn counts of ``draws`` bootstrap panels of ``pooled`` and their ``(sigma2*,
    rho*)``; remembered for the same ``pooled`` object."""
    if _LAST_DRAWS and _LAST_DRAWS[0] is pooled and _LAST_DRAWS[1] == draws:
        return _LAST_DRAWS[2]
    grid, series = pooled.fitted
    sigma2 = max(float(pooled.sigma2), 0.0) if math.isfinite(pooled.sigma2) else 0.0
    common = common_shock_share(grid, series, sigma2, pooled.rho)
    counts = _bootstrap_counts(grid, series, sigma2, pooled.rho, common, draws)
    result = (counts, *_pooled_draws(grid, series, counts))
    _LAST_DRAWS[:] = [pooled, draws, result]
    return result


def bootstrap_gap_variances(
    pooled: PooledDispersion,
    baseline_years: np.ndarray,
    followup_years: np.ndarray,
    draws: int = BOOTSTRAP_DRAWS,
) -> np.ndarray:
    """The parametric bootstrap of :func:`bootstrap_contrast_variances` (the same panels)
    for the part of a unit's change that a comparison group leaves,
    ``(1 - lambda) sigma2 w' R(rho) w`` (:func:`gap_shock_variance`): on every drawn panel
    ``lambda`` is re-estimated as well, exactly as :func:`common_shock_share` estimates it.
    All NaN without a constant-rate fit."""
    if not pooled.fitted or not pooled.fitted[1]:
        return np.full(draws, math.nan)
    grid, series = pooled.fitted
    counts, sigma2s, rhos = _bootstrap_panels(pooled, draws)
    sigma2s = np.where(np.isfinite(sigma2s), np.maximum(sigma2s, 0.0), 0.0)
    shares = _drawn_common_shares(grid, series, counts, sigma2s, rhos)
    return (1.0 - shares) * sigma2s * _gap_contrasts(baseline_years, followup_years, rhos)


def _gap_contrasts(
    baseline_years: np.ndarray, followup_years: np.ndarray, rhos: np.ndarray
) -> np.ndarray:
    """``w' R(rho) w`` for every ``rho`` of ``rhos``, ``w`` the follow-up mean less the
    baseline mean (:func:`contrast_variance` per unit shock variance, for many ``rho``)."""
    years = np.concatenate([np.asarray(baseline_years, float), np.asarray(followup_years, float)])
    n_base, n_follow = len(baseline_years), len(followup_years)
    weights = np.concatenate([np.full(n_base, -1.0 / n_base), np.full(n_follow, 1.0 / n_follow)])
    lags = np.abs(years[:, None] - years[None, :])
    return np.einsum("g,rgh,h->r", weights, rhos[:, None, None] ** lags[None], weights)


def _drawn_common_shares(
    grid: np.ndarray,
    series: tuple[tuple[np.ndarray, np.ndarray, np.ndarray], ...],
    counts: np.ndarray,
    sigma2s: np.ndarray,
    rhos: np.ndarray,
) -> np.ndarray:
    """:func:`common_shock_share` of every row of drawn ``counts`` (units' years side by
    side, as :func:`_bootstrap_counts` draws them) at its own ``(sigma2, rho)``: the terms of
    :func:`_common_shares` per draw (the matrices ``A`` depend on the exposures only; a
    unit that drew no count has no weight)."""
    n_draws = counts.shape[0]
    z = np.zeros((n_draws, len(series), grid.size))
    inverse_mean = np.ones((n_draws, len(series)))
    usable = np.ones((n_draws, len(series)), dtype=bool)
    a = []
    start = 0
    for i, (y, e, t) in enumerate(series):
        drawn = counts[:, start : start + t.size]
        start += t.size
        a.append(_share_terms(y.tobytes(), e.tobytes(), t.tobytes(), grid.tobytes())[1])
        mu = drawn.sum(axis=1, keepdims=True) / e.sum() * e[None, :]
        usable[:, i] = mu[:, 0] > 0
        safe = np.where(mu > 0, mu, 1.0)
        z[:, i, np.searchsorted(grid, t)] = np.where(mu > 0, (drawn - mu) / safe, 0.0)
        inverse_mean[:, i] = 1.0 / np.where(usable[:, i], safe.mean(axis=1), 1.0)
    weights = np.where(usable, 1.0 / (sigma2s[:, None] + inverse_mean), 0.0)
    return _shares_of(z, np.array(a), weights, sigma2s, rhos, grid)


#: The bootstrap's spread is used only when its median ``omega*/omega_hat`` reaches this:
#: below it (half the draws estimated no shocks: about 1-3 % of simulated panels at 5
#: events a year, none with 100) the median-unbiased truth ``omega_hat / median`` is
#: unbounded (a median of 1e-14 made the truth 1e11 times the estimate), and the methods
#: fall back on the ``chi2_nu / nu`` spread.
MIN_BOOTSTRAP_MEDIAN = 0.5


def median_unbiased_spread(
    spread: np.ndarray | None, points: int
) -> tuple[float, np.ndarray] | None:
    """From bootstrap estimates over the estimate (``spread``, e.g.
    :func:`bootstrap_contrast_variances` over the plug-in contrast variance): their median
    ``m`` and ``points`` equally likely quantiles of ``spread`` (the middles of
    equal-probability strata). The truth is then taken as the median-unbiased estimate
    (estimate / ``m``), and the test's estimate varies around that truth as the bootstrap
    estimates vary around the estimate: truth times the quantiles. None without finite
    values or when ``m`` is below :data:`MIN_BOOTSTRAP_MEDIAN`."""
    if spread is None:
        return None
    finite = np.asarray(spread, dtype=float)
    finite = finite[np.isfinite(finite)]
    middle = float(np.median(finite)) if finite.size else 0.0
    if not middle >= MIN_BOOTSTRAP_MEDIAN:
        return None
    quantiles = np.quantile(finite, (np.arange(points) + 0.5) / points)
    return middle, quantiles


@functools.lru_cache(maxsize=1024)
def _shock_root(years: bytes, rho: float) -> np.ndarray:
    """Cholesky root of the AR(1) correlation over ``years`` (float64 bytes). Shared."""
    t = np.frombuffer(years, dtype=float)
    return np.linalg.cholesky(shock_correlation(t, rho) + 1e-12 * np.eye(t.size))


def common_shock_share(
    grid: np.ndarray,
    series: tuple[tuple[np.ndarray, np.ndarray, np.ndarray], ...],
    sigma2: float,
    rho: float,
) -> float:
    """Share ``lambda`` of the shock variance common to every unit, from the panel's
    constant-rate fit (``PooledDispersion.fitted``) and its pooled ``sigma2``, ``rho``.

    A moment estimate: with shocks ``u_it = sqrt(lambda) c_t + sqrt(1 - lambda) a_it`` (both
    AR(1)), the relative residuals ``z_i = (y_i - mu_i) / mu_i = A_i u_i`` + Poisson noise,
    ``A_i = D_i^-1 (I - p_i 1') D_i`` (``D_i = diag(mu_i)``, ``p_i`` the years' shares of the
    unit's exposure: the fitted rate takes each year's share of the count), and for two
    different units ``E[z_it z_jt] = lambda sigma2 (A_i R A_j')_tt`` (``R`` the AR(1)
    correlation over the panel's years; the Poisson noise of different units is independent).
    So ``lambda`` is the weighted sum of the cross-products of different units in the same
    year over ``sigma2`` times the same sum of their expectations at ``lambda = 1``. Units
    weighted by ``1 / (sigma2 + 1 / m_i)``, the inverse variance of a relative residual (``m_i``
    the unit's mean count). Kept within [0, 0.95]; 0 with fewer than 2 units or no shocks."""
    if len(series) < 2 or not sigma2 > 0:
        return 0.0
    return float(_common_shares(grid, series, np.array([sigma2]), np.array([rho]), [None])[0])


@functools.lru_cache(maxsize=8192)
def _share_terms(y: bytes, e: bytes, t: bytes, grid: bytes) -> tuple[np.ndarray, np.ndarray, float]:
    """One unit's terms of :func:`common_shock_share` on the panel's ``grid`` of years (float64
    bytes): its relative residuals ``z``, the matrix ``A`` and ``1 / m``. Cached on these exact
    inputs (the national evaluation meets each series in many panels); shared, never modify."""
    y, e, t, grid_years = (np.frombuffer(b, dtype=float) for b in (y, e, t, grid))
    mu = y.sum() / e.sum() * e
    cols = np.searchsorted(grid_years, t)
    z = np.zeros(grid_years.size)
    z[cols] = (y - mu) / mu
    a = np.zeros((grid_years.size, grid_years.size))
    a[np.ix_(cols, cols)] = (
        (np.eye(t.size) - np.outer(e / e.sum(), np.ones(t.size))) * mu[None, :] / mu[:, None]
    )
    return z, a, float(1.0 / mu.mean())


def _common_shares(
    grid: np.ndarray,
    series: tuple[tuple[np.ndarray, np.ndarray, np.ndarray], ...],
    sigma2s: np.ndarray,
    rhos: np.ndarray,
    left_out: list[int | None],
) -> np.ndarray:
    """:func:`common_shock_share` for several ``(sigma2, rho)`` at once, row ``l`` leaving
    out unit ``left_out[l]`` (None: every unit), e.g. the leave-one-unit-out jackknife."""
    terms = [
        _share_terms(y.tobytes(), e.tobytes(), t.tobytes(), grid.tobytes()) for y, e, t in series
    ]
    z = np.array([term[0] for term in terms])
    a = np.array([term[1] for term in terms])
    inverse_mean = np.array([term[2] for term in terms])
    sigma2s = np.asarray(sigma2s, dtype=float)
    weights = 1.0 / (sigma2s[:, None] + inverse_mean[None, :])  # (rows, units)
    for row, unit in enumerate(left_out):
        if unit is not None:
            weights[row, unit] = 0.0
    return _shares_of(z[None], a, weights, sigma2s, np.asarray(rhos, dtype=float), grid)


def _shares_of(
    z: np.ndarray,
    a: np.ndarray,
    weights: np.ndarray,
    sigma2s: np.ndarray,
    rhos: np.ndarray,
    grid: np.ndarray,
) -> np.ndarray:
    """The common share per row from the units' relative residuals ``z`` (rows or 1, units,
    grid), their matrices ``a`` (units, grid, grid) and the rows' unit weights, ``sigma2``
    and ``rho`` (:func:`common_shock_share`)."""
    corr = rhos[:, None, None] ** np.abs(grid[:, None] - grid[None, :])
    # sums over pairs i != j: (sum_i x_i)(sum_j x_j) less the pairs i = j
    cross = np.sum(np.einsum("li,lig->lg", weights, z) ** 2, axis=1) - np.einsum(
        "li,lig->l", weights**2, z**2
    )
    total = np.einsum("li,igh->lgh", weights, a)
    own = np.einsum("igh,lhk,igk->li", a, corr, a)
    expected = np.einsum("lgh,lhk,lgk->l", total, corr, total) - np.sum(weights**2 * own, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = cross / (sigma2s * expected)
    share = np.where((expected > 0) & (sigma2s > 0), share, 0.0)
    return np.clip(share, 0.0, _MAX_COMMON_SHARE)


_MAX_COMMON_SHARE = 0.95


def _bootstrap_counts(
    grid: np.ndarray,
    series: tuple[tuple[np.ndarray, np.ndarray, np.ndarray], ...],
    sigma2: float,
    rho: float,
    common: float,
    draws: int,
) -> np.ndarray:
    """``draws`` rows of lognormal-Poisson counts at every unit's fitted constant rate, the
    units' years side by side (columns in the order of ``series``); a share ``common`` of
    the shocks shared by every unit in the same year (same AR(1) law)."""
    mean = np.concatenate([y.sum() / e.sum() * e for y, e, _ in series])
    rng = np.random.default_rng(_BOOTSTRAP_SEED)
    normal = rng.standard_normal((draws, mean.size))
    shared = np.einsum(
        "bk,jk->bj", rng.standard_normal((draws, grid.size)), _shock_root(grid.tobytes(), rho)
    )
    shocks = np.empty_like(normal)
    start = 0
    for _, _, t in series:  # einsum, not a threaded BLAS product (slow on small matrices)
        block = slice(start, start + t.size)
        own = np.einsum("bk,jk->bj", normal[:, block], _shock_root(t.tobytes(), rho))
        shared_years = shared[:, np.searchsorted(grid, t)]
        shocks[:, block] = math.sqrt(1.0 - common) * own + math.sqrt(common) * shared_years
        start += t.size
    shocks *= math.sqrt(sigma2)
    return rng.poisson(mean * np.exp(shocks - sigma2 / 2.0)).astype(float)


@functools.lru_cache(maxsize=8192)
def _unit_base(e: bytes, t: bytes, grid: bytes) -> dict:
    """A unit's moment matrices at rate 1 (they scale with the fitted rate, ``D = rate
    diag(e)``): ``A = E M D E'`` and ``M D M'`` of :func:`_unit_moments`. Shared."""
    e, t, grid_years = (np.frombuffer(b, dtype=float) for b in (e, t, grid))
    position = {int(v): k for k, v in enumerate(grid_years)}
    cols = np.array([position[int(v)] for v in t])
    m_proj = np.eye(t.size) - np.outer(e, np.ones(t.size)) / e.sum()  # M = I - e 1' / sum(e)
    embed = np.zeros((grid_years.size, t.size))
    embed[cols, np.arange(t.size)] = 1.0
    a = embed @ m_proj @ np.diag(e) @ embed.T
    c0 = embed @ m_proj @ np.diag(e) @ m_proj.T @ embed.T
    return {"cols": cols, **_moment_matrices(a, c0)}


def _pooled_draws(
    grid: np.ndarray,
    series: tuple[tuple[np.ndarray, np.ndarray, np.ndarray], ...],
    counts: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`pooled_dispersion` (constant rate) of every row of drawn ``counts`` (units'
    years side by side, as :func:`_bootstrap_counts` draws them) at once: ``(sigma2, rho)``
    per row. With a constant rate the residuals are linear in the counts and the moment
    matrices scale with the fitted rate."""
    draws, n_units, size = counts.shape[0], len(series), grid.size
    resid = np.zeros((draws, n_units, size))
    rates = np.zeros((draws, n_units))
    phi = np.zeros((draws, n_units))
    means = np.array([e.mean() for _, e, _ in series])
    bases = [_unit_base(e.tobytes(), t.tobytes(), grid.tobytes()) for _, e, t in series]
    start = 0
    for i, ((_, e, t), base) in enumerate(zip(series, bases, strict=True)):
        drawn = counts[:, start : start + t.size]
        start += t.size
        rates[:, i] = drawn.sum(axis=1) / e.sum()
        centred = drawn - rates[:, i, None] * e  # r = M y
        with np.errstate(divide="ignore", invalid="ignore"):
            phi[:, i] = np.sum(centred**2 / (rates[:, i, None] * e), axis=1) / (t.size - 1)
        resid[:, i, base["cols"]] = centred
    used = rates > 0.0  # a unit with no count is not usable, as in pooled_dispersion
    m = rates * means
    with np.errstate(divide="ignore", invalid="ignore"):
        excess = np.where(used, (phi - 1.0) / m, 0.0)
    kappa0 = np.maximum(0.0, excess.sum(axis=1) / np.maximum(used.sum(axis=1), 1))
    w = np.where(used, 1.0 / (1.0 + kappa0[:, None] * m) ** 2, 0.0)
    w /= np.maximum(w.sum(axis=1, keepdims=True), 1e-300)
    s2 = np.einsum("bi,big,big->b", w, resid, resid)
    s1 = np.einsum("bi,big,big->b", w, resid[:, :, 1:], resid[:, :, :-1])
    t0 = (w * rates) @ np.array([b["t0"] for b in bases])
    l0 = (w * rates) @ np.array([b["l0"] for b in bases])
    # sum over (g, h) of corr_rho * (weighted sum of the units' matrices), per unit first
    corr = _RHOS[:, None, None] ** np.abs(grid[:, None] - grid[None, :])[None, :, :]
    ga_r = np.einsum("rgh,igh->ir", corr, np.array([b["ga"] for b in bases]))
    h_r = np.einsum("rgh,igh->ir", corr, np.array([b["h"] for b in bases]))
    scale = w * rates**2
    return _solve_sums(s2, s1, t0, l0, scale @ ga_r, scale @ h_r)
