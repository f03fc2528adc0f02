"""Tests for the leave-one-unit-out jackknife of the pooled shock variance (SYNTHETIC panels
from medlofte_analysis.stats.simulate, seeded)."""

import dataclasses

import numpy as np
import pytest

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
