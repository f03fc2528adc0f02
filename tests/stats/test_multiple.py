"""Tests for medlofte_analysis.stats.multiple (Benjamini-Hochberg)."""

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from medlofte_analysis.stats.multiple import bh_qvalues


def test_matches_statsmodels_fdr_bh():
    rng = np.random.default_rng(5)
    p = np.concatenate([rng.uniform(size=15), [0.001, 0.004, 0.02, 0.02, 1.0]])
    ref = multipletests(p, method="fdr_bh")[1]
    np.testing.assert_allclose(bh_qvalues(p), ref, rtol=1e-12)


def test_hand_calculated_example():
    # p = 0.01, 0.04, 0.03, 0.20 (m = 4). Sorted: 0.01, 0.03, 0.04, 0.20
    # m*p/rank: 0.04, 0.06, 0.0533.., 0.20; running min from the top:
    # 0.20, 0.0533, 0.0533, 0.04  -> back in input order:
    expected = [0.04, 0.16 / 3, 0.16 / 3, 0.20]
    np.testing.assert_allclose(bh_qvalues([0.01, 0.04, 0.03, 0.20]), expected, rtol=1e-12)


def test_nan_stays_nan_and_is_not_counted():
    q = bh_qvalues([0.01, np.nan, 0.04])
    assert np.isnan(q[1])
    np.testing.assert_allclose(q[[0, 2]], [0.02, 0.04])  # m = 2, not 3


def test_empty_and_all_nan():
    assert bh_qvalues([]).size == 0
    assert np.isnan(bh_qvalues([np.nan, np.nan])).all()


def test_out_of_range_raises():
    with pytest.raises(ValueError, match="p_values"):
        bh_qvalues([0.2, 1.3])


def test_two_dimensional_raises():
    with pytest.raises(ValueError, match="one-dimensional"):
        bh_qvalues(np.ones((2, 2)) * 0.5)


def test_fcr_levels_follow_the_bh_selection():
    # BH at 0.05 on four p-values selects the first two (q = 0.02, 0.04): R = 2, m = 4
    from medlofte_analysis.stats.multiple import fcr_interval_levels

    levels = fcr_interval_levels([0.005, 0.02, 0.2, float("nan"), 0.5], 0.05)
    assert levels[:2] == pytest.approx([0.05 * 2 / 4] * 2)
    assert levels[2] == pytest.approx(0.05 * 3 / 4) and levels[4] == pytest.approx(0.05 * 3 / 4)
    assert np.isnan(levels[3])


def test_fcr_levels_make_intervals_agree_with_bh():
    # selected p-values lie at or below their level, the others above theirs
    from medlofte_analysis.stats.multiple import bh_qvalues, fcr_interval_levels

    p = np.random.default_rng(1).uniform(0, 0.2, 30)
    levels, q = fcr_interval_levels(p, 0.05), bh_qvalues(p)
    assert np.all((p <= levels) == (q < 0.05))
