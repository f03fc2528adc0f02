"""Power and detectable change of the before–after test under year-to-year shocks.

The test is :func:`medlofte_analysis.stats.rate_ratio.panel_rate_ratio`: conditional on the
total ``n = x0 + x1`` the follow-up count is tested against ``BetaBin(n, a, b)``, where the
dispersion it applies, ``phi(n) = 1 + omega n p0 (1 - p0)`` (:func:`period_dispersion` at the
counts expected under no change; ``p0 = E1 / (E0 + E1)``), makes

    a = 1 / (omega (1 - p0)),   b = 1 / (omega p0)         (the same for every n)

with ``omega`` the test's shock variance of the log ratio of the two period totals (the pooled
shock variance times ``w' R w`` and the t allowance). This module computes how often that very
test rejects when the follow-up rate is ``R`` times the baseline rate and the counts are what
the dispersion module says they are (lognormal-Poisson: Zeger 1988, *Biometrika* 75, 621-629)::

    x0 ~ Poisson(mu0 exp(s0)),  x1 ~ Poisson(R mu0 r exp(s1)),  r = E1 / E0,
    (s0, s1) normal, mean -var/2 (mean-one factors), covariance from sigma2 and rho

where ``var0 = sigma2 w0' R w0`` (``w0`` the baseline years' exposure shares, ``R = rho^|t-s|``),
``var1`` likewise and ``cov01 = sigma2 w0' R01 w1``. Two things the earlier calculation got
wrong and the calibration suite showed (power 0.64-0.76 at the reported increase with 5 events
a year, 0.66-0.93 at decreases): the shocks are multiplicative (their variance on the log scale
is the same at every ``R``; a fixed ``phi`` makes it shrink as ``1/R`` for increases), and the
test's dispersion grows with the observed total (``phi(n)``), so a larger total under an
increase makes the test more cautious.

The test does not know ``sigma2``: it uses the panel's estimate, with an allowance for its
``nu`` degrees of freedom (:func:`shock_allowance`; ``nu`` from the jackknife over the panel's
units, :func:`medlofte_analysis.stats.dispersion.contrast_shock_df`). As in the power of
Student's t-test, power is averaged over equally likely values of the test's estimate in
repeated samples. How the estimate varies comes from a parametric bootstrap of the panel
(:func:`medlofte_analysis.stats.dispersion.bootstrap_contrast_variances`: 128 panels drawn from
the fit, with the share of the shocks common to every unit estimated from the panel, and
estimated exactly as the test estimates; Efron & Tibshirani 1993, ch. 6): the truth
is taken to be the median-unbiased estimate (the estimate divided by the bootstrap median of
``omega*/omega_hat``) and the test's estimate varies around it as the bootstrap estimates vary
around the estimate (three equally likely strata). ``mu0``, the baseline's expected count, is
the target's pre-period rate times the baseline's exposure
(:func:`medlofte_analysis.stats.rate_ratio.panel_rate_ratio`). Why not the plug-in estimate
spread as ``chi2_nu / nu`` (used when no bootstrap is given, e.g. without a constant-rate fit):
on panels shaped like the Dalarna data the estimate is skewed, its median 5-7 % below the
truth, and it varies more than the jackknife's ``nu`` says (``nu`` of 13 by its spread across
panels against a median jackknife ``nu`` of 21 with 7 comparison units and 100 events a year);
the reported changes were too small, power at them 0.71-0.74 in four cells of the calibration
suite with 7 comparison units and 20-100 events a year. The bootstrap of independent units
matched the estimate's spread across panels (0.58 / 0.93 / 1.47 against 0.56 / 0.94 / 1.58 of
the truth, 7 units, 100 events, 6 + 2 years) but not its median once year shocks are shared
(below). (Dividing by the median of ``chi2_nu / nu`` instead was tried:
0.75 at 100 events but 0.86 at 20, where the estimate errs the other way.)

What the calibration suite shows (2 000 replicates a cell, the reported change the median over
all 2 000 null panels, seed 20261127): power at the reported change 0.77-0.84 over the 42
cells and directions (mean 0.80), type-I error 2.2-5.6 %, coverage at least 94.4 %. Before
the year shocks common to every unit entered the bootstrap it was 0.74-0.84 (median over 400
null panels): with 7 comparison units, 100 events a year and a 6-year baseline the reported changes
were about 2 % too small (0.743 and 0.751 at the reported increase and decrease with a 2-year
follow-up, 0.766 and 0.758 with 1 year; now 0.773 / 0.776 and 0.788 / 0.788). The cause:
shocks shared by every unit in a year do not average out over the units, so the estimate's
median was 0.89 of the true contrast variance and the bootstrap of independent units
corrected it only to 0.93 (now 0.977; without year shocks the estimate's median is 0.97).
(With the ``chi2_nu / nu`` spread and the baseline's own count as ``mu0`` it
was 0.70-0.84 at 500 replicates; that count, with its year's shock and Poisson noise, made
the change reported with 5 events a year and a 1-year baseline too large: power 0.83-0.89
over five seeds.) What remains is the one-AR(1) model of shocks that are partly common to all
years: with the shock variance known the model said 0.80 where simulation gave 0.786.

Exact while the smaller period's expected count under no change is at most
:data:`EXACT_MAX_SMALLER` (and the total at most :data:`EXACT_MAX_TOTAL`): the counts
are enumerated and the shocks integrated by two-dimensional Gauss-Hermite quadrature, and the
test's rejection region is computed per total from the beta-binomial law (from 800 events on
from its beta approximation, within one count). When the counts would spread over more than
a thousand (large shocks, or an increase of many times) the sum runs per shock node instead:
given the node the total is Poisson and the follow-up count binomial given the total. (With
large shocks and few events the normal approximation below is far off: 0.79 against 0.69 by
Monte Carlo of the test for Mora's violence against men, 10 events, log-variance 1.3.)

Beyond :data:`EXACT_MAX_SMALLER` / :data:`EXACT_MAX_TOTAL`, on the log scale:
``L = ln(x1 / x0) - ln r ~ N(ln R - (var1 - var0)/2, 1/mu0 + 1/(R mu0 r) + var_L)`` against
the test's normal critical value ``z sqrt(1/(N p0 (1 - p0)) + omega)`` at the expected
total ``N``, the logit-scale variance of the beta-binomial above. Against the exact power
it errs by up to 3-4 percentage points when one period's count is 10-40 (the log of a small
count is skewed; with the spread of the test's shock averaged over, about 1 point) and by
1-2 points when both exceed 40, hence the switch.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special, stats

from medlofte_analysis.stats.dispersion import median_unbiased_spread, variance_scales
from medlofte_analysis.stats.roots import power_root

__all__ = ["BeforeAfterPower", "EXACT_MAX_SMALLER", "EXACT_MAX_TOTAL", "shock_allowance"]

#: Enumerate the counts while the smaller period's expected count under no change is at most
#: this (and the total at most EXACT_MAX_TOTAL); above, the normal approximation is close.
EXACT_MAX_SMALLER = 40.0
EXACT_MAX_TOTAL = 300.0
_N_NODES = 6
_EXACT_MAX_COUNT = 1000
_NODE_MAX_TOTAL = 20_000.0
#: Totals from which the critical counts come from the beta approximation of the null law.
_BETA_APPROX_FROM = 800
_N_SCALES = 3


@functools.lru_cache(maxsize=8)
def _hermite(n: int) -> tuple[np.ndarray, np.ndarray]:
    x, w = np.polynomial.hermite.hermgauss(n)
    return x * math.sqrt(2.0), w / math.sqrt(math.pi)


def shock_allowance(omega: float, poisson: float, df: float, alpha: float) -> float:
    """Factor on an estimated shock variance ``omega`` (``df`` degrees of freedom) beside a
    known Poisson variance ``poisson`` so that a normal critical value gives Student's:
    ``z sqrt(poisson + f omega) = t_nu sqrt(poisson + omega)`` with Satterthwaite's
    ``nu = (poisson + omega)^2 / (omega^2 / df)`` for the sum (Satterthwaite 1946; Welch
    1947). 1 when there is no shock or its df is unbounded."""
    if not (omega > 0 and math.isfinite(df) and df > 0):
        return 1.0
    if not math.isfinite(poisson):
        poisson = 0.0
    nu = (poisson + omega) ** 2 / (omega**2 / df)
    # scipy.special's quantiles (as scipy.stats.norm / t compute them, without the
    # distribution objects' argument checks: this runs for every row of a national run)
    z = float(special.ndtri(1.0 - alpha / 2.0))
    widen = (float(special.stdtrit(nu, 1.0 - alpha / 2.0)) / z) ** 2
    return (widen * (poisson + omega) - poisson) / omega


def _rounded_shock(omega: float) -> float:
    """The test shock to 2 % (and the null share to 0.001, :attr:`BeforeAfterPower.p0`): the
    power moves by well under a percentage point, and the critical counts computed for one
    municipality serve every other with nearly the same shocks (the national evaluation)."""
    if not omega > 1e-12:
        return 0.0
    return float(math.exp(round(math.log(omega) / 0.02) * 0.02))


def _poisson_pmf(k: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Poisson pmf, rows = means, columns = counts ``k``."""
    mean = np.asarray(mean, dtype=float)[:, None]
    with np.errstate(divide="ignore"):
        log_mean = np.log(mean)
    log_pmf = k[None, :] * log_mean - mean - special.gammaln(k + 1.0)[None, :]
    # no subnormal numbers (they slow the matrix products down a hundredfold)
    return np.where(log_pmf > -600.0, np.exp(np.maximum(log_pmf, -600.0)), 0.0)


def _support_top(means: np.ndarray) -> int:
    """A count above which Poisson counts with these (node) means have negligible mass."""
    high = float(np.max(means))
    return int(high + 6.0 * math.sqrt(high) + 8.0)


@dataclass(frozen=True)
class BeforeAfterPower:
    """The before–after test in repeated samples (module docstring).

    ``test_shocks`` are the equally likely values of the test's ``omega``; ``var0``, ``var1``,
    ``cov01`` the true log-variances of the period totals' shock factors.
    """

    mu0: float
    exposure_ratio: float
    var0: float
    var1: float
    cov01: float
    test_shocks: tuple[float, ...]
    alpha: float = 0.05

    @classmethod
    def from_panel(
        cls,
        mu0: float,
        exposure_ratio: float,
        sigma2: float,
        rho: float,
        baseline_years: tuple[int, ...],
        baseline_exposures: np.ndarray,
        followup_years: tuple[int, ...],
        followup_exposures: np.ndarray,
        shock_df: float,
        alpha: float,
        spread: np.ndarray | None = None,
    ) -> BeforeAfterPower:
        """From the pooled shocks (``sigma2``, ``rho``), the periods' years and exposures and
        the df of the estimated shock variance (:func:`contrast_shock_df`): the test's shock at
        each point of its spread carries the test's allowance (:func:`shock_allowance`).

        ``spread``: the contrast's estimated shock variance in bootstrap panels drawn from the
        estimate, divided by the estimate
        (:func:`medlofte_analysis.stats.dispersion.bootstrap_contrast_variances`). Then the
        truth is the median-unbiased estimate (the estimate over the bootstrap median) and the
        test's estimate varies around the truth as the bootstrap estimates vary around the
        estimate, instead of the plug-in estimate spread as ``chi2_nu / nu`` (module
        docstring); that spread also when the bootstrap median is below
        :data:`~medlofte_analysis.stats.dispersion.MIN_BOOTSTRAP_MEDIAN`."""
        sigma2 = max(float(sigma2), 0.0) if math.isfinite(sigma2) else 0.0
        scales = variance_scales(float(shock_df), _N_SCALES) if shock_df > 0 else np.ones(1)
        bootstrap = median_unbiased_spread(spread, _N_SCALES) if sigma2 > 0 else None
        if bootstrap is not None:
            sigma2 /= bootstrap[0]
            scales = bootstrap[1]
        e0 = np.asarray(baseline_exposures, dtype=float)
        e1 = np.asarray(followup_exposures, dtype=float)
        w0, w1 = e0 / e0.sum(), e1 / e1.sum()
        y0 = np.asarray(baseline_years, dtype=float)
        y1 = np.asarray(followup_years, dtype=float)

        def quad(wa: np.ndarray, ya: np.ndarray, wb: np.ndarray, yb: np.ndarray) -> float:
            return float(wa @ (rho ** np.abs(ya[:, None] - yb[None, :])) @ wb)

        var0, var1 = sigma2 * quad(w0, y0, w0, y0), sigma2 * quad(w1, y1, w1, y1)
        cov01 = sigma2 * quad(w0, y0, w1, y1)
        omega = max(var0 + var1 - 2.0 * cov01, 0.0)
        poisson = 1.0 / mu0 + 1.0 / (mu0 * exposure_ratio) if mu0 > 0 else math.inf
        shocks = [v * shock_allowance(v, poisson, shock_df, alpha) for v in omega * scales]
        return cls(
            float(mu0), float(exposure_ratio), var0, var1, cov01,
            tuple(_rounded_shock(v) for v in shocks), float(alpha),
        )  # fmt: skip

    @property
    def p0(self) -> float:
        """The test's null share of the total in the follow-up, to 0.001 (see
        :func:`_rounded_shock`)."""
        return round(self.exposure_ratio / (1.0 + self.exposure_ratio), 3)

    @property
    def exact(self) -> bool:
        smaller = self.mu0 * min(1.0, self.exposure_ratio)
        total = self.mu0 * (1.0 + self.exposure_ratio)
        return smaller <= EXACT_MAX_SMALLER and total <= EXACT_MAX_TOTAL

    # exact enumeration --------------------------------------------------------------------

    @functools.cached_property
    def _nodes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Gauss-Hermite nodes (s0, s1) of the shocks and their weights."""
        x, w = _hermite(_N_NODES)
        z0, z1 = np.meshgrid(x, x, indexing="ij")
        weights = np.outer(w, w).ravel()
        cov = np.array([[self.var0, self.cov01], [self.cov01, self.var1]])
        vals, vecs = np.linalg.eigh(cov)
        root = vecs * np.sqrt(np.clip(vals, 0.0, None))
        s = np.column_stack([z0.ravel(), z1.ravel()]) @ root.T
        return s[:, 0] - self.var0 / 2.0, s[:, 1] - self.var1 / 2.0, weights

    def _exact_power(self, ratio: float) -> float:
        s0, s1, weights = self._nodes
        means0 = self.mu0 * np.exp(s0)
        means1 = ratio * self.mu0 * self.exposure_ratio * np.exp(s1)
        top0 = _support_top(means0)
        top1 = _support_top(means1) if ratio > 0 else 0
        p0 = _poisson_pmf(np.arange(top0 + 1, dtype=float), means0)
        p1 = _poisson_pmf(np.arange(top1 + 1, dtype=float), means1)
        # P(x0, x1); einsum, not a BLAS product: threaded BLAS on small matrices is slow on a
        # busy machine (about 30 ms instead of 1 ms here)
        joint = np.einsum("ni,nj->ij", p0 * weights[:, None], p1)
        # P(n, x1) with n = x0 + x1, cumulated over x1: the mass the test rejects given n is
        # the cumulated mass up to its lower critical count plus the mass from its upper one
        x1 = np.arange(top1 + 1)
        by_total = np.zeros((top0 + top1 + 1, top1 + 1))
        by_total[np.arange(top0 + 1)[:, None] + x1[None, :], x1[None, :]] = joint
        cumulated = np.cumsum(by_total, axis=1)
        rows = np.arange(top0 + top1 + 1)
        reject = 0.0
        for omega in self.test_shocks:
            lo, hi = _null_bounds(self.p0, omega, self.alpha, top0 + top1 + 1)
            lo, hi = lo[: rows.size].astype(np.intp), hi[: rows.size].astype(np.intp)
            below = np.where(lo >= 0, cumulated[rows, np.clip(lo, 0, top1)], 0.0)
            above = np.where(
                hi <= top1, cumulated[:, -1] - cumulated[rows, np.clip(hi - 1, 0, top1)], 0.0
            )
            above = np.where(hi <= 0, cumulated[:, -1], above)
            reject += float(np.sum(below) + np.sum(above))
        return float(min(1.0, reject / len(self.test_shocks)))

    # normal approximation -----------------------------------------------------------------

    def _normal_power(self, ratio: float, rough: bool = False) -> float:
        """Normal power (module docstring); ``rough``: the test's critical values from the
        normal approximation of its null law, not its exact critical counts (a starting
        guess for the exact search)."""
        if ratio <= 0:
            return 0.0
        mu1 = ratio * self.mu0 * self.exposure_ratio
        shift = math.log(ratio) - (self.var1 - self.var0) / 2.0
        sd = math.sqrt(
            1.0 / self.mu0 + 1.0 / mu1 + max(self.var0 + self.var1 - 2.0 * self.cov01, 0.0)
        )
        # the expected total to 1 % above 100 (cache hits), and at most 20 000 (beyond, the
        # binomial part of the critical value is negligible)
        total = self.mu0 + mu1
        if total > 100:
            total = math.exp(round(math.log(total) / 0.01) * 0.01)
        total = min(max(1, int(round(total))), 20_000)
        if rough:
            z = float(special.ndtri(1.0 - self.alpha / 2.0))
            binomial = 1.0 / (total * self.p0 * (1.0 - self.p0))
            crit = z * np.sqrt(binomial + np.asarray(self.test_shocks))
            return float(
                np.mean(special.ndtr((shift - crit) / sd) + special.ndtr((-shift - crit) / sd))
            )
        reject = 0.0
        for omega in self.test_shocks:
            # one row per total, cached: the whole table up to large totals for every test
            # shock met in a national run costs more than it saves
            lo, hi = _row_bounds(total, self.p0, omega, self.alpha)
            # the rejected counts as log ratios, half a count beyond the last accepted one
            low, high = -math.inf, math.inf
            if lo >= 0:
                low = math.log((lo + 0.5) / (total - lo - 0.5)) - math.log(self.exposure_ratio)
            if hi <= total:
                high = math.log((hi - 0.5) / (total - hi + 0.5)) - math.log(self.exposure_ratio)
            reject += special.ndtr((low - shift) / sd) + special.ndtr((shift - high) / sd)
        return float(reject / len(self.test_shocks))

    def power(self, ratio: float) -> float:
        """Probability that the test rejects at ``alpha`` when the true ratio is ``ratio``."""
        if self.mu0 <= 0:
            return math.nan
        return self._exact_or_normal(ratio) if self.exact else self._normal_power(ratio)

    def _exact_or_normal(self, ratio: float) -> float:
        """The exact power: enumerated over both counts while they stay below
        :data:`_EXACT_MAX_COUNT` together, else per shock node given the total
        (:meth:`_exact_power_by_node`, an increase of many times or shocks so large that the
        counts spread over thousands); normal only beyond :data:`_NODE_MAX_TOTAL`."""
        s0, s1, _ = self._nodes
        means1 = ratio * self.mu0 * self.exposure_ratio * np.exp(s1)
        means0 = self.mu0 * np.exp(s0)
        if _support_top(means0) + _support_top(means1) <= _EXACT_MAX_COUNT:
            return self._exact_power(ratio)
        if float(np.max(means0 + means1)) <= _NODE_MAX_TOTAL:
            return self._exact_power_by_node(ratio)
        return self._normal_power(ratio)

    def _exact_power_by_node(self, ratio: float) -> float:
        """Exact power summed per shock node: given the node's shocks the total is
        ``Poisson(lambda)`` and the follow-up count given the total ``Bin(n, pi)``, so the
        rejected mass given ``n`` is two binomial tails beyond the test's critical counts
        (``scipy.special.bdtr``); only the totals within 7 standard deviations of each
        node's mean are summed."""
        s0, s1, weights = self._nodes
        lam0 = self.mu0 * np.exp(s0)
        lam1 = ratio * self.mu0 * self.exposure_ratio * np.exp(s1)
        lam = lam0 + lam1
        pi = (lam1 / lam)[:, None]
        reach = 7.0 * np.sqrt(lam) + 8.0
        first = np.maximum(np.floor(lam - reach), 0.0)
        width = int(np.max(np.ceil(lam + reach) - first)) + 1
        n = first[:, None] + np.arange(width)[None, :]
        pois = np.exp(n * np.log(lam)[:, None] - lam[:, None] - special.gammaln(n + 1.0))
        index = n.astype(np.intp)
        reject = 0.0
        for omega in self.test_shocks:
            lo, hi = _null_bounds(self.p0, omega, self.alpha, int(index.max()) + 1)
            low_k, high_k = lo[index], hi[index]
            low = np.where(low_k >= 0, special.bdtr(np.maximum(low_k, 0), index, pi), 0.0)
            high = np.where(
                high_k <= 0,
                1.0,
                np.where(high_k <= index, special.bdtrc(np.maximum(high_k - 1, 0), index, pi), 0.0),
            )
            reject += float(weights @ np.sum(pois * (low + high), axis=1))
        return float(min(1.0, reject / len(self.test_shocks)))

    def detectable(self, power: float = 0.8) -> tuple[float, float]:
        """Smallest increase and decrease (ratios) detected with probability ``power``:
        ``inf`` / ``0`` when no change of that direction is (on the log scale of the normal
        path the decrease's power has a maximum short of R = 0: the follow-up's own Poisson
        noise swamps it). Roots to 0.002 on the log scale
        (:func:`~medlofte_analysis.stats.roots.power_root`); the exact path starts from the
        normal path's root, so it evaluates the exact power a handful of times."""
        if self.mu0 <= 0:
            return math.inf, 0.0

        def normal_gap(log_r: float) -> float:
            return self._normal_power(math.exp(log_r), rough=self.exact) - power

        up_guess = power_root(normal_gap, 0.0, _MAX_LOG_RATIO, None)
        best = optimize.minimize_scalar(
            lambda v: -normal_gap(v),
            bounds=(-_MAX_LOG_RATIO, -1e-6),
            method="bounded",
            options={"xatol": 1e-3},
        )
        down_guess = power_root(normal_gap, 0.0, float(best.x), None)
        if not self.exact:
            return _ratio(up_guess, math.inf), _ratio(down_guess, 0.0)

        def gap(log_r: float) -> float:
            return self._exact_or_normal(math.exp(log_r)) - power

        up = power_root(gap, 0.0, _MAX_LOG_RATIO, 1.0 if up_guess is None else up_guess)
        # exact power grows as the follow-up count shrinks to 0
        start = -1.0 if down_guess is None else down_guess
        down = power_root(gap, 0.0, -_MAX_LOG_RATIO, start)
        return _ratio(up, math.inf), _ratio(down, 0.0)


#: Ratios beyond e^8 (about 3 000 times) are reported as not detectable.
_MAX_LOG_RATIO = 8.0


def _ratio(log_r: float | None, none: float) -> float:
    return none if log_r is None else math.exp(log_r)


#: Critical counts of the null law per (p0, omega, alpha), for totals 0..len-1; extended on
#: demand (an MDE search meets ever larger totals) and bounded (a long session).
_BOUNDS: dict[tuple[float, float, float], tuple[np.ndarray, np.ndarray]] = {}
_BOUNDS_MAX = 4096


def _null_bounds(p0: float, omega: float, alpha: float, size: int) -> tuple[np.ndarray, np.ndarray]:
    """For every total ``n < size`` (at least): the largest ``x1`` the test rejects in the
    lower tail (-1: none) and the smallest it rejects in the upper tail, under the null law
    ``BetaBin(n, a, b)`` (binomial when ``omega`` is 0) putting at most ``alpha/2`` there."""
    key = (p0, omega, alpha)
    lo, hi = _BOUNDS.get(key, (np.empty(0), np.empty(0)))
    if lo.size >= size:
        return lo, hi
    if key not in _BOUNDS and len(_BOUNDS) >= _BOUNDS_MAX:
        _BOUNDS.clear()
    cap = max(int(1.2 * size) + 16, 64)
    exact_cap = min(cap, max(lo.size, _BETA_APPROX_FROM))
    new_lo, new_hi = np.empty(0), np.empty(0)
    if exact_cap > lo.size:
        new_lo, new_hi = _bounds_rows(p0, omega, alpha, lo.size, exact_cap)
    if cap > exact_cap:
        far_lo, far_hi = _beta_bounds(p0, omega, alpha, max(lo.size, exact_cap), cap)
        new_lo, new_hi = np.concatenate([new_lo, far_lo]), np.concatenate([new_hi, far_hi])
    lo, hi = np.concatenate([lo, new_lo]), np.concatenate([hi, new_hi])
    _BOUNDS[key] = (lo, hi)
    return lo, hi


def _bounds_rows(
    p0: float, omega: float, alpha: float, first: int, cap: int
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_null_bounds` for the totals ``first .. cap - 1``.

    Per total ``n`` only a window of ``x1`` within 8 standard deviations of the null mean is
    computed (the mass outside is negligible, far below ``alpha/2``)."""
    # ln pmf[n, k] = of_n[n] + of_k[k] + of_rest[n - k]: vectors of log-gamma terms, so the
    # special functions are evaluated cap times, not cap^2 (as power._alternative_law does)
    n = np.arange(first, cap, dtype=float)
    k = np.arange(cap, dtype=float)
    spread = n * p0 * (1.0 - p0)
    if omega <= 1e-12:
        of_k = k * math.log(p0) - special.gammaln(k + 1.0)
        of_rest = k * math.log1p(-p0) - special.gammaln(k + 1.0)
        of_n = special.gammaln(n + 1.0)
    else:
        a, b = 1.0 / (omega * (1.0 - p0)), 1.0 / (omega * p0)
        of_k = special.gammaln(k + a) - special.gammaln(k + 1.0)
        of_rest = special.gammaln(k + b) - special.gammaln(k + 1.0)
        of_n = special.gammaln(n + 1.0) - special.gammaln(n + a + b) - special.betaln(a, b)
        spread = spread * (1.0 + np.maximum(n - 1.0, 0.0) / (a + b + 1.0))
    reach = 8.0 * np.sqrt(spread) + 3.0
    start = np.clip(np.floor(n * p0 - reach), 0.0, n).astype(np.intp)
    last = np.clip(np.ceil(n * p0 + reach), 0.0, n).astype(np.intp)
    window = start[:, None] + np.arange(int(np.max(last - start)) + 1)[None, :]
    inside = window <= last[:, None]
    kk = np.where(inside, window, 0)
    rest = np.where(inside, n.astype(np.intp)[:, None] - kk, 0)
    log_pmf = of_n[:, None] + of_k[kk] + of_rest[rest]
    pmf = np.where(inside, np.exp(np.where(inside, log_pmf, -np.inf)), 0.0)
    pmf /= pmf.sum(axis=1, keepdims=True)
    half = alpha / 2.0 * (1.0 + 1e-12)
    low = np.cumsum(pmf, axis=1) <= half
    high = (np.cumsum(pmf[:, ::-1], axis=1)[:, ::-1] <= half) & inside
    lo = start + low.sum(axis=1) - 1
    hi = last + 1 - high.sum(axis=1)
    return lo, hi


def _beta_bounds(
    p0: float, omega: float, alpha: float, first: int, cap: int
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_null_bounds` for the totals ``first .. cap - 1`` from the beta approximation of
    the null law (the share ``x1 / n`` as a beta variable with the beta-binomial's mean and
    variance, a continuity correction of half a count): within one count of the exact
    critical counts from 400 events on (checked in the tests; used from 800)."""
    n = np.arange(first, cap, dtype=float)
    spread = p0 * (1.0 - p0)
    inflate = 1.0 if omega <= 1e-12 else 1.0 + (n - 1.0) / (1.0 / (omega * spread) + 1.0)
    size = n / inflate - 1.0  # a + b of the matching beta: Var(x1/n) = spread / (a + b + 1)
    a, b = p0 * size, (1.0 - p0) * size
    lo = np.floor(n * stats.beta.ppf(alpha / 2.0, a, b) - 0.5)
    hi = np.ceil(n * stats.beta.isf(alpha / 2.0, a, b) + 0.5)
    return lo, hi


@functools.lru_cache(maxsize=4096)
def _row_bounds(n: int, p0: float, omega: float, alpha: float) -> tuple[float, float]:
    """:func:`_null_bounds` for one total ``n`` (the normal path's critical counts)."""
    k = np.arange(n + 1, dtype=float)
    log_pmf = special.gammaln(n + 1) - special.gammaln(k + 1) - special.gammaln(n - k + 1)
    if omega <= 1e-12:
        log_pmf = log_pmf + k * math.log(p0) + (n - k) * math.log1p(-p0)
    else:
        a, b = 1.0 / (omega * (1.0 - p0)), 1.0 / (omega * p0)
        log_pmf = log_pmf + special.betaln(k + a, n - k + b) - special.betaln(a, b)
    pmf = np.exp(log_pmf - log_pmf.max())
    pmf /= pmf.sum()
    half = alpha / 2.0 * (1.0 + 1e-12)
    lo = float(np.sum(np.cumsum(pmf) <= half) - 1)
    hi = float(n + 1 - np.sum(np.cumsum(pmf[::-1]) <= half))
    return lo, hi
