"""Exact intervals for Poisson counts and rates per inhabitants.

Methods
-------
* Garwood (1936) exact ("central") interval for a Poisson mean ``k``::

      lower = chi2.ppf(alpha/2, 2k) / 2          (0 when k = 0)
      upper = chi2.ppf(1 - alpha/2, 2k + 2) / 2

  Garwood, F. (1936). Fiducial limits for the Poisson distribution. *Biometrika* 28, 437-442.
  Equivalent tables: Ulm, K. (1990). *Am J Epidemiol* 131, 373-375.
* Mid-p exact interval (Lancaster 1961; Berry & Armitage 1995): the limits solve
  ``P(X > k; L) + P(X = k; L)/2 = alpha/2`` and ``P(X < k; U) + P(X = k; U)/2 = alpha/2``.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import pandas as pd
from scipy import optimize, stats

__all__ = [
    "poisson_interval",
    "poisson_interval_midp",
    "rate_with_interval",
    "add_rate_intervals",
]


def _check_alpha(alpha: float) -> None:
    if not (isinstance(alpha, numbers.Real) and 0.0 < float(alpha) < 1.0):
        raise ValueError(f"alpha must be a number strictly between 0 and 1, got {alpha!r}")


def _check_count(count: float, name: str = "count") -> bool:
    """Validate a count. Return False if it is missing (NaN/None), True if usable."""
    if count is None or count is pd.NA:
        return False
    try:
        value = float(count)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a non-negative integer number, got {count!r}") from exc
    if math.isnan(value):
        return False
    if math.isinf(value) or value < 0 or value != math.floor(value):
        raise ValueError(f"{name} must be a non-negative integer number, got {count!r}")
    return True


def poisson_interval(count: float, alpha: float = 0.05) -> tuple[float, float]:
    """Exact (Garwood 1936) two-sided ``1 - alpha`` interval for a Poisson mean.

    ``lower = chi2_{alpha/2}(2k)/2`` (0 for ``k = 0``), ``upper = chi2_{1-alpha/2}(2k+2)/2``.
    Coverage is at least ``1 - alpha`` for every true mean (conservative).

    Returns ``(nan, nan)`` for a missing count (NaN/None). Raises ``ValueError`` for a negative,
    infinite or non-integer count, or for ``alpha`` outside (0, 1).
    """
    _check_alpha(alpha)
    if not _check_count(count):
        return (math.nan, math.nan)
    k = float(count)
    lower = 0.0 if k == 0 else float(stats.chi2.ppf(alpha / 2.0, 2.0 * k) / 2.0)
    upper = float(stats.chi2.ppf(1.0 - alpha / 2.0, 2.0 * k + 2.0) / 2.0)
    return (lower, upper)


def poisson_interval_midp(count: float, alpha: float = 0.05) -> tuple[float, float]:
    """Mid-p exact two-sided ``1 - alpha`` interval for a Poisson mean (Lancaster 1961).

    Solves with :func:`scipy.optimize.brentq`::

        lower L:  sf(k; L) + pmf(k; L)/2 = alpha/2      (L = 0 when k = 0)
        upper U:  cdf(k-1; U) + pmf(k; U)/2 = alpha/2

    The mid-p interval is narrower than Garwood's and its coverage is close to, but not
    guaranteed to be at least, ``1 - alpha``. For ``k = 0`` the upper limit is ``-ln(alpha)``.
    Missing count -> ``(nan, nan)``; invalid count -> ``ValueError``.
    """
    _check_alpha(alpha)
    if not _check_count(count):
        return (math.nan, math.nan)
    k = float(count)
    half = alpha / 2.0
    g_lower, g_upper = poisson_interval(k, alpha)

    def upper_eq(mu: float) -> float:
        below = stats.poisson.cdf(k - 1.0, mu) if k > 0 else 0.0
        return float(below + 0.5 * stats.poisson.pmf(k, mu) - half)

    upper = float(optimize.brentq(upper_eq, max(k, 1e-12), g_upper, xtol=1e-12, rtol=1e-12))
    if k == 0:
        return (0.0, upper)

    def lower_eq(mu: float) -> float:
        return float(stats.poisson.sf(k, mu) + 0.5 * stats.poisson.pmf(k, mu) - half)

    lower = float(optimize.brentq(lower_eq, g_lower, k, xtol=1e-12, rtol=1e-12))
    return (lower, upper)


def rate_with_interval(
    count: float, population: float, per: float = 100_000.0, alpha: float = 0.05
) -> tuple[float, float, float]:
    """Rate per ``per`` inhabitants with its exact Garwood (1936) interval.

    ``rate = count / population * per``; the limits are the Garwood limits for the count scaled
    the same way (population treated as fixed exposure, e.g. SCB 31 December population or a sum
    of populations = person-years when years are pooled).

    Returns ``(nan, nan, nan)`` when the count or population is missing or the population is 0
    (rate undefined). Raises ``ValueError`` for a negative population, non-positive ``per`` or
    an invalid count.
    """
    if not (isinstance(per, numbers.Real) and per > 0 and math.isfinite(per)):
        raise ValueError(f"per must be a positive finite number, got {per!r}")
    lower, upper = poisson_interval(count, alpha)
    if population is None or population is pd.NA:
        return (math.nan, math.nan, math.nan)
    if math.isnan(float(population)) or math.isnan(lower):
        return (math.nan, math.nan, math.nan)
    pop = float(population)
    if pop < 0 or math.isinf(pop):
        raise ValueError(f"population must be a non-negative finite number, got {population!r}")
    if pop == 0:
        return (math.nan, math.nan, math.nan)
    scale = per / pop
    return (float(count) * scale, lower * scale, upper * scale)


def _numeric_column(df: pd.DataFrame, col: str) -> np.ndarray:
    if col not in df.columns:
        raise ValueError(f"column {col!r} not found in df (columns: {list(df.columns)})")
    try:
        series = pd.to_numeric(df[col])
    except (TypeError, ValueError) as exc:
        raise ValueError(f"column {col!r} must be numeric (NaN allowed for missing)") from exc
    return series.to_numpy(dtype="float64", na_value=np.nan)


def add_rate_intervals(
    df: pd.DataFrame,
    count_col: str = "count",
    population_col: str = "population",
    per: float = 100_000.0,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Return a copy of ``df`` with ``rate``, ``rate_lower``, ``rate_upper`` (Garwood 1936).

    Vectorised with :func:`scipy.stats.chi2.ppf` on arrays; same formulas as
    :func:`rate_with_interval`. Rows with a missing count or population, or population 0, get
    NaN (never filled in). Raises ``ValueError`` naming the column for negative or non-integer
    counts, negative populations, or a missing column.
    """
    _check_alpha(alpha)
    if not (isinstance(per, numbers.Real) and per > 0 and math.isfinite(per)):
        raise ValueError(f"per must be a positive finite number, got {per!r}")
    counts = _numeric_column(df, count_col)
    pops = _numeric_column(df, population_col)
    present = ~np.isnan(counts)
    bad = present & (np.isinf(counts) | (counts < 0) | (counts != np.floor(counts)))
    if bad.any():
        raise ValueError(
            f"column {count_col!r} must hold non-negative integer counts; "
            f"invalid values: {counts[bad][:5].tolist()}"
        )
    present_pop = ~np.isnan(pops)
    if (present_pop & ((pops < 0) | np.isinf(pops))).any():
        raise ValueError(f"column {population_col!r} must hold non-negative finite populations")
    ok = present & present_pop & (pops > 0)
    k = np.where(ok, counts, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        lower = np.where(k > 0, stats.chi2.ppf(alpha / 2.0, 2.0 * k) / 2.0, 0.0)
        upper = stats.chi2.ppf(1.0 - alpha / 2.0, 2.0 * k + 2.0) / 2.0
        scale = np.where(ok, per / np.where(ok, pops, 1.0), np.nan)
    out = df.copy()
    out["rate"] = np.where(ok, counts * scale, np.nan)
    out["rate_lower"] = np.where(ok, lower * scale, np.nan)
    out["rate_upper"] = np.where(ok, upper * scale, np.nan)
    return out
