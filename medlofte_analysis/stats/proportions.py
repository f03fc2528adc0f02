"""Survey proportions: Wilson interval, Newcombe difference, differences from published CIs.

Methods
-------
* Wilson (1927) score interval for one proportion.
* Newcombe (1998) method 10 ("hybrid score"): the difference ``p1 - p2`` with limits
  ``d - sqrt((p1-l1)^2 + (u2-p2)^2)`` and ``d + sqrt((u1-p1)^2 + (p2-l2)^2)``, where
  ``(l_i, u_i)`` are the Wilson limits (Newcombe, R. G. 1998, *Stat Med* 17, 873-890).
* Test and interval agree: the reported p-value is the one implied by the interval itself,
  the smallest ``alpha`` at which the ``1 - alpha`` interval excludes 0 (solved with brentq),
  so ``p <= alpha`` exactly when the interval excludes 0. The pooled two-proportion z test
  (``z = (p1 - p2) / sqrt(pbar(1-pbar)(1/n1 + 1/n2))``, Agresti 2013 §3.1), which can
  disagree with Newcombe's interval at the boundary (0/20 vs 4/20: z gives p = 0.035, the
  interval includes 0), is kept as ``p_value_z``.
* When only published estimates with symmetric 95 % intervals are available, the standard
  error is recovered as ``SE = (upper - lower) / (2 z_{1-alpha/2})`` (Altman & Bland 2011,
  *BMJ* 343:d2090). Figures published rounded (NTU: whole percent, ``rounding = 0.01``) carry
  a rounding error uniform on ``±rounding/2``: variance ``rounding^2/12`` for the estimate and
  ``2 rounding^2/12`` for the interval width, added to ``SE^2`` as
  ``rounding^2/12 * (1 + 2/(2 z)^2)`` (Sheppard's correction, used here conservatively as an
  allowance). Each share gets a logit-scale interval ``expit(logit p -/+ z SE/(p(1-p)))``, which
  stays inside 0-100 %, and the difference is combined from them by MOVER (Zou & Donner 2008,
  *Stat Med* 27, 1693-1702; Newcombe's method 10 is MOVER with Wilson limits):
  ``L = d - sqrt((p1-l1)^2 + (u2-p2)^2)``, ``U = d + sqrt((u1-p1)^2 + (p2-l2)^2)``.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import pandas as pd
from scipy import optimize, special, stats

__all__ = [
    "ProportionDifference",
    "wilson_interval",
    "newcombe_difference",
    "se_from_interval",
    "difference_from_published_intervals",
    "p_value_from_interval",
]


def p_value_from_interval(interval, null: float = 0.0) -> float:
    """The p-value implied by a family of intervals ``interval(alpha) -> (lower, upper)``:
    the smallest ``alpha`` whose interval excludes ``null`` (1 if none does). Intervals must
    shrink as ``alpha`` grows; solved with brentq on ``alpha`` in (1e-12, 1 - 1e-9)."""

    def gap(alpha: float) -> float:
        lower, upper = interval(alpha)
        return max(lower - null, null - upper)  # > 0: the interval excludes the null

    lo, hi = 1e-12, 1.0 - 1e-9
    if gap(hi) <= 0:
        return 1.0
    if gap(lo) > 0:
        return 0.0
    return float(optimize.brentq(gap, lo, hi, xtol=1e-10))


@dataclass(frozen=True)
class ProportionDifference:
    """Difference follow-up minus baseline (in proportion units, i.e. 0.05 = 5 percentage
    points) with its interval, two-sided p-value, the method used and a note on anything
    degenerate."""

    difference: float
    ci_lower: float
    ci_upper: float
    p_value: float
    method: str
    note: str = ""
    se: float = math.nan
    p_value_z: float = math.nan


def _z(alpha: float) -> float:
    if not (isinstance(alpha, numbers.Real) and 0.0 < float(alpha) < 1.0):
        raise ValueError(f"alpha must be a number strictly between 0 and 1, got {alpha!r}")
    return float(stats.norm.ppf(1.0 - float(alpha) / 2.0))


def _proportion(p: float, name: str) -> float:
    if p is None or p is pd.NA:
        return math.nan
    if not isinstance(p, numbers.Real):
        raise ValueError(f"{name} must be a proportion in [0, 1], got {p!r}")
    v = float(p)
    if math.isnan(v):
        return v
    if not 0.0 <= v <= 1.0:
        raise ValueError(f"{name} must be a proportion in [0, 1] (not a percentage), got {p!r}")
    return v


def _size(n: float, name: str) -> float:
    if n is None or n is pd.NA:
        return math.nan
    if not isinstance(n, numbers.Real):
        raise ValueError(f"{name} must be a non-negative number of respondents, got {n!r}")
    v = float(n)
    if math.isnan(v):
        return v
    if math.isinf(v) or v < 0:
        raise ValueError(f"{name} must be a non-negative number of respondents, got {n!r}")
    return v


def wilson_interval(p: float, n: float, alpha: float = 0.05) -> tuple[float, float]:
    """Wilson (1927) score interval for a proportion ``p`` observed in ``n`` respondents.

    ``centre = (p + z^2/(2n)) / (1 + z^2/n)``,
    ``half = z/(1 + z^2/n) * sqrt(p(1-p)/n + z^2/(4n^2))``.

    Returns ``(nan, nan)`` for missing ``p``/``n`` or ``n = 0``. Raises ``ValueError`` for ``p``
    outside [0, 1] or negative ``n``. ``n`` may be an effective sample size (non-integer).
    """
    z = _z(alpha)
    pv = _proportion(p, "p")
    nv = _size(n, "n")
    if math.isnan(pv) or math.isnan(nv) or nv == 0:
        return (math.nan, math.nan)
    z2n = z * z / nv
    centre = (pv + z2n / 2.0) / (1.0 + z2n)
    half = z / (1.0 + z2n) * math.sqrt(pv * (1.0 - pv) / nv + z * z / (4.0 * nv * nv))
    return (max(0.0, centre - half), min(1.0, centre + half))


def _mover(p1: float, l1: float, u1: float, p2: float, l2: float, u2: float) -> tuple[float, float]:
    """MOVER limits of ``p1 - p2`` from the two shares' limits (Zou & Donner 2008)."""
    d = p1 - p2
    return d - math.hypot(p1 - l1, u2 - p2), d + math.hypot(u1 - p1, p2 - l2)


def _newcombe_limits(p1: float, n1: float, p2: float, n2: float, alpha: float):
    l1, u1 = wilson_interval(p1, n1, alpha)
    l2, u2 = wilson_interval(p2, n2, alpha)
    return _mover(p1, l1, u1, p2, l2, u2)


def newcombe_difference(
    p_followup: float,
    n_followup: float,
    p_baseline: float,
    n_baseline: float,
    alpha: float = 0.05,
) -> ProportionDifference:
    """Difference of two independent proportions, Newcombe (1998) method 10 (hybrid score).

    With Wilson limits ``(l1, u1)`` for the follow-up and ``(l2, u2)`` for the baseline and
    ``d = p1 - p2``: ``L = d - sqrt((p1-l1)^2 + (u2-p2)^2)``,
    ``U = d + sqrt((u1-p1)^2 + (p2-l2)^2)``. p-value from the pooled two-proportion z test.

    Missing values or ``n = 0`` give NaN with a ``note``. When the pooled proportion is 0 or 1
    (no variation at all) the z test is undefined: ``p_value`` is NaN with a note, the
    interval is still given.
    """
    _z(alpha)  # validates alpha
    p1 = _proportion(p_followup, "p_followup")
    p2 = _proportion(p_baseline, "p_baseline")
    n1 = _size(n_followup, "n_followup")
    n2 = _size(n_baseline, "n_baseline")
    method = "Newcombe (1998) method 10 (hybrid Wilson score); pooled two-proportion z test"
    nan = math.nan
    missing = [
        k
        for k, v in (("p_followup", p1), ("n_followup", n1), ("p_baseline", p2), ("n_baseline", n2))
        if math.isnan(v)
    ]
    if missing:
        return ProportionDifference(nan, nan, nan, nan, method, f"missing value in {missing}")
    zero = [k for k, v in (("n_followup", n1), ("n_baseline", n2)) if v == 0]
    if zero:
        return ProportionDifference(nan, nan, nan, nan, method, f"sample size 0 in {zero}")
    d = p1 - p2
    lower, upper = _newcombe_limits(p1, n1, p2, n2, alpha)
    pooled = (n1 * p1 + n2 * p2) / (n1 + n2)
    se0 = math.sqrt(pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2))
    note = ""
    if se0 == 0:
        p_value = p_z = nan
        note = "pooled proportion is 0 or 1 (no variation): z test undefined, p_value is NaN"
    else:
        p_z = float(2.0 * stats.norm.sf(abs(d) / se0))
        p_value = p_value_from_interval(lambda a: _newcombe_limits(p1, n1, p2, n2, a))
    method = "Newcombe (1998) method 10 (hybrid Wilson score); p-value inverted from it"
    return ProportionDifference(d, lower, upper, p_value, method, note, se0, p_z)


def se_from_interval(lower: float, upper: float, alpha: float = 0.05) -> float:
    """Standard error implied by a published symmetric ``1 - alpha`` interval:
    ``SE = (upper - lower) / (2 z_{1-alpha/2})`` (Altman & Bland 2011).

    NaN if a limit is missing; ``ValueError`` if ``upper < lower``.
    """
    z = _z(alpha)
    if lower is None or upper is None or math.isnan(float(lower)) or math.isnan(float(upper)):
        return math.nan
    lo, hi = float(lower), float(upper)
    if hi < lo:
        raise ValueError(f"upper ({upper!r}) must be >= lower ({lower!r})")
    return (hi - lo) / (2.0 * z)


def difference_from_published_intervals(
    p_followup: float,
    lower_followup: float,
    upper_followup: float,
    p_baseline: float,
    lower_baseline: float,
    upper_baseline: float,
    alpha: float = 0.05,
    published_alpha: float = 0.05,
    rounding: float = 0.0,
) -> ProportionDifference:
    """Difference of two published survey estimates using SEs derived from their intervals.

    ``SE_i = (upper_i - lower_i) / (2 z_{1 - published_alpha/2})``,
    plus the rounding allowance when ``rounding`` > 0 (module docstring); logit-scale
    intervals per share combined by MOVER; p-value inverted from that interval (the normal
    ``2 * (1 - Phi(|d|/SE))``, ``SE = sqrt(SE1^2 + SE2^2)``, is kept as ``p_value_z``).
    This is what is possible when only published estimates and 95 % intervals (e.g.
    Polisens trygghetsmätning) are available. A note warns when a published interval is
    clearly asymmetric around its estimate, where the implied SE is only a rough
    approximation.
    """
    _z(alpha)  # validates alpha
    zp = _z(published_alpha)
    level = f"{100.0 * (1.0 - float(published_alpha)):g} %"
    method = (
        f"SE härlett ur publicerat {level}-intervall, logit-skala per andel, MOVER för "
        f"skillnaden (SE derived from the published {level} interval; logit scale; MOVER)"
    )
    vals = {
        "p_followup": _proportion(p_followup, "p_followup"),
        "lower_followup": _proportion(lower_followup, "lower_followup"),
        "upper_followup": _proportion(upper_followup, "upper_followup"),
        "p_baseline": _proportion(p_baseline, "p_baseline"),
        "lower_baseline": _proportion(lower_baseline, "lower_baseline"),
        "upper_baseline": _proportion(upper_baseline, "upper_baseline"),
    }
    nan = math.nan
    missing = [k for k, v in vals.items() if math.isnan(v)]
    if missing:
        return ProportionDifference(nan, nan, nan, nan, method, f"missing value in {missing}")
    notes = []
    for side in ("followup", "baseline"):
        p, lo, hi = vals[f"p_{side}"], vals[f"lower_{side}"], vals[f"upper_{side}"]
        if not lo <= p <= hi:
            raise ValueError(
                f"p_{side} ({p}) must lie within [lower_{side}, upper_{side}] = [{lo}, {hi}]"
            )
        width = hi - lo
        if width > 0 and abs((hi - p) - (p - lo)) > 0.25 * width:
            notes.append(f"published {side} interval is asymmetric: SE is approximate")
    allowance = rounding * rounding / 12.0 * (1.0 + 2.0 / (2.0 * zp) ** 2)
    se1 = math.sqrt(
        ((vals["upper_followup"] - vals["lower_followup"]) / (2.0 * zp)) ** 2 + allowance
    )
    se2 = math.sqrt(
        ((vals["upper_baseline"] - vals["lower_baseline"]) / (2.0 * zp)) ** 2 + allowance
    )
    p1, p2 = vals["p_followup"], vals["p_baseline"]
    d = p1 - p2
    se = math.sqrt(se1 * se1 + se2 * se2)
    if rounding > 0:
        notes.append(
            f"published figures rounded to {rounding * 100:g} percentage point(s): rounding "
            "error added to the SEs"
        )
    if se == 0:
        notes.append("both published intervals have zero width: SE is 0, no test possible")
        return ProportionDifference(d, nan, nan, nan, method, "; ".join(notes), se)

    def at(a: float) -> tuple[float, float]:
        za = float(stats.norm.ppf(1.0 - a / 2.0))
        return _mover(p1, *_logit_limits(p1, se1, za), p2, *_logit_limits(p2, se2, za))

    lower, upper = at(float(alpha))
    p_z = float(2.0 * stats.norm.sf(abs(d) / se))
    return ProportionDifference(
        d, lower, upper, p_value_from_interval(at), method, "; ".join(notes), se, p_z
    )


def _logit_limits(p: float, se: float, z: float) -> tuple[float, float]:
    """Interval for a share on the logit scale (inside 0-1); at 0 or 1 the normal interval
    cut to [0, 1]."""
    if p <= 0.0 or p >= 1.0:
        return max(0.0, p - z * se), min(1.0, p + z * se)
    centre, half = special.logit(p), z * se / (p * (1.0 - p))
    return float(special.expit(centre - half)), float(special.expit(centre + half))
