"""Power and minimum detectable rate ratio for a follow-up vs baseline count comparison.

Normal approximation on the log rate ratio (Wald with the variance under the alternative,
as in Zhu & Lakkis 2014 / Zhu 2017 with ``method_var="alt"``; see also Breslow & Day 1987
vol. II §7.2 and Gu, Ng, Tang & Schucany 2008, *Biom J* 50, 283-298)::

    mu0 = expected baseline count, mu1 = R * mu0 * exposure_ratio
    SE  = sqrt(dispersion * (1/mu0 + 1/mu1))
    power(R) = Phi(|ln R|/SE - z_{1-alpha/2}) + Phi(-|ln R|/SE - z_{1-alpha/2})

``dispersion`` is the quasi-Poisson factor (variance = dispersion * mean). The real power of
the exact conditional test (see :mod:`medlofte_analysis.stats.rate_ratio`) differs from this
approximation by several percentage points: with exposure_ratio = 2 and mu0 = 20 the normal
MDRs 2.01 (increase) and 0.387 (decrease) have exact power 0.83 and 0.75.
:func:`exact_rate_ratio_power` gives the exact power of that test (Poisson counts, dispersion 1),
and ``minimum_detectable_ratio(..., method="exact")`` solves with it.

Exact power (Gail 1974, *Biometrics* 30, 231-237, conditional binomial test): with
``n = x1 + x0 ~ Poisson(mu0 + mu1)`` and ``x1 | n ~ Bin(n, pi)``, ``pi = mu1/(mu0 + mu1)``::

    power = sum_n Poisson(n; mu0 + mu1) * P_pi(x1 in rejection region of the level-alpha
            central exact test of p0 = E1/(E1 + E0) given n)
"""

from __future__ import annotations

import functools
import math
import numbers

import numpy as np
from scipy import optimize, special, stats

__all__ = ["rate_ratio_power", "exact_rate_ratio_power", "minimum_detectable_ratio"]

#: Above this expected total (both periods) the exact power sum is slow and the normal
#: approximation close: ``method="auto"`` switches to it.
EXACT_MAX_TOTAL = 80.0


def _check(
    expected_baseline: float, exposure_ratio: float, dispersion: float, alpha: float
) -> None:
    for name, v in (
        ("expected_baseline", expected_baseline),
        ("exposure_ratio", exposure_ratio),
        ("dispersion", dispersion),
    ):
        if not isinstance(v, numbers.Real) or math.isnan(float(v)) or math.isinf(float(v)):
            raise ValueError(f"{name} must be a finite number, got {v!r}")
    if expected_baseline < 0:
        raise ValueError(
            f"expected_baseline must be a non-negative expected count, got {expected_baseline!r}"
        )
    if exposure_ratio <= 0:
        raise ValueError(
            f"exposure_ratio must be > 0 (follow-up exposure / baseline exposure), "
            f"got {exposure_ratio!r}"
        )
    if dispersion < 1e-12:
        raise ValueError(f"dispersion must be > 0 (1 = Poisson), got {dispersion!r}")
    if not (isinstance(alpha, numbers.Real) and 0.0 < float(alpha) < 1.0):
        raise ValueError(f"alpha must be strictly between 0 and 1, got {alpha!r}")


def _power(
    ratio: float, mu0: float, exposure_ratio: float, dispersion: float, z_crit: float
) -> float:
    mu1 = ratio * mu0 * exposure_ratio
    se = math.sqrt(dispersion * (1.0 / mu0 + 1.0 / mu1))
    shift = abs(math.log(ratio)) / se
    return float(stats.norm.cdf(shift - z_crit) + stats.norm.cdf(-shift - z_crit))


def rate_ratio_power(
    ratio: float,
    expected_baseline: float,
    exposure_ratio: float = 1.0,
    dispersion: float = 1.0,
    alpha: float = 0.05,
) -> float:
    """Power of the two-sided level-``alpha`` test of ``R = 1`` when the true rate ratio is
    ``ratio`` (normal approximation on ln R, variance ``dispersion*(1/mu0 + 1/mu1)``; see the
    module docstring). Equals ``statsmodels.stats.rates.power_poisson_ratio_2indep`` with
    ``method_var="alt", alternative="two-sided"``.

    ``expected_baseline = 0`` or ``ratio = 0`` -> NaN (no information: the variance is
    infinite; power is undefined in this approximation). ``ratio = 1`` -> ``alpha``.
    """
    _check(expected_baseline, exposure_ratio, dispersion, alpha)
    if not isinstance(ratio, numbers.Real) or math.isnan(float(ratio)) or ratio < 0:
        raise ValueError(f"ratio must be a non-negative number, got {ratio!r}")
    if expected_baseline == 0 or ratio == 0 or math.isinf(float(ratio)):
        return math.nan
    z_crit = float(stats.norm.ppf(1.0 - alpha / 2.0))
    return _power(float(ratio), float(expected_baseline), exposure_ratio, dispersion, z_crit)


#: Rejection regions of the beta-binomial test per (p0, theta, alpha): ``(lo, hi)`` with
#: ``lo[n]`` the largest x1 rejected in the lower tail (-1: none) and ``hi[n]`` the smallest
#: rejected in the upper tail (NaN for totals n not computed yet). They depend on neither the
#: ratio nor mu0, so one MDE search (and every search with the same inputs) computes each
#: row of the null law once.
_NULL_REGIONS: dict[tuple[float, float, float], tuple[np.ndarray, np.ndarray]] = {}
_NULL_REGIONS_MAX = 4096  # keys kept; beyond that the cache starts afresh (a long session)


def _betabinomial_law(
    n: np.ndarray, a: np.ndarray | float, b: np.ndarray | float, width: int
) -> tuple[np.ndarray, np.ndarray]:
    """Rows ``BetaBin(n, a, b)`` (normalised) over columns k = 0..width-1, 0 where k > n;
    and the mask k <= n."""
    k = np.arange(width, dtype=float)[None, :]
    inside = k <= n
    kk, rest = np.where(inside, k, 0.0), np.where(inside, n - k, 0.0)
    log_choose = special.gammaln(n + 1) - special.gammaln(kk + 1) - special.gammaln(rest + 1)
    with np.errstate(over="ignore", invalid="ignore"):
        log_pmf = log_choose + special.betaln(kk + a, rest + b) - special.betaln(a, b)
        pmf = np.where(inside, np.exp(np.where(inside, log_pmf, -np.inf)), 0.0)
    return pmf / pmf.sum(axis=1, keepdims=True), inside


def _alternative_law(n: np.ndarray, a: float, b: float, width: int) -> np.ndarray:
    """:func:`_betabinomial_law` for parameters ``a, b`` that do not depend on ``n`` (the law
    under the alternative): ``ln C(n,k) + ln B(k+a, n-k+b) - ln B(a,b)`` split into log-gamma
    terms of ``k``, of ``n - k`` and of ``n`` alone, so the special functions are evaluated
    on vectors of length ``width``, not on the whole (n, k) grid. Agrees with the grid form
    to rounding (about 1e-13 relative)."""
    k = np.arange(width, dtype=float)
    inside = k[None, :] <= n
    rest = np.where(inside, n - k[None, :], 0.0).astype(np.intp)
    of_k = special.gammaln(k + a) - special.gammaln(k + 1)  # also serves n - k with b
    of_rest = special.gammaln(k + b) - special.gammaln(k + 1)
    of_n = special.gammaln(n + 1) - special.gammaln(n + a + b) - special.betaln(a, b)
    log_pmf = of_n + of_k[None, :] + of_rest[rest]
    pmf = np.where(inside, np.exp(np.where(inside, log_pmf, -np.inf)), 0.0)
    return pmf / pmf.sum(axis=1, keepdims=True)


def _null_regions(
    lo_n: int, hi_n: int, p0: float, theta: float, alpha: float
) -> tuple[np.ndarray, np.ndarray]:
    """``(lo, hi)`` of :data:`_NULL_REGIONS` for the totals lo_n..hi_n: the test rejects
    where the null law ``BetaBin(n, p0 n/theta, (1-p0) n/theta)`` puts at most ``alpha/2`` in
    a tail (the observed total plugged in for the unknown mean total)."""
    key = (p0, theta, alpha)
    if key not in _NULL_REGIONS and len(_NULL_REGIONS) >= _NULL_REGIONS_MAX:
        _NULL_REGIONS.clear()
    lo, hi = _NULL_REGIONS.get(key, (np.empty(0), np.empty(0)))
    if lo.size <= hi_n:
        pad = np.full(hi_n + 1 - lo.size, np.nan)
        lo, hi = np.concatenate([lo, pad]), np.concatenate([hi, pad])
        _NULL_REGIONS[key] = (lo, hi)
    todo = lo_n + np.flatnonzero(np.isnan(lo[lo_n : hi_n + 1]))
    if todo.size:
        n = todo.astype(float)[:, None]
        null, inside = _betabinomial_law(n, p0 * n / theta, (1.0 - p0) * n / theta, hi_n + 1)
        half = alpha / 2.0 * (1 + 1e-12)
        low_tail = np.cumsum(null, axis=1) <= half  # a prefix of k: the sums only grow
        high_tail = (np.cumsum(null[:, ::-1], axis=1)[:, ::-1] <= half) & inside  # a suffix
        lo[todo] = low_tail.sum(axis=1) - 1.0
        hi[todo] = n[:, 0] + 1.0 - high_tail.sum(axis=1)
    return lo[lo_n : hi_n + 1], hi[lo_n : hi_n + 1]


def _betabinomial_power(
    ratio: float, mu0: float, exposure_ratio: float, alpha: float, dispersion: float
) -> float:
    """Exact power of the conditional beta-binomial test (NB1 counts, variance phi x mean;
    :func:`medlofte_analysis.stats.rate_ratio.overdispersed_rate_ratio`): the total ``n`` is
    negative binomial (mean ``mu0 + mu1``, variance ``phi`` times it) and, given ``n``,
    ``x1 ~ BetaBin(n, mu1/theta, mu0/theta)``, ``theta = phi - 1``; the test rejects where the
    null law ``BetaBin(n, p0 n/theta, (1-p0) n/theta)`` puts at most ``alpha/2`` in a tail
    (:func:`_null_regions`, computed once per ``p0, theta, alpha``)."""

    theta = dispersion - 1.0
    mu1 = ratio * mu0 * exposure_ratio
    mean_total = mu0 + mu1
    p0 = exposure_ratio / (1.0 + exposure_ratio)
    size, prob = mean_total / theta, 1.0 / (1.0 + theta)
    lo_n = max(1, int(stats.nbinom.ppf(1e-7, size, prob)))
    hi_n = int(stats.nbinom.isf(1e-7, size, prob)) + 1
    n = np.arange(lo_n, hi_n + 1, dtype=float)[:, None]
    lo, hi = (region[:, None] for region in _null_regions(lo_n, hi_n, p0, theta, alpha))
    k = np.arange(hi_n + 1, dtype=float)[None, :]
    reject = (k <= lo) | ((k >= hi) & (k <= n))
    if ratio == 0:
        alt_reject = reject[:, 0].astype(float)
    else:
        alt_reject = np.sum(
            _alternative_law(n, mu1 / theta, mu0 / theta, hi_n + 1) * reject, axis=1
        )
    power = float(np.sum(stats.nbinom.pmf(n[:, 0], size, prob) * alt_reject))
    return min(1.0, power)


def exact_rate_ratio_power(
    ratio: float,
    expected_baseline: float,
    exposure_ratio: float = 1.0,
    alpha: float = 0.05,
    dispersion: float = 1.0,
) -> float:
    """Exact power of the two-sided central exact conditional test of ``R = 1`` (the test in
    :func:`medlofte_analysis.stats.rate_ratio.rate_ratio`, rejecting when ``p <= alpha``)
    for Poisson counts (Gail 1974; formula in the module docstring).

    ``expected_baseline = 0`` -> NaN (no information). ``ratio = 0`` is allowed (all
    follow-up counts 0). Rejection regions come from ``scipy.stats.binom`` quantiles,
    vectorised over the total ``n``. With ``dispersion > 1`` the power of the beta-binomial
    test for negative binomial counts (:func:`_betabinomial_power`).
    """
    _check(expected_baseline, exposure_ratio, dispersion, alpha)
    if not isinstance(ratio, numbers.Real) or math.isnan(float(ratio)) or ratio < 0:
        raise ValueError(f"ratio must be a non-negative number, got {ratio!r}")
    if expected_baseline == 0 or math.isinf(float(ratio)):
        return math.nan
    if dispersion > 1.0 + 1e-12:
        return _betabinomial_power(
            float(ratio), float(expected_baseline), float(exposure_ratio), alpha, dispersion
        )
    mu0 = float(expected_baseline)
    mu1 = float(ratio) * mu0 * float(exposure_ratio)
    mean_total = mu0 + mu1
    p0 = exposure_ratio / (1.0 + exposure_ratio)
    pi = mu1 / mean_total
    lo_n = max(1, int(stats.poisson.ppf(1e-13, mean_total)))
    hi_n = int(stats.poisson.isf(1e-13, mean_total)) + 1
    n = np.arange(lo_n, hi_n + 1, dtype="float64")
    half = alpha / 2.0
    tol = 1e-12
    # lower rejection: x <= x_lo with P0(X <= x) <= alpha/2
    d = stats.binom.ppf(half, n, p0)
    x_lo = np.where(stats.binom.cdf(d, n, p0) <= half * (1 + tol), d, d - 1.0)
    # upper rejection: x >= x_hi with P0(X >= x) <= alpha/2
    c = stats.binom.ppf(1.0 - half, n, p0)
    x_hi = np.where(stats.binom.sf(c - 1.0, n, p0) <= half * (1 + tol), c, c + 1.0)
    reject = stats.binom.cdf(x_lo, n, pi) * (x_lo >= 0) + stats.binom.sf(x_hi - 1.0, n, pi)
    weights = stats.poisson.pmf(n, mean_total)
    return float(min(1.0, np.sum(weights * reject)))


def minimum_detectable_ratio(
    expected_baseline: float,
    exposure_ratio: float = 1.0,
    dispersion: float = 1.0,
    alpha: float = 0.05,
    power: float = 0.8,
    direction: str = "increase",
    method: str = "normal",
) -> float:
    """Minimum detectable rate ratio: the ratio closest to 1 (>1 for ``"increase"``, <1 for
    ``"decrease"``) that a two-sided level-``alpha`` test detects with probability ``power``.
    Solved with :func:`scipy.optimize.brentq` on :func:`rate_ratio_power` (module docstring).

    Returns ``inf`` for ``"increase"`` when no finite ratio reaches the power (e.g.
    ``expected_baseline = 0``). For ``"decrease"`` returns ``0.0`` when no decrease short of
    complete disappearance reaches the power: in the log-ratio approximation the variance
    grows as the follow-up count shrinks, so the attainable power for decreases has a
    maximum; with few baseline events it stays below ``power``.

    ``method="exact"`` solves with :func:`exact_rate_ratio_power` instead (the exact
    conditional test; with ``dispersion > 1`` its beta-binomial form for negative binomial
    counts). ``method="auto"``: exact while the expected total of both periods is at most
    :data:`EXACT_MAX_TOTAL` events, normal above (where the two agree closely). Exact power
    is a step-like function of the ratio at small counts; the root found is where it first
    reaches ``power`` within the bracket.
    """
    _check(expected_baseline, exposure_ratio, dispersion, alpha)
    if not (isinstance(power, numbers.Real) and float(alpha) < float(power) < 1.0):
        raise ValueError(f"power must be strictly between alpha ({alpha}) and 1, got {power!r}")
    if direction not in ("increase", "decrease"):
        raise ValueError(f"direction must be 'increase' or 'decrease', got {direction!r}")
    if method not in ("normal", "exact", "auto"):
        raise ValueError(f"method must be 'normal', 'exact' or 'auto', got {method!r}")
    if method == "exact" and dispersion < 1.0:
        raise ValueError("method='exact' needs dispersion >= 1 (1 = Poisson counts)")
    if method == "auto":
        total = expected_baseline * (1.0 + exposure_ratio)
        method = "exact" if dispersion >= 1.0 and total <= EXACT_MAX_TOTAL else "normal"
    if expected_baseline == 0:
        return math.inf if direction == "increase" else 0.0
    mu0 = float(expected_baseline)
    z_crit = float(stats.norm.ppf(1.0 - alpha / 2.0))

    if method == "exact":
        # Cached on rounded inputs (dispersion to 0.02, exposure ratio to 0.005; the MDE
        # moves by well under a percentage point): the evaluation of many municipalities
        # meets the same small counts again and again.
        return _exact_mdr(
            round(mu0, 6),
            round(float(exposure_ratio) * 200) / 200,
            max(1.0, round(float(dispersion) * 50) / 50),
            float(alpha), float(power), direction,
        )  # fmt: skip

    def gap(log_r: float) -> float:
        return _power(math.exp(log_r), mu0, exposure_ratio, dispersion, z_crit) - power

    if direction == "increase":
        hi = 1.0
        while gap(hi) < 0:
            hi *= 2.0
            if hi > 700.0:  # exp(700) overflows soon after: nothing finite is detectable
                return math.inf
        return math.exp(optimize.brentq(gap, 0.0, hi, xtol=1e-12))
    # decrease: power has a single maximum on ln R < 0; find it, then solve between it and 0
    res = optimize.minimize_scalar(lambda lr: -gap(lr), bounds=(-50.0, -1e-9), method="bounded")
    if -res.fun < 0:
        return 0.0
    return math.exp(optimize.brentq(gap, float(res.x), 0.0, xtol=1e-12))


@functools.lru_cache(maxsize=65536)
def _exact_mdr(
    mu0: float, exposure_ratio: float, dispersion: float, alpha: float, power: float, direction: str
) -> float:
    """Minimum detectable ratio of the exact conditional test (see minimum_detectable_ratio)."""

    def exact_gap(log_r: float) -> float:
        return (
            exact_rate_ratio_power(math.exp(log_r), mu0, exposure_ratio, alpha, dispersion) - power
        )

    if direction == "increase":
        hi = 1.0
        while exact_gap(hi) < 0:
            hi *= 2.0
            if hi > 16.0:  # ratio > 8.9e6: treat as not detectable
                return math.inf
        return math.exp(optimize.brentq(exact_gap, 0.0, hi, xtol=1e-4))
    if exact_rate_ratio_power(0.0, mu0, exposure_ratio, alpha, dispersion) < power:
        return 0.0
    lo = -1.0
    while exact_gap(lo) < 0:
        lo *= 2.0
    return math.exp(optimize.brentq(exact_gap, lo, 0.0, xtol=1e-4))
