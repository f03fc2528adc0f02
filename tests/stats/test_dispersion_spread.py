"""Tests for how the pooled shock variance varies: the leave-one-unit-out jackknife and the
parametric bootstrap (SYNTHETIC panels from medlofte_analysis.stats.simulate, seeded)."""

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from medlofte_analysis.stats import dispersion
from medlofte_analysis.stats.before_after_power import BeforeAfterPower
from medlofte_analysis.stats.dispersion import contrast_shock_df, pooled_dispersion
from medlofte_analysis.stats.simulate import PanelShape, simulate_panel

SHAPE = PanelShape(0.025, 0.007, 0.45, 0.3, 0.7)
YEARS = np.array([2021.0, 2022.0, 2023.0])
WEIGHTS = np.array([-0.5, -0.5, 1.0])


def _panel(seed=1, events=100.0):
    return simulate_panel(
        SHAPE, np.random.default_rng(seed), n_comparison=7, events_per_year=events
    )


def test_jackknife_leaves_out_each_unit_in_turn():
    panel = _panel()
    pooled = pooled_dispersion(panel.frame, panel.pre_years, jackknife=True)
    frame = panel.frame.loc[panel.frame["unit"] != "C03"]
    without = pooled_dispersion(frame, panel.pre_years)
    # units in sorted order: C01, C02, C03, ...
    assert pooled.leave_one_out[2] == pytest.approx((without.sigma2, without.rho))


def test_jackknife_does_not_change_the_estimate():
    panel = _panel()
    plain = pooled_dispersion(panel.frame, panel.pre_years)
    pooled = pooled_dispersion(panel.frame, panel.pre_years, jackknife=True)
    assert (pooled.sigma2, pooled.rho) == (plain.sigma2, plain.rho)


def test_contrast_df_is_satterthwaite_of_the_jackknife_variance():
    panel = _panel()
    pooled = pooled_dispersion(panel.frame, panel.pre_years, jackknife=True)
    lag = np.abs(np.subtract.outer(YEARS, YEARS))
    omegas = np.array([s * WEIGHTS @ (r**lag) @ WEIGHTS for s, r in pooled.leave_one_out])
    variance = (omegas.size - 1) / omegas.size * np.sum((omegas - omegas.mean()) ** 2)
    omega = pooled.sigma2 * WEIGHTS @ (pooled.rho**lag) @ WEIGHTS
    expected = float(np.clip(2 * omega**2 / variance, 2, 1e6))
    assert contrast_shock_df(pooled, YEARS, WEIGHTS, 1e6) == pytest.approx(expected)


def test_contrast_df_without_jackknife_is_the_cap():
    panel = _panel()
    pooled = pooled_dispersion(panel.frame, panel.pre_years)
    assert contrast_shock_df(pooled, YEARS, WEIGHTS, 40.0) == 40.0


def test_contrast_df_without_shocks_is_the_cap():
    panel = _panel()
    pooled = dataclasses.replace(
        pooled_dispersion(panel.frame, panel.pre_years, jackknife=True), sigma2=0.0
    )
    assert contrast_shock_df(pooled, YEARS, WEIGHTS, 40.0) == 40.0


def test_each_draw_is_pooled_as_pooled_dispersion_pools_it():
    panel = _panel(events=20.0)
    # populations that change over the years (the fitted rate's share of each year differs)
    growth = 1.0 + 0.1 * (panel.frame["year"] - panel.frame["year"].min())
    frame = panel.frame.assign(exposure=panel.frame["exposure"] * growth)
    grid, series = dispersion.pooled_dispersion(frame, panel.pre_years).fitted
    counts = dispersion._bootstrap_counts(grid, series, 0.03, 0.4, 0.3, 25)
    sigma2s, rhos = dispersion._pooled_draws(grid, series, counts)
    columns = np.cumsum([0] + [t.size for _, _, t in series])
    for b in range(25):
        frame = pd.concat(
            pd.DataFrame(
                {"unit": f"u{i}", "year": t, "count": counts[b, start:stop], "exposure": e}
            )
            for i, ((_, e, t), start, stop) in enumerate(
                zip(series, columns[:-1], columns[1:], strict=True)
            )
        )
        one = dispersion.pooled_dispersion(frame, panel.pre_years)
        assert (sigma2s[b], rhos[b]) == pytest.approx((one.sigma2, one.rho), abs=1e-12)


def _share(tau2, sigma2, seed=2):
    shape = PanelShape(sigma2, tau2, 0.4, 0.3, 0.7)
    panel = simulate_panel(
        shape, np.random.default_rng(seed), n_comparison=40, events_per_year=5000.0, n_pre=8
    )
    pooled = pooled_dispersion(panel.frame, panel.pre_years)
    grid, series = pooled.fitted
    return dispersion.common_shock_share(grid, series, pooled.sigma2, pooled.rho)


def test_common_share_finds_year_shocks_shared_by_every_unit():
    # 8 years of common shocks per panel: one panel's share is noisy, five average near it
    shares = [_share(tau2=0.02, sigma2=0.02, seed=seed) for seed in range(5)]
    assert np.mean(shares) == pytest.approx(0.5, abs=0.1)


def test_common_share_is_near_zero_for_independent_units():
    assert _share(tau2=0.0, sigma2=0.04) < 0.1


def test_drawn_shocks_are_shared_by_the_units_in_the_common_share():
    panel = _panel()
    grid, series = pooled_dispersion(panel.frame, panel.pre_years).fitted
    big = tuple((y * 0 + 1e7, e * 0 + 1.0, t) for y, e, t in series)  # Poisson noise ~0
    counts = dispersion._bootstrap_counts(grid, big, 0.04, 0.0, 0.5, 4000)
    logs = np.log(counts[:, : grid.size]), np.log(counts[:, grid.size : 2 * grid.size])
    assert np.corrcoef(logs[0][:, 0], logs[1][:, 0])[0, 1] == pytest.approx(0.5, abs=0.05)


def test_bootstrap_is_the_same_for_the_same_panel():
    panel = _panel()
    pooled = dispersion.pooled_dispersion(panel.frame, panel.pre_years)
    first = dispersion.bootstrap_contrast_variances(pooled, YEARS, WEIGHTS)
    again = dispersion.bootstrap_contrast_variances(pooled, YEARS, WEIGHTS)
    assert np.array_equal(first, again)


def test_bootstrap_centres_near_the_estimate_with_many_events():
    panel = _panel(events=1000.0)
    pooled = dispersion.pooled_dispersion(panel.frame, panel.pre_years)
    draws = dispersion.bootstrap_contrast_variances(pooled, YEARS, WEIGHTS)
    estimate = dispersion.contrast_variance(pooled.sigma2, pooled.rho, YEARS, WEIGHTS)
    assert np.median(draws) / estimate == pytest.approx(1.0, abs=0.2)


def _law(spread=None, sigma2=0.04):
    return BeforeAfterPower.from_panel(
        200.0, 1.0 / 6.0, sigma2, 0.4,
        (2017, 2018, 2019, 2020, 2021, 2022), np.ones(6), (2023,), np.ones(1),
        20.0, 0.05, spread,
    )  # fmt: skip


def test_spread_makes_the_truth_the_median_unbiased_estimate():
    law = _law(np.full(9, 0.5))
    assert law.var1 == pytest.approx(2.0 * _law().var1)


def test_spread_sets_the_test_shocks_at_the_bootstrap_quantiles():
    spread = np.linspace(0.5, 1.5, 301)  # median 1: the truth is the estimate
    law = _law(spread)
    omega = law.var0 + law.var1 - 2.0 * law.cov01
    lowest = np.quantile(spread, 1.0 / 6.0) * omega
    assert law.test_shocks[0] > lowest  # the test's allowance widens it
    assert law.test_shocks[0] < 1.3 * lowest


def test_spread_with_most_draws_at_no_shock_falls_back_to_the_chi2_spread():
    # half the draws 0, the median a rounding error: dividing by it blew the truth up 1e11-fold
    spread = np.r_[np.zeros(64), 1.4e-14, np.linspace(1.0, 140.0, 63)]
    assert _law(spread) == _law()


def test_spread_is_ignored_without_shocks():
    assert _law(np.full(9, 0.5), sigma2=0.0) == _law(sigma2=0.0)


def test_bootstrap_of_a_trend_fit_is_nan():
    panel = _panel()
    pooled = dispersion.pooled_dispersion(panel.frame, panel.pre_years, trend=True)
    assert np.all(np.isnan(dispersion.bootstrap_contrast_variances(pooled, YEARS, WEIGHTS)))


def test_bootstrap_without_usable_units_is_nan():
    frame = pd.DataFrame({"unit": ["a"], "year": [2020], "count": [3.0], "exposure": [1.0]})
    pooled = dispersion.pooled_dispersion(frame, [2020])
    draws = dispersion.bootstrap_contrast_variances(pooled, YEARS, WEIGHTS)
    assert np.all(np.isnan(draws)) and math.isnan(pooled.sigma2)


def test_median_unbiased_spread_gives_the_median_and_stratum_quantiles():
    middle, quantiles = dispersion.median_unbiased_spread(np.linspace(0.5, 1.5, 101), 5)
    assert middle == pytest.approx(1.0)
    assert quantiles == pytest.approx([0.6, 0.8, 1.0, 1.2, 1.4])


def test_median_unbiased_spread_refuses_a_median_near_no_shock():
    assert dispersion.median_unbiased_spread(np.r_[np.zeros(6), np.ones(5)], 5) is None


def test_bootstrap_panels_are_drawn_once_for_the_same_pooled_fit(monkeypatch):
    panel = _panel()
    pooled = dispersion.pooled_dispersion(panel.frame, panel.pre_years)
    calls = []
    original = dispersion._pooled_draws
    monkeypatch.setattr(dispersion, "_pooled_draws", lambda *a: calls.append(1) or original(*a))
    dispersion.bootstrap_contrast_variances(pooled, YEARS, WEIGHTS)
    dispersion.bootstrap_contrast_variances(pooled, YEARS[:2], WEIGHTS[:2])
    assert len(calls) == 1


def test_gap_shock_variance_is_the_units_own_share_of_the_contrast():
    panel = _panel()
    pooled = pooled_dispersion(panel.frame, panel.pre_years, jackknife=True)
    grid, series = pooled.fitted
    share = dispersion.common_shock_share(grid, series, pooled.sigma2, pooled.rho)
    base, follow = np.array([2021.0, 2022.0]), np.array([2023.0])
    omega = dispersion.contrast_variance(pooled.sigma2, pooled.rho, YEARS, WEIGHTS)
    tau2, _ = dispersion.gap_shock_variance(pooled, base, follow, 1e6)
    assert tau2 == pytest.approx((1 - share) * omega)


def test_gap_shock_variance_median_unbiased_divides_by_its_bootstrap_median():
    panel = _panel(seed=5)  # a fit inside its bounds: rho 0.59, common share 0.31
    pooled = pooled_dispersion(panel.frame, panel.pre_years, jackknife=True)
    base, follow = np.array([2021.0, 2022.0]), np.array([2023.0])
    plain, df = dispersion.gap_shock_variance(pooled, base, follow, 1e6)
    tau2, same_df = dispersion.gap_shock_variance(pooled, base, follow, 1e6, median_unbiased=True)
    middle = np.median(dispersion.bootstrap_gap_variances(pooled, base, follow) / plain)
    assert middle != pytest.approx(1.0) and tau2 == pytest.approx(plain / middle)
    assert same_df == df


def test_gap_shock_variance_is_not_median_unbiased_at_a_bound_of_the_fit():
    panel = _panel()  # the common share is estimated at its bound 0
    pooled = pooled_dispersion(panel.frame, panel.pre_years, jackknife=True)
    base, follow = np.array([2021.0, 2022.0]), np.array([2023.0])
    plain, _ = dispersion.gap_shock_variance(pooled, base, follow, 1e6)
    tau2, _ = dispersion.gap_shock_variance(pooled, base, follow, 1e6, median_unbiased=True)
    assert tau2 == plain


def test_gap_shock_variance_at_a_bound_of_the_fit_has_the_floor_df():
    panel = _panel()  # the common share is estimated at its bound 0
    pooled = pooled_dispersion(panel.frame, panel.pre_years, jackknife=True)
    _, df = dispersion.gap_shock_variance(pooled, YEARS[:2], YEARS[2:], 1e6)
    assert df == dispersion.MIN_BOUND_DF


def test_gap_shock_variance_inside_the_bounds_has_the_jackknife_df():
    panel = _panel(seed=5)  # a fit inside its bounds: rho 0.59, common share 0.31
    pooled = pooled_dispersion(panel.frame, panel.pre_years, jackknife=True)
    _, df = dispersion.gap_shock_variance(pooled, YEARS[:2], YEARS[2:], 1e6)
    assert df > dispersion.MIN_BOUND_DF


def test_gap_shock_variance_drawn_shares_on_the_panels_own_counts_are_its_share():
    panel = _panel()
    pooled = pooled_dispersion(panel.frame, panel.pre_years, jackknife=True)
    grid, series = pooled.fitted
    counts = np.concatenate([y for y, _, _ in series])[None, :]
    drawn = dispersion._drawn_common_shares(
        grid, series, counts, np.array([pooled.sigma2]), np.array([pooled.rho])
    )
    share = dispersion.common_shock_share(grid, series, pooled.sigma2, pooled.rho)
    assert drawn[0] == pytest.approx(share, abs=1e-12)


def test_bootstrap_gap_variances_without_a_constant_rate_fit_are_nan():
    panel = _panel()
    pooled = dataclasses.replace(
        pooled_dispersion(panel.frame, panel.pre_years, jackknife=True), fitted=()
    )
    assert np.isnan(dispersion.bootstrap_gap_variances(pooled, YEARS[:2], YEARS[2:])).all()


def test_gap_shock_variance_jackknife_recomputes_the_share_without_each_unit():
    panel = _panel()
    pooled = pooled_dispersion(panel.frame, panel.pre_years, jackknife=True)
    grid, series = pooled.fitted
    fits = [(pooled.sigma2, pooled.rho), *pooled.leave_one_out]
    shares = dispersion._common_shares(
        grid, series, np.array([s for s, _ in fits]), np.array([r for _, r in fits]),
        [None, *range(len(series))],
    )  # fmt: skip
    without = series[:2] + series[3:]
    sigma2, rho = pooled.leave_one_out[2]
    assert shares[3] == pytest.approx(dispersion.common_shock_share(grid, without, sigma2, rho))


def test_gap_shock_variance_without_shocks_is_nan():
    panel = _panel()
    pooled = dataclasses.replace(
        pooled_dispersion(panel.frame, panel.pre_years, jackknife=True), sigma2=0.0
    )
    tau2, df = dispersion.gap_shock_variance(pooled, YEARS[:2], YEARS[2:], 40.0)
    assert math.isnan(tau2) and df == 0.0


def test_gap_shock_variance_jackknifes_the_shares_once_per_pooled_fit(monkeypatch):
    panel = _panel()
    pooled = pooled_dispersion(panel.frame, panel.pre_years, jackknife=True)
    calls = []
    original = dispersion._common_shares
    # the jackknife: one row per fit left out (the bootstrap's own share is a single row)
    monkeypatch.setattr(
        dispersion,
        "_common_shares",
        lambda *a: (len(a[4]) > 1 and calls.append(1)) or original(*a),
    )
    dispersion.gap_shock_variance(pooled, YEARS[:2], YEARS[2:], 40.0)
    dispersion.gap_shock_variance(pooled, YEARS[:1], YEARS[1:], 40.0)
    assert len(calls) == 1
