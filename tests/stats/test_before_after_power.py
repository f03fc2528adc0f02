"""Tests for medlofte_analysis.stats.before_after_power against independent references:
the exact conditional Poisson power (Gail 1974, in stats.power) and seeded Monte Carlo of the
test itself (stats.rate_ratio.overdispersed_rate_ratio) on SYNTHETIC lognormal-Poisson counts."""

import math

import numpy as np
import pytest

from medlofte_analysis.stats.before_after_power import BeforeAfterPower
from medlofte_analysis.stats.power import exact_rate_ratio_power
from medlofte_analysis.stats.rate_ratio import overdispersed_rate_ratio


def _law(mu0, r, var0=0.03, var1=0.02, cov01=0.01, shocks=(0.03,)):
    return BeforeAfterPower(mu0, r, var0, var1, cov01, shocks, 0.05)


@pytest.mark.parametrize("ratio,mu0,r", [(2.5, 10.0, 1.0), (0.4, 20.0, 3.0), (3.0, 6.0, 0.25)])
def test_without_shocks_it_is_the_exact_poisson_power(ratio, mu0, r):
    # (exposure ratios whose null share is exact to 0.001, the rounding the module applies)
    law = BeforeAfterPower(mu0, r, 0.0, 0.0, 0.0, (0.0,), 0.05)
    assert law.power(ratio) == pytest.approx(exact_rate_ratio_power(ratio, mu0, r), abs=2e-3)


def test_power_matches_monte_carlo_of_the_test():
    mu0, r, ratio, omega = 8.0, 1.0, 2.6, 0.04
    law = _law(mu0, r, shocks=(omega,))
    rng = np.random.default_rng(20261127)
    reps = 1500
    s = rng.multivariate_normal([-0.015, -0.01], [[0.03, 0.01], [0.01, 0.02]], reps)
    x0 = rng.poisson(mu0 * np.exp(s[:, 0]))
    x1 = rng.poisson(ratio * mu0 * r * np.exp(s[:, 1]))
    p0 = r / (1 + r)
    rejected = [
        a + b > 0
        and overdispersed_rate_ratio(
            int(b), r, int(a), 1.0, 1 + omega * (a + b) * p0 * (1 - p0)
        ).p_value
        <= 0.05
        for a, b in zip(x0, x1, strict=True)
    ]
    share = float(np.mean(rejected))
    se = math.sqrt(share * (1 - share) / reps)
    assert law.power(ratio) == pytest.approx(share, abs=4 * se)


def test_size_at_no_change_is_near_alpha():
    assert 0.02 < _law(40.0, 1.0, shocks=(0.04,)).power(1.0) <= 0.06


@pytest.mark.parametrize("mu0,r", [(100.0, 1.0), (400.0, 1 / 6)])
def test_normal_path_close_to_exact_where_it_is_used(mu0, r):
    law = _law(mu0, r)
    assert not law.exact
    assert law._normal_power(1.5) == pytest.approx(law._exact_power(1.5), abs=0.02)


@pytest.mark.parametrize("mu0", [6.0, 30.0, 400.0])
def test_detectable_change_has_the_stated_power(mu0):
    law = _law(mu0, 1.0)
    up, down = law.detectable(0.8)
    assert law.power(up) == pytest.approx(0.8, abs=0.01)
    assert down == 0.0 or law.power(down) == pytest.approx(0.8, abs=0.01)


def test_no_decrease_detectable_with_two_baseline_events():
    assert _law(2.0, 1.0).detectable(0.8)[1] == 0.0


def test_no_baseline_events_nothing_detectable():
    assert _law(0.0, 1.0).detectable(0.8) == (math.inf, 0.0)


def test_shocks_of_several_years_from_panel():
    law = BeforeAfterPower.from_panel(
        20.0, 1 / 3, 0.03, 0.5, (2019, 2020, 2021), np.ones(3), (2022,), np.ones(1),
        1e9, 0.05,
    )  # fmt: skip
    corr = 0.5 ** np.abs(np.subtract.outer([2019, 2020, 2021], [2019, 2020, 2021]))
    assert law.var0 == pytest.approx(0.03 * corr.sum() / 9)
    assert law.cov01 == pytest.approx(0.03 * (0.5**3 + 0.5**2 + 0.5) / 3)


@pytest.mark.parametrize("p0,omega", [(0.5, 0.0), (0.143, 0.03), (0.667, 0.2)])
def test_critical_counts_match_scipy_betabinom(p0, omega):
    from scipy import stats

    from medlofte_analysis.stats.before_after_power import _null_bounds

    lo, hi = _null_bounds(p0, omega, 0.05, 300)
    for n in (1, 17, 120, 299):
        law = (
            stats.binom(n, p0)
            if omega == 0
            else stats.betabinom(n, 1 / (omega * (1 - p0)), 1 / (omega * p0))
        )
        k = np.arange(n + 1)
        assert lo[n] == np.sum(law.cdf(k) <= 0.025 * (1 + 1e-12)) - 1
        assert hi[n] == n + 1 - np.sum(law.sf(k - 1) <= 0.025 * (1 + 1e-12))


def test_allowance_gives_student_t_width():
    from scipy import stats

    from medlofte_analysis.stats.before_after_power import shock_allowance

    omega, poisson, df = 0.04, 0.1, 6.0
    f = shock_allowance(omega, poisson, df, 0.05)
    nu = (poisson + omega) ** 2 / (omega**2 / df)
    width = stats.t.ppf(0.975, nu) * math.sqrt(poisson + omega)
    assert 1.96 * math.sqrt(poisson + f * omega) == pytest.approx(width, rel=1e-3)


def test_allowance_is_one_without_shock():
    from medlofte_analysis.stats.before_after_power import shock_allowance

    assert shock_allowance(0.0, 0.1, 5.0, 0.05) == 1.0


def test_power_by_node_agrees_with_full_enumeration():
    law = _law(15.0, 1.0, var0=0.2, var1=0.2, cov01=0.1, shocks=(0.1, 0.2))
    assert law._exact_power_by_node(2.5) == pytest.approx(law._exact_power(2.5), abs=2e-3)


@pytest.mark.parametrize("p0,omega", [(0.5, 0.01), (0.143, 0.05), (0.667, 0.3)])
def test_beta_approximate_critical_counts_within_one_count(p0, omega):
    from scipy import stats

    from medlofte_analysis.stats.before_after_power import _beta_bounds

    lo, hi = _beta_bounds(p0, omega, 0.05, 400, 1001)
    a, b = 1 / (omega * (1 - p0)), 1 / (omega * p0)
    for n in (400, 700, 1000):
        k = np.arange(n + 1)
        law = stats.betabinom(n, a, b)
        assert abs(lo[n - 400] - (np.sum(law.cdf(k) <= 0.025 * (1 + 1e-12)) - 1)) <= 1
        assert abs(hi[n - 400] - (n + 1 - np.sum(law.sf(k - 1) <= 0.025 * (1 + 1e-12)))) <= 1


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_degenerate_shock_law_reports_nothing_detectable():
    # power already ~1 at no change (shock variances of 1e10): no change is called detectable
    law = BeforeAfterPower(5.0, 2.0, 1e10, 5e9, 0.0, (0.0, 1e13), 0.05)
    assert law.detectable(0.8) == (math.inf, 0.0)
