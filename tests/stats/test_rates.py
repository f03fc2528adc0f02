"""Tests for medlofte_analysis.stats.rates against independent references."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.rates import confint_poisson

from medlofte_analysis.stats.rates import (
    add_rate_intervals,
    poisson_interval,
    poisson_interval_midp,
    rate_with_interval,
)

# Exact 95 % Poisson limits from published tables (Ulm 1990, Am J Epidemiol 131:373, Table 1;
# same values in Sahai & Khurshid 1993, and Breslow & Day 1987 vol. II App. II).
PUBLISHED_GARWOOD_95 = {
    0: (0.0, 3.689),
    1: (0.0253, 5.572),
    5: (1.623, 11.668),
    10: (4.795, 18.390),
}


@pytest.mark.parametrize("k", sorted(PUBLISHED_GARWOOD_95))
def test_garwood_matches_published_table(k):
    lo, hi = poisson_interval(k)
    ref_lo, ref_hi = PUBLISHED_GARWOOD_95[k]
    assert lo == pytest.approx(ref_lo, abs=6e-4)
    assert hi == pytest.approx(ref_hi, abs=6e-4)


@pytest.mark.parametrize("k", [1, 3, 12, 40])
def test_garwood_limits_solve_poisson_tail_equations(k):
    # Independent definition via scipy.stats.poisson: P(X >= k; L) = P(X <= k; U) = alpha/2.
    lo, hi = poisson_interval(k, alpha=0.1)
    assert stats.poisson.sf(k - 1, lo) == pytest.approx(0.05, rel=1e-8)
    assert stats.poisson.cdf(k, hi) == pytest.approx(0.05, rel=1e-8)


def test_garwood_matches_statsmodels_exact_central():
    for k in [0, 2, 7, 25]:
        ref = confint_poisson(k, 1.0, method="exact-c", alpha=0.05)
        assert poisson_interval(k) == pytest.approx(tuple(float(v) for v in ref), rel=1e-9)


@pytest.mark.parametrize("k", [1, 2, 5, 10, 30])
def test_midp_matches_statsmodels_midp(k):
    ref = confint_poisson(k, 1.0, method="midp-c", alpha=0.05)
    assert poisson_interval_midp(k) == pytest.approx(tuple(float(v) for v in ref), rel=1e-5)


def test_midp_zero_count_upper_is_minus_log_alpha():
    # 0.5 * exp(-U) = alpha/2  =>  U = -ln(alpha) (hand calculation)
    assert poisson_interval_midp(0) == pytest.approx((0.0, -math.log(0.05)), rel=1e-9)


def test_midp_is_inside_garwood():
    for k in [1, 4, 9]:
        m_lo, m_hi = poisson_interval_midp(k)
        g_lo, g_hi = poisson_interval(k)
        assert g_lo < m_lo < k < m_hi < g_hi


def test_garwood_coverage_by_simulation():
    rng = np.random.default_rng(20240101)
    for mu in (2.0, 5.0, 20.0):
        draws = rng.poisson(mu, size=20_000)
        limits = {k: poisson_interval(int(k)) for k in np.unique(draws)}
        covered = np.mean([limits[k][0] <= mu <= limits[k][1] for k in draws])
        assert covered >= 0.95 - 3 * math.sqrt(0.95 * 0.05 / draws.size)


def test_rate_with_interval_scales_garwood():
    rate, lo, hi = rate_with_interval(10, 20_000)
    assert rate == pytest.approx(50.0)
    assert lo == pytest.approx(4.795 * 5, abs=5e-3)
    assert hi == pytest.approx(18.390 * 5, abs=5e-3)


def test_rate_zero_population_is_nan():
    assert all(math.isnan(v) for v in rate_with_interval(3, 0))


def test_rate_missing_count_is_nan():
    assert all(math.isnan(v) for v in rate_with_interval(float("nan"), 20_000))


def test_negative_count_raises_naming_argument():
    with pytest.raises(ValueError, match="count"):
        poisson_interval(-1)
    with pytest.raises(ValueError, match="population"):
        rate_with_interval(3, -5)


def test_non_integer_count_raises():
    with pytest.raises(ValueError, match="count"):
        poisson_interval(2.5)


def test_add_rate_intervals_matches_scalar_and_keeps_missing():
    df = pd.DataFrame(
        {
            "count": pd.array([0, 5, None, 12], dtype="Int64"),
            "population": [20_000.0, 21_000.0, 22_000.0, float("nan")],
        }
    )
    out = add_rate_intervals(df)
    assert "rate" not in df.columns  # copy, input untouched
    for i in (0, 1):
        expected = rate_with_interval(int(df["count"][i]), df["population"][i])
        got = tuple(out.loc[i, ["rate", "rate_lower", "rate_upper"]])
        assert got == pytest.approx(expected, rel=1e-12)
    assert out.loc[[2, 3], ["rate", "rate_lower", "rate_upper"]].isna().all().all()


def test_add_rate_intervals_negative_count_names_column():
    df = pd.DataFrame({"n": [3, -1], "pop": [100.0, 100.0]})
    with pytest.raises(ValueError, match="'n'"):
        add_rate_intervals(df, count_col="n", population_col="pop")
