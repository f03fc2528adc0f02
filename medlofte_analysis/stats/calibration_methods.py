"""The comparison-group methods in the calibration registry (difference-in-differences and
synthetic control), called exactly as the evaluation calls them.

Importing this module registers them in :data:`medlofte_analysis.stats.calibration.METHODS`.
"""

from __future__ import annotations

import math

from medlofte_analysis.stats.calibration import MethodResult, register
from medlofte_analysis.stats.did import placebo_difference_in_differences
from medlofte_analysis.stats.dispersion import PooledDispersion, pooled_dispersion
from medlofte_analysis.stats.placebo_inference import PlaceboTest
from medlofte_analysis.stats.simulate import SimulatedPanel
from medlofte_analysis.stats.synth import synthetic_control

__all__ = ["did_method", "synth_method"]


def _result(test: PlaceboTest | None) -> MethodResult:
    if test is None:
        nan = math.nan
        return MethodResult(nan, nan, nan, nan, nan, nan)
    return MethodResult(
        test.estimate,
        test.ci_lower,
        test.ci_upper,
        test.p_value,
        test.mde_increase,
        # "no decrease detectable" is NaN in the evaluation and 0 in the calibration table
        test.mde_decrease if math.isfinite(test.mde_decrease) else 0.0,
    )


def _shocks(panel: SimulatedPanel) -> PooledDispersion:
    """The pooled shock model over the pre-years, as the evaluation fits it for the
    before–after test and passes on to the comparison-group methods."""
    return pooled_dispersion(panel.frame, panel.pre_years, trend=False, jackknife=True)


@register("diff_i_diff")
def did_method(panel: SimulatedPanel, alpha: float) -> MethodResult:
    """Ratio of rate ratios over the panel's baseline years with placebo inference."""
    result = placebo_difference_in_differences(
        panel.frame,
        panel.target,
        panel.baseline_years,
        panel.followup_years,
        alpha,
        shocks=_shocks(panel),
    )
    return _result(result.test)


@register("syntetisk_kontroll")
def synth_method(panel: SimulatedPanel, alpha: float) -> MethodResult:
    """Synthetic control fitted on all pre-years, follow-up gap tested on placebo gaps.

    Not judged (NaN) when the pre-period fit is poor, as in the evaluation.
    """
    frame = panel.frame.assign(rate=panel.frame["count"] / panel.frame["exposure"] * 1e5)
    rates = frame.pivot(index="year", columns="unit", values="rate")
    counts = frame.pivot(index="year", columns="unit", values="count")
    pre, post = list(panel.pre_years), list(panel.followup_years)
    result = synthetic_control(
        rates, panel.target, pre, post, counts=counts, alpha=alpha, shocks=_shocks(panel)
    )
    if not result.pre_rmspe <= result.fit_limit:
        return _result(None)
    return _result(result.test)
