"""The simulator and the pooled dispersion it is calibrated with. All counts here are
SYNTHETIC, drawn by code with a fixed seed."""

import math

import numpy as np
import pandas as pd
import pytest

from medlofte_analysis.stats.dispersion import pooled_dispersion
from medlofte_analysis.stats.simulate import (
    PanelShape,
    estimate_indicator_shapes,
    simulate_panel,
)

SHAPE = PanelShape(sigma2=0.03, tau2=0.0, rho=0.0, unit_log_sd=0.3, population_log_sd=0.5)


def test_panel_has_the_requested_design():
    panel = simulate_panel(
        SHAPE, np.random.default_rng(1), n_comparison=14, n_baseline=6, n_followup=2
    )
    assert panel.frame["unit"].nunique() == 15
    assert panel.baseline_years == panel.pre_years and len(panel.pre_years) == 6
    assert len(panel.followup_years) == 2 and min(panel.followup_years) > max(panel.pre_years)


def test_a_design_generator_keeps_the_units_and_redraws_the_counts():
    def draw(seed):
        return simulate_panel(
            SHAPE, np.random.default_rng(seed), design_rng=np.random.default_rng(7)
        ).frame

    first, second = draw(1), draw(2)
    assert first["exposure"].equals(second["exposure"])
    assert not first["count"].equals(second["count"])


def test_target_mean_is_the_requested_events_per_year():
    rng = np.random.default_rng(2)
    means = [
        simulate_panel(SHAPE, rng, events_per_year=20.0).unit("T")["count"].mean()
        for _ in range(400)
    ]
    assert np.mean(means) == pytest.approx(20.0, rel=0.03)


def test_true_ratio_multiplies_the_follow_up_rate():
    rng = np.random.default_rng(3)
    ratios = []
    for _ in range(300):
        panel = simulate_panel(SHAPE, rng, events_per_year=100.0, true_ratio=2.0)
        own = panel.unit("T")
        ratios.append(own.loc[list(panel.followup_years), "count"].mean() / 100.0)
    assert np.mean(ratios) == pytest.approx(2.0, rel=0.03)


def test_pooled_dispersion_recovers_the_shock_variance():
    rng = np.random.default_rng(4)
    estimates = [
        pooled_dispersion(
            (p := simulate_panel(SHAPE, rng, n_comparison=14, events_per_year=100.0)).frame,
            p.pre_years,
        ).sigma2
        for _ in range(100)
    ]
    assert np.mean(estimates) == pytest.approx(0.03, rel=0.15)


def test_pooled_dispersion_of_poisson_counts_is_near_zero():
    rng = np.random.default_rng(5)
    shape = PanelShape(0.0, 0.0, 0.0, 0.3, 0.5)
    estimates = [
        pooled_dispersion((p := simulate_panel(shape, rng)).frame, p.pre_years).sigma2
        for _ in range(50)
    ]
    assert np.mean(estimates) < 0.01  # floored at 0, so slightly above it on average


def test_pooled_dispersion_without_enough_years_is_nan_with_a_note():
    frame = pd.DataFrame({"unit": ["a", "a"], "year": [2020, 2021], "count": [3, 4],
                          "exposure": [1e4, 1e4]})  # fmt: skip
    result = pooled_dispersion(frame, [2020, 2021])
    assert math.isnan(result.sigma2) and "no unit" in result.note


def test_shape_estimated_from_a_simulated_panel_is_close_to_its_truth():
    rng = np.random.default_rng(6)
    rows = []
    for indicator in ("bra_a", "bra_b", "bra_c"):
        panel = simulate_panel(SHAPE, rng, n_comparison=40, events_per_year=200.0, n_pre=8,
                               n_followup=1)  # fmt: skip
        frame = panel.frame.loc[panel.frame["year"].isin(panel.pre_years)]
        rows.append(frame.assign(indicator_id=indicator))
    indicators = pd.concat(rows).rename(
        columns={"unit": "municipality_code", "exposure": "population"}
    )
    table = estimate_indicator_shapes(indicators)
    assert table["sigma2"].median() == pytest.approx(0.03, rel=0.3)
    assert table["unit_log_sd"].median() == pytest.approx(0.3, rel=0.3)
