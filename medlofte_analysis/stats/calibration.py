"""Calibration of the inference on synthetic panels: coverage, type-I error, power at the MDE.

A registry maps a method name to a function ``(panel, alpha) -> MethodResult``; the
single-municipality methods register here, the comparison-group methods register from their
own module (listed in :data:`REGISTRY_MODULES`). :func:`calibrate_cell` runs one grid cell:

* ``reps`` null panels (true ratio 1): type-I error = share with ``p <= alpha``; coverage =
  share of intervals containing 1; the reported MDEs (median over the first
  :data:`MDE_REPS` null panels; methods may skip costly MDEs elsewhere, see
  :func:`mde_wanted`);
* ``reps`` panels with the true ratio at the median reported MDE for an increase, and again
  for a decrease: power = share with ``p <= alpha`` (should be near the nominal 80 %).
  When no decrease is reported as detectable (MDE 0), its power is not simulated.

Panels come from :func:`medlofte_analysis.stats.simulate.simulate_panel` (synthetic, seeded).
Monte Carlo standard error of a share ``s`` from ``reps`` replicates: ``sqrt(s(1-s)/reps)``.
"""

from __future__ import annotations

import concurrent.futures
import contextvars
import importlib
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from medlofte_analysis.stats.dispersion import pooled_dispersion
from medlofte_analysis.stats.rate_ratio import panel_rate_ratio
from medlofte_analysis.stats.simulate import PanelShape, SimulatedPanel, simulate_panel
from medlofte_analysis.stats.trend import trend_projection

__all__ = [
    "METHODS",
    "MethodResult",
    "mde_wanted",
    "calibrate_cell",
    "calibration_grid",
    "load_registry",
    "register",
]


@dataclass(frozen=True)
class MethodResult:
    """What a method reports for one panel (ratio scale; NaN where it reports nothing)."""

    estimate: float
    ci_lower: float
    ci_upper: float
    p_value: float
    mde_increase: float
    mde_decrease: float


MethodFunction = Callable[[SimulatedPanel, float], MethodResult]
#: The calibration needs the reported MDE only from a few null panels (its median); methods
#: whose MDE is costly may skip it (report NaN) when :func:`mde_wanted` is False.
_MDE_WANTED: contextvars.ContextVar[bool] = contextvars.ContextVar("mde_wanted", default=True)
#: 100: with 5 events a year the reported MDE is a step function of the observed baseline
#: count, and the median over 40 panels landed on the neighbouring step often enough to move
#: the measured power by 5-8 points.
MDE_REPS = 100


def mde_wanted() -> bool:
    """Whether the calibration uses this call's MDEs (False: a method may return NaN)."""
    return _MDE_WANTED.get()


METHODS: dict[str, MethodFunction] = {}
#: Modules whose import registers further methods (the comparison-group methods).
REGISTRY_MODULES: tuple[str, ...] = ("medlofte_analysis.stats.calibration_methods",)


def register(name: str) -> Callable[[MethodFunction], MethodFunction]:
    """Decorator: ``@register("fore_efter")`` adds a method to :data:`METHODS`."""

    def decorate(function: MethodFunction) -> MethodFunction:
        METHODS[name] = function
        return function

    return decorate


def load_registry(extra_modules: tuple[str, ...] = ()) -> dict[str, MethodFunction]:
    """Import the modules that register methods (missing optional ones are skipped)."""
    for module in REGISTRY_MODULES + extra_modules:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
    return METHODS


@dataclass(frozen=True)
class Cell:
    """One cell of the calibration grid."""

    n_comparison: int
    events_per_year: float
    n_baseline: int
    n_followup: int


def calibration_grid(
    n_comparison: tuple[int, ...] = (7, 14),
    events_per_year: tuple[float, ...] = (5.0, 20.0, 100.0),
    n_baseline: tuple[int, ...] = (1, 6),
    n_followup: tuple[int, ...] = (1, 2),
) -> list[Cell]:
    """The issue's grid: comparison units × events a year × baseline years × follow-up years."""
    return [
        Cell(c, e, b, f)
        for c in n_comparison
        for e in events_per_year
        for b in n_baseline
        for f in n_followup
    ]


def _run(
    method: MethodFunction,
    shape: PanelShape,
    cell: Cell,
    reps: int,
    ratio: float,
    rng: np.random.Generator,
    alpha: float,
    mde_reps: int = 0,
) -> list[MethodResult]:
    out = []
    for k in range(reps):
        token = _MDE_WANTED.set(ratio == 1.0 and k < mde_reps)
        panel = simulate_panel(
            shape,
            rng,
            n_comparison=cell.n_comparison,
            events_per_year=cell.events_per_year,
            n_baseline=cell.n_baseline,
            n_followup=cell.n_followup,
            true_ratio=ratio,
        )
        try:
            out.append(method(panel, alpha))
        finally:
            _MDE_WANTED.reset(token)
    return out


def _median(values: list[float]) -> float:
    finite = [v for v in values if not math.isnan(v)]
    return float(np.median(finite)) if finite else math.nan


def _share(values: list[bool]) -> float:
    return float(np.mean(values)) if values else math.nan


def calibrate_cell(
    method: MethodFunction,
    shape: PanelShape,
    cell: Cell,
    reps: int,
    seed: int,
    alpha: float = 0.05,
    mde_reps: int = MDE_REPS,
) -> dict[str, float]:
    """Coverage, type-I error, reported MDEs (median over the first ``mde_reps`` null panels)
    and power at them for one method and cell."""
    rng = np.random.default_rng(seed)
    null = _run(method, shape, cell, reps, 1.0, rng, alpha, mde_reps)
    tested = [r for r in null if math.isfinite(r.p_value)]
    with_ci = [r for r in null if math.isfinite(r.ci_lower) and not math.isnan(r.ci_upper)]
    mde_up = _median([r.mde_increase for r in null])
    mde_down = _median([r.mde_decrease for r in null])
    row = {
        "n_tested": len(tested),
        "type1": _share([r.p_value <= alpha for r in tested]),
        "coverage": _share([r.ci_lower <= 1.0 <= r.ci_upper for r in with_ci]),
        "mde_increase": mde_up,
        "mde_decrease": mde_down,
        "power_increase": math.nan,
        "power_decrease": math.nan,
    }
    for key, ratio in (("power_increase", mde_up), ("power_decrease", mde_down)):
        if math.isfinite(ratio) and 0 < ratio != 1:
            alt = _run(method, shape, cell, reps, ratio, rng, alpha)
            row[key] = _share([r.p_value <= alpha for r in alt if math.isfinite(r.p_value)])
    return row


def own_design_power(
    method: MethodFunction,
    shape: PanelShape,
    cell: Cell,
    reps: int,
    seed: int,
    alpha: float = 0.05,
) -> dict[str, float]:
    """Power at each panel's OWN reported change, its design kept: for each of ``reps`` null
    panels the comparison units' rates and populations are kept, and a new panel (new
    shocks and counts) is drawn with the target's true ratio at that panel's reported
    increase, and another at its reported decrease. The share rejected is what a reader of
    one evaluation may take the reported change to mean; :func:`calibrate_cell` checks the
    power at the cell's MEDIAN reported change instead, which can be right on average while
    single panels are far off. Also the shares by the panels' reported increase, in halves
    (``*_below_median`` / ``*_above_median``)."""
    master = np.random.default_rng(seed)
    hits: dict[str, list[tuple[float, bool]]] = {"increase": [], "decrease": []}
    for _ in range(reps):
        design_seed = int(master.integers(2**62))
        noise = np.random.default_rng(int(master.integers(2**62)))

        token = _MDE_WANTED.set(True)
        try:
            null = method(_same_design(shape, cell, 1.0, noise, design_seed), alpha)
        finally:
            _MDE_WANTED.reset(token)
        for key, ratio in (("increase", null.mde_increase), ("decrease", null.mde_decrease)):
            if math.isfinite(ratio) and 0 < ratio != 1:
                result = method(_same_design(shape, cell, ratio, noise, design_seed), alpha)
                if math.isfinite(result.p_value):
                    hits[key].append((ratio, bool(result.p_value <= alpha)))
    row: dict[str, float] = {}
    for key, pairs in hits.items():
        ratios = np.array([r for r, _ in pairs])
        rejected = np.array([h for _, h in pairs], dtype=float)
        row[f"n_{key}"] = float(rejected.size)
        row[f"own_power_{key}"] = float(rejected.mean()) if rejected.size else math.nan
        size = np.abs(np.log(ratios))
        small = size <= np.median(size) if size.size else np.zeros(0, dtype=bool)
        for name, part in (("below_median", small), ("above_median", ~small)):
            share = rejected[part].mean() if part.any() else math.nan
            row[f"own_power_{key}_{name}"] = float(share)
    return row


def _same_design(
    shape: PanelShape, cell: Cell, ratio: float, noise: np.random.Generator, design_seed: int
) -> SimulatedPanel:
    """A panel of the design ``design_seed`` (rates, populations), shocks from ``noise``."""
    return simulate_panel(
        shape, noise, n_comparison=cell.n_comparison, events_per_year=cell.events_per_year,
        n_baseline=cell.n_baseline, n_followup=cell.n_followup, true_ratio=ratio,
        design_rng=np.random.default_rng(design_seed),
    )  # fmt: skip


def calibrate(
    methods: dict[str, MethodFunction],
    shape: PanelShape,
    cells: list[Cell],
    reps: int,
    seed: int = 20261127,
    alpha: float = 0.05,
    mde_reps: int = MDE_REPS,
    jobs: int = 1,
) -> pd.DataFrame:
    """:func:`calibrate_cell` for every method × cell: one tidy row each, cell ``k`` seeded
    with ``seed + k`` whatever ``jobs`` (worker processes), so the table does not depend on
    how many there are."""
    return _over_cells(calibrate_cell, methods, shape, cells, reps, seed, jobs, alpha, mde_reps)


def calibrate_own_design(
    methods: dict[str, MethodFunction],
    shape: PanelShape,
    cells: list[Cell],
    reps: int,
    seed: int = 20261127,
    alpha: float = 0.05,
    jobs: int = 1,
) -> pd.DataFrame:
    """:func:`own_design_power` for every method × cell, seeded as :func:`calibrate`."""
    return _over_cells(own_design_power, methods, shape, cells, reps, seed, jobs, alpha)


def _over_cells(
    function: Callable[..., dict[str, float]],
    methods: dict[str, MethodFunction],
    shape: PanelShape,
    cells: list[Cell],
    reps: int,
    seed: int,
    jobs: int,
    *extra: object,
) -> pd.DataFrame:
    """``function(method, shape, cell, reps, seed + k, *extra)`` for every method × cell
    ``k``, in ``jobs`` worker processes if more than one: one tidy row each."""
    tasks = [(name, k, cell) for name in methods for k, cell in enumerate(cells)]
    arguments = [(methods[name], shape, cell, reps, seed + k, *extra) for name, k, cell in tasks]
    if jobs > 1:
        with concurrent.futures.ProcessPoolExecutor(max_workers=jobs) as pool:
            results = list(pool.map(function, *zip(*arguments, strict=True)))
    else:
        results = [function(*a) for a in arguments]
    rows = [
        {"method": name, **cell.__dict__, **result}
        for (name, _, cell), result in zip(tasks, results, strict=True)
    ]
    return pd.DataFrame(rows)


# Single-municipality methods -------------------------------------------------------------


def _period(panel: SimulatedPanel, years: tuple[int, ...]) -> tuple[float, float]:
    own = panel.unit(panel.target).loc[list(years)]
    return float(own["count"].sum()), float(own["exposure"].sum())


@register("fore_efter")
def before_after(panel: SimulatedPanel, alpha: float) -> MethodResult:
    """Before–after in the target alone, dispersion borrowed from the panel
    (:func:`panel_rate_ratio`)."""
    out = panel_rate_ratio(
        panel.frame, panel.target, panel.baseline_years, panel.followup_years,
        panel.pre_years, alpha, with_mde=mde_wanted(),
    )  # fmt: skip
    r = out.result
    return MethodResult(
        r.ratio, r.ci_lower, r.ci_upper, r.p_value, out.mde_increase, out.mde_decrease
    )


@register("trend")
def trend(panel: SimulatedPanel, alpha: float) -> MethodResult:
    """Observed follow-up against the projected pre-period trend, shocks borrowed from the
    panel (:func:`trend_projection` with :func:`pooled_dispersion`, level per unit)."""
    own = panel.unit(panel.target)
    pre, follow = own.loc[list(panel.pre_years)], own.loc[list(panel.followup_years)]
    result = trend_projection(
        pre.index.to_numpy(),
        pre["count"].to_numpy(),
        pre["exposure"].to_numpy(),
        follow.index.to_numpy(),
        follow["count"].to_numpy(),
        follow["exposure"].to_numpy(),
        alpha=alpha,
        shocks=pooled_dispersion(panel.frame, panel.pre_years),
    )
    return MethodResult(
        result.ratio,
        result.ci_lower,
        result.ci_upper,
        result.p_value,
        result.mde_increase,
        result.mde_decrease,
    )
