"""Tests for medlofte_analysis.stats.synth (synthetic control, placebo inference)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize

from medlofte_analysis.stats.dispersion import pooled_dispersion
from medlofte_analysis.stats.synth import (
    SynthResult,
    fit_all_units,
    fit_weights,
    kkt_violation,
    placebo_inference_all,
    placebo_ratios_all,
    synthetic_control,
)

PRE = list(range(2014, 2022))
POST = [2022, 2023, 2024]


def _loss(y: np.ndarray, A: np.ndarray, w: np.ndarray) -> float:
    return float(np.sum((y - A @ w) ** 2))


def _slsqp_loss(y: np.ndarray, A: np.ndarray, rng: np.random.Generator) -> float:
    """Independent solution: SLSQP with the simplex constraint, best of a few starts."""
    J = A.shape[1]
    best = np.inf
    for _ in range(3):
        res = minimize(
            lambda v: _loss(y, A, v),
            rng.dirichlet(np.ones(J)),
            jac=lambda v: -2 * A.T @ (y - A @ v),
            bounds=[(0, 1)] * J,
            constraints=[{"type": "eq", "fun": lambda v: v.sum() - 1}],
            method="SLSQP",
            options={"ftol": 1e-14, "maxiter": 2000},
        )
        v = np.clip(res.x, 0, None)
        best = min(best, _loss(y, A, v / v.sum()))
    return best


def _panel(rng: np.random.Generator, n_units: int, noise: float = 5.0) -> pd.DataFrame:
    years = PRE + POST
    levels = rng.uniform(50, 150, n_units)
    data = levels[None, :] + rng.normal(0, noise, (len(years), n_units))
    return pd.DataFrame(data, index=years, columns=[f"{1000 + i:04d}" for i in range(n_units)])


def test_fit_weights_matches_slsqp_on_random_problems():
    rng = np.random.default_rng(0)
    for _ in range(40):
        T, J = int(rng.integers(2, 9)), int(rng.integers(1, 15))
        A = rng.normal(size=(T, J)) * 10
        y = rng.normal(size=T) * 10
        w = fit_weights(y, A)
        assert w.min() >= 0 and w.sum() == pytest.approx(1.0, abs=1e-12)
        ref = _slsqp_loss(y, A, rng)
        assert _loss(y, A, w) <= ref * (1 + 1e-7) + 1e-10


def test_fit_weights_matches_brute_force_grid_three_donors():
    rng = np.random.default_rng(1)
    A = rng.uniform(0, 10, (4, 3))
    y = rng.uniform(0, 10, 4)
    w = fit_weights(y, A)
    grid = np.linspace(0, 1, 201)
    best = min(
        _loss(y, A, np.array([a, b, 1 - a - b]))
        for a, b in itertools.product(grid, grid)
        if a + b <= 1
    )
    assert _loss(y, A, w) <= best + 1e-12


def test_fit_weights_recovers_known_convex_combination():
    rng = np.random.default_rng(2)
    A = rng.uniform(20, 80, (8, 6))
    true_w = np.array([0.0, 0.3, 0.0, 0.7, 0.0, 0.0])
    y = A @ true_w
    w = fit_weights(y, A)
    assert _loss(y, A, w) == pytest.approx(0.0, abs=1e-18)
    np.testing.assert_allclose(A @ w, y, rtol=1e-12)


def test_fit_weights_kkt_conditions_hold_on_wide_problems():
    rng = np.random.default_rng(3)
    for _ in range(20):
        A = rng.lognormal(5, 0.5, (8, 289))
        y = rng.lognormal(5, 0.5, 8)
        w = fit_weights(y, A)
        assert kkt_violation(y, A, w) < 1e-9


def test_kkt_violation_detects_suboptimal_weights():
    rng = np.random.default_rng(4)
    A = rng.normal(size=(5, 7))
    y = rng.normal(size=5) + 3
    assert kkt_violation(y, A, np.full(7, 1 / 7)) > 1e-3


def test_fit_weights_rejects_bad_shapes():
    with pytest.raises(ValueError, match="donors_pre"):
        fit_weights(np.ones(4), np.ones((5, 3)))
    with pytest.raises(ValueError, match="donors_pre"):
        fit_weights(np.ones(4), np.ones((4, 0)))
    with pytest.raises(ValueError, match="finite"):
        fit_weights(np.array([1.0, np.nan]), np.ones((2, 2)))


def test_placebo_p_value_huge_break_among_nine_flat_donors():
    rng = np.random.default_rng(5)
    rates = _panel(rng, 10)
    target = rates.columns[0]
    rates.loc[POST, target] += 500.0
    r = synthetic_control(rates, target, PRE, POST)
    assert r.pre_rmspe > 0
    assert r.n_placebos == 9
    assert r.p_value == pytest.approx(1 / 10)
    assert r.rmspe_ratio > r.placebo_ratios.max()


def test_gap_and_relative_gap_are_consistent():
    rng = np.random.default_rng(6)
    rates = _panel(rng, 12)
    t = rates.columns[3]
    r = synthetic_control(rates, t, PRE, POST, placebo=False)
    synth = rates.drop(columns=t).loc[PRE + POST] @ r.weights
    np.testing.assert_allclose(r.gap_by_year.to_numpy(), (rates[t] - synth).to_numpy())
    assert r.mean_post_gap == pytest.approx(r.gap_by_year.loc[POST].mean())
    assert r.relative_post_gap == pytest.approx(r.mean_post_gap / synth.loc[POST].mean())
    assert r.pre_rmspe == pytest.approx(math.sqrt((r.gap_by_year.loc[PRE] ** 2).mean()))
    assert math.isnan(r.p_value) and r.n_placebos == 0


def test_warning_short_pre_period():
    rng = np.random.default_rng(7)
    rates = _panel(rng, 10)
    r = synthetic_control(rates, rates.columns[0], PRE[-3:], POST)
    assert "pre-period year" in r.warning


def test_warning_poor_pre_fit():
    rng = np.random.default_rng(8)
    rates = _panel(rng, 10)
    t = rates.columns[0]
    rates[t] = 400.0 + rng.normal(0, 5, len(rates))  # far above every donor
    r = synthetic_control(rates, t, PRE, POST)
    assert "poor pre-period fit" in r.warning


def test_warning_few_donors_names_minimum_p():
    rng = np.random.default_rng(9)
    rates = _panel(rng, 4)
    r = synthetic_control(rates, rates.columns[0], PRE, POST)
    assert "3 donor(s)" in r.warning and "0.250" in r.warning
    assert r.p_value >= 0.25


def test_incomplete_donors_dropped_with_warning():
    rng = np.random.default_rng(10)
    rates = _panel(rng, 8)
    rates.loc[2016, rates.columns[5]] = np.nan
    r = synthetic_control(rates, rates.columns[0], PRE, POST)
    assert rates.columns[5] not in r.weights.index
    assert "1 donor(s) dropped" in r.warning and rates.columns[5] in r.warning


def test_empty_donor_pool_gives_nan_result():
    rng = np.random.default_rng(11)
    rates = _panel(rng, 3)
    rates.iloc[0, 1:] = np.nan
    r = synthetic_control(rates, rates.columns[0], PRE, POST)
    assert isinstance(r, SynthResult)
    assert math.isnan(r.pre_rmspe) and math.isnan(r.p_value)
    assert "empty donor pool" in r.warning


def test_target_missing_raises():
    rng = np.random.default_rng(12)
    with pytest.raises(ValueError, match="target"):
        synthetic_control(_panel(rng, 5), "0330", PRE, POST)


def test_target_with_missing_value_gives_nan_result():
    rng = np.random.default_rng(13)
    rates = _panel(rng, 5)
    rates.loc[2023, rates.columns[0]] = np.nan
    r = synthetic_control(rates, rates.columns[0], PRE, POST)
    assert math.isnan(r.rmspe_ratio) and "missing values" in r.warning


def test_identical_series_exact_fit_no_crash():
    years = PRE + POST
    rates = pd.DataFrame({f"u{i}": np.linspace(100, 120, len(years)) for i in range(6)}, years)
    r = synthetic_control(rates, "u0", PRE, POST)
    assert r.pre_rmspe == 0.0 and r.post_rmspe == pytest.approx(0.0, abs=1e-9)
    assert math.isnan(r.p_value)
    assert "exact pre-period fit" in r.warning


def test_placebo_ratios_all_equals_individual_fits():
    rng = np.random.default_rng(14)
    rates = _panel(rng, 9)
    ratios = placebo_ratios_all(rates, PRE, POST)
    for u in rates.columns:
        r = synthetic_control(rates, u, PRE, POST, placebo=False)
        assert ratios[u] == pytest.approx(r.rmspe_ratio, rel=1e-9)


def test_placebo_inference_all_matches_synthetic_control_for_every_target():
    rng = np.random.default_rng(15)
    rates = _panel(rng, 14)
    rates.loc[POST, rates.columns[2]] += 40.0
    fits = fit_all_units(rates, PRE, POST)
    fast = placebo_inference_all(rates, PRE, POST, fits=fits)
    assert fast["n_refits"].sum() > 0  # some placebos did use the target and were refitted
    for u in rates.columns:
        r = synthetic_control(rates, u, PRE, POST)
        assert fast.loc[u, "p_value"] == pytest.approx(r.p_value, abs=1e-12)
        assert fast.loc[u, "ratio"] == pytest.approx(r.rmspe_ratio, rel=1e-9)
        assert fast.loc[u, "n_placebos"] == r.n_placebos


def test_years_not_in_index_raise():
    rng = np.random.default_rng(16)
    with pytest.raises(ValueError, match="not in rates.index"):
        synthetic_control(_panel(rng, 5), "1000", [2010, *PRE], POST)


def test_fit_weights_degenerate_duplicated_integer_donors_satisfy_kkt():
    rng = np.random.default_rng(17)
    for _ in range(200):
        T, J = int(rng.integers(1, 9)), int(rng.integers(2, 40))
        base = rng.integers(0, 5, (T, 4)).astype(float)
        A = base[:, rng.integers(0, 4, J)]  # duplicated columns and ties
        y = rng.integers(0, 5, T).astype(float)
        w = fit_weights(y, A)
        assert kkt_violation(y, A, w) < 1e-9


def _count_panel(rng: np.random.Generator, effect: float = 1.0) -> tuple[pd.DataFrame, ...]:
    """SYNTHETIC: 12 units, 8 pre + 2 post years, Poisson counts with log-normal shocks."""
    years = list(range(2015, 2025))
    pop = rng.uniform(20_000, 80_000, 12)
    base = rng.uniform(400, 800, 12) / 1e5
    mu = pop * base * np.exp(rng.normal(0, 0.05, (10, 12)))
    mu[8:, 0] *= effect
    counts = pd.DataFrame(rng.poisson(mu).astype(float), index=years)
    counts.columns = [f"u{i}" for i in range(12)]
    return counts / pop * 1e5, counts


def test_gap_test_detects_a_doubling_and_states_its_power():
    rates, counts = _count_panel(np.random.default_rng(3), effect=2.0)
    r = synthetic_control(rates, "u0", range(2015, 2023), [2023, 2024], counts=counts)
    assert r.test.p_value < 0.05 and r.test.ci_lower > 1
    assert 1 < r.test.mde_increase < 2 and 0.5 < r.test.mde_decrease < 1
    assert r.test.n_placebos == 11


def test_gap_test_estimate_is_observed_over_synthetic_counts():
    rates, counts = _count_panel(np.random.default_rng(4))
    r = synthetic_control(rates, "u0", range(2015, 2023), [2023, 2024], counts=counts)
    pop = (counts / rates * 1e5).loc[[2023, 2024], "u0"]
    expected = float((r.synthetic.loc[[2023, 2024]] * pop / 1e5).sum())
    observed = float(counts.loc[[2023, 2024], "u0"].sum())
    assert r.test.estimate == pytest.approx((observed + 0.5) / (expected + 0.5), rel=1e-9)


def test_no_gap_test_without_counts():
    rates, _ = _count_panel(np.random.default_rng(5))
    assert synthetic_control(rates, "u0", range(2015, 2023), [2023, 2024]).test is None


def test_fit_limit_is_ten_percent_or_twice_the_poisson_noise():
    rates, counts = _count_panel(np.random.default_rng(6))
    pre = list(range(2015, 2023))
    r = synthetic_control(rates, "u0", pre, [2023, 2024], counts=counts)
    mean_rate, mean_count = rates.loc[pre, "u0"].mean(), counts.loc[pre, "u0"].mean()
    assert r.fit_limit == pytest.approx(max(0.1, 2 / np.sqrt(mean_count)) * mean_rate)
    small = synthetic_control(rates, "u0", pre, [2023, 2024], counts=counts / 40)
    assert small.fit_limit == pytest.approx(2 / np.sqrt(mean_count / 40) * mean_rate)


def test_gap_test_pooled_shocks_change_the_detectable_change_not_the_test():
    rates, counts = _count_panel(np.random.default_rng(4))
    long = counts.stack().rename("count").reset_index()
    long.columns = ["year", "unit", "count"]
    long["exposure"] = (counts / rates * 1e5).stack().to_numpy()
    shocks = pooled_dispersion(long, list(range(2015, 2023)), jackknife=True)
    args = (rates, "u0", range(2015, 2023), [2023, 2024])
    plain = synthetic_control(*args, counts=counts).test
    steadied = synthetic_control(*args, counts=counts, shocks=shocks).test
    assert (steadied.p_value, steadied.ci_upper) == (plain.p_value, plain.ci_upper)
    assert steadied.mde_increase != plain.mde_increase
