"""Synthetic panels shaped like real Swedish crime counts, for calibrating the statistics.

SYNTHETIC DATA, for tests and the calibration benchmark only: nothing here is a published
figure, and nothing here is ever written to ``data/``.

Model (lognormal-Poisson with unit and year effects and autocorrelated shocks; the
"Poisson-lognormal" mixed model of e.g. Aitchison & Ho 1989, with an AR(1) latent process as
in Zeger 1988, *Biometrika* 75, 621-629)::

    count_it ~ Poisson(exposure_it * rate_i * exp(gamma_t + u_it + delta * D_it))
    gamma_t  ~ N(0, tau2)                      common year shocks (every unit), independent
    u_it     = rho * u_i,t-1 + e_it,  e_it ~ N(0, sigma2 * (1 - rho^2))   (stationary AR(1))
    D_it     = 1 for the target unit in the follow-up years, exp(delta) = true effect

The parameters ``sigma2`` (idiosyncratic log-variance), ``tau2`` (common-year log-variance),
``rho`` (lag-1 autocorrelation of the idiosyncratic shocks) and the spread of unit rates and
populations are *estimated from the shipped Dalarna panel* by :func:`estimate_panel_shape`
(Brå lägesbild counts, 15 municipalities, 2017-2024), never typed in:

* a Poisson GLM with municipality and year effects gives fitted means ``m_it``;
* ``kappa = exp(sigma2) - 1`` by moments, ``Var(y) = m + kappa * m^2`` (the lognormal-Poisson
  variance): ``kappa = sum((y - m)^2 - m) / sum(m^2) * n / (n - p)`` (residual-df correction);
* ``rho`` from the lag-1 cross-products of the raw residuals,
  ``E[(y_t - m_t)(y_t-1 - m_t-1)] ~ kappa * rho * m_t * m_t-1``, corrected for the short-series
  bias of a demeaned AR(1) autocorrelation, ``E[rho_hat] ~ rho - (1 + 3 rho) / T``
  (Marriott & Pope 1954; Kendall 1954), clipped to [0, 0.9];
* ``tau2`` from the variance of the fitted year effects after removing a linear trend (a
  national trend is a real change, not noise), less their sampling variance.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.api as sm

__all__ = [
    "PanelShape",
    "SimulatedPanel",
    "estimate_indicator_shapes",
    "estimate_panel_shape",
    "simulate_panel",
]

#: Units that are aggregates, not municipalities (Riket, Dalarnas län) in the Dalarna snapshot.
AGGREGATE_CODES = ("0000", "0020")
FIRST_YEAR = 2017


@dataclass(frozen=True)
class PanelShape:
    """Parameters of the simulated panels (see the module docstring); ``source`` says where
    they come from."""

    sigma2: float
    tau2: float
    rho: float
    unit_log_sd: float
    population_log_sd: float
    source: str = ""


@dataclass(frozen=True)
class SimulatedPanel:
    """One synthetic panel: long ``frame`` (unit, year, count, exposure) and its design.

    ``true_ratio`` is the target's true follow-up effect ``exp(delta)`` (1 = null).
    """

    frame: pd.DataFrame
    target: str
    comparison: tuple[str, ...]
    pre_years: tuple[int, ...]
    baseline_years: tuple[int, ...]
    followup_years: tuple[int, ...]
    true_ratio: float
    shape: PanelShape = field(repr=False, default=None)  # type: ignore[assignment]

    def unit(self, code: str) -> pd.DataFrame:
        """One unit's rows indexed by year."""
        return self.frame.loc[self.frame["unit"] == code].set_index("year")


def _count_panel(indicators: pd.DataFrame, indicator_id: str) -> pd.DataFrame:
    rows = indicators.loc[
        (indicators["indicator_id"] == indicator_id)
        & ~indicators["municipality_code"].isin(AGGREGATE_CODES)
        & indicators["count"].notna()
        & indicators["population"].notna()
    ]
    return rows[["municipality_code", "year", "count", "population"]].rename(
        columns={"municipality_code": "unit", "population": "exposure"}
    )


def _shape_of(panel: pd.DataFrame) -> dict[str, float]:
    """Estimate sigma2, tau2, rho, unit and population spread for one indicator's panel."""
    units = sorted(panel["unit"].unique())
    years = sorted(panel["year"].unique())
    panel = panel.sort_values(["unit", "year"])
    unit_d = pd.get_dummies(panel["unit"]).astype(float).to_numpy()
    year_d = pd.get_dummies(panel["year"]).astype(float).to_numpy()[:, 1:]
    x = np.column_stack([unit_d, year_d])
    y = panel["count"].to_numpy(dtype=float)
    offset = np.log(panel["exposure"].to_numpy(dtype=float))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = sm.GLM(y, x, family=sm.families.Poisson(), offset=offset).fit()
    m = np.asarray(fit.fittedvalues)
    n, p = x.shape
    kappa = max(0.0, float(np.sum((y - m) ** 2 - m) / np.sum(m**2)) * n / (n - p))
    resid = (y - m).reshape(len(units), len(years))
    mm = m.reshape(len(units), len(years))
    cross = float(np.sum(resid[:, 1:] * resid[:, :-1]) / np.sum(mm[:, 1:] * mm[:, :-1]))
    t = len(years)
    rho_raw = cross / kappa if kappa > 0 else 0.0
    rho = float(np.clip((rho_raw * t + 1.0) / (t - 3.0), 0.0, 0.9))
    sigma2 = math.log1p(kappa)
    params = np.asarray(fit.params)
    gamma = np.concatenate([[0.0], params[len(units) :]])
    yrs = np.asarray(years, dtype=float)
    detrended = gamma - np.polyval(np.polyfit(yrs, gamma, 1), yrs)
    sampling = sigma2 / len(units) + 1.0 / max(float(y.sum()) / t, 1.0)
    tau2 = max(0.0, float(np.sum(detrended**2) / (t - 2)) - sampling)
    return {
        "mean_count": float(y.sum()) / (len(units) * t),
        "dispersion": float(fit.pearson_chi2 / (n - p)),
        "sigma2": sigma2,
        "tau2": tau2,
        "rho": rho,
        "unit_log_sd": float(np.std(params[: len(units)], ddof=1)),
        "population_log_sd": float(
            np.std(np.log(panel.groupby("unit")["exposure"].mean()), ddof=1)
        ),
    }


def estimate_indicator_shapes(
    indicators: pd.DataFrame, min_mean_count: float = 10.0
) -> pd.DataFrame:
    """Per Brå lägesbild count indicator of the panel: the shape parameters (module docstring).

    Indicators whose mean yearly count per municipality is below ``min_mean_count`` are left
    out: their Poisson noise swamps the shocks, so the moments say little about them.
    """
    ids = sorted(
        i
        for i in indicators.loc[indicators["count"].notna(), "indicator_id"].unique()
        if str(i).startswith("bra_")
    )
    rows = []
    for indicator_id in ids:
        panel = _count_panel(indicators, indicator_id)
        if panel["unit"].nunique() < 3 or panel["year"].nunique() < 5:
            continue
        shape = _shape_of(panel)
        if shape["mean_count"] >= min_mean_count:
            rows.append({"indicator_id": indicator_id, **shape})
    return pd.DataFrame(rows)


def estimate_panel_shape(
    indicators: pd.DataFrame, quantile: float = 0.5, min_mean_count: float = 10.0
) -> PanelShape:
    """One :class:`PanelShape` from the panel: the ``quantile`` across indicators of each
    parameter (0.5 = typical, 0.75 = a harsher but still observed setting)."""
    table = estimate_indicator_shapes(indicators, min_mean_count)
    if table.empty:
        raise ValueError("no Brå count indicator with enough municipalities and years")
    q = table[["sigma2", "tau2", "rho", "unit_log_sd", "population_log_sd"]].quantile(quantile)
    return PanelShape(
        sigma2=float(q["sigma2"]),
        tau2=float(q["tau2"]),
        rho=float(q["rho"]),
        unit_log_sd=float(q["unit_log_sd"]),
        population_log_sd=float(q["population_log_sd"]),
        source=(
            f"estimated from {len(table)} Brå lägesbild count indicators "
            f"({', '.join(table['indicator_id'])}), quantile {quantile:g} across indicators"
        ),
    )


def _ar1(rng: np.random.Generator, n_units: int, n_years: int, sigma2: float, rho: float):
    u = np.empty((n_units, n_years))
    u[:, 0] = rng.normal(0.0, math.sqrt(sigma2), n_units)
    innovation_sd = math.sqrt(sigma2 * (1.0 - rho**2))
    for t in range(1, n_years):
        u[:, t] = rho * u[:, t - 1] + rng.normal(0.0, innovation_sd, n_units)
    return u


def simulate_panel(
    shape: PanelShape,
    rng: np.random.Generator,
    *,
    n_comparison: int = 7,
    events_per_year: float = 20.0,
    n_baseline: int = 1,
    n_followup: int = 1,
    n_pre: int = 6,
    true_ratio: float = 1.0,
    target_population: float = 20_000.0,
    first_year: int = FIRST_YEAR,
    design_rng: np.random.Generator | None = None,
) -> SimulatedPanel:
    """Draw one synthetic panel (module docstring): a target ``"T"`` with
    ``events_per_year`` expected events a year, ``n_comparison`` comparison units
    ``"C01"...`` whose rates and populations spread as in the estimated shape, ``n_pre``
    pre-years of which the last ``n_baseline`` are the baseline, then ``n_followup``
    follow-up years where the target's rate is multiplied by ``true_ratio``.

    ``design_rng``: where the comparison units' rates and populations (the design) come
    from, if not from ``rng``; two panels drawn with generators in the same state share
    their design and differ in their shocks and counts.
    """
    if not 1 <= n_baseline <= n_pre:
        raise ValueError(f"n_baseline must be between 1 and n_pre ({n_pre}), got {n_baseline}")
    n_units = n_comparison + 1
    n_years = n_pre + n_followup
    years = np.arange(first_year, first_year + n_years)
    units = ["T"] + [f"C{i:02d}" for i in range(1, n_units)]
    rate = events_per_year / target_population
    design = rng if design_rng is None else design_rng
    unit_rate = rate * np.exp(
        np.concatenate([[0.0], design.normal(0.0, shape.unit_log_sd, n_comparison)])
    )
    population = target_population * np.exp(
        np.concatenate([[0.0], design.normal(0.0, shape.population_log_sd, n_comparison)])
    )
    gamma = rng.normal(0.0, math.sqrt(shape.tau2), n_years)
    u = _ar1(rng, n_units, n_years, shape.sigma2, shape.rho)
    effect = np.zeros((n_units, n_years))
    effect[0, n_pre:] = math.log(true_ratio)
    # mean-one shocks: the expected count stays events_per_year under the null
    log_shock = gamma[None, :] + u + effect - (shape.sigma2 + shape.tau2) / 2.0
    exposure = np.repeat(population[:, None], n_years, axis=1)
    mean = exposure * unit_rate[:, None] * np.exp(log_shock)
    counts = rng.poisson(mean).astype(float)
    frame = pd.DataFrame(
        {
            "unit": np.repeat(units, n_years),
            "year": np.tile(years, n_units),
            "count": counts.ravel(),
            "exposure": exposure.ravel(),
        }
    )
    pre = tuple(int(y) for y in years[:n_pre])
    return SimulatedPanel(
        frame=frame,
        target="T",
        comparison=tuple(units[1:]),
        pre_years=pre,
        baseline_years=pre[-n_baseline:],
        followup_years=tuple(int(y) for y in years[n_pre:]),
        true_ratio=float(true_ratio),
        shape=shape,
    )
