"""Tests for medlofte_analysis.stats.power against statsmodels and seeded simulation."""

import math

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.rates import power_poisson_ratio_2indep

from medlofte_analysis.stats.power import (
    exact_rate_ratio_power,
    minimum_detectable_ratio,
    rate_ratio_power,
)
from medlofte_analysis.stats.rate_ratio import rate_ratio


def _statsmodels_power(ratio, mu0, exposure_ratio, dispersion=1.0, alpha=0.05):
    # rate1 = follow-up rate R, rate2 = baseline rate 1 per unit; nobs1 = follow-up exposure
    # mu0 * exposure_ratio, nobs2 = mu0 (nobs_ratio = 1/exposure_ratio). Variance under the
    # alternative for both null and alternative = dispersion * (1/mu1 + 1/mu0).
    return power_poisson_ratio_2indep(
        ratio,
        1.0,
        mu0 * exposure_ratio,
        nobs_ratio=1.0 / exposure_ratio,
        value=1.0,
        alpha=alpha,
        dispersion=dispersion,
        alternative="two-sided",
        method_var="alt",
        return_results=False,
    )


@pytest.mark.parametrize(
    "ratio,mu0,er,disp",
    [(1.5, 20.0, 2.0, 1.0), (0.6, 12.0, 1.0, 1.0), (2.0, 8.0, 2.1, 1.8), (1.2, 300.0, 1.0, 1.0)],
)
def test_power_matches_statsmodels(ratio, mu0, er, disp):
    ref = _statsmodels_power(ratio, mu0, er, disp)
    assert rate_ratio_power(ratio, mu0, er, disp) == pytest.approx(float(ref), rel=1e-10)


@pytest.mark.parametrize("direction", ["increase", "decrease"])
def test_mdr_has_target_power_in_statsmodels(direction):
    r = minimum_detectable_ratio(30.0, exposure_ratio=2.0, dispersion=1.5, direction=direction)
    assert (r > 1) if direction == "increase" else (r < 1)
    assert float(_statsmodels_power(r, 30.0, 2.0, 1.5)) == pytest.approx(0.8, abs=1e-8)


def test_power_at_no_effect_is_alpha():
    assert rate_ratio_power(1.0, 25.0) == pytest.approx(0.05)


def test_overdispersion_raises_mdr():
    assert minimum_detectable_ratio(20.0, dispersion=2.0) > minimum_detectable_ratio(20.0)


def _simulated_exact_power(mu0, exposure_ratio, ratio, reps, seed):
    rng = np.random.default_rng(seed)
    x0 = rng.poisson(mu0, reps)
    x1 = rng.poisson(mu0 * ratio * exposure_ratio, reps)
    cache = {}
    hits = 0
    for a, b in zip(x1.tolist(), x0.tolist(), strict=True):
        if (a, b) not in cache:
            cache[(a, b)] = rate_ratio(a, exposure_ratio, b, 1.0).p_value <= 0.05
        hits += bool(cache[(a, b)])
    return hits / reps


@pytest.mark.parametrize("mu0,ratio", [(5.0, 3.0), (20.0, 0.4), (20.0, 1.0)])
def test_exact_power_matches_simulation_of_exact_test(mu0, ratio):
    reps = 4000
    sim = _simulated_exact_power(mu0, 2.0, ratio, reps, seed=int(mu0 * 10 + ratio * 100))
    exact = exact_rate_ratio_power(ratio, mu0, exposure_ratio=2.0)
    se = math.sqrt(exact * (1 - exact) / reps)
    assert abs(sim - exact) <= 4 * se + 1e-3


def test_exact_power_no_effect_is_at_most_alpha():
    for mu0 in (3.0, 10.0, 40.0):
        assert exact_rate_ratio_power(1.0, mu0, exposure_ratio=2.0) <= 0.05


def test_normal_approximation_close_to_exact_power_at_mdr_moderate_counts():
    # At mu0 = 100 the normal approximation is within a few points of the exact test's power
    # (exact power itself is checked against simulation above): documented bias, below 0.8
    # for decreases, above for increases.
    for direction in ("increase", "decrease"):
        r = minimum_detectable_ratio(100.0, exposure_ratio=2.0, direction=direction)
        exact = exact_rate_ratio_power(r, 100.0, exposure_ratio=2.0)
        assert abs(exact - 0.8) <= 0.045, (direction, exact)


def test_exact_mdr_has_exact_target_power():
    r = minimum_detectable_ratio(10.0, exposure_ratio=2.0, method="exact")
    assert exact_rate_ratio_power(r, 10.0, exposure_ratio=2.0) == pytest.approx(0.8, abs=1e-6)


def test_hand_example_exact_power_total_disappearance():
    # R = 0: x1 = 0 always; given n baseline events the test rejects iff 2*(1/3)**n <= 0.05
    # (p0 = 2/3), i.e. n >= 4. Power = P(Poisson(5) >= 4).
    ref = stats.poisson.sf(3, 5.0)
    assert exact_rate_ratio_power(0.0, 5.0, exposure_ratio=2.0) == pytest.approx(ref, rel=1e-9)


def test_zero_baseline_gives_inf():
    assert minimum_detectable_ratio(0.0) == math.inf
    assert math.isnan(rate_ratio_power(2.0, 0.0))


def test_unreachable_decrease_gives_zero():
    assert minimum_detectable_ratio(2.0, direction="decrease") == 0.0
    assert minimum_detectable_ratio(2.0, direction="decrease", method="exact") == 0.0


def test_invalid_arguments_raise():
    with pytest.raises(ValueError, match="direction"):
        minimum_detectable_ratio(10.0, direction="up")
    with pytest.raises(ValueError, match="expected_baseline"):
        minimum_detectable_ratio(-1.0)
    with pytest.raises(ValueError, match="dispersion"):
        minimum_detectable_ratio(10.0, dispersion=0.5, method="exact")


def test_overdispersed_exact_power_matches_simulation_of_the_test():
    # NB1 counts (variance phi x mean) through the beta-binomial test; SYNTHETIC draws
    import numpy as np

    from medlofte_analysis.stats.rate_ratio import overdispersed_rate_ratio

    rng = np.random.default_rng(7)
    mu0, ratio, phi, reps = 20.0, 2.0, 2.0, 1500
    theta = phi - 1.0
    lam0 = rng.gamma(mu0 / theta, theta, reps)
    lam1 = rng.gamma(ratio * mu0 / theta, theta, reps)
    x0, x1 = rng.poisson(lam0), rng.poisson(lam1)
    rejected = [
        overdispersed_rate_ratio(int(a), 1.0, int(b), 1.0, phi).p_value <= 0.05
        for a, b in zip(x1, x0, strict=True)
    ]
    exact = exact_rate_ratio_power(ratio, mu0, 1.0, 0.05, phi)
    assert np.mean(rejected) == pytest.approx(exact, abs=4 * math.sqrt(exact * (1 - exact) / reps))


def test_alternative_law_matches_scipy_betabinom():
    """The vectorised law under the alternative equals scipy's beta-binomial pmf (rows n)."""
    from medlofte_analysis.stats.power import _alternative_law

    n = np.arange(1, 60, dtype=float)[:, None]
    a, b = 7.3, 21.9
    law = _alternative_law(n, a, b, 61)
    k = np.arange(61)
    expected = np.where(k <= n, stats.betabinom.pmf(k, n.astype(int), a, b), 0.0)
    np.testing.assert_allclose(law, expected, rtol=1e-10, atol=1e-300)


def test_null_regions_match_scipy_betabinom_tails():
    """The cached rejection regions are the alpha/2 tails of scipy's null beta-binomial."""
    from medlofte_analysis.stats.power import _null_regions

    p0, theta, alpha = 1.0 / 3.0, 0.4, 0.05
    lo, hi = _null_regions(1, 40, p0, theta, alpha)
    for n, low, high in zip(range(1, 41), lo, hi, strict=True):
        null = stats.betabinom(n, p0 * n / theta, (1 - p0) * n / theta)
        k = np.arange(n + 1)
        assert low == max([-1, *k[null.cdf(k) <= alpha / 2]])
        assert high == min([n + 1, *k[null.sf(k - 1) <= alpha / 2]])
