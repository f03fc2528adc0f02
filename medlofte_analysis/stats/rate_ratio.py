"""Exact conditional comparison of two Poisson rates (follow-up vs baseline).

Conditional on the total ``n = x1 + x0``, the follow-up count is
``x1 ~ Binomial(n, p)`` with ``p = R*E1 / (R*E1 + E0)``, where ``R`` is the follow-up/baseline
rate ratio and ``E1``, ``E0`` the exposures (e.g. person-years: sums of populations over the
pooled years). Hence ``R = p*E0 / ((1-p)*E1)``.

* Interval: Clopper & Pearson (1934) limits for ``p`` transformed to ``R``
  (Breslow & Day 1987, vol. II, §2.2, eq. 2.11; Ederer & Mantel 1974).
* Two-sided exact p-value: twice the smaller tail, capped at 1 (the "central" rule),
  ``p = min(1, 2*min(P(X <= x1), P(X >= x1)))`` under ``p0 = E1/(E1 + E0)``.
* Mid-p (Lancaster 1961): each tail counts half the probability of the observed value;
  the mid-p interval solves ``P(X > x1; p) + P(X = x1; p)/2 = alpha/2`` (lower) and
  ``P(X < x1; p) + P(X = x1; p)/2 = alpha/2`` (upper) with :func:`scipy.optimize.brentq`.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import pandas as pd
from scipy import optimize, stats

__all__ = ["RateRatio", "rate_ratio"]


@dataclass(frozen=True)
class RateRatio:
    """Follow-up/baseline rate ratio with exact and mid-p conditional inference.

    ``note`` is empty when everything could be computed; otherwise it says why a field is NaN
    or infinite.
    """

    ratio: float
    ci_lower: float
    ci_upper: float
    p_value: float
    p_value_midp: float
    ci_lower_midp: float
    ci_upper_midp: float
    count_followup: float
    count_baseline: float
    exposure_followup: float
    exposure_baseline: float
    alpha: float = 0.05
    method: str = (
        "Exact conditional (binomial) test and Clopper-Pearson interval, plus mid-p "
        "(Breslow & Day 1987 vol. II §2; Ederer & Mantel 1974; Lancaster 1961)"
    )
    note: str = ""


def _validate(value: float, name: str, *, integer: bool) -> float:
    """Return the value as float (NaN if missing); raise ValueError if invalid."""
    if value is None or value is pd.NA:
        return math.nan
    if not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a non-negative number, got {value!r}")
    v = float(value)
    if math.isnan(v):
        return v
    if math.isinf(v) or v < 0:
        raise ValueError(f"{name} must be a non-negative finite number, got {value!r}")
    if integer and v != math.floor(v):
        raise ValueError(f"{name} must be a whole number of events, got {value!r}")
    return v


def _p_to_ratio(p: float, e1: float, e0: float) -> float:
    if p >= 1.0:
        return math.inf
    return p * e0 / ((1.0 - p) * e1)


def _midp_limits(x: float, n: float, alpha: float) -> tuple[float, float]:
    """Mid-p limits for a binomial proportion (x of n)."""
    half = alpha / 2.0
    cp_lo = 0.0 if x == 0 else float(stats.beta.ppf(half, x, n - x + 1))
    cp_hi = 1.0 if x == n else float(stats.beta.ppf(1 - half, x + 1, n - x))
    if x == 0:
        lower = 0.0
    else:

        def f_lo(p: float) -> float:
            return float(stats.binom.sf(x, n, p) + 0.5 * stats.binom.pmf(x, n, p) - half)

        lower = float(optimize.brentq(f_lo, cp_lo, x / n, xtol=1e-14, rtol=1e-12))
    if x == n:
        upper = 1.0
    else:

        def f_hi(p: float) -> float:
            below = stats.binom.cdf(x - 1, n, p) if x > 0 else 0.0
            return float(below + 0.5 * stats.binom.pmf(x, n, p) - half)

        upper = float(optimize.brentq(f_hi, x / n, cp_hi, xtol=1e-14, rtol=1e-12))
    return lower, upper


def rate_ratio(
    count_followup: float,
    exposure_followup: float,
    count_baseline: float,
    exposure_baseline: float,
    alpha: float = 0.05,
) -> RateRatio:
    """Rate ratio ``(x1/E1) / (x0/E0)`` with exact conditional inference.

    Method (Breslow & Day 1987, vol. II §2; Ederer & Mantel 1974): given ``n = x1 + x0``,
    ``x1 ~ Bin(n, p)``, ``p = R*E1/(R*E1 + E0)``. The Clopper-Pearson interval ``(pL, pU)``
    gives ``R_L = pL*E0/((1-pL)*E1)``, ``R_U = pU*E0/((1-pU)*E1)``. The two-sided p-value
    for ``R = 1`` uses ``p0 = E1/(E1+E0)`` and the central rule
    ``min(1, 2*min(P(X<=x1), P(X>=x1)))``; the mid-p version (Lancaster 1961) replaces each
    tail by ``P(X<x1) + P(X=x1)/2`` resp. ``P(X>x1) + P(X=x1)/2``.

    Degenerate input gives NaN/inf with a ``note``: zero events in both periods, zero or
    missing exposure, missing counts. Zero baseline events give ``ratio = inf`` and
    ``ci_upper = inf`` (the lower limit and p-value stay informative). Negative or
    non-integer counts, negative exposures and ``alpha`` outside (0, 1) raise ``ValueError``.
    """
    if not (isinstance(alpha, numbers.Real) and 0.0 < float(alpha) < 1.0):
        raise ValueError(f"alpha must be a number strictly between 0 and 1, got {alpha!r}")
    x1 = _validate(count_followup, "count_followup", integer=True)
    x0 = _validate(count_baseline, "count_baseline", integer=True)
    e1 = _validate(exposure_followup, "exposure_followup", integer=False)
    e0 = _validate(exposure_baseline, "exposure_baseline", integer=False)
    nan = math.nan

    def empty(note: str, ratio: float = nan) -> RateRatio:
        return RateRatio(
            ratio, nan, nan, nan, nan, nan, nan, x1, x0, e1, e0, float(alpha), note=note
        )

    missing = [
        name
        for name, v in (
            ("count_followup", x1),
            ("count_baseline", x0),
            ("exposure_followup", e1),
            ("exposure_baseline", e0),
        )
        if math.isnan(v)
    ]
    if missing:
        return empty(f"missing value (NaN) in {', '.join(missing)}: nothing computed")
    zero_exp = [n for n, v in (("exposure_followup", e1), ("exposure_baseline", e0)) if v == 0]
    if zero_exp:
        return empty(f"zero exposure in {', '.join(zero_exp)}: rate undefined, nothing computed")
    n = x1 + x0
    if n == 0:
        return empty("no events in either period: rate ratio undefined (0/0), no test possible")

    notes = []
    if x0 == 0:
        ratio = math.inf
        notes.append("no baseline events: ratio and upper limits are infinite")
    else:
        ratio = (x1 / e1) / (x0 / e0)
    if x1 == 0:
        notes.append("no follow-up events: ratio and lower limits are 0")

    half = alpha / 2.0
    p_lo = 0.0 if x1 == 0 else float(stats.beta.ppf(half, x1, n - x1 + 1))
    p_hi = 1.0 if x1 == n else float(stats.beta.ppf(1 - half, x1 + 1, n - x1))
    m_lo, m_hi = _midp_limits(x1, n, alpha)

    p0 = e1 / (e1 + e0)
    lower_tail = float(stats.binom.cdf(x1, n, p0))
    upper_tail = float(stats.binom.sf(x1 - 1, n, p0))
    point = float(stats.binom.pmf(x1, n, p0))
    p_value = min(1.0, 2.0 * min(lower_tail, upper_tail))
    p_midp = min(1.0, 2.0 * min(lower_tail - 0.5 * point, upper_tail - 0.5 * point))

    return RateRatio(
        ratio=ratio,
        ci_lower=_p_to_ratio(p_lo, e1, e0),
        ci_upper=_p_to_ratio(p_hi, e1, e0),
        p_value=p_value,
        p_value_midp=p_midp,
        ci_lower_midp=_p_to_ratio(m_lo, e1, e0),
        ci_upper_midp=_p_to_ratio(m_hi, e1, e0),
        count_followup=x1,
        count_baseline=x0,
        exposure_followup=e1,
        exposure_baseline=e0,
        alpha=float(alpha),
        note="; ".join(notes),
    )
