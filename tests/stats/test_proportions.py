"""Tests for medlofte_analysis.stats.proportions against statsmodels and Newcombe (1998)."""

import math

import pytest
from scipy import special, stats
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_confint,
    proportions_ztest,
)

from medlofte_analysis.stats.proportions import (
    difference_from_published_intervals,
    newcombe_difference,
    se_from_interval,
    wilson_interval,
)


@pytest.mark.parametrize("x,n", [(0, 20), (1, 29), (15, 148), (81, 263), (20, 20)])
def test_wilson_matches_statsmodels(x, n):
    ref = proportion_confint(x, n, alpha=0.05, method="wilson")
    assert wilson_interval(x / n, n) == pytest.approx(tuple(float(v) for v in ref), abs=1e-12)


@pytest.mark.parametrize(
    "x,n,ref",
    [
        # Newcombe 1998 (Stat Med 17:857-872), Table I, score (Wilson) method, 95 %
        (81, 263, (0.2553, 0.3662)),
        (15, 148, (0.0624, 0.1605)),
        (0, 20, (0.0, 0.1611)),
        (1, 29, (0.0061, 0.1718)),
    ],
)
def test_wilson_matches_published_table(x, n, ref):
    assert wilson_interval(x / n, n) == pytest.approx(ref, abs=1e-4)


@pytest.mark.parametrize(
    "x1,n1,x2,n2,ref",
    [
        # Newcombe 1998 (Stat Med 17:873-890), Table II, method 10:
        # (a) 56/70 - 48/80 -> +0.0524 to +0.3339; (b) 9/10 - 3/10 -> +0.1705 to +0.8090
        (56, 70, 48, 80, (0.0524, 0.3339)),
        (9, 10, 3, 10, (0.1705, 0.8090)),
    ],
)
def test_newcombe_matches_published_table(x1, n1, x2, n2, ref):
    res = newcombe_difference(x1 / n1, n1, x2 / n2, n2)
    assert res.difference == pytest.approx(x1 / n1 - x2 / n2)
    assert (res.ci_lower, res.ci_upper) == pytest.approx(ref, abs=1e-4)


@pytest.mark.parametrize("x1,n1,x2,n2", [(56, 70, 48, 80), (5, 56, 0, 29), (12, 300, 25, 310)])
def test_newcombe_matches_statsmodels(x1, n1, x2, n2):
    ref = confint_proportions_2indep(x1, n1, x2, n2, method="newcomb", compare="diff")
    res = newcombe_difference(x1 / n1, n1, x2 / n2, n2)
    assert (res.ci_lower, res.ci_upper) == pytest.approx(tuple(float(v) for v in ref), abs=1e-10)


@pytest.mark.parametrize("x1,n1,x2,n2", [(56, 70, 48, 80), (12, 300, 25, 310)])
def test_pvalue_matches_statsmodels_pooled_ztest(x1, n1, x2, n2):
    _, ref = proportions_ztest([x1, x2], [n1, n2])
    assert newcombe_difference(x1 / n1, n1, x2 / n2, n2).p_value_z == pytest.approx(ref, rel=1e-10)


def test_newcombe_zero_n_is_nan_with_note():
    res = newcombe_difference(0.3, 0, 0.2, 100)
    assert math.isnan(res.difference) and "n_followup" in res.note


def test_newcombe_nan_is_nan_with_note():
    res = newcombe_difference(float("nan"), 50, 0.2, 100)
    assert math.isnan(res.ci_lower) and "p_followup" in res.note


def test_newcombe_no_variation_gives_nan_p_and_interval():
    res = newcombe_difference(0.0, 40, 0.0, 50)
    assert math.isnan(res.p_value) and "undefined" in res.note
    assert res.ci_lower < 0 < res.ci_upper


def test_percentage_instead_of_proportion_raises():
    with pytest.raises(ValueError, match="p_followup"):
        newcombe_difference(45.0, 100, 0.3, 100)


def test_negative_n_raises():
    with pytest.raises(ValueError, match="n_baseline"):
        newcombe_difference(0.4, 100, 0.3, -1)


def test_se_from_interval_hand_value():
    # (0.40 - 0.30) / (2 * 1.959964) = 0.025511
    assert se_from_interval(0.30, 0.40) == pytest.approx(0.1 / (2 * 1.959963985), rel=1e-9)


def test_se_from_interval_reversed_raises():
    with pytest.raises(ValueError, match="upper"):
        se_from_interval(0.4, 0.3)


def test_difference_from_published_intervals_hand_example():
    # 0.40 (0.35-0.45) vs 0.30 (0.25-0.35): SE_i = 0.05/1.96; logit-scale limits per share,
    # combined by MOVER (Zou & Donner 2008)
    res = difference_from_published_intervals(0.40, 0.35, 0.45, 0.30, 0.25, 0.35)
    z = stats.norm.ppf(0.975)
    se_i = 0.05 / z
    limits = [
        special.expit(special.logit(p) + sign * z * se_i / (p * (1 - p)))
        for p in (0.40, 0.30)
        for sign in (-1, 1)
    ]
    l1, u1, l2, u2 = limits
    assert res.difference == pytest.approx(0.10)
    assert res.ci_lower == pytest.approx(0.10 - math.hypot(0.40 - l1, u2 - 0.30))
    assert res.ci_upper == pytest.approx(0.10 + math.hypot(u1 - 0.40, 0.30 - l2))
    assert res.p_value_z == pytest.approx(0.00557, abs=5e-5)
    assert "SE härlett ur publicerat 95 %-intervall" in res.method
    assert "SE derived from the published 95 % interval" in res.method
    assert res.note == ""


@pytest.mark.parametrize(
    "args",
    [
        (0.40, 0.35, 0.45, 0.30, 0.25, 0.35),
        (0.03, 0.01, 0.05, 0.01, 0.0, 0.02),
        (0.05, 0.03, 0.07, 0.02, 0.01, 0.03),
    ],
)
def test_published_difference_p_agrees_with_interval(args):
    res = difference_from_published_intervals(*args, rounding=0.01)
    assert (res.p_value <= 0.05) == (res.ci_lower > 0 or res.ci_upper < 0)
    at_p = difference_from_published_intervals(*args, alpha=res.p_value, rounding=0.01)
    assert min(abs(at_p.ci_lower), abs(at_p.ci_upper)) == pytest.approx(0.0, abs=1e-7)


def test_share_intervals_stay_inside_0_100():
    # 2 % (1-3 %) vs 1 % (0-2 %): a symmetric normal interval for the share would go below 0
    res = difference_from_published_intervals(0.02, 0.01, 0.03, 0.01, 0.0, 0.02, rounding=0.01)
    assert -1 < res.ci_lower < 0 < res.ci_upper < 1
    # on the logit scale the baseline share (1 %) can be further above than below its
    # estimate, so the difference has more room downwards
    assert res.difference - res.ci_lower > res.ci_upper - res.difference


def test_rounding_widens_the_se():
    plain = difference_from_published_intervals(0.03, 0.02, 0.04, 0.02, 0.01, 0.03)
    rounded = difference_from_published_intervals(0.03, 0.02, 0.04, 0.02, 0.01, 0.03, rounding=0.01)
    z = stats.norm.ppf(0.975)
    extra = 2 * 0.01**2 / 12 * (1 + 2 / (2 * z) ** 2)
    assert rounded.se**2 == pytest.approx(plain.se**2 + extra)


def test_newcombe_p_agrees_with_its_interval_at_the_boundary():
    # 0/20 vs 4/20: the pooled z test gives p = 0.035 while Newcombe's interval includes 0
    res = newcombe_difference(0.0, 20, 0.2, 20)
    assert res.p_value_z == pytest.approx(0.035, abs=1e-3)
    assert res.ci_upper > 0 and res.p_value > 0.05


def test_difference_from_asymmetric_interval_warns():
    res = difference_from_published_intervals(0.02, 0.005, 0.08, 0.03, 0.01, 0.04)
    assert "asymmetric" in res.note


def test_difference_from_published_missing_is_nan():
    res = difference_from_published_intervals(0.4, float("nan"), 0.45, 0.3, 0.25, 0.35)
    assert math.isnan(res.p_value) and "lower_followup" in res.note
