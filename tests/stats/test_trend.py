"""Tests for medlofte_analysis.stats.trend against hand calculations, a direct likelihood
maximisation (scipy, not statsmodels) and seeded simulation."""

import dataclasses
import math

import numpy as np
import pytest
from scipy import optimize, stats

from medlofte_analysis.stats import trend
from medlofte_analysis.stats.dispersion import (
    PooledDispersion,
    contrast_variance,
    pooled_dispersion,
)
from medlofte_analysis.stats.simulate import PanelShape, simulate_panel
from medlofte_analysis.stats.trend import effective_shock_df, trend_projection

PRE_YEARS = list(range(2015, 2024))
PRE_COUNTS = [20, 22, 25, 24, 28, 30, 27, 33, 35]
PRE_EXPOSURES = [17_000, 17_400, 17_900, 18_300, 18_800, 19_200, 19_600, 20_000, 20_400]


def test_exact_exponential_growth_is_recovered():
    # counts double each year with constant exposure: slope = ln 2, projection 160, 320.
    res = trend_projection([1, 2, 3, 4], [10, 20, 40, 80], [1, 1, 1, 1], [5, 6], [160, 320], [1, 1])
    assert res.slope == pytest.approx(math.log(2), rel=1e-6)
    assert res.expected_by_year == pytest.approx((160.0, 320.0), rel=1e-6)
    assert res.expected == pytest.approx(480.0, rel=1e-6)
    assert res.ratio == pytest.approx(1.0, rel=1e-6)
    assert res.dispersion == 1.0  # perfect fit: Pearson chi2 = 0, floored at 1
    assert res.dispersion_raw == pytest.approx(0.0, abs=1e-8)


def _direct_poisson_fit(years, counts, exposures):
    """Maximise the Poisson log-likelihood with scipy.optimize (independent of statsmodels)."""
    t = np.asarray(years, float) - np.mean(years)
    y = np.asarray(counts, float)
    off = np.log(np.asarray(exposures, float))

    def nll(b):
        return -np.sum(stats.poisson.logpmf(y, np.exp(b[0] + b[1] * t + off)))

    b = optimize.minimize(nll, x0=[np.log(y.sum() / np.sum(exposures)), 0.0], method="BFGS",
                          options={"gtol": 1e-10}).x  # fmt: skip
    mu = np.exp(b[0] + b[1] * t + off)
    pearson = np.sum((y - mu) ** 2 / mu) / (len(y) - 2)
    x = np.column_stack([np.ones_like(t), t])
    info_inv = np.linalg.inv(x.T @ (mu[:, None] * x))
    return b, t, pearson, info_inv


def test_fit_matches_direct_likelihood_maximisation():
    b, t, pearson, info_inv = _direct_poisson_fit(PRE_YEARS, PRE_COUNTS, PRE_EXPOSURES)
    res = trend_projection(PRE_YEARS, PRE_COUNTS, PRE_EXPOSURES, [2024, 2025], [30, 32],
                           [20_800, 21_200])  # fmt: skip
    assert res.slope == pytest.approx(b[1], rel=1e-5)
    assert res.dispersion_raw == pytest.approx(pearson, rel=1e-4)
    phi = max(1.0, pearson)
    assert res.slope_se == pytest.approx(math.sqrt(phi * info_inv[1, 1]), rel=1e-4)
    centre = np.mean(PRE_YEARS)
    expected = [
        np.exp(b[0] + b[1] * (yr - centre)) * e for yr, e in [(2024, 20_800), (2025, 21_200)]
    ]
    assert res.expected_by_year == pytest.approx(tuple(expected), rel=1e-5)
    assert res.observed == 62


def test_overdispersed_pre_period_inflates_dispersion():
    counts = [10, 30, 12, 35, 9, 33, 14, 31]
    b, t, pearson, _ = _direct_poisson_fit(range(2015, 2023), counts, [1] * 8)
    res = trend_projection(range(2015, 2023), counts, [1] * 8, [2024, 2025], [20, 20], [1, 1])
    assert res.dispersion == pytest.approx(pearson, rel=1e-4)
    assert res.dispersion > 3


def test_prediction_interval_coverage_and_size_by_simulation():
    rng = np.random.default_rng(2024)
    reps = 300
    years = np.arange(2015, 2023)
    fyears = np.array([2024, 2025])
    true_mu = lambda yr: 20.0 * np.exp(0.04 * (yr - 2015))  # noqa: E731
    covered = rejected = 0
    for _ in range(reps):
        pre = rng.poisson(true_mu(years))
        post = rng.poisson(true_mu(fyears))
        res = trend_projection(years, pre, np.ones(8), fyears, post, np.ones(2))
        covered += res.prediction_lower <= post.sum() <= res.prediction_upper
        rejected += res.p_value <= 0.05
    tol = 3 * math.sqrt(0.05 * 0.95 / reps)
    assert covered / reps >= 0.95 - tol
    assert rejected / reps <= 0.05 + tol


def test_large_drop_is_detected():
    res = trend_projection(range(2015, 2023), [50, 52, 48, 51, 49, 50, 53, 47], [1] * 8,
                           [2024, 2025], [20, 18], [1, 1])  # fmt: skip
    assert res.p_value < 0.001
    assert res.ci_upper < 1.0 < 1.0 / res.ratio


def test_ratio_interval_comes_from_prediction_interval():
    res = trend_projection(PRE_YEARS, PRE_COUNTS, PRE_EXPOSURES, [2024, 2025], [30, 32],
                           [20_800, 21_200])  # fmt: skip
    assert res.prediction_lower < res.expected < res.prediction_upper
    assert res.ci_lower == pytest.approx(res.observed / res.prediction_upper)
    assert res.ci_upper == pytest.approx(res.observed / res.prediction_lower)


def test_fewer_than_three_pre_years_gives_nan_and_warning():
    res = trend_projection([2021, 2022], [5, 7], [1, 1], [2024, 2025], [6, 8], [1, 1])
    assert math.isnan(res.expected) and math.isnan(res.p_value)
    assert "only 2 pre-period years" in res.warning
    assert res.observed == 14 and len(res.expected_by_year) == 2


def test_all_zero_pre_counts_warns():
    res = trend_projection([2017, 2018, 2019], [0, 0, 0], [1, 1, 1], [2024], [2], [1])
    assert math.isnan(res.expected)
    assert "all pre-period counts are zero" in res.warning


def test_boundary_fit_with_zeros_at_one_end_is_not_projected():
    # Pre counts 0, 0, 1: the Poisson MLE of the slope is +infinity; no projection is made.
    res = trend_projection([2016, 2017, 2018], [0, 0, 1], [1, 1, 1], [2024], [1], [1])
    assert math.isnan(res.expected) and math.isnan(res.p_value)
    assert "trend not estimable" in res.warning


def test_pandemic_years_warn():
    res = trend_projection(PRE_YEARS, PRE_COUNTS, PRE_EXPOSURES, [2024], [30], [20_800])
    assert "pandemic years 2020–2021" in res.warning


def test_missing_pre_year_is_dropped_with_warning():
    counts = [20, float("nan"), 25, 24, 28]
    res = trend_projection(range(2015, 2020), counts, [1] * 5, [2024], [30], [1])
    assert res.n_pre_years == 4
    assert "2016" in res.warning


def test_zero_observed_gives_small_p_and_warning():
    res = trend_projection(range(2015, 2023), [10] * 8, [1] * 8, [2024, 2025], [0, 0], [1, 1])
    assert res.ratio == 0.0 and res.p_value < 0.001
    assert "observed follow-up total is 0" in res.warning


def test_negative_count_raises_naming_argument():
    with pytest.raises(ValueError, match="pre_counts"):
        trend_projection([2017, 2018, 2019], [3, -1, 4], [1, 1, 1], [2024], [2], [1])


def test_overlapping_followup_raises():
    with pytest.raises(ValueError, match="followup_years"):
        trend_projection([2017, 2018, 2019], [3, 1, 4], [1, 1, 1], [2019], [2], [1])


def test_without_mde_the_interval_is_the_same_and_the_mdes_nan():
    args = ([2017, 2018, 2019, 2020, 2021], [30, 34, 29, 36, 33], [1e4] * 5, [2023], [41], [1e4])
    full = trend_projection(*args, alpha=0.01)
    bare = trend_projection(*args, alpha=0.01, with_mde=False)
    assert (bare.ci_lower, bare.ci_upper, bare.p_value) == (
        full.ci_lower,
        full.ci_upper,
        full.p_value,
    )
    assert math.isnan(bare.mde_increase) and math.isnan(bare.mde_decrease)


def test_effective_shock_df_shrinks_with_autocorrelation():
    assert effective_shock_df(PooledDispersion(0.03, 0.0, 40, 8)) == pytest.approx(40)
    assert effective_shock_df(PooledDispersion(0.03, 0.5, 40, 8)) == pytest.approx(24)


def _power_at_reported_mde(mean: float, followup: int, direction: str, reps: int) -> float:
    # SYNTHETIC Poisson series (no shocks, known to be none): the test's power at its own MDE
    rng = np.random.default_rng(31)
    years, fyears = np.arange(2017, 2023), np.arange(2023, 2023 + followup)
    shocks = PooledDispersion(0.0, 0.0, 10_000, 100)
    probe = trend_projection(years, [mean] * 6, [1] * 6, fyears, [mean] * followup,
                             [1] * followup, shocks=shocks)  # fmt: skip
    ratio = probe.mde_increase if direction == "increase" else probe.mde_decrease
    hits = 0
    for _ in range(reps):
        pre, post = rng.poisson(mean, 6), rng.poisson(mean * ratio, followup)
        res = trend_projection(years, pre, [1] * 6, fyears, post, [1] * followup, shocks=shocks)
        hits += res.p_value <= 0.05
    return hits / reps


def test_power_at_the_reported_increase_is_eighty_percent():
    assert _power_at_reported_mde(50.0, 1, "increase", 600) == pytest.approx(0.8, abs=0.05)


def test_power_at_the_reported_decrease_holds_for_small_counts():
    assert _power_at_reported_mde(5.0, 2, "decrease", 600) == pytest.approx(0.8, abs=0.05)


# SYNTHETIC series with lognormal AR(1) year shocks whose variance and autocorrelation are the
# borrowed ones (known, not re-estimated): the power of the test against brute-force Monte Carlo.
SHOCKS = PooledDispersion(0.0326, 0.36, 40, 8)


def _shocked_rejections(
    mean: float, followup: int, ratio: float, reps: int, shocks: PooledDispersion = SHOCKS
) -> float:
    rng = np.random.default_rng(47)
    n = 6 + followup
    years, fyears = np.arange(2017, 2023), np.arange(2023, 2023 + followup)
    lag = np.abs(np.subtract.outer(np.arange(n), np.arange(n)))
    chol = np.linalg.cholesky(shocks.sigma2 * shocks.rho**lag)
    hits = 0
    for _ in range(reps):
        log_mean = math.log(mean) - shocks.sigma2 / 2.0 + chol @ rng.standard_normal(n)
        log_mean[6:] += math.log(ratio)
        counts = rng.poisson(np.exp(log_mean))
        res = trend_projection(years, counts[:6], [1] * 6, fyears, counts[6:], [1] * followup,
                               shocks=shocks, with_mde=False)  # fmt: skip
        hits += res.p_value <= 0.05
    return hits / reps


def _reported(mean: float, followup: int, shocks: PooledDispersion = SHOCKS):
    return trend_projection(range(2017, 2023), [mean] * 6, [1] * 6,
                            range(2023, 2023 + followup), [mean] * followup, [1] * followup,
                            shocks=shocks)  # fmt: skip


def test_power_at_the_reported_increase_holds_with_shocks_and_few_events():
    # 600 replicates: Monte Carlo SE of a share near 0.8 is 1.6 points; tolerance 3 SE
    ratio = _reported(5.0, 2).mde_increase
    assert _shocked_rejections(5.0, 2, ratio, 600) == pytest.approx(0.8, abs=0.05)


def test_no_decrease_detectable_when_even_a_vanishing_count_is_rejected_too_rarely():
    # 5 events a year, 2 follow-up years: the test can reject a low total only when its
    # projection is high enough, which happens in about 76 % of samples (< 80 %), so even a
    # true ratio of 0.001 is detected too rarely and "no decrease detectable" is the truth.
    assert _reported(5.0, 2).mde_decrease == 0.0
    assert _shocked_rejections(5.0, 2, 0.001, 2000) < 0.8 - 3 * math.sqrt(0.16 / 2000)


def test_power_at_the_reported_decrease_holds_with_shocks():
    ratio = _reported(20.0, 2).mde_decrease
    assert 0.0 < ratio < 1.0
    assert _shocked_rejections(20.0, 2, ratio, 600) == pytest.approx(0.8, abs=0.05)


def test_power_at_the_reported_changes_holds_with_strongly_autocorrelated_shocks():
    # shocks as in Mora's drug offences (sigma2 0.54, rho 0.9): the follow-up shock moves with
    # the projection's error; modelled as independent, the power here was 95 %.
    strong = PooledDispersion(0.539, 0.9, 75, 15)
    reported = _reported(200.0, 1, strong)
    up = _shocked_rejections(200.0, 1, reported.mde_increase, 1000, strong)
    down = _shocked_rejections(200.0, 1, reported.mde_decrease, 1000, strong)
    assert (up, down) == pytest.approx((0.8, 0.8), abs=0.05)  # 3.8 Monte Carlo SE


# SYNTHETIC panel (medlofte_analysis.stats.simulate, seeded) for the bootstrap of the shocks.
def _panel_fit():
    shape = PanelShape(0.025, 0.007, 0.45, 0.3, 0.7)
    panel = simulate_panel(shape, np.random.default_rng(5), n_comparison=7, events_per_year=100)
    return pooled_dispersion(panel.frame, panel.pre_years)


def _reported_with_bootstrap(monkeypatch, share: float) -> float:
    # the bootstrap's estimates all at ``share`` of the plug-in contrast variance
    def drawn(pooled, years, weights):
        return np.full(128, share * contrast_variance(pooled.sigma2, pooled.rho, years, weights))

    monkeypatch.setattr(trend, "bootstrap_contrast_variances", drawn)
    return _reported(100.0, 1, _panel_fit()).mde_increase


def test_reported_change_takes_the_median_unbiased_shock_variance_as_the_truth(monkeypatch):
    # estimates at half the estimate in repeated samples: the truth is twice the estimate
    assert _reported_with_bootstrap(monkeypatch, 0.5) > 1.05 * _reported_with_bootstrap(
        monkeypatch, 1.0
    )


def test_a_constant_rate_fit_of_the_panel_replaces_the_chi2_spread():
    pooled = _panel_fit()
    plain = dataclasses.replace(pooled, fitted=())  # no fit to draw from: chi2/df spread
    with_fit = _reported(100.0, 1, pooled).mde_increase
    assert with_fit != pytest.approx(_reported(100.0, 1, plain).mde_increase, rel=1e-3)


def test_interval_at_another_level_reuses_the_pre_period_fit():
    args = (PRE_YEARS, PRE_COUNTS, PRE_EXPOSURES, [2024], [40], [20_800])
    trend_projection(*args, alpha=0.05, with_mde=False)
    hits = trend._poisson_fit.cache_info().hits
    again = trend_projection(*args, alpha=0.01, with_mde=False)
    assert trend._poisson_fit.cache_info().hits == hits + 1
    assert again.slope == trend_projection(*args, alpha=0.05, with_mde=False).slope
