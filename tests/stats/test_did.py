"""Tests for medlofte_analysis.stats.did (difference-in-differences on counts)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy import stats

from medlofte_analysis.stats.did import (
    DidResult,
    difference_in_differences,
    placebo_difference_in_differences,
)
from medlofte_analysis.stats.dispersion import pooled_dispersion


def _two_by_two(a: float, b: float, c: float, d: float) -> pd.DataFrame:
    """Target baseline a, follow-up b; comparison baseline c, follow-up d."""
    return pd.DataFrame(
        {
            "unit": ["0330", "0330", "0331", "0331"],
            "year": [2022, 2024, 2022, 2024],
            "count": [a, b, c, d],
            "exposure": [20_000.0, 21_000.0, 500_000.0, 505_000.0],
        }
    )


def _sim_panel(
    rng: np.random.Generator,
    n_units: int = 8,
    years: range = range(2015, 2026),
    rate: float = 5e-4,
    effect: float = 1.0,
    followup: tuple[int, ...] = (2024, 2025),
) -> pd.DataFrame:
    rows = []
    year_eff = {y: rng.uniform(0.8, 1.2) for y in years}
    for u in range(n_units):
        pop = rng.uniform(15_000, 60_000)
        unit_eff = rng.uniform(0.5, 2.0)
        for y in years:
            mu = pop * rate * unit_eff * year_eff[y]
            if u == 0 and y in followup:
                mu *= effect
            rows.append((f"u{u}", y, float(rng.poisson(mu)), pop))
    return pd.DataFrame(rows, columns=["unit", "year", "count", "exposure"])


def test_two_by_two_equals_hand_computed_ratio_of_rates():
    p = _two_by_two(12, 25, 300, 310)
    r = difference_in_differences(p, "0330", [2022], [2024])
    expected = (25 / 21_000) / (12 / 20_000) / ((310 / 505_000) / (300 / 500_000))
    assert r.ratio_of_rate_ratios == pytest.approx(expected, rel=1e-10)
    assert r.rr_target / r.rr_comparison == pytest.approx(expected, rel=1e-12)


def test_two_by_two_wald_se_and_interval():
    a, b, c, d = 12, 25, 300, 310
    r = difference_in_differences(_two_by_two(a, b, c, d), "0330", [2022], [2024])
    se = math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
    assert r.se_log == pytest.approx(se, rel=1e-8)
    z = stats.norm.ppf(0.975)
    est = math.log(r.ratio_of_rate_ratios)
    assert r.ci_lower == pytest.approx(math.exp(est - z * se), rel=1e-8)
    assert r.ci_upper == pytest.approx(math.exp(est + z * se), rel=1e-8)
    assert r.p_value == pytest.approx(2 * stats.norm.sf(abs(est) / se), rel=1e-7)
    assert r.dispersion == 1.0
    assert "saturated" in r.note and "single baseline year" in r.note


def test_matches_independent_formula_glm_quasi_poisson():
    rng = np.random.default_rng(11)
    p = _sim_panel(rng, n_units=6, rate=2e-3)
    # Inject overdispersion so that the dispersion is estimated (> 1).
    p["count"] = np.round(p["count"] * rng.gamma(4.0, 0.25, len(p)))
    base, foll = list(range(2015, 2023)), [2024, 2025]
    r = difference_in_differences(p, "u0", base, foll)

    d = p[p["year"].isin(base + foll)].copy()
    d["treat"] = ((d["unit"] == "u0") & d["year"].isin(foll)).astype(float)
    m = smf.glm(
        "count ~ C(unit) + C(year) + treat",
        data=d,
        family=sm.families.Poisson(),
        offset=np.log(d["exposure"]),
    ).fit(scale="X2")
    assert r.dispersion > 1
    assert r.dispersion == pytest.approx(m.scale, rel=1e-8)
    assert r.ratio_of_rate_ratios == pytest.approx(math.exp(m.params["treat"]), rel=1e-8)
    assert r.se_log == pytest.approx(m.bse["treat"], rel=1e-6)
    tcrit = stats.t.ppf(0.975, m.df_resid)
    assert r.ci_lower == pytest.approx(math.exp(m.params["treat"] - tcrit * m.bse["treat"]), 1e-6)
    assert r.ci_upper == pytest.approx(math.exp(m.params["treat"] + tcrit * m.bse["treat"]), 1e-6)
    assert r.df_resid == m.df_resid


def test_dispersion_floored_at_one_uses_poisson_se():
    rng = np.random.default_rng(3)
    p = _sim_panel(rng, n_units=4, rate=1e-3)
    # Underdispersed data: replace counts by their expected values (rounded).
    p["count"] = np.round(p["exposure"] * 1e-3)
    p.loc[(p["unit"] == "u1") & (p["year"] == 2016), "count"] += 1
    r = difference_in_differences(p, "u0", range(2015, 2023), [2024, 2025])
    assert r.dispersion == 1.0
    assert "floored" in r.note
    assert "(normal)" in r.method


def test_no_effect_rejection_rate_near_nominal():
    rng = np.random.default_rng(2024)
    n_runs, rejections = 400, 0
    for _ in range(n_runs):
        p = _sim_panel(rng, n_units=6, rate=5e-4)
        r = difference_in_differences(p, "u0", range(2015, 2023), [2024, 2025])
        rejections += r.p_value < 0.05
    assert rejections / n_runs <= 0.08


def test_doubling_in_large_count_target_is_detected():
    rng = np.random.default_rng(7)
    p = _sim_panel(rng, n_units=8, rate=5e-3, effect=2.0)
    r = difference_in_differences(p, "u0", range(2015, 2023), [2024, 2025])
    assert r.p_value < 0.001
    assert 1.7 < r.ratio_of_rate_ratios < 2.3
    assert r.ci_lower < 2.0 < r.ci_upper


def test_years_outside_periods_are_ignored():
    rng = np.random.default_rng(5)
    p = _sim_panel(rng)
    r1 = difference_in_differences(p, "u0", [2019, 2022], [2024, 2025])
    sub = p[p["year"].isin([2019, 2022, 2024, 2025])]
    r2 = difference_in_differences(sub, "u0", [2019, 2022], [2024, 2025])
    assert r1.ratio_of_rate_ratios == pytest.approx(r2.ratio_of_rate_ratios, rel=1e-12)
    assert (r1.n_years_baseline, r1.n_years_followup) == (2, 2)


def test_target_missing_raises():
    with pytest.raises(ValueError, match="target"):
        difference_in_differences(_two_by_two(1, 2, 3, 4), "9999", [2022], [2024])


def test_overlapping_periods_raise():
    with pytest.raises(ValueError, match="overlap"):
        difference_in_differences(_two_by_two(1, 2, 3, 4), "0330", [2022], [2022, 2024])


def test_zero_exposure_raises_naming_unit():
    p = _two_by_two(5, 6, 30, 31)
    p.loc[3, "exposure"] = 0.0
    with pytest.raises(ValueError, match=r"exposure.*0331"):
        difference_in_differences(p, "0330", [2022], [2024])


def test_no_comparison_units_gives_nan_with_note():
    p = _two_by_two(5, 6, 30, 31)
    r = difference_in_differences(p[p["unit"] == "0330"], "0330", [2022], [2024])
    assert isinstance(r, DidResult)
    assert math.isnan(r.ratio_of_rate_ratios) and math.isnan(r.p_value)
    assert "no comparison units" in r.note
    assert r.rr_target == pytest.approx((6 / 21_000) / (5 / 20_000))


def test_target_all_zero_gives_nan_with_note():
    r = difference_in_differences(_two_by_two(0, 0, 30, 31), "0330", [2022], [2024])
    assert math.isnan(r.ratio_of_rate_ratios)
    assert "zero counts in all years" in r.note


def test_target_zero_followup_gives_nan_with_note():
    r = difference_in_differences(_two_by_two(7, 0, 30, 31), "0330", [2022], [2024])
    assert math.isnan(r.ci_lower)
    assert "zero counts in the follow-up" in r.note


def test_single_zero_cell_is_kept_and_finite():
    rng = np.random.default_rng(9)
    p = _sim_panel(rng, rate=2e-4)
    p.loc[(p["unit"] == "u0") & (p["year"] == 2024), "count"] = 0.0
    p.loc[(p["unit"] == "u0") & (p["year"] == 2025), "count"] = 3.0
    r = difference_in_differences(p, "u0", range(2015, 2023), [2024, 2025])
    assert np.isfinite([r.ratio_of_rate_ratios, r.ci_lower, r.ci_upper, r.p_value]).all()


def test_all_zero_comparison_unit_is_dropped_with_note():
    rng = np.random.default_rng(4)
    p = _sim_panel(rng, n_units=4)
    p.loc[p["unit"] == "u3", "count"] = 0.0
    r = difference_in_differences(p, "u0", range(2015, 2023), [2024, 2025])
    r_without = difference_in_differences(
        p[p["unit"] != "u3"], "u0", range(2015, 2023), [2024, 2025]
    )
    assert r.n_comparison_units == 2
    assert "u3" in r.note
    assert r.ratio_of_rate_ratios == pytest.approx(r_without.ratio_of_rate_ratios, rel=1e-10)


def test_missing_count_rows_left_out_with_note():
    rng = np.random.default_rng(6)
    p = _sim_panel(rng)
    p.loc[(p["unit"] == "u2") & (p["year"] == 2018), "count"] = np.nan
    r = difference_in_differences(p, "u0", range(2015, 2023), [2024, 2025])
    assert "1 row(s) with missing" in r.note
    assert np.isfinite(r.ratio_of_rate_ratios)


def test_min_detectable_ratio_reflects_small_counts():
    small = difference_in_differences(_two_by_two(5, 6, 300, 310), "0330", [2022], [2024])
    large = difference_in_differences(_two_by_two(500, 600, 3000, 3100), "0330", [2022], [2024])
    se = math.sqrt(1 / 500 + 1 / 600 + 1 / 3000 + 1 / 3100)
    expected = math.exp((stats.norm.ppf(0.975) + stats.norm.ppf(0.8)) * se)
    assert large.min_detectable_ratio == pytest.approx(expected, rel=1e-7)
    assert small.min_detectable_ratio > 2.5 > 1.25 > large.min_detectable_ratio


def _shock_panel(rng, effect=1.0, n_units=10, base=range(2015, 2023), foll=(2024, 2025)):
    """SYNTHETIC panel: Poisson counts with unit-specific AR(1) log shocks."""
    rows = []
    years = list(base) + list(foll)
    for u in range(n_units):
        pop = rng.uniform(15_000, 60_000)
        shock = 0.0
        for y in years:
            shock = 0.5 * shock + rng.normal(0, 0.15)
            mu = pop * 1e-3 * np.exp(shock) * (effect if u == 0 and y in foll else 1.0)
            rows.append((f"u{u}", y, float(rng.poisson(mu)), pop))
    return pd.DataFrame(rows, columns=["unit", "year", "count", "exposure"])


def test_placebo_did_estimate_is_the_ratio_of_pooled_rate_ratios():
    rng = np.random.default_rng(2)
    p = _shock_panel(rng)
    r = placebo_difference_in_differences(p, "u0", range(2015, 2023), [2024, 2025])
    base = p["year"] < 2023
    t, c = p["unit"] == "u0", p["unit"] != "u0"

    def rate(mask):
        return (p.loc[mask, "count"].sum() + 0.5 * mask.any()) / p.loc[mask, "exposure"].sum()

    expected = (
        (rate(t & ~base) / rate(t & base))
        / ((p.loc[c & ~base, "count"].sum() + 0.5) / p.loc[c & ~base, "exposure"].sum())
        * ((p.loc[c & base, "count"].sum() + 0.5) / p.loc[c & base, "exposure"].sum())
    )
    assert r.test.estimate == pytest.approx(expected, rel=1e-9)
    assert r.n_comparison_units == 9 and r.n_years_baseline == 8


def test_placebo_did_holds_its_level_with_serially_correlated_shocks():
    rng = np.random.default_rng(8)
    rejections = [
        placebo_difference_in_differences(
            _shock_panel(rng), "u0", range(2015, 2023), [2024, 2025]
        ).test.p_value
        <= 0.05
        for _ in range(200)
    ]
    assert np.mean(rejections) <= 0.09  # 5 % nominal; binomial SE 1.5 %


def test_placebo_did_detects_a_doubling():
    rng = np.random.default_rng(9)
    r = placebo_difference_in_differences(
        _shock_panel(rng, effect=2.0), "u0", range(2015, 2023), [2024, 2025]
    )
    assert r.test.p_value < 0.05 and r.test.ci_lower > 1


def test_placebo_did_needs_two_comparison_units():
    p = _two_by_two(12, 25, 300, 310)
    r = placebo_difference_in_differences(p, "0330", [2022], [2024])
    assert r.test is None and "fewer than 2 comparison units" in r.note


def test_placebo_did_power_redraws_each_placebo_around_its_null_fit(monkeypatch):
    # Each placebo's expected counts keep its observed total and change as its pool's rate
    # did (times its own exposure ratio): the null fit the power calculation redraws from.
    from medlofte_analysis.stats import did

    seen = []
    real = did.placebo_t_test
    monkeypatch.setattr(did, "placebo_t_test", lambda *a, **k: seen.append(a[-1]) or real(*a, **k))
    p = _sim_panel(np.random.default_rng(3), n_units=4, years=range(2021, 2025))
    placebo_difference_in_differences(p, "u0", [2021, 2022], [2023, 2024])
    counts = seen[0]
    comparison = p[p["unit"] != "u0"]
    post = comparison["year"] >= 2023
    own = comparison.groupby([post, comparison["unit"]])[["count", "exposure"]].sum()
    pre_c, post_c = own.loc[False, "count"].to_numpy(), own.loc[True, "count"].to_numpy()
    pre_e, post_e = own.loc[False, "exposure"].to_numpy(), own.loc[True, "exposure"].to_numpy()
    pool_change = (
        (post_c.sum() - post_c + 0.5)
        / (post_e.sum() - post_e)
        / ((pre_c.sum() - pre_c + 0.5) / (pre_e.sum() - pre_e))
    )
    np.testing.assert_allclose(counts.pre_mean + counts.post_mean, pre_c + post_c)
    np.testing.assert_allclose(counts.post_mean / counts.pre_mean, post_e / pre_e * pool_change)


def test_placebo_did_pooled_shocks_change_the_detectable_change_not_the_test():
    p = _shock_panel(np.random.default_rng(2))
    shocks = pooled_dispersion(p, list(range(2015, 2023)), jackknife=True)
    plain = placebo_difference_in_differences(p, "u0", range(2015, 2023), [2024, 2025]).test
    steadied = placebo_difference_in_differences(
        p, "u0", range(2015, 2023), [2024, 2025], shocks=shocks
    ).test
    assert (steadied.p_value, steadied.ci_lower) == (plain.p_value, plain.ci_lower)
    assert steadied.tau2_power != plain.tau2_power
    assert steadied.mde_increase != plain.mde_increase


def test_placebo_did_steadies_with_the_median_unbiased_prediction(monkeypatch):
    import medlofte_analysis.stats.did as did_module

    p = _shock_panel(np.random.default_rng(2))
    shocks = pooled_dispersion(p, list(range(2015, 2023)), jackknife=True)
    seen = []
    original = did_module.shock_prior
    monkeypatch.setattr(
        did_module, "shock_prior", lambda *a, **k: seen.append(k) or original(*a, **k)
    )
    placebo_difference_in_differences(p, "u0", range(2015, 2023), [2024, 2025], shocks=shocks)
    assert seen == [{"median_unbiased": True}]


def _captured_placebo_test(monkeypatch) -> tuple[list, pd.DataFrame]:
    from medlofte_analysis.stats import did

    seen = []
    real = did.placebo_t_test
    monkeypatch.setattr(did, "placebo_t_test", lambda *a, **k: seen.append((a, k)) or real(*a, **k))
    p = _sim_panel(np.random.default_rng(3), n_units=4, years=range(2015, 2023))
    placebo_difference_in_differences(p, "u0", range(2015, 2021), [2021, 2022])
    return seen, p


def test_placebo_did_power_centres_the_target_where_its_statistic_is_zero(monkeypatch):
    seen, p = _captured_placebo_test(monkeypatch)
    (d_t, _, _, _, _, pre, post_expected, *_), kwargs = seen[0]
    own = p[p["unit"] == "u0"]
    post = own.loc[own["year"] >= 2021, "count"].sum()
    # the test's statistic is log((post + 1/2) / (pre + 1/2)) less the centre ...
    assert d_t == pytest.approx(np.log((post + 0.5) / (pre + 0.5)) - kwargs["null_centre"])
    # ... and the expected follow-up count is the baseline count moved by it (no 1/2 in it)
    assert post_expected == pytest.approx(pre * np.exp(kwargs["null_centre"]))


def test_placebo_did_power_centres_each_placebo_where_its_gap_is_zero(monkeypatch):
    seen, p = _captured_placebo_test(monkeypatch)
    (_, _, d_placebo, _, _, _, _, _, counts), _ = seen[0]
    comparison = p[p["unit"] != "u0"]
    post = comparison["year"] >= 2021
    own = comparison.groupby([post, comparison["unit"]])["count"].sum()
    pre_c, post_c = own.loc[False].to_numpy(), own.loc[True].to_numpy()
    # each placebo's gap is log((post + 1/2) / (pre + 1/2)) less its centre, which is its
    # expected counts' ratio (the 1/2 is no part of the expected counts)
    np.testing.assert_allclose(d_placebo, np.log((post_c + 0.5) / (pre_c + 0.5)) - counts.centre)
    np.testing.assert_allclose(counts.centre, np.log(counts.post_mean / counts.pre_mean))
