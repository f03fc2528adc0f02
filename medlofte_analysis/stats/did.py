"""Difference-in-differences for counts: the ratio of rate ratios.

The evaluation uses :func:`placebo_difference_in_differences` (whole baseline period,
inference from the comparison units as placebos; end of this module). The quasi-Poisson GLM
below (:func:`difference_in_differences`) is kept as the model-based reference: with one
treated unit and serially correlated shocks its standard errors are too small (it rejects
9-21 % of true nulls at 5 %, issue 8; Bertrand, Duflo & Mullainathan 2004).

Method
------
For units u (the target and the comparison units) and years y in the baseline and follow-up
periods, the count ``n_uy`` with population ``E_uy`` is modelled as

    log E[n_uy] = log E_uy + alpha_u + gamma_y + delta * D_uy,

with ``D_uy = 1`` for the target in follow-up years: unit fixed effects, year fixed effects
and the treated x follow-up indicator (Wing, Simon & Bello-Marcano 2018, "Designing
difference in difference studies", Annu. Rev. Public Health 39:453-469). ``exp(delta)`` is
the ratio of rate ratios: how much more (or less) the target's rate changed from baseline to
follow-up than the comparison units' rates did. In the 2 x 2 case (one comparison unit, one
year per period) the model is saturated and ``exp(delta) = (a/b)/(c/d)`` of the four rates,
with the familiar Wald standard error ``sqrt(1/a + 1/b + 1/c + 1/d)`` on the log scale.

Overdispersion: quasi-Poisson (McCullagh & Nelder 1989, Generalized Linear Models, 2nd ed.,
ch. 9). The dispersion is Pearson's X^2 / residual df, floored at 1 (we never claim *less*
variation than Poisson), and standard errors are multiplied by its square root. When the
dispersion is estimated (> 1) the interval and p-value use Student's t with the residual df
(as R's ``summary.glm`` does for quasi families); when it is 1 (floored, or not estimable
because the model is saturated) they use the normal distribution.

Zero counts. A zero in a single cell is fine (the Poisson likelihood is defined) and is kept.
The maximum-likelihood estimate does not exist (a parameter runs to infinity) when a whole
margin that identifies a parameter is zero; those cases are handled explicitly:

* a comparison unit with zero counts in every year, or a year with zero counts in every unit,
  carries no information on ``delta`` (its fixed effect absorbs it exactly: profiling it out
  leaves a zero log-likelihood contribution), so it is dropped and named in ``note``;
* the target with zero total in the baseline or in the follow-up, or the comparison units
  with zero total in either period, make ``delta`` infinite: the result is NaN with a note
  (use an exact conditional method for such counts).

Also reported: ``min_detectable_ratio``, the smallest ratio of rate ratios (above 1) that a
two-sided test at ``alpha`` would detect with 80 % power given the estimated standard error
(``exp((z_{1-alpha/2} + z_{0.8}) * se)``): when it is large, "no significant change" means
"could not tell".
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from medlofte_analysis.stats.dispersion import PooledDispersion
from medlofte_analysis.stats.placebo_inference import (
    HALF,
    PlaceboCounts,
    PlaceboTest,
    log_poisson_variance,
    placebo_t_test,
    shock_prior,
)

__all__ = [
    "DidResult",
    "PlaceboDidResult",
    "difference_in_differences",
    "placebo_difference_in_differences",
]

_REQUIRED = ("unit", "year", "count", "exposure")
_POWER = 0.8


@dataclass(frozen=True)
class DidResult:
    """Result of :func:`difference_in_differences`.

    Attributes
    ----------
    ratio_of_rate_ratios : exp(delta), the model's DiD estimate on the rate-ratio scale.
    ci_lower, ci_upper : (1 - alpha) Wald interval for the ratio of rate ratios.
    p_value : two-sided Wald test of ratio = 1.
    rr_target : crude follow-up/baseline rate ratio of the target (pooled counts / exposure).
    rr_comparison : the same, pooled over the comparison units (descriptive; the model
        estimate also weights the units through their fixed effects, so in general
        ratio_of_rate_ratios != rr_target / rr_comparison, except in the 2 x 2 case).
    dispersion : Pearson X^2 / df floored at 1 (1 when not estimable).
    n_comparison_units, n_years_baseline, n_years_followup : what entered the model.
    method : description of the estimator and the reference distribution.
    note : why a field is NaN, what was dropped, and caveats ('' when none).
    se_log : standard error of log(ratio_of_rate_ratios), dispersion included.
    df_resid : residual degrees of freedom of the GLM.
    min_detectable_ratio : ratio of rate ratios detectable with 80 % power at alpha.
    """

    ratio_of_rate_ratios: float
    ci_lower: float
    ci_upper: float
    p_value: float
    rr_target: float
    rr_comparison: float
    dispersion: float
    n_comparison_units: int
    n_years_baseline: int
    n_years_followup: int
    method: str
    note: str
    se_log: float = float("nan")
    df_resid: int = 0
    min_detectable_ratio: float = float("nan")


def _crude_rr(df: pd.DataFrame, followup: set[int]) -> float:
    f = df["year"].isin(followup)
    cb, eb = df.loc[~f, "count"].sum(), df.loc[~f, "exposure"].sum()
    cf, ef = df.loc[f, "count"].sum(), df.loc[f, "exposure"].sum()
    if eb <= 0 or ef <= 0 or cb <= 0:
        return float("nan")
    return float((cf / ef) / (cb / eb))


def _validate(
    panel: pd.DataFrame,
    target: str,
    baseline_years: Sequence[int],
    followup_years: Sequence[int],
    alpha: float,
) -> tuple[pd.DataFrame, set[int], set[int]]:
    if not isinstance(panel, pd.DataFrame):
        raise ValueError(f"panel must be a pandas DataFrame, got {type(panel)}")
    missing = [c for c in _REQUIRED if c not in panel.columns]
    if missing:
        raise ValueError(f"panel lacks column(s) {missing}; expected columns {list(_REQUIRED)}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    base = {int(y) for y in baseline_years}
    foll = {int(y) for y in followup_years}
    if not base:
        raise ValueError("baseline_years must contain at least one year")
    if not foll:
        raise ValueError("followup_years must contain at least one year")
    if base & foll:
        raise ValueError(f"baseline_years and followup_years overlap: {sorted(base & foll)}")
    df = panel.loc[:, list(_REQUIRED)].copy()
    df["unit"] = df["unit"].astype(str)
    # numeric columns (as the evaluation passes) skip the parse
    year = df["year"]
    df["year"] = (
        year if pd.api.types.is_integer_dtype(year) else pd.to_numeric(year, errors="raise")
    ).astype(int)
    for column in ("count", "exposure"):
        values = df[column]
        if not pd.api.types.is_numeric_dtype(values):
            values = pd.to_numeric(values, errors="coerce")
        df[column] = values.astype(float)
    df = df[df["year"].isin(base | foll)]
    target = str(target)
    if target not in set(df["unit"]):
        raise ValueError(
            f"target {target!r} has no rows in panel for the baseline/follow-up years "
            f"{sorted(base | foll)}"
        )
    dup = df.duplicated(["unit", "year"])
    if dup.any():
        first = df.loc[dup, ["unit", "year"]].iloc[0].tolist()
        raise ValueError(f"panel has duplicate (unit, year) rows, e.g. {first}")
    neg = df["count"] < 0
    if neg.any():
        first = df.loc[neg, ["unit", "year"]].iloc[0].tolist()
        raise ValueError(f"panel['count'] must be >= 0; (unit, year) {first} is negative")
    bad_exp = df["exposure"].notna() & ~(df["exposure"] > 0)
    if bad_exp.any():
        first = df.loc[bad_exp, ["unit", "year"]].iloc[0].tolist()
        raise ValueError(
            f"panel['exposure'] must be > 0 (population); (unit, year) {first} has "
            f"{df.loc[bad_exp, 'exposure'].iloc[0]}"
        )
    if (
        not np.isfinite(df["exposure"].fillna(1.0)).all()
        or not np.isfinite(df["count"].fillna(0.0)).all()
    ):
        raise ValueError("panel['count'] and panel['exposure'] must be finite")
    return df, base, foll


def _nan_result(
    note: str,
    method: str,
    rr_t: float = float("nan"),
    rr_c: float = float("nan"),
    n_comp: int = 0,
    n_base: int = 0,
    n_foll: int = 0,
) -> DidResult:
    nan = float("nan")
    return DidResult(
        ratio_of_rate_ratios=nan,
        ci_lower=nan,
        ci_upper=nan,
        p_value=nan,
        rr_target=rr_t,
        rr_comparison=rr_c,
        dispersion=nan,
        n_comparison_units=n_comp,
        n_years_baseline=n_base,
        n_years_followup=n_foll,
        method=method,
        note=note,
    )


def difference_in_differences(
    panel: pd.DataFrame,
    target: str,
    baseline_years: Sequence[int],
    followup_years: Sequence[int],
    alpha: float = 0.05,
) -> DidResult:
    """Ratio of rate ratios (target vs comparison units, follow-up vs baseline).

    Quasi-Poisson GLM with log(exposure) offset, unit and year fixed effects and a
    target x follow-up indicator (Wing, Simon & Bello-Marcano 2018; McCullagh & Nelder 1989);
    see the module docstring for the dispersion floor, zero counts and reference distribution.

    Parameters
    ----------
    panel : long DataFrame with columns ``unit`` (str), ``year`` (int), ``count`` (float,
        reported offences) and ``exposure`` (float, population > 0). Every unit other than
        ``target`` is a comparison unit. Rows whose year is in neither period are ignored;
        rows with a missing count or exposure are left out and counted in ``note``.
    target : the treated unit.
    baseline_years, followup_years : disjoint, non-empty sets of years.
    alpha : 1 - confidence level of the interval.

    Raises
    ------
    ValueError
        malformed arguments: missing columns, target absent, overlapping or empty periods,
        duplicate (unit, year) rows, negative counts, exposure <= 0.
    """
    method = "quasi-Poisson GLM, log(exposure) offset, unit + year fixed effects, Wald"
    df, base, foll = _validate(panel, target, baseline_years, followup_years, alpha)
    target = str(target)
    notes: list[str] = []

    n_missing = int(df[["count", "exposure"]].isna().any(axis=1).sum())
    if n_missing:
        notes.append(f"{n_missing} row(s) with missing count/exposure left out (not imputed)")
        df = df.dropna(subset=["count", "exposure"])

    is_t = df["unit"] == target
    tdf, cdf = df[is_t], df[~is_t]
    rr_t = _crude_rr(tdf, foll)
    rr_c = _crude_rr(cdf, foll)
    t_base = tdf[tdf["year"].isin(base)]
    t_foll = tdf[tdf["year"].isin(foll)]
    n_base = int(t_base["year"].nunique())
    n_foll = int(t_foll["year"].nunique())

    # Comparison units with zero counts in every year: no information, drop (exact).
    comp_tot = cdf.groupby("unit")["count"].sum()
    zero_units = sorted(comp_tot.index[comp_tot <= 0])
    if zero_units:
        notes.append(
            f"{len(zero_units)} comparison unit(s) with zero counts in all years dropped "
            f"(no information): {', '.join(zero_units[:10])}"
        )
        cdf = cdf[~cdf["unit"].isin(zero_units)]
    n_comp = int(cdf["unit"].nunique())

    def fail(msg: str) -> DidResult:
        return _nan_result("; ".join([*notes, msg]), method, rr_t, rr_c, n_comp, n_base, n_foll)

    if n_base == 0 or n_foll == 0:
        return fail("target has no data in the baseline or the follow-up period")
    if n_comp == 0:
        return fail("no comparison units (with non-zero counts): no difference-in-differences")
    if tdf["count"].sum() <= 0:
        return fail("target has zero counts in all years: rates and ratio undefined")
    if t_base["count"].sum() <= 0:
        return fail("target has zero counts in the baseline: ratio of rate ratios is infinite")
    if t_foll["count"].sum() <= 0:
        return fail(
            "target has zero counts in the follow-up: ratio of rate ratios is 0 and the Wald "
            "interval undefined (use an exact conditional method)"
        )
    c_base = cdf.loc[cdf["year"].isin(base), "count"].sum()
    c_foll = cdf.loc[cdf["year"].isin(foll), "count"].sum()
    if c_base <= 0 or c_foll <= 0:
        return fail(
            "comparison units have zero counts in the "
            + ("baseline" if c_base <= 0 else "follow-up")
            + ": ratio of rate ratios not estimable"
        )
    if n_base == 1:
        notes.append(
            "single baseline year: the estimate rests on one year and cannot show pre-trends"
        )

    d = pd.concat([tdf, cdf], ignore_index=True)
    year_tot = d.groupby("year")["count"].sum()
    zero_years = sorted(int(y) for y in year_tot.index[year_tot <= 0])
    if zero_years:
        notes.append(
            f"year(s) with zero counts in every unit dropped (no information): {zero_years}"
        )
        d = d[~d["year"].isin(zero_years)].reset_index(drop=True)

    # Design: intercept, unit dummies (target = reference), year dummies, treated x follow-up.
    units = [target] + sorted(set(d["unit"]) - {target})
    years = sorted(set(d["year"]))
    u_codes = pd.Categorical(d["unit"], categories=units).codes
    y_codes = pd.Categorical(d["year"], categories=years).codes
    n = len(d)
    X = np.zeros((n, 1 + (len(units) - 1) + (len(years) - 1) + 1))
    X[:, 0] = 1.0
    rows = np.arange(n)
    uc = u_codes > 0
    X[rows[uc], u_codes[uc]] = 1.0
    yc = y_codes > 0
    X[rows[yc], len(units) - 1 + y_codes[yc]] = 1.0
    X[:, -1] = ((d["unit"] == target) & d["year"].isin(foll)).to_numpy(dtype=float)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = sm.GLM(
            d["count"].to_numpy(dtype=float),
            X,
            family=sm.families.Poisson(),
            offset=np.log(d["exposure"].to_numpy(dtype=float)),
        ).fit(tol=1e-12, maxiter=200)
    msgs = {str(w.message)[:120] for w in caught}
    if res.df_resid <= 0:
        # A saturated model fits every cell exactly: statsmodels' perfect-prediction warning
        # and the 0/0 scale are expected there, not a problem.
        msgs = {m for m in msgs if "separation" not in m and "divide" not in m}
    if msgs:
        notes.append("GLM warning: " + "; ".join(sorted(msgs)))
    if not res.converged:
        notes.append("GLM did not converge: estimates unreliable")

    df_resid = int(round(res.df_resid))
    if df_resid > 0:
        x2 = float(res.pearson_chi2) / df_resid
        dispersion = max(1.0, x2)
        use_t = x2 > 1.0
        if not use_t:
            notes.append(f"Pearson dispersion {x2:.3g} < 1 floored at 1 (Poisson)")
    else:
        dispersion, use_t = 1.0, False
        notes.append("saturated model (no residual df): dispersion not estimable, Poisson SE")

    delta = float(res.params[-1])
    se = float(res.bse[-1]) * float(np.sqrt(dispersion))
    if use_t:
        crit = float(stats.t.ppf(1 - alpha / 2, df_resid))
        p = float(2 * stats.t.sf(abs(delta / se), df_resid))
        ref = f"t({df_resid})"
    else:
        crit = float(stats.norm.ppf(1 - alpha / 2))
        p = float(2 * stats.norm.sf(abs(delta / se)))
        ref = "normal"
    mde = float(np.exp((crit + stats.norm.ppf(_POWER)) * se))
    return DidResult(
        ratio_of_rate_ratios=float(np.exp(delta)),
        ci_lower=float(np.exp(delta - crit * se)),
        ci_upper=float(np.exp(delta + crit * se)),
        p_value=p,
        rr_target=rr_t,
        rr_comparison=rr_c,
        dispersion=dispersion,
        n_comparison_units=int(len(units) - 1),
        n_years_baseline=n_base,
        n_years_followup=n_foll,
        method=f"{method} ({ref})",
        note="; ".join(notes),
        se_log=se,
        df_resid=df_resid,
        min_detectable_ratio=mde,
    )


# ---------------------------------------------------------------------------------------------
# Whole pre-period, inference from placebo units (the method the evaluation uses)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlaceboDidResult:
    """Result of :func:`placebo_difference_in_differences`.

    Attributes
    ----------
    test : the target's log ratio of rate ratios tested against the comparison units'
        placebo estimates (:class:`~medlofte_analysis.stats.placebo_inference.PlaceboTest`);
        None when the design could not be estimated (see ``note``).
    rr_target, rr_comparison : crude follow-up/baseline rate ratios of the target and of the
        pooled comparison units.
    n_comparison_units : comparison units with data in every year (placebos).
    n_years_baseline, n_years_followup : years in each period.
    note : why the test is missing, what was dropped ('' when nothing).
    """

    test: PlaceboTest | None
    rr_target: float
    rr_comparison: float
    n_comparison_units: int
    n_years_baseline: int
    n_years_followup: int
    note: str


def _log_rate_change(pre: np.ndarray, post: np.ndarray, e_pre: np.ndarray, e_post: np.ndarray):
    return np.log((post + HALF) / e_post) - np.log((pre + HALF) / e_pre)


def placebo_difference_in_differences(
    panel: pd.DataFrame,
    target: str,
    baseline_years: Sequence[int],
    followup_years: Sequence[int],
    alpha: float = 0.05,
    shocks: PooledDispersion | None = None,
) -> PlaceboDidResult:
    """Ratio of rate ratios over the whole baseline period, tested against placebo units.

    Counts and populations are summed over the baseline years and over the follow-up years
    (collapsing to two periods removes the serial correlation within each: Bertrand, Duflo &
    Mullainathan 2004, §IV.C). The target's gap is
    ``d_t = log(rate ratio of the target) - log(rate ratio of the pooled comparison units)``
    with 1/2 added to every count; each comparison unit j in turn gives a placebo gap against
    the other comparison units (the target never in its pool). The test, its interval and
    its detectable change are :func:`~medlofte_analysis.stats.placebo_inference.placebo_t_test`
    (Conley & Taber 2011; Ferman & Pinto 2019): valid with one treated unit and serially
    correlated shocks. For the detectable change, each placebo's expected counts under the
    null (its total split as its pool's rates changed) let the power calculation redraw the
    placebos' own counts (:class:`~medlofte_analysis.stats.placebo_inference.PlaceboCounts`).

    ``shocks``: the panel's pooled shock model (:func:`~medlofte_analysis.stats.dispersion.
    pooled_dispersion` over the pre-years, with ``jackknife=True``); its prediction of the
    gap's shock variance steadies the truth taken for the detectable change
    (:func:`~medlofte_analysis.stats.placebo_inference.shock_prior`), never the test.

    Parameters as :func:`difference_in_differences`. Comparison units missing a year are
    left out (named in ``note``); fewer than 2 complete comparison units give ``test=None``.
    """
    df, base, foll = _validate(panel, target, baseline_years, followup_years, alpha)
    target = str(target)
    notes: list[str] = []
    df = df.dropna(subset=["count", "exposure"])
    # Sums per unit and period with numpy (this runs for every indicator of 290 units).
    codes, units = pd.factorize(df["unit"], sort=True)
    post = df["year"].isin(foll).to_numpy()
    n_units = len(units)

    def sums(values: np.ndarray) -> np.ndarray:  # (units, 2): baseline, follow-up
        return np.column_stack(
            [
                np.bincount(codes[~post], values[~post], n_units),
                np.bincount(codes[post], values[post], n_units),
            ]
        )

    counts = sums(df["count"].to_numpy(dtype=float))
    exposure = sums(df["exposure"].to_numpy(dtype=float))
    n_years = np.bincount(codes, minlength=n_units)
    t_idx = int(units.get_loc(target))
    complete = n_years == len(base) + len(foll)
    incomplete = sorted(str(u) for u in units[~complete] if u != target)
    comp_mask = complete.copy()
    comp_mask[t_idx] = False

    def crude(rows: np.ndarray) -> float:
        c, e = counts[rows].sum(axis=0), exposure[rows].sum(axis=0)
        return float((c[1] / e[1]) / (c[0] / e[0])) if c[0] > 0 and e.all() else float("nan")

    rr_t = crude(np.array([t_idx]))
    rr_c = crude(comp_mask)

    def result(test: PlaceboTest | None, n_comp: int, msg: str = "") -> PlaceboDidResult:
        return PlaceboDidResult(
            test,
            rr_t,
            rr_c,
            n_comp,
            len(base),
            len(foll),
            "; ".join([*notes, msg] if msg else notes),
        )

    if not complete[t_idx]:
        return result(None, 0, "target lacks data for some baseline/follow-up year")
    if incomplete:
        notes.append(
            f"{len(incomplete)} comparison unit(s) lacking a year left out: "
            + ", ".join(incomplete[:10])
        )
    silent_mask = comp_mask & (counts.sum(axis=1) <= 0)
    if silent_mask.any():
        silent = [str(u) for u in units[silent_mask]]
        notes.append(
            f"{len(silent)} comparison unit(s) with zero counts in all years left out "
            f"(no information): {', '.join(silent[:10])}"
        )
        comp_mask &= ~silent_mask
    J = int(comp_mask.sum())
    if J < 2:
        return result(None, J, "fewer than 2 comparison units with data: no placebo inference")
    c_pre, c_post = counts[comp_mask, 0], counts[comp_mask, 1]
    e_pre, e_post = exposure[comp_mask, 0], exposure[comp_mask, 1]
    # Pool of all comparison units (target) and pools leaving one unit out (placebos).
    pool = [c_pre.sum(), c_post.sum(), e_pre.sum(), e_post.sum()]
    loo = [pool[0] - c_pre, pool[1] - c_post, pool[2] - e_pre, pool[3] - e_post]
    d_placebo = _log_rate_change(c_pre, c_post, e_pre, e_post) - _log_rate_change(*loo)
    v_pool_placebo = log_poisson_variance(loo[0], loo[1])
    v_placebo = log_poisson_variance(c_pre, c_post) + v_pool_placebo
    # Each placebo's expected counts under the null: its total split as its pool's rates
    # changed (the maximum-likelihood fit of no change of its own, given its total); its
    # gap is 0 under the null when log((post + 1/2) / (pre + 1/2)) equals log(post_share).
    post_share = e_post * (loo[1] + HALF) / loo[3] / (e_pre * (loo[0] + HALF) / loo[2])
    total = c_pre + c_post
    placebo_counts = PlaceboCounts(
        total / (1 + post_share),
        total * post_share / (1 + post_share),
        v_pool_placebo,
        np.log(post_share),
    )
    t_pre, t_post = float(counts[t_idx, 0]), float(counts[t_idx, 1])
    te_pre, te_post = float(exposure[t_idx, 0]), float(exposure[t_idx, 1])
    pool_change = _log_rate_change(*(np.array(x) for x in pool))
    d_t = float(_log_rate_change(t_pre, t_post, te_pre, te_post) - pool_change)
    v_pool = float(log_poisson_variance(pool[0], pool[1]))
    # Under the null the target's rate changes as its pool's: the statistic's centre and
    # the expected follow-up count (without the 1/2 added to the counts, which is no event).
    null_centre = float(np.log(te_post / te_pre) + pool_change)
    post_expected = t_pre * math.exp(null_centre)
    test = placebo_t_test(
        d_t,
        float(log_poisson_variance(t_pre, t_post)) + v_pool,
        d_placebo,
        v_placebo,
        alpha,
        t_pre,
        post_expected,
        v_pool,
        placebo_counts,
        prior=shock_prior(shocks, sorted(base), sorted(foll), c_pre + c_post, median_unbiased=True),
        null_centre=null_centre,
    )
    if len(base) == 1:
        notes.append("single baseline year: the estimate rests on one year")
    return result(test, J)
