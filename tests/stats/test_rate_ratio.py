"""Tests for medlofte_analysis.stats.rate_ratio against scipy/statsmodels and hand examples."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.rates import test_poisson_2indep as sm_test_poisson_2indep

from medlofte_analysis.stats.rate_ratio import _expected_baseline, rate_ratio

CASES = [(20, 40_000.0, 10, 20_000.0), (3, 2.0, 11, 1.0), (14, 41_000.0, 4, 20_300.0)]


def _to_ratio(p, e1, e0):
    return p * e0 / ((1 - p) * e1)


@pytest.mark.parametrize("x1,e1,x0,e0", CASES)
def test_exact_interval_is_clopper_pearson_from_scipy(x1, e1, x0, e0):
    ci = stats.binomtest(x1, x1 + x0).proportion_ci(0.95, method="exact")
    res = rate_ratio(x1, e1, x0, e0)
    assert res.ci_lower == pytest.approx(_to_ratio(ci.low, e1, e0), rel=1e-9)
    assert res.ci_upper == pytest.approx(_to_ratio(ci.high, e1, e0), rel=1e-9)


def _sm_p(x1, e1, x0, e0, method, alternative, value=1.0):
    return sm_test_poisson_2indep(
        x1, e1, x0, e0, value=value, method=method, compare="ratio", alternative=alternative
    ).pvalue


@pytest.mark.parametrize("x1,e1,x0,e0", CASES)
def test_exact_p_is_twice_smaller_statsmodels_one_sided(x1, e1, x0, e0):
    # statsmodels' two-sided exact-cond is "minlike"; the central rule is 2 * min(one-sided).
    ref = min(
        1.0,
        2
        * min(
            _sm_p(x1, e1, x0, e0, "exact-cond", "larger"),
            _sm_p(x1, e1, x0, e0, "exact-cond", "smaller"),
        ),
    )
    assert rate_ratio(x1, e1, x0, e0).p_value == pytest.approx(ref, rel=1e-9)


@pytest.mark.parametrize("x1,e1,x0,e0", CASES)
def test_midp_matches_statsmodels_cond_midp(x1, e1, x0, e0):
    ref = min(
        1.0,
        2
        * min(
            _sm_p(x1, e1, x0, e0, "cond-midp", "larger"),
            _sm_p(x1, e1, x0, e0, "cond-midp", "smaller"),
        ),
    )
    assert rate_ratio(x1, e1, x0, e0).p_value_midp == pytest.approx(ref, rel=1e-9)


@pytest.mark.parametrize("x1,e1,x0,e0", CASES)
def test_interval_limits_invert_statsmodels_tests(x1, e1, x0, e0):
    # At each limit the corresponding one-sided test of H0: R = limit has p = alpha/2.
    res = rate_ratio(x1, e1, x0, e0)
    for method, lo, hi in (
        ("exact-cond", res.ci_lower, res.ci_upper),
        ("cond-midp", res.ci_lower_midp, res.ci_upper_midp),
    ):
        assert _sm_p(x1, e1, x0, e0, method, "larger", value=lo) == pytest.approx(0.025, abs=1e-7)
        assert _sm_p(x1, e1, x0, e0, method, "smaller", value=hi) == pytest.approx(0.025, abs=1e-7)


def test_hand_example_zero_versus_five_equal_exposure():
    # Given 5 events, P(all 5 in baseline) = 0.5**5 = 0.03125 under no effect.
    res = rate_ratio(0, 1.0, 5, 1.0)
    assert res.ratio == 0.0
    assert res.ci_lower == 0.0
    assert res.p_value == pytest.approx(2 * 0.5**5)
    assert res.p_value_midp == pytest.approx(0.5**5)
    # Clopper-Pearson upper for 0/5: 1 - 0.025**(1/5)
    pu = 1 - 0.025 ** (1 / 5)
    assert res.ci_upper == pytest.approx(pu / (1 - pu))
    assert "no follow-up events" in res.note


def test_zero_in_both_periods_is_nan_with_note():
    res = rate_ratio(0, 2.0, 0, 1.0)
    assert math.isnan(res.ratio) and math.isnan(res.p_value) and math.isnan(res.ci_lower)
    assert "no events" in res.note


def test_zero_baseline_gives_infinite_ratio_with_finite_lower():
    res = rate_ratio(6, 1.0, 0, 1.0)
    assert res.ratio == math.inf and res.ci_upper == math.inf
    assert 0 < res.ci_lower < math.inf
    assert res.p_value == pytest.approx(2 * 0.5**6)
    assert "no baseline events" in res.note


def test_zero_exposure_is_nan_with_note():
    res = rate_ratio(4, 0.0, 3, 1.0)
    assert math.isnan(res.ratio) and "exposure_followup" in res.note


def test_nan_count_is_nan_with_note():
    res = rate_ratio(float("nan"), 1.0, 3, 1.0)
    assert math.isnan(res.p_value) and "count_followup" in res.note


def test_negative_count_raises_naming_argument():
    with pytest.raises(ValueError, match="count_baseline"):
        rate_ratio(3, 1.0, -2, 1.0)


def test_negative_exposure_raises_naming_argument():
    with pytest.raises(ValueError, match="exposure_baseline"):
        rate_ratio(3, 1.0, 2, -1.0)


def _simulate(rng, mu0, ratio, exposure_ratio, reps):
    x0 = rng.poisson(mu0, reps)
    x1 = rng.poisson(mu0 * ratio * exposure_ratio, reps)
    return x1, x0


def test_exact_interval_coverage_by_simulation():
    rng = np.random.default_rng(7)
    reps = 1500
    for mu0 in (2.0, 5.0, 20.0):
        x1, x0 = _simulate(rng, mu0, 1.5, 2.0, reps)
        cache = {}
        hits = []
        for a, b in zip(x1, x0, strict=True):
            if (a, b) not in cache:
                cache[(a, b)] = rate_ratio(int(a), 2.0, int(b), 1.0)
            r = cache[(a, b)]
            if a + b == 0:
                continue  # no information; the function says so in note
            hits.append(r.ci_lower <= 1.5 <= r.ci_upper)
        cov = float(np.mean(hits))
        assert cov >= 0.95 - 3 * math.sqrt(0.95 * 0.05 / len(hits)), (mu0, cov)


def test_exact_test_size_under_no_effect():
    rng = np.random.default_rng(11)
    reps = 2000
    for mu0 in (5.0, 20.0):
        x1, x0 = _simulate(rng, mu0, 1.0, 2.0, reps)
        cache = {}
        rejections = 0
        for a, b in zip(x1, x0, strict=True):
            key = (int(a), int(b))
            if key not in cache:
                cache[key] = rate_ratio(key[0], 2.0, key[1], 1.0).p_value
            rejections += cache[key] < 0.05
        rate = rejections / reps
        assert rate <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / reps), (mu0, rate)


def test_doubling_with_large_counts_is_detected():
    rng = np.random.default_rng(3)
    x0 = int(rng.poisson(500))
    x1 = int(rng.poisson(1000))
    res = rate_ratio(x1, 1.0, x0, 1.0)
    assert res.p_value < 0.001
    assert res.ci_lower > 1.5


def test_minimum_likelihood_p_is_rs_poisson_test():
    # R: poisson.test(c(19, 12), c(21000, 19800))$p.value == 0.2875
    from medlofte_analysis.stats.rate_ratio import rate_ratio

    result = rate_ratio(19, 21000, 12, 19800)
    assert result.p_value == pytest.approx(0.361, abs=1e-3)
    assert result.p_value_minlike == pytest.approx(0.2875, abs=1e-4)


def test_overdispersed_with_phi_one_is_the_exact_test():
    from medlofte_analysis.stats.rate_ratio import overdispersed_rate_ratio, rate_ratio

    assert overdispersed_rate_ratio(19, 21000, 12, 19800, 1.0) == rate_ratio(19, 21000, 12, 19800)


def test_betabinomial_tails_match_scipy():
    from scipy import stats

    from medlofte_analysis.stats.rate_ratio import betabinomial_tails

    lower, upper = betabinomial_tails(7, 30, 0.4, 2.0)
    a, b = 0.4 * 30 / 2.0, 0.6 * 30 / 2.0
    assert lower == pytest.approx(stats.betabinom.cdf(7, 30, a, b), rel=1e-9)
    assert upper == pytest.approx(stats.betabinom.sf(6, 30, a, b), rel=1e-9)


@pytest.mark.parametrize("x1,x0,phi", [(1700, 1510, 22.0), (12, 4, 1.8), (30, 41, 3.0)])
def test_overdispersed_p_agrees_with_its_interval(x1, x0, phi):
    from medlofte_analysis.stats.rate_ratio import overdispersed_rate_ratio

    result = overdispersed_rate_ratio(x1, 1.0, x0, 1.0, phi)
    assert (result.p_value <= 0.05) == (result.ci_lower > 1 or result.ci_upper < 1)
    at_p = overdispersed_rate_ratio(x1, 1.0, x0, 1.0, phi, alpha=result.p_value)
    assert min(abs(at_p.ci_lower - 1), abs(at_p.ci_upper - 1)) < 1e-6


def test_overdispersion_widens_the_interval_and_raises_p():
    # the Mora example: 1 510 -> 1 700 offences, dispersion about 38: p near 0.56
    from medlofte_analysis.stats.rate_ratio import overdispersed_rate_ratio, rate_ratio

    plain = rate_ratio(1700, 1.0, 1510, 1.0)
    wide = overdispersed_rate_ratio(1700, 1.0, 1510, 1.0, 38.0)
    assert plain.p_value < 0.001 and 0.5 < wide.p_value < 0.65
    assert wide.ci_lower < plain.ci_lower and wide.ci_upper > plain.ci_upper


def test_period_dispersion_with_no_shocks_is_one():
    from medlofte_analysis.stats.rate_ratio import period_dispersion

    assert period_dispersion(0.0, 0.3, [2022], [1.0], [2024], [1.0], 50.0, 50.0) == 1.0
    # one year against one: Var(u1 - u0) = 2 sigma2 (1 - rho^2) at a two-year gap
    phi = period_dispersion(0.04, 0.5, [2022], [1.0], [2024], [1.0], 50.0, 50.0)
    assert phi == pytest.approx(1 + 2 * 0.04 * (1 - 0.25) / (2 / 50))


def _own(counts, exposures, years=(2019, 2020, 2021, 2022)):
    return pd.DataFrame(
        {"count": counts, "exposure": exposures}, index=pd.Index(years, name="year")
    )


def test_expected_baseline_is_the_pre_period_rate_times_the_baseline_exposure():
    own = _own([4.0, 8.0, 6.0, 2.0], [1.0, 1.0, 1.0, 2.0])  # 20 events over 5 exposure
    assert _expected_baseline(own, (2019, 2020, 2021, 2022), 2.0, 2.0) == pytest.approx(8.0)


def test_expected_baseline_without_pre_period_counts_is_the_baseline_count():
    own = _own([0.0, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0])
    assert _expected_baseline(own, (2019, 2020, 2021, 2022), 0.0, 1.0) == 0.0
