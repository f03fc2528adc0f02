"""Inference for ONE treated unit from its comparison (placebo) units, on the log-count scale.

Used by difference-in-differences (:mod:`medlofte_analysis.stats.did`) and the synthetic
control (:mod:`medlofte_analysis.stats.synth`): both produce, for the target and for every
comparison unit treated as if it were the target (a placebo), a log-scale gap ``d_u`` (observed
versus counterfactual follow-up) and the Poisson part ``v_u`` of its variance.

Why not a model standard error. With one treated unit and serially correlated year-to-year
shocks, model-based (GLM / quasi-Poisson) standard errors reject true nulls far too often
(Bertrand, Duflo & Mullainathan 2004, QJE 119:249-275; Conley & Taber 2011, REStat 93:113-125).
Conley & Taber's remedy is to learn the distribution of the treated unit's error from the
comparison units' placebo estimates. A pure rank test over J placebos cannot give p < 1/(J+1)
(0.067 with 14 units, 0.125 with 7), and the placebo units are larger or smaller than the
target, so their errors are not exchangeable with its error (Ferman & Pinto 2019, REStat
101:452-467, "Inference in differences-in-differences with few treated groups and
heteroskedasticity"). Following Ferman & Pinto we model the variance as a function of size:

    d_u ~ N(0, tau^2 + v_u)   under the null,   v_u = sum of 1/(count + 1/2) terms,

the Poisson variance of the log counts involved (known from the counts) plus ``tau^2``, the
variance of the year-to-year shocks common to all units (unknown, estimated from the placebos).
This is the random-effects model of meta-analysis with a known centre (0 under the null):
``tau^2`` is the median-unbiased Paule-Mandel / Q-profile estimate (Paule & Mandel 1982;
DerSimonian & Kacker 2007, Contemp. Clin. Trials 28:105-114; Viechtbauer 2007, Stat. Med.
26:37-52), the root of ``sum_j d_j^2 / (tau^2 + v_j) = median of chi2_J``, floored at 0
(the plain Paule-Mandel root of ``= J`` is too often 0 with 7 placebos, and the detectable
changes computed from it were too small). The target's statistic ``d_t / sqrt(tau^2 + v_t)``
is referred to Student's t with
``max(J, nu)`` degrees of freedom: ``nu`` is Satterthwaite's ``(tau^2 + v_t)^2 / Var(tau^2)``
with ``Var(tau^2) = 2 / sum_j (tau^2 + v_j)^-2`` (the inverse Fisher information of
``tau^2``), nearly normal when the target's own Poisson noise dominates; J is the floor, as
if the J placebos' squared gaps estimated the whole variance. The floor is a calibrated choice:
with placebos as noisy as the target, ``nu`` falls to 1-2 and the test never rejects (type-I
error 0-3 % and power 7-70 % at the reported detectable change in the calibration suite),
while ``max(J, nu)`` holds type-I error at or below 5-6 % in every cell (see the suite).
The interval inverts the same test, so test and interval always agree.

Counts of 0 are handled by adding 1/2 to every count (Haldane 1956; Anscombe 1956), which keeps
``d_u`` and ``v_u`` finite.

Detectable change (power). :func:`detectable_ratios` gives, for the test actually run, the
smallest increase and decrease (as ratios) found with 80 % power: the target's baseline and
follow-up counts are enumerated exactly from their Poisson distributions (the normal
approximation of the log of a small count is poor), the rest of the variance (``tau^2`` and
the comparison's Poisson noise) is normal, and the test's estimated ``tau^2`` varies as it
would in repeated samples: :func:`estimated_shock_spread` re-estimates it on 256 fixed draws
of the placebo gaps under the fitted model (with their own Poisson variances, the floor at 0
and the test's degrees of freedom), as in the power of Student's t-test. Treating ``tau^2``
as known, or spreading it as ``tau^2 chi2_J / J``, overstated the power (63-75 % at the
reported change in the calibration suite): when the placebos' Poisson noise dominates, the
estimate varies far more than that. Counts of 40 or more are not enumerated (normal on the
log scale).

The placebo draws are the placebos' own Poisson counts when the caller describes them
(:class:`PlaceboCounts`, as both callers do): a parametric bootstrap of the placebo units
under the null fit (Efron & Tibshirani 1993, ch. 6), each gap and its variance
``1/(count + 1/2)`` recomputed from the drawn counts exactly as the test computes them from
the observed ones, plus normal noise for the shocks and the comparison pool. The earlier
approximation, normal gaps with the variance at the observed counts, is poor at a few events
a year: there the estimate of ``tau^2`` is much more often 0 than normal gaps imply (diagnosis
at 5 events, 7 placebos: 60 % zeros and mean 0.096 across simulated panels, against 41 % and
0.24 predicted), so the reported increase was too large and its simulated power 84-89 %
instead of 80 % (calibration suite, difference-in-differences at 5 events, 4 of 8 cells over
85 %). With the counts drawn, those cells give 80-84 % (calibration suite, 500 replicates,
seed 20261127; synthetic control at 5 events 75-83 %, was up to 86.5 %).

Before the steadied truth (below), the calibration showed at 2 000 replicates a cell (seed
20261127): increases at 20-100 events a year reach 77.0-82.2 % (mean 78.8 %) for
difference-in-differences and 74.2-79.5 %
(mean 77.6 %) for the synthetic control, decreases 76.6-83.4 % (means 80.4 and 79.7 %), at 5
events 78-86 %; type-I error at most 4.7 %, coverage at least 95.3 %. Two cells miss by under
a point: the synthetic control with 7 units at 20 events and a 1-year baseline, 74.2 % (its
twin with a 6-year baseline, the same design with other seeds, 78.9 %), and
difference-in-differences with 14 units at 5 events, 6 + 1 years, 85.8 %. At 500 replicates
(the figures below) five increase cells fell below 75 %. Diagnosis:

* Part of it is noise. A cell's power varies by about 2.1-2.4 points at 500 replicates (1.8
  from the replicates, 1-1.6 from the median MDE of the 500 null panels), and the cells below
  75 % are the low draws of that noise: rerun with 1 500 replicates and another seed they give
  78 % (difference-in-differences, 14 units, 100 events, 6 + 2 years) and 76, 78, 77 and 77 %
  (synthetic control). The synthetic control does not use the baseline length, so its cells
  with 1 and 6 baseline years are the same calibration with other seeds: they differ by up to
  7.6 points (81.2 against 73.6 %), and each of its four cells below 75 % has its twin in the
  band (71.1 / 76.5, 73.6 / 81.2, 73.4 / 78.2, 74.7 / 79.8 %). The bias is real but small:
  at 1 500 replicates the increases at 20-100 events reach 77-81 % (mean 78.6 %) for
  difference-in-differences and 75-81 % (mean 77.7 %) for the synthetic control, the
  decreases 78-84 % (means 80.4 and 80.9 %); type-I error at most 5.0 %. The synthetic
  control with 14 units at 20 events stays at the edge (75-76 %).
* Each panel's own predicted power is right on average: at the median reported increase the
  mean over 1 500 simulated panels of the power :func:`power_at` predicts for each is 0.74
  against a simulated 0.76 (synthetic control, 7 units, 20 events, 1 + 1 years), 0.79 against
  0.79 (difference-in-differences, 14 units, 100 events, 6 + 2 years). The calibration compares
  the MEDIAN reported change with the power averaged over panels, and the panels' power at a
  given change is skewed (quintiles of predicted power for the synthetic control: 0.44, 0.64,
  0.78, 0.88, 0.95; simulated 0.36, 0.68, 0.82, 0.95, 0.98), so the average falls below the
  median panel's.
* What the model misses is the spread of the estimated ``tau^2`` for a GIVEN design (unit rates
  and populations fixed, 30 designs x 200 panels, synthetic control 7 / 20 / 1 / 1): at each
  design's median reported increase the power is 76 %; computed at the target's true excess
  variance it is 79 % with the design's simulated spread of ``tau^2``-hat and 75 % with the
  bootstrap's. The cause is dependence between the placebo gaps within a panel: drawing each
  placebo's gap from a different panel of the same design gives the bootstrap's spread, while
  the true per-placebo variances (a few placebos 3-10 times noisier than the rest) and the
  gaps' non-normality do not change it. For the synthetic control the target's gap moves with
  the placebos' (its excess variance 0.056 in panels whose ``tau^2``-hat is in the design's
  top quarter, 0.027 in the bottom quarter; none for difference-in-differences). What creates
  the dependence is not settled: not the concentration of the synthetic weights (rank
  correlation with ``tau^2``-hat -0.03), not the common year shocks or the autocorrelation
  alone (14 units, 20 events, 1 000 replicates: 77 % without the year shocks, 76 % without
  the autocorrelation, against 76 %); panels of equal units give 78 %.
* Tried and left out (median reported increase, synthetic control 7 / 20 / 1 / 1, simulated
  power 75 %): resampling the placebos' standardised gaps (74 %); each placebo's own excess
  variance ``max(d_j^2 - v_j, 0)`` in the draws (wild bootstrap: 80-83 % there, but 88-92 % at 5
  events and 87 % for difference-in-differences at 20); drawing the units and rebuilding every
  placebo gap from the same drawn pool (the linear correlation of the gaps; 75 %); averaging
  the power over the Q-profile confidence distribution of ``tau^2`` (assurance, O'Hagan et
  al. 2005: 83 %, but 86-90 % at 5 events); 32 or 256 points instead of 8 strata (+0.3
  points). Refitting the synthetic controls in every draw, the candidate left, would cost J
  fits x 256 draws per test, beyond the national run's time budget.

* Per panel the reported change is too optimistic. Re-simulating each panel's own design
  (the comparison units' rates and populations kept, new shocks and counts) at its OWN
  reported change (``benchmarks/bench_calibration.py --own-design``, 1 000 panels a cell,
  seed 20261127): increases at 20-100 events are detected in 72.6-80.8 % for
  difference-in-differences (72.6-77.2 % at 100 events) and 71.5-78.3 % for the synthetic
  control, decreases in 73.9-82.8 % and 75.4-80.4 % (before–after and trend: 74.6-83.9 %).
  The panels whose reported increase lies below the cell's median reach 54-68 %, those above
  it 86-94 % (before–after 64-76 % and 84-93 %). By the panel's ``tau^2``-hat (2 000 panels,
  synthetic control 7 / 20 / 1 / 1 and difference-in-differences 7 / 20 / 6 / 1): where it is
  0 (27-29 % of the panels) the power is 58-64 %, in the top quarter 94-98 %. The
  reported change follows the noise of ``tau^2``-hat from 7-14 placebo gaps, and the floor at 0
  takes the panels with the least apparent variation furthest below 80 %. At 5 events a
  year, in the cells where most panels find no decrease detectable, the panels that report
  one anyway (at most 40 % of them, every method) detect it in 14-73 % (cells with at least
  10 such panels): there a reported decrease mostly comes from a baseline that happened to be
  high. The remedy is the steadied truth below.

Steadied truth for the detectable change. Both callers pass the panel's pooled shock model
(:func:`medlofte_analysis.stats.dispersion.pooled_dispersion` over every unit's pre-years,
the fit the before–after test uses), and :func:`shock_prior` turns it into a prediction of
the target's gap variance: the unit's own share of the shocks over the change from the
baseline (the synthetic control: the whole pre-period, whose level it follows) to the
follow-up, plus its comparison pool's
(:func:`medlofte_analysis.stats.dispersion.gap_shock_variance`), with degrees of freedom from
the leave-one-unit-out jackknife. On simulated panels it centres on the target's true excess
variance with about 40 % of the spread of the placebos' estimate (20 events a year,
7 units: standard deviation 0.022 against 0.056, and nearly uncorrelated with it).
:func:`power_shock_variance` weights the two by their information, and the result is the
truth for the target's gap in the power calculation; the test, its interval and its p-value
never use it. For the synthetic control the test's own estimate is drawn at the placebos'
level where that is higher (its placebo fits are worse than the target's; see
:func:`placebo_t_test`). For difference-in-differences the prediction is median-unbiased by
its parametric bootstrap (:func:`shock_prior`): the product of three estimates is skewed,
its median was 15 % below the truth (14 units, 100 events, 6 + 2 years), and the detectable
change at 6-year baselines too small. Same seeds as above (2 000 replicates a cell; own
design 1 000 panels):

* Median reported change: increases at 20-100 events 77.0-83.7 % (mean 80.0 %; 73.6-81.0 %,
  mean 78.1 %, with the plain prediction) for difference-in-differences and 78.2-82.6 %
  (mean 80.2 %) for the synthetic control, decreases 78.6-84.6 % and 79.4-84.0 % (means
  81.0 and 81.3 %), at 5 events 79.9-86.3 % and 82.0-85.1 %; type-I error and coverage
  unchanged (the test is). Out of 75-85 %: difference-in-differences at 5 events with
  6 + 1 years, 85.7 and 86.3 % (7 and 14 units; 86.8 % with 14 units at another seed and
  4 000 replicates, so not noise), and the synthetic control there with 7 units, 85.1 %.
* The difference-in-differences rows at 5 events had two causes, both mended. (1) The
  target's expected follow-up count was taken as ``(baseline + 1/2)`` moved by the pool's
  change, less 1/2: with 6 baseline years of 5 events, 4.58 instead of 5 (and 10.5 instead
  of 10 with 1 + 2 years), so the power calculation drew too few (too many) events. The
  statistic's null value (``centre`` of :func:`power_at`) is now apart from the expected
  count, and so for every placebo (:class:`PlaceboCounts`). At the cell's median reported
  increase the mean over panels of the power :func:`power_at` predicted was 0.787 against a
  simulated 0.870 (14 units, 6 + 1 years), and 0.787 against 0.824 after this. (2) The
  rest came from the median-unbiasing of the prediction at fits on a bound of their
  parameter space (:func:`~medlofte_analysis.stats.dispersion.gap_shock_variance`), now
  left out there. Calibration after both (same seed, 2 000 replicates a cell):
  increases at 20-100 events 74.6-83.1 % (mean 79.4 %), decreases 77.4-82.4 % (mean
  80.6 %), at 5 events 80.2-83.3 % (mean 82.2 %); type-I error at most 4.7 %, coverage at
  least 95.3 %. The two rows at 74.6 and 74.8 % (7 and 14 units, 100 events, 6 + 2 years;
  their reported change moved by under 0.3 %) give 75.8 and 76.8 % at another seed with
  4 000 replicates: they lie at the lower edge, as the plain prediction's low median
  left them. At the first seed with 4 000 replicates: 73.5 and 76.9 % (the other rows as
  before: increases 76.1-82.9 % elsewhere at 20-100 events, type-I error at most 5.0 %,
  coverage at least 95.0 %), so the 7-unit row lies about 5 points below 80 %. The rows with
  6-year baselines at 20-100 events average 76.7 %, those with 1-year baselines 81.5 %. The cause
  found (mended: see "Fits on a bound" below): the prediction at fits whose autocorrelation sits
  on its lower bound 0 (13 % of the panels; 7 units, 100 events, 6 + 2 years, 400 panels) has a
  median of 0.46 times the target's true shock variance (at the upper bound 0.9, 9 %: 1.43; with
  no common share, 11 %: 1.15; fits inside the bounds: 1.02). The bootstrap median-unbiasing
  leaves such fits as they are (allowing it at that bound changed nothing), and replacing their
  prediction by the true value moved the row by 1-1.6 points in a 2 000-panel check. A second
  cause, also not mended: the pooled model has one autocorrelation for the common and the unit's
  own shocks, so it estimates their mix (median 0.34 and 0.285 with 6 + 2 and 1 + 1 years, where
  the simulated own shocks have 0.459 and the common ones none: the mix is 0.356). Over the
  contrast that predicts 4 % too little with 6 + 2 years and 19 % too much with 1 + 1 (the
  prediction's median there: 1.17 times the truth), the pattern of the rows above; a model with
  the two autocorrelations apart would mend it (not built: it would lower the 1-year rows about as
  much as it raises the 6-year ones).
* The synthetic control at 5 events with 7 units (83.5-85.1 % in its four cells, one
  over 85 %) came from the level at which its test's estimate is drawn. Taking the higher
  of the placebos' estimate and the truth picks the estimate's upper tail: from 7 placebo
  gaps at 5 events it is 0 in half the panels and up to several times the truth in the
  rest. Over 400 simulated null panels per cell the drawn estimates averaged 0.187 against
  0.125 for the test's own estimate across the panels (7 units, 5 events), 0.126 against
  0.089 (7 units, 20 events) and 0.082 against 0.064 (7 units, 100 events). The level is
  now at most :data:`PLACEBO_LEVEL_CAP` (3) times the truth. At each cell's median
  reported increase the median over panels of the predicted power moved +0.037 (7 units,
  5 events), +0.012 (14 units, 5 events), +0.019 (7 units, 20 events) and +0.003 (7
  units, 100 events); a cap at 2 moved the 20- and 100-event cells +0.026-0.028 too, and
  leaving the placebos' level out (the truth alone) +0.07-0.10. Ruled out first: the
  target's baseline noise. Redrawing only the target's baseline counts (200 panels x 40
  draws a cell), the synthetic gap varies 1.6-2.0 times as much as the ``1/(count + 1/2)``
  the power calculation gives it, not less (the weights move), so it is not what made the
  calculation cautious. Calibration with the cap (same seed, 2 000 replicates a cell):
  increases at 20-100 events 77.7-81.4 % (mean 79.3 %), decreases 77.8-82.7 % (mean
  80.4 %), at 5 events 81.0-83.5 % (mean 81.9 %); type-I error and coverage unchanged.
  Own design: increases at 20-100 events 74.0-80.8 % (mean 77.8 %, was 78.9 %), decreases
  76.2-83.5 % (mean 79.6 %).
* Fits on a bound. Where the pooled fit lies on a bound of its parameter space, the
  prediction's degrees of freedom are now the floor 2, not the leave-one-unit-out
  jackknife's (:func:`~medlofte_analysis.stats.dispersion.gap_shock_variance`), so the
  placebos' estimate carries the weight in :func:`power_shock_variance`. The jackknife, like
  the bootstrap, needs an estimator smooth at the truth, and a fit on a bound mostly stays
  there when a unit is left out: on 600 simulated panels (7 units, 100 events, 6 + 2 years)
  the fits with the autocorrelation at 0 (15 %) had a median jackknife df of 13.9 (88 % of
  their leave-one-out fits at 0 too) against 7.4 at interior fits, while predicting a median
  of 0.46 times the truth (interior fits 0.99), so the worst predictions weighed the most.
  In a check of the row alone (2 000 panels for the median reported change, 4 000 for the
  power, seeds apart from the suite's) it moved from 74.9 to 76.8 % (78.7 % with the oracle
  truth at those fits). Calibration (seed 20261127, 2 000 replicates a cell), every row in
  75-85 %: difference-in-differences increases at 20-100 events 76.4-84.0 % (mean 79.6 %;
  the row 7 units, 100 events, 6 + 2 years 78.3 %, was 74.6 %), decreases 77.4-83.1 %
  (mean 80.9 %), at 5 events 80.4-83.7 % (mean 82.3 %); the synthetic control, which
  shares the rule, 76.3-82.0 % (mean 78.8 %), 77.9-83.0 % (mean 80.7 %) and 79.9-82.9 %
  (mean 81.6 %); type-I error at most 4.7 % and 4.1 %, coverage at least 95.3 and 95.9 %
  (the tests are unchanged). Own design (1 000 panels a cell): increases at 20-100 events
  74.4-83.1 % (mean 78.5 %) and 74.5-80.2 % (mean 77.4 %), decreases 76.9-82.9 % (mean
  79.5 %) and 76.2-83.0 % (mean 79.4 %).
* Own design (the per-panel check above): increases at 20-100 events are detected in
  75.2-83.7 % (mean 79.4 %; was 76.5 % before the steadied truth) for
  difference-in-differences and 74.3-81.4 % (mean 78.9 %, was 74.8 %) for the synthetic
  control; the panels whose reported increase lies below the cell's median reach 63-77 %
  (was 54-68 %), those above it 81-92 % (was 86-94 %). Drawing the placebo gaps with their
  dependence (every unit's counts drawn once and summed into the other placebos' pools, as
  the test sums them) was tried: it lowered the drawn estimates more than it spread them,
  and the detectable change fell (73.9 % at 7 units, 100 events, 6 + 2 years).

:func:`detectable_ratios` returns ``inf`` / ``nan`` when no increase / decrease of any size
reaches 80 % power: then the report says that none is detectable.

The calibration suite (``benchmarks/bench_calibration.py``) checks coverage, type-I error and
power at the reported detectable change by simulation on panels shaped like the real data.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special, stats

from medlofte_analysis.stats.dispersion import PooledDispersion, gap_shock_variance
from medlofte_analysis.stats.roots import power_root

__all__ = [
    "PlaceboCounts",
    "PlaceboTest",
    "ShockPrior",
    "ShockSpread",
    "detectable_ratios",
    "estimated_shock_spread",
    "log_poisson_variance",
    "placebo_t_test",
    "power_shock_variance",
    "shock_prior",
    "shock_variance",
]

POWER = 0.8
HALF = 0.5
_MAX_DF = 1e6
# Enumerate counts exactly below this expected count; above it log(count) is close to normal.
_ENUMERATE_BELOW = 40.0
#: Draws of the placebo gaps for the spread of the estimated tau^2, summarised in strata.
_SPREAD_DRAWS = 256
_SPREAD_POINTS = 8
_SPREAD_SEED = 20261127
MAX_RATIO = 1000.0
#: First step out from the normal approximation's detectable change (log scale): at a few
#: events a year it is often a few tenths off.
_GUESS_STEP = 0.1
#: The synthetic control's placebo level for the drawn test estimate is at most this many
#: times the steadied truth (:func:`placebo_t_test`; calibrated, module docstring).
PLACEBO_LEVEL_CAP = 3.0


@dataclass(frozen=True)
class PlaceboTest:
    """The target's gap tested against the placebo units' gaps (see module docstring).

    Attributes
    ----------
    estimate : exp(d_t), the target's ratio (observed / counterfactual).
    ci_lower, ci_upper : (1 - alpha) interval inverting the test.
    p_value : two-sided, Student's t with ``df`` degrees of freedom.
    se_log : sqrt(tau^2 + v_t).
    df : degrees of freedom, max(J, Satterthwaite's).
    tau2 : Paule-Mandel estimate of the shock variance from the placebos.
    n_placebos : placebo units used.
    rank_p : Conley-Taber style rank p-value, (1 + #{|d_j| >= |d_t|}) / (J + 1), descriptive.
    mde_increase, mde_decrease : smallest ratios detectable with 80 % power (inf / nan: none).
    tau2_power : the shock variance taken as the truth for them (:func:`power_shock_variance`).
    """

    estimate: float
    ci_lower: float
    ci_upper: float
    p_value: float
    se_log: float
    df: float
    tau2: float
    n_placebos: int
    rank_p: float
    mde_increase: float
    mde_decrease: float
    tau2_power: float = float("nan")

    def interval(self, alpha: float) -> tuple[float, float]:
        """The interval at another level (e.g. a false-coverage-rate adjusted one)."""
        half = float(stats.t.ppf(1 - alpha / 2, self.df)) * self.se_log
        return self.estimate * float(np.exp(-half)), self.estimate * float(np.exp(half))


def log_poisson_variance(*counts: np.ndarray | float) -> np.ndarray:
    """Sum of 1/(count + 1/2): the Poisson variance of the sum of the (corrected) log counts."""
    return sum(1.0 / (np.asarray(c, dtype=float) + HALF) for c in counts)


@functools.lru_cache(maxsize=64)
def _chi2_median(J: int) -> float:
    """Median of chi2 with ``J`` df (``scipy.stats.chi2.ppf(0.5, J)``, from the inverse
    regularised gamma function as scipy computes it, cached: one per placebo count)."""
    return float(2.0 * special.gammaincinv(J / 2.0, 0.5))


def shock_variance(d: np.ndarray, v: np.ndarray) -> float:
    """Median-unbiased tau^2: root of sum d_j^2 / (tau^2 + v_j) = median of chi2_J (else 0)."""
    d, v = np.asarray(d, dtype=float), np.asarray(v, dtype=float)
    J = d.size

    target = _chi2_median(J) if J else 0.0

    def excess(tau2: float) -> float:
        return float(np.sum(d**2 / (tau2 + v)) - target)

    if J == 0 or excess(0.0) <= 0:
        return 0.0
    hi = float(np.max(d**2)) + 1.0
    return float(optimize.brentq(excess, 0.0, hi, xtol=1e-12))


def _satterthwaite_df(tau2: float, v_target: float, v: np.ndarray) -> float:
    var_tau2 = 2.0 / float(np.sum((tau2 + v) ** -2.0))
    return float(np.clip((tau2 + v_target) ** 2 / var_tau2, 1.0, _MAX_DF))


def placebo_t_test(
    d_target: float,
    v_target: float,
    d_placebo: np.ndarray,
    v_placebo: np.ndarray,
    alpha: float,
    pre_count: float,
    post_expected: float,
    v_other: float,
    placebo_counts: PlaceboCounts | None = None,
    prior: ShockPrior | None = None,
    placebos_noisier: bool = False,
    null_centre: float | None = None,
) -> PlaceboTest:
    """Test the target's log gap against the placebos' (module docstring) with its power.

    ``pre_count`` is the target's baseline count, ``post_expected`` its expected follow-up
    count under the null (counterfactual) and ``v_other`` the part of ``v_target`` that does
    not come from the target's own counts (the comparison's Poisson noise): they feed
    :func:`detectable_ratios`. ``placebo_counts`` describes the same for every placebo
    (:class:`PlaceboCounts`): the spread of the estimated ``tau^2`` is then simulated from
    the placebos' own Poisson counts (see :func:`estimated_shock_spread`). ``prior``, the
    pooled model's prediction of ``tau^2``, steadies the truth taken for the detectable
    change (:func:`power_shock_variance`); the test itself never uses it. The test's own
    estimate of ``tau^2`` is drawn (:func:`estimated_shock_spread`) at that truth too, or,
    with ``placebos_noisier``, at the placebos' own level when that is the higher: for the
    synthetic control, whose placebo donors at the edge of the others are fitted worse than
    the target (in the calibration panels their median-unbiased estimate is up to twice the
    target's excess variance), while the target's gap keeps the steadied truth. That level
    is at most :data:`PLACEBO_LEVEL_CAP` times the truth: from 7 placebo gaps at a few events
    a year the estimate is 0 in half the panels and far above the truth in others, and taking
    the higher of the two drew the test's estimate too high (module docstring). The
    difference-in-differences placebos are built exactly as the target's gap (each against
    the pool of the others), and their estimate lies within about 10 % of it.
    ``null_centre``: the target's statistic under the null as :func:`power_at` takes it.
    """
    d_placebo = np.asarray(d_placebo, dtype=float)
    v_placebo = np.asarray(v_placebo, dtype=float)
    tau2 = shock_variance(d_placebo, v_placebo)
    df = max(_satterthwaite_df(tau2, v_target, v_placebo), float(d_placebo.size))
    se = float(np.sqrt(tau2 + v_target))
    crit = float(special.stdtrit(df, 1 - alpha / 2))
    rank_p = float((1 + np.sum(np.abs(d_placebo) >= abs(d_target))) / (1 + d_placebo.size))
    truth = power_shock_variance(tau2, v_placebo, prior)
    level = min(max(tau2, truth), PLACEBO_LEVEL_CAP * truth) if placebos_noisier else truth
    spread = estimated_shock_spread(level, v_placebo, alpha, placebo_counts)
    up, down = detectable_ratios(
        pre_count,
        post_expected,
        truth + v_other,
        crit,
        tau2=truth,
        spread=spread,
        centre=null_centre,
    )
    return PlaceboTest(
        estimate=float(np.exp(d_target)),
        ci_lower=float(np.exp(d_target - crit * se)),
        ci_upper=float(np.exp(d_target + crit * se)),
        p_value=float(2 * stats.t.sf(abs(d_target) / se, df)),
        se_log=se,
        df=df,
        tau2=tau2,
        n_placebos=int(d_placebo.size),
        rank_p=rank_p,
        mde_increase=up,
        mde_decrease=down,
        tau2_power=truth,
    )


@dataclass(frozen=True)
class ShockPrior:
    """The pooled shock model's prediction of ``tau^2`` for the target's gap and its degrees
    of freedom (:func:`medlofte_analysis.stats.dispersion.gap_shock_variance`)."""

    tau2: float
    df: float


def power_shock_variance(tau2_hat: float, v_placebo: np.ndarray, prior: ShockPrior | None) -> float:
    """The shock variance taken as the truth for the target's gap in the detectable change.

    Without ``prior``, the placebos' estimate ``tau2_hat``. With it, the two estimates
    weighted by their information, both evaluated at the prediction ``p`` (the truth if the
    pooled model holds): the placebos' ``sum_j (p + v_j)^-2 / 2`` (the inverse of
    ``Var(tau^2)`` in :func:`placebo_t_test`) and the prediction's ``df / (2 p^2)`` (a
    ``chi2_df / df`` estimate; df 2 when the pooled fit lies on a bound, module docstring),
    as in the inverse-variance pooling of two estimates of one variance component. The
    placebos' estimate from 7-14 gaps is often 0 and varies far more than the prediction from
    every unit and pre-year (module docstring); kept in the combination, it carries what the
    shock model misses (e.g. diverging trends).
    """
    if prior is None or not (prior.tau2 > 0 and prior.df > 0 and math.isfinite(prior.tau2)):
        return float(tau2_hat)
    p = float(prior.tau2)
    info_placebo = 0.5 * float(np.sum((p + np.asarray(v_placebo, dtype=float)) ** -2.0))
    info_prior = prior.df / (2.0 * p * p)
    return (info_placebo * float(tau2_hat) + info_prior * p) / (info_placebo + info_prior)


def shock_prior(
    shocks: PooledDispersion | None,
    baseline_years: Sequence[int],
    followup_years: Sequence[int],
    pool_counts: np.ndarray,
    median_unbiased: bool = False,
) -> ShockPrior | None:
    """The pooled model's prediction of a gap's shock variance against a comparison pool:
    the unit's own shocks over the contrast
    (:func:`~medlofte_analysis.stats.dispersion.gap_shock_variance`, median-unbiased by its
    bootstrap when ``median_unbiased``) plus the pool's, the pool's units weighted by their
    shares ``s_k`` of its counts (``1 + sum_k s_k^2`` times the unit's); None without a
    model.

    Median-unbiased for difference-in-differences, whose placebo estimate is about unbiased
    (its placebos are built as the target's gap): the plain prediction's low median made
    its detectable change too small at 6-year baselines (power 0.74-0.79 at increases with
    20-100 events a year; 0.77-0.81 median-unbiased; 0.75-0.79 after the expected count was
    mended and fits on a bound left uncorrected, module docstring). Not for the synthetic
    control, whose placebo estimate errs upwards (:func:`placebo_t_test`) and offsets it:
    median-unbiased, its power rose to 0.80-0.86 (four cells above 85 %, against one at
    85.1 % without)."""
    if shocks is None:
        return None
    tau2, df = gap_shock_variance(
        shocks,
        np.asarray(baseline_years),
        np.asarray(followup_years),
        max(shocks.df, 1),
        median_unbiased=median_unbiased,
    )
    if not tau2 > 0:
        return None
    shares = np.asarray(pool_counts, dtype=float)
    shares = shares / shares.sum() if shares.sum() > 0 else shares
    return ShockPrior(tau2 * (1.0 + float(np.sum(shares**2))), df)


def _support(mean: float) -> np.ndarray:
    """Counts holding all but a negligible (< 1e-9) share of a Poisson(mean) distribution."""
    half_width = 7.0 * np.sqrt(mean) + 12.0
    return np.arange(max(0, int(mean - half_width)), int(mean + half_width) + 1, dtype=float)


def _poisson_pmf(k: np.ndarray, mean: float) -> np.ndarray:
    if mean <= 0:
        return (k == 0).astype(float)
    return np.exp(k * np.log(mean) - mean - special.gammaln(k + 1))


def _reject_probability(
    m: np.ndarray, sd_test: np.ndarray, sd_noise: float, crit: float | np.ndarray
):
    """P(|m + e| > crit * sd_test) for e ~ N(0, sd_noise^2)."""
    if sd_noise <= 0:
        return (np.abs(m) > crit * sd_test).astype(float)
    return special.ndtr((m - crit * sd_test) / sd_noise) + special.ndtr(
        (-m - crit * sd_test) / sd_noise
    )


def _count_law(mean: float) -> tuple[np.ndarray, np.ndarray, float]:
    """(values, probabilities, extra normal variance on the log scale) of a Poisson count:
    enumerated when small, its expected value plus normal noise when large."""
    if mean < _ENUMERATE_BELOW:
        k = _support(mean)
        return k, _poisson_pmf(k, mean), 0.0
    return np.array([mean]), np.ones(1), 1.0 / (mean + HALF)


@functools.lru_cache(maxsize=64)
def _standard_normals(n_placebos: int) -> np.ndarray:
    """Fixed standard normal draws (seeded: the same placebos give the same MDE every run)."""
    rng = np.random.default_rng(_SPREAD_SEED)
    draws = rng.standard_normal((_SPREAD_DRAWS, n_placebos))
    draws.setflags(write=False)
    return draws


def _q_profile_roots(d2: np.ndarray, v: np.ndarray, target: float) -> np.ndarray:
    """:func:`shock_variance` for every row of squared gaps ``d2`` (K, J) at once.

    ``Q(t) = sum_j d2_j / (t + v_j)`` is convex and decreasing, so Newton's method started at
    0 (left of the root) climbs monotonically to it; rows with ``Q(0) <= target`` give 0.
    """
    t = np.zeros(d2.shape[0])
    active = (d2 / v).sum(axis=1) > target
    for _ in range(100):
        w = 1.0 / (t[:, None] + v)
        q = (d2 * w).sum(axis=1) - target
        slope = (d2 * w * w).sum(axis=1)
        step = np.where(active, q / np.where(slope > 0, slope, 1.0), 0.0)
        t = t + step
        if np.all(step <= 1e-12 * (1.0 + t)):
            break
    return t


@functools.lru_cache(maxsize=8)
def _t_quantile_table(alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """log df and Student's t quantile 1 - alpha/2 on a grid (interpolated: fast per count)."""
    log_df = np.linspace(0.0, np.log(_MAX_DF), 4000)
    return log_df, stats.t.ppf(1 - alpha / 2, np.exp(log_df))


@dataclass(frozen=True)
class ShockSpread:
    """Equally likely values of the test's estimated shock variance in repeated samples
    (``tau2_hat``), with the variance of each as estimated (``var_tau2``, the inverse Fisher
    information used by Satterthwaite's df): see :func:`estimated_shock_spread`."""

    tau2_hat: np.ndarray
    var_tau2: np.ndarray
    n_placebos: int
    alpha: float

    def crit(self, v_target: np.ndarray) -> np.ndarray:
        """The test's critical value for a target Poisson variance ``v_target`` (any shape)
        at every point (last axis): Student's t with ``max(J, Satterthwaite)`` df, as in
        :func:`placebo_t_test`."""
        v = np.asarray(v_target, dtype=float)[..., None]
        nu = np.clip((self.tau2_hat + v) ** 2 / self.var_tau2, 1.0, _MAX_DF)
        log_df, quantile = _t_quantile_table(self.alpha)
        return np.interp(np.log(np.maximum(nu, self.n_placebos)), log_df, quantile)


@dataclass(frozen=True)
class PlaceboCounts:
    """Each placebo's gap as counts, for :func:`estimated_shock_spread`: the expected
    (null) baseline and follow-up counts of the placebo unit itself (``pre_mean``,
    ``post_mean``) and the variance of the rest of its gap (``v_other``: its comparison
    pool's or synthetic control's Poisson noise), as :func:`power_at` models the target.
    ``centre``: each gap's value under the null at those counts, on the scale of
    ``log((post + 1/2) / (pre + 1/2))`` (None: that at the expected counts; see
    :func:`power_at`)."""

    pre_mean: np.ndarray
    post_mean: np.ndarray
    v_other: np.ndarray
    centre: np.ndarray | None = None


def _placebo_draws(
    tau2: float, counts: PlaceboCounts, normals: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Squared gaps and Poisson variances of the placebos in repeated samples, drawn from
    their own counts (seeded, so the same placebos always give the same draws)."""
    a = np.maximum(np.asarray(counts.pre_mean, dtype=float), 0.0)
    b = np.maximum(np.asarray(counts.post_mean, dtype=float), 0.0)
    w = np.asarray(counts.v_other, dtype=float)
    rng = np.random.default_rng(_SPREAD_SEED)
    pre = rng.poisson(a, normals.shape)
    post = rng.poisson(b, normals.shape)
    centre = np.log((b + HALF) / (a + HALF)) if counts.centre is None else counts.centre
    d = np.log((post + HALF) / (pre + HALF)) - np.asarray(centre, dtype=float)
    d = d + normals * np.sqrt(tau2 + w)
    return d**2, log_poisson_variance(pre, post) + w


def estimated_shock_spread(
    tau2: float,
    v_placebo: np.ndarray,
    alpha: float,
    placebo_counts: PlaceboCounts | None = None,
) -> ShockSpread:
    """What the test would use in repeated samples: equally likely values of its estimated
    shock variance (and their Satterthwaite information).

    Under the model the placebo gaps are ``d_j ~ N(0, tau2 + v_j)``; for
    :data:`_SPREAD_DRAWS` fixed draws of them the median-unbiased ``tau^2`` is re-estimated
    exactly as :func:`shock_variance` does (including the floor at 0, often hit with 7
    placebos). The draws are summarised by the medians of :data:`_SPREAD_POINTS` equal strata.
    This is the spread of the whole estimated variance ``tau^2 + v_j`` (``chi2_J``-like, as in
    the noncentral-t power of Student's test), not of ``tau^2`` alone: when the placebos' own
    Poisson noise dominates, ``tau^2``-hat varies far more than ``tau^2 chi2_J / J``.

    With ``placebo_counts`` the placebos' baseline and follow-up counts are drawn from
    Poisson at their null means (seeded) and each gap and its variance recomputed from the
    draws, as the test does (module docstring: the normal draws misstate the spread at a few
    events a year); without it the gaps are normal with the variances ``v_placebo``. The
    critical value is then computed per target count (:meth:`ShockSpread.crit`): the test's
    df depends on the target's own Poisson variance, which a large change moves.
    """
    v = np.asarray(v_placebo, dtype=float)
    J = v.size
    if J == 0:
        return ShockSpread(np.array([tau2]), np.array([np.inf]), 0, alpha)
    if placebo_counts is None:
        d2, v_draws = _standard_normals(J) ** 2 * (tau2 + v), v
    else:
        d2, v_draws = _placebo_draws(tau2, placebo_counts, _standard_normals(J))
    draws = np.sort(_q_profile_roots(d2, v_draws, _chi2_median(J)))
    points = np.median(draws.reshape(_SPREAD_POINTS, -1), axis=1)
    var_tau2 = 2.0 / np.sum((points[:, None] + v[None, :]) ** -2.0, axis=1)
    return ShockSpread(points, var_tau2, J, alpha)


def power_at(
    ratio: float,
    pre_mean: float,
    post_mean: float,
    other_variance: float,
    crit: float,
    tau2: float = 0.0,
    spread: ShockSpread | None = None,
    centre: float | None = None,
) -> float:
    """Power of the placebo t-test when the target's follow-up is ``ratio`` x its null mean.

    The target's baseline count is Poisson(``pre_mean``) and its follow-up count
    Poisson(``ratio`` x ``post_mean``); the test's statistic is ``log((post + 1/2) / (pre +
    1/2))`` minus ``centre``, its value under the null (None: that at the expected counts,
    ``log((post_mean + 1/2) / (pre_mean + 1/2))``, as for the synthetic control, whose
    counterfactual count carries the 1/2 too). Difference-in-differences passes its own
    centre, the log of the exposure ratio times the comparison pool's rate change: there
    the 1/2 added to the counts is no part of the expected count (with 6 baseline years, 30
    events and 1 follow-up year ``(30 + 1/2) / 6 - 1/2 = 4.58`` instead of 5 expected
    events, and the detectable change was too large: power 85-87 % at 5 events a year in
    the calibration suite).

    ``tau2`` (part of ``other_variance``) is the true shock variance of the target's gap;
    the test's standard error uses instead an estimate of it, whose equally likely values
    and critical values are ``spread`` (:func:`estimated_shock_spread`; None: ``tau2`` as if
    known, critical value ``crit``). Power is averaged over them, as in the power of
    Student's t-test (noncentral t); the Poisson parts are known from the counts.
    """
    a, pa, var_a = _count_law(pre_mean)
    b, pb, var_b = _count_law(ratio * post_mean)
    if centre is None:
        centre = math.log((post_mean + HALF) / (pre_mean + HALF))
    m = np.log((b[None, :] + HALF) / (a[:, None] + HALF)) - centre
    known = other_variance - tau2 + log_poisson_variance(a[:, None], b[None, :])
    if spread is None:
        points, crits = np.array([tau2]), np.array([crit])
    else:
        points, crits = spread.tau2_hat, spread.crit(known)
    sd = np.sqrt(known[..., None] + points)
    noise = float(np.sqrt(other_variance + var_a + var_b))
    reject = _reject_probability(m[..., None], sd, noise, crits).mean(axis=-1)
    return float(pa @ reject @ pb)


def detectable_ratios(
    pre_mean: float,
    post_mean: float,
    other_variance: float,
    crit: float,
    power: float = POWER,
    tau2: float = 0.0,
    spread: ShockSpread | None = None,
    centre: float | None = None,
) -> tuple[float, float]:
    """Smallest ratios (increase > 1, decrease < 1) reaching ``power`` (module docstring;
    ``centre`` as in :func:`power_at`).

    Root of power(ratio) = ``power`` on the log-ratio scale between 1 and :data:`MAX_RATIO`
    (increase) or 0 (decrease), bracketed from the normal approximation's root
    (:func:`~medlofte_analysis.stats.roots.power_root`); ``inf`` / ``nan`` when even the extreme
    ratio does not reach the power: no change of that direction is detectable.
    """

    @functools.cache
    def gap(log_ratio: float) -> float:
        ratio = math.exp(log_ratio)
        return (
            power_at(ratio, pre_mean, post_mean, other_variance, crit, tau2, spread, centre) - power
        )

    # the guess: the normal approximation at the null counts, (t + z_power) standard errors
    sd = math.sqrt(other_variance + 1.0 / (pre_mean + HALF) + 1.0 / (post_mean + HALF))
    guess = (crit + float(special.ndtri(power))) * sd
    top = math.log(MAX_RATIO)
    up = math.inf
    if gap(top) >= 0:
        root = power_root(gap, 0.0, top, guess, first_step=_GUESS_STEP)
        up = math.inf if root is None else math.exp(root)
    down = math.nan
    if power_at(0.0, pre_mean, post_mean, other_variance, crit, tau2, spread, centre) >= power:
        down = 0.0
        if gap(-top) >= 0:
            root = power_root(gap, 0.0, -top, -guess, first_step=_GUESS_STEP)
            down = 0.0 if root is None else math.exp(root)
    return up, down
