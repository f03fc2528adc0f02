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
Moment estimators, pooled over units:

* ``kappa_i = (X2_i / df_i - 1) / mean(mu_i)`` from unit i's Pearson X2 (McCullagh & Nelder
  1989, §9.2), pooled with inverse-variance weights ``df_i * m_i^2 / (1 + kappa m_i)^2``
  (``Var(X2/df) ~ 2 phi^2 / df``) — small units, whose Poisson noise swamps the shocks, weigh
  little;
* ``rho`` from the lag-1 residual cross-products
  ``E[(y_t - mu_t)(y_t-1 - mu_t-1)] ~ kappa * rho * mu_t * mu_t-1``, bias-corrected for short
  demeaned series, ``E[rho_hat] ~ rho - (1 + 3 rho) / T`` (Marriott & Pope 1954), clipped to
  [0, 0.9];
* residuals around a fitted mean understate the shock variance when shocks are correlated:
  ``E[u' M u] = sigma2 * tr(M R)`` (``M`` the residual projection, ``R`` the AR(1)
  correlation), so ``kappa`` is scaled by ``df / tr(M R)``.

``df`` is the pooled residual degrees of freedom ``sum_i (T_i - p)``, used for the t/F
allowance of the methods that plug the estimate in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["PooledDispersion", "pooled_dispersion", "shock_correlation"]

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

    @property
    def kappa(self) -> float:
        """``exp(sigma2) - 1``: the NB2-type coefficient, ``Var(y) = mu + kappa mu^2``."""
        return math.expm1(self.sigma2)


def shock_correlation(years: np.ndarray, rho: float) -> np.ndarray:
    """AR(1) correlation matrix ``rho^|t - s|`` of the shocks in the given years."""
    years = np.asarray(years, dtype=float)
    return rho ** np.abs(years[:, None] - years[None, :])


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


def pooled_dispersion(
    frame: pd.DataFrame, years: tuple[int, ...] | list[int], *, trend: bool = False
) -> PooledDispersion:
    """Pool the shock variance and autocorrelation over the units of ``frame``.

    ``frame`` has columns ``unit, year, count, exposure`` (long); only ``years`` are used,
    rows with a missing count or exposure are dropped. Units need ``p + 2`` usable years
    (``p`` = 1 for a constant rate, 2 with a trend) and a positive total. With no usable unit
    the result has ``sigma2 = nan`` and a note.
    """
    p = 2 if trend else 1
    rows = frame.loc[frame["year"].isin(list(years))].dropna(subset=["count", "exposure"])
    per_unit = []
    for _, unit in rows.sort_values("year").groupby("unit", sort=True):
        y = unit["count"].to_numpy(dtype=float)
        e = unit["exposure"].to_numpy(dtype=float)
        t = unit["year"].to_numpy(dtype=float)
        if y.size < p + 2 or y.sum() <= 0 or np.any(e <= 0):
            continue
        x = np.column_stack([np.ones_like(t), t - t.mean()])[:, :p]
        mu = _fit_unit(y, e, x)
        resid = y - mu
        df = y.size - p
        lag1 = np.diff(t) == 1
        per_unit.append(
            {
                "df": df,
                "m": float(mu.mean()),
                "phi": float(np.sum(resid**2 / mu) / df),
                "cross": float(np.sum((resid[1:] * resid[:-1])[lag1])),
                "mm": float(np.sum((mu[1:] * mu[:-1])[lag1])),
                "x": x,
                "t": t,
            }
        )
    if not per_unit:
        return PooledDispersion(math.nan, 0.0, 0, 0, "no unit with enough years to pool")
    df = np.array([u["df"] for u in per_unit], dtype=float)
    m = np.array([u["m"] for u in per_unit])
    kappa_i = (np.array([u["phi"] for u in per_unit]) - 1.0) / m
    kappa = max(0.0, float(np.mean(kappa_i)))
    for _ in range(2):
        w = df * m**2 / (1.0 + kappa * m) ** 2
        kappa = max(0.0, float(np.sum(w * kappa_i) / np.sum(w)))
    rho = 0.0
    mm = np.array([u["mm"] for u in per_unit])
    if kappa > 0 and np.sum(mm) > 0:
        w = df * m**2 / (1.0 + kappa * m) ** 2
        ratio = np.array([u["cross"] for u in per_unit]) / np.where(mm > 0, mm, np.nan)
        ok = np.isfinite(ratio)
        raw = float(np.sum(w[ok] * ratio[ok]) / np.sum(w[ok]) / kappa)
        t_mean = float(np.mean([u["t"].size for u in per_unit]))
        rho = float(np.clip((raw * t_mean + 1.0) / (t_mean - 3.0), 0.0, MAX_RHO))
    if rho > 0 and kappa > 0:
        # E[u'Mu] = sigma2 tr(MR): rescale so kappa estimates the marginal shock variance
        factors = []
        for u in per_unit:
            x = u["x"]
            hat = x @ np.linalg.pinv(x)
            resid_proj = np.eye(x.shape[0]) - hat
            factors.append(np.trace(resid_proj @ shock_correlation(u["t"], rho)) / u["df"])
        kappa /= float(np.average(factors, weights=df * m**2 / (1.0 + kappa * m) ** 2))
    return PooledDispersion(
        sigma2=math.log1p(kappa),
        rho=rho,
        df=int(df.sum()),
        n_units=len(per_unit),
        note="",
    )
