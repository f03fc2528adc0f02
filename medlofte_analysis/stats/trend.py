"""Trend-adjusted before/after comparison (interrupted time series, projection form).

A quasi-Poisson log-linear model is fitted to the pre-period only::

    log E[y_t] = a + b * (t - mean(t_pre)) + log(exposure_t),   Var(y_t) = phi * E[y_t]

(statsmodels GLM, Poisson family; quasi-Poisson scale as with ``scale="X2"``: ``phi`` = Pearson
chi2 / df, here floored at 1 and applied explicitly, ``Cov(beta) = phi * (X'WX)^-1``).
The fitted trend is projected to the follow-up years and the observed follow-up total is
compared with the projected total. This is the segmented-regression idea of Wagner, Soumerai,
Zhang & Ross-Degnan (2002, *J Clin Pharm Ther* 27, 299-309) and Bernal, Cummins & Gasparrini
(2017, *Int J Epidemiol* 46, 348-355) with the post-period level/slope change summarised as one
observed/expected ratio.

Prediction interval for the follow-up total ``Y`` (documented approximation)::

    T = sum_f mu_f                       (projected total, mu_f = exp(x_f' beta + log E_f))
    g = sum_f mu_f x_f                   (gradient of T w.r.t. beta: delta method)
    V = g' Cov(beta) g + phi * T         (parameter uncertainty + overdispersed Poisson noise)

``Cov(beta) = phi * (X'WX)^-1``. The estimated ``phi`` (``n_pre - 2`` df) is not known: the
variance is multiplied by the t allowance ``(t_{df, 1-alpha/2} / z_{1-alpha/2})^2`` so the
interval has the width of a t interval (the F/t allowance for an estimated scale; McCullagh &
Nelder 1989, §9.2). ``Y`` is then given the negative binomial distribution with
mean ``T`` and variance ``V`` (moment matching; Poisson when ``V = T``), whose ``alpha/2`` and
``1 - alpha/2`` quantiles are the prediction limits; the two-sided p-value is
``min(1, 2 * min(P(Y <= obs), P(Y >= obs)))``. The discrete predictive handles small and zero
totals without a log of zero. The ratio interval is
``obs/prediction_upper .. obs/prediction_lower``.

Borrowed dispersion (``shocks`` given, pooled over the comparison panel's pre-period with a
trend per unit, :func:`medlofte_analysis.stats.dispersion.pooled_dispersion`): year shocks of
log-variance ``sigma2`` with AR(1) correlation ``rho``. The Poisson fit is approximately
weighted least squares on the log scale, ``beta_hat - beta ~ A (u_pre + eps_pre/mu_pre)`` with
``A = (X'WX)^-1 X'W``, ``W = diag(mu_pre)``, so the log projection error of the follow-up total
``e = ln(Y/T)`` has, with ``w_f = mu_f / T`` and ``xbar = sum_f w_f x_f``::

    Var(e) = [1/T + xbar' (X'WX)^-1 xbar] + sigma2 * c' R c,   c = (-A' xbar, w_f)

(Poisson part + shock part, ``R = rho^|t-s|`` over the pre and follow-up years: the
autocorrelation both widens the slope's error and links the follow-up to the last pre-years).
``V = T^2 Var(e)``, with the shock part multiplied by the t allowance for the pooled df
scaled for the shocks' autocorrelation (:func:`effective_shock_df`, Bartlett 1946).

Minimum detectable change (:attr:`TrendProjection.mde_increase` / ``mde_decrease``): the ratio
``R`` at which the test above rejects with probability ``power`` in repeated samples, taking
the fitted projection as the truth (documented approximation, all from the observed fit and
the borrowed shocks):

* a repeated sample's coefficients are ``beta + delta``, ``delta ~ N(0, C)`` with
  ``C = (X'WX)^-1 + sigma2 A R_pre A'`` (the normal approximation of the Poisson fit's error,
  Poisson and pre-period shocks, as above);
* at each such sample the test's projection ``T'`` AND its margin are recomputed from that
  sample's own fit (``xbar' (X'WX)^-1 xbar`` and ``c' R c`` at its fitted means), the
  estimated shock variance varying as in repeated samples of the panel (the power of a test
  with an estimated variance, as Student's t); the critical counts of the negative binomial
  predictive follow;
* how the estimated shock variance varies comes from the parametric bootstrap of the panel
  that the before–after test uses
  (:func:`medlofte_analysis.stats.dispersion.bootstrap_contrast_variances`, the same drawn
  panels, with the year shocks common to every unit): the draws' ``sigma2* c' R(rho*) c``
  for the observed fit's ``c``, over the estimate. The shock variance taken as the truth is
  the median-unbiased estimate (the estimate over the draws' median) and the test's estimate
  varies around it as the draws vary around the estimate (five equally likely strata).
  Without a constant-rate fit of the panel, or when half the draws estimate no shocks
  (:data:`~medlofte_analysis.stats.dispersion.MIN_BOOTSTRAP_MEDIAN`), the plug-in estimate
  spread as ``chi2_df / df`` (:func:`effective_shock_df`) instead;
* the follow-up total is ``Y ~ Poisson(R T exp(s))``, ``s = w' u_f`` the follow-up's log
  shock (mean one), normal GIVEN that sample's projection error ``p = xbar' delta``
  (Gaussian conditioning: ``Cov(p, s) = sigma2 (A' xbar)' R_pf w``, so ``s | p`` has mean
  ``Cov(p, s) / Var(p) * p`` and variance ``sigma2 w' R_ff w - Cov(p, s)^2 / Var(p)``; no
  allowance: the true noise, not the test's margin for not knowing it). With strongly
  autocorrelated shocks a high last pre-year lifts both the projection and the follow-up;
  modelled as independent (sigma2 0.54, rho 0.9, as Mora's drug offences, 200 events) the
  power at the reported increase was 95 %, with the conditioning 84 % (decrease 80 %; the
  shock variance known there, while the model allows for its estimation).

The Poisson tails beyond the critical counts are exact; ``delta`` is integrated by a
Gauss-Hermite product rule (:data:`_N_EPS_NODES` nodes along the projection's error, where
the critical counts jump, :data:`_N_MINOR_NODES` across it), ``s`` by Gauss-Hermite.
"No decrease detectable" gives 0. Without borrowed shocks the same holds with
``C = phi (X'WX)^-1`` and the margin ``allowance * phi * (xbar' (X'WX)^-1 xbar + 1/T') - 1/T'``
(``phi`` as estimated, not varied) and ``s`` independent of ``p`` with the variance
``Var(e) - 1/T - Var(p)`` (the extra-Poisson part ``(phi - 1)/T``).

Why the margin is recomputed per sample: with few events the parameter part of the margin
is about ``1 / level``, so a sample whose projection came out low also has a wider margin and
cannot reject a zero count. An earlier version kept the observed fit's margin for every
sample; at 5 events a year with 2 follow-up years (synthetic panels shaped like Dalarna's,
2 000 replicates) it put the share of samples able to reject a vanishing count at 87 % where
the test reached 72 %, and reported decreases of -98 % that the test detected in 60-67 % of
samples. Recomputed, the modelled share is 72 % (< 80 %: no decrease is detectable, which is
the truth). Calibration suite (``benchmarks/bench_calibration.py --methods trend``, 24 cells,
2 000 replicates a cell, seed 20261127): type-I 2.6-5.4 %, coverage 94.6-97.7 %, power at the
reported increase 79.4-84.8 % and decrease 78.0-81.8 %. With the ``chi2_df / df`` spread of
the plug-in estimate the decreases at 100 events a year fell short (74.6-78.5 %, mean 76.6 %;
one cell, 7 units, 6 + 1 years, below 75 %) and the increases there reached 78.5-81.4 %: the
pooled shock variance is biased low when the year shocks are partly common to every unit
(:func:`medlofte_analysis.stats.dispersion.bootstrap_contrast_variances`), and its spread is
skewed. With the bootstrap those decreases are 78.0-79.7 % (that cell 74.7 -> 78.7 %, its
6 + 2 twin 75.3 -> 78.4 %, same seeds) and the increases 79.4-82.2 %. At 5 events a year the
increase is detected in 82-85 % (slightly conservative: the pooled shock variance errs
upwards with so few events; with the shock variance known, brute-force simulation gives
78-80 %, see the tests). With 8 nodes instead of 16 along the projection the MDE moved by
up to 4 % of ``ln R`` (a step function of the projection is integrated).
"""

from __future__ import annotations

import functools
import math
import numbers
import warnings as warnings_module
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import statsmodels.api as sm
from scipy import special, stats

from medlofte_analysis.stats.dispersion import (
    PooledDispersion,
    bootstrap_contrast_variances,
    median_unbiased_spread,
    shock_correlation,
    variance_scales,
)
from medlofte_analysis.stats.roots import power_root

__all__ = ["TrendProjection", "effective_shock_df", "trend_projection"]

PANDEMIC_YEARS = (2020, 2021)
#: |log slope| or its SE above this (a factor e^5 ~ 148 per year) means the fit is degenerate.
MAX_ABS_SLOPE = 5.0
#: Points of the estimated shock variance's spread and Gauss-Hermite nodes for the MDE.
_N_SCALES = 5
_N_NODES = 6
_N_EPS_NODES = 16
_N_MINOR_NODES = 2
#: First step out from the normal approximation's detectable change (log scale).
_GUESS_STEP = 0.1


@dataclass(frozen=True)
class TrendProjection:
    """Observed follow-up total against the pre-period trend projection.

    ``slope`` is per year on the log scale (``exp(slope) - 1`` = yearly relative change).
    ``dispersion`` is the Pearson chi2/df of the pre-period fit floored at 1;
    ``dispersion_raw`` the unfloored value. ``warning`` lists everything a reader must know
    (few pre-years, pandemic years, zero counts, poor approximation), "" if nothing.
    """

    observed: float
    expected: float
    ratio: float
    ci_lower: float
    ci_upper: float
    prediction_lower: float
    prediction_upper: float
    p_value: float
    dispersion: float
    slope: float
    slope_se: float
    n_pre_years: int
    expected_by_year: tuple[float, ...]
    warning: str
    dispersion_raw: float = math.nan
    alpha: float = 0.05
    mde_increase: float = math.nan
    mde_decrease: float = math.nan
    dispersion_source: str = "own"
    method: str = (
        "Quasi-Poisson log-linear trend on pre-period, projected (Wagner et al. 2002; "
        "Bernal, Cummins & Gasparrini 2017); negative binomial moment-matched predictive"
    )


def _as_array(values: Sequence[float] | np.ndarray, name: str) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype="float64")
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a sequence of numbers (NaN for missing)") from exc
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    return arr


def _check_counts(arr: np.ndarray, name: str) -> None:
    ok = ~np.isnan(arr)
    if np.any(ok & (np.isinf(arr) | (arr < 0) | (arr != np.floor(arr)))):
        raise ValueError(f"{name} must hold non-negative whole counts (NaN for missing)")


def _check_exposures(arr: np.ndarray, name: str) -> None:
    ok = ~np.isnan(arr)
    if np.any(ok & (np.isinf(arr) | (arr <= 0))):
        raise ValueError(f"{name} must hold positive exposures (populations); NaN for missing")


def trend_projection(
    pre_years: Sequence[float] | np.ndarray,
    pre_counts: Sequence[float] | np.ndarray,
    pre_exposures: Sequence[float] | np.ndarray,
    followup_years: Sequence[float] | np.ndarray,
    followup_counts: Sequence[float] | np.ndarray,
    followup_exposures: Sequence[float] | np.ndarray,
    alpha: float = 0.05,
    shocks: PooledDispersion | None = None,
    power: float = 0.8,
    *,
    with_mde: bool = True,
) -> TrendProjection:
    """Compare the follow-up total with the projection of the pre-period trend.

    See the module docstring for the model (quasi-Poisson GLM, Wagner et al. 2002; Bernal,
    Cummins & Gasparrini 2017) and the prediction interval. Pre-years with a missing count or
    exposure are dropped (never filled in) and listed in ``warning``. Fewer than 3 usable
    pre-years, all-zero pre counts, or a missing follow-up count/exposure give NaN results
    with a ``warning`` and no exception. Negative or non-integer counts, non-positive
    exposures, mismatched lengths or follow-up years not after the pre-period raise
    ``ValueError``. ``with_mde=False`` leaves the MDEs NaN (an interval at another level
    needs none).
    """
    if not (isinstance(alpha, numbers.Real) and 0.0 < float(alpha) < 1.0):
        raise ValueError(f"alpha must be strictly between 0 and 1, got {alpha!r}")
    py = _as_array(pre_years, "pre_years")
    pc = _as_array(pre_counts, "pre_counts")
    pe = _as_array(pre_exposures, "pre_exposures")
    fy = _as_array(followup_years, "followup_years")
    fc = _as_array(followup_counts, "followup_counts")
    fe = _as_array(followup_exposures, "followup_exposures")
    if not (py.size == pc.size == pe.size):
        raise ValueError("pre_years, pre_counts and pre_exposures must have the same length")
    if not (fy.size == fc.size == fe.size):
        raise ValueError(
            "followup_years, followup_counts and followup_exposures must have the same length"
        )
    if fy.size == 0:
        raise ValueError("followup_years must contain at least one year")
    if np.isnan(py).any() or np.isnan(fy).any():
        raise ValueError("pre_years and followup_years must not contain NaN")
    if len(set(py.tolist())) != py.size:
        raise ValueError("pre_years must not contain duplicates")
    if py.size and fy.min() <= py.max():
        raise ValueError("followup_years must all be later than every pre_year")
    _check_counts(pc, "pre_counts")
    _check_counts(fc, "followup_counts")
    _check_exposures(pe, "pre_exposures")
    _check_exposures(fe, "followup_exposures")

    warnings: list[str] = []
    nan = math.nan
    usable = ~(np.isnan(pc) | np.isnan(pe))
    if not usable.all():
        dropped = ", ".join(str(int(y)) for y in py[~usable])
        warnings.append(f"pre-period years with missing count or exposure dropped: {dropped}")
    py, pc, pe = py[usable], pc[usable], pe[usable]
    n_pre = int(py.size)
    pandemic = sorted(int(y) for y in py if int(y) in PANDEMIC_YEARS)
    if pandemic:
        label = "–".join(str(y) for y in dict.fromkeys((pandemic[0], pandemic[-1])))
        plural = "s" if len(pandemic) > 1 else ""
        warnings.append(f"pre-period includes pandemic year{plural} {label}")
    observed = nan if np.isnan(fc).any() else float(fc.sum())
    if np.isnan(fc).any() or np.isnan(fe).any():
        warnings.append("follow-up count or exposure missing: observed total not computed")

    def empty(extra: str) -> TrendProjection:
        warnings.append(extra)
        return TrendProjection(
            observed, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, n_pre,
            tuple(nan for _ in fy), "; ".join(warnings), nan, float(alpha),
        )  # fmt: skip

    if n_pre < 3:
        return empty(
            f"only {n_pre} pre-period years: at least 3 needed for a trend, nothing fitted"
        )
    if pc.sum() == 0:
        return empty("all pre-period counts are zero: no trend can be estimated")
    if n_pre < 5:
        warnings.append(
            f"only {n_pre} pre-period years: trend and dispersion estimates are unstable"
        )

    centre = float(py.mean())
    x_pre = np.column_stack([np.ones(n_pre), py - centre])
    fit = _poisson_fit(x_pre.tobytes(), pc.tobytes(), pe.tobytes(), n_pre)
    if fit.separation:
        warnings.append("pre-period fitted (near) perfectly: dispersion estimate uninformative")
    if not fit.converged:
        warnings.append("GLM fit did not converge: treat the projection with caution")
    beta = np.asarray(fit.params, dtype="float64")
    df_resid = n_pre - 2
    dispersion_raw = float(fit.pearson_chi2 / df_resid)
    phi = max(1.0, dispersion_raw)
    cov = phi * np.asarray(fit.normalized_cov_params, dtype="float64")
    if (pc == 0).any():
        warnings.append("some pre-period counts are zero")
    slope_se = math.sqrt(cov[1, 1]) if np.isfinite(cov).all() and cov[1, 1] >= 0 else math.inf
    if not (abs(beta[1]) <= MAX_ABS_SLOPE and slope_se <= MAX_ABS_SLOPE):
        # MLE at the boundary (e.g. zeros at one end of the series: 0, 0, 1): the fitted
        # slope runs off towards infinity and any projection would be meaningless.
        return empty(
            f"trend not estimable (log slope {beta[1]:.3g}, SE {slope_se:.3g}: maximum "
            "likelihood at the boundary, typically zero counts at one end of the pre-period)"
        )

    if np.isnan(fe).any():
        return TrendProjection(
            observed, nan, nan, nan, nan, nan, nan, nan, phi, float(beta[1]),
            slope_se, n_pre, tuple(nan for _ in fy), "; ".join(warnings),
            dispersion_raw, float(alpha),
        )  # fmt: skip

    x_f = np.column_stack([np.ones(fy.size), fy - centre])
    mu_f = np.exp(x_f @ beta + np.log(fe))
    total = float(mu_f.sum())
    z_half = float(special.ndtri(1.0 - alpha / 2.0))  # scipy.stats.norm.ppf's own function
    borrowed = shocks is not None and math.isfinite(shocks.sigma2) and shocks.df > 0
    if borrowed:
        mu_pre = fit.fittedvalues
        info_inv = np.asarray(fit.normalized_cov_params, dtype="float64")
        weights = mu_f / total
        xbar = weights @ x_f
        a_matrix = info_inv @ (x_pre * mu_pre[:, None]).T
        c = np.concatenate([-(a_matrix.T @ xbar), weights])
        corr = shock_correlation(np.concatenate([py, fy]), shocks.rho)
        shock_df = effective_shock_df(shocks)
        allowance = (float(special.stdtrit(shock_df, 1.0 - alpha / 2.0)) / z_half) ** 2
        param_log = float(xbar @ info_inv @ xbar)
        shock_log = shocks.sigma2 * float(c @ corr @ c)
        var_total = total * total * (1.0 / total + param_log + allowance * shock_log)
        phi = max(1.0, var_total / (total + total * total * param_log))
        # the shock variance taken as the truth for the detectable change, and how the
        # test's estimate varies around it (module docstring: the bootstrap of the panel)
        truth, spread = shocks.sigma2, variance_scales(shock_df, _N_SCALES)
        if with_mde and shock_log > 0:
            drawn = bootstrap_contrast_variances(shocks, np.concatenate([py, fy]), c)
            bootstrap = median_unbiased_spread(drawn / shock_log, _N_SCALES)
            if bootstrap is not None:
                truth, spread = shocks.sigma2 / bootstrap[0], bootstrap[1]
        # beta_hat - beta ~ A (u_pre + eps_pre / mu_pre): its covariance in repeated samples
        corr_pre = corr[:n_pre, :n_pre]
        cov_repeated = info_inv + truth * a_matrix @ corr_pre @ a_matrix.T
        estimation_log = float(xbar @ cov_repeated @ xbar)
        # the follow-up's log shock s = w' u_f given the projection's error p = xbar' delta:
        # s | p ~ N(coupling * p, eta_log) (Gaussian conditioning; rho links them)
        follow_log = truth * float(weights @ corr[n_pre:, n_pre:] @ weights)
        shared = truth * float((a_matrix.T @ xbar) @ corr[:n_pre, n_pre:] @ weights)
        coupling = shared / estimation_log if estimation_log > 0 else 0.0
        eta_log = max(follow_log - coupling * shared, 0.0)

        def margins(mu_p: np.ndarray, mu_fol: np.ndarray) -> np.ndarray:
            param_k, shock_k = _fit_margins(x_pre, x_f, mu_p, mu_fol, corr)
            return param_k[:, None] + allowance * truth * shock_k[:, None] * spread[None, :]
    else:
        grad = x_f.T @ mu_f
        allowance = (float(special.stdtrit(df_resid, 1.0 - alpha / 2.0)) / z_half) ** 2
        var_total = allowance * (float(grad @ cov @ grad) + phi * total)
        noise_log = max(0.0, var_total / allowance - total) / (total * total)
        estimation_log = float(grad @ cov @ grad) / (total * total)
        coupling, eta_log = 0.0, max(noise_log - estimation_log, 0.0)
        cov_repeated = cov
        own_phi = phi

        def margins(mu_p: np.ndarray, mu_fol: np.ndarray) -> np.ndarray:
            param_k, _ = _fit_margins(x_pre, x_f, mu_p, mu_fol, None)
            inverse_total = 1.0 / mu_fol.sum(axis=1)
            return (allowance * own_phi * (param_k + inverse_total) - inverse_total)[:, None]

    if total < 5:
        warnings.append(f"projected follow-up total is small ({total:.1f}): intervals are rough")

    # Negative binomial with mean T and variance V (V > T since phi >= 1 and param var > 0).
    predictive, params = _negative_binomial(total, var_total)
    half = float(alpha) / 2.0
    pred_lower = float(predictive.ppf(half, *params))
    pred_upper = float(predictive.ppf(1.0 - half, *params))

    if math.isnan(observed):
        p_value = ratio = ci_lower = ci_upper = nan
    else:
        below, above = predictive.cdf(observed, *params), predictive.sf(observed - 1, *params)
        p_value = min(1.0, 2.0 * min(float(below), float(above)))
        ratio = observed / total
        ci_lower = observed / pred_upper if pred_upper > 0 else nan
        ci_upper = observed / pred_lower if pred_lower > 0 else math.inf
        if observed == 0:
            ci_lower, ci_upper = 0.0, nan
            warnings.append(
                "observed follow-up total is 0: ratio interval from prediction limits is "
                "degenerate (upper limit NaN); use p_value"
            )

    if with_mde:
        means, variances, node_weights, shifts = _repeated_tests(
            beta, cov_repeated, x_f.T @ (mu_f / total), x_pre, np.log(pe), x_f, np.log(fe),
            margins, coupling,
        )  # fmt: skip
        law = _RepeatedTest(
            total, means, variances, node_weights, shifts, eta_log, float(alpha)
        )  # fmt: skip
        # the guess: the normal approximation, (z + z_power) predictive standard errors
        guess = (z_half + float(special.ndtri(power))) * math.sqrt(var_total) / total
        mde = [law.detectable(power, d, guess) for d in ("increase", "decrease")]
    else:
        mde = [nan, nan]
    return TrendProjection(
        observed=observed,
        expected=total,
        ratio=ratio,
        ci_lower=ci_lower,
        ci_upper=ci_upper,
        prediction_lower=pred_lower,
        prediction_upper=pred_upper,
        p_value=p_value,
        dispersion=phi,
        slope=float(beta[1]),
        slope_se=slope_se,
        n_pre_years=n_pre,
        expected_by_year=tuple(float(m) for m in mu_f),
        warning="; ".join(warnings),
        dispersion_raw=dispersion_raw,
        alpha=float(alpha),
        mde_increase=mde[0],
        mde_decrease=mde[1],
        dispersion_source="panel" if borrowed else "own",
    )


@dataclass(frozen=True)
class _PoissonFit:
    """What the projection uses of statsmodels' Poisson GLM fit of the pre-period."""

    params: np.ndarray
    normalized_cov_params: np.ndarray
    fittedvalues: np.ndarray
    pearson_chi2: float
    converged: bool
    separation: bool


@functools.lru_cache(maxsize=64)
def _poisson_fit(x: bytes, counts: bytes, exposures: bytes, n: int) -> _PoissonFit:
    """The log-linear Poisson fit with log exposure as offset (statsmodels ``GLM``; same
    estimates as ``fit(scale="X2")``: the Pearson scale is applied by the caller, floored at
    1, so a perfect pre-period fit with chi2 = 0 does not break it). Cached on the exact
    inputs: the FCR-adjusted interval recomputes the projection at another level."""
    x_pre = np.frombuffer(x).reshape(n, 2)
    model = sm.GLM(
        np.frombuffer(counts), x_pre, family=sm.families.Poisson(),
        offset=np.log(np.frombuffer(exposures)),
    )  # fmt: skip
    with warnings_module.catch_warnings(record=True) as caught:
        warnings_module.simplefilter("always")
        fit = model.fit()
    arrays = [
        np.array(a, dtype="float64")
        for a in (fit.params, fit.normalized_cov_params, fit.fittedvalues)
    ]
    for a in arrays:
        a.setflags(write=False)  # shared by every caller of the cache
    return _PoissonFit(
        *arrays,
        float(fit.pearson_chi2),
        bool(fit.converged),
        any("separation" in str(w.message).lower() for w in caught),
    )


def _negative_binomial(mean: float, variance: float) -> tuple[Any, tuple[float, ...]]:
    """scipy distribution and its parameters with the given mean and variance (Poisson when
    variance <= mean); not frozen: freezing copies the distribution object, which costs more
    than the three quantiles taken from it."""
    excess = variance - mean
    if excess <= 1e-12 * mean:
        return stats.poisson, (mean,)
    size = mean * mean / excess
    return stats.nbinom, (size, size / (size + mean))


def effective_shock_df(shocks: PooledDispersion) -> float:
    """Degrees of freedom of the pooled shock variance, allowing for its autocorrelation.

    The residuals of one unit are AR(1) with lag-1 correlation ``rho``; the sample variance
    of such a series varies like that of ``n (1 - rho^2) / (1 + rho^2)`` independent values
    (Bartlett 1946, *JRSS Suppl.* 8, 27-41), so the pooled ``df`` is scaled by that factor.
    """
    rho = min(max(float(shocks.rho), 0.0), 0.99)
    return max(1.0, shocks.df * (1.0 - rho * rho) / (1.0 + rho * rho))


def _critical_counts(
    means: np.ndarray, variances: np.ndarray, alpha: float
) -> tuple[np.ndarray, np.ndarray]:
    """Counts the predictive test (negative binomial with these means and variances, Poisson
    when the variance is the mean) rejects at or beyond: (lower, upper); lower -1 = none."""
    half = alpha / 2.0
    poisson = variances - means <= 1e-12 * means
    size = np.where(poisson, 1.0, means * means / np.where(poisson, 1.0, variances - means))
    prob = size / (size + means)

    def law(name: str, q: np.ndarray) -> np.ndarray:
        return np.where(
            poisson,
            getattr(stats.poisson, name)(q, means),
            getattr(stats.nbinom, name)(q, size, prob),
        )

    lo = law("ppf", np.full_like(means, half))  # reject y <= lo when cdf(lo) <= alpha/2
    lo = np.where(law("cdf", lo) > half, lo - 1.0, lo)
    hi = law("isf", np.full_like(means, half))  # reject y >= hi when sf(hi - 1) <= alpha/2
    hi = np.where(law("sf", hi - 1.0) > half, hi + 1.0, hi)
    return lo, hi


@functools.lru_cache(maxsize=8)
def _hermite(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Hermite nodes and weights for the mean over a standard normal (x sqrt 2)."""
    x, w = np.polynomial.hermite.hermgauss(n)
    return x, w / math.sqrt(math.pi)


def _fit_margins(
    x_pre: np.ndarray,
    x_f: np.ndarray,
    mu_pre: np.ndarray,
    mu_f: np.ndarray,
    corr: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """The test's margin terms for K fits at once (rows of ``mu_pre``, ``mu_f``): the
    parameter part ``xbar' (X'WX)^-1 xbar`` and the shock part ``c' R c`` per unit shock
    variance (module docstring; zeros when ``corr`` is None)."""
    weights = mu_f / mu_f.sum(axis=1, keepdims=True)
    xbar = weights @ x_f
    info = np.einsum("ni,kn,nj->kij", x_pre, mu_pre, x_pre)
    det = info[:, 0, 0] * info[:, 1, 1] - info[:, 0, 1] * info[:, 1, 0]
    info_inv = (
        np.stack(
            [
                np.stack([info[:, 1, 1], -info[:, 0, 1]], -1),
                np.stack([-info[:, 1, 0], info[:, 0, 0]], -1),
            ],
            axis=1,
        )
        / det[:, None, None]
    )
    param = np.einsum("ki,kij,kj->k", xbar, info_inv, xbar)
    if corr is None:
        return param, np.zeros_like(param)
    lever = np.einsum("kj,kij,ni,kn->kn", xbar, info_inv, x_pre, mu_pre)  # A' xbar per fit
    c = np.concatenate([-lever, weights], axis=1)
    return param, np.einsum("kn,nm,km->k", c, corr, c)


def _repeated_tests(
    beta: np.ndarray,
    cov_repeated: np.ndarray,
    xbar: np.ndarray,
    x_pre: np.ndarray,
    log_pre_exposure: np.ndarray,
    x_f: np.ndarray,
    log_followup_exposure: np.ndarray,
    margins: Callable[[np.ndarray, np.ndarray], np.ndarray],
    coupling: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The test in repeated samples: projected totals, the test's variances and weights.

    A repeated sample's coefficients are ``beta + delta``, ``delta ~ N(0, cov_repeated)``
    (the fit's sampling law, taking ``beta`` as the truth), integrated by a product
    Gauss-Hermite rule: :data:`_N_EPS_NODES` nodes along the projection's error
    ``xbar' delta`` and :data:`_N_MINOR_NODES` along the rest of ``delta`` given it (it only
    moves the margin). At each node the projection ``T'`` and the margin come from that
    sample's own fit (``margins(mu_pre, mu_f)`` -> one column per point of the estimated
    shock variance's spread), as the test computes them: a low projection comes with a
    wider margin. ``shifts``: the follow-up's expected log shock given that sample's
    projection error (``coupling * xbar' delta``).
    """
    # delta = g z1 + h z2: z1 moves the projection (xbar' delta = sqrt(v) z1), z2 only
    # the rest of the fit (its margin), so z2 needs few nodes
    v = max(float(xbar @ cov_repeated @ xbar), 1e-300)
    g = cov_repeated @ xbar / math.sqrt(v)
    eigen, axes = np.linalg.eigh(cov_repeated - np.outer(g, g))
    h = axes[:, -1] * math.sqrt(max(float(eigen[-1]), 0.0))
    x_minor, w_minor = _hermite(_N_MINOR_NODES)
    x_major, w_major = _hermite(_N_EPS_NODES)
    z = np.stack(np.meshgrid(x_minor, x_major, indexing="ij"), axis=-1).reshape(-1, 2)
    betas = beta[None, :] + math.sqrt(2.0) * (z[:, 1:] * g[None, :] + z[:, :1] * h[None, :])
    mu_pre = np.exp(betas @ x_pre.T + log_pre_exposure[None, :])
    mu_f = np.exp(betas @ x_f.T + log_followup_exposure[None, :])
    margin = margins(mu_pre, mu_f)
    means = mu_f.sum(axis=1)[:, None] * np.ones_like(margin)
    weights = np.outer(w_minor, w_major).ravel()[:, None] / margin.shape[1]
    shifts = coupling * (betas - beta[None, :]) @ xbar
    return (
        means.ravel(),
        (means + means * means * margin).ravel(),
        (weights * np.ones_like(margin)).ravel(),
        (shifts[:, None] * np.ones_like(margin)).ravel(),
    )


@dataclass(frozen=True)
class _RepeatedTest:
    """The trend test in repeated samples, for its detectable change (module docstring).

    Taking the fitted projection ``T`` as the truth: repeated samples project ``means`` with
    the test's ``variances`` (nodes of :func:`_repeated_tests`, with their ``weights``), and
    the follow-up total is ``Y ~ Poisson(R T exp(eta))``, ``eta`` normal (mean one) with the
    log-variance ``eta_log`` and the mean ``shifts`` given each sample's projection error.
    The Poisson tails beyond the critical counts are exact; ``eta`` is integrated by
    Gauss-Hermite quadrature.
    """

    total: float
    means: np.ndarray
    variances: np.ndarray
    weights: np.ndarray
    shifts: np.ndarray
    eta_log: float
    alpha: float

    @functools.cached_property
    def _critical(self) -> tuple[np.ndarray, ...]:
        """Distinct (shift, lower critical count) and (shift, upper critical count) pairs
        with the summed weights of their points (points that cannot reject low dropped)."""
        lo, hi = _critical_counts(self.means, self.variances, self.alpha)
        keep = lo >= 0
        low, low_index = np.unique(
            np.column_stack([self.shifts[keep], lo[keep]]), axis=0, return_inverse=True
        )
        high, high_index = np.unique(
            np.column_stack([self.shifts, hi]), axis=0, return_inverse=True
        )
        return (
            low[:, 0],
            low[:, 1],
            np.bincount(low_index.ravel(), self.weights[keep], len(low)),
            high[:, 0],
            high[:, 1],
            np.bincount(high_index.ravel(), self.weights, len(high)),
        )

    @functools.cached_property
    def _eta(self) -> tuple[np.ndarray, np.ndarray]:
        x, w = _hermite(_N_NODES)
        return -self.eta_log / 2.0 + math.sqrt(2.0 * max(self.eta_log, 0.0)) * x, w

    def power(self, log_r: float) -> float:
        """Rejection probability when the true ratio is ``exp(log_r)``."""
        lo_shift, lo, lo_weights, hi_shift, hi, hi_weights = self._critical
        eta, w_eta = self._eta
        base = self.total * math.exp(log_r) * np.exp(eta)[None, :]
        low = lo_weights @ special.pdtr(lo[:, None], base * np.exp(lo_shift)[:, None])
        high = hi_weights @ special.pdtrc(hi[:, None] - 1.0, base * np.exp(hi_shift)[:, None])
        return float((low + high) @ w_eta)

    def detectable(self, power: float, direction: str, guess: float) -> float:
        """Ratio detected with probability ``power`` (inf / 0: none of that direction).

        The root of the power curve in ``|ln R|`` (at most 16 for an increase, 30 for a
        decrease), to 0.001, bracketed by stepping out from ``guess``
        (:func:`~medlofte_analysis.stats.roots.power_root`; the normal approximation's
        ``|ln R|``, usually a few tenths off).
        """
        sign, reach = (1.0, 16.0) if direction == "increase" else (-1.0, 30.0)

        def gap(size: float) -> float:
            return self.power(sign * size) - power

        size = power_root(gap, 0.0, reach, min(max(guess, 0.05), reach), 1e-3, _GUESS_STEP)
        if size is None:
            return math.inf if direction == "increase" else 0.0
        return math.exp(sign * size)
